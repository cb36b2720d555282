/**
 * A person's place in a session: a seat, a place on the waiting list, attendance by QR check-in,
 * and the learning hours it adds up to. Every change to a session's seats runs in one transaction
 * that first locks the session row, so two people taking or freeing the last seat at the same
 * moment are served one after the other: the session never holds more confirmed people than seats.
 */
import type { Prisma, PrismaClient } from "../../generated/prisma/client.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import { toPlainJson, type PersonalDataPart, type Tx } from "../privacy/registry.js";
import { vnParts } from "../time/vietnam-time.js";
import { CHECKIN_OPENS_BEFORE_MS, SESSION_NOTICE_KIND, insertNoticeRows, noticeRef } from "./model.js";

type Db = PrismaClient | Prisma.TransactionClient | Tx;

export type JoinResult =
  | { status: "confirmed" }
  | { status: "waiting"; position: number }
  | { status: "already_confirmed" }
  | { status: "already_waiting"; position: number }
  | { status: "unavailable"; reason: "not_found" | "cancelled" | "started" };

export type LeaveResult =
  | { status: "left"; was: "confirmed" | "waiting"; promoted: number }
  | { status: "not_signed_up" }
  | { status: "unavailable"; reason: "not_found" | "cancelled" | "started" };

export type CheckInResult =
  | { status: "checked_in"; sessionId: number; title: string; walkIn: boolean }
  | { status: "already"; sessionId: number; title: string; at: Date }
  | { status: "outside"; sessionId: number; title: string; opensAt: Date; closesAt: Date; ended: boolean }
  | { status: "cancelled"; sessionId: number; title: string }
  | { status: "not_found" };

export interface MySession {
  id: number;
  title: string;
  topic: string;
  startsAt: Date;
  durationMin: number;
  state: "scheduled" | "cancelled";
  centerName: string;
  status: "confirmed" | "waiting" | "walk_in";
  attendedAt: Date | null;
}

/** A promotion done inside a transaction: release its notice after the commit. */
interface Promotion {
  ref: string;
  userIds: bigint[];
}

interface LockedSession {
  id: number;
  state: "scheduled" | "cancelled";
  starts_at: Date;
  capacity: number;
  confirmed_count: number;
}

