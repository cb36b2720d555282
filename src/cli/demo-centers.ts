import dotenv from "dotenv";
import { parseArgs } from "node:util";
import { ConfigError, parseStorageConfig, type StorageConfig } from "../config.js";
import { seedAdminUnits } from "../domain/geo/seed-admin-units.js";
import { loadDemoCenters, removeDemoCenters } from "../domain/sessions/demo-centers.js";
import { openCliDatabase } from "./cli-database.js";
import { applyMigrations } from "../infra/migrate.js";

/**
 * `npm run demo:centers`: loads the labelled demo centres and sessions (one centre per commune);
 * `-- --remove` takes them out again; `-- --per-commune N --sessions N` for bigger sets.
 * Migrates and seeds the admin units first, like `npm run migrate`. Idempotent.
 */
dotenv.config({ quiet: true });
let args: { remove: boolean; perCommune: number; sessions: number };
let config: StorageConfig;
try {
  const { values } = parseArgs({
    options: { remove: { type: "boolean", default: false }, "per-commune": { type: "string", default: "1" }, sessions: { type: "string", default: "3" } },
  });
  args = { remove: values.remove, perCommune: Number(values["per-commune"]), sessions: Number(values.sessions) };
  config = parseStorageConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError) && !(e instanceof TypeError)) throw e;
  process.stderr.write(`${e instanceof ConfigError ? "Invalid configuration:\n" : ""}${e.message}\nusage: npm run demo:centers [-- --remove | --per-commune N --sessions N]\n`);
  process.exit(1);
}
const { db, close } = await openCliDatabase(config, "Stop it to run this (PGlite has one owner).");
try {
  const applied = await applyMigrations(db);
  const seeded = await seedAdminUnits(db.prisma);
  process.stdout.write(`migrations applied: ${applied.length ? applied.join(", ") : "none pending"}; admin units: ${seeded}\n`);
  if (args.remove) {
    const removed = await removeDemoCenters(db.prisma);
    process.stdout.write(`demo data removed: ${removed.centers} centres, ${removed.sessions} sessions\n`);
  } else {
    const added = await loadDemoCenters(db.prisma, () => new Date(), { perCommune: args.perCommune, sessionsPerCenter: args.sessions });
    const [total] = await db.prisma.$queryRawUnsafe<Array<{ centers: number; sessions: number }>>(
      `SELECT (SELECT count(*)::int FROM learning_centers WHERE demo) AS centers, (SELECT count(*)::int FROM learning_sessions WHERE demo) AS sessions`,
    );
    process.stdout.write(
      `demo data loaded: ${added.centers} centres and ${added.sessions} sessions added` +
        ` (now ${total?.centers ?? 0} demo centres, ${total?.sessions ?? 0} demo sessions; every name says "(demo)")\n`,
    );
  }
} catch (e) {
  if (!(e instanceof RangeError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exitCode = 1;
} finally {
  await close();
}
