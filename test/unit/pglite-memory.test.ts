import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, PGLITE_BAKED_SETTINGS, PGLITE_SHARED_BUFFERS } from "../../src/infra/database.js";

const dir = mkdtempSync(path.join(tmpdir(), "khb-pglite-mem-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const show = async (db: Awaited<ReturnType<typeof openDatabase>>, setting: string) =>
  ((await db.prisma.$queryRawUnsafe(`SHOW ${setting}`)) as Record<string, string>[])[0]![setting];

describe("embedded PGlite memory", () => {
  it("runs with the small shared_buffers, not PGlite's baked-in 128MB (a PGlite update must keep this working)", async () => {
    expect(PGLITE_SHARED_BUFFERS).toBe("8MB");
    const db = await openDatabase({ pgliteDir: path.join(dir, "a") });
    try {
      expect(await show(db, "shared_buffers")).toBe(PGLITE_SHARED_BUFFERS);
    } finally {
      await db.close();
    }
  });

  it("runs with the smaller WAL buffers and connection tables too: 12 MB of shared memory (139 as shipped)", async () => {
    expect(PGLITE_BAKED_SETTINGS.map(([, ours]) => ours)).toEqual([`shared_buffers=${PGLITE_SHARED_BUFFERS}`, "wal_buffers=-1", "max_connections=5"]);
    const db = await openDatabase({ pgliteDir: path.join(dir, "c") });
    try {
      // -1 is PostgreSQL's default: 1/32 of shared_buffers.
      expect(await show(db, "wal_buffers")).toBe("256kB");
      expect(await show(db, "max_connections")).toBe("5");
      // The slot max_connections took held PostgreSQL's own default.
      expect(await show(db, "min_wal_size")).toBe("80MB");
      const rows = (await db.prisma.$queryRawUnsafe("SELECT (sum(allocated_size) / 1048576)::int AS mb FROM pg_shmem_allocations")) as Array<{ mb: number }>;
      expect(rows[0]?.mb).toBeGreaterThanOrEqual(9);
      expect(rows[0]?.mb).toBeLessThanOrEqual(13);
    } finally {
      await db.close();
    }
  });

  it("two databases in one process share the compiled module, and a reopened one keeps its rows", async () => {
    const a = await openDatabase({ pgliteDir: path.join(dir, "b") });
    const b = await openDatabase({ pgliteDir: "memory://" });
    await a.exec("CREATE TABLE kept (n int); INSERT INTO kept VALUES (41), (1);");
    await b.exec("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7);");
    expect(await a.prisma.$queryRawUnsafe("SELECT sum(n)::int AS s FROM kept")).toEqual([{ s: 42 }]);
    expect(await b.prisma.$queryRawUnsafe("SELECT sum(n)::int AS s FROM kept")).toEqual([{ s: 7 }]);
    await a.close();
    await b.close();
    const again = await openDatabase({ pgliteDir: path.join(dir, "b") });
    try {
      expect(await again.prisma.$queryRawUnsafe("SELECT sum(n)::int AS s FROM kept")).toEqual([{ s: 42 }]);
      expect(await show(again, "shared_buffers")).toBe(PGLITE_SHARED_BUFFERS);
    } finally {
      await again.close();
    }
  });
});
