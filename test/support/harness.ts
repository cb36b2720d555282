import { randomBytes } from "node:crypto";
import type { InlineKeyboardMarkup, Message, User } from "grammy/types";
import { afterAll, afterEach, beforeAll, beforeEach, expect, inject } from "vitest";
import type { BotContext, Deps } from "../../src/bot/context.js";
import { createDeps } from "../../src/bot/deps.js";
import { createBot } from "../../src/bot/index.js";
import type { FloodOptions } from "../../src/bot/middlewares/flood.js";
import { createI18n } from "../../src/i18n.js";
import type { Database } from "../../src/infra/database.js";
import type { Metrics } from "../../src/infra/metrics.js";
import { createRedis, type Redis } from "../../src/infra/redis.js";
import { createQueueRedis } from "../../src/infra/queue-redis.js";
import { openQueues, type DeliveryQueues } from "../../src/jobs/queues.js";
import { createLogger } from "../../src/logger.js";
import type { Bot } from "grammy";
import { openTestDatabase } from "./database.js";
import {
  callbackQuery, command, contactMessage, createFakeFetch, documentMessage, DEFAULT_BOT_TOKEN, FakeTelegram, makeUser, textMessage,
  type MakeUserOptions, type NewUpdate, type RecordedCall,
} from "./telegram/index.js";

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface HarnessOptions {
  adminIds?: string[];
  /** Share a database between harnesses (a "restart" keeps the data). */
  db?: Database;
  /** Share Redis key space between harnesses (a "restart" keeps conversation state). */
  redisPrefix?: string;
  fake?: FakeTelegram;
  /**
   * Flood limits; by default generous (tests drive one person through dozens of steps in a
   * second), the flood tests pass the real ones.
   */
  flood?: FloodOptions;
  /** A Redis client of the test's own (e.g. on a redis-server the test stops and starts). */
  redis?: Redis;
  /** The clock every service reads (a ManualClock's `now` to move time). */
  now?: () => Date;
  /** Counts this bot's updates (khb_updates_total). */
  metrics?: Metrics;
  /** Broadcasts to more people than this need a second person's approval (default 1000). */
  approvalThreshold?: number;
}

/**
 * The real bot (createBot with real Redis and a real database) wired to the strict fake
 * Telegram through a recording client.fetch; updates are fed with handleUpdate.
 */
export class Harness {
  private updateId = 1;
  private constructor(
    readonly bot: Bot<BotContext>,
    readonly fake: FakeTelegram,
    readonly db: Database,
    readonly redis: Redis,
    readonly deps: Deps,
    readonly redisPrefix: string,
    readonly queues: DeliveryQueues,
    private readonly ownsDb: boolean,
    private readonly log: LogLine[],
  ) {}

  static async create(opts: HarnessOptions = {}): Promise<Harness> {
    const db = opts.db ?? (await openTestDatabase());
    const redisPrefix = opts.redisPrefix ?? `t:${randomBytes(5).toString("hex")}:`;
    // The bot's 800 ms command limit is for a Redis that is away; on a loaded test machine an
    // embedded-database query can hold this thread that long. Outage tests bring their own client.
    const redis = opts.redis ?? createRedis(inject("redisUrl"), { keyPrefix: redisPrefix, commandTimeout: 5_000 });
    const fake = opts.fake ?? new FakeTelegram();
    // Warnings and errors are kept, so a test can check that an update was handled without one.
    const logged: LogLine[] = [];
    const level = process.env.TEST_LOG_LEVEL ?? "warn";
    const logger = createLogger(level, { write: (line: string) => void logged.push(JSON.parse(line) as LogLine) });
    // BullMQ keys live under their own prefix (BullMQ refuses ioredis' keyPrefix).
    const queuePrefix = `t-${redisPrefix.replace(/[^A-Za-z0-9]/g, "")}`;
    const queues = openQueues(createQueueRedis(inject("redisUrl"), "queue"), queuePrefix);
    const deps = createDeps({ prisma: db.prisma, read: db.read, redis, i18n: await createI18n(), logger, adminIds: new Set(opts.adminIds ?? []), queues, now: opts.now, approvalThreshold: opts.approvalThreshold });
    const bot = createBot(
      DEFAULT_BOT_TOKEN,
      deps,
      { botInfo: fake.botInfo, client: { fetch: createFakeFetch(fake), apiRoot: "http://fake-telegram.invalid" } },
      { flood: opts.flood ?? { limit: 10_000, windowMs: 1_000, maxQueuedPerChat: 8 }, metrics: opts.metrics },
    );
    return new Harness(bot, fake, db, redis, deps, redisPrefix, queues, !opts.db, logged);
  }

  /** BullMQ's key prefix of this harness's delivery queues (a TestEngine works them). */
  get queuePrefix(): string {
    return `t-${this.redisPrefix.replace(/[^A-Za-z0-9]/g, "")}`;
  }

  /** Forgets what was logged (each test starts with an empty log). */
  clearLog(): void {
    this.log.length = 0;
  }

  /** Log lines at error level (or any level at or above `level`: 40 warn, 50 error). */
  logged(level = 50): LogLine[] {
    return this.log.filter((l) => l.level >= level);
  }

  user(id: number, options: MakeUserOptions = {}): TestUser {
    return new TestUser(this, makeUser(id, { first_name: "Hoa", ...options }));
  }

