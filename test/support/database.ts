import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { seedAdminUnits } from "../../src/domain/geo/seed-admin-units.js";
import { openDatabase, type Database } from "../../src/infra/database.js";
import { applyMigrations } from "../../src/infra/migrate.js";

export type Lane = "pglite" | "postgres";

export function currentLane(): Lane {
  return process.env.TEST_DB_LANE === "postgres" ? "postgres" : "pglite";
}

/** A fresh, empty database of this run's lane, or its connection URL (postgres lane). */
export async function createEmptyDatabase(): Promise<{ url?: string; drop(): Promise<void> }> {
  if (currentLane() === "pglite") return { drop: async () => {} };
  const admin = inject("postgresUrl");
  if (!admin) throw new Error("postgres lane without a PostgreSQL server");
  const name = `khb_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = admin.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A migrated, seeded database of this run's lane (PGlite in memory, or a new PostgreSQL database). */
export async function openTestDatabase(): Promise<Database> {
  const empty = await createEmptyDatabase();
  const db = await openDatabase(empty.url ? { url: empty.url } : { pgliteDir: "memory://" });
  await applyMigrations(db);
  await seedAdminUnits(db.prisma);
  const close = db.close;
  return { ...db, close: async () => (await close(), await empty.drop()) };
}
