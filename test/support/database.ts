import path from "node:path";
import { randomBytes } from "node:crypto";
import { openAsBlob } from "node:fs";
import { inject } from "vitest";
import { openDatabase, type Database } from "../../src/infra/database.js";
import { adminQuery, databaseUrl } from "./database-templates.js";

export type Lane = "pglite" | "postgres";

export function currentLane(): Lane {
  return process.env.TEST_DB_LANE === "postgres" ? "postgres" : "pglite";
}

/** A fresh, empty database of this run's lane, or its connection URL (postgres lane). */
export async function createEmptyDatabase(): Promise<{ url?: string; drop(): Promise<void> }> {
  if (currentLane() === "pglite") return { drop: async () => {} };
  return createPostgresDatabase();
}

/**
 * A migrated, seeded database a child process (the bot, a worker) can open: PGlite files in
 * `<dataDir>/pglite`, or a PostgreSQL copy (then `url` is set).
 */
export async function createSeededDatabase(dataDir: string): Promise<{ url?: string; open(): Promise<Database>; drop(): Promise<void> }> {
  if (currentLane() === "pglite") {
    const dumps = inject("pgliteDumps");
    if (!dumps) throw new Error("pglite lane without the global setup's data-dir dumps");
    const pgliteDir = path.join(dataDir, "pglite");
    const db = await openDatabase({ pgliteDir, pgliteLoadDataDir: await openAsBlob(dumps.seeded, { type: "application/x-tar" }) });
    await db.close();
    return { open: () => openDatabase({ pgliteDir }), drop: async () => {} };
  }
  const created = await createPostgresDatabase(inject("postgresTemplate") ?? undefined);
  return { url: created.url, open: () => openDatabase({ url: created.url }), drop: created.drop };
}

/** A migrated, seeded database of this run's lane: a copy of the one the global setup built. */
export function openTestDatabase(): Promise<Database> {
  return openCopy("seeded");
}

/** A database with no tables at all (not even `_prisma_migrations`), for tests of the migrations. */
export function openEmptyDatabase(): Promise<Database> {
  return openCopy("empty");
}

async function openCopy(kind: "seeded" | "empty"): Promise<Database> {
  if (currentLane() === "pglite") {
    const dumps = inject("pgliteDumps");
    if (!dumps) throw new Error("pglite lane without the global setup's data-dir dumps");
    return openDatabase({ pgliteDir: "memory://", pgliteLoadDataDir: await openAsBlob(dumps[kind], { type: "application/x-tar" }) });
  }
  const template = inject("postgresTemplate");
  if (!template) throw new Error("postgres lane without the global setup's template database");
  const created = await createPostgresDatabase(kind === "seeded" ? template : undefined);
  const db = await openDatabase({ url: created.url });
  const close = db.close;
  return { ...db, close: async () => (await close(), await created.drop()) };
}

async function createPostgresDatabase(template?: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = inject("postgresUrl");
  if (!admin) throw new Error("postgres lane without a PostgreSQL server");
  const name = `khb_${randomBytes(6).toString("hex")}`;
  await adminQuery(admin, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`);
  return { url: databaseUrl(admin, name), drop: () => adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
