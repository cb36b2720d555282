import dotenv from "dotenv";
import { ConfigError, parseStorageConfig, type StorageConfig } from "../config.js";
import { seedAdminUnits } from "../domain/geo/seed-admin-units.js";
import { seedQuizBank } from "../domain/quizzes/seed-quiz-bank.js";
import { openCliDatabase } from "./cli-database.js";
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
const { db, close } = await openCliDatabase(config, "It migrates at start (AUTO_MIGRATE). Stop it to run this.");
try {
  const applied = await applyMigrations(db);
  const seeded = await seedAdminUnits(db.prisma);
  const quizBank = await seedQuizBank(db.prisma);
  process.stdout.write(`migrations applied: ${applied.length ? applied.join(", ") : "none pending"}; admin units: ${seeded}; quiz bank: ${quizBank}\n`);
} finally {
  await close();
}
