import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { seedAdminUnits } from "../../src/domain/geo/seed-admin-units.js";
import { seedQuizBank } from "../../src/domain/quizzes/seed-quiz-bank.js";
import { openDatabase, pgliteDatabase } from "../../src/infra/database.js";
import { applyMigrations } from "../../src/infra/migrate.js";

/**
 * Built once per run by the global setup, so a test file starts from a copy instead of spending
 * seconds on initdb, migrations and the 3,321-commune seed.
 */

export interface PgliteDumps {
  /** A fresh cluster (initdb only): for tests of the migrations themselves. */
  empty: string;
  /** Migrated and seeded. */
  seeded: string;
}

/** Writes tarballs of PGlite data dirs into `dir` (PGlite's dumpDataDir / loadDataDir). */
export async function buildPgliteDumps(dir: string): Promise<PgliteDumps> {
  const files = { empty: path.join(dir, "empty.tar"), seeded: path.join(dir, "seeded.tar") };
  // Our own PGlite rather than openDatabase(): dumpDataDir needs the instance.
  const db = new PGlite("memory://");
  try {
    await db.waitReady;
    await writeFile(files.empty, await dumpBytes(db));
    const database = pgliteDatabase(db, { keepOpen: true });
    await applyMigrations(database);
    await seedAdminUnits(database.prisma);
    await seedQuizBank(database.prisma);
    await database.close();
    await writeFile(files.seeded, await dumpBytes(db));
  } finally {
    await db.close();
  }
  return files;
}

async function dumpBytes(db: PGlite): Promise<Uint8Array> {
  return new Uint8Array(await (await db.dumpDataDir("none")).arrayBuffer());
}

/**
 * A migrated, seeded PostgreSQL database marked as a template that refuses connections: CREATE
 * DATABASE … TEMPLATE fails while anyone is connected to the template.
 */
export async function buildPostgresTemplate(adminUrl: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `khb_tpl_${randomBytes(6).toString("hex")}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const db = await openDatabase({ url: databaseUrl(adminUrl, name) });
  try {
    await applyMigrations(db);
    await seedAdminUnits(db.prisma);
    await seedQuizBank(db.prisma);
  } finally {
    await db.close();
  }
  await adminQuery(adminUrl, `ALTER DATABASE ${name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  return {
    name,
    // A template cannot be dropped; DROP DATABASE cannot share a query with another statement.
    drop: async () => {
      await adminQuery(adminUrl, `ALTER DATABASE ${name} WITH IS_TEMPLATE false`);
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** The URL of database `name` on the server of `adminUrl`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
