import { openCliDatabase, readCliConfig } from "./cli-database.js";
import { prepareDatabase } from "../infra/prepare-database.js";

/** `npm run migrate`: the compose file's migrate step; also usable by hand. Idempotent. */
const config = readCliConfig();
const { db, close } = await openCliDatabase(config, "It migrates at start (AUTO_MIGRATE). Stop it to run this.");
try {
  const { applied, adminUnits, quizBank } = await prepareDatabase(db);
  process.stdout.write(`migrations applied: ${applied.length ? applied.join(", ") : "none pending"}; admin units: ${adminUnits}; quiz bank: ${quizBank}\n`);
} finally {
  await close();
}
