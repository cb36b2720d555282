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
 * the bot's memory. The bot's whole database is a few MB, so 16MB caches all of it.
 */
export const PGLITE_SHARED_BUFFERS = "16MB";

type WasmModule = NonNullable<PGliteOptions["wasmModule"]>;

let compiled: Promise<WasmModule> | undefined;

/**
 * pglite.wasm with PGLITE_SHARED_BUFFERS written over the baked-in argument (same length, NUL
 * padded), compiled once per process. Should a PGlite update move that argument, the module is
 * used as shipped: the bot still works, with more memory (a test checks the setting).
 */
function pgliteWasm(): Promise<WasmModule> {
  compiled ??= (async () => {
    const file = path.join(path.dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite")), "pglite.wasm");
    const bytes = await readFile(file);
    const baked = Buffer.from("shared_buffers=128MB\0");
    const at = bytes.indexOf(baked);
    if (at >= 0) {
      const ours = Buffer.alloc(baked.length);
      ours.write(`shared_buffers=${PGLITE_SHARED_BUFFERS}`);
      ours.copy(bytes, at);
    }
    // Node's type definitions for the build (no DOM library) do not declare the WebAssembly global.
    const wasm = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<WasmModule> } }).WebAssembly;
    return wasm.compile(bytes);
  })();
  return compiled;
}
