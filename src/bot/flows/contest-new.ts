import { InlineKeyboard } from "grammy";
import { z } from "zod";
import { isSkipWord } from "../../domain/citizens/inputs.js";
import { CONTEST_LIMITS, numberAnswer, type ContestInput } from "../../domain/quizzes/contests.js";
import { formatNumber } from "../../domain/quizzes/contest-format.js";
import { TOPICS } from "../../domain/quizzes/question-bank.js";
import type { Lang } from "../../domain/quizzes/quiz-rounds.js";
import { escapeHtml } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { describeScope } from "../features/scope.js";
import { formatDateTime } from "../format/dates.js";
import { askDateTime } from "./ask-date-time.js";
import { askButtons, askText, BACK, echoLine, stopFlow } from "./engine.js";

export const CONTEST_FLOW = "contest-new";

/** Question counts offered; only those the chosen topic can fill are shown. */
const COUNTS = [5, 10, 15, 20, 30, 50] as const;
/** Times one flow may go back to a question (topic, close time) before it stops. */
const MAX_TRIES = 5;

const raw = { interpolation: { escapeValue: false } } as const;
const langOf = (c: ConvContext): Lang => (c.locale === "en" ? "en" : "vi");

const titleSchema = z.string().trim().min(CONTEST_LIMITS.titleMin, "contest:errors.title_length").max(CONTEST_LIMITS.titleMax, "contest:errors.title_length");
const tiebreakSchema = z.string().trim().min(CONTEST_LIMITS.tiebreakMin, "contest:errors.tiebreak_length").max(CONTEST_LIMITS.tiebreakMax, "contest:errors.tiebreak_length");
/** The English tie-break question, or null ("Bỏ qua": the Vietnamese one is used). */
const englishSchema = z.string().transform((s, ctx) => {
  if (isSkipWord(s)) return null;
  const r = tiebreakSchema.safeParse(s);
  if (!r.success) {
    ctx.addIssue({ code: "custom", message: r.error.issues[0]?.message ?? "common:flow.invalid" });
    return z.NEVER;
  }
  return r.data;
});
const attemptsSchema = z
  .string()
  .trim()
  .regex(/^\d{1,2}$/, "contest:errors.attempts")
  .transform(Number)
  .refine((n) => n >= CONTEST_LIMITS.attemptsMin && n <= CONTEST_LIMITS.attemptsMax, "contest:errors.attempts");

function topicTitle(c: ConvContext, key: string): string {
  return key === "mixed" ? c.t("quiz:mixed") : (TOPICS.find((x) => x.key === key)?.title[langOf(c)] ?? key);
}

/**
 * /contest_new (officers; admins may go nationwide): title → questions (a topic, then N at random)
 * → opens → closes → attempts per week → tie-break question and answer → confirm. Role and scope
 * are checked again when the contest is stored.
 */
