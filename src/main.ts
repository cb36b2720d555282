// First: every handler the features register goes through this branch (see the module).
import "./bot/fast-branch.js";
import { run, type RunnerHandle } from "@grammyjs/runner";
import dotenv from "dotenv";
import { Api, GrammyError, HttpError } from "grammy";
import type { Server } from "node:http";
import path from "node:path";
import { setBotProfile, setChatMenu, setCommandMenus } from "./bot/commands.js";
import { createDeps } from "./bot/deps.js";
import { createBot } from "./bot/index.js";
import { ConfigError, parseConfig, type Config } from "./config.js";
import { createI18n } from "./i18n.js";
import { openDatabase, type Database } from "./infra/database.js";
import { DataDirInUseError, lockDataDir } from "./infra/data-lock.js";
import { ErasureCompactor } from "./infra/erasure-compaction.js";
import { createHealthCheck } from "./infra/health.js";
import { prepareDatabase, prepareInChild } from "./infra/prepare-database.js";
import {
  createRedis, RedisNotInstalledError, RedisSocketPathTooLongError, startLocalRedis, type LocalRedis, type Redis, type RedisConnection,
} from "./infra/redis.js";
import { createLogger, type Logger } from "./logger.js";
import { createQueueRedis } from "./infra/queue-redis.js";
import { openQueues } from "./jobs/queues.js";
import { startDelivery } from "./jobs/start-delivery.js";
import { createMetrics } from "./infra/metrics.js";
import { closeServer, createStatusServer, listen } from "./server/status.js";
import { createWebhookServer, WEBHOOK_MAX_CONNECTIONS, WEBHOOK_PATH } from "./server/webhook.js";
import { botApiFetch } from "./infra/http-fetch.js";
import { collectWhenQuiet } from "./infra/quiet-collection.js";

/**
 * Tables that hold personal data: vacuumed after erasures. Not the delivery ledger: it grows with
 * every broadcast, and VACUUM FULL would lock it (and every send) for long; its erased rows hold
 * only a chat id and a state, and their space is reused by autovacuum.
 */
const PERSONAL_TABLES = ["users", "learning_citizens", "consents", "audit_log", "officer_invites", "topic_mutes", "broadcasts"];

export const ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "poll_answer"] as const;

function fail(line: string): never {
  process.stderr.write(line + "\n");
  process.exit(1);
}

function loadConfig(): Config {
  dotenv.config({ quiet: true });
  if (!process.env.BOT_TOKEN) {
    fail("BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), then run BOT_TOKEN=<token> npm start (or put BOT_TOKEN=<token> in .env).");
  }
  try {
    return parseConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(`Invalid configuration:\n${e.message}`);
    throw e;
  }
}

/** What to undo at shutdown, in reverse order of setting up; also used when start-up fails. */
const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];
let stopping = false;

async function shutdown(logger: Logger | undefined, reason: string, code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    logger?.info({ reason }, "shutting down");
    // Stop taking updates, let in-flight ones finish, then close storage in order.
    for (const step of cleanups.reverse()) {
      await step.run().catch((err: unknown) => logger?.warn({ err, step: step.name }, "shutdown step failed"));
    }
    logger?.info("stopped");
    logger?.flush?.();
  }
  process.exit(code);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // From here on a signal, even during start-up, cleans up (a private redis-server included).
  process.once("SIGINT", () => void shutdown(logger, "SIGINT", 0));
  process.once("SIGTERM", () => void shutdown(logger, "SIGTERM", 0));
  try {
    await start(config, logger);
  } catch (e) {
    logger.fatal({ err: e }, "start-up failed");
    process.stderr.write(`${describeStartupError(e, config)}\n`);
    await shutdown(logger, "start-up failed", 1);
  }
}

const TELEGRAM_CONNECT_TIMEOUT_MS = 30_000;
class TelegramUnreachable extends Error {}

