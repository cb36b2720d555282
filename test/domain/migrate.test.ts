import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/infra/database.js";
import { applyMigrations, defaultMigrationsDir } from "../../src/infra/migrate.js";
import { openEmptyDatabase } from "../support/database.js";

// Each test migrates its own empty database from scratch, so each stands alone.
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emptyDatabase(): Promise<Database> {
  const db = await openEmptyDatabase();
  cleanups.push(() => db.close());
  return db;
}

/** A copy of prisma/migrations that a test may change. */
function migrationsCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "khb-mig-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  return dir;
}

const appliedNames = async (db: Database) =>
  (await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(`SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name`)).map((r) => r.migration_name);

describe("migrations", () => {
  it("applies every migration once and records it like prisma migrate deploy", async () => {
    const db = await emptyDatabase();
    const first = await applyMigrations(db);
    expect(first.length).toBeGreaterThan(0);
    expect(await applyMigrations(db)).toEqual([]);
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string; finished_at: Date | null }[]>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(first);
    for (const r of rows) {
      expect(r.finished_at).not.toBeNull();
      expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("refuses a migration that was edited after it was applied", async () => {
    const db = await emptyDatabase();
    const dir = migrationsCopy();
    await applyMigrations(db, dir);
    const [name] = await appliedNames(db);
    const file = path.join(dir, name!, "migration.sql");
    writeFileSync(file, readFileSync(file, "utf8") + "\n-- edited\n");
    await expect(applyMigrations(db, dir)).rejects.toThrow(`Migration ${name} was changed after it was applied`);
  });

  it("rolls back a failing migration completely", async () => {
    const db = await emptyDatabase();
    const dir = migrationsCopy();
    mkdirSync(path.join(dir, "29991231000000_broken"));
    writeFileSync(path.join(dir, "29991231000000_broken", "migration.sql"), `CREATE TABLE "half_done" (id int);\nSELECT * FROM "no_such_table";\n`);
    await expect(applyMigrations(db, dir)).rejects.toThrow(/no_such_table/);
    // The good migrations before it were applied; nothing of the broken one remains.
    expect(await appliedNames(db)).toEqual(readdirNames(defaultMigrationsDir()));
    const tables = await db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half_done'`);
    expect(tables[0]!.n).toBe(0);
  });
});

function readdirNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}