  private readonly callbackIds: string[] = [];

  /** Callback queries the bot never answered (Telegram shows a spinner until it does). */
  unansweredCallbackQueries(): string[] {
    const answered = new Set(this.fake.calls.filter((c) => c.method === "answerCallbackQuery" && c.ok).map((c) => String(c.payload.callback_query_id)));
    return this.callbackIds.filter((id) => !answered.has(id));
  }

  async handle(update: NewUpdate): Promise<void> {
    if (update.callback_query) this.callbackIds.push(update.callback_query.id);
    const full = { ...update, update_id: this.updateId++ };
    this.fake.registerUpdate(full);
    await this.bot.handleUpdate(full as never);
  }

  /** Stops this bot instance; the database stays when it was shared. */
  async close(): Promise<void> {
    await this.queues.close();
    this.redis.disconnect();
    if (this.ownsDb) await this.db.close();
  }
}

export class TestUser {
  private mark = 0;
  constructor(readonly h: Harness, readonly tg: User) {}

  get id(): number {
    return this.tg.id;
  }

  /** Sends text; a leading "/" makes it a command with Telegram's bot_command entity. */
  async send(text: string): Promise<string[]> {
    this.mark = this.h.fake.calls.length;
    if (text.startsWith("/")) {
      const [cmd, ...rest] = text.split(" ");
      await this.h.handle(command(this.tg, cmd!, rest.join(" ")));
    } else {
      await this.h.handle(textMessage(this.tg, text));
    }
    return this.replies();
  }

  async sendUpdate(update: NewUpdate): Promise<string[]> {
    this.mark = this.h.fake.calls.length;
    await this.h.handle(update);
    return this.replies();
  }

  /** Sends a file (bytes the bot can download with getFile), optionally with a caption. */
  async sendDocument(content: Buffer | string, fileName: string, options: { caption?: string; mimeType?: string } = {}): Promise<string[]> {
    const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    return this.sendUpdate(documentMessage(this.tg, this.h.fake.userDocument(bytes, fileName, options.mimeType), options.caption));
  }

  async shareContact(phone: string, ownerId: number = this.id): Promise<string[]> {
    return this.sendUpdate(contactMessage(this.tg, { phone_number: phone, user_id: ownerId, first_name: this.tg.first_name }));
  }

  /**
   * Presses the button whose label contains `label` (or whose data equals it) on the newest bot
   * message that has such a button, as a person would.
   */
  async press(label: string): Promise<string[]> {
    const { message, data } = this.findButton(label);
    return this.sendUpdate(callbackQuery(this.tg, data, message));
  }

  /** Sends a callback query with arbitrary data (forged or stale). */
  async pressData(data: string, message?: Message): Promise<string[]> {
    return this.sendUpdate(callbackQuery(this.tg, data, message));
  }

  /** Texts the bot sent or edited into this chat since the last action, plus callback answers. */
  replies(): string[] {
    return this.callsSince().flatMap((c) => {
      if (c.method === "answerCallbackQuery") return typeof c.payload.text === "string" ? [`[answer] ${c.payload.text}`] : [];
      // Taking spent buttons away is not something the person reads.
      if (c.method === "editMessageReplyMarkup") return [];
      const r = c.result as { text?: string; caption?: string } | undefined;
      return r?.text ?? r?.caption ? [r.text ?? r.caption!] : [];
    });
  }

  callsSince(): RecordedCall[] {
    return this.h.fake.calls.slice(this.mark).filter((c) => Number(c.payload.chat_id ?? this.id) === this.id || c.method === "answerCallbackQuery");
  }

  /** Buttons (labels) of the newest bot message in this chat with an inline keyboard. */
  buttons(): string[] {
    const m = this.messagesWithKeyboard().at(-1);
    return (m?.reply_markup as InlineKeyboardMarkup | undefined)?.inline_keyboard.flat().map((b) => b.text) ?? [];
  }

  private messagesWithKeyboard(): Message[] {
    return this.h.fake
      .sent(this.id)
      .map((c) => c.result as Message)
      .map((m) => this.h.fake.getMessage(this.id, m.message_id) ?? m)
      .filter((m) => (m.reply_markup as InlineKeyboardMarkup | undefined)?.inline_keyboard?.length);
  }

  private findButton(label: string): { message: Message; data: string } {
    for (const m of this.messagesWithKeyboard().reverse()) {
      for (const b of (m.reply_markup as InlineKeyboardMarkup).inline_keyboard.flat()) {
        if ("callback_data" in b && b.callback_data && (b.text.includes(label) || b.callback_data === label)) {
          return { message: m, data: b.callback_data };
        }
      }
    }
    throw new Error(`no button "${label}" in chat ${this.id}`);
  }
}

/**
 * One harness for a test file: created before its tests, checked after each (every button press
 * was answered), closed after all. Returns a stand-in usable at the top level of the file, which
 * forwards to the harness once it exists.
 */
export function useHarness(opts?: HarnessOptions): Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await Harness.create(opts);
  });
  beforeEach(() => harness?.clearLog());
  afterEach(() => expect(harness!.unansweredCallbackQueries()).toEqual([]));
  afterAll(() => harness?.close());
  return new Proxy({} as Harness, {
    get(_target, prop) {
      if (!harness) throw new Error("useHarness: used before the harness was created (outside a test)");
      const value = Reflect.get(harness, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(harness) : value;
    },
  });
}
