import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { CUSTOM_PLANS, statementCachingClient } from "./pg-statements.js";
import { pglitePool } from "./pglite-wire.js";

export type { PrismaClient };

/**
 * An open database: the Prisma client for queries, plus raw `exec` for multi-statement SQL
 * (migrations), which the driver adapter does not offer. Both lanes use node-postgres and
 * @prisma/adapter-pg; the embedded PGlite is reached over an in-process wire (pglite-wire.ts).
 */
export interface Database {
  lane: "pglite" | "postgres";
  prisma: PrismaClient;
  exec(sql: string): Promise<void>;
  /**
   * One statement (a read or a write) straight through the driver, for the hottest ones (see
   * DirectSql in src/domain/direct-sql.ts): skips the Prisma client's interpreter and result mapping.
   * Rows come as node-postgres gives them on both lanes (JSON parsed; bigint as a string; callers
   * select times as epoch milliseconds). On PGlite it waits behind an open transaction like any
   * statement.
   */
  read<T>(sql: string, params?: unknown[]): Promise<T[]>;
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
    const pool = new pg.Pool({
      connectionString: opts.url, max: 10, Client: statementCachingClient(),
      onConnect: async (client: pg.ClientBase) => void (await client.query(CUSTOM_PLANS)),
    });
    return overPool("postgres", pool, opts);
  }
  const dir = opts.pgliteDir ?? "./data/pglite";
  if (!dir.startsWith("memory://")) mkdirSync(path.resolve(dir), { recursive: true });
  const db = new PGlite(dir, {
    wasmModule: await pgliteWasm(),
    ...(opts.pgliteLoadDataDir ? { loadDataDir: opts.pgliteLoadDataDir } : {}),
  });
  await db.waitReady;
  return pgliteDatabase(db, opts);
}

/** The Database over an open PGlite; `close` ends the PGlite too unless `keepOpen` (tests dump it after). */
export function pgliteDatabase(db: PGlite, opts: Pick<DatabaseOptions, "onIdleError"> & { keepOpen?: boolean } = {}): Database {
  return overPool("pglite", pglitePool(db), opts, opts.keepOpen ? undefined : () => db.close());
}

/** Prisma (adapter-pg), `exec` and `read` over a lane's node-postgres pool. */
function overPool(lane: Database["lane"], pool: pg.Pool, opts: Pick<DatabaseOptions, "onIdleError">, afterEnd?: () => Promise<void>): Database {
  pool.on("error", (err) => opts.onIdleError?.(err));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    lane,
    prisma,
    exec: async (sql) => {
      await pool.query(sql);
    },
    read: async <T>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as T[],
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
      await afterEnd?.();
    },
  };
}

/**
 * PGlite's shared_buffers. Its 0.3 build starts the backend with `-c shared_buffers=128MB` baked
 * into the WASM (no option overrides it; postgresql.conf is not read) and zeroes all of it: most of
 * the bot's memory. PostgreSQL reads past its buffers from the operating system's page cache (a
 * system call, not a disk read), so a small pool costs little: 8MB against 16MB, `bench:quiz` gave
 * 834 against 842 answers/s (the bench's database is 24 MB on disk, its catalogs included) for
 * 8 MB less resident memory, idle and under load.
 */
export const PGLITE_SHARED_BUFFERS = "8MB";

/**
 * The backend's baked-in `-c` arguments, and what the bot runs with instead. Each is written over
 * the original, same length or shorter and NUL padded, so the argument list keeps its pointers.
 * PGlite zeroes its whole shared memory at start, so every MB of it is resident for the process's
 * life (pg_shmem_allocations: 12 MB with these; 26 MB with 16MB of buffers and the other two as
 * shipped; about 139 MB as shipped, 128 of it buffers).
 * - shared_buffers: see above.
 * - wal_buffers 4MB → -1, PostgreSQL's own default: 1/32 of shared_buffers (256kB); one backend's
 *   short transactions never fill more. 3.75 MB less.
 * - min_wal_size=80MB (PostgreSQL's default anyway) gives its slot to max_connections=5: the lock
 *   and process tables are sized for 100 connections plus workers, and an embedded backend has one
 *   (the pool's connections take turns on it, see pglite-wire.ts). 1.5 MB less.
 */
export const PGLITE_BAKED_SETTINGS: ReadonlyArray<readonly [baked: string, ours: string]> = [
  ["shared_buffers=128MB", `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  ["wal_buffers=4MB", "wal_buffers=-1"],
  ["min_wal_size=80MB", "max_connections=5"],
];

type WasmModule = NonNullable<PGliteOptions["wasmModule"]>;

let compiled: Promise<WasmModule> | undefined;

/**
 * pglite.wasm with PGLITE_BAKED_SETTINGS written over the baked-in arguments, compiled once per
 * process. Should a PGlite update move an argument, that one is left as shipped: the bot still
 * works, with more memory (a test checks every setting).
 */
function pgliteWasm(): Promise<WasmModule> {
  compiled ??= (async () => {
    const file = path.join(path.dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite")), "pglite.wasm");
    const bytes = await readFile(file);
    for (const [baked, ours] of PGLITE_BAKED_SETTINGS) {
      const original = Buffer.from(`${baked}\0`);
      const at = bytes.indexOf(original);
      if (at < 0 || ours.length > baked.length) continue;
      const replacement = Buffer.alloc(original.length);
      replacement.write(ours);
      replacement.copy(bytes, at);
    }
    // Node's type definitions for the build (no DOM library) do not declare the WebAssembly global.
    const wasm = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<WasmModule> } }).WebAssembly;
    return wasm.compile(bytes);
  })();
  return compiled;
}
