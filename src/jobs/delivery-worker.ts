import { Worker, type ConnectionOptions, type Job } from "bullmq";
import { GrammyError } from "grammy";
import type { Api } from "grammy";
import type { ClaimedRow, Ledger, RowOutcome } from "../domain/delivery/ledger.js";
import type { DeliveryEnv, DeliveryKind, DeliveryKinds, RenderOutcome, SentDelivery } from "../domain/delivery/types.js";
import type { Logger } from "../logger.js";
import { PeriodicRunner, type PeriodicTask } from "./periodic.js";
import { Batcher } from "./batcher.js";
import { ChatPacer, GlobalRate } from "./send-limits.js";
import {
  RELEASE_QUEUE, retryDelayMs, retryJobId, SEND_ATTEMPTS, SEND_CHUNK, SEND_QUEUE, sendJobId,
  type DeliveryQueues, type ReleaseJobData, type SendJobData,
} from "./queues.js";

/** What the worker reports (prom-client counters behind it; see src/infra/metrics.ts). */
export interface DeliveryObserver {
  outcome(kind: string, outcome: "sent" | "blocked" | "failed" | "retried" | "cancelled" | "ambiguous"): void;
  rateLimited(retryAfterSeconds: number): void;
  lateness(seconds: number): void;
}

export interface DeliveryWorkerOptions {
  ledger: Ledger;
  kinds: DeliveryKinds;
  queues: DeliveryQueues;
  /** A connection for BullMQ workers (maxRetriesPerRequest: null; see createQueueRedis). */
  connection: ConnectionOptions;
  prefix: string;
  /** Sends go through this Api (no auto-retry: a 429 pauses every sender instead). */
  api: Api;
  logger: Logger;
  now: () => Date;
  ratePerSecond: number;
  paidBroadcast: boolean;
  observer?: DeliveryObserver;
  /** Rows between claim and record at once in this process; default from the rate. */
  inFlight?: number;
  /**
   * How long the ledger statements wait to gather rows (ms). 0 suits PostgreSQL; the embedded
   * PGlite runs each statement on this event loop, so fewer, larger ones go faster there.
   */
  batchDelayMs?: number;
  /** BullMQ lock of an active job: a killed process's jobs run again after about this (+ the check interval). */
  lockDurationMs?: number;
  /** Repeated work of the features (quiz time-outs, daily questions), stopped with the worker. */
  periodic?: readonly PeriodicTask[];
}

