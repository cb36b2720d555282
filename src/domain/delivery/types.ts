/**
 * The delivery engine's contract. Every message the bot starts (not a reply to an update) is a row
 * in the `deliveries` ledger, rendered by the DeliveryKind that owns it and sent by the worker at
 * Telegram's limits (src/jobs/). Features register a kind and create rows; they never call
 * sendMessage for a message of their own initiative.
 */

export type DeliveryStateName = "queued" | "sending" | "sent" | "blocked" | "failed" | "cancelled";

/** A ledger row the worker has claimed, with what every kind needs to render it. */
export interface ClaimedDelivery {
  /** Ledger id (bigint as a decimal string). */
  id: string;
  kind: string;
  refId: string;
  chatId: number;
  /** The person's saved language (null: the kind decides, usually "vi"). */
  locale: string | null;
  attempts: number;
}

/** A Bot API call that sends one new message. */
export interface RenderedMessage {
  method: "sendMessage" | "sendPhoto" | "sendDocument" | "sendPoll";
  /** Everything but chat_id (the engine sets it). */
  payload: Record<string, unknown>;
}

/** Not sent: recorded as cancelled with this reason (e.g. "muted", "erased", "broadcast cancelled"). */
export interface SkippedMessage {
  skip: string;
}

export type RenderOutcome = RenderedMessage | SkippedMessage;

/** What a kind may use while the worker runs it (no grammY types in the domain). */
export interface DeliveryEnv {
  /** Calls a Bot API method directly (e.g. to edit a progress message); throws on Telegram errors. */
  call(method: string, payload: Record<string, unknown>): Promise<unknown>;
  now(): Date;
}

export interface DeliveryKind {
  /** ≤ 32 characters, [a-z_]. */
  readonly kind: string;
  /**
   * BullMQ priority of its sends (1 = first; default 5). Bulk kinds (broadcasts) take a larger
   * number, so a reminder due now is not stuck behind twenty thousand announcements.
   */
  readonly priority?: number;
  /** Renders a batch of claimed rows (one query per batch, never per row). Missing ids are skipped. */
  render(rows: readonly ClaimedDelivery[], env: DeliveryEnv): Promise<Map<string, RenderOutcome>>;
  /**
   * After rows of these refs were recorded (sent, failed, …): progress, completion, reports.
   * Called at most about once a second per ref and process, and always after the last record.
   */
  onRecorded?(refIds: readonly string[], env: DeliveryEnv): Promise<void>;
  /**
   * Right after Telegram accepted rows of this kind, before they are recorded as sent, with
   * Telegram's answer (e.g. a quiz poll's id, which its answers arrive with). Batched across the
   * rows in flight; a failure is logged and the rows still count as sent (they were).
   */
  onSent?(sent: readonly SentDelivery[], env: DeliveryEnv): Promise<void>;
}

/** A row Telegram accepted, with the Message it returned. */
export interface SentDelivery {
  row: ClaimedDelivery;
  result: { message_id: number; poll?: { id: string } } & Record<string, unknown>;
}

/** The kinds the worker knows; features register theirs when the services are built. */
export class DeliveryKinds {
  private readonly kinds = new Map<string, DeliveryKind>();
  register(kind: DeliveryKind): void {
    if (this.kinds.has(kind.kind)) throw new Error(`delivery kind ${kind.kind} registered twice`);
    this.kinds.set(kind.kind, kind);
  }
  get(kind: string): DeliveryKind | undefined {
    return this.kinds.get(kind);
  }
}

/** Per state counts of one (kind, ref), plus ambiguous re-sends among the sent. */
export type DeliveryCounts = Record<DeliveryStateName, number> & { ambiguous: number; total: number };

export interface DeliveryScheduler {
  /**
   * Rows of (kind, refId) already in the ledger (e.g. inserted by INSERT … SELECT inside the
   * caller's transaction) go out at dueAt (now or later). Idempotent.
   */
  release(kind: string, refId: string, dueAt: Date): Promise<void>;
  /** Inserts rows for these chats (existing (kind, ref, chat) rows are kept) and releases them. */
  schedule(kind: string, refId: string, chatIds: readonly number[], dueAt: Date): Promise<number>;
  /** Moves the still-queued rows of (kind, refId) to a new time. */
  reschedule(kind: string, refId: string, dueAt: Date): Promise<number>;
  /** Cancels the still-queued rows of (kind, refId); returns how many. */
  cancel(kind: string, refId: string, reason?: string): Promise<number>;
  counts(kind: string, refId: string): Promise<DeliveryCounts>;
}
