import { Composer, InlineKeyboard, InputFile } from "grammy";
import type { QuizRound } from "../../generated/prisma/client.js";
import { contestCsv, contestXlsx, formatNumber, rankLine, tiebreakPromptText } from "../../domain/quizzes/contest-format.js";
import { contestScope, contestState, numberAnswer, type StartRefusal } from "../../domain/quizzes/contests.js";
import { formatDuration } from "../../domain/quizzes/format.js";
import { roundLang, type Lang } from "../../domain/quizzes/quiz-rounds.js";
import { escapeHtml } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { CONTEST_FLOW } from "../flows/contest-new.js";
import { formatDateTime } from "../format/dates.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { describeScope } from "./scope.js";

/**
 * Contests: /contest (open contests a person may enter, an attempt per button), the tie-break
 * number after an attempt's last question, and for officers /contest_new, /contests, the ranking
 * and the CSV and XLSX exports. Role and scope are read from the database on every command and button.
 */
export const contestFeature = new Composer<BotContext>();
const dm = contestFeature.chatType("private");

const raw = { interpolation: { escapeValue: false } } as const;
const langOf = (ctx: BotContext): Lang => (ctx.locale === "en" ? "en" : "vi");
/** Button labels carry a contest's title, cut to fit. */
const LABEL_TITLE_MAX = 40;
const RANKING_TOP = 10;

const short = (s: string) => (s.length > LABEL_TITLE_MAX ? `${s.slice(0, LABEL_TITLE_MAX - 1)}…` : s);

/**
 * The end of an attempt, from the poll_answer handler (src/bot/features/quiz.ts): the tie-break
 * question instead of the round's summary. The time-out path renders the same text through the
 * quiz_end delivery kind.
 */
export async function contestFinished(ctx: BotContext, round: QuizRound): Promise<void> {
  const asked = await ctx.deps.services.contests.tiebreakQuestion(round);
  if (!asked) return;
  const lang = roundLang(round);
  await ctx.api.sendMessage(Number(round.chatId), tiebreakPromptText(ctx.deps.i18n.t(lang), round, asked.contest.title, asked.question));
}

dm.command("contest", async (ctx) => {
  const { contests } = ctx.deps.services;
  const [open, pending] = await Promise.all([contests.listOpenFor(ctx.from.id), contests.pendingTiebreak(ctx.from.id)]);
  const lines: string[] = [];
  if (pending) {
    const q = await contests.tiebreakQuestion(pending.round);
    if (q) lines.push(ctx.t("contest:tiebreak.pending", { question: escapeHtml(q.question), ...raw }), "");
  }
  const kb = new InlineKeyboard();
  if (open.length === 0) lines.push(ctx.t("contest:list.empty"));
  else {
    lines.push(ctx.t("contest:list.title"));
    for (const c of open) {
      const left = Math.max(0, c.attemptsPerWeek - c.usedThisWeek);
      lines.push(
        "",
        ctx.t("contest:list.item", {
          title: escapeHtml(c.title), count: c.questions, seconds: c.openPeriod, closes: formatDateTime(c.closesAt, ctx.locale),
          left, cap: c.attemptsPerWeek, ...raw,
        }),
      );
      if (left > 0) kb.text(ctx.t("contest:list.play_button", { title: short(c.title), ...raw }), cb.ctPlay.pack(String(c.id))).row();
    }
  }
  await ctx.reply(lines.join("\n"), { reply_markup: kb.inline_keyboard.length ? kb : undefined });
});

function refusalText(ctx: BotContext, r: StartRefusal): string {
  switch (r.reason) {
    case "not_found":
      return ctx.t("contest:start.not_found");
    case "not_yet":
      return ctx.t("contest:start.not_yet", { at: formatDateTime(r.opensAt, ctx.locale) });
    case "closed":
      return ctx.t("contest:start.closed");
    case "cap":
      return ctx.t("contest:start.cap", { cap: r.cap, at: formatDateTime(r.nextWeek, ctx.locale) });
    case "busy":
      return ctx.t("contest:start.busy", { n: r.round.current + 1, total: r.round.questionIds.length });
  }
}

