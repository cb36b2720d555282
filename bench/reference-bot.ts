/**
 * The benchmark's reference, run by bench/updates.ts in a process of its own: bare grammY +
 * conversations in Redis, the same number of steps and the very same replies (texts, HTML,
 * keyboards) our bot sent, but no session, no i18n, no validation and no database. So the ratio
 * measures what our architecture costs, not message sizes. It takes updates as a webhook, like
 * our bot does in the benchmark, and prints "listening <port>" when ready.
 *
 *   REF_API_ROOT (fake Bot API), REF_REDIS_URL, REF_KEY_PREFIX, REF_REPLIES (JSON file), REF_SECRET
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { conversations, createConversation, type Conversation, type ConversationFlavor } from "@grammyjs/conversations";
import { sequentialize } from "@grammyjs/runner";
import { Bot, webhookCallback, type Context } from "grammy";
import { sessionKey } from "../src/bot/session-key.js";
import { createRedis } from "../src/infra/redis.js";
import { RedisJsonStorage } from "../src/infra/redis-storage.js";
import { DEFAULT_BOT_TOKEN } from "../test/support/telegram/index.js";

/** A call our bot made for one update; an edit names its message by position among those sent. */
export type Reply =
  | { method: "sendMessage"; text: string; other: Record<string, unknown> }
  | { method: "editMessageText" | "editMessageReplyMarkup"; text?: string; other: Record<string, unknown>; target: number };

const env = (name: string): string => process.env[name] ?? (console.error(`${name} is not set`), process.exit(2));

const replies = JSON.parse(readFileSync(env("REF_REPLIES"), "utf8")) as Reply[][];
const redis = createRedis(env("REF_REDIS_URL"), { keyPrefix: env("REF_KEY_PREFIX") });

type C = ConversationFlavor<Context>;
const bot = new Bot<C>(DEFAULT_BOT_TOKEN, { client: { apiRoot: env("REF_API_ROOT") } });
const storage = new RedisJsonStorage<unknown>(redis, "ref:conv:");
bot.use(sequentialize(sessionKey));
bot.use(conversations<C, Context>({ storage: { type: "key", getStorageKey: sessionKey, adapter: storage as never } }));
/** Makes the same calls ours made for one update: sends, and edits of the same messages. */
async function replay(c: Context, step: Reply[], sent: number[]): Promise<void> {
  for (const r of step) {
    if (r.method === "sendMessage") {
      sent.push((await c.reply(r.text, r.other)).message_id);
    } else if (r.method === "editMessageText") {
      await c.api.editMessageText(c.chat!.id, sent[r.target]!, r.text!, r.other);
    } else {
      await c.api.editMessageReplyMarkup(c.chat!.id, sent[r.target]!, r.other);
    }
  }
}

async function flow(conversation: Conversation<C, Context>, ctx: Context) {
  const sent: number[] = [];
  await replay(ctx, replies[0]!, sent);
  for (let step = 1; step < replies.length; step++) {
    const c = await conversation.wait();
    if (c.callbackQuery) await c.answerCallbackQuery();
    await replay(c, replies[step]!, sent);
  }
}
bot.use(createConversation(flow, { id: "flow" }));
bot.command("start", (ctx) => ctx.conversation.enter("flow"));

await bot.init();
const handle = webhookCallback(bot, "http", { secretToken: env("REF_SECRET"), onTimeout: "return", timeoutMilliseconds: 9_000 });
const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    // Why the reference failed an update: on the bench's error output with BENCH_ECHO=1.
    const cause = (err as { error?: unknown }).error;
    const why = cause instanceof Error ? ` (${(cause as NodeJS.ErrnoException).code ?? ""} ${cause.message})` : "";
    console.error(`reference: update failed: ${err instanceof Error ? err.message : String(err)}${why}`);
    if (!res.headersSent) res.writeHead(500).end();
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  redis.disconnect();
});
