/**
 * npm run bench:updates — N simulated users register concurrently through the full stack
 * (createBot, real Redis, real database, the strict fake Telegram in-process), compared with a
 * bare grammY bot whose conversation has the same number of steps, its state in the same Redis,
 * and no database. Prints updates/s, p50/p99 latency per update, the ratio ours/reference and
 * the process's peak memory; the last line is one JSON object with the figures.
 *
 *   BENCH_USERS=200 BENCH_REDIS_URL=redis://… BENCH_DATABASE_URL=postgresql://… npm run bench:updates
 *
 * Without BENCH_REDIS_URL it starts its own redis-server (AOF on, as `npm start` does); with it,
 * all keys go under a fresh prefix, so a shared Redis is not disturbed. Without
 * BENCH_DATABASE_URL the database is an in-memory PGlite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { conversations, createConversation, type Conversation, type ConversationFlavor } from "@grammyjs/conversations";
import { sequentialize } from "@grammyjs/runner";
import { Bot, type Context } from "grammy";
import type { Message, Update } from "grammy/types";
import { cb } from "../src/bot/callback-data/callback-data.js";
import { createDeps } from "../src/bot/deps.js";
import { createBot } from "../src/bot/index.js";
import { sessionKey } from "../src/bot/session-key.js";
import { seedAdminUnits, readAdminUnits } from "../src/domain/geo/seed-admin-units.js";
import { searchForm } from "../src/domain/geo/normalize.js";
import { createI18n } from "../src/i18n.js";
import { openDatabase } from "../src/infra/database.js";
import { applyMigrations } from "../src/infra/migrate.js";
import { createRedis, startLocalRedis, type LocalRedis } from "../src/infra/redis.js";
import { RedisJsonStorage } from "../src/infra/redis-storage.js";
import { createLogger } from "../src/logger.js";
import { createFakeFetch, DEFAULT_BOT_TOKEN, FakeTelegram } from "../test/support/telegram/index.js";

const USERS = Number(process.env.BENCH_USERS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Think time between a user's steps in the paced run: uniform in [min, max] ms. */
const THINK_MS: [number, number] = [Number(process.env.BENCH_THINK_MIN_MS ?? 1000), Number(process.env.BENCH_THINK_MAX_MS ?? 3000)];
const API_ROOT = "http://fake-telegram.invalid";

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

