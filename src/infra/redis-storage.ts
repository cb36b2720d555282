import type { Redis } from "ioredis";

/**
 * JSON values in Redis under one key prefix. Serves both grammY's session `StorageAdapter`
 * and the conversations plugin's `VersionedStateStorage` (same read/write/delete shape).
 */
export class RedisJsonStorage<T> {
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
    return this.redis.get(this.key(k));
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
