import { Composer, InlineKeyboard } from "grammy";
import type { QuizRound } from "../../generated/prisma/client.js";
import { formatMinute } from "../../domain/quizzes/daily.js";
import { summaryText } from "../../domain/quizzes/format.js";
import { TOPICS } from "../../domain/quizzes/question-bank.js";
import { DEFAULT_OPEN_PERIOD, ROUND_SIZE, roundLang, type Lang } from "../../domain/quizzes/quiz-rounds.js";
import { QUIZ_DAILY } from "../../domain/quizzes/daily.js";
import { roleAtLeast } from "../../domain/users/user-service.js";
import { localeFromTelegram, type TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { contestFinished } from "./contest.js";

/**
 * Quizzes in chats: /quiz (a round of native quiz polls), the answers (poll_answer), /myquiz and
 * the daily question's time; in groups, officers run a round for everyone. Polls after the first
 * follow the answer here; when nobody answers, the time-out sweep sends the next one through the
 * delivery engine.
 */
export const quizFeature = new Composer<BotContext>();
const dm = quizFeature.chatType("private");
const groups = quizFeature.chatType(["group", "supergroup"]);

const raw = { interpolation: { escapeValue: false } } as const;
const DAILY_TIMES = ["0700", "1200", "1900", "2000", "2100"] as const;

const langOf = (ctx: BotContext): Lang => (ctx.locale === "en" ? "en" : "vi");

function topicTitle(t: TFunction, lang: Lang, key: string): string {
  return key === "mixed" ? t("quiz:mixed") : (TOPICS.find((x) => x.key === key)?.title[lang] ?? key);
}

function topicKeyboard(ctx: BotContext): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const topic of TOPICS) kb.text(topic.title[langOf(ctx)], cb.quizTopic.pack(topic.key)).row();
  return kb.text(ctx.t("quiz:mixed"), cb.quizTopic.pack("mixed"));
}

/** Sends the round's current question as a quiz poll and records it as on screen. */
async function sendQuestion(ctx: BotContext, round: QuizRound): Promise<void> {
  const { quizRounds } = ctx.deps.services;
  const poll = await quizRounds.currentPoll(round);
  if (!poll) return;
  const sent = await ctx.api.raw.sendPoll({ chat_id: Number(round.chatId), ...poll.payload } as never);
  await quizRounds.markSent(round.id, round.current, sent.poll!.id, sent.message_id, poll.perm);
}

async function sendSummary(ctx: BotContext, round: QuizRound, userId: number): Promise<void> {
  const summary = await ctx.deps.services.quizRounds.summary(round.id, userId);
  if (!summary) return;
  const lang = roundLang(round);
  await ctx.api.sendMessage(Number(round.chatId), summaryText(ctx.deps.i18n.t(lang), summary, lang), { parse_mode: "HTML", link_preview_options: { is_disabled: true } });
}

function inProgressKeyboard(ctx: BotContext): InlineKeyboard {
  return new InlineKeyboard().text(ctx.t("quiz:continue_button"), cb.quizRound.pack("go")).text(ctx.t("quiz:stop_button"), cb.quizRound.pack("stop"));
}

dm.command("quiz", async (ctx) => {
  const active = await ctx.deps.services.quizRounds.activeIn(ctx.chat.id);
  if (active) {
    await ctx.reply(ctx.t("quiz:in_progress", { n: active.current + 1, total: active.questionIds.length, score: active.score }), { reply_markup: inProgressKeyboard(ctx) });
    return;
  }
  await ctx.reply(ctx.t("quiz:pick_topic", { count: ROUND_SIZE, seconds: DEFAULT_OPEN_PERIOD }), { parse_mode: "HTML", reply_markup: topicKeyboard(ctx) });
});

quizFeature.use(
  onButton(cb.quizTopic, async (ctx, topic) => {
    const { quizRounds, citizens } = ctx.deps.services;
    if (topic !== "mixed" && !TOPICS.some((x) => x.key === topic)) {
      await ctx.answerCallbackQuery({ text: ctx.t("quiz:unknown_topic") });
      return;
    }
    const active = await quizRounds.activeIn(ctx.from.id);
    if (active) {
      await ctx.answerCallbackQuery();
      await ctx.editMessageText(ctx.t("quiz:in_progress", { n: active.current + 1, total: active.questionIds.length, score: active.score }), { reply_markup: inProgressKeyboard(ctx) });
      return;
    }
    await ctx.answerCallbackQuery();
    // The 34-button… here 6-button keyboard goes; the choice stays readable in the chat.
    await ctx.editMessageText(ctx.t("quiz:topic_chosen", { topic: topicTitle(ctx.t, langOf(ctx), topic), ...raw }));
    const card = await citizens.getCard(String(ctx.from.id));
    const ids = await quizRounds.pick(ctx.from.id, topic, card?.provinceCode ?? null);
    if (ids.length === 0) {
      await ctx.reply(ctx.t("quiz:no_questions"));
      return;
    }
    const round = await quizRounds.start({ kind: "solo", userId: ctx.from.id, chatId: ctx.from.id, topic, locale: langOf(ctx), questionIds: ids });
    await sendQuestion(ctx, round);
  }),
  onButton(cb.quizRound, async (ctx, action) => {
    const { quizRounds } = ctx.deps.services;
    const active = await quizRounds.activeIn(ctx.from.id);
    if (!active) {
      await ctx.answerCallbackQuery({ text: ctx.t("quiz:no_round") });
      await ctx.editMessageReplyMarkup().catch(() => {});
      return;
    }
    if (action === "go") {
      await ctx.answerCallbackQuery({ text: ctx.t("quiz:continue_answer", { n: active.current + 1 }) });
      await ctx.editMessageReplyMarkup().catch(() => {});
      return;
    }
    await ctx.answerCallbackQuery();
    await quizRounds.abandon(active.id);
    await ctx.editMessageText(ctx.t("quiz:stopped"));
    if (active.current > 0) await sendSummary(ctx, (await quizRounds.get(active.id))!, ctx.from.id);
  }),
);

