import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Database } from "./database.js";

/**
 * Applies prisma/migrations/* in order, recording them in `_prisma_migrations` exactly as
 * `prisma migrate deploy` does, so `prisma migrate status` agrees.
 *
 * Why not the CLI: with driver adapters and `engine: "js"`, `migrate deploy` fails on PostgreSQL
 * ("Column type 'name' could not be deserialized", prisma/orm#27403), and the bot must migrate the
 * embedded PGlite at start without a CLI. Delete this when upstream is fixed.
 */
export async function applyMigrations(db: Database, migrationsDir = defaultMigrationsDir()): Promise<string[]> {
  await db.exec(`
    CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    );`);
  const applied = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string }[]>(
    `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const done = new Map(applied.map((r) => [r.migration_name, r.checksum]));
  const names = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const newlyApplied: string[] = [];
  for (const name of names) {
    const sql = await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8");
    const checksum = createHash("sha256").update(sql).digest("hex");
    const previous = done.get(name);
    if (previous !== undefined) {
      if (previous !== checksum) {
        throw new Error(`Migration ${name} was changed after it was applied (checksum differs)`);
      }
      continue;
    }
    // One simple-protocol query per migration runs as one implicit transaction in PostgreSQL:
    // a failure leaves both the schema and the record as they were.
    await db.exec(
      `${sql}\n;INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count, started_at)` +
        ` VALUES ('${randomUUID()}', '${checksum}', now(), '${name.replace(/'/g, "''")}', 1, now());`,
    );
    newlyApplied.push(name);
  }
  return newlyApplied;
}

export function defaultMigrationsDir(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../prisma/migrations");
}
