/**
 * Scholarship reminders (issue 10): "remind me" on a round sends, at 8:00 Vietnam time, a reminder
 * on the opening day, 7 days and 1 day before the deadline, through the delivery engine. As with
 * session reminders nothing is scheduled at subscription: each round carries its next slot
 * (scholarship_rounds.next_reminder_at) and a periodic tick turns due slots into ledger rows for
 * the subscribers of that moment, then advances the slot. Refs carry the day the slot is about
 * (roundReminderRef), so moved dates are reminded again and one date never twice; the ledger's
 * unique (kind, ref, chat) makes a second tick, process or restart a no-op.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { PendingReleases } from "../delivery/pending-releases.js";
import { anyDue } from "../delivery/any-due.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import {
  nominationsCloseAt, ROUND_REMINDER_SLOTS, roundReminderRef, SCHOLARSHIP_REMINDER_KIND, SCHOLARSHIPS_TOPIC, slotTime, vnDayAt,
  type Day, type RoundReminderSlot,
} from "./model.js";

export interface ScholarshipRemindersDeps {
  prisma: PrismaClient;
  deliveries: DeliveryScheduler;
  now: () => Date;
  /** Rounds handled per tick (the rest follow at the next tick); default 1,000. */
  batch?: number;
  /** Slots this close ahead are queued now and released for their exact time (default 2 s, more than the tick's period). */
  lookaheadMs?: number;
}

export interface PlannedSlot {
  slot: RoundReminderSlot;
  at: Date;
  aboutDay: Day;
  /** Subscriptions made before this instant get it: the opening itself for "open", the slot's time otherwise. */
  subscribedBefore: Date;
}

interface DueRound {
  id: number;
  opens_day: number;
  deadline_day: number;
  next_ms: number;
  active: boolean;
}

interface DueSlot {
  roundId: number;
  ref: string;
  at: Date;
  before: Date;
}

const iso = (d: Date) => d.toISOString().replace("Z", "");
const dayOf = (n: number): Day => new Date(n * 86_400_000);

/**
 * What one due round needs: the slot to queue now (the latest slot in [next, now]: after an
 * outage a stale "opens today" is not sent next to "1 day left"; none once nominations closed)
 * and the next slot still ahead (or null). A deadline slot that falls before the round opens is
 * not used: "7 days left" for a round not open yet would only confuse; the opening one says it.
 * Two slots at the same instant: the deadline one (the later in ROUND_REMINDER_SLOTS) wins.
 */
export function planRoundSlots(d: { opensOn: Day; deadlineOn: Day }, next: Date, now: Date): { queue?: PlannedSlot; next: Date | null } {
  if (now.getTime() >= nominationsCloseAt(d.deadlineOn).getTime()) return { next: null };
  const opensAt = vnDayAt(d.opensOn);
  const slots = ROUND_REMINDER_SLOTS.map((slot) => ({ slot, ...slotTime(slot, d) }))
    .filter((s) => s.slot === "open" || s.at.getTime() >= opensAt.getTime())
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  let queue: PlannedSlot | undefined;
  let following: Date | null = null;
  for (const s of slots) {
    if (s.at.getTime() < next.getTime()) continue;
    if (s.at.getTime() <= now.getTime()) {
      queue = { slot: s.slot, at: s.at, aboutDay: s.aboutDay, subscribedBefore: s.slot === "open" ? opensAt : new Date(s.at.getTime() + 1) };
    } else if (!following) following = s.at;
  }
  return { queue, next: following };
}

export class ScholarshipReminders {
  /** Refs committed but not yet released (Redis failed after the commit): retried at the next tick. */
  private readonly pending: PendingReleases;

  constructor(private readonly d: ScholarshipRemindersDeps) {
    this.pending = new PendingReleases(d.deliveries, SCHOLARSHIP_REMINDER_KIND);
  }

