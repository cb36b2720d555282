import { chmodSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import path from "node:path";

export class DataDirInUseError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`DATA_DIR ${dir} is in use by process ${pid}`);
  }
}

/**
 * One bot per data directory: PGlite and the private redis-server must never have two owners
 * (two PGlite instances on one directory corrupt it). A lock file holds the owner's pid; a lock
 * left by a process that no longer runs is taken over.
 */
export function lockDataDir(dir: string): () => void {
  const abs = path.resolve(dir);
  // The bot's data (PGlite, the private Redis's AOF and socket) is for its own user only.
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  try {
    chmodSync(abs, 0o700); // also a directory an older version created world-readable
  } catch {
    // not ours to change (a mounted volume of another owner): its owner decides
  }
  const file = path.join(abs, ".lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) throw new DataDirInUseError(abs, pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock ${abs}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
