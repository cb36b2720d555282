import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, PGLITE_SHARED_BUFFERS } from "../../src/infra/database.js";

const dir = mkdtempSync(path.join(tmpdir(), "khb-pglite-mem-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const show = async (db: Awaited<ReturnType<typeof openDatabase>>, setting: string) =>
  ((await db.prisma.$queryRawUnsafe(`SHOW ${setting}`)) as Record<string, string>[])[0]![setting];

describe("embedded PGlite memory", () => {
  it("runs with the small shared_buffers, not PGlite's baked-in 128MB (a PGlite update must keep this working)", async () => {
    expect(PGLITE_SHARED_BUFFERS).toBe("16MB");
    const db = await openDatabase({ pgliteDir: path.join(dir, "a") });
    try {
      expect(await show(db, "shared_buffers")).toBe(PGLITE_SHARED_BUFFERS);
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
