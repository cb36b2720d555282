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
    const raw = await this.redis.get(this.key(k));
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async write(k: string, value: T): Promise<void> {
    const json = JSON.stringify(value);
    if (this.ttlSeconds) await this.redis.set(this.key(k), json, "EX", this.ttlSeconds);
    else await this.redis.set(this.key(k), json);
  }

  async delete(k: string): Promise<void> {
    await this.redis.del(this.key(k));
  }
}
