/**
 * `npm run bench:broadcast`: broadcasts through the real delivery engine (the bot as `npm start`
 * runs it, its embedded worker, BullMQ on Redis, the ledger in the database) against the fake Bot
 * API over HTTP enforcing Telegram's limits (429 with retry_after past 30/s, 1/s per chat, 1,000/s
 * for paid broadcasts).
 *   1. BENCH_RECIPIENTS (3000) at 30 messages/s: achieved rate as a fraction of the limit, lost,
 *      duplicates, 429s.
 *   2. BENCH_PAID_RECIPIENTS (20000) at 1,000 messages/s with PAID_BROADCAST=true.
 *   3. BENCH_RECIPIENTS with a SIGKILL of the sending process halfway and a restart: lost,
 *      duplicates (each counted "ambiguous" by the ledger).
 * Peak RSS of the sending process over all three. PGlite by default; BENCH_DATABASE_URL (an empty
 * PostgreSQL database) for the other lane; BENCH_REDIS_URL to use a running Redis.
 *
 * Last line: {"fraction_of_limit":…,"paid_fraction_of_limit":…,"lost":0,"duplicates":0,
 *             "rate_limited_429":…,"crash_lost":0,"crash_duplicates":…,"peak_rss_mb":…}
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { seedBroadcast } from "../test/support/broadcast-seed.js";
import { startFakeBotApiServer, type FakeBotApiServer } from "../test/support/telegram/index.js";
import { makeBenchLane, startBot, startTcpRedis, type BenchLane, type BotUnderTest } from "./harness.js";
import { procMemory } from "./proc-memory.js";

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 3000);
const PAID_RECIPIENTS = Number(process.env.BENCH_PAID_RECIPIENTS ?? 20000);
const OFFICER = 990_000_001;

async function seed(lane: BenchLane, base: number, n: number): Promise<string> {
  return lane.withDb(async (db) => (await seedBroadcast(db.prisma, OFFICER, base, n)).id);
}

interface Watch {
  peakMb: number;
  stop(): void;
}

function watchRss(bot: () => BotUnderTest | undefined, into: Watch): void {
  const timer = setInterval(() => {
    const b = bot();
    if (!b) return;
    try {
      into.peakMb = Math.max(into.peakMb, procMemory(b.pid).rssMb);
    } catch {
      // between a kill and a restart
    }
  }, 200);
  into.stop = () => clearInterval(timer);
}

/** Distinct recipients reached, and how many got more than one message. */
function reached(api: FakeBotApiServer, base: number, n: number): { distinct: number; duplicates: number; first: number; last: number } {
  let distinct = 0;
  let duplicates = 0;
  let first = Infinity;
  let last = 0;
  for (const s of api.fake.acceptedSends()) {
    if (s.chat_id <= base || s.chat_id > base + n) continue;
    first = Math.min(first, s.at);
    last = Math.max(last, s.at);
  }
  const perChat = api.fake.sendStats().perChat;
  for (let i = 1; i <= n; i++) {
    const c = perChat.get(base + i) ?? 0;
    if (c > 0) distinct++;
    if (c > 1) duplicates += c - 1;
  }
  return { distinct, duplicates, first, last };
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), "khb-broadcast-"));
  const local = process.env.BENCH_REDIS_URL ? undefined : await startTcpRedis(path.join(scratch, "redis"));
  const redisUrl = process.env.BENCH_REDIS_URL ?? local!.url;
  const api = await startFakeBotApiServer({ recordCalls: false });
  api.fake.setLimits({ globalPerSecond: 30, perChatPerSecond: 1, perGroupPerMinute: 20, paidGlobalPerSecond: 1000 });
  const lane = await makeBenchLane(scratch);
  api.fake.registerChat(OFFICER);
  let current: BotUnderTest | undefined;
  const rss: Watch = { peakMb: 0, stop: () => {} };
  watchRss(() => current, rss);
  // One queue prefix per scenario: a restart must find the jobs the killed process left.
  const env = (paid: boolean, scenario: number): NodeJS.ProcessEnv => ({ PAID_BROADCAST: paid ? "true" : "false", QUEUE_PREFIX: `bench${scenario}x${process.pid}` });
  try {
    // 1. 3,000 at the free limit.
    const base1 = 100_000_000;
    for (let i = 1; i <= RECIPIENTS; i++) api.fake.registerChat(base1 + i);
    await seed(lane, base1, RECIPIENTS);
    const stats0 = api.fake.sendStats().rateLimited;
    const t0 = Date.now();
    current = await startBot(api, lane.dataDir, redisUrl, lane.databaseUrl, env(false, 1));
    await until("free broadcast delivered", () => reached(api, base1, RECIPIENTS).distinct === RECIPIENTS, RECIPIENTS / 30 * 1000 * 2 + 60_000);
    const free = reached(api, base1, RECIPIENTS);
    const freeRate = (RECIPIENTS - 1) / ((free.last - free.first) / 1000);
    const rateLimited = api.fake.sendStats().rateLimited - stats0;
    const times = api.fake.acceptedSends().map((s) => s.at).sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    await new Promise((r) => setTimeout(r, 2_000)); // late duplicates would show here
    const freeAfter = reached(api, base1, RECIPIENTS);
    await current.stop();
    current = undefined;
    console.log(`free: ${RECIPIENTS} recipients in ${((Date.now() - t0) / 1000).toFixed(1)} s (incl. start-up); ${freeRate.toFixed(2)} msg/s = ${(freeRate / 30).toFixed(3)} of 30/s; lost ${RECIPIENTS - freeAfter.distinct}; duplicates ${freeAfter.duplicates}; 429s ${rateLimited} (${(100 * rateLimited / RECIPIENTS).toFixed(2)} % of sends); busiest second as Telegram saw it: ${busiest}`);

    // 2. 20,000 paid at 1,000/s.
    const base2 = 200_000_000;
    for (let i = 1; i <= PAID_RECIPIENTS; i++) api.fake.registerChat(base2 + i);
    await seed(lane, base2, PAID_RECIPIENTS);
    current = await startBot(api, lane.dataDir, redisUrl, lane.databaseUrl, env(true, 2));
    await until("paid broadcast delivered", () => reached(api, base2, PAID_RECIPIENTS).distinct === PAID_RECIPIENTS, 300_000);
    const paid = reached(api, base2, PAID_RECIPIENTS);
    const paidRate = (PAID_RECIPIENTS - 1) / ((paid.last - paid.first) / 1000);
    await current.stop();
    current = undefined;
    console.log(`paid: ${PAID_RECIPIENTS} recipients, ${paidRate.toFixed(0)} msg/s = ${(paidRate / 1000).toFixed(3)} of 1,000/s; lost ${PAID_RECIPIENTS - paid.distinct}; duplicates ${paid.duplicates}`);

    // 3. SIGKILL halfway, then a restart.
    const base3 = 300_000_000;
    for (let i = 1; i <= RECIPIENTS; i++) api.fake.registerChat(base3 + i);
    const crashRef = await seed(lane, base3, RECIPIENTS);
    current = await startBot(api, lane.dataDir, redisUrl, lane.databaseUrl, env(false, 3));
    await until("half delivered", () => reached(api, base3, RECIPIENTS).distinct >= RECIPIENTS / 2, RECIPIENTS / 30 * 1000 + 60_000);
    process.kill(current.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    const atKill = reached(api, base3, RECIPIENTS).distinct;
    const restartAt = Date.now();
    current = await startBot(api, lane.dataDir, redisUrl, lane.databaseUrl, env(false, 3));
    await until("crash broadcast delivered", () => reached(api, base3, RECIPIENTS).distinct === RECIPIENTS, RECIPIENTS / 30 * 1000 + 120_000);
    const resumedIn = (Date.now() - restartAt) / 1000;
    await new Promise((r) => setTimeout(r, 2_000));
    await current.stop();
    current = undefined;
    const crash = reached(api, base3, RECIPIENTS);
    const ambiguous = await lane.withDb(async (db) => {
      const rows = await db.prisma.$queryRawUnsafe<Array<{ n: bigint }>>(
        `SELECT count(*) AS n FROM deliveries WHERE kind = 'broadcast' AND ref_id = $1 AND ambiguous`, crashRef);
      return Number(rows[0]!.n);
    });
    console.log(`crash: killed at ${atKill}/${RECIPIENTS}; all delivered ${resumedIn.toFixed(1)} s after the restart; lost ${RECIPIENTS - crash.distinct}; duplicates ${crash.duplicates}; ledger ambiguous ${ambiguous}`);
    rss.stop();
    console.log(`peak RSS of the sending process: ${rss.peakMb.toFixed(0)} MB (lane: ${lane.databaseUrl ? "PostgreSQL" : "PGlite"})`);
    console.log(JSON.stringify({
      fraction_of_limit: Number((freeRate / 30).toFixed(3)),
      paid_fraction_of_limit: Number((paidRate / 1000).toFixed(3)),
      lost: RECIPIENTS - freeAfter.distinct + PAID_RECIPIENTS - paid.distinct,
      duplicates: freeAfter.duplicates + paid.duplicates,
      rate_limited_429: rateLimited,
      crash_lost: RECIPIENTS - crash.distinct,
      crash_duplicates: crash.duplicates,
      peak_rss_mb: Math.round(rss.peakMb),
    }));
  } finally {
    rss.stop();
    if (current) await current.stop().catch(() => {});
    await api.close();
    await local?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
