import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/infra/database.js";
import { currentLane, openTestDatabase } from "../support/database.js";

// src/infra/pg-statements.ts: a statement the process runs again and again is prepared once per
// connection, through Database.read and through Prisma alike, on both lanes.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(() => db.close());

const prepared = async (like: string) =>
  (await db.read<{ name: string; statement: string }>("SELECT name, statement FROM pg_prepared_statements")).filter((r) => r.statement.includes(like));

describe(`repeated statements are prepared (${currentLane()})`, () => {
  it("the third run of a text through the driver prepares it, and every run answers correctly", async () => {
    const text = "SELECT name FROM provinces WHERE code = $1 /* prepared-test-a */";
    expect(await prepared("prepared-test-a")).toEqual([]);
    const answers: string[] = [];
    for (const code of ["01", "79", "01", "48", "79"]) answers.push((await db.read<{ name: string }>(text, [code]))[0]!.name);
    expect(answers).toEqual(["Hà Nội", "Hồ Chí Minh", "Hà Nội", "Đà Nẵng", "Hồ Chí Minh"].map((n) => expect.stringContaining(n)));
    const rows = await prepared("prepared-test-a");
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows[0]!.name).toMatch(/^khb[0-9a-z]+_\d+$/);
    // Planned for each call's values: a generic plan would guess 100 rows for every unnest().
    expect(await db.read("SHOW plan_cache_mode")).toEqual([{ plan_cache_mode: "force_custom_plan" }]);
  });

  it("Prisma's statements are prepared the same way, and a failing one leaves the connection usable", async () => {
    const text = "SELECT count(*)::int AS n FROM communes WHERE province_code = $1 /* prepared-test-b */";
    for (let i = 0; i < 4; i++) expect(await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(text, "01")).toEqual([{ n: expect.any(Number) }]);
    expect((await prepared("prepared-test-b")).length).toBeGreaterThanOrEqual(1);
    const bad = "SELECT 1 / $1::int AS x /* prepared-test-c */";
    for (let i = 0; i < 4; i++) await expect(db.read(bad, [0])).rejects.toMatchObject({ code: "22012" });
    expect(await db.read(bad, [1])).toEqual([{ x: 1 }]);
  });

  it("statements built on the fly (a text each time) stay unnamed: the prepared set does not grow with them", async () => {
    for (let i = 0; i < 150; i++) {
      for (let k = 0; k < 3; k++) await db.read(`SELECT $1::int + ${i} AS x /* prepared-test-d */`, [k]);
    }
    // At most 64 named statements per connection; the pool reuses its idle connection here.
    expect((await prepared("prepared-test-d")).length).toBeLessThanOrEqual(64);
    expect((await prepared("prepared-test-d")).length).toBeGreaterThan(0);
  });
});
