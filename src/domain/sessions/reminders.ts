/**
 * Session reminders (issue 9): 24 hours and 1 hour before a session, to its confirmed attendees,
 * through the delivery engine. Nothing is scheduled at sign-up: each session row carries its next
 * slot (learning_sessions.next_reminder_at), and a periodic tick turns due slots into ledger rows
 * for the people confirmed at that moment, then advances the slot. Refs carry the start time
 * (reminderRef), so a moved session is reminded again at its new time and never twice for one time;
 * the ledger's unique (kind, ref, chat) makes a second tick, process or restart a no-op.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { PendingReleases } from "../delivery/pending-releases.js";
import { anyDue } from "../delivery/any-due.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import { REMINDER_SLOTS, reminderRef, SESSION_REMINDER_KIND, SESSIONS_TOPIC, type ReminderSlot } from "./model.js";

export interface SessionRemindersDeps {
  prisma: PrismaClient;
  deliveries: DeliveryScheduler;
  now: () => Date;
  /** Sessions handled per tick (the rest follow at the next tick); default 1,000. */
  batch?: number;
  /**
   * Slots this close ahead are queued now and released for their exact time (default 2 s, more
   * than the tick's period), so the tick's period does not add to the lateness.
   */
  lookaheadMs?: number;
}

interface DueSession {
  id: number;
  starts_ms: number;
  next_ms: number;
  scheduled: boolean;
}

interface DueSlot {
  sessionId: number;
  ref: string;
  at: Date;
}

const iso = (d: Date) => d.toISOString().replace("Z", "");

/**
 * What one due session needs: the slot to queue now (the latest slot in [next, now], while the
 * session has not started: after an outage a stale "in 24 hours" is not sent next to the 1-hour
 * one) and the next slot still ahead (or null).
 */
export function planSlots(startsAt: Date, next: Date, now: Date): { queue?: { slot: ReminderSlot; at: Date }; next: Date | null } {
  let queue: { slot: ReminderSlot; at: Date } | undefined;
  let following: Date | null = null;
  for (const s of REMINDER_SLOTS) {
    const at = new Date(startsAt.getTime() - s.beforeMs);
    if (at.getTime() < next.getTime()) continue;
    if (at.getTime() <= now.getTime()) queue = { slot: s.key, at };
    else if (!following) following = at;
  }
  if (now.getTime() >= startsAt.getTime()) queue = undefined;
  return { queue, next: following };
}

export class SessionReminders {
  /** Refs committed but not yet released (Redis failed after the commit): retried at the next tick. */
  private readonly pending: PendingReleases;

  constructor(private readonly d: SessionRemindersDeps) {
    this.pending = new PendingReleases(d.deliveries, SESSION_REMINDER_KIND);
  }

  /**
   * Queues every reminder slot that falls due within the look-ahead: one transaction locks the due sessions (SKIP LOCKED,
   * so several processes share the work and a session being signed up or moved waits a tick),
   * inserts the ledger rows of all of them in one statement and advances their next slot; after
   * the commit each new ref is released to the engine. Returns how many refs were queued.
   */
  async tick(): Promise<number> {
    await this.pending.flush();
    const now = this.d.now();
    const until = new Date(now.getTime() + (this.d.lookaheadMs ?? 2_000));
    const limit = this.d.batch ?? 1_000;
    // Nearly every tick finds nothing: one indexed look first, the locking transaction only when needed.
    if (!(await anyDue(this.d.prisma, "learning_sessions", iso(until)))) return 0;
    const queued = await this.d.prisma.$transaction(async (tx) => {
      const due = await tx.$queryRawUnsafe<DueSession[]>(
        `SELECT id, (EXTRACT(EPOCH FROM starts_at) * 1000)::float8 AS starts_ms,
                (EXTRACT(EPOCH FROM next_reminder_at) * 1000)::float8 AS next_ms, state = 'scheduled' AS scheduled
           FROM learning_sessions
          WHERE next_reminder_at <= $1::timestamp
          ORDER BY next_reminder_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        iso(until), limit,
      );
      if (due.length === 0) return [];
      const slots: DueSlot[] = [];
      const nexts: Array<string | null> = [];
      for (const s of due) {
        const startsAt = new Date(s.starts_ms);
        // A cancelled session keeps no slot (the officer's cancel should have cleared it).
        const plan = s.scheduled ? planSlots(startsAt, new Date(s.next_ms), until) : { next: null };
        if (plan.queue) slots.push({ sessionId: s.id, ref: reminderRef(s.id, plan.queue.slot, startsAt), at: plan.queue.at });
        nexts.push(plan.next ? iso(plan.next) : null);
      }
      // Confirmed by the slot's time (a seat taken after it gets no stale "in 24 hours"; one taken
      // in the look-ahead's last seconds before it gets the next slot only), reachable, and not
      // muted; the render checks all of it again at send time.
      const inserted = slots.length === 0 ? [] : await tx.$queryRawUnsafe<Array<{ ref_id: string; n: number }>>(
        `WITH ins AS (
           INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
           SELECT $1, x.ref, su.user_id, x.at
             FROM unnest($2::int[], $3::text[], $4::timestamp[]) AS x(session_id, ref, at)
             JOIN session_signups su ON su.session_id = x.session_id AND su.status = 'confirmed' AND su.confirmed_at <= x.at
             JOIN users u ON u.telegram_id = su.user_id AND u.unreachable_since IS NULL
            WHERE NOT EXISTS (SELECT 1 FROM topic_mutes m WHERE m.user_id = su.user_id AND m.topic = $5)
           ON CONFLICT (kind, ref_id, chat_id) DO NOTHING
           RETURNING ref_id)
         SELECT ref_id, count(*)::int AS n FROM ins GROUP BY ref_id`,
        SESSION_REMINDER_KIND, slots.map((s) => s.sessionId), slots.map((s) => s.ref), slots.map((s) => iso(s.at)), SESSIONS_TOPIC,
      );
      await tx.$executeRawUnsafe(
        `UPDATE learning_sessions s SET next_reminder_at = x.next
           FROM unnest($1::int[], $2::timestamp[]) AS x(id, next) WHERE s.id = x.id`,
        due.map((s) => s.id), nexts,
      );
      const atOf = new Map(slots.map((s) => [s.ref, s.at]));
      return inserted.map((r) => ({ ref: r.ref_id, at: atOf.get(r.ref_id)! }));
    });
    for (const q of queued) this.pending.add(q.ref, q.at);
    await this.pending.flush();
    return queued.length;
  }

}

/**
 * Cancels the reminders already queued for a session (one statement), inside the officer's
 * transaction that cancels or moves it. A release job left behind sends nothing: the rows are no
 * longer queued, and the render skips a ref whose session was cancelled or moved anyway.
 */
export async function cancelQueuedReminders(db: Pick<PrismaClient, "$executeRawUnsafe">, sessionId: number, reason: string): Promise<number> {
  return db.$executeRawUnsafe(
    `UPDATE deliveries SET state = 'cancelled', error = $2, updated_at = now() WHERE kind = $3 AND ref_id LIKE $1 AND state = 'queued'`,
    `sr.${sessionId}.%`, reason, SESSION_REMINDER_KIND,
  );
}
