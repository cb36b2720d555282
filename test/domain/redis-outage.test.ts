import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { createRedis, startLocalRedis, type LocalRedis, type Redis } from "../../src/infra/redis.js";
import { isStorageUnavailable } from "../../src/infra/unavailable.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "khb-outage-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function local(dir: string): Promise<LocalRedis> {
  const r = await startLocalRedis("redis-server", dir);
  cleanups.push(() => r.stop());
  return r;
}

function client(connection: Parameters<typeof createRedis>[0], log?: string[]): Redis {
  const c = createRedis(connection, {
    outageLog: { warn: (_o, msg) => log?.push(`warn ${msg}`), info: (_o, msg) => log?.push(`info ${msg}`) },
  });
  cleanups.push(async () => c.disconnect());
  return c;
}

async function failure(p: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const t = Date.now();
  try {
    await p;
  } catch (err) {
    return { err, ms: Date.now() - t };
  }
  throw new Error("the command succeeded while Redis was down");
}

describe("a Redis client while Redis is away", () => {
  it("fails a command within a second with an error isStorageUnavailable recognises, and recovers by itself", async () => {
    const dir = tempDir();
    const log: string[] = [];
    const first = await local(dir);
    const redis = client(first.connection, log);
    await redis.set("greeting", "xin chào");
    await first.stop();

    // Right after the stop (the client may not have noticed yet), and again once it has.
    for (let i = 0; i < 3; i++) {
      const { err, ms } = await failure(redis.get("greeting"));
      expect(ms).toBeLessThan(1000);
      expect(isStorageUnavailable(err)).toBe(true);
    }
    expect(log).toEqual(["warn redis unavailable; reconnecting every 500 ms"]);

    await local(dir); // the same socket path, the same AOF
    const deadline = Date.now() + 5000;
    let value: string | null | undefined;
    while (Date.now() < deadline) {
      value = await redis.get("greeting").catch(() => undefined);
      if (value !== undefined) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(value).toBe("xin chào");
    // One line down, one line back: not one per failed command or reconnect attempt.
    expect(log).toEqual(["warn redis unavailable; reconnecting every 500 ms", "info redis is back"]);
  });

  it("fails within a second when Redis was never reachable", async () => {
    const redis = client({ path: path.join(tempDir(), "nobody-listens.sock") });
    const { err, ms } = await failure(redis.get("x"));
    expect(ms).toBeLessThan(1000);
    expect(isStorageUnavailable(err)).toBe(true);
  });

  it("connects to a URL as before", async () => {
    const redis = client(inject("redisUrl"));
    expect(await redis.ping()).toBe("PONG");
  });
});