/**
 * A vote in one of the bot's quiz polls (private rounds, daily questions, prompts, group rounds).
 * The quiz is the only feature poll answers are for: createBot routes them here before the
 * session and the features, so an answer neither walks past every other feature's handlers nor
 * reads the session. What it says is in its round's language (the polls' own); a vote on a poll
 * with no round (a stale one) reads the person's saved language then.
 */
export const quizAnswersFeature = new Composer<BotContext>();
quizAnswersFeature.on("poll_answer", async (ctx) => {
  const answer = ctx.pollAnswer;
  const user = answer.user;
  // Votes on behalf of a channel, and retracted votes (quiz polls cannot be retracted), are not answers.
  if (!user || answer.option_ids.length === 0) return;
  const { quizRounds, quizDaily } = ctx.deps.services;
  const outcome = await quizRounds.answer(answer.poll_id, user.id, answer.option_ids);
  const tell = (text: string, html = false) =>
    ctx.api.sendMessage(user.id, text, html ? { parse_mode: "HTML" } : {}).catch((err: unknown) => ctx.logger.debug({ err }, "could not tell a voter"));
  if (outcome.status === "unknown") {
    const saved = (await ctx.deps.sessions.read(String(user.id)))?.locale;
    await tell(ctx.deps.i18n.t(saved ?? localeFromTelegram(user.language_code))("quiz:stale"));
    return;
  }
  const round = outcome.round;
  const lang = roundLang(round);
  const t = ctx.deps.i18n.t(lang);
  switch (outcome.status) {
    case "late":
      if (round.kind !== "group") await tell(t("quiz:late"));
      return;
    case "duplicate":
      return;
    case "recorded":
      break;
  }
  if (round.kind === "group") return;
  if (round.kind === "daily") {
    const streak = await quizDaily.answered(user.id);
    const q = (await quizRounds.questionsById([outcome.questionId])).get(outcome.questionId);
    const verdict = outcome.correct || !q
      ? t("quiz:daily_right")
      : t("quiz:daily_wrong", { answer: q.options[lang][q.correct], source: q.source[lang] });
    await tell(`${verdict}\n${t("quiz:daily_streak", { streak: streak.streak, best: streak.best })}`, true);
    return;
  }
  // contest hook (src/bot/features/contest.ts): the tie-break question instead of the summary.
  if (round.kind === "contest" && round.state === "finished") return contestFinished(ctx, round);
  if (round.state === "active") await sendQuestion(ctx, round);
  else if (round.state === "finished") await sendSummary(ctx, round, user.id);
});

async function myQuizView(ctx: BotContext, userId: number): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const { quizRounds, quizDaily, topicMutes } = ctx.deps.services;
  const lang = langOf(ctx);
  const [stats, profile, muted] = await Promise.all([quizRounds.stats(userId), quizDaily.profile(userId), topicMutes.isMuted(userId, QUIZ_DAILY)]);
  const lines = [ctx.t("quiz:my_title"), ""];
  if (stats.rounds === 0 && stats.topics.length === 0) lines.push(ctx.t("quiz:my_empty"));
  else {
    lines.push(ctx.t("quiz:my_rounds", { rounds: stats.rounds, best: stats.bestScore, of: stats.bestOf }));
    lines.push(ctx.t("quiz:my_streak", { streak: quizDaily.currentStreak(profile), best: profile?.bestStreak ?? 0 }));
    if (stats.topics.length) {
      lines.push("", ctx.t("quiz:my_accuracy"));
      for (const t of stats.topics) lines.push(ctx.t("quiz:my_topic_line", { topic: topicTitle(ctx.t, lang, t.topic), pct: Math.round((100 * t.right) / t.total), right: t.right, total: t.total, ...raw }));
    }
    if (stats.due > 0) lines.push("", ctx.t("quiz:my_due", { count: stats.due }));
  }
  const on = profile?.dailyMinute !== null && profile?.dailyMinute !== undefined;
  lines.push("", on ? (muted ? ctx.t("quiz:daily_muted") : ctx.t("quiz:daily_on", { time: formatMinute(profile.dailyMinute!) })) : ctx.t("quiz:daily_off"));
  const keyboard = new InlineKeyboard().text(ctx.t(on ? "quiz:daily_change_button" : "quiz:daily_enable_button"), cb.quizDaily.pack("menu"));
  if (on) keyboard.row().text(ctx.t("quiz:daily_disable_button"), cb.quizDaily.pack("off"));
  return { text: lines.join("\n"), keyboard };
}

