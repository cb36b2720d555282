/**
 * `npm run bench:reminders`: session reminders through the real engine — the bot as `npm start`
 * runs it (its periodic reminder tick every second, its embedded delivery worker, BullMQ on Redis,
 * the ledger in the database) against the fake Bot API over HTTP enforcing Telegram's limits
 * (30 messages/s, 1/s per chat). Sessions and sign-ups are written to the database before the bot
 * starts, with their 1-hour slots a lead time ahead (BENCH_LEAD_S, 60 s: the bot must be up by then):
 *   (a) BENCH_SPREAD (3,000) sessions whose 1-hour reminder falls due evenly over 120 s, one
 *       attendee each (distinct chats): lateness = when the fake Telegram received the message −
 *       the slot's time; p50/p99 (goal p99 ≤ 2 s);
 *   (b) BENCH_BURST (1,000) sessions whose 1-hour reminder falls due at the same instant, 30 s
 *       after (a)'s last: seconds from that instant until the last is received
 *       (goal ≤ 1,000/30 + 2 ≈ 35.3 s);
 * then lost (expected, never received) and duplicates (a chat reminded twice) over both: 0.
 * PGlite by default; BENCH_DATABASE_URL (an empty PostgreSQL database) for the other lane;
 * BENCH_REDIS_URL to use a running Redis.
 *
 * Last line: {"p99_lateness_ms":…,"burst_s":…,"lost":0,"duplicates":0}
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SESSION_REMINDER_KIND } from "../src/domain/sessions/model.js";
import type { Database } from "../src/infra/database.js";
import { startFakeBotApiServer } from "../test/support/telegram/index.js";
import { makeBenchLane, percentile, startBot, startTcpRedis, type BotUnderTest } from "./harness.js";

const SPREAD = Number(process.env.BENCH_SPREAD ?? 3000);
const SPREAD_MS = 120_000;
const BURST = Number(process.env.BENCH_BURST ?? 1000);
const LEAD_MS = Number(process.env.BENCH_LEAD_S ?? 60) * 1000;
const GAP_MS = 30_000;
const BASE_A = 400_000_000;
const BASE_B = 500_000_000;
const RATE = 30;

const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "");


/**
 * `n` sessions (title `<tag> <i>`) starting one hour after their slot, session i's slot at
 * first + (i − 1) × stepMs, each with one person confirmed now (chat base + i).
 */
async function seedSessions(db: Database, tag: string, base: number, n: number, firstSlotMs: number, stepMs: number, nowMs: number, centerId: number): Promise<void> {
  const p = db.prisma;
  await p.$executeRawUnsafe(
    `INSERT INTO users (telegram_id, updated_at) SELECT $1::bigint + g, $3::timestamp FROM generate_series(1, $2::int) g`,
    base, n, iso(nowMs),
  );
  await p.$executeRawUnsafe(
    `INSERT INTO learning_sessions (center_id, title, topic, starts_at, duration_min, capacity, confirmed_count, checkin_token, next_reminder_at, updated_at)
     SELECT $1, $2::text || ' ' || g, 'digital',
            $3::timestamp + ((g - 1) * $4::float8) * interval '1 millisecond' + interval '1 hour', 60, 10, 1,
            md5($2::text || g || random()::text), $3::timestamp + ((g - 1) * $4::float8) * interval '1 millisecond', $6::timestamp
       FROM generate_series(1, $5::int) g`,
    centerId, tag, iso(firstSlotMs), stepMs, n, iso(nowMs),
  );
  await p.$executeRawUnsafe(
    `INSERT INTO session_signups (session_id, user_id, status, signed_up_at, confirmed_at)
     SELECT id, $2::bigint + split_part(title, ' ', 2)::int, 'confirmed', $3::timestamp, $3::timestamp
       FROM learning_sessions WHERE split_part(title, ' ', 1) = $1::text`,
    tag, base, iso(nowMs),
  );
}

