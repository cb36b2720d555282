/**
 * The child process of `prepareInChild`: creates, migrates and seeds the embedded PGlite database
 * in the directory given as its first argument, tells the bot (its pid is the second) what it did
 * over IPC, and ends.
 */
import { Worker } from "node:worker_threads";

// The bot may die while this runs, even by SIGKILL. Then this process must not live on: a thread
// of its own watches for the bot's end (this process is handed to another parent), and ends the
// process even while the main thread is busy inside PGlite's WASM (creating the cluster takes
// seconds of it). Started before anything heavy is loaded.
//
// The bot's pid comes as an argument: if the bot died before this line ran, process.ppid would
// already be the new parent's.
const bot = Number(process.argv[3]);
new Worker(
  `const { workerData } = require("node:worker_threads");
   setInterval(() => { if (process.ppid !== workerData.bot) process.kill(workerData.self, "SIGKILL"); }, 100);`,
  { eval: true, execArgv: [], workerData: { bot, self: process.pid } },
).unref();

const send = (message: unknown) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

const { existsSync, renameSync, rmSync } = await import("node:fs");
const { openDatabase } = await import("./infra/database.js");
const { prepareDatabase } = await import("./infra/prepare-database.js");
try {
  const dir = process.argv[2]!;
  // A new cluster is created beside its place and moved there once complete: a start killed while
  // creating it leaves only the unfinished copy, which the next start throws away, never a
  // half-made cluster PGlite cannot open.
  const fresh = !existsSync(`${dir}/PG_VERSION`);
  const target = fresh ? `${dir}.creating` : dir;
  if (fresh) rmSync(target, { recursive: true, force: true });
  const db = await openDatabase({ pgliteDir: target });
  let prepared;
  try {
    prepared = await prepareDatabase(db);
  } finally {
    await db.close();
  }
  if (fresh) {
    // No PG_VERSION: at most an empty directory, or what an older version began and never finished.
    rmSync(dir, { recursive: true, force: true });
    renameSync(target, dir);
  }
  await send({ prepared });
} catch (e) {
  await send({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exitCode = 1;
}
process.disconnect();
