import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Database } from "../../src/infra/database.js";
import { createHealthCheck } from "../../src/infra/health.js";
import { createRedis, type Redis } from "../../src/infra/redis.js";
import { openTestDatabase } from "../support/database.js";

let db: Database;
let redis: Redis;

beforeAll(async () => {
  db = await openTestDatabase();
  redis = createRedis(inject("redisUrl"));
});
afterAll(async () => {
  redis.disconnect();
  await db.close();
});

const pings = async () => Number(/cmdstat_ping:calls=(\d+)/.exec(await redis.info("commandstats"))?.[1] ?? 0);

describe("/healthz", () => {
  it("checks Redis and the database once per few seconds however often it is asked", async () => {
    const check = createHealthCheck(redis, db, { cacheMs: 60_000 });
    const before = await pings();
    await Promise.all(Array.from({ length: 200 }, () => check()));
    await check();
    expect((await pings()) - before).toBe(1);
  });

  it("fails when a service does not answer", async () => {
    const away = createRedis("redis://127.0.0.1:1", { lazyConnect: true, retryStrategy: () => null });
    away.on("error", () => undefined);
    const check = createHealthCheck(away, db, { timeoutMs: 1_000, cacheMs: 0 });
    await expect(check()).rejects.toThrow();
    away.disconnect();
  });
});
