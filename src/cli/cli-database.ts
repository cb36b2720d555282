import dotenv from "dotenv";
import path from "node:path";
import { ConfigError, parseStorageConfig, type StorageConfig } from "../config.js";
import { DataDirInUseError, lockDataDir } from "../infra/data-lock.js";
import { openDatabase, type Database } from "../infra/database.js";

/** The scripts' storage settings (.env, then the environment); an invalid one is told and exits 1. */
export function readCliConfig(): StorageConfig {
  dotenv.config({ quiet: true });
  try {
    return parseStorageConfig(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`Invalid configuration:\n${e.message}\n`);
    process.exit(1);
  }
}

/**
 * The scripts' way into the database (migrate, demo data, imports): PostgreSQL when configured,
 * else the embedded PGlite under DATA_DIR, which has one owner: a script refuses to open it while
 * the bot (or another script) holds it, with `whatToDo` after the reason, and exits 1.
 */
export async function openCliDatabase(config: StorageConfig, whatToDo: string): Promise<{ db: Database; close(): Promise<void> }> {
  let unlock = () => {};
  if (!config.databaseUrl) {
    try {
      unlock = lockDataDir(config.dataDir);
    } catch (e) {
      if (!(e instanceof DataDirInUseError)) throw e;
      process.stderr.write(`The bot (process ${e.pid}) is running on DATA_DIR=${e.dir}. ${whatToDo}\n`);
      process.exit(1);
    }
  }
  const db = await openDatabase({ url: config.databaseUrl, pgliteDir: path.join(config.dataDir, "pglite") });
  return {
    db,
    async close() {
      await db.close();
      unlock();
    },
  };
}
