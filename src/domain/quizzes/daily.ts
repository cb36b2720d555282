/*
 * The daily question ("Câu hỏi mỗi ngày"): opt-in, at the minute a person picks (Vietnam time).
 * A tick creates the day's one-question rounds for everyone whose time has come, in one statement,
 * and their ledger rows under one ref per day; the delivery engine sends them. Streaks count days
 * with an answer.
 */
import type { PrismaClient, QuizProfile } from "../../generated/prisma/client.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import { fromVnWallTime, vnParts } from "../time/vietnam-time.js";

export const QUIZ_DAILY = "quiz_daily";
/** Default time: 20:00 Asia/Ho_Chi_Minh. */
export const DEFAULT_DAILY_MINUTE = 20 * 60;
/** Rounds created per tick (the rest follow at the next tick). */
const TICK_LIMIT = 5_000;

const iso = (d: Date) => d.toISOString().replace("Z", "");

/** The Vietnamese calendar day of an instant, "2026-12-01", and the instant it began. */
export function vnDay(at: Date): { key: string; start: Date; minute: number } {
  const p = vnParts(at);
  const key = `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
  return { key, start: fromVnWallTime(p.year, p.month, p.day, 0, 0), minute: p.hour * 60 + p.minute };
}

export function formatMinute(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
}

export interface DailyDeps {
  prisma: PrismaClient;
  deliveries: DeliveryScheduler;
  now: () => Date;
}

export class QuizDaily {
  constructor(private readonly d: DailyDeps) {}

  async profile(userId: number): Promise<QuizProfile | null> {
    return this.d.prisma.quizProfile.findUnique({ where: { userId: BigInt(userId) } });
  }

  /** Switches the daily question on at this minute of the day (Vietnam time), or off (null). */
  async setTime(userId: number, minute: number | null): Promise<void> {
    if (minute !== null && !(Number.isInteger(minute) && minute >= 0 && minute < 24 * 60)) throw new RangeError(`minute of day: ${minute}`);
    await this.d.prisma.quizProfile.upsert({
      where: { userId: BigInt(userId) },
      create: { userId: BigInt(userId), dailyMinute: minute },
      update: { dailyMinute: minute, updatedAt: this.d.now() },
    });
  }

  /**
   * Creates today's daily rounds for subscribers whose time has come (and who have none yet
   * today, are reachable, and did not switch it off in /settings), and hands them to the engine.
   * A person in the middle of a /quiz round gets theirs at the next tick after it.
   */
  async tick(): Promise<number> {
    const now = this.d.now();
    const day = vnDay(now);
    const end = new Date(day.start.getTime() + 24 * 3600_000);
    // Yesterday's questions nobody could be sent stop waiting.
    await this.d.prisma.$executeRawUnsafe(
      `UPDATE quiz_rounds SET state = 'abandoned', finished_at = $2::timestamp
        WHERE kind = 'daily' AND state = 'active' AND poll_id IS NULL AND started_at < $1::timestamp`,
      iso(day.start), iso(now),
    );
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ chat_id: bigint }>>(
      `WITH cand AS (
         SELECT p.user_id, COALESCE(u.locale, 'vi') AS locale, c.province_code
           FROM quiz_profiles p
           JOIN users u ON u.telegram_id = p.user_id
           LEFT JOIN learning_citizens c ON c.user_id = p.user_id
          WHERE p.daily_minute IS NOT NULL AND p.daily_minute <= $2
            AND u.unreachable_since IS NULL
            AND NOT EXISTS (SELECT 1 FROM topic_mutes tm WHERE tm.user_id = p.user_id AND tm.topic = '${QUIZ_DAILY}')
            AND NOT EXISTS (SELECT 1 FROM quiz_rounds r WHERE r.user_id = p.user_id AND r.kind = 'daily' AND r.started_at >= $1::timestamp)
            AND NOT EXISTS (SELECT 1 FROM quiz_rounds r WHERE r.chat_id = p.user_id AND r.state = 'active' AND r.kind IN ('solo', 'contest'))
          LIMIT ${TICK_LIMIT}
       ), ins AS (
         INSERT INTO quiz_rounds (kind, user_id, chat_id, topic, question_ids, locale, perm, open_period, started_at, closes_at)
         SELECT 'daily', cand.user_id, cand.user_id, 'mixed', ARRAY[pick.id], cand.locale, '{}', 0, $3::timestamp, $4::timestamp
           FROM cand CROSS JOIN LATERAL (
             SELECT q.id FROM quiz_questions q
               LEFT JOIN quiz_boxes b ON b.user_id = cand.user_id AND b.question_id = q.id
              WHERE q.retired_at IS NULL AND (q.province_code IS NULL OR q.province_code = cand.province_code)
              ORDER BY CASE WHEN b.due_at <= $3::timestamp THEN 0 WHEN b.question_id IS NULL THEN 1 ELSE 2 END, b.box, b.due_at, random()
              LIMIT 1) pick
         RETURNING chat_id
       )
       INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
       SELECT '${QUIZ_DAILY}', $5, chat_id, $3::timestamp FROM ins
       ON CONFLICT DO NOTHING
       RETURNING chat_id`,
      iso(day.start), day.minute, iso(now), iso(end), day.key,
    );
    if (rows.length) await this.d.deliveries.release(QUIZ_DAILY, day.key, now);
    return rows.length;
  }

  /** A daily question answered: the streak grows by one a day (kept within the same day, reset after a gap). */
  async answered(userId: number, at = this.d.now()): Promise<{ streak: number; best: number }> {
    const day = vnDay(at).key;
    const next = `CASE WHEN quiz_profiles.last_daily_on = $2::date THEN quiz_profiles.streak
                       WHEN quiz_profiles.last_daily_on = $2::date - 1 THEN quiz_profiles.streak + 1 ELSE 1 END`;
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ streak: number; best_streak: number }>>(
      `INSERT INTO quiz_profiles (user_id, streak, best_streak, last_daily_on) VALUES ($1, 1, 1, $2::date)
       ON CONFLICT (user_id) DO UPDATE SET streak = ${next}, best_streak = GREATEST(quiz_profiles.best_streak, ${next}),
              last_daily_on = $2::date, updated_at = now()
       RETURNING streak, best_streak`,
      BigInt(userId), day,
    );
    return { streak: rows[0]?.streak ?? 1, best: rows[0]?.best_streak ?? 1 };
  }

  /** The streak as of now: it lapses once a whole day passes without an answer. */
  currentStreak(p: Pick<QuizProfile, "streak" | "lastDailyOn"> | null, at = this.d.now()): number {
    if (!p?.lastDailyOn) return 0;
    const today = Date.parse(`${vnDay(at).key}T00:00:00Z`);
    const last = p.lastDailyOn.getTime();
    return today - last <= 24 * 3600_000 ? p.streak : 0;
  }
}
