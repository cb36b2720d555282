/**
 * The delivery worker alone (`npm run worker`): the same services as the bot, sends and schedules,
 * takes no updates. For deployments that run several bot and worker processes on one Redis and one
 * PostgreSQL; `npm start` runs a worker inside the bot by default (EMBEDDED_WORKER=true).
 */
import dotenv from "dotenv";
import { Api } from "grammy";
import { createDeps } from "./bot/deps.js";
import { ConfigError, parseConfig, type Config } from "./config.js";
import { createI18n } from "./i18n.js";
import { openDatabase } from "./infra/database.js";
import { createHealthCheck } from "./infra/health.js";
import { createMetrics } from "./infra/metrics.js";
import { createQueueRedis } from "./infra/queue-redis.js";
import { createRedis } from "./infra/redis.js";
import { openQueues } from "./jobs/queues.js";
import { startDelivery } from "./jobs/start-delivery.js";
import { createLogger, type Logger } from "./logger.js";
import { closeServer, createStatusServer, listen } from "./server/status.js";
import { botApiFetch } from "./infra/http-fetch.js";

function fail(line: string): never {
  process.stderr.write(line + "\n");
  process.exit(1);
}

function loadConfig(): Config {
  dotenv.config({ quiet: true });
  try {
    const config = parseConfig(process.env);
    // The embedded Redis and PGlite belong to one bot process; a separate worker needs servers.
    if (!config.redisUrl || !config.databaseUrl) {
      fail("npm run worker needs REDIS_URL and DATABASE_URL (a shared Redis and PostgreSQL). With the embedded defaults, `npm start` runs the worker inside the bot.");
    }
    return config;
  } catch (e) {
    if (e instanceof ConfigError) fail(`Invalid configuration:\n${e.message}`);
    throw e;
  }
}

const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];
let stopping = false;

async function shutdown(logger: Logger, reason: string, code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    logger.info({ reason }, "shutting down");
    // In-flight sends finish and are recorded before the queues, the database and Redis close.
    for (const step of cleanups.reverse()) {
      await step.run().catch((err: unknown) => logger.warn({ err, step: step.name }, "shutdown step failed"));
    }
    logger.info("stopped");
    logger.flush?.();
  }
  process.exit(code);
}

async function start(config: Config, logger: Logger): Promise<void> {
  const connection = { url: config.redisUrl! };
  const redis = createRedis(connection, { outageLog: logger });
  cleanups.push({ name: "redis", run: () => redis.quit().catch(() => redis.disconnect()) });
  const db = await openDatabase({ url: config.databaseUrl, onIdleError: (err) => logger.warn({ err }, "idle database connection lost") });
  cleanups.push({ name: "database", run: () => db.close() });
  const queues = openQueues(createQueueRedis(connection, "queue"), config.queuePrefix);
  cleanups.push({ name: "delivery queues", run: () => queues.close() });
  const deps = createDeps({
    prisma: db.prisma, read: db.read, lane: db.lane, redis, i18n: await createI18n(), logger, adminIds: config.adminIds, queues,
    approvalThreshold: config.approvalThreshold,
    learningUnitChecklistFile: config.criteriaFiles.learningUnitChecklist, learningFamilyCriteriaFile: config.criteriaFiles.learningFamilyCriteria,
  });
  const metrics = createMetrics();
  const workerRedis = createQueueRedis(connection, "worker", logger);
  const worker = await startDelivery({
    deps, prisma: db.prisma, workerRedis, prefix: config.queuePrefix,
    api: new Api(config.botToken, { apiRoot: config.botApiRoot, fetch: botApiFetch }), delivery: config.delivery, logger, metrics,
  });
  cleanups.push({ name: "delivery worker", run: () => worker.close().finally(() => workerRedis.disconnect()) });
  if (config.http) {
    const status = createStatusServer({ health: createHealthCheck(redis, db), metrics, logger });
    await listen(status, config.http.port, config.http.host);
    cleanups.push({ name: "status server", run: () => closeServer(status) });
  }
  logger.info({ pid: process.pid }, "worker started");
}

const config = loadConfig();
const logger = createLogger(config.logLevel);
process.once("SIGINT", () => void shutdown(logger, "SIGINT", 0));
process.once("SIGTERM", () => void shutdown(logger, "SIGTERM", 0));
start(config, logger).catch(async (err: unknown) => {
  logger.fatal({ err }, "worker start-up failed");
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown(logger, "start-up failed", 1);
});
