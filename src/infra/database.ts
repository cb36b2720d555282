import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.js";

export type { PrismaClient };

/**
 * An open database: the Prisma client for queries, plus raw `exec` for multi-statement SQL
 * (migrations), which neither driver adapter offers.
 */
export interface Database {
  lane: "pglite" | "postgres";
  prisma: PrismaClient;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgresql:// URL; when absent the embedded PGlite is used. */
  url?: string;
  /** PGlite data directory; "memory://" keeps it in memory (tests). */
  pgliteDir?: string;
  /** A PGlite data-dir tarball (`dumpDataDir`) to start from instead of a fresh cluster (tests). */
  pgliteLoadDataDir?: Blob | File;
  /**
   * Errors of idle pooled connections (the server restarted, an admin ended the session). The pool
   * replaces such connections; without a listener node-postgres would crash the process.
   */
  onIdleError?: (err: Error) => void;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: 10 });
    pool.on("error", (err) => opts.onIdleError?.(err));
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    return {
      lane: "postgres",
      prisma,
      exec: async (sql) => {
        await pool.query(sql);
      },
      close: async () => {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  }
  const dir = opts.pgliteDir ?? "./data/pglite";
  if (!dir.startsWith("memory://")) mkdirSync(path.resolve(dir), { recursive: true });
  const db = new PGlite(dir, opts.pgliteLoadDataDir ? { loadDataDir: opts.pgliteLoadDataDir } : {});
  await db.waitReady;
  // pglite-prisma-adapter 0.6 pins an older @prisma/driver-adapter-utils: same protocol, other types.
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) as unknown as PrismaPg });
  return {
    lane: "pglite",
    prisma,
    exec: async (sql) => {
      await db.exec(sql);
    },
    close: async () => {
      await prisma.$disconnect();
      await db.close();
    },
  };
}
