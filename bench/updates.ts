/**
 * npm run bench:updates — N simulated users register concurrently through the full stack, compared
 * with a bare grammY bot whose conversation has the same number of steps, its state in the same
 * Redis, and no database. Prints updates/s, p50/p99 latency per update, the ratio ours/reference
 * and the bot process's memory; the last line is one JSON object with the figures.
 *
 *   BENCH_USERS=200 BENCH_REDIS_URL=redis://… BENCH_DATABASE_URL=postgresql://… npm run bench:updates
 *
 * The bot under test is the real `npm start` (BENCH_BOT_CMD overrides the command) in its own
 * process, in webhook mode on loopback: this process posts each update to it and times the
 * answer, and its Bot API calls go to the strict fake Telegram over HTTP. So the memory figures are
 * the bot's alone, read from /proc, not this load generator's. The reference runs apart the same way.
 *
 * Without BENCH_REDIS_URL it starts its own redis-server (AOF on, as `npm start` does); with it,
 * the reference's keys go under a fresh prefix and the bot's under user ids fresh for this run
 * (nothing is deleted). Without BENCH_DATABASE_URL the bot keeps a PGlite database in a temporary
 * DATA_DIR, as `npm start` does.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readAdminUnits } from "../src/domain/geo/seed-admin-units.js";
import { searchForm } from "../src/domain/geo/normalize.js";
import { openDatabase } from "../src/infra/database.js";
import { startFakeBotApiServer, type FakeBotApiServer } from "../test/support/telegram/index.js";
import { procCpuMs, procMemory, resetPeak } from "./proc-memory.js";
import {
  drive, percentile, registrationScript, repliesByStep, startBot, startTcpRedis, type RunResult, type Target, startReferenceProcess,
} from "./harness.js";

const USERS = Number(process.env.BENCH_USERS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Think time between a user's steps in the paced run: uniform in [min, max] ms. */
const THINK_MS: [number, number] = [Number(process.env.BENCH_THINK_MIN_MS ?? 1000), Number(process.env.BENCH_THINK_MAX_MS ?? 3000)];

/** bench/reference-bot.ts in its own process, with the replies our bot gave. */
async function startReference(api: FakeBotApiServer, redisUrl: string, repliesFile: string): Promise<{ pid: number; target: Target; stop(): Promise<void> }> {
  return startReferenceProcess("bench/reference-bot.ts", api, redisUrl, { REF_REPLIES: repliesFile });
}

