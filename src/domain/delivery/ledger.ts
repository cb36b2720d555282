import type { PrismaClient } from "../../generated/prisma/client.js";
import type { DeliveryCounts, DeliveryStateName } from "./types.js";

/** A ledger row claimed for sending, with what the engine and the kinds need. */
export interface ClaimedRow {
  id: string;
  kind: string;
  refId: string;
  chatId: number;
  dueAt: Date;
  attempts: number;
  ambiguous: boolean;
  locale: string | null;
  unreachable: boolean;
}

/** What happened to one claimed row. */
export type RowOutcome =
  | { id: string; state: "sent"; messageId: number; sentAt: Date }
  | { id: string; state: "blocked" | "failed" | "cancelled"; error: string }
  /** Telegram certainly did not take it (429, 5xx, paced): back in the queue, no ambiguity. */
  | { id: string; state: "queued" };

export interface DueRef {
  kind: string;
  refId: string;
  dueAt: Date;
}

const KIND = /^[a-z_]{1,32}$/;
/** Ref ids go into BullMQ job ids: no ":" (BullMQ's separator) and nothing that needs escaping. */
const REF = /^[A-Za-z0-9_.-]{1,64}$/;

export function checkKey(kind: string, refId: string): void {
  if (!KIND.test(kind)) throw new Error(`delivery kind "${kind}" must match ${KIND}`);
  if (!REF.test(refId)) throw new Error(`delivery ref "${refId}" must match ${REF}`);
}

const OPEN = `('queued','sending')`;

/**
 * The delivery ledger (table `deliveries`): one row per (kind, ref, chat). Every statement works on
 * a batch (ids as arrays), so the worker makes a handful of queries per batch, never one per person.
 */
export class Ledger {
  constructor(private readonly prisma: PrismaClient) {}

  /** Adds rows for these chats; rows that exist are left as they are. Returns how many were new. */
  async insert(kind: string, refId: string, chatIds: readonly number[], dueAt: Date): Promise<number> {
    checkKey(kind, refId);
    if (chatIds.length === 0) return 0;
    return this.prisma.$executeRawUnsafe(
      `INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
       SELECT $1, $2, c, $4::timestamp FROM unnest($3::bigint[]) AS c
       ON CONFLICT (kind, ref_id, chat_id) DO NOTHING`,
      kind, refId, chatIds.map(String), dueAt.toISOString().replace("Z", ""),
    );
  }

