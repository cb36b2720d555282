import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/infra/database.js";
import { applyMigrations, defaultMigrationsDir } from "../../src/infra/migrate.js";
import { createEmptyDatabase } from "../support/database.js";

let db: Database;
let drop: () => Promise<void>;

beforeAll(async () => {
  const empty = await createEmptyDatabase();
  drop = empty.drop;
  db = await openDatabase(empty.url ? { url: empty.url } : { pgliteDir: "memory://" });
});
afterAll(async () => {
  await db.close();
  await drop();
});

describe("migrations", () => {
  it("applies every migration once and records it like prisma migrate deploy", async () => {
    const first = await applyMigrations(db);
    expect(first.length).toBeGreaterThan(0);
    expect(await applyMigrations(db)).toEqual([]);
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string; finished_at: Date | null }[]>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(first);
    expect(rows.every((r) => r.finished_at !== null && /^[0-9a-f]{64}$/.test(r.checksum))).toBe(true);
  });

  it("refuses a migration that was edited after it was applied", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "khb-mig-"));
    cpSync(defaultMigrationsDir(), dir, { recursive: true });
    const [name] = await applyMigrations(db, dir).then(() => db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(`SELECT migration_name FROM "_prisma_migrations"`).then((r) => r.map((x) => x.migration_name)));
    const file = path.join(dir, name!, "migration.sql");
    writeFileSync(file, readFileSync(file, "utf8") + "\n-- edited\n");
    await expect(applyMigrations(db, dir)).rejects.toThrow(/changed after it was applied/);
  });

  it("rolls back a failing migration completely", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "khb-mig-"));
    cpSync(defaultMigrationsDir(), dir, { recursive: true });
    mkdirSync(path.join(dir, "29991231000000_broken"));
    writeFileSync(path.join(dir, "29991231000000_broken", "migration.sql"), `CREATE TABLE "half_done" (id int);\nSELECT * FROM "no_such_table";\n`);
    await expect(applyMigrations(db, dir)).rejects.toThrow();
    const tables = await db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half_done'`);
    expect(tables[0]!.n).toBe(0);
    const recorded = await db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE migration_name = '29991231000000_broken'`);
    expect(recorded[0]!.n).toBe(0);
  });
});