/** Twelve updates: the whole registration, answered like a person would. */
function registrationScript(place: { provinceCode: string; query: string; communeCode: string }): Step[] {
  return [
    (id) => text(id, "/start"),
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

async function drive(
  bot: { handleUpdate(u: Update): Promise<void> },
  fake: FakeTelegram,
  scripts: Step[][],
  firstUserId: number,
  think?: [number, number],
): Promise<RunResult> {
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

type Reply = { text: string; other: Record<string, unknown> };

/**
 * The reference: bare grammY + conversations in Redis, the same number of steps and the very
 * same replies (texts, HTML, keyboards) our bot sent, but no session, no i18n, no validation and
 * no database. So the ratio measures what our architecture costs, not message sizes.
 */
function referenceBot(fake: FakeTelegram, redis: ReturnType<typeof createRedis>, replies: Reply[][]) {
  type C = ConversationFlavor<Context>;
  const bot = new Bot<C>(DEFAULT_BOT_TOKEN, { botInfo: fake.botInfo, client: { fetch: createFakeFetch(fake) as never, apiRoot: API_ROOT } });
  const storage = new RedisJsonStorage<unknown>(redis, "ref:conv:");
  bot.use(sequentialize(sessionKey));
  bot.use(conversations<C, Context>({ storage: { type: "key", getStorageKey: sessionKey, adapter: storage as never } }));
  async function flow(conversation: Conversation<C, Context>, ctx: Context) {
    for (const r of replies[0]!) await ctx.reply(r.text, r.other);
    for (let step = 1; step < replies.length; step++) {
      const c = await conversation.wait();
      if (c.callbackQuery) await c.answerCallbackQuery();
      for (const r of replies[step]!) await c.reply(r.text, r.other);
    }
  }
  bot.use(createConversation(flow, { id: "flow" }));
  bot.command("start", (ctx) => ctx.conversation.enter("flow"));
  return bot;
}

/** What our bot sent to one chat, grouped by the update (script step) that caused it. */
function repliesByStep(fake: FakeTelegram, chatId: number): Reply[][] {
  const steps: Reply[][] = Array.from({ length: 12 }, () => []);
  for (const c of fake.calls) {
    if (c.method !== "sendMessage" || Number(c.payload.chat_id) !== chatId) continue;
    const { chat_id: _chat, text, ...other } = c.payload;
    steps[stepOf.get(c) ?? 0]!.push({ text: String(text), other });
  }
  return steps;
}

/** Which script step each recorded call belongs to (filled in by `drive`). */
const stepOf = new WeakMap<object, number>();

/** BENCH_PROFILE=file.cpuprofile: a CPU profile of the measured run of our bot only. */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import("node:inspector/promises");
  const { writeFile } = await import("node:fs/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async (file) => {
    const { profile } = await session.post("Profiler.stop");
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), "khb-bench-"));
  let localRedis: LocalRedis | undefined;
  const redisUrl = process.env.BENCH_REDIS_URL ?? (localRedis = await startLocalRedis("redis-server", path.join(scratch, "redis"))).connection;
  const redis = createRedis(redisUrl, { keyPrefix: `bench:${process.pid}:${Date.now()}:` });
  const db = await openDatabase(process.env.BENCH_DATABASE_URL ? { url: process.env.BENCH_DATABASE_URL } : { pgliteDir: "memory://" });
  await applyMigrations(db);
  await seedAdminUnits(db.prisma);

  // Users spread over the 34 provinces, each picking a real commune by typed search.
  const { data } = readAdminUnits();
  const places = data.provinces.map((p) => ({ provinceCode: p.code, query: searchForm(p.communes[0]!.name), communeCode: p.communes[0]!.code }));
  const scripts = Array.from({ length: USERS }, (_, i) => registrationScript(places[i % places.length]!));

  const oursFake = new FakeTelegram();
  const deps = createDeps({ prisma: db.prisma, redis, i18n: await createI18n(), logger: createLogger("silent"), adminIds: new Set() });
  const ours = createBot(DEFAULT_BOT_TOKEN, deps, { botInfo: oursFake.botInfo, client: { fetch: createFakeFetch(oursFake) as never, apiRoot: API_ROOT } });
  // Warm-up (JIT, connections, caches); one user's replies become the reference's script.
  await drive(ours, oursFake, scripts.slice(0, 1), 9_000_000);
  const replies = repliesByStep(oursFake, 9_000_000);
  await drive(ours, oursFake, scripts.slice(0, 10), 10_000_000);
  const refFake = new FakeTelegram();
  const ref = referenceBot(refFake, redis, replies);
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
    const stopProfile = process.env.BENCH_PROFILE && round === 0 ? await startProfile() : undefined;
    oursRuns.push(await drive(ours, oursFake, scripts, firstId));
    await stopProfile?.(process.env.BENCH_PROFILE!);
    refRuns.push(await drive(ref, refFake, scripts, firstId));
  }
  const median = (runs: RunResult[]) => [...runs].sort((a, b) => a.updates / a.seconds - b.updates / b.seconds)[Math.floor(runs.length / 2)]!;
  const oursRun = median(oursRuns);
  const refRun = median(refRuns);

  // Latency at a human pace: every user thinks between steps, as people do.
  clear();
  const paced = await drive(ours, oursFake, scripts, 90_000_000, THINK_MS);
  clear();

  const registered = await db.prisma.learningCitizen.count({ where: { userId: { gte: 20_000_000n } } });
  const expected = USERS * (ROUNDS + 1);
  const oursRate = oursRun.updates / oursRun.seconds;
  const refRate = refRun.updates / refRun.seconds;
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
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    db: db.lane,
    telegram_rejections: rejected,
  };
  console.log(`khuyenhoc-bot registration benchmark: ${USERS} users × 12 updates, ${db.lane}, real Redis, median of ${ROUNDS} rounds`);
  console.log(`  saturated (all users at once, no pause):`);
  console.log(`    ours:      ${figures.updates_per_s} updates/s   p50 ${figures.p50_ms} ms   p99 ${figures.p99_ms} ms`);
  console.log(`    reference: ${figures.ref_updates_per_s} updates/s   p99 ${figures.ref_p99_ms} ms   (bare grammY + conversations in Redis, same replies, no database)`);
  console.log(`    ratio ours/reference: ${figures.ratio}   (goal ≥ 0.5)`);
  console.log(`  paced (each user pauses ${THINK_MS[0]}–${THINK_MS[1]} ms between steps, like a person):`);
  console.log(`    ours:      ${figures.paced_updates_per_s} updates/s   p50 ${figures.paced_p50_ms} ms   p99 ${figures.paced_p99_ms} ms   (goal p99 ≤ 50 ms)`);
  console.log(`  registrations stored: ${registered}/${expected}`);
  console.log(`  peak memory (RSS): ${figures.peak_rss_mb} MB; calls Telegram would reject: ${rejected}`);
  if (process.env.BENCH_TRACE) console.log(`  ms per step (ours): ${oursRun.byStep.map((t) => (t / USERS).toFixed(1)).join(" ")}`);
  console.log(JSON.stringify(figures));

  redis.disconnect();
  await db.close();
  await localRedis?.stop();
  rmSync(scratch, { recursive: true, force: true });
  if (registered !== expected || rejected > 0) process.exitCode = 1;
}

await main();
