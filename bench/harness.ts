/**
 * What the benchmarks share: the bot under test as `npm start` runs it, in its own process behind
 * its webhook on loopback; the fake Bot API over HTTP; a Redis both bots use; the registration
 * script people follow; and the driver that plays scripts and times each answer.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { seedAdminUnits } from "../src/domain/geo/seed-admin-units.js";
import { openDatabase, type Database } from "../src/infra/database.js";
import { applyMigrations } from "../src/infra/migrate.js";
import type { Message, Update } from "grammy/types";
import { cb } from "../src/bot/callback-data/callback-data.js";
import { freePort, waitForPort } from "../test/support/ports.js";
import { DEFAULT_BOT_TOKEN, type FakeBotApiServer, type FakeTelegram } from "../test/support/telegram/index.js";
import { procMemory, processTree } from "./proc-memory.js";
import type { Reply } from "./reference-bot.js";

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
export type Step = (userId: number, lastBotMessage: () => Message | undefined) => Omit<Update, "update_id">;

let messageId = 1_000_000;
let updateId = 1;
/** Update ids never repeat within a run (Telegram's are increasing too). */
export const nextUpdateId = () => updateId++;
const date = () => Math.floor(Date.now() / 1000);
export function from(id: number) {
  return { id, is_bot: false as const, first_name: "Bench", language_code: "vi" };
}
export function text(id: number, t: string): Omit<Update, "update_id"> {
  const entities = t.startsWith("/") ? [{ type: "bot_command" as const, offset: 0, length: t.split(" ")[0]!.length }] : undefined;
  return { message: { message_id: messageId++, date: date(), chat: { id, type: "private", first_name: "Bench" }, from: from(id), text: t, ...(entities ? { entities } : {}) } as never };
}
let cbq = 0;
export function press(id: number, data: string, message: Message | undefined): Omit<Update, "update_id"> {
  return { callback_query: { id: `b${++cbq}`, from: from(id), chat_instance: "bench", data, message: message as never } };
}

/** Thirteen updates: the whole registration, answered like a person would. */
export function registrationScript(place: { provinceCode: string; query: string; communeCode: string }): Step[] {
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


export interface RunResult {
  updates: number;
  seconds: number;
  latencies: number[];
  /** Total milliseconds spent per script step, to spot the slow one. */
  byStep: number[];
  /** Every latency, per script step. */
  perStep: number[][];
}

/** A bot behind its webhook: `handleUpdate` resolves once the bot has answered the POST. */
export interface Target {
  handleUpdate(update: Update): Promise<void>;
  /** Answers other than 200 (the bot failed or timed out on an update). */
  failures: number;
}

export function webhookTarget(url: string, secret: string): Target {
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

export async function drive(bot: Target, fake: FakeTelegram, scripts: Step[][], firstUserId: number, think?: [number, number]): Promise<RunResult> {
  const latencies: number[] = [];
  const byStep: number[] = [];
  const perStep: number[][] = [];
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
        const update = { ...step(userId, lastBotMessage(userId)), update_id: nextUpdateId() } as Update;
        fake.registerUpdate(update);
        const before = fake.calls.length;
        const start = performance.now();
        await bot.handleUpdate(update);
        const ms = performance.now() - start;
        for (const c of fake.calls.slice(before)) stepOf.set(c, n);
        latencies.push(ms);
        byStep[n] = (byStep[n] ?? 0) + ms;
        (perStep[n] ??= []).push(ms);
      }
    }),
  );
  return { updates: latencies.length, seconds: (performance.now() - t0) / 1000, latencies, byStep, perStep };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * What our bot sent or edited in one chat, grouped by the update (script step) that caused it.
 * An edit names its message by position among the bot's sent messages, so the reference edits
 * the same one of its own.
 */