async function until(what: string, check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      console.error(`timed out: ${what}`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), "khb-reminders-"));
  const local = process.env.BENCH_REDIS_URL ? undefined : await startTcpRedis(path.join(scratch, "redis"));
  const redisUrl = process.env.BENCH_REDIS_URL ?? local!.url;
  const api = await startFakeBotApiServer({ recordCalls: false });
  api.fake.setLimits({ globalPerSecond: RATE, perChatPerSecond: 1, perGroupPerMinute: 20, paidGlobalPerSecond: 1000 });
  let bot: BotUnderTest | undefined;
  try {
    const lane = await makeBenchLane(scratch);
    for (let i = 1; i <= SPREAD; i++) api.fake.registerChat(BASE_A + i);
    for (let i = 1; i <= BURST; i++) api.fake.registerChat(BASE_B + i);
    const seededAt = Date.now();
    const a0 = seededAt + LEAD_MS;
    const stepA = SPREAD_MS / SPREAD;
    const b0 = a0 + SPREAD_MS + GAP_MS;
    await lane.withDb(async (db) => {
      const center = await db.prisma.learningCenter.create({
        data: { provinceCode: "01", communeCode: "00004", name: "TTHTCĐ bench (demo)", address: "bench", lat: 21.03, lon: 105.85, demo: true },
      });
      await seedSessions(db, "benchA", BASE_A, SPREAD, a0, stepA, seededAt, center.id);
      await seedSessions(db, "benchB", BASE_B, BURST, b0, 0, seededAt, center.id);
    });
    const dueOf = (chat: number): number | undefined =>
      chat > BASE_A && chat <= BASE_A + SPREAD ? a0 + (chat - BASE_A - 1) * stepA : chat > BASE_B && chat <= BASE_B + BURST ? b0 : undefined;

    bot = await startBot(api, lane.dataDir, redisUrl, lane.databaseUrl, { QUEUE_PREFIX: `benchrem${process.pid}` });
    const readyIn = Date.now() - seededAt;
    console.log(`bot up ${(readyIn / 1000).toFixed(1)} s after seeding (lane: ${lane.databaseUrl ? "PostgreSQL" : "PGlite"}); first slot at +${LEAD_MS / 1000} s`);
    if (Date.now() > a0 - 2_000) throw new Error(`the bot took ${(readyIn / 1000).toFixed(0)} s to start, past the lead time: raise BENCH_LEAD_S`);

    const received = (from: number, n: number) => {
      let c = 0;
      const per = api.fake.sendStats().perChat;
      for (let i = 1; i <= n; i++) if ((per.get(from + i) ?? 0) > 0) c++;
      return c;
    };
    await until("spread reminders", () => received(BASE_A, SPREAD) === SPREAD, b0 - Date.now());
    await until("burst reminders", () => received(BASE_B, BURST) === BURST, Math.max(0, b0 - Date.now()) + (BURST / RATE) * 1000 * 3 + 30_000);
    // Late duplicates would show here.
    await new Promise((r) => setTimeout(r, 3_000));
    await bot.stop();
    bot = undefined;

    const lateA: number[] = [];
    let lastB = 0;
    let firstB = Infinity;
    let wrongText = 0;
    const count = new Map<number, number>();
    for (const s of api.fake.acceptedSends()) {
      const due = dueOf(s.chat_id);
      if (due === undefined) continue;
      count.set(s.chat_id, (count.get(s.chat_id) ?? 0) + 1);
      if (!s.text.startsWith("⏰ Nhắc lịch:") || !s.text.includes("(còn 1 giờ)")) wrongText++;
      if (s.chat_id <= BASE_A + SPREAD) lateA.push(s.at - due);
      else {
        lastB = Math.max(lastB, s.at);
        firstB = Math.min(firstB, s.at);
      }
    }
    const expected = SPREAD + BURST;
    const lost = expected - count.size;
    const duplicates = [...count.values()].reduce((sum, c) => sum + c - 1, 0);
    const ledger = await lane.withDb(async (db) => db.prisma.$queryRawUnsafe<Array<{ state: string; n: number }>>(
      `SELECT state::text AS state, count(*)::int AS n FROM deliveries WHERE kind = $1 GROUP BY state ORDER BY state`, SESSION_REMINDER_KIND,
    ));
    const burstS = lastB ? (lastB - b0) / 1000 : NaN;
    const p50 = percentile(lateA, 50);
    const p99 = percentile(lateA, 99);
    const max = Math.max(...lateA);
    const early = lateA.filter((l) => l < 0).length;
    console.log(`(a) ${lateA.length}/${SPREAD} reminders due evenly over ${SPREAD_MS / 1000} s: lateness p50 ${p50} ms, p99 ${p99} ms (goal ≤ 2000), max ${max} ms, early ${early}`);
    console.log(`(b) ${received(BASE_B, BURST)}/${BURST} due at one instant: first after ${((firstB - b0) / 1000).toFixed(2)} s, last after ${burstS.toFixed(2)} s (goal ≤ ${(BURST / RATE + 2).toFixed(1)} s; ${((BURST - 1) / ((lastB - firstB) / 1000)).toFixed(1)} msg/s)`);
    console.log(`lost ${lost}, duplicates ${duplicates}, texts not a 1-hour reminder ${wrongText}; 429s ${api.fake.sendStats().rateLimited}; ledger: ${ledger.map((r) => `${r.state} ${r.n}`).join(", ")}`);
    console.log(JSON.stringify({ p99_lateness_ms: p99, burst_s: Number(burstS.toFixed(2)), lost, duplicates }));
    if (lost || duplicates || wrongText) process.exitCode = 1;
  } finally {
    if (bot) await bot.stop().catch(() => {});
    await api.close();
    await local?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
