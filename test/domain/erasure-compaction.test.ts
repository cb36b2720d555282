import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { openDatabase, type Database } from "../../src/infra/database.js";
import { ERASURE_PENDING_KEY, ErasureCompactor } from "../../src/infra/erasure-compaction.js";
import { applyMigrations } from "../../src/infra/migrate.js";
import { createRedis, startLocalRedis, type Redis } from "../../src/infra/redis.js";
import { currentLane, openTestDatabase } from "../support/database.js";

const TABLES = ["users", "learning_citizens", "consents", "audit_log", "officer_invites"];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`, as bytes decoded as latin1 (AOF and RDB are binary-safe that way). */
function allFiles(dir: string): Array<{ file: string; text: string }> {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((file) => ({ file: path.relative(dir, file), text: readFileSync(file, "latin1") }));
}

const filesContaining = (dir: string, needle: string) => allFiles(dir).filter((f) => f.text.includes(needle)).map((f) => f.file);

function recorder() {
  const lines: string[] = [];
  return { lines, logger: { info: (_o: object, msg: string) => lines.push(`info ${msg}`), warn: (_o: object, msg: string) => lines.push(`warn ${msg}`) } };
}

async function privateRedis(): Promise<{ redis: Redis; dir: string }> {
  const dir = tempDir("khb-aof-");
  const local = await startLocalRedis("redis-server", dir);
  cleanups.push(() => local.stop());
  const redis = createRedis(local.connection);
  cleanups.push(async () => redis.disconnect());
  return { redis, dir };
}

/** A Database whose SQL only counts, for the Redis-side tests. */
const noDb = (): Pick<Database, "exec" | "lane" | "prisma"> & { sql: string[] } => {
  const sql: string[] = [];
  return { sql, lane: "postgres", prisma: undefined as unknown as Database["prisma"], exec: async (s) => void sql.push(s) };
};

describe("erasure compaction", () => {
  it("rewrites Redis's AOF so an erased person's name is in none of its files", async () => {
    const { redis, dir } = await privateRedis();
    const name = "Trần Văn Erasable Quý";
    // A conversation step after step: each write appends a copy to the AOF.
    await redis.set("conv:7001", JSON.stringify({ step: 1, name }));
    await redis.set("conv:7001", JSON.stringify({ step: 2, name, year: 1990 }));
    await redis.set("keep:marker", "still-here"); // what must survive the rewrite
    await redis.del("conv:7001");
    // appendfsync everysec: wait until the copies are on disk, so the check below is not vacuous.
    const deadline = Date.now() + 3000;
    while (filesContaining(dir, Buffer.from(name).toString("latin1")).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(filesContaining(dir, Buffer.from(name).toString("latin1"))).not.toEqual([]);

    const { lines, logger } = recorder();
    const compactor = new ErasureCompactor({ redis, db: noDb(), logger, tables: TABLES, delayMs: 60_000 });
    compactor.erasureHappened();
    await compactor.flush();
    const info = await redis.info("persistence");
    expect(info).toMatch(/^aof_rewrite_in_progress:0/m);
    expect(info).toMatch(/^aof_rewrite_scheduled:0/m);
    expect(info).toMatch(/^aof_rewrites:1/m);

    const files = allFiles(dir).map((f) => f.file);
    expect(files.some((f) => /appendonlydir\/.*\.base\./.test(f))).toBe(true);
    expect(filesContaining(dir, Buffer.from(name).toString("latin1"))).toEqual([]);
    expect(filesContaining(dir, "Erasable")).toEqual([]);
    // The files read are the live ones: the kept key is in them, and still readable.
    expect(filesContaining(dir, "still-here")).not.toEqual([]);
    expect(await redis.get("keep:marker")).toBe("still-here");
    expect(await redis.exists(ERASURE_PENDING_KEY)).toBe(0);
    expect(lines.filter((l) => l.startsWith("warn"))).toEqual([]);
    await compactor.close();
  });

  it("batches many erasures into one run within the delay", async () => {
    const { redis } = await privateRedis();
    const db = noDb();
    const { logger } = recorder();
    const compactor = new ErasureCompactor({ redis, db, logger, tables: ["users"], delayMs: 400 });
    for (let i = 0; i < 5; i++) compactor.erasureHappened();
    expect(await redis.exists(ERASURE_PENDING_KEY)).toBe(1); // survives a crash: resume() picks it up
    await new Promise((r) => setTimeout(r, 200));
    expect(db.sql).toEqual([]); // not before the delay
    const deadline = Date.now() + 5000;
    while (!/^aof_rewrites:1/m.test(await redis.info("persistence")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await compactor.close();
    expect(db.sql).toEqual(['VACUUM FULL "users"']);
    expect(await redis.info("persistence")).toMatch(/^aof_rewrites:1$/m);
    expect(await redis.exists(ERASURE_PENDING_KEY)).toBe(0);

    // A restarted bot finds an erasure its predecessor did not compact.
    await redis.set(ERASURE_PENDING_KEY, "earlier");
    const next = new ErasureCompactor({ redis, db, logger, tables: ["users"], delayMs: 60_000 });
    await next.resume();
    await next.flush();
    expect(db.sql).toHaveLength(2);
    expect(await redis.exists(ERASURE_PENDING_KEY)).toBe(0);
    await next.close();
  });

  it("tolerates a Redis without AOF, telling so once", async () => {
    const redis = createRedis(inject("redisUrl")); // the test Redis runs with appendonly no
    cleanups.push(async () => redis.disconnect());
    const { lines, logger } = recorder();
    const db = noDb();
    const compactor = new ErasureCompactor({ redis, db, logger, tables: ["users"], delayMs: 60_000 });
    compactor.erasureHappened();
    await compactor.flush();
    compactor.erasureHappened();
    await compactor.flush();
    expect(lines.filter((l) => /no AOF/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith("warn"))).toEqual([]);
    expect(db.sql).toHaveLength(2);
    await compactor.close();
  });

  it(`vacuums the personal-data tables without error (${currentLane()})`, async () => {
    const db = await openTestDatabase();
    cleanups.push(() => db.close());
    const { redis } = await privateRedis();
    const { lines, logger } = recorder();
    const compactor = new ErasureCompactor({ redis, db, logger, tables: TABLES, delayMs: 60_000 });
    await db.prisma.user.create({ data: { id: 9001n } });
    await db.prisma.user.delete({ where: { id: 9001n } });
    compactor.erasureHappened();
    await compactor.flush();
    expect(lines.filter((l) => l.startsWith("warn"))).toEqual([]);
    expect(lines).toContain("info erasure compaction done");
    await compactor.close();
  });

  it.runIf(currentLane() === "pglite")("leaves no copy of a deleted row in PGlite's files, WAL included", async () => {
    const dir = tempDir("khb-pgl-");
    const db = await openDatabase({ pgliteDir: path.join(dir, "pglite") });
    cleanups.push(() => db.close());
    await applyMigrations(db);
    const { redis } = await privateRedis();
    const phone = "0987654321";
    await db.prisma.user.create({ data: { id: 9002n, scopeUnit: "Phạm Thị Xoá Được" } });
    await db.exec(`CREATE TABLE IF NOT EXISTS probe (v text); INSERT INTO probe VALUES ('${phone}'); CHECKPOINT`);
    await db.prisma.user.delete({ where: { id: 9002n } });
    await db.exec("DELETE FROM probe");
    const grep = (s: string) => {
      try {
        return execFileSync("grep", ["-rla", s, dir], { encoding: "utf8" }).trim().split("\n");
      } catch {
        return [];
      }
    };
    await db.exec("CHECKPOINT");
    expect(grep(phone)).not.toEqual([]); // deleted, yet still on disk

    const { logger } = recorder();
    const compactor = new ErasureCompactor({ redis, db, logger, tables: [...TABLES, "probe"], delayMs: 60_000 });
    compactor.erasureHappened();
    await compactor.flush();
    expect(grep(phone)).toEqual([]);
    expect(grep("Xoá Được")).toEqual([]);
    await compactor.close();
  });
});