export function repliesByStep(fake: FakeTelegram, chatId: number, steps: number): Reply[][] {
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
export const stepOf = new WeakMap<object, number>();

/**
 * A redis-server on a loopback port for both bots (the bot's own private Redis listens on a unix
 * socket that the reference could not share). AOF on, as in production.
 */
export async function startTcpRedis(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"], { stdio: "ignore" });
  // A benchmark that fails half-way must not leave its redis-server behind.
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  await waitForPort(port, child, "redis-server");
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      process.off("exit", killOnExit);
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}

export function collectOutput(child: ChildProcess): string[] {
  const output: string[] = [];
  child.stdout?.on("data", (b: Buffer) => output.push(b.toString()));
  child.stderr?.on("data", (b: Buffer) => output.push(b.toString()));
  return output;
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

export interface BotUnderTest {
  command: string;
  /** The node process running main.ts/main.js (npm and sh are its parents). */
  pid: number;
  target: Target;
  /** All processes the command started, for the process-tree figure. */
  treeRssMb(): number;
  stop(): Promise<void>;
}

/** The bot as `npm start` runs it, in webhook mode on a loopback port; resolves once /healthz answers. */
export async function startBot(api: FakeBotApiServer, dataDir: string, redisUrl: string, databaseUrl: string | undefined, extraEnv: NodeJS.ProcessEnv = {}): Promise<BotUnderTest> {
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
    ...extraEnv,
  };
  if (process.env.BENCH_PROFILE) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE)}`;
  const child = spawn(bin!, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const output = collectOutput(child);
  // BENCH_ECHO=1: the bot's own error output on the bench's (e.g. KHB_DEBUG_TIMING lines).
  if (process.env.BENCH_ECHO) for (const s of [child.stderr, child.stdout]) s?.on("data", (b: Buffer) => process.stderr.write(b));
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


/**
 * A reference bot (`script`, e.g. bench/reference-bot.ts) in its own process behind a webhook on a
 * loopback port; it prints "listening <port>" when ready. `env` adds its own REF_* settings.
 */
export async function startReferenceProcess(script: string, api: FakeBotApiServer, redisUrl: string, env: NodeJS.ProcessEnv = {}): Promise<{ pid: number; target: Target; stop(): Promise<void> }> {
  const secret = randomBytes(24).toString("hex");
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: ROOT,
    env: { ...process.env, REF_API_ROOT: api.url, REF_REDIS_URL: redisUrl, REF_KEY_PREFIX: `bench:${process.pid}:${Date.now()}:`, REF_SECRET: secret, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = collectOutput(child);
  if (process.env.BENCH_ECHO) child.stderr?.on("data", (b: Buffer) => process.stderr.write(b));
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

/** A bench's database: PGlite under the scratch directory, or BENCH_DATABASE_URL emptied first. */
export interface BenchLane {
  /** Runs SQL against the bench database while no bot holds it (PGlite is single-process). */
  withDb<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  databaseUrl?: string;
  dataDir: string;
}

/** Opens the lane, migrated and with the administrative units loaded. */
export async function makeBenchLane(scratch: string): Promise<BenchLane> {
  const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
  const dataDir = path.join(scratch, "data");
  const withDb = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
    const db = await openDatabase({ url: databaseUrl, pgliteDir: path.join(dataDir, "pglite") });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  if (databaseUrl) {
    // An empty database each run: drop what an earlier run left.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    await client.end();
  }
  await withDb(async (db) => {
    await applyMigrations(db);
    await seedAdminUnits(db.prisma);
  });
  return { withDb, databaseUrl, dataDir };
}

/**
 * The bench's database: BENCH_LANE=pglite (default; a fresh PGlite under `scratch`) or postgres
 * with BENCH_DATABASE_URL (an empty scratch database; the default lane when that URL is set).
 */
export async function openBenchDatabase(scratch: string): Promise<Database> {
  const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
  const lane = process.env.BENCH_LANE ?? (databaseUrl ? "postgres" : "pglite");
  if (lane === "postgres") {
    if (!databaseUrl) throw new Error("BENCH_LANE=postgres needs BENCH_DATABASE_URL (an empty scratch database)");
    return openDatabase({ url: databaseUrl });
  }
  if (lane !== "pglite") throw new Error(`BENCH_LANE must be pglite or postgres, not ${lane}`);
  return openDatabase({ pgliteDir: path.join(scratch, "data", "pglite") });
}
