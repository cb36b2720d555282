import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { Redis, type RedisOptions } from "ioredis";

export { Redis };

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3, enableAutoPipelining: true, ...options });
}

export class RedisNotInstalledError extends Error {}

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a private redis-server for the embedded default: loopback only, AOF persistence under
 * `dir`, `noeviction` (job queues need it). Stopped by `stop()` or when this process exits.
 */
export async function startLocalRedis(bin: string, dir: string): Promise<LocalRedis> {
  const probe = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new RedisNotInstalledError(bin);
  const abs = path.resolve(dir);
  mkdirSync(abs, { recursive: true });
  const port = await freePort();
  const child = spawn(
    bin,
    [
      "--bind", "127.0.0.1", "--port", String(port), "--dir", abs,
      "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
      "--maxmemory-policy", "noeviction", "--protected-mode", "yes", "--daemonize", "no",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  child.stdout?.on("data", (b: Buffer) => output.push(b.toString()));
  child.stderr?.on("data", (b: Buffer) => output.push(b.toString()));
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  const url = `redis://127.0.0.1:${port}`;
  await waitForPing(url, child, output);
  return {
    url,
    stop: () => stopChild(child).finally(() => process.off("exit", killOnExit)),
  };
}

async function waitForPing(url: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output.join("").trim()}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      await client.connect();
      // AOF rewrite on start can answer LOADING for a moment; PING only succeeds once ready.
      if ((await client.ping()) === "PONG") return;
    } catch {
      // not listening yet
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer within 15 s: ${output.join("").trim()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}
