import type { Redis } from "ioredis";
import type { Database } from "./database.js";

/** Checks the services the bot needs; throws when one does not answer. */
export type HealthCheck = () => Promise<void>;

/**
 * Redis and the database answer within `timeoutMs`. The result is kept for `cacheMs`: the
 * endpoint is public, and a flood of checks must not become a flood of queries.
 */
export function createHealthCheck(redis: Redis, db: Database, { timeoutMs = 3_000, cacheMs = 5_000 } = {}): HealthCheck {
  let last: { at: number; result: Promise<void> } | undefined;
  const probe = async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("health check timed out")), timeoutMs);
    });
    try {
      await Promise.race([Promise.all([redis.ping(), db.prisma.$queryRawUnsafe("SELECT 1")]), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return () => {
    const now = Date.now();
    if (!last || now - last.at > cacheMs) {
      const result = probe();
      result.catch(() => undefined);
      last = { at: now, result };
    }
    return last.result;
  };
}
