import type { Api } from "grammy";
import type { Deps } from "../bot/context.js";
import type { DeliveryConfig } from "../config.js";
import type { Metrics } from "../infra/metrics.js";
import type { Redis } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { DeliveryWorker, type DeliveryObserver } from "./delivery-worker.js";

export function metricsObserver(metrics: Metrics): DeliveryObserver {
  return {
    outcome: (kind, outcome) => metrics.sends.inc({ kind, outcome }),
    rateLimited: (seconds) => {
      metrics.rateLimited.inc();
      metrics.pausedSeconds.inc(seconds);
    },
    lateness: (seconds) => metrics.lateness.observe(seconds),
  };
}

export interface StartDeliveryInput {
  deps: Deps;
  prisma: PrismaClient;
  /** A BullMQ worker connection (createQueueRedis(…, "worker")). */
  workerRedis: Redis;
  prefix: string;
  api: Api;
  delivery: DeliveryConfig;
  logger: Logger;
  metrics?: Metrics;
  /** Which database: the embedded PGlite gathers ledger statements a little longer. */
  lane?: "pglite" | "postgres";
}

/**
 * Starts the delivery workers of this process and gives back every (kind, ref) the ledger says is
 * still open (after a crash or while no worker ran), so nothing due is forgotten.
 */
export async function startDelivery(input: StartDeliveryInput): Promise<DeliveryWorker> {
  const { deps } = input;
  const worker = new DeliveryWorker({
    ledger: deps.ledger,
    kinds: deps.deliveryKinds,
    queues: deps.deliveries.queues,
    connection: input.workerRedis,
    prefix: input.prefix,
    api: input.api,
    logger: input.logger,
    now: deps.now,
    ratePerSecond: input.delivery.ratePerSecond,
    paidBroadcast: input.delivery.paidBroadcast,
    // PGlite runs every statement on this event loop: at paid rates, fewer and larger statements
    // (gathered for 25 ms, with enough rows in flight to cover the wait).
    ...(input.lane === "pglite" && input.delivery.ratePerSecond >= 100
      ? { batchDelayMs: 25, inFlight: Math.ceil(input.delivery.ratePerSecond / 3) }
      : {}),
    observer: input.metrics ? metricsObserver(input.metrics) : undefined,
    periodic: deps.periodic.list(),
  });
  const resumed = await deps.deliveries.resumeOpen();
  input.logger.info({ resumed, rate: input.delivery.ratePerSecond, paid: input.delivery.paidBroadcast }, "delivery worker started");
  input.metrics?.setQueueProbe(async () => {
    const counts = await deps.deliveries.queues.send.getJobCounts("waiting", "prioritized", "delayed", "active");
    const rows = await input.prisma.$queryRawUnsafe<Array<{ age: number | null }>>(
      `SELECT EXTRACT(EPOCH FROM ($1::timestamp - min(due_at)))::float8 AS age FROM deliveries WHERE state = 'queued' AND due_at <= $1::timestamp`,
      deps.now().toISOString().replace("Z", ""),
    );
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      delayed: counts.delayed ?? 0,
      active: counts.active ?? 0,
      oldestDueAgeSeconds: Math.max(0, rows[0]?.age ?? 0),
    };
  });
  return worker;
}