dm.command("myquiz", async (ctx) => {
  const view = await myQuizView(ctx, ctx.from.id);
  await ctx.reply(view.text, { parse_mode: "HTML", reply_markup: view.keyboard });
});

quizFeature.use(
  onButton(cb.quizDaily, async (ctx: ButtonContext, value) => {
    const { quizDaily, topicMutes } = ctx.deps.services;
    const userId = ctx.from.id;
    if (value === "menu") {
      await ctx.answerCallbackQuery();
      const kb = new InlineKeyboard();
      DAILY_TIMES.forEach((v, i) => {
        kb.text(`${v.slice(0, 2)}:${v.slice(2)}`, cb.quizDaily.pack(v));
        if (i % 3 === 2) kb.row();
      });
      await ctx.editMessageText(ctx.t("quiz:daily_pick_time"), { reply_markup: kb });
      return;
    }
    if (value === "off") {
      await quizDaily.setTime(userId, null);
      await ctx.answerCallbackQuery({ text: ctx.t("quiz:daily_disabled") });
    } else {
      const minute = Number(value.slice(0, 2)) * 60 + Number(value.slice(2));
      await quizDaily.setTime(userId, minute);
      // Choosing a time is asking for it: a mute from /settings would silently win otherwise.
      await topicMutes.unmute(userId, QUIZ_DAILY);
      await ctx.answerCallbackQuery({ text: ctx.t("quiz:daily_set", { time: formatMinute(minute) }) });
    }
    const view = await myQuizView(ctx, userId);
    await ctx.editMessageText(view.text, { parse_mode: "HTML", reply_markup: view.keyboard });
  }),
);

/** Text typed while a question is on screen: the answer is a tap in the poll. */
dm.on("message:text", async (ctx, next) => {
  if (ctx.message.text.startsWith("/")) return next();
  const active = await ctx.deps.services.quizRounds.activeIn(ctx.chat.id);
  if (!active) return next();
  await ctx.reply(ctx.t("quiz:poll_open_hint", { n: active.current + 1, total: active.questionIds.length }));
});

// ---------------------------------------------------------------- groups

function addressedToUs(ctx: BotContext, text: string): boolean {
  const target = text.split(/\s/)[0]!.split("@")[1];
  return !target || target.toLowerCase() === ctx.me.username.toLowerCase();
}

groups.command("quiz", async (ctx) => {
  if (!addressedToUs(ctx, ctx.message.text)) return;
  const { quizRounds, users } = ctx.deps.services;
  const access = await users.access(String(ctx.from.id));
  if (!roleAtLeast(access.role, "officer")) {
    await ctx.reply(ctx.t("quiz:group_officer_only"), { reply_parameters: { message_id: ctx.message.message_id, allow_sending_without_reply: true } });
    return;
  }
  const active = await quizRounds.activeIn(ctx.chat.id, ["group"]);
  if (active) {
    await ctx.reply(ctx.t("quiz:group_in_progress", { n: active.current + 1, total: active.questionIds.length }));
    return;
  }
  const arg = ctx.match.trim().toLowerCase();
  const topic = TOPICS.some((x) => x.key === arg) ? arg : "mixed";
  const ids = await quizRounds.pick(ctx.chat.id, topic, access.scope.provinceCode ?? null);
  if (ids.length === 0) {
    await ctx.reply(ctx.t("quiz:no_questions"));
    return;
  }
  const round = await quizRounds.start({ kind: "group", userId: ctx.from.id, chatId: ctx.chat.id, topic, locale: langOf(ctx), questionIds: ids });
  await ctx.reply(ctx.t("quiz:group_started", { count: ids.length, seconds: round.openPeriod }), { parse_mode: "HTML" });
  await sendQuestion(ctx, round);
});

groups.command("quizstop", async (ctx) => {
  if (!addressedToUs(ctx, ctx.message.text)) return;
  const { quizRounds, users } = ctx.deps.services;
  const access = await users.access(String(ctx.from.id));
  if (!roleAtLeast(access.role, "officer")) {
    await ctx.reply(ctx.t("quiz:group_officer_only"));
    return;
  }
  const active = await quizRounds.activeIn(ctx.chat.id, ["group"]);
  if (!active) {
    await ctx.reply(ctx.t("quiz:group_none"));
    return;
  }
  await quizRounds.abandon(active.id);
  await ctx.reply(ctx.t("quiz:group_stopped"));
});

groups.command("help", async (ctx) => {
  if (!addressedToUs(ctx, ctx.message.text)) return;
  await ctx.reply(ctx.t("quiz:group_help"));
});
