import { seedAdminUnits } from "../domain/geo/seed-admin-units.js";
import { seedQuizBank } from "../domain/quizzes/seed-quiz-bank.js";
import { openCliDatabase, readCliConfig } from "./cli-database.js";
import { applyMigrations } from "../infra/migrate.js";

/** `npm run migrate`: the compose file's migrate step; also usable by hand. Idempotent. */
const config = readCliConfig();
const { db, close } = await openCliDatabase(config, "It migrates at start (AUTO_MIGRATE). Stop it to run this.");
try {
  const applied = await applyMigrations(db);
  const seeded = await seedAdminUnits(db.prisma);
  const quizBank = await seedQuizBank(db.prisma);
  process.stdout.write(`migrations applied: ${applied.length ? applied.join(", ") : "none pending"}; admin units: ${seeded}; quiz bank: ${quizBank}\n`);
} finally {
  await close();
}
