import type { Redis } from "ioredis";
import type { Database } from "./database.js";
import { isStorageUnavailable } from "./unavailable.js";

export interface ErasureCompactorOptions {
  redis: Redis;
  db: Pick<Database, "exec" | "lane" | "prisma">;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Tables that hold personal data (e.g. "users", "learning_citizens", "consents", "audit_log", "officer_invites"). */
  tables: string[];
  /** The bound: a compaction runs at most this long after the first erasure it covers. */
  delayMs?: number;
  /** How long to wait for Redis's background rewrite to finish. */
  rewriteTimeoutMs?: number;
}

export const ERASURE_COMPACTION_DELAY_MS = 10 * 60_000;
/** Set while an erasure waits for compaction, so a crash before the run does not lose it. */
export const ERASURE_PENDING_KEY = "erasure-compaction:pending";

/**
 * Removes the copies of erased personal data that deletion leaves on disk:
 * - Redis appends every write to its AOF, so a deleted conversation state (name, phone) stays in
 *   the file until a rewrite, which Redis does by itself only past 64 MB: BGREWRITEAOF.
 * - PostgreSQL keeps deleted rows' bytes in table and index files. Plain VACUUM only marks the
 *   space reusable (the bytes stayed, measured on PGlite); VACUUM FULL writes new files. The
 *   personal-data tables are small, so its exclusive lock lasts milliseconds to a second.
 * - PGlite (our own data directory) also has them in the write-ahead log: with wal_recycle off,
 *   a WAL switch and a CHECKPOINT delete the old segments. An external PostgreSQL's WAL, archives,
 *   replicas and backups are its operator's to bound.
 * Erasures are batched: the first schedules one run `delayMs` later, covering all that follow.
 */
export class ErasureCompactor {
  private readonly redis: Redis;
  private readonly db: Pick<Database, "exec" | "lane" | "prisma">;
  private readonly logger: ErasureCompactorOptions["logger"];
  private readonly tables: string[];
  private readonly delayMs: number;
  private readonly rewriteTimeoutMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** An erasure happened that no finished run covers. */
  private pending = false;
  private closed = false;
  private readonly toldOnce = new Set<string>();

  constructor(opts: ErasureCompactorOptions) {
    for (const t of opts.tables) if (!/^[a-z_][a-z0-9_]*$/.test(t)) throw new Error(`not a table name: ${t}`);
    this.redis = opts.redis;
    this.db = opts.db;
    this.logger = opts.logger;
    this.tables = opts.tables;
    this.delayMs = opts.delayMs ?? ERASURE_COMPACTION_DELAY_MS;
    this.rewriteTimeoutMs = opts.rewriteTimeoutMs ?? 5 * 60_000;
  }

  /** At start-up: schedules the compaction of erasures a crash or kill left uncompacted. */
  async resume(): Promise<void> {
    if (await this.redis.exists(ERASURE_PENDING_KEY)) this.schedule();
  }

  /** Call after each erasure; returns at once. */
  erasureHappened(): void {
    if (this.closed) return;
    // Best effort: if Redis is away the erasure itself failed too, or will be redone.
    this.redis.set(ERASURE_PENDING_KEY, new Date().toISOString(), "NX").catch(() => {});
    this.schedule();
  }

  /** Runs a pending compaction now and waits for it (shutdown, tests). */
  async flush(): Promise<void> {
    this.clearTimer();
    await this.running;
    if (this.pending) await this.start();
  }

