import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { buildPgliteDumps, buildPostgresTemplate, type PgliteDumps } from "./database-templates.js";
import { freePort, waitForPort } from "./ports.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    /** Admin URL of the throwaway PostgreSQL server (postgres lane only). */
    postgresUrl: string | null;
    /** Data-dir tarballs of an empty and a migrated, seeded PGlite (pglite lane only). */
    pgliteDumps: PgliteDumps | null;
    /** A migrated, seeded template database on that server (postgres lane only). */
    postgresTemplate: string | null;
  }
}

/**
 * Starts the real services the tests use: a redis-server and, for the postgres lane, a
 * PostgreSQL cluster in a temp directory on a loopback port. TEST_REDIS_URL / TEST_POSTGRES_URL
 * point the tests at running servers instead. Then it migrates and seeds one database of the
 * project's lane, which every test file copies (test/support/database.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    await startServices(project, stops);
  } catch (e) {
    // Vitest gets no teardown when setup throws: stop what already started.
    await stopAll();
    throw e;
  }
  return stopAll;
}

async function startServices(project: TestProject, stops: Array<() => Promise<void>>): Promise<void> {
  const redisUrl = process.env.TEST_REDIS_URL ?? (await startRedis(stops));
  project.provide("redisUrl", redisUrl);
  const lane = project.config.env?.TEST_DB_LANE ?? process.env.TEST_DB_LANE ?? "pglite";
  const postgresUrl = lane === "postgres" ? (process.env.TEST_POSTGRES_URL ?? (await startPostgres(stops))) : null;
  project.provide("postgresUrl", postgresUrl);
  if (postgresUrl) {
    const template = await buildPostgresTemplate(postgresUrl);
    stops.push(template.drop);
    project.provide("postgresTemplate", template.name);
    project.provide("pgliteDumps", null);
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), "khb-dumps-"));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    project.provide("pgliteDumps", await buildPgliteDumps(dir));
    project.provide("postgresTemplate", null);
  }
}

async function startRedis(stops: Array<() => Promise<void>>): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), "khb-redis-"));
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"], { stdio: "ignore" });
  child.on("error", (e) => {
    throw new Error(`cannot start redis-server (apt-get install redis-server): ${e.message}`);
  });
  stops.push(() => stopProcess(child).then(() => rmSync(dir, { recursive: true, force: true })));
  await waitForPort(port, child, "redis-server");
  return `redis://127.0.0.1:${port}`;
}

function pgBinDir(): string {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) throw new Error("PostgreSQL server binaries not found (apt-get install postgresql)");
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0];
  return path.join(base, version!, "bin");
}

async function startPostgres(stops: Array<() => Promise<void>>): Promise<string> {
  const bin = pgBinDir();
  const dir = mkdtempSync(path.join(tmpdir(), "khb-pg-"));
  const data = path.join(dir, "data");
  // PostgreSQL refuses to run as root: use the postgres system user when we are root.
  const asRoot = process.getuid?.() === 0;
  const pgUser = asRoot ? spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }) : undefined;
  if (asRoot) {
    const uid = Number(pgUser?.stdout.trim());
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const wrap = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args]);
  const [icmd, iargs] = wrap(path.join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const init = spawnSync(icmd, iargs, { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const [pcmd, pargs] = wrap(path.join(bin, "postgres"), ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"]);
  const child = spawn(pcmd, pargs, { stdio: "ignore" });
  stops.push(() => stopProcess(child).then(() => rmSync(dir, { recursive: true, force: true })));
  await waitForPort(port, child, "postgres");
  // Accepting TCP is not yet accepting queries: wait until a query succeeds.
  const pg = (await import("pg")).default;
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  for (let i = 0; i < 100; i++) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      return url;
    } catch {
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("PostgreSQL did not accept queries");
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5000).unref();
  });
}