export class SessionSignups {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly deliveries: DeliveryScheduler,
    private readonly now: () => Date,
  ) {}

  /** Takes a seat, or a place on the waiting list when the session is full. */
  async join(userId: string, sessionId: number): Promise<JoinResult> {
    const now = this.now();
    return this.prisma.$transaction(async (tx) => {
      const s = await lockSession(tx, sessionId);
      if (!s) return { status: "unavailable", reason: "not_found" } as const;
      if (s.state === "cancelled") return { status: "unavailable", reason: "cancelled" } as const;
      if (s.starts_at.getTime() <= now.getTime()) return { status: "unavailable", reason: "started" } as const;
      const existing = await tx.sessionSignup.findUnique({ where: { sessionId_userId: { sessionId, userId: BigInt(userId) } } });
      if (existing?.status === "waiting") return { status: "already_waiting", position: await waitingPosition(tx, sessionId, existing.seq) } as const;
      if (existing) return { status: "already_confirmed" } as const;
      if (s.confirmed_count < s.capacity) {
        await tx.sessionSignup.create({ data: { sessionId, userId: BigInt(userId), status: "confirmed", signedUpAt: now, confirmedAt: now } });
        await tx.learningSession.update({ where: { id: sessionId }, data: { confirmedCount: { increment: 1 } } });
        return { status: "confirmed" } as const;
      }
      const row = await tx.sessionSignup.create({ data: { sessionId, userId: BigInt(userId), status: "waiting", signedUpAt: now } });
      await tx.learningSession.update({ where: { id: sessionId }, data: { waitingCount: { increment: 1 } } });
      return { status: "waiting", position: await waitingPosition(tx, sessionId, row.seq) } as const;
    });
  }

  /** Gives back a seat (the next person waiting is promoted and told) or leaves the waiting list. */
  async leave(userId: string, sessionId: number): Promise<LeaveResult> {
    const now = this.now();
    const promotions: Promotion[] = [];
    const result = await this.prisma.$transaction(async (tx): Promise<LeaveResult> => {
      const s = await lockSession(tx, sessionId);
      if (!s) return { status: "unavailable", reason: "not_found" };
      if (s.state === "cancelled") return { status: "unavailable", reason: "cancelled" };
      if (s.starts_at.getTime() <= now.getTime()) return { status: "unavailable", reason: "started" };
      const was = await removeSignup(tx, sessionId, BigInt(userId));
      if (!was) return { status: "not_signed_up" };
      const promoted = was === "confirmed" ? await promoteInto(tx, sessionId, now, promotions) : 0;
      return { status: "left", was, promoted };
    });
    await this.releasePromotions(promotions, now);
    return result;
  }

  /**
   * Fills free seats from the waiting list (first come, first served) after seats were freed or
   * the capacity was raised; the people promoted are told through the delivery engine. For the
   * officers' side, which calls it inside its own transaction holding the session row's lock,
   * then `releasePromotions` after the commit.
   */
  promoteWaiting(tx: Db, sessionId: number, now: Date, out: Promotion[]): Promise<number> {
    return promoteInto(tx, sessionId, now, out);
  }

  async releasePromotions(promotions: readonly Promotion[], dueAt: Date): Promise<void> {
    for (const p of promotions) await this.deliveries.release(SESSION_NOTICE_KIND, p.ref, dueAt);
  }

  /**
   * Records attendance from the session's QR link: once, inside the window (30 minutes before the
   * start to the end). Someone not signed up is recorded as a walk-in; someone waiting who came
   * anyway too.
   */
  async checkIn(userId: string, token: string): Promise<CheckInResult> {
    const now = this.now();
    return this.prisma.$transaction(async (tx): Promise<CheckInResult> => {
      const found = await tx.$queryRawUnsafe<Array<{ id: number }>>(`SELECT id FROM learning_sessions WHERE checkin_token = $1`, token);
      if (found.length === 0) return { status: "not_found" };
      const sessionId = found[0]!.id;
      const s = await lockSession(tx, sessionId);
      if (!s) return { status: "not_found" };
      const session = await tx.learningSession.findUniqueOrThrow({ where: { id: sessionId }, select: { title: true, durationMin: true } });
      const base = { sessionId, title: session.title };
      if (s.state === "cancelled") return { status: "cancelled", ...base };
      const { opensAt, closesAt } = checkInWindow(s.starts_at, session.durationMin);
      if (now < opensAt || now > closesAt) return { status: "outside", ...base, opensAt, closesAt, ended: now > closesAt };
      const uid = BigInt(userId);
      const existing = await tx.sessionSignup.findUnique({ where: { sessionId_userId: { sessionId, userId: uid } } });
      if (existing?.attendedAt) return { status: "already", ...base, at: existing.attendedAt };
      if (existing?.status === "confirmed" || existing?.status === "walk_in") {
        await tx.sessionSignup.update({ where: { sessionId_userId: { sessionId, userId: uid } }, data: { attendedAt: now } });
        return { status: "checked_in", ...base, walkIn: existing.status === "walk_in" };
      }
      if (existing?.status === "waiting") {
        await tx.sessionSignup.update({ where: { sessionId_userId: { sessionId, userId: uid } }, data: { status: "walk_in", attendedAt: now } });
        await tx.learningSession.update({ where: { id: sessionId }, data: { waitingCount: { decrement: 1 } } });
        return { status: "checked_in", ...base, walkIn: true };
      }
      await tx.sessionSignup.create({ data: { sessionId, userId: uid, status: "walk_in", signedUpAt: now, attendedAt: now } });
      return { status: "checked_in", ...base, walkIn: true };
    });
  }

  /** What a check-in link would do now, without recording anything (for people not registered yet). */
  async peekCheckIn(token: string): Promise<Exclude<CheckInResult, { status: "checked_in" | "already" }> | { status: "open"; sessionId: number; title: string }> {
    const s = await this.prisma.learningSession.findUnique({ where: { checkinToken: token }, select: { id: true, title: true, state: true, startsAt: true, durationMin: true } });
    if (!s) return { status: "not_found" };
    const base = { sessionId: s.id, title: s.title };
    if (s.state === "cancelled") return { status: "cancelled", ...base };
    const w = checkInWindow(s.startsAt, s.durationMin);
    const now = this.now();
    if (now < w.opensAt || now > w.closesAt) return { status: "outside", ...base, ...w, ended: now > w.closesAt };
    return { status: "open", ...base };
  }

  /** The person's place in one session (for the card), with their waiting position. */
  async statusOf(userId: string, sessionId: number): Promise<{ status: "confirmed" | "waiting" | "walk_in"; position?: number; attendedAt: Date | null } | undefined> {
    const row = await this.prisma.sessionSignup.findUnique({ where: { sessionId_userId: { sessionId, userId: BigInt(userId) } } });
    if (!row) return undefined;
    return {
      status: row.status,
      attendedAt: row.attendedAt,
      ...(row.status === "waiting" ? { position: await waitingPosition(this.prisma, sessionId, row.seq) } : {}),
    };
  }

  /** Upcoming (not yet ended) and past sessions of a person, newest past first; `limit` each. */
  async mine(userId: string, limit = 10): Promise<{ upcoming: MySession[]; past: MySession[] }> {
    const now = this.now();
    const rows = await this.prisma.$queryRawUnsafe<Array<{
      id: number; title: string; topic: string; starts_at: Date; duration_min: number; state: "scheduled" | "cancelled";
      center_name: string; status: "confirmed" | "waiting" | "walk_in"; attended_at: Date | null; upcoming: boolean;
    }>>(
      `(SELECT s.id, s.title, s.topic, s.starts_at, s.duration_min, s.state::text AS state, c.name AS center_name,
               g.status::text AS status, g.attended_at, true AS upcoming
          FROM session_signups g JOIN learning_sessions s ON s.id = g.session_id JOIN learning_centers c ON c.id = s.center_id
         WHERE g.user_id = $1 AND s.starts_at + make_interval(mins => s.duration_min) > $2::timestamp
         ORDER BY s.starts_at LIMIT $3)
       UNION ALL
       (SELECT s.id, s.title, s.topic, s.starts_at, s.duration_min, s.state::text, c.name,
               g.status::text, g.attended_at, false
          FROM session_signups g JOIN learning_sessions s ON s.id = g.session_id JOIN learning_centers c ON c.id = s.center_id
         WHERE g.user_id = $1 AND s.starts_at + make_interval(mins => s.duration_min) <= $2::timestamp
         ORDER BY s.starts_at DESC LIMIT $3)`,
      BigInt(userId), now.toISOString().replace("Z", ""), limit,
    );
    const map = (r: (typeof rows)[number]): MySession => ({
      id: r.id, title: r.title, topic: r.topic, startsAt: asUtc(r.starts_at), durationMin: r.duration_min, state: r.state,
      centerName: r.center_name, status: r.status, attendedAt: r.attended_at ? asUtc(r.attended_at) : null,
    });
    return { upcoming: rows.filter((r) => r.upcoming).map(map), past: rows.filter((r) => !r.upcoming).map(map) };
  }

  /**
   * Learning hours of a Vietnamese calendar year: the durations of the sessions the person was
   * checked in at (cancelled sessions do not count).
   */
  async hours(userId: string, year = vnParts(this.now()).year): Promise<{ hours: number; sessions: number }> {
    const from = new Date(Date.UTC(year, 0, 1) - 7 * 3600_000);
    const to = new Date(Date.UTC(year + 1, 0, 1) - 7 * 3600_000);
    const rows = await this.prisma.$queryRawUnsafe<Array<{ minutes: bigint | null; n: bigint }>>(
      `SELECT sum(s.duration_min) AS minutes, count(*) AS n
         FROM session_signups g JOIN learning_sessions s ON s.id = g.session_id
        WHERE g.user_id = $1 AND g.attended_at IS NOT NULL AND s.state = 'scheduled'
          AND s.starts_at >= $2::timestamp AND s.starts_at < $3::timestamp`,
      BigInt(userId), from.toISOString().replace("Z", ""), to.toISOString().replace("Z", ""),
    );
    const minutes = Number(rows[0]?.minutes ?? 0);
    return { hours: Math.round((minutes / 60) * 10) / 10, sessions: Number(rows[0]?.n ?? 0) };
  }

  /**
   * /mydata and /deleteme: a person's sign-ups and attendance. Erasing frees their seats in
   * sessions still ahead (the next people waiting are promoted and told) before the rows go.
   */
  dataParts(): PersonalDataPart[] {
    return [
      {
        key: "session_signups",
        label: "sessions:privacy_part",
        kind: "database",
        export: async (id) => {
          const rows = await this.prisma.sessionSignup.findMany({
            where: { userId: BigInt(id) },
            orderBy: { signedUpAt: "asc" },
            select: {
              status: true, signedUpAt: true, confirmedAt: true, attendedAt: true,
              session: { select: { id: true, title: true, startsAt: true, durationMin: true, center: { select: { name: true } } } },
            },
          });
          return rows.length ? toPlainJson(rows) : null;
        },
        exists: async (id) => (await this.prisma.sessionSignup.count({ where: { userId: BigInt(id) } })) > 0,
        erase: async (id, tx) => {
          const db = tx ?? this.prisma;
          const now = this.now();
          const uid = BigInt(id);
          const ahead = await db.$queryRawUnsafe<Array<{ session_id: number }>>(
            `SELECT g.session_id FROM session_signups g JOIN learning_sessions s ON s.id = g.session_id
              WHERE g.user_id = $1 AND g.status IN ('confirmed', 'waiting') AND s.state = 'scheduled' AND s.starts_at > $2::timestamp
              ORDER BY g.session_id`,
            uid, now.toISOString().replace("Z", ""),
          );
          const promotions: Promotion[] = [];
          for (const { session_id } of ahead) {
            await lockSession(db, session_id);
            const was = await removeSignup(db, session_id, uid);
            if (was === "confirmed") await promoteInto(db, session_id, now, promotions);
          }
          const erased = (await db.sessionSignup.deleteMany({ where: { userId: uid } })).count + ahead.length > 0;
          // The erasure commits after this returns: release a little later, so the notices' rows exist by then.
          if (promotions.length) {
            const later = new Date(now.getTime() + 3_000);
            void this.releasePromotions(promotions, later).catch(() => undefined);
          }
          return erased;
        },
      },
    ];
  }
}

