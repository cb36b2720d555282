import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { seedAdminUnits } from "../domain/geo/seed-admin-units.js";
import { seedQuizBank } from "../domain/quizzes/seed-quiz-bank.js";
import type { Database } from "./database.js";
import { applyMigrations } from "./migrate.js";

/** What a start-up preparation did: migrations applied, and whether each dataset was (re)loaded. */
export interface Prepared {
  applied: string[];
  adminUnits: "loaded" | "unchanged";
  quizBank: "loaded" | "unchanged";
}

/** Migrations, then the administrative units and the quiz bank. Idempotent. */
export async function prepareDatabase(db: Database): Promise<Prepared> {
  const applied = await applyMigrations(db);
  const adminUnits = await seedAdminUnits(db.prisma);
  const quizBank = await seedQuizBank(db.prisma);
  return { applied, adminUnits, quizBank };
}

export interface PreparingChild {
  /** Resolves once the child has prepared the database and closed it. */
  done: Promise<Prepared>;
  /** Ends the child (the bot is shutting down while it prepares). */
  stop(): void;
}

type ChildMessage = { prepared: Prepared } | { error: string };

/**
 * Prepares an embedded PGlite database in a short-lived child process, before the bot opens it.
 *
 * Why: a WASM memory never shrinks. Creating the cluster (initdb) and running the migrations and
 * seeds touch about 40 MB of PGlite's memory that serving never needs again, and in the bot's own
 * process that memory stayed for its whole life (216 MB idle after a first start, 176 MB after a
 * restart). Deployments on PostgreSQL run `npm run migrate` as a step of its own for the same
 * reason; this is that step, taken by `npm start` itself.
 *
 * The child leaves as soon as the bot does, in any way (SIGKILL included): a thread of the child
 * watches for the bot's end and ends the child, so it is never left behind.
 */
export function prepareInChild(pgliteDir: string): PreparingChild {
  const here = fileURLToPath(import.meta.url);
  // tsx runs the sources (.ts), `npm start` the build (.js): the entry has the same extension.
  const entry = fileURLToPath(new URL(`../prepare-pglite${here.slice(here.lastIndexOf("."))}`, import.meta.url));
  const child = fork(entry, [pgliteDir, String(process.pid)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const done = new Promise<Prepared>((resolve, reject) => {
    let message: ChildMessage | undefined;
    child.on("message", (m: ChildMessage) => (message = m));
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (message && "prepared" in message && code === 0) resolve(message.prepared);
      else reject(new Error(message && "error" in message ? message.error : `database preparation ended (${signal ?? `exit code ${code}`})`));
    });
  });
  return { done, stop: () => void child.kill("SIGTERM") };
}
