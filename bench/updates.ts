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
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Message, Update } from "grammy/types";
import { cb } from "../src/bot/callback-data/callback-data.js";
import { readAdminUnits } from "../src/domain/geo/seed-admin-units.js";
import { searchForm } from "../src/domain/geo/normalize.js";
import { openDatabase } from "../src/infra/database.js";
import { freePort, waitForPort } from "../test/support/ports.js";
import { DEFAULT_BOT_TOKEN, startFakeBotApiServer, type FakeBotApiServer, type FakeTelegram } from "../test/support/telegram/index.js";
import { procMemory, processTree, resetPeak } from "./proc-memory.js";
import type { Reply } from "./reference-bot.js";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const USERS = Number(process.env.BENCH_USERS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Think time between a user's steps in the paced run: uniform in [min, max] ms. */
const THINK_MS: [number, number] = [Number(process.env.BENCH_THINK_MIN_MS ?? 1000), Number(process.env.BENCH_THINK_MAX_MS ?? 3000)];

type Step = (userId: number, lastBotMessage: () => Message | undefined) => Omit<Update, "update_id">;

let messageId = 1_000_000;
let updateId = 1;
const date = () => Math.floor(Date.now() / 1000);
function from(id: number) {
  return { id, is_bot: false as const, first_name: "Bench", language_code: "vi" };
}
function text(id: number, t: string): Omit<Update, "update_id"> {
  const entities = t.startsWith("/") ? [{ type: "bot_command" as const, offset: 0, length: t.split(" ")[0]!.length }] : undefined;
  return { message: { message_id: messageId++, date: date(), chat: { id, type: "private", first_name: "Bench" }, from: from(id), text: t, ...(entities ? { entities } : {}) } as never };
}
let cbq = 0;
function press(id: number, data: string, message: Message | undefined): Omit<Update, "update_id"> {
  return { callback_query: { id: `b${++cbq}`, from: from(id), chat_instance: "bench", data, message: message as never } };
}

/** Thirteen updates: the whole registration, answered like a person would. */
function registrationScript(place: { provinceCode: string; query: string; communeCode: string }): Step[] {
  return [
    (id) => text(id, "/start"),
    (id, last) => press(id, cb.register.pack("start"), last()),
    (id, last) => press(id, cb.consent.pack("yes"), last()),
    (id) => text(id, "Nguyễn Văn Bench"),
    (id) => text(id, "1990"),
    (id, last) => press(id, cb.province.pack(place.provinceCode), last()),
    (id) => text(id, place.query),
    (id, last) => press(id, cb.commune.pack(place.communeCode), last()),
    (id, last) => press(id, cb.affiliation.pack("resident"), last()),
    (id, last) => press(id, cb.goal.pack("digital"), last()),
    (id, last) => press(id, cb.goal.pack("done"), last()),
    (id) => text(id, "Bỏ qua"),
    (id, last) => press(id, cb.summary.pack("ok"), last()),
  ];
}


interface RunResult {
  updates: number;
  seconds: number;
  latencies: number[];
  /** Total milliseconds spent per script step, to spot the slow one. */
  byStep: number[];
}

/** A bot behind its webhook: `handleUpdate` resolves once the bot has answered the POST. */
interface Target {
  handleUpdate(update: Update): Promise<void>;
  /** Answers other than 200 (the bot failed or timed out on an update). */
  failures: number;
}

function webhookTarget(url: string, secret: string): Target {
  const target: Target = {
    failures: 0,
    async handleUpdate(update) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
        body: JSON.stringify(update),
      });
      const body = await res.text();
      if (res.status !== 200) {
        target.failures++;
        if (target.failures <= 3) console.error(`update ${update.update_id}: ${url} answered ${res.status} ${body.slice(0, 200)}`);
      }
    },
  };
  return target;
}