/** Check-in is open from 30 minutes before the start to the end. */
export function checkInWindow(startsAt: Date, durationMin: number): { opensAt: Date; closesAt: Date } {
  return { opensAt: new Date(startsAt.getTime() - CHECKIN_OPENS_BEFORE_MS), closesAt: new Date(startsAt.getTime() + durationMin * 60_000) };
}

async function lockSession(db: Db, sessionId: number): Promise<LockedSession | undefined> {
  const rows = await db.$queryRawUnsafe<LockedSession[]>(
    `SELECT id, state::text AS state, starts_at, capacity, confirmed_count FROM learning_sessions WHERE id = $1 FOR UPDATE`,
    sessionId,
  );
  const s = rows[0];
  return s ? { ...s, starts_at: asUtc(s.starts_at) } : undefined;
}

/** Deletes a seat or waiting place (not attendance: a walk-in stays) and fixes the counters. */
async function removeSignup(db: Db, sessionId: number, userId: bigint): Promise<"confirmed" | "waiting" | undefined> {
  const rows = await db.$queryRawUnsafe<Array<{ status: "confirmed" | "waiting" }>>(
    `DELETE FROM session_signups WHERE session_id = $1 AND user_id = $2 AND status IN ('confirmed', 'waiting') RETURNING status::text AS status`,
    sessionId, userId,
  );
  const was = rows[0]?.status;
  if (!was) return undefined;
  await db.$executeRawUnsafe(
    was === "confirmed"
      ? `UPDATE learning_sessions SET confirmed_count = confirmed_count - 1, updated_at = now() WHERE id = $1`
      : `UPDATE learning_sessions SET waiting_count = waiting_count - 1, updated_at = now() WHERE id = $1`,
    sessionId,
  );
  return was;
}

