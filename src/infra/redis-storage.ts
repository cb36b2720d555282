import type { Redis } from "ioredis";

/**
 * JSON values in Redis under one key prefix. Serves both grammY's session `StorageAdapter`
 * and the conversations plugin's `VersionedStateStorage` (same read/write/delete shape).
 */
export class RedisJsonStorage<T> {
  /** Reads already on their way for the update being handled (see `readTogether`). */
  private readonly started = new Map<string, Promise<string | null>>();

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly ttlSeconds?: number,
  ) {}

  key(k: string): string {
    return this.prefix + k;
  }

  async read(k: string): Promise<T | undefined> {
    const raw = await this.readRaw(k);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  protected readRaw(k: string): Promise<string | null> {
    const started = this.started.get(k);
    if (started) {
      this.started.delete(k);
      return started;
    }
    return this.redis.get(this.key(k));
  }

  /**
   * Starts the reads of several storages' keys (on the same connection) as one MGET (one Redis round trip instead of one
   * each); each storage's next `read` of its key takes its value from it. Returns the function that
   * forgets reads not taken, to call when the update is done. Only for keys nothing else writes
   * meanwhile: the bot reads a chat's session and conversation under that chat's sequentialize.
   */
  static readTogether(reads: [RedisJsonStorage<unknown>, string][]): () => void {
    const redis = reads[0]![0].redis;
    if (reads.some(([storage]) => storage.redis !== redis)) throw new Error("readTogether: the storages use different Redis connections");
    const all = redis.mget(reads.map(([storage, k]) => storage.key(k)));
    for (const [i, [storage, k]] of reads.entries()) {
      const one = all.then((values) => values[i] ?? null);
      // A failed MGET is the reader's to report; one nobody takes must not be an unhandled rejection.
      one.catch(() => undefined);
      storage.started.set(k, one);
    }
    return () => {
      for (const [storage, k] of reads) storage.started.delete(k);
    };
  }

  async write(k: string, value: T): Promise<void> {
    const json = JSON.stringify(value);
    if (this.ttlSeconds) await this.redis.set(this.key(k), json, "EX", this.ttlSeconds);
    else await this.redis.set(this.key(k), json);
  }

  async delete(k: string): Promise<void> {
    await this.redis.del(this.key(k));
  }

  /** Deletes and says how many keys were there (0 or 1). */
  async deleteCount(k: string): Promise<number> {
    return this.redis.del(this.key(k));
  }
}

/**
 * Session storage that writes only what changed: grammY writes a session back after every
 * update it was read in, though most updates leave it as it was. Empty sessions are not stored.
 */
export class ChangedOnlyJsonStorage<T> extends RedisJsonStorage<T> {
  private readonly lastRead = new Map<string, string>();

  override async read(k: string): Promise<T | undefined> {
    const raw = await this.readRaw(k);
    if (this.lastRead.size > 10_000) this.lastRead.clear();
    this.lastRead.set(k, raw ?? "{}");
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  override async write(k: string, value: T): Promise<void> {
    const json = JSON.stringify(value);
    const previous = this.lastRead.get(k);
    this.lastRead.delete(k);
    if (previous === json) return;
    await super.write(k, value);
  }

  override async delete(k: string): Promise<void> {
    this.lastRead.delete(k);
    await super.delete(k);
  }

  override async deleteCount(k: string): Promise<number> {
    this.lastRead.delete(k);
    return super.deleteCount(k);
  }
}