async function drive(bot: Target, fake: FakeTelegram, scripts: Step[][], firstUserId: number, think?: [number, number]): Promise<RunResult> {
  const latencies: number[] = [];
  const byStep: number[] = [];
  const lastBotMessage = (chatId: number) => () => {
    const sent = fake.sent(chatId).filter((c) => c.method === "sendMessage");
    const m = sent.at(-1)?.result as Message | undefined;
    return m ? (fake.getMessage(chatId, m.message_id) ?? m) : undefined;
  };
  const t0 = performance.now();
  await Promise.all(
    scripts.map(async (script, i) => {
      const userId = firstUserId + i;
      for (const [n, step] of script.entries()) {
        if (think) await new Promise((r) => setTimeout(r, think[0] + Math.random() * (think[1] - think[0])));
        const update = { ...step(userId, lastBotMessage(userId)), update_id: updateId++ } as Update;
        fake.registerUpdate(update);
        const before = fake.calls.length;
        const start = performance.now();
        await bot.handleUpdate(update);
        const ms = performance.now() - start;
        for (const c of fake.calls.slice(before)) stepOf.set(c, n);
        latencies.push(ms);
        byStep[n] = (byStep[n] ?? 0) + ms;
      }
    }),
  );
  return { updates: latencies.length, seconds: (performance.now() - t0) / 1000, latencies, byStep };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * What our bot sent or edited in one chat, grouped by the update (script step) that caused it.
 * An edit names its message by position among the bot's sent messages, so the reference edits
 * the same one of its own.
 */
function repliesByStep(fake: FakeTelegram, chatId: number, steps: number): Reply[][] {
  const byStep: Reply[][] = Array.from({ length: steps }, () => []);
  const sentIds: number[] = [];
  for (const c of fake.calls) {
    if (Number(c.payload.chat_id) !== chatId || !c.ok) continue;
    const { chat_id: _chat, text, message_id, ...other } = c.payload;
    if (c.method === "sendMessage") {
      sentIds.push((c.result as Message).message_id);
      byStep[stepOf.get(c) ?? 0]!.push({ method: "sendMessage", text: String(text), other });
    } else if (c.method === "editMessageText" || c.method === "editMessageReplyMarkup") {
      byStep[stepOf.get(c) ?? 0]!.push({ method: c.method, text: text === undefined ? undefined : String(text), other, target: sentIds.indexOf(Number(message_id)) });
    }
  }
  return byStep;
}

/** Which script step each recorded call belongs to (filled in by `drive`). */
const stepOf = new WeakMap<object, number>();

/**
 * A redis-server on a loopback port for both bots (the bot's own private Redis listens on a unix
 * socket that the reference could not share). AOF on, as in production.
 */
async function startTcpRedis(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"], { stdio: "ignore" });
  await waitForPort(port, child, "redis-server");
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}

function collectOutput(child: ChildProcess): string[] {
  const output: string[] = [];
  child.stdout?.on("data", (b: Buffer) => output.push(b.toString()));
  child.stderr?.on("data", (b: Buffer) => output.push(b.toString()));
  return output;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

interface BotUnderTest {
  command: string;
  /** The node process running main.ts/main.js (npm and sh are its parents). */
  pid: number;
  target: Target;
  /** All processes the command started, for the process-tree figure. */
  treeRssMb(): number;
  stop(): Promise<void>;
}

/** The bot as `npm start` runs it, in webhook mode on a loopback port; resolves once /healthz answers. */
async function startBot(api: FakeBotApiServer, dataDir: string, redisUrl: string, databaseUrl: string | undefined): Promise<BotUnderTest> {
  const command = process.env.BENCH_BOT_CMD ?? "npm start";
  const [bin, ...args] = command.trim().split(/\s+/);
  const port = await freePort();
  const secret = randomBytes(24).toString("hex");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BOT_TOKEN: DEFAULT_BOT_TOKEN,
    BOT_API_ROOT: api.url,
    BOT_MODE: "webhook",
    WEBHOOK_URL: `http://127.0.0.1:${port}`,
    WEBHOOK_SECRET: secret,
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    DATA_DIR: dataDir,
    REDIS_URL: redisUrl,
    // Empty means unset, and keeps a developer's .env from supplying one.
    DATABASE_URL: databaseUrl ?? "",
    ADMIN_TELEGRAM_IDS: "",
    AUTO_MIGRATE: "true",
    LOG_LEVEL: "warn",
  };
  if (process.env.BENCH_PROFILE) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE)}`;
  const child = spawn(bin!, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const output = collectOutput(child);
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited (${child.exitCode}):\n${output.join("")}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${command}: no answer on /healthz within 180 s:\n${output.join("")}`);
    }
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tree = () => processTree(child.pid!).map(procMemory).filter((p) => p.name !== "redis-server");
  // The deepest match: `tsx src/main.ts` runs a node wrapper above the real process.
  const bot = tree().filter((p) => /\bmain\.[jt]s\b/.test(p.cmdline)).at(-1);
  if (!bot) throw new Error(`${command}: no main.js/main.ts process among ${tree().map((p) => p.cmdline).join("; ")}`);
  return {
    command,
    pid: bot.pid,
    target: webhookTarget(`http://127.0.0.1:${port}/telegram/webhook`, secret),
    treeRssMb: () => tree().reduce((sum, p) => sum + p.rssMb, 0),
    stop: async () => {
      // SIGTERM to the bot itself: it shuts down cleanly, then npm exits with it.
      process.kill(bot.pid, "SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited(child);
      clearTimeout(killer);
    },
  };
}