/** Moves the first people waiting into free seats (caller holds the session lock); queues their notice. */
async function promoteInto(db: Db, sessionId: number, now: Date, out: Promotion[]): Promise<number> {
  const promoted = await db.$queryRawUnsafe<Array<{ user_id: bigint; seq: bigint }>>(
    `WITH s AS (SELECT capacity - confirmed_count AS free FROM learning_sessions WHERE id = $1),
          picked AS (SELECT g.user_id FROM session_signups g, s
                      WHERE g.session_id = $1 AND g.status = 'waiting' ORDER BY g.seq LIMIT (SELECT greatest(free, 0) FROM s))
     UPDATE session_signups g SET status = 'confirmed', confirmed_at = $2::timestamp
       FROM picked WHERE g.session_id = $1 AND g.user_id = picked.user_id
     RETURNING g.user_id, g.seq`,
    sessionId, now.toISOString().replace("Z", ""),
  );
  if (promoted.length === 0) return 0;
  await db.$executeRawUnsafe(
    `UPDATE learning_sessions SET confirmed_count = confirmed_count + $2, waiting_count = waiting_count - $2, updated_at = now() WHERE id = $1`,
    sessionId, promoted.length,
  );
  // One notice per promotion batch: its first seq is unique to it (a row is promoted once).
  const first = promoted.reduce((m, r) => (r.seq < m ? r.seq : m), promoted[0]!.seq);
  const ref = noticeRef(sessionId, "promoted", first);
  const userIds = promoted.map((r) => r.user_id);
  await insertNoticeRows(db, sessionId, ref, now, userIds);
  out.push({ ref, userIds });
  return promoted.length;
}

async function waitingPosition(db: Db, sessionId: number, seq: bigint): Promise<number> {
  const rows = await db.$queryRawUnsafe<Array<{ n: bigint }>>(
    `SELECT count(*) AS n FROM session_signups WHERE session_id = $1 AND status = 'waiting' AND seq <= $2`,
    sessionId, seq,
  );
  return Number(rows[0]?.n ?? 1);
}

/** Raw timestamp columns (UTC, without time zone) come back as a Date or an ISO string without "Z". */
function asUtc(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(value.endsWith("Z") ? value : value + "Z");
}
