/**
 * bench:quiz's reference, run in a process of its own: a bare grammY bot that keeps each round in
 * the same Redis (no database, no session, no i18n) and answers each poll_answer with the next
 * sendPoll, from the same question bank and the same payloads. It prints "listening <port>".
 *
 *   REF_API_ROOT (fake Bot API), REF_REDIS_URL, REF_KEY_PREFIX, REF_SECRET
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Bot, webhookCallback } from "grammy";
import { loadQuestionBank } from "../src/domain/quizzes/question-bank.js";
import { pollMessage, type QuestionRow } from "../src/domain/quizzes/quiz-rounds.js";
import { createRedis } from "../src/infra/redis.js";
import { DEFAULT_BOT_TOKEN } from "../test/support/telegram/index.js";

const env = (name: string): string => process.env[name] ?? (console.error(`${name} is not set`), process.exit(2));
const redis = createRedis(env("REF_REDIS_URL"), { keyPrefix: env("REF_KEY_PREFIX") });
const bank = loadQuestionBank() as unknown as QuestionRow[];
const ROUND = 10;

interface Round { qs: number[]; idx: number; score: number; perm: number[] }

const bot = new Bot(DEFAULT_BOT_TOKEN, { client: { apiRoot: env("REF_API_ROOT") } });

async function ask(chatId: number, round: Round): Promise<void> {
  const q = bank[round.qs[round.idx]!]!;
  const poll = pollMessage(q, round.idx, ROUND, "vi", 30);
  round.perm = poll.perm;
  const sent = await bot.api.raw.sendPoll({ chat_id: chatId, ...poll.payload } as never);
  await redis.set(`poll:${sent.poll!.id}`, String(chatId), "EX", 3600);
  await redis.set(`round:${chatId}`, JSON.stringify(round), "EX", 3600);
}

bot.command("quiz", (ctx) => ctx.reply("Chọn chủ đề", { reply_markup: { inline_keyboard: [[{ text: "Tổng hợp", callback_data: "qz:t:mixed" }]] } }));
bot.callbackQuery(/^qz:t:/, async (ctx) => {
  await ctx.answerCallbackQuery();
  await ctx.editMessageText("✅ Chủ đề: Tổng hợp");
  const qs = Array.from({ length: ROUND }, () => Math.floor(Math.random() * bank.length));
  await ask(ctx.from.id, { qs, idx: 0, score: 0, perm: [] });
});
bot.on("poll_answer", async (ctx) => {
  const chat = await redis.get(`poll:${ctx.pollAnswer.poll_id}`);
  if (!chat) return;
  const raw = await redis.get(`round:${chat}`);
  if (!raw) return;
  const round = JSON.parse(raw) as Round;
  const q = bank[round.qs[round.idx]!]!;
  if (round.perm[ctx.pollAnswer.option_ids[0]!] === q.correct) round.score++;
  await redis.del(`poll:${ctx.pollAnswer.poll_id}`);
  round.idx++;
  if (round.idx < ROUND) await ask(Number(chat), round);
  else {
    await redis.del(`round:${chat}`);
    await ctx.api.sendMessage(Number(chat), `🏁 Kết thúc lượt: đúng ${round.score}/${ROUND} câu`);
  }
});

await bot.init();
const handle = webhookCallback(bot, "http", { secretToken: env("REF_SECRET"), onTimeout: "return", timeoutMilliseconds: 9_000 });
const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500).end();
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  redis.disconnect();
});