const mb = (n: number) => Math.round(n);
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), "khb-bench-"));
  let localRedis: { url: string; stop(): Promise<void> } | undefined;
  // One Redis for both bots (AOF on, as in production); a bot process reaches it by URL.
  const redisUrl = process.env.BENCH_REDIS_URL ?? (localRedis = await startTcpRedis(path.join(scratch, "redis"))).url;
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  // A shared Redis may hold sessions of an earlier run: fresh user ids keep them apart.
  const idBase = process.env.BENCH_REDIS_URL ? 1_000_000_000 * (1 + Math.floor(Math.random() * 1000)) : 0;

  // Users spread over the 34 provinces, each picking a real commune by typed search.
  const { data } = readAdminUnits();
  const places = data.provinces.map((p) => ({ provinceCode: p.code, query: searchForm(p.communes[0]!.name), communeCode: p.communes[0]!.code }));
  const scripts = Array.from({ length: USERS }, (_, i) => registrationScript(places[i % places.length]!));

  const oursApi = await startFakeBotApiServer();
  const refApi = await startFakeBotApiServer();
  const oursFake = oursApi.fake;
  const refFake = refApi.fake;
  const bot = await startBot(oursApi, path.join(scratch, "data"), redisUrl, databaseUrl);
  const lane = databaseUrl ? "postgres" : "pglite";

  // Just started (migrated, seeded, webhook set), 3 s quiet: V8 still holds the young generation
  // start-up grew. Idle: 30 s quiet, its once-a-second ticks running, as a bot sits between
  // people; V8's memory reducer has had its turn by then.
  const settleMs = Number(process.env.BENCH_SETTLE_MS ?? 3000);
  await new Promise((r) => setTimeout(r, settleMs));
  const settled = procMemory(bot.pid);
  await new Promise((r) => setTimeout(r, Math.max(0, Number(process.env.BENCH_IDLE_MS ?? 30_000) - settleMs)));
  const idle = procMemory(bot.pid);
  const idleTree = bot.treeRssMb();
  resetPeak(bot.pid);

  const ours = bot.target;
  // Warm-up (JIT, connections, caches); one user's replies become the reference's script.
  await drive(ours, oursFake, scripts.slice(0, 1), idBase + 9_000_000);
  const repliesFile = path.join(scratch, "replies.json");
  writeFileSync(repliesFile, JSON.stringify(repliesByStep(oursFake, idBase + 9_000_000, scripts[0]!.length)));
  await drive(ours, oursFake, scripts.slice(0, 10), idBase + 10_000_000);
  const reference = await startReference(refApi, redisUrl, repliesFile);
  const ref = reference.target;
  await drive(ref, refFake, scripts.slice(0, 10), 10_000_000);
  // Rounds alternate ours and the reference so machine noise hits both; the median round counts.
  const oursRuns: RunResult[] = [];
  const refRuns: RunResult[] = [];
  // CPU milliseconds each bot process spent per update in each round (saturated).
  const oursCpu: number[] = [];
  const refCpu: number[] = [];
  // The fakes record every call; clearing them between runs keeps their memory (and GC pauses)
  // out of the figures. Rejections are counted before each clear.
  let rejected = 0;
  const clear = () => {
    rejected += oursFake.calls.filter((c) => !c.ok).length;
    oursFake.reset();
    refFake.reset();
  };
  for (let round = 0; round < ROUNDS; round++) {
    clear();
    const firstId = 20_000_000 + round * 1_000_000;
    let cpu0 = procCpuMs(bot.pid);
    oursRuns.push(await drive(ours, oursFake, scripts, idBase + firstId));
    oursCpu.push((procCpuMs(bot.pid) - cpu0) / oursRuns.at(-1)!.updates);
    cpu0 = procCpuMs(reference.pid);
    refRuns.push(await drive(ref, refFake, scripts, firstId));
    refCpu.push((procCpuMs(reference.pid) - cpu0) / refRuns.at(-1)!.updates);
  }
  const median = (runs: RunResult[]) => [...runs].sort((a, b) => a.updates / a.seconds - b.updates / b.seconds)[Math.floor(runs.length / 2)]!;
  const oursRun = median(oursRuns);
  const refRun = median(refRuns);

  // Latency at a human pace: every user thinks between steps, as people do.
  clear();
  const paced = await drive(ours, oursFake, scripts, idBase + 90_000_000, THINK_MS);
  clear();
  // The same pace against the reference: the floor this machine, loopback HTTP and the fake set.
  const refPaced = await drive(ref, refFake, scripts, 90_000_000, THINK_MS);
  clear();

  const loaded = procMemory(bot.pid);
  const refPeak = procMemory(reference.pid).hwmMb;
  await reference.stop();
  await bot.stop();
  await Promise.all([oursApi.close(), refApi.close()]);

  // The bot has released its database (PGlite has one owner at a time): count what it stored.
  const db = await openDatabase(databaseUrl ? { url: databaseUrl } : { pgliteDir: path.join(scratch, "data", "pglite") });
  const registered = await db.prisma.learningCitizen.count({ where: { userId: { gte: BigInt(idBase + 20_000_000) } } });
  await db.close();

  const expected = USERS * (ROUNDS + 1);
  const oursRate = oursRun.updates / oursRun.seconds;
  const refRate = refRun.updates / refRun.seconds;
  // Ours count against the run; the reference's (bare grammY's fetch to the fake, under load) are
  // reported with their reason (BENCH_ECHO=1) but are not ours to fail on.
  const webhookErrors = ours.failures;
  const figures = {
    users: USERS,
    updates: oursRun.updates,
    registered,
    updates_per_s: Math.round(oursRate),
    p50_ms: Number(percentile(oursRun.latencies, 50).toFixed(2)),
    p99_ms: Number(percentile(oursRun.latencies, 99).toFixed(2)),
    paced_updates_per_s: Math.round(paced.updates / paced.seconds),
    paced_p50_ms: Number(percentile(paced.latencies, 50).toFixed(2)),
    paced_p99_ms: Number(percentile(paced.latencies, 99).toFixed(2)),
    ref_paced_p99_ms: Number(percentile(refPaced.latencies, 99).toFixed(2)),
    ref_updates_per_s: Math.round(refRate),
    ref_p99_ms: Number(percentile(refRun.latencies, 99).toFixed(2)),
    ratio: Number((oursRate / refRate).toFixed(3)),
    cpu_ms_per_update: Number(medianOf(oursCpu).toFixed(2)),
    ref_cpu_ms_per_update: Number(medianOf(refCpu).toFixed(2)),
    /** The bot process's peak RSS over its whole life (start-up or load, whichever is higher). */
    peak_rss_mb: mb(Math.max(idle.hwmMb, loaded.hwmMb)),
    load_peak_rss_mb: mb(loaded.hwmMb),
    start_peak_rss_mb: mb(idle.hwmMb),
    idle_rss_mb: mb(idle.rssMb),
    started_rss_mb: mb(settled.rssMb),
    idle_tree_rss_mb: mb(idleTree),
    ref_peak_rss_mb: mb(refPeak),
    db: lane,
    bot_cmd: bot.command,
    telegram_rejections: rejected,
    webhook_errors: webhookErrors,
    ref_webhook_errors: ref.failures,
  };
  console.log(`khuyenhoc-bot registration benchmark: ${USERS} users × ${scripts[0]!.length} updates, ${lane}, real Redis, median of ${ROUNDS} rounds`);
  console.log(`  bot: \`${bot.command}\` in its own process, webhook on loopback, fake Bot API over HTTP`);
  console.log(`  saturated (all users at once, no pause):`);
  console.log(`    ours:      ${figures.updates_per_s} updates/s   p50 ${figures.p50_ms} ms   p99 ${figures.p99_ms} ms`);
  console.log(`    reference: ${figures.ref_updates_per_s} updates/s   p99 ${figures.ref_p99_ms} ms   (bare grammY + conversations in Redis, same replies, no database)`);
  console.log(`    ratio ours/reference: ${figures.ratio}   (goal ≥ 0.5)`);
  console.log(`  paced (each user pauses ${THINK_MS[0]}–${THINK_MS[1]} ms between steps, like a person):`);
  console.log(`    ours:      ${figures.paced_updates_per_s} updates/s   p50 ${figures.paced_p50_ms} ms   p99 ${figures.paced_p99_ms} ms   (goal p99 ≤ 50 ms)`);
  console.log(`    reference: p50 ${percentile(refPaced.latencies, 50).toFixed(2)} ms   p99 ${figures.ref_paced_p99_ms} ms   (the same pace; this machine's floor)`);
  console.log(`  registrations stored: ${registered}/${expected}`);
  console.log(`  bot process memory (RSS): idle ${figures.idle_rss_mb} MB after 30 s quiet (3 s after start-up ${figures.started_rss_mb} MB; with its wrappers ${figures.idle_tree_rss_mb} MB), start-up peak ${figures.start_peak_rss_mb} MB, peak under load ${figures.load_peak_rss_mb} MB`);
  console.log(`  reference process peak: ${figures.ref_peak_rss_mb} MB; calls Telegram would reject: ${rejected}; failed webhook posts: ours ${ours.failures}, reference ${ref.failures}`);
  if (process.env.BENCH_TRACE) {
    console.log(`  ms per step (ours, saturated mean): ${oursRun.byStep.map((t) => (t / USERS).toFixed(1)).join(" ")}`);
    console.log(`  p99 per step (ours, paced): ${paced.perStep.map((l) => percentile(l, 99).toFixed(1)).join(" ")}`);
  }
  console.log(JSON.stringify(figures));

  await localRedis?.stop();
  rmSync(scratch, { recursive: true, force: true });
  if (registered !== expected || rejected > 0 || webhookErrors > 0) process.exitCode = 1;
}

await main();