contestFeature.use(
  onButton(cb.ctPlay, async (ctx: ButtonContext, value) => {
    const { contests, quizRounds } = ctx.deps.services;
    const started = await contests.startAttempt(ctx.from.id, ctx.from.id, Number(value), langOf(ctx));
    if (!started.ok) {
      await ctx.answerCallbackQuery({ text: refusalText(ctx, started), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery();
    const { round, contest } = started;
    const used = await contests.attemptsThisWeek(ctx.from.id, contest.id);
    await ctx.reply(ctx.t("contest:start.started", { title: escapeHtml(contest.title), count: round.questionIds.length, seconds: round.openPeriod, n: used, cap: contest.attemptsPerWeek, ...raw }));
    const poll = await quizRounds.currentPoll(round);
    if (!poll) return;
    const sent = await ctx.api.raw.sendPoll({ chat_id: ctx.from.id, ...poll.payload } as never);
    await quizRounds.markSent(round.id, round.current, sent.poll!.id, sent.message_id, poll.perm);
  }),
);

/** The tie-break guess: typed after the last question of an attempt (the attempt's latest, within a day). */
dm.on("message:text", async (ctx, next) => {
  if (ctx.message.text.startsWith("/")) return next();
  const { contests } = ctx.deps.services;
  const pending = await contests.pendingTiebreak(ctx.from.id);
  if (!pending) return next();
  const parsed = numberAnswer.safeParse(ctx.message.text);
  if (!parsed.success) {
    const q = await contests.tiebreakQuestion(pending.round);
    await ctx.reply(`${ctx.t(parsed.error.issues[0]?.message ?? "contest:tiebreak.not_number")}\n${ctx.t("contest:tiebreak.again", { question: escapeHtml(q?.question ?? ""), ...raw })}`);
    return;
  }
  if (!(await contests.recordTiebreak(pending.round.id, ctx.from.id, parsed.data))) return next();
  const result = await contests.attemptResult(pending.round.id, ctx.from.id);
  if (!result) return;
  const lang = langOf(ctx);
  const { contest, round, standing } = result;
  const total = round.questionIds.length;
  const lines = [
    ctx.t("contest:result.guess", { guess: formatNumber(parsed.data, lang) }),
    ctx.t("contest:result.attempt", { title: escapeHtml(contest.title), score: round.score, total, time: formatDuration(ctx.t, round.elapsedMs), ...raw }),
  ];
  if (standing) {
    lines.push(ctx.t("contest:result.rank", { rank: standing.rank, entrants: standing.entrants }));
    if (standing.roundId !== round.id) lines.push(ctx.t("contest:result.best", { score: standing.score, total, time: formatDuration(ctx.t, standing.elapsedMs), ...raw }));
  }
  const left = Math.max(0, contest.attemptsPerWeek - result.usedThisWeek);
  const open = contestState(contest, ctx.deps.now()) === "open";
  lines.push(open && left > 0 ? ctx.t("contest:result.left", { left }) : ctx.t("contest:result.none_left"));
  await ctx.reply(lines.join("\n"));
});

// ---------------------------------------------------------------- officers

dm.command("contest_new", async (ctx) => {
  if (!(await requireRole(ctx, "officer"))) return;
  await ctx.conversation.enter(CONTEST_FLOW);
});

dm.command("contests", async (ctx) => {
  if (!(await requireRole(ctx, "officer"))) return;
  const items = await ctx.deps.services.contests.listForOfficer(String(ctx.from.id));
  if (!items?.length) {
    await ctx.reply(ctx.t("contest:officer.empty"));
    return;
  }
  const now = ctx.deps.now();
  const lines = [ctx.t("contest:officer.title")];
  const kb = new InlineKeyboard();
  for (const { contest: c, people, attempts, finished } of items) {
    lines.push(
      "",
      ctx.t("contest:officer.line", {
        id: c.id, title: escapeHtml(c.title), state: ctx.t(`contest:state.${contestState(c, now)}`), place: await describeScope(ctx, contestScope(c)),
        opens: formatDateTime(c.opensAt, ctx.locale), closes: formatDateTime(c.closesAt, ctx.locale), people, attempts, finished, ...raw,
      }),
    );
    kb.text(ctx.t("contest:officer.ranking_button", { id: c.id }), cb.ctRank.pack(String(c.id)))
      .text(ctx.t("contest:officer.csv_button", { id: c.id }), cb.ctCsv.pack(String(c.id)))
      .text(ctx.t("contest:officer.xlsx_button", { id: c.id }), cb.ctXlsx.pack(String(c.id)))
      .row();
  }
  await ctx.reply(lines.join("\n"), { reply_markup: kb });
});

/** The contest behind an officer's button, or a polite refusal (someone else's, forged, gone). */
async function managed(ctx: ButtonContext, value: string) {
  if (!(await requireRole(ctx, "officer"))) return undefined;
  const r = await ctx.deps.services.contests.manage(String(ctx.from.id), Number(value));
  if (r.ok) return r.contest;
  ctx.logger.warn({ contest: value, user: ctx.from.id }, "refused a contest to someone who does not run it");
  await ctx.answerCallbackQuery({ text: ctx.t(r.reason === "forbidden" ? "common:errors.forbidden" : "contest:officer.not_found"), show_alert: true });
  return undefined;
}

contestFeature.use(
  onButton(cb.ctRank, async (ctx, value) => {
    const contest = await managed(ctx, value);
    if (!contest) return;
    await ctx.answerCallbackQuery();
    const rows = await ctx.deps.services.contests.ranking(contest.id, RANKING_TOP);
    const lines = [ctx.t("contest:ranking.title", { id: contest.id, title: escapeHtml(contest.title), entrants: rows[0]?.entrants ?? 0, ...raw })];
    if (rows.length === 0) lines.push(ctx.t("contest:ranking.empty"));
    for (const r of rows) lines.push(rankLine(ctx.t, r, contest.questionIds.length, langOf(ctx)));
    await ctx.reply(lines.join("\n"));
  }),
  onButton(cb.ctCsv, (ctx, value) => sendExport(ctx, value, "csv")),
  onButton(cb.ctXlsx, (ctx, value) => sendExport(ctx, value, "xlsx")),
);

/** The officer's export of a contest they run: each person's best attempt, as CSV or XLSX. */
async function sendExport(ctx: ButtonContext, value: string, format: "csv" | "xlsx"): Promise<void> {
  const contest = await managed(ctx, value);
  if (!contest) return;
  await ctx.answerCallbackQuery();
  const rows = await ctx.deps.services.contests.exportRows(contest.id);
  if (rows.length === 0) {
    await ctx.reply(ctx.t("contest:ranking.empty"));
    return;
  }
  const file =
    format === "xlsx"
      ? await contestXlsx(ctx.t, rows, langOf(ctx))
      : // A byte-order mark: spreadsheets then read the Vietnamese names as UTF-8.
        Buffer.from("\uFEFF" + contestCsv(ctx.t, rows, langOf(ctx)), "utf8");
  await ctx.replyWithDocument(new InputFile(file, `contest-${contest.id}.${format}`), {
    caption: ctx.t("contest:officer.csv_caption", { id: contest.id, title: escapeHtml(contest.title), count: rows.length, ...raw }),
  });
}
