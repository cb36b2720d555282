import dotenv from "dotenv";
import path from "node:path";
import { ConfigError, parseStorageConfig, type StorageConfig } from "../config.js";
import { seedAdminUnits } from "../domain/geo/seed-admin-units.js";
import { seedQuizBank } from "../domain/quizzes/seed-quiz-bank.js";
import { DataDirInUseError, lockDataDir } from "../infra/data-lock.js";
import { openDatabase } from "../infra/database.js";
import { applyMigrations } from "../infra/migrate.js";

/** `npm run migrate`: the compose file's migrate step; also usable by hand. Idempotent. */
dotenv.config({ quiet: true });
let config: StorageConfig;
try {
  config = parseStorageConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`Invalid configuration:\n${e.message}\n`);
  process.exit(1);
}
const url = config.databaseUrl;
const dataDir = config.dataDir;
let unlock = () => {};
if (!url) {
  try {
    // The embedded database must have one owner: not while the bot runs on it.
    unlock = lockDataDir(dataDir);
  } catch (e) {
    if (!(e instanceof DataDirInUseError)) throw e;
    process.stderr.write(`The bot (process ${e.pid}) is running on DATA_DIR=${e.dir}; it migrates at start (AUTO_MIGRATE). Stop it to run this.\n`);
    process.exit(1);
  }
}
const db = await openDatabase({ url, pgliteDir: path.join(dataDir, "pglite") });
try {
  const applied = await applyMigrations(db);
  const seeded = await seedAdminUnits(db.prisma);
  const quizBank = await seedQuizBank(db.prisma);
  process.stdout.write(`migrations applied: ${applied.length ? applied.join(", ") : "none pending"}; admin units: ${seeded}; quiz bank: ${quizBank}\n`);
} finally {
  await db.close();
  unlock();
}