function describeStartupError(e: unknown, config: Config): string {
  if (e instanceof DataDirInUseError) {
    return `Another khuyenhoc-bot (process ${e.pid}) is already running with DATA_DIR=${e.dir}: stop it first, or give this one another DATA_DIR (if no bot runs, delete ${e.dir}/.lock).`;
  }
  if (e instanceof TelegramUnreachable) {
    return `Cannot reach the Telegram Bot API at ${config.botApiRoot} within ${TELEGRAM_CONNECT_TIMEOUT_MS / 1000} s: check the network, or BOT_API_ROOT.`;
  }
  if (e instanceof HttpError) return `Cannot reach the Telegram Bot API at ${config.botApiRoot}: ${e.message}. Check the network, or BOT_API_ROOT.`;
  if (e instanceof GrammyError && e.error_code === 401) return "Telegram refused BOT_TOKEN (401 Unauthorized): check the token from @BotFather.";
  return `Start-up failed: ${e instanceof Error ? e.message : String(e)}`;
}

async function start(config: Config, logger: Logger): Promise<void> {
  // The embedded database and the private redis-server live in DATA_DIR: one bot at a time.
  if (!config.databaseUrl || !config.redisUrl) {
    const unlock = lockDataDir(config.dataDir);
    cleanups.push({ name: "data directory lock", run: async () => unlock() });
  }
  let redisConnection: RedisConnection | undefined = config.redisUrl ? { url: config.redisUrl } : undefined;
  if (!redisConnection) {
    const redisDir = path.join(config.dataDir, "redis");
    let localRedis: LocalRedis;
    try {
      localRedis = await startLocalRedis(config.redisServerBin, redisDir, {
        // Nobody restarts the private Redis: end, so the supervisor restarts the whole bot.
        onUnexpectedExit: (detail) => {
          if (stopping) return;
          logger.fatal({ detail }, "local redis-server ended");
          void shutdown(logger, "local redis-server ended", 1);
        },
      });
    } catch (e) {
      if (e instanceof RedisNotInstalledError) {
        fail("redis-server is not installed: install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL=redis://host:6379 to use a running Redis.");
      }
      if (e instanceof RedisSocketPathTooLongError) fail(`DATA_DIR is too deep: ${e.message}.`);
      throw e;
    }
    cleanups.push({ name: "local redis-server", run: () => localRedis.stop() });
    redisConnection = localRedis.connection;
    logger.info({ socket: localRedis.connection.path, pid: localRedis.pid }, "started local redis-server (AOF, unix socket)");
  }
  const redis: Redis = createRedis(redisConnection, { outageLog: logger });
  cleanups.push({ name: "redis", run: () => redis.quit().catch(() => redis.disconnect()) });
  if (config.autoMigrate && !config.databaseUrl) {
    // The embedded database is created and migrated in a child process, so the memory that takes
    // is given back when it ends (see prepareInChild).
    const preparing = prepareInChild(path.join(config.dataDir, "pglite"));
    const stopPreparing = { name: "database preparation", run: async () => preparing.stop() };
    cleanups.push(stopPreparing);
    const prepared = await preparing.done;
    cleanups.splice(cleanups.indexOf(stopPreparing), 1);
    logger.info({ lane: "pglite", ...prepared }, "database ready");
  }
  const db: Database = await openDatabase({
    url: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, "pglite"),
    onIdleError: (err) => logger.warn({ err }, "idle database connection lost; the pool replaces it"),
  });
  cleanups.push({ name: "database", run: () => db.close() });
  if (config.autoMigrate && config.databaseUrl) {
    logger.info({ lane: db.lane, ...(await prepareDatabase(db)) }, "database ready");
  }

  const i18n = await createI18n();
  const queues = openQueues(createQueueRedis(redisConnection, "queue"), config.queuePrefix);
  cleanups.push({ name: "delivery queues", run: () => queues.close() });
  const deps = createDeps({
    prisma: db.prisma, read: db.read, lane: db.lane, redis, i18n, logger, adminIds: config.adminIds, inviteTtlHours: config.inviteTtlHours, queues,
    approvalThreshold: config.approvalThreshold,
    learningUnitChecklistFile: config.criteriaFiles.learningUnitChecklist, learningFamilyCriteriaFile: config.criteriaFiles.learningFamilyCriteria,
  });
  // After an erasure, the copies Redis's AOF and the database's files still hold are rewritten.
  const compactor = new ErasureCompactor({ redis, db, logger, tables: PERSONAL_TABLES });
  await compactor.resume();
  deps.services.privacy.onErased(() => compactor.erasureHappened());
  cleanups.push({ name: "erasure compaction", run: () => compactor.flush().then(() => compactor.close()) });
  const metrics = createMetrics();
  const health = createHealthCheck(redis, db);
  const bot = createBot(config.botToken, deps, { client: { apiRoot: config.botApiRoot, fetch: botApiFetch } }, { metrics });
  bot.catch((err) => logger.error({ err: err.error, update_id: err.ctx.update.update_id }, "unhandled bot error"));

  // Network errors are retried without end by auto-retry; at start-up that would be a silent hang.
  logger.info({ apiRoot: config.botApiRoot }, "connecting to the Telegram Bot API");
  await Promise.race([
    bot.init(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new TelegramUnreachable()), TELEGRAM_CONNECT_TIMEOUT_MS).unref()),
  ]);
  await setCommandMenus(bot.api, i18n).catch((err: unknown) => logger.warn({ err }, "could not set command menus"));
  await setBotProfile(bot.api, i18n).catch((err: unknown) => logger.warn({ err }, "could not set the bot's description"));
  for (const id of config.adminIds) {
    // Fails for an admin who has not opened the bot yet; their menu comes with the next start.
    await setChatMenu(bot.api, i18n, Number(id), "admin").catch((err: unknown) => logger.info({ err, admin: id }, "could not set an admin's menu"));
  }

  if (config.embeddedWorker) {
    // Its own Api: no auto-retry (a 429 pauses the whole queue instead), no reply plugins.
    const workerRedis = createQueueRedis(redisConnection, "worker", logger);
    const worker = await startDelivery({
      deps, prisma: db.prisma, workerRedis, prefix: config.queuePrefix,
      api: new Api(config.botToken, { apiRoot: config.botApiRoot, fetch: botApiFetch }),
      delivery: config.delivery, logger, metrics, lane: db.lane,
    });
    // Closed before the queues and Redis (cleanups run in reverse): in-flight sends are recorded first.
    cleanups.push({ name: "delivery worker", run: () => worker.close().finally(() => workerRedis.disconnect()) });
  }

  // Telegram confirms updates only when the next getUpdates asks past them, and the runner does
  // not do that on stop: remember what was handled, and confirm it at shutdown, so a restart
  // does not handle the last batch twice.
  let lastHandled = -1;
  // An idle bot gives back what start-up or a busy spell grew (see quiet-collection.ts).
  const quiet = config.quietGcSeconds > 0 ? collectWhenQuiet({ quietMs: config.quietGcSeconds * 1000 }) : undefined;
  if (quiet) cleanups.push({ name: "quiet-time collection", run: async () => quiet.stop() });
  const handleUpdate = bot.handleUpdate.bind(bot);
  bot.handleUpdate = (update, envelope) => {
    lastHandled = Math.max(lastHandled, update.update_id);
    quiet?.touch();
    return handleUpdate(update, envelope);
  };

  if (config.mode.kind === "webhook") {
    const mode = config.mode;
    // Keep any path of WEBHOOK_URL (a reverse proxy may route by prefix).
    await bot.api.setWebhook(mode.url.replace(/\/+$/, "") + WEBHOOK_PATH, {
      secret_token: mode.secret,
      allowed_updates: [...ALLOWED_UPDATES],
      max_connections: WEBHOOK_MAX_CONNECTIONS,
    });
    const server: Server = createWebhookServer(bot, mode.secret, logger, health, metrics);
    await listen(server, mode.port, mode.host);
    cleanups.push({ name: "webhook server", run: () => closeServer(server) });
    logger.info({ mode: "webhook", host: mode.host, port: mode.port, bot: bot.botInfo.username }, "bot started");
  } else {
    // A taken port fails before any update is taken.
    if (config.http) {
      const status = createStatusServer({ health, metrics, logger });
      await listen(status, config.http.port, config.http.host);
      cleanups.push({ name: "status server", run: () => closeServer(status) });
      logger.info({ host: config.http.host, port: config.http.port }, "serving /healthz and /metrics");
    }
    await bot.api.deleteWebhook();
    const runner: RunnerHandle = run(bot, { runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES] } } });
    cleanups.push({
      name: "polling",
      run: async () => {
        if (runner.isRunning()) await runner.stop();
        if (lastHandled >= 0) await bot.api.getUpdates({ offset: lastHandled + 1, limit: 1, timeout: 0 });
      },
    });
    logger.info({ mode: "polling", bot: bot.botInfo.username }, "bot started");
    runner.task()?.catch((err: unknown) => {
      logger.fatal({ err }, "polling stopped");
      void shutdown(logger, "polling stopped", 1);
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
