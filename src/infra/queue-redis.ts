import { createRedis, type OutageLog, type Redis, type RedisConnection } from "./redis.js";

/**
 * Redis connections for BullMQ (it refuses ioredis' keyPrefix; use the queue prefix instead).
 * - "queue": the update path adds jobs with it: it fails fast while Redis is away, so the person
 *   hears "try again" at once instead of waiting (the ledger row is written in the same step).
 * - "worker": workers block on Redis and must wait out an outage: BullMQ requires
 *   maxRetriesPerRequest: null, no command timeout and an offline queue.
 */
export function createQueueRedis(connection: string | RedisConnection, use: "queue" | "worker", outageLog?: OutageLog): Redis {
  if (use === "queue") return createRedis(connection, { commandTimeout: 5_000, outageLog });
  return createRedis(connection, { maxRetriesPerRequest: null, commandTimeout: undefined, enableOfflineQueue: true, outageLog });
}