/** Rows the release job reads per round trip. */
const RELEASE_PAGE = 1_000;
/** A claimed row due later than this (it was moved) waits in the delayed set again. */
const EARLY_TOLERANCE_MS = 1_000;
/** Waits for a chat's slot longer than this go back to the queue instead of holding a job. */
const MAX_INLINE_WAIT_MS = 3_000;
/** onRecorded per (kind, ref) and process at most this often (and always after the last record). */
const NOTIFY_EVERY_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bounds the rows in flight in this process (between claim and record). */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * The delivery worker. A release job turns the open rows of one (kind, ref) into send jobs of
 * fifty rows each; a send job sends its rows at Telegram's limits: a global rate shared by every
 * worker of every process (GlobalRate, a sliding window in Redis), one message a second per private
 * chat and twenty a minute per group (ChatPacer), and a pause of exactly retry_after for every
 * sender on a 429. The ledger decides what is sent: a row is claimed just before its call and
 * recorded after it, in batches across all rows in flight. Few rows are in flight at once (about
 * a tenth of a second's worth), so a crash leaves few rows "sending" (each counted ambiguous).
 */
export class DeliveryWorker {
  private readonly releaseWorker: Worker<ReleaseJobData>;
  private readonly sendWorker: Worker<SendJobData>;
  private readonly pacer: ChatPacer;
  private readonly rate: GlobalRate;
  private readonly slots: Slots;
  private readonly claims: Batcher<string, ClaimedRow | undefined>;
  private readonly records: Batcher<RowOutcome, undefined>;
  private readonly unreachable: Batcher<number, undefined>;
  private readonly notifier: RecordedNotifier;
  private readonly env: DeliveryEnv;
  /** One render call per kind for the rows claimed together. */
  private readonly renders = new Map<string, Batcher<ClaimedRow, RenderOutcome>>();
  private readonly periodic: PeriodicRunner;
  private readonly sentHooks = new Map<string, Batcher<SentDelivery, undefined>>();
  /** Until when a 429 paused this process's sends (others read the pause from Redis). */
  private pausedUntil = 0;
  private closing = false;

  constructor(private readonly o: DeliveryWorkerOptions) {
    const { ledger } = o;
    this.env = {
      call: (method, payload) => (o.api.raw as unknown as Record<string, (p: unknown) => Promise<unknown>>)[method]!(payload),
      now: o.now,
    };
    this.pacer = new ChatPacer(o.connection as never, o.prefix);
    this.rate = new GlobalRate(o.connection as never, o.prefix, o.ratePerSecond);
    // About a tenth of a second's worth: enough to cover the round trips (more only adds
    // contention), and the most a crash can leave "sending" (ambiguous) per process.
    this.slots = new Slots(o.inFlight ?? Math.max(3, Math.ceil(o.ratePerSecond / 10)));
    const delay = o.batchDelayMs ?? 0;
    this.claims = new Batcher(async (ids) => {
      const rows = new Map((await ledger.claim(ids)).map((r) => [r.id, r]));
      return ids.map((id) => rows.get(id));
    }, 500, delay);
    this.records = new Batcher(async (outcomes) => {
      await ledger.record(outcomes);
      return outcomes.map(() => undefined);
    }, 500, delay);
    this.unreachable = new Batcher(async (chatIds) => {
      await ledger.markUnreachable(chatIds, o.now());
      return chatIds.map(() => undefined);
    });
    this.notifier = new RecordedNotifier(o.kinds, this.env, o.logger);

    const lockDuration = o.lockDurationMs ?? 10_000;
    const common = { connection: o.connection, prefix: o.prefix, lockDuration, stalledInterval: Math.max(1_000, lockDuration / 2), maxStalledCount: 10 };
    this.releaseWorker = new Worker<ReleaseJobData>(RELEASE_QUEUE, (job) => this.release(job), { ...common, concurrency: 4 });
    // Enough chunks at once to keep the rows in flight busy.
    this.sendWorker = new Worker<SendJobData>(SEND_QUEUE, (job) => this.sendChunk(job), { ...common, concurrency: o.ratePerSecond >= 100 ? 8 : 2 });
    for (const w of [this.releaseWorker, this.sendWorker]) {
      w.on("error", (err) => o.logger.warn({ err }, "delivery worker error"));
    }
    this.sendWorker.on("failed", (job, err) => o.logger.warn({ err, job: job?.id }, "send job failed"));
    this.periodic = new PeriodicRunner(o.periodic ?? [], o.logger);
  }

  /**
   * Stops taking jobs; rows already claimed are sent and recorded, rows not yet started go back to
   * the queue for another process (or the next start); then the last notifications run.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.periodic.stop();
    await Promise.all([this.releaseWorker.close(), this.sendWorker.close()]);
    await this.notifier.flush();
  }

  private async release(job: Job<ReleaseJobData>): Promise<number> {
    const { kind, refId } = job.data;
    const priority = this.o.kinds.get(kind)?.priority ?? 5;
    let after = "0";
    let added = 0;
    for (;;) {
      const rows = await this.o.ledger.openRows(kind, refId, after, RELEASE_PAGE);
      if (rows.length === 0) break;
      const jobs = [];
      for (let i = 0; i < rows.length; i += SEND_CHUNK) {
        const chunk = rows.slice(i, i + SEND_CHUNK);
        jobs.push({
          name: kind,
          data: { kind, refId, ids: chunk.map((r) => r.id), chatIds: chunk.map((r) => r.chatId) },
          opts: { jobId: sendJobId(kind, refId, chunk[0]!.id), priority },
        });
      }
      await this.o.queues.send.addBulk(jobs);
      added += rows.length;
      after = rows.at(-1)!.id;
    }
    this.o.logger.debug({ kind, refId, added }, "released deliveries");
    return added;
  }

  private async sendChunk(job: Job<SendJobData>): Promise<void> {
    const { kind, refId, ids, chatIds } = job.data;
    const left: number[] = [];
    await Promise.all(ids.map(async (id, i) => {
      if (!(await this.sendRow(kind, refId, id, chatIds[i]!))) left.push(i);
    }));
    if (left.length > 0) {
      // Shutting down: rows not started go back to the queue as a job of their own.
      const rest = left.sort((a, b) => a - b);
      const firstId = ids[rest[0]!]!;
      await this.o.queues.send.add(kind, { kind, refId, ids: rest.map((i) => ids[i]!), chatIds: rest.map((i) => chatIds[i]!) }, {
        jobId: `${sendJobId(kind, refId, firstId)}-rest${job.attemptsStarted}`, priority: this.o.kinds.get(kind)?.priority ?? 5,
      });
    }
  }

  /** Later, alone: a retry after a 5xx or a network error, or a row whose time was moved. */
  private async later(kind: string, refId: string, id: string, chatId: number, delayMs: number, tag: string): Promise<void> {
    await this.o.queues.send.add(kind, { kind, refId, ids: [id], chatIds: [chatId] }, {
      jobId: retryJobId(id, tag), delay: Math.max(0, Math.round(delayMs)), priority: this.o.kinds.get(kind)?.priority ?? 5,
    });
  }

  /** Sends one row; false when it was not started because the worker is closing. */
  private async sendRow(kindName: string, refId: string, id: string, chatId: number): Promise<boolean> {
    await this.slots.acquire();
    try {
      if (this.closing) return false;
      let chatSlot: string;
      for (;;) {
        const { wait, slot } = await this.pacer.take(chatId);
        chatSlot = slot;
        if (wait === 0) break;
        if (wait > MAX_INLINE_WAIT_MS) {
          // The job running now may itself be this row's: a fresh id, or the add would be a no-op.
          await this.later(kindName, refId, id, chatId, wait, `p${Date.now()}`);
          return true;
        }
        await sleep(wait);
      }
      const row = await this.claims.push(id);
      if (!row) return true;
      const now = this.o.now();
      if (row.dueAt.getTime() > now.getTime() + EARLY_TOLERANCE_MS) {
        await this.records.push({ id, state: "queued" });
        await this.later(row.kind, refId, id, chatId, row.dueAt.getTime() - now.getTime(), `t${row.dueAt.getTime()}`);
        return true;
      }
      if (row.unreachable) return this.finish(row, { id, state: "blocked", error: "unreachable: blocked the bot earlier" });
      const kind = this.o.kinds.get(row.kind);
      if (!kind) return this.finish(row, { id, state: "failed", error: `unknown delivery kind ${row.kind}` });
      const rendered = await this.renderer(kind).push(row);
      if ("skip" in rendered) return this.finish(row, { id, state: "cancelled", error: rendered.skip });
      return await this.deliver(row, rendered, chatSlot);
    } finally {
      this.slots.release();
    }
  }

  private async deliver(row: ClaimedRow, message: Exclude<RenderOutcome, { skip: string }>, chatSlot: string): Promise<true> {
    const { id } = row;
    for (;;) {
      const slot = await this.rate.take();
      const paused = this.pausedUntil - Date.now();
      if (paused > 0) {
        // A 429 arrived while this row was on its way: it waits the pause out like the rest.
        await sleep(paused);
        continue;
      }
      let error: unknown;
      try {
        const payload: Record<string, unknown> = { ...message.payload, chat_id: row.chatId };
        if (this.o.paidBroadcast) payload.allow_paid_broadcast = true;
        const sent = (await this.env.call(message.method, payload).finally(() => {
          void this.rate.settle(slot).catch(() => {});
          void this.pacer.settle(row.chatId, chatSlot).catch(() => {});
        })) as { message_id: number };
        this.o.observer?.lateness(Math.max(0, (this.o.now().getTime() - row.dueAt.getTime()) / 1000));
        if (row.ambiguous) this.o.observer?.outcome(row.kind, "ambiguous");
        await this.afterSent(row, sent as SentDelivery["result"]);
        return this.finish(row, { id, state: "sent", messageId: sent.message_id, sentAt: this.o.now() });
      } catch (e) {
        error = e;
      }
      if (error instanceof GrammyError && error.error_code === 429) {
        // Telegram did not take it: every sender of every process waits exactly retry_after,
        // then this row goes again (no attempt used, not ambiguous).
        const retryAfter = error.parameters.retry_after ?? 1;
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + retryAfter * 1000);
        await this.rate.pause(retryAfter * 1000);
        this.o.observer?.rateLimited(retryAfter);
        this.o.logger.info({ retryAfter }, "telegram asked to slow down: every sender pauses");
        continue;
      }
      if (error instanceof GrammyError && error.error_code === 403) {
        if (row.chatId > 0) await this.unreachable.push(row.chatId);
        return this.finish(row, { id, state: "blocked", error: error.description });
      }
      if (error instanceof GrammyError && error.error_code < 500) return this.finish(row, { id, state: "failed", error: error.description });
      const description = error instanceof GrammyError ? error.description : error instanceof Error ? error.message : String(error);
      if (row.attempts >= SEND_ATTEMPTS) return this.finish(row, { id, state: "failed", error: description });
      // 5xx: Telegram did not take it, the row is queued again. A network error: it may have, so
      // the row stays "sending" and the retry counts it as ambiguous.
      if (error instanceof GrammyError) await this.records.push({ id, state: "queued" });
      this.o.observer?.outcome(row.kind, "retried");
      this.o.logger.debug({ err: error, attempt: row.attempts }, "send failed; retrying later");
      await this.later(row.kind, row.refId, id, row.chatId, retryDelayMs(row.attempts), `a${row.attempts}`);
      return true;
    }
  }

  private renderer(kind: DeliveryKind): Batcher<ClaimedRow, RenderOutcome> {
    let batcher = this.renders.get(kind.kind);
    if (!batcher) {
      batcher = new Batcher(async (rows) => {
        const out = await kind.render(rows, this.env);
        return rows.map((r) => out.get(r.id) ?? { skip: "nothing to send" });
      }, 500, this.o.batchDelayMs ?? 0);
      this.renders.set(kind.kind, batcher);
    }
    return batcher;
  }

  private async afterSent(row: ClaimedRow, result: SentDelivery["result"]): Promise<void> {
    const kind = this.o.kinds.get(row.kind);
    if (!kind?.onSent) return;
    let batcher = this.sentHooks.get(kind.kind);
    if (!batcher) {
      batcher = new Batcher(async (sent) => {
        await kind.onSent!(sent, this.env);
        return sent.map(() => undefined);
      }, 500, this.o.batchDelayMs ?? 0);
      this.sentHooks.set(kind.kind, batcher);
    }
    await batcher.push({ row, result }).catch((err: unknown) => this.o.logger.error({ err, kind: row.kind }, "onSent failed; the message was sent"));
  }

  private async finish(row: ClaimedRow, outcome: RowOutcome): Promise<true> {
    await this.records.push(outcome);
    if (outcome.state !== "queued") this.o.observer?.outcome(row.kind, outcome.state);
    this.notifier.recorded(row.kind, row.refId);
    return true;
  }
}

