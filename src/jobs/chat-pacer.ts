import type { Redis } from "ioredis";

/** Telegram: about one message a second to a private chat, twenty a minute to a group. */
export const PRIVATE_CHAT_LIMIT = { max: 1, windowMs: 1_000 };
export const GROUP_CHAT_LIMIT = { max: 20, windowMs: 60_000 };

// A sliding window per chat, shared by every worker of every process through Redis.
// Returns 0 when a send may go now (and counts it), else the milliseconds until it may.
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1]))
`;

type PacedRedis = Redis & { khbPaceTake(key: string, now: number, windowMs: number, max: number, member: string): Promise<number> };

/**
 * Telegram's bulk limit (about 30 messages/s, 1,000 with paid broadcasting) as a sliding window of
 * the sends of every worker of every process. BullMQ's own limiter counts in fixed windows, which
 * lets any sliding second hold up to a third more than the limit (and Telegram answers 429s).
 * The window is a little longer than a second: a request taken 1,000 ms after another may reach
 * Telegram a few milliseconds sooner.
 */
export class GlobalRate {
  private readonly redis: PacedRedis;
  private seq = 0;
  readonly windowMs: number;

  constructor(redis: Redis, private readonly prefix: string, readonly perSecond: number, marginMs = 25) {
    if (!(redis as unknown as Partial<PacedRedis>).khbPaceTake) redis.defineCommand("khbPaceTake", { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as PacedRedis;
    this.windowMs = 1_000 + marginMs;
  }

  /** Waits until a send may go, and counts it. */
  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const wait = await this.redis.khbPaceTake(`${this.prefix}:rate:global`, now, this.windowMs, this.perSecond, `${now}-${process.pid}-${this.seq++}`);
      if (wait === 0) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

export class ChatPacer {
  private readonly redis: PacedRedis;
  private seq = 0;

  constructor(redis: Redis, private readonly prefix: string) {
    if (!(redis as unknown as Partial<PacedRedis>).khbPaceTake) redis.defineCommand("khbPaceTake", { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as PacedRedis;
  }

  /** 0: send now (the slot is taken); otherwise wait this many milliseconds and ask again. */
  async take(chatId: number, nowMs = Date.now()): Promise<number> {
    // Private chats have positive ids, groups and channels negative ones.
    const limit = chatId > 0 ? PRIVATE_CHAT_LIMIT : GROUP_CHAT_LIMIT;
    const member = `${nowMs}-${process.pid}-${this.seq++}`;
    return this.redis.khbPaceTake(`${this.prefix}:pace:${chatId}`, nowMs, limit.windowMs, limit.max, member);
  }
}