export async function contestNewFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const me = String(ctx.from!.id);
  const start = await conversation.external((o) => o.deps.services.contests.creatorStart(me));
  if (!start.ok) {
    await ctx.reply(ctx.t("common:errors.forbidden"));
    return;
  }
  let nationwide = start.admin && !start.scope.provinceCode;
  if (start.admin && start.scope.provinceCode) {
    const where = await askButtons(conversation, ctx, {
      question: (c) => c.t("contest:new.ask_scope"),
      keyboard: (c) => new InlineKeyboard().text(c.t("contest:new.scope_nation"), cb.ctScope.pack("nation")).text(c.t("contest:new.scope_own"), cb.ctScope.pack("own")),
      codec: cb.ctScope,
      hint: "contest:new.buttons_hint",
    });
    nationwide = where === "nation";
  }
  const scope = nationwide ? {} : { provinceCode: start.scope.provinceCode ?? undefined, communeCode: start.scope.communeCode ?? undefined };
  const place = await conversation.external((o) => describeScope(o, scope));
  await ctx.reply(ctx.t("contest:new.intro", { place, ...raw }));

  const title = await askText(conversation, ctx, {
    question: (c) => c.t("contest:new.ask_title"),
    schema: titleSchema,
    hint: "contest:new.text_hint",
    echo: (c, v) => echoLine(c, "contest:new.title_label", v),
  });

  const provinceCode = nationwide ? null : start.scope.provinceCode;
  const counts = await conversation.external(async (o) => Object.fromEntries(await o.deps.services.contests.questionCounts(provinceCode)) as Record<string, number>);
  const all = Object.values(counts).reduce((a, b) => a + b, 0);
  let questionIds: string[] = [];
  for (let tries = 0; questionIds.length < CONTEST_LIMITS.questionsMin; tries++) {
    if (tries >= MAX_TRIES) await stopFlow(ctx);
    const topic = await askButtons(conversation, ctx, {
      question: (c) => c.t("contest:new.ask_topic"),
      keyboard: (c) => {
        const kb = new InlineKeyboard();
        for (const t of TOPICS) kb.text(`${t.title[langOf(c)]} (${counts[t.key] ?? 0})`, cb.ctTopic.pack(t.key)).row();
        return kb.text(`${c.t("quiz:mixed")} (${all})`, cb.ctTopic.pack("mixed"));
      },
      codec: cb.ctTopic,
      hint: "contest:new.buttons_hint",
      echo: (c, v) => echoLine(c, "contest:new.topic_label", topicTitle(c, v)),
    });
    const available = topic === "mixed" ? all : (counts[topic] ?? 0);
    const choices = COUNTS.filter((n) => n <= available);
    if (choices.length === 0) {
      await ctx.reply(ctx.t("contest:new.too_few", { count: available, min: CONTEST_LIMITS.questionsMin }));
      continue;
    }
    const n = await askButtons(conversation, ctx, {
      question: (c) => c.t("contest:new.ask_count", { available }),
      keyboard: () => {
        const kb = new InlineKeyboard();
        for (const x of choices) kb.text(String(x), cb.ctCount.pack(String(x)));
        return kb;
      },
      codec: cb.ctCount,
      hint: "contest:new.buttons_hint",
      back: {},
      echo: (c, v) => echoLine(c, "contest:new.count_label", v),
    });
    if (n === BACK) continue;
    questionIds = await conversation.external((o) => o.deps.services.contests.pickQuestions(topic, Number(n), provinceCode));
    if (questionIds.length < CONTEST_LIMITS.questionsMin) await ctx.reply(ctx.t("contest:new.too_few", { count: questionIds.length, min: CONTEST_LIMITS.questionsMin }));
  }

  const when = await askButtons(conversation, ctx, {
    question: (c) => c.t("contest:new.ask_opens"),
    keyboard: (c) => new InlineKeyboard().text(c.t("contest:new.open_now"), cb.ctOpen.pack("now")).text(c.t("contest:new.open_later"), cb.ctOpen.pack("later")),
    codec: cb.ctOpen,
    hint: "contest:new.buttons_hint",
  });
  // "Now" is the bot's clock, the one the contest's open check reads.
  const opensAt = when === "now"
    ? await conversation.external((o) => o.deps.now().toISOString())
    : ((await askDateTime(conversation, ctx, { question: (c) => c.t("contest:new.ask_opens_at"), label: "contest:new.opens_label" })) as string);
  let closesAt = "";
  for (let tries = 0; !closesAt; tries++) {
    if (tries >= MAX_TRIES) await stopFlow(ctx);
    const at = (await askDateTime(conversation, ctx, { question: (c) => c.t("contest:new.ask_closes_at"), label: "contest:new.closes_label" })) as string;
    if (Date.parse(at) > Date.parse(opensAt)) closesAt = at;
    else await ctx.reply(ctx.t("contest:errors.close_before_open"));
  }

  const attemptsPerWeek = await askText(conversation, ctx, {
    question: (c) => c.t("contest:new.ask_attempts", { min: CONTEST_LIMITS.attemptsMin, max: CONTEST_LIMITS.attemptsMax }),
    schema: attemptsSchema,
    hint: "contest:new.text_hint",
    echo: (c, v) => echoLine(c, "contest:new.attempts_label", String(v)),
  });
  const tiebreakVi = await askText(conversation, ctx, {
    question: (c) => c.t("contest:new.ask_tiebreak_vi"),
    schema: tiebreakSchema,
    hint: "contest:new.text_hint",
    echo: (c, v) => echoLine(c, "contest:new.tiebreak_label", v),
  });
  const tiebreakEn = await askText(conversation, ctx, {
    question: (c) => c.t("contest:new.ask_tiebreak_en"),
    schema: englishSchema,
    hint: "contest:new.text_hint",
    echo: (c, v) => echoLine(c, "contest:new.tiebreak_en_label", v ?? c.t("contest:new.same_as_vi")),
  });
  const tiebreakAnswer = await askText(conversation, ctx, {
    question: (c) => c.t("contest:new.ask_tiebreak_answer"),
    schema: numberAnswer,
    hint: "contest:new.text_hint",
    echo: (c, v) => echoLine(c, "contest:new.answer_label", formatNumber(v, langOf(c))),
  });

  const input: ContestInput = {
    title, questionIds, opensAt, closesAt, attemptsPerWeek, nationwide,
    tiebreakQuestion: { vi: tiebreakVi, en: tiebreakEn ?? tiebreakVi },
    tiebreakAnswer,
  };
  const confirm = await askButtons(conversation, ctx, {
    question: (c) =>
      c.t("contest:new.summary", {
        title: escapeHtml(title), place, count: questionIds.length, opens: formatDateTime(opensAt, c.locale), closes: formatDateTime(closesAt, c.locale),
        attempts: attemptsPerWeek, tiebreak: escapeHtml(tiebreakVi), answer: formatNumber(tiebreakAnswer, langOf(c)), ...raw,
      }),
    keyboard: (c) => new InlineKeyboard().text(c.t("contest:new.create_button"), cb.ctConfirm.pack("yes")).text(c.t("contest:new.cancel_button"), cb.ctConfirm.pack("no")),
    codec: cb.ctConfirm,
    hint: "contest:new.buttons_hint",
  });
  if (confirm === "no") {
    await ctx.reply(ctx.t("contest:new.cancelled"));
    return;
  }
  const result = await conversation.external(async (o) => {
    const r = await o.deps.services.contests.create(me, input);
    return r.ok ? { ok: true as const, id: r.contest.id } : r;
  });
  if (!result.ok) {
    if (result.reason === "forbidden") await ctx.reply(ctx.t("common:errors.forbidden"));
    else await ctx.reply([ctx.t("contest:new.not_created"), ...result.errors.map((e) => `• ${ctx.t(e.key, e.params)}`)].join("\n"));
    return;
  }
  await ctx.reply(ctx.t("contest:new.created", { id: result.id, title, opens: formatDateTime(opensAt, ctx.locale), closes: formatDateTime(closesAt, ctx.locale) }));
}
