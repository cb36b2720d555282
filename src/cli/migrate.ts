import dotenv from "dotenv";
import path from "node:path";
import { seedAdminUnits } from "../domain/geo/seed-admin-units.js";
import { openDatabase } from "../infra/database.js";
import { applyMigrations } from "../infra/migrate.js";

/** `npm run migrate`: the compose file's migrate step; also usable by hand. Idempotent. */
dotenv.config({ quiet: true });
const db = await openDatabase({
  url: process.env.DATABASE_URL || undefined,
  pgliteDir: path.join(process.env.DATA_DIR || "./data", "pglite"),
});
try {
  const applied = await applyMigrations(db);
  const seeded = await seedAdminUnits(db.prisma);
  process.stdout.write(`migrations applied: ${applied.length ? applied.join(", ") : "none pending"}; admin units: ${seeded}\n`);
} finally {
  await db.close();
}