/** bench/reference-bot.ts in its own process, with the replies our bot gave. */
async function startReference(api: FakeBotApiServer, redisUrl: string, repliesFile: string): Promise<{ pid: number; target: Target; stop(): Promise<void> }> {
  const secret = randomBytes(24).toString("hex");
  const child = spawn(process.execPath, ["--import", "tsx", "bench/reference-bot.ts"], {
    cwd: ROOT,
    env: { ...process.env, REF_API_ROOT: api.url, REF_REDIS_URL: redisUrl, REF_KEY_PREFIX: `bench:${process.pid}:${Date.now()}:`, REF_REPLIES: repliesFile, REF_SECRET: secret },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = collectOutput(child);
  const deadline = Date.now() + 60_000;
  let port: string | undefined;
  while (!(port = /listening (\d+)/.exec(output.join(""))?.[1])) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`reference bot did not start:\n${output.join("")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    target: webhookTarget(`http://127.0.0.1:${port}/`, secret),
    stop: async () => {
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}

const mb = (n: number) => Math.round(n);

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

  // Idle: started (migrated, seeded, webhook set), then left alone for a moment.
  await new Promise((r) => setTimeout(r, Number(process.env.BENCH_SETTLE_MS ?? 3000)));
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
    oursRuns.push(await drive(ours, oursFake, scripts, idBase + firstId));
    refRuns.push(await drive(ref, refFake, scripts, firstId));
  }
  const median = (runs: RunResult[]) => [...runs].sort((a, b) => a.updates / a.seconds - b.updates / b.seconds)[Math.floor(runs.length / 2)]!;
  const oursRun = median(oursRuns);
  const refRun = median(refRuns);

  // Latency at a human pace: every user thinks between steps, as people do.
  clear();
  const paced = await drive(ours, oursFake, scripts, idBase + 90_000_000, THINK_MS);
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
  const webhookErrors = ours.failures + ref.failures;
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
    ref_updates_per_s: Math.round(refRate),
    ref_p99_ms: Number(percentile(refRun.latencies, 99).toFixed(2)),
    ratio: Number((oursRate / refRate).toFixed(3)),
    /** The bot process's peak RSS over its whole life (start-up or load, whichever is higher). */
    peak_rss_mb: mb(Math.max(idle.hwmMb, loaded.hwmMb)),
    load_peak_rss_mb: mb(loaded.hwmMb),
    start_peak_rss_mb: mb(idle.hwmMb),
    idle_rss_mb: mb(idle.rssMb),
    idle_tree_rss_mb: mb(idleTree),
    ref_peak_rss_mb: mb(refPeak),
    db: lane,
    bot_cmd: bot.command,
    telegram_rejections: rejected,
    webhook_errors: webhookErrors,
  };
  console.log(`khuyenhoc-bot registration benchmark: ${USERS} users × 12 updates, ${lane}, real Redis, median of ${ROUNDS} rounds`);
  console.log(`  bot: \`${bot.command}\` in its own process, webhook on loopback, fake Bot API over HTTP`);
  console.log(`  saturated (all users at once, no pause):`);
  console.log(`    ours:      ${figures.updates_per_s} updates/s   p50 ${figures.p50_ms} ms   p99 ${figures.p99_ms} ms`);
  console.log(`    reference: ${figures.ref_updates_per_s} updates/s   p99 ${figures.ref_p99_ms} ms   (bare grammY + conversations in Redis, same replies, no database)`);
  console.log(`    ratio ours/reference: ${figures.ratio}   (goal ≥ 0.5)`);
  console.log(`  paced (each user pauses ${THINK_MS[0]}–${THINK_MS[1]} ms between steps, like a person):`);
  console.log(`    ours:      ${figures.paced_updates_per_s} updates/s   p50 ${figures.paced_p50_ms} ms   p99 ${figures.paced_p99_ms} ms   (goal p99 ≤ 50 ms)`);
  console.log(`  registrations stored: ${registered}/${expected}`);
  console.log(`  bot process memory (RSS): idle ${figures.idle_rss_mb} MB (with its wrappers ${figures.idle_tree_rss_mb} MB), start-up peak ${figures.start_peak_rss_mb} MB, peak under load ${figures.load_peak_rss_mb} MB`);
  console.log(`  reference process peak: ${figures.ref_peak_rss_mb} MB; calls Telegram would reject: ${rejected}; failed webhook posts: ours ${ours.failures}, reference ${ref.failures}`);
  if (process.env.BENCH_TRACE) console.log(`  ms per step (ours): ${oursRun.byStep.map((t) => (t / USERS).toFixed(1)).join(" ")}`);
  console.log(JSON.stringify(figures));

  await localRedis?.stop();
  rmSync(scratch, { recursive: true, force: true });
  if (registered !== expected || rejected > 0 || webhookErrors > 0) process.exitCode = 1;
}

await main();