  /** Open rows (queued, or sending when a crash interrupted them), in id order, after `afterId`. */
  async openRows(kind: string, refId: string, afterId: string, limit: number): Promise<Array<{ id: string; chatId: number }>> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ id: bigint; chat_id: bigint }>>(
      `SELECT id, chat_id FROM deliveries WHERE kind = $1 AND ref_id = $2 AND state IN ${OPEN} AND id > $3::bigint
       ORDER BY id LIMIT $4`,
      kind, refId, afterId, limit,
    );
    return rows.map((r) => ({ id: String(r.id), chatId: Number(r.chat_id) }));
  }

  /** Every (kind, ref) with open rows, and when its earliest falls due: what a restart must resume. */
  async openRefs(): Promise<DueRef[]> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ kind: string; ref_id: string; due_at: Date }>>(
      `SELECT kind, ref_id, min(due_at) AS due_at FROM deliveries WHERE state IN ${OPEN} GROUP BY kind, ref_id`,
    );
    return rows.map((r) => ({ kind: r.kind, refId: r.ref_id, dueAt: asUtc(r.due_at) }));
  }

  /**
   * Claims rows for sending: only open rows, each marked `sending` with one more attempt. A row
   * already `sending` was interrupted after it was handed to Telegram: it becomes ambiguous.
   */
  async claim(ids: readonly string[]): Promise<ClaimedRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.$queryRawUnsafe<Array<{
      id: bigint; kind: string; ref_id: string; chat_id: bigint; due_at: Date; attempts: number; ambiguous: boolean;
      locale: string | null; unreachable: boolean | null;
    }>>(
      `WITH claimed AS (
         UPDATE deliveries d
            SET state = 'sending', attempts = d.attempts + 1, ambiguous = d.ambiguous OR d.state = 'sending', updated_at = now()
          WHERE d.id = ANY($1::bigint[]) AND d.state IN ${OPEN}
          RETURNING d.id, d.kind, d.ref_id, d.chat_id, d.due_at, d.attempts, d.ambiguous)
       SELECT c.*, u.locale, (u.unreachable_since IS NOT NULL) AS unreachable
         FROM claimed c LEFT JOIN users u ON u.telegram_id = c.chat_id`,
      ids.slice(),
    );
    return rows.map((r) => ({
      id: String(r.id),
      kind: r.kind,
      refId: r.ref_id,
      chatId: Number(r.chat_id),
      dueAt: asUtc(r.due_at),
      attempts: r.attempts,
      ambiguous: r.ambiguous,
      locale: r.locale,
      unreachable: r.unreachable === true,
    }));
  }

  /** Records outcomes of claimed rows in one statement. */
  async record(outcomes: readonly RowOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const ids: string[] = [];
    const states: string[] = [];
    const messageIds: Array<number | null> = [];
    const errors: Array<string | null> = [];
    const sentAts: Array<string | null> = [];
    for (const o of outcomes) {
      ids.push(o.id);
      states.push(o.state);
      messageIds.push(o.state === "sent" ? o.messageId : null);
      errors.push("error" in o ? o.error.slice(0, 500) : null);
      sentAts.push(o.state === "sent" ? o.sentAt.toISOString().replace("Z", "") : null);
    }
    await this.prisma.$executeRawUnsafe(
      `UPDATE deliveries d
          SET state = x.state::"DeliveryState", telegram_message_id = x.message_id, error = x.error,
              sent_at = x.sent_at, updated_at = now()
         FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::timestamp[]) AS x(id, state, message_id, error, sent_at)
        WHERE d.id = x.id AND d.state = 'sending'`,
      ids, states, messageIds, errors, sentAts,
    );
  }

  /** Moves the queued rows of (kind, ref) to a new time; returns how many. */
  async reschedule(kind: string, refId: string, dueAt: Date): Promise<number> {
    return this.prisma.$executeRawUnsafe(
      `UPDATE deliveries SET due_at = $3::timestamp, updated_at = now() WHERE kind = $1 AND ref_id = $2 AND state = 'queued'`,
      kind, refId, dueAt.toISOString().replace("Z", ""),
    );
  }

  /** Cancels the queued rows of (kind, ref) (rows being sent right now finish); returns how many. */
  async cancel(kind: string, refId: string, reason: string): Promise<number> {
    return this.prisma.$executeRawUnsafe(
      `UPDATE deliveries SET state = 'cancelled', error = $3, updated_at = now() WHERE kind = $1 AND ref_id = $2 AND state = 'queued'`,
      kind, refId, reason,
    );
  }

  async counts(kind: string, refId: string): Promise<DeliveryCounts> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ state: DeliveryStateName; n: bigint; ambiguous: bigint }>>(
      `SELECT state::text AS state, count(*) AS n, count(*) FILTER (WHERE ambiguous AND state = 'sent') AS ambiguous
         FROM deliveries WHERE kind = $1 AND ref_id = $2 GROUP BY state`,
      kind, refId,
    );
    const counts: DeliveryCounts = { queued: 0, sending: 0, sent: 0, blocked: 0, failed: 0, cancelled: 0, ambiguous: 0, total: 0 };
    for (const r of rows) {
      counts[r.state] = Number(r.n);
      counts.ambiguous += Number(r.ambiguous);
      counts.total += Number(r.n);
    }
    return counts;
  }

  /** Whether (kind, ref) still has rows to send. */
  async hasOpen(kind: string, refId: string): Promise<boolean> {
    const rows = await this.prisma.$queryRawUnsafe<unknown[]>(
      `SELECT 1 FROM deliveries WHERE kind = $1 AND ref_id = $2 AND state IN ${OPEN} LIMIT 1`,
      kind, refId,
    );
    return rows.length > 0;
  }

  /** Marks people who blocked the bot, so audiences and later sends skip them until they return. */
  async markUnreachable(chatIds: readonly number[], at: Date): Promise<void> {
    if (chatIds.length === 0) return;
    await this.prisma.$executeRawUnsafe(
      `UPDATE users SET unreachable_since = $2::timestamp WHERE telegram_id = ANY($1::bigint[]) AND unreachable_since IS NULL`,
      chatIds.map(String), at.toISOString().replace("Z", ""),
    );
  }
}

/** `timestamp` columns hold UTC; drivers may read them as local time. */
function asUtc(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(value.endsWith("Z") ? value : value + "Z");
}