/** Calls each kind's onRecorded at most once a second per ref, and always once after the last record. */
class RecordedNotifier {
  private readonly last = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly kinds: DeliveryKinds,
    private readonly env: DeliveryEnv,
    private readonly logger: Logger,
  ) {}

  recorded(kind: string, refId: string): void {
    if (!this.kinds.get(kind)?.onRecorded) return;
    const key = `${kind}\0${refId}`;
    if (this.timers.has(key)) return;
    const since = Date.now() - (this.last.get(key) ?? 0);
    const delay = Math.max(0, NOTIFY_EVERY_MS - since);
    this.timers.set(key, setTimeout(() => this.fire(key, kind, refId), delay));
  }

  async flush(): Promise<void> {
    for (const [key, timer] of this.timers) {
      clearTimeout(timer);
      const [kind, refId] = key.split("\0") as [string, string];
      this.fire(key, kind, refId);
    }
    await Promise.all([...this.running]);
  }

  private fire(key: string, kind: string, refId: string): void {
    this.timers.delete(key);
    this.last.set(key, Date.now());
    if (this.last.size > 10_000) this.last.delete(this.last.keys().next().value!);
    const run = (async () => {
      try {
        await this.kinds.get(kind)?.onRecorded?.([refId], this.env);
      } catch (err) {
        this.logger.warn({ err, kind, refId }, "after-delivery step failed");
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }
}