  /** Stops scheduling; waits for a run in progress. A pending erasure stays marked in Redis for `resume()`. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    await this.running;
  }

  private schedule(): void {
    this.pending = true;
    if (this.timer || this.running || this.closed) return; // a run is due anyway; a running one reschedules
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.start();
    }, this.delayMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
      // Erasures during the run may postdate the rewrite's snapshot: they need another run.
      if (this.pending && !this.closed) {
        this.pending = false;
        this.schedule();
      }
    });
    return this.running;
  }

  private async run(): Promise<void> {
    this.pending = false;
    const started = Date.now();
    let retry = false;
    const redis = await this.rewriteAof().catch((err: unknown) => {
      retry ||= isStorageUnavailable(err);
      this.logger.warn({ err }, "erasure compaction: Redis AOF rewrite failed");
      return "failed";
    });
    const vacuumed: string[] = [];
    const pglite = this.db.lane === "pglite";
    // Before VACUUM FULL: a checkpoint it triggers must delete old WAL segments, not recycle them.
    if (pglite) await this.db.exec("SET wal_recycle = off").catch(() => {});
    for (const table of this.tables) {
      try {
        await this.db.exec(`VACUUM FULL "${table}"`);
        vacuumed.push(table);
      } catch (err) {
        retry ||= isStorageUnavailable(err);
        this.logger.warn({ err, table }, "erasure compaction: VACUUM FULL failed");
      }
    }
    if (pglite) {
      try {
        await this.purgePgliteWal();
      } catch (err) {
        retry ||= isStorageUnavailable(err);
        this.logger.warn({ err }, "erasure compaction: PGlite WAL purge failed");
      }
    }
    if (retry) this.pending = true; // storage was away: try again after another delay
    else if (!this.pending) await this.redis.del(ERASURE_PENDING_KEY).catch(() => {});
    this.logger.info({ redis, vacuumed, ms: Date.now() - started }, "erasure compaction done");
  }

  /**
   * Deletes PGlite's WAL segments that may hold deleted rows. Segments recycled earlier wait as
   * future segments with their old bytes: switch through each of them (a switch zero-fills the
   * rest of a segment), and a CHECKPOINT with wal_recycle off then deletes them.
   */
  private async purgePgliteWal(): Promise<void> {
    await this.db.exec("SET wal_recycle = off");
    const future = await this.db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
      "SELECT count(*)::int AS n FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name > pg_walfile_name(pg_current_wal_lsn())",
    );
    for (let i = 0; i <= (future[0]?.n ?? 0); i++) {
      // The CHECKPOINT record makes the next switch move on (an empty segment is not switched).
      await this.db.exec("SELECT pg_switch_wal()");
      await this.db.exec("CHECKPOINT");
    }
  }

  /** BGREWRITEAOF and wait for it; "refused" when the Redis does not allow it (a managed one). */
  private async rewriteAof(): Promise<"rewritten" | "no-aof" | "refused"> {
    let persistence: string;
    try {
      persistence = await this.redis.info("persistence");
    } catch (err) {
      if (isStorageUnavailable(err)) throw err;
      return this.refused(err);
    }
    if (field(persistence, "aof_enabled") === "0") {
      this.once("no-aof", "erasure compaction: this Redis has no AOF to rewrite (its RDB snapshots are its operator's to bound)");
      return "no-aof";
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.redis.bgrewriteaof();
        break;
      } catch (err) {
        if (isStorageUnavailable(err)) throw err;
        // A rewrite that started before this erasure would keep its data: wait, then start ours.
        if (attempt === 0 && /already in progress/i.test(String((err as Error).message))) {
          await this.waitForRewrite();
          continue;
        }
        return this.refused(err);
      }
    }
    await this.waitForRewrite();
    return "rewritten";
  }

  private async waitForRewrite(): Promise<void> {
    const deadline = Date.now() + this.rewriteTimeoutMs;
    for (;;) {
      const info = await this.redis.info("persistence");
      if (field(info, "aof_rewrite_in_progress") === "0" && field(info, "aof_rewrite_scheduled") === "0") {
        if (field(info, "aof_last_bgrewrite_status") !== "ok") throw new Error("Redis reports the AOF rewrite failed (aof_last_bgrewrite_status)");
        return;
      }
      if (Date.now() > deadline) throw new Error(`Redis AOF rewrite still running after ${this.rewriteTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private refused(err: unknown): "refused" {
    this.once("refused", "erasure compaction: this Redis refuses BGREWRITEAOF or INFO; its operator bounds how long erased data stays in its files", err);
    return "refused";
  }

  private once(key: string, msg: string, err?: unknown): void {
    if (this.toldOnce.has(key)) return;
    this.toldOnce.add(key);
    this.logger.info(err ? { err } : {}, msg);
  }
}

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(\\S*)`, "m").exec(info)?.[1];
}