  /**
   * Queues every reminder slot that falls due within the look-ahead: one transaction locks the due
   * rounds (SKIP LOCKED, so several processes share the work and a round being edited waits a
   * tick), inserts the ledger rows of all of them in one statement and advances their next slot;
   * after the commit each new ref is released to the engine. Returns how many refs were queued.
   */
  async tick(): Promise<number> {
    await this.pending.flush();
    const now = this.d.now();
    const until = new Date(now.getTime() + (this.d.lookaheadMs ?? 2_000));
    const limit = this.d.batch ?? 1_000;
    // Nearly every tick finds nothing: one indexed look first, the locking transaction only when needed.
    if (!(await anyDue(this.d.prisma, "scholarship_rounds", iso(until)))) return 0;
    const queued = await this.d.prisma.$transaction(async (tx) => {
      // Days as numbers since the epoch: DATE values come back differently from each driver.
      const due = await tx.$queryRawUnsafe<DueRound[]>(
        `SELECT id, (opens_on - DATE '1970-01-01')::int AS opens_day, (deadline_on - DATE '1970-01-01')::int AS deadline_day,
                (EXTRACT(EPOCH FROM next_reminder_at) * 1000)::float8 AS next_ms, state = 'active' AS active
           FROM scholarship_rounds
          WHERE next_reminder_at <= $1::timestamp
          ORDER BY next_reminder_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        iso(until), limit,
      );
      if (due.length === 0) return [];
      const slots: DueSlot[] = [];
      const nexts: Array<string | null> = [];
      for (const r of due) {
        const dates = { opensOn: dayOf(r.opens_day), deadlineOn: dayOf(r.deadline_day) };
        // A closed or cancelled round keeps no slot (the officer's action should have cleared it).
        const plan = r.active ? planRoundSlots(dates, new Date(r.next_ms), until) : { next: null };
        if (plan.queue) {
          slots.push({ roundId: r.id, ref: roundReminderRef(r.id, plan.queue.slot, plan.queue.aboutDay), at: plan.queue.at, before: plan.queue.subscribedBefore });
        }
        nexts.push(plan.next ? iso(plan.next) : null);
      }
      // Subscribed in time for the slot, reachable, not muted; the render checks it all again at send time.
      const inserted = slots.length === 0 ? [] : await tx.$queryRawUnsafe<Array<{ ref_id: string; n: number }>>(
        `WITH ins AS (
           INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
           SELECT $1, x.ref, s.user_id, x.at
             FROM unnest($2::int[], $3::text[], $4::timestamp[], $5::timestamp[]) AS x(round_id, ref, at, cutoff)
             JOIN scholarship_subscriptions s ON s.round_id = x.round_id AND s.created_at < x.cutoff
             JOIN users u ON u.telegram_id = s.user_id AND u.unreachable_since IS NULL
            WHERE NOT EXISTS (SELECT 1 FROM topic_mutes m WHERE m.user_id = s.user_id AND m.topic = $6)
           ON CONFLICT (kind, ref_id, chat_id) DO NOTHING
           RETURNING ref_id)
         SELECT ref_id, count(*)::int AS n FROM ins GROUP BY ref_id`,
        SCHOLARSHIP_REMINDER_KIND, slots.map((s) => s.roundId), slots.map((s) => s.ref), slots.map((s) => iso(s.at)), slots.map((s) => iso(s.before)),
        SCHOLARSHIPS_TOPIC,
      );
      await tx.$executeRawUnsafe(
        `UPDATE scholarship_rounds r SET next_reminder_at = x.next
           FROM unnest($1::int[], $2::timestamp[]) AS x(id, next) WHERE r.id = x.id`,
        due.map((r) => r.id), nexts,
      );
      const atOf = new Map(slots.map((s) => [s.ref, s.at]));
      return inserted.map((r) => ({ ref: r.ref_id, at: atOf.get(r.ref_id)! }));
    });
    for (const q of queued) this.pending.add(q.ref, q.at);
    await this.pending.flush();
    return queued.length;
  }

}
