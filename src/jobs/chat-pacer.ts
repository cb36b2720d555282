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

export class ChatPacer {
  private readonly redis: PacedRedis;
  private seq = 0;

  constructor(redis: Redis, private readonly prefix: string) {
    redis.defineCommand("khbPaceTake", { numberOfKeys: 1, lua: TAKE });
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
