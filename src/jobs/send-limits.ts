import type { Redis } from "ioredis";

/** Telegram: about one message a second to a private chat, twenty a minute to a group. */
export const PRIVATE_CHAT_LIMIT = { max: 1, windowMs: 1_000 };
export const GROUP_CHAT_LIMIT = { max: 20, windowMs: 60_000 };

// A sliding window log, shared by every worker of every process through Redis. KEYS[2], when
// given, is the pause a 429 set: while it lives nothing is taken. Returns 0 when a send may go
// now (and counts it), else the milliseconds to wait before asking again.
const TAKE = `
if KEYS[2] then
  local paused = redis.call('PTTL', KEYS[2])
  if paused > 0 then return paused end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1]))
`;

type Take = (key: string, now: number, windowMs: number, max: number, member: string) => Promise<number>;
type TakeWithPause = (key: string, pauseKey: string, now: number, windowMs: number, max: number, member: string) => Promise<number>;
type PacedRedis = Redis & { khbTake: Take; khbTakeUnlessPaused: TakeWithPause };

function withScripts(redis: Redis): PacedRedis {
  const r = redis as unknown as Partial<PacedRedis>;
  if (!r.khbTake) redis.defineCommand("khbTake", { numberOfKeys: 1, lua: TAKE });
  if (!r.khbTakeUnlessPaused) redis.defineCommand("khbTakeUnlessPaused", { numberOfKeys: 2, lua: TAKE });
  return redis as PacedRedis;
}

let seq = 0;
const member = (now: number) => `${now}-${process.pid}-${seq++}`;

/** One message a second per private chat, twenty a minute per group, across processes. */
export class ChatPacer {
  private readonly redis: PacedRedis;

  constructor(redis: Redis, private readonly prefix: string) {
    this.redis = withScripts(redis);
  }

  /** wait 0: send now (`slot` is taken); otherwise wait this many milliseconds and ask again. */
  async take(chatId: number, nowMs = Date.now()): Promise<{ wait: number; slot: string }> {
    // Private chats have positive ids, groups and channels negative ones.
    const limit = chatId > 0 ? PRIVATE_CHAT_LIMIT : GROUP_CHAT_LIMIT;
    const slot = member(nowMs);
    return { wait: await this.redis.khbTake(this.key(chatId), nowMs, limit.windowMs, limit.max, slot), slot };
  }

  /**
   * Telegram answered the send of this slot: count it from now on, as GlobalRate does. A slot is
   * taken before the row is claimed and rendered, which take longer for some rows than others;
   * counted from the take alone, two sends could reach Telegram less than a second apart.
   */
  async settle(chatId: number, slot: string): Promise<void> {
    await this.redis.zadd(this.key(chatId), "XX", Date.now(), slot);
  }

  private key(chatId: number): string {
    return `${this.prefix}:pace:${chatId}`;
  }
}

/**
 * Telegram's bulk limit (about 30 messages/s, 1,000 with paid broadcasting) as a sliding window of
 * the sends of every worker of every process, and the pause a 429 asks for. (BullMQ's limiter
 * counts in fixed windows, which lets a sliding second hold a third more than the limit, and it
 * counts jobs, not messages.) A send is counted from when its slot was taken, then, once Telegram
 * answered, from the answer (no earlier than when Telegram counted it): a request held up on its
 * way (a busy event loop, a slow network) cannot make the next second look emptier than it is.
 */
export class GlobalRate {
  private readonly redis: PacedRedis;
  readonly windowMs: number;

  constructor(redis: Redis, private readonly prefix: string, readonly perSecond: number, marginMs = 10) {
    this.redis = withScripts(redis);
    this.windowMs = 1_000 + marginMs;
  }

  private get pauseKey(): string {
    return `${this.prefix}:rate:paused`;
  }

  private get windowKey(): string {
    return `${this.prefix}:rate:global`;
  }

  /** Waits until a send may go (no pause, room in the window), and counts it; returns its slot. */
  async take(): Promise<string> {
    for (;;) {
      const now = Date.now();
      const slot = member(now);
      const wait = await this.redis.khbTakeUnlessPaused(this.windowKey, this.pauseKey, now, this.windowMs, this.perSecond, slot);
      if (wait === 0) return slot;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Telegram answered the send of this slot: count it from now on. */
  async settle(slot: string): Promise<void> {
    await this.redis.zadd(this.windowKey, "XX", Date.now(), slot);
  }

  /** Telegram said 429: every sender of every process waits exactly `ms` from now. */
  async pause(ms: number): Promise<void> {
    await this.redis.set(this.pauseKey, "1", "PX", Math.max(1, Math.round(ms)));
  }
}
