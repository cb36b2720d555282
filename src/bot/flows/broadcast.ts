import { toHTML } from "@telegraf/entity";
import { GrammyError } from "grammy";
import { z } from "zod";
import { audienceLines, formatCount } from "../../domain/broadcasts/format.js";
import { AFFILIATIONS, isSkipWord, unitNameSchema } from "../../domain/citizens/inputs.js";
import { AUDIENCE_ROLES, type Audience, type SenderBody } from "../../domain/broadcasts/audience.js";
import type { Draft, Media } from "../../domain/broadcasts/broadcast-service.js";
import { parseTelegramHtml } from "../../domain/broadcasts/text.js";
import type { Scope } from "../../domain/users/user-service.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext, ConvContext, Convo } from "../context.js";
import { formatDateTime } from "../format/dates.js";
import { audienceKeyboard, bodyKeyboard, cancelKeyboard, goalKeyboard, quizCloseKeyboard, quizPickKeyboard, quizTopicKeyboard, quizStatusKeyboard, sendKeyboard, type AudienceRights } from "../keyboards/broadcast.js";
import { QUIZ_INTRO_MAX, QUIZ_MAX_OPEN_MS, QUIZ_MAX_QUESTIONS, QUIZ_MIN_OPEN_MS } from "../../domain/broadcasts/quiz-prompt.js";
import { escapeHtml } from "../../i18n.js";
import { parseVnDateTime } from "../../domain/time/vietnam-time.js";
import { askDateTime } from "./ask-date-time.js";
import { askCommune, askProvince } from "./ask-place.js";
import { askButtons, askText, BACK, echoLine, runStep, stopFlow } from "./engine.js";
import { announcedRound, roundAnnouncement } from "./round-announce.js";

export const BROADCAST_FLOW = "broadcast";
/** The argument of `ctx.conversation.enter(BROADCAST_FLOW, QUIZ_MODE)`: a quiz prompt. */
export const QUIZ_MODE = "quiz";
/** Questions listed per screen of the picker. */
const PICK_PAGE = 8;

/** Audience screens one flow may show (each filter change through a sub-question is one). */
const MAX_SCREENS = 30;
const MAX_SEND_ROUNDS = 5;

type Action = "prov" | "com" | "wide" | "nation" | "unit" | "goal" | "next" | "cancel";
interface Content {
  text: string;
  media?: Media;
}
type Screen = { ok: true; text: string; count: number } | { ok: false; reason: string };

/** Edits are a courtesy: an unchanged or old screen must not break the flow. */
async function quietly(p: Promise<unknown>): Promise<void> {
  await p.catch((e: unknown) => {
    if (!(e instanceof GrammyError) || e.error_code !== 400) throw e;
  });
}

/**
 * /broadcast: content → audience (count live) → preview → send now, schedule or cancel.
 * /quizprompt enters it with mode "quiz": questions, intro and close time instead of the content.
 */
export async function broadcastFlow(conversation: Convo, ctx: ConvContext, mode?: unknown): Promise<void> {
  const me = String(ctx.from!.id);
  const quizMode = mode === QUIZ_MODE;
  const start = await conversation.external((o) => o.deps.services.broadcasts.composerStart(me));
  if (!start.ok) {
    await ctx.reply(ctx.t("broadcast:flow.not_officer"));
    return;
  }
  const rights: AudienceRights = { admin: start.admin, scope: start.scope };
  // Announcing a scholarship round: its text and its province come prefilled (mode { scholarshipRoundId }).
  const roundId = announcedRound(mode);
  const announced = roundId === undefined ? undefined : await conversation.external((o) => roundAnnouncement(o, roundId));
  if (announced && !announced.ok) {
    await ctx.reply(ctx.t(announced.error));
    return;
  }
  const body: SenderBody = start.body ?? announced?.body ?? (await askButtons(conversation, ctx, {
    question: (c) => c.t("broadcast:flow.ask_body"),
    keyboard: (c) => bodyKeyboard(c.t),
    codec: cb.bcBody,
    hint: "broadcast:flow.screen_hint",
    echo: (c, v) => echoLine(c, "broadcast:flow.body_label", c.t(`broadcast:body.${v}`)),
  }));
  let audience: Audience = announced?.audience ?? start.audience;
  let quiz: QuizChoice | undefined;
  let content: Content;
  if (quizMode) {
    quiz = await askQuiz(conversation, ctx, me);
    content = { text: quiz.intro };
  } else if (announced) {
    content = { text: announced.text };
    await ctx.reply(ctx.t("scholarship-admin:announce.prefilled"));
  } else {
    content = await askContent(conversation, ctx, me, body, audience);
  }

  let count = 0;
  for (let round = 0; ; round++) {
    if (round >= MAX_SCREENS) await stopFlow(ctx);
    const shown = await audienceScreen(conversation, ctx, me, body, rights, audience);
    audience = shown.audience;
    count = shown.count;
    if (shown.action === "cancel") {
      await ctx.reply(ctx.t("broadcast:flow.cancelled"));
      return;
    }
    if (shown.action === "next") {
      if (count > 0) break;
      await ctx.reply(ctx.t("broadcast:errors.no_recipients"));
      continue;
    }
    audience = await changeFilter(conversation, ctx, shown.action, audience, rights);
  }

  const draft = { senderBody: body, audience, text: content.text, ...(content.media ? { media: content.media } : {}) };
  const raw = ctx.api.raw as unknown as Record<string, (p: Record<string, unknown>) => Promise<unknown>>;
  if (quiz) {
    const shown = await conversation.external((o) => o.deps.services.broadcasts.quizPreview(me, { ...draft, questionIds: quiz.questionIds }, o.locale));
    if (shown.poll) await raw[shown.poll.method]!({ chat_id: ctx.chat!.id, ...shown.poll.payload });
    await ctx.reply(`${ctx.t("quiz-prompt:flow.preview_intro", { close: closeLabel(ctx, quiz.close) })}\n\n${shown.overview}`);
  } else {
    const preview = await conversation.external((o) => o.deps.services.broadcasts.preview(me, draft, o.locale));
    await raw[preview.method]!({ chat_id: ctx.chat!.id, ...preview.payload });
    await ctx.reply(ctx.t("broadcast:flow.preview_intro"));
  }

  let scheduledAt: string | undefined;
  for (let round = 0; ; round++) {
    if (round >= MAX_SEND_ROUNDS) await stopFlow(ctx);
    const choice = await askButtons(conversation, ctx, {
      question: (c) => c.t(quiz ? "quiz-prompt:flow.ask_send" : "broadcast:flow.ask_send", { count: formatCount(count, c.locale) }),
      keyboard: (c) => sendKeyboard(c.t),
      codec: cb.bcSend,
      hint: "broadcast:flow.screen_hint",
    });
    if (choice === "cancel") {
      await ctx.reply(ctx.t("broadcast:flow.cancelled"));
      return;
    }
    if (choice === "now") break;
    const at = await askDateTime(conversation, ctx, { question: (c) => c.t("broadcast:flow.ask_time"), back: {}, label: "broadcast:flow.time_label" });
    if (at === BACK) continue;
    // A fixed close time must leave the prompt open a while after it goes out.
    if (quiz && "closesAt" in quiz.close && Date.parse(quiz.close.closesAt) - Date.parse(at) < QUIZ_MIN_OPEN_MS) {
      await ctx.reply(ctx.t("quiz-prompt:errors.quiz_close"));
      continue;
    }
    scheduledAt = at;
    break;
  }

  const final: Draft = {
    ...draft,
    ...(scheduledAt ? { scheduledAt } : {}),
    ...(quiz ? { quiz: { questionIds: quiz.questionIds, ...quiz.close } } : {}),
  };
  const result = await conversation.external((o) => o.deps.services.broadcasts.create(me, final));
  if (!result.ok) {
    const reason = result.reason === "invalid_text" ? ctx.t(result.key, result.params)
      : result.reason === "forbidden" ? ctx.t("broadcast:flow.not_officer")
      : result.reason === "quiz_questions" || result.reason === "quiz_close" ? ctx.t(`quiz-prompt:errors.${result.reason}`)
      : ctx.t(`broadcast:errors.${result.reason}`);
    await ctx.reply(reason);
    return;
  }
  const n = formatCount(result.recipients, ctx.locale);
  const ns = quiz ? "quiz-prompt" : "broadcast";
  let text: string;
  if (result.state === "sending") text = ctx.t(`${ns}:flow.started`, { id: result.id, count: n });
  else if (result.state === "scheduled") text = ctx.t(`${ns}:flow.scheduled`, { id: result.id, count: n, when: formatDateTime(scheduledAt!, ctx.locale) });
  else {
    const info = await conversation.external(async (o) => ({
      place: await o.deps.services.broadcasts.audiencePlace(audience, o.locale),
      threshold: o.deps.services.broadcasts.approvalThreshold,
    }));
    text = ctx.t(result.approvers > 0 ? `${ns}:flow.pending` : `${ns}:flow.pending_no_approver`, {
      id: result.id, count: n, threshold: formatCount(info.threshold, ctx.locale), place: info.place, approvers: result.approvers,
    });
  }
  // This message becomes the live progress, edited in place by the delivery engine.
  const progress = await ctx.reply(text, { reply_markup: quiz ? quizStatusKeyboard(ctx.t, result.id, true) : cancelKeyboard(ctx.t, result.id) });
  await conversation.external((o) => o.deps.services.broadcasts.setProgressMessage(result.id, me, progress.chat.id, progress.message_id));
}

/** The text, or a photo or document with a caption; checked (variables, HTML, length) before moving on. */
async function askContent(conversation: Convo, ctx: ConvContext, me: string, body: SenderBody, audience: Audience): Promise<Content> {
  const answer = await runStep<Content>(conversation, ctx, {
    question: (c) => c.t("broadcast:flow.ask_text"),
    hint: "broadcast:flow.text_hint",
    echo: (c, v) => {
      const parsed = parseTelegramHtml(v.text);
      return c.t("broadcast:flow.text_echo", { length: parsed.ok ? parsed.text.length : v.text.length });
    },
    accept: async (c) => {
      const m = c.message;
      if (!m) return undefined;
      const media: Media | undefined = m.photo?.length
        ? { kind: "photo", fileId: m.photo.at(-1)!.file_id }
        : m.document ? { kind: "document", fileId: m.document.file_id } : undefined;
      const raw = m.text ?? m.caption;
      if (raw === undefined) return media ? { retry: "broadcast:errors.empty" } : undefined;
      // Formatting applied in the Telegram app arrives as entities: turned into the same HTML an
      // officer could type (its text escaped). Without it, the text is read as typed HTML.
      const entities = (m.text !== undefined ? m.entities : m.caption_entities)?.filter((e) => e.type !== "bot_command");
      const text = entities?.length ? toHTML({ text: raw, entities } as never) : raw;
      const check = await conversation.external((o) => o.deps.services.broadcasts.checkText(me, body, audience, text, Boolean(media)));
      if (!check.ok) return { retry: check.key, params: check.params };
      return { done: media ? { text, media } : { text } };
    },
  });
  return answer as Content;
}

async function describe(o: BotContext, me: string, body: SenderBody, a: Audience): Promise<Screen> {
  const counted = await o.deps.services.broadcasts.countFor(me, a, body);
  if (!counted.ok) return { ok: false, reason: counted.reason };
  const lines = await audienceLines(o.deps.services.geo, o.t, o.locale, a);
  return { ok: true, count: counted.count, text: o.t("broadcast:flow.screen", { lines: lines.join("\n"), count: formatCount(counted.count, o.locale), interpolation: { escapeValue: false } }) };
}

function toggle<T extends string>(list: readonly T[] | undefined, value: T): T[] | undefined {
  const next = list?.includes(value) ? list.filter((x) => x !== value) : [...(list ?? []), value];
  return next.length > 0 ? next : undefined;
}

/** The audience screen: role and affiliation toggles edit it in place; other buttons open a question. */
async function audienceScreen(conversation: Convo, ctx: ConvContext, me: string, body: SenderBody, rights: AudienceRights, start: Audience): Promise<{ action: Action; audience: Audience; count: number }> {
  let a = start;
  let screen = await conversation.external((o) => describe(o, me, body, a));
  if (!screen.ok) {
    // The scope changed under the flow (role revoked, scope moved): nothing more to do here.
    await ctx.reply(ctx.t(screen.reason === "forbidden" ? "broadcast:flow.not_officer" : "broadcast:errors.out_of_scope"));
    await stopFlow(ctx);
  }
  let count = (screen as { count: number }).count;
  const action = await runStep<Action>(conversation, ctx, {
    question: () => (screen as { text: string }).text,
    keyboard: (c) => audienceKeyboard(c.t, a, rights),
    codecs: [cb.bcAudience],
    hint: "broadcast:flow.screen_hint",
    accept: async (c) => {
      const v = cb.bcAudience.unpack(c.callbackQuery?.data);
      if (v === undefined) return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
      if (!v.startsWith("role.") && !v.startsWith("aff.")) return { done: v as Action };
      const [kind, value] = v.split(".") as [string, string];
      const next: Audience = kind === "role"
        ? { ...a, roles: toggle(a.roles, value as (typeof AUDIENCE_ROLES)[number]) }
        : { ...a, affiliations: toggle(a.affiliations, value as (typeof AFFILIATIONS)[number]) };
      if (!next.roles) delete next.roles;
      if (!next.affiliations) delete next.affiliations;
      const s = await conversation.external((o) => describe(o, me, body, next));
      if (!s.ok) return { retry: "broadcast:errors.out_of_scope" };
      a = next;
      screen = s;
      count = s.count;
      await quietly(c.editMessageText(s.text, { reply_markup: audienceKeyboard(c.t, a, rights) }));
      return { wait: true };
    },
  });
  return { action: action as Action, audience: a, count };
}

const unitAnswer = z.string().transform((s, ctx2) => {
  if (isSkipWord(s)) return null;
  const r = unitNameSchema.safeParse(s);
  if (!r.success) {
    ctx2.addIssue({ code: "custom", message: r.error.issues[0]?.message ?? "common:flow.invalid" });
    return z.NEVER;
  }
  return r.data;
});

/** One filter changed through its own question; Back keeps the audience as it was. */
async function changeFilter(conversation: Convo, ctx: ConvContext, action: Action, a: Audience, rights: AudienceRights): Promise<Audience> {
  const scope: Scope = rights.scope;
  const refuse = async () => {
    await conversation.external((o) => o.logger.warn({ user: o.from?.id, action }, "refused an audience change outside the officer's scope"));
    await ctx.reply(ctx.t("broadcast:errors.out_of_scope"));
    return a;
  };
  switch (action) {
    case "prov": {
      if (!rights.admin) return refuse();
      const p = await askProvince(conversation, ctx, { back: {} });
      if (p === BACK) return a;
      const { communeCode: _c, ...rest } = a;
      return { ...rest, provinceCode: p.code };
    }
    case "com": {
      const provinceCode = rights.admin ? a.provinceCode : scope.provinceCode;
      if (!provinceCode || (!rights.admin && scope.communeCode)) return refuse();
      const province = await conversation.external((o) => o.deps.services.geo.getProvince(provinceCode));
      if (!province) return refuse();
      const m = await askCommune(conversation, ctx, province);
      return m === BACK ? a : { ...a, provinceCode, communeCode: m.code };
    }
    case "wide": {
      if (!rights.admin && scope.communeCode) return refuse();
      const { communeCode: _c, ...rest } = a;
      return rest;
    }
    case "nation": {
      if (!rights.admin) return refuse();
      const { communeCode: _c, provinceCode: _p, ...rest } = a;
      return rest;
    }
    case "unit": {
      if (!rights.admin && scope.unitName) return refuse();
      const unit = await askText(conversation, ctx, { question: (c) => c.t("broadcast:flow.ask_unit"), schema: unitAnswer, hint: "broadcast:flow.text_hint", back: {} });
      if (unit === BACK) return a;
      const { unitName: _u, ...rest } = a;
      return unit === null ? rest : { ...rest, unitName: unit };
    }
    case "goal": {
      const goal = await askButtons(conversation, ctx, { question: (c) => c.t("broadcast:flow.ask_goal"), keyboard: (c) => goalKeyboard(c.t), codec: cb.bcGoal, hint: "broadcast:flow.screen_hint", back: {} });
      if (goal === BACK) return a;
      const { goal: _g, ...rest } = a;
      return goal === "any" ? rest : { ...rest, goal };
    }
    default:
      return a;
  }
}

type Close = { closeHours: number } | { closesAt: string };
interface QuizChoice {
  questionIds: string[];
  intro: string;
  close: Close;
}

function closeLabel(c: ConvContext, close: Close): string {
  return "closeHours" in close ? c.t("quiz-prompt:flow.close_after", { count: close.closeHours }) : formatDateTime(close.closesAt, c.locale);
}

/** A quiz prompt's content: a topic, up to five of its questions, an intro, a close time. */
async function askQuiz(conversation: Convo, ctx: ConvContext, me: string): Promise<QuizChoice> {
  let questionIds: string[] | undefined;
  for (let round = 0; !questionIds; round++) {
    if (round >= MAX_SEND_ROUNDS) await stopFlow(ctx);
    const topics = await conversation.external((o) => o.deps.services.broadcasts.quizTopics(me, o.locale));
    if (topics.length === 0) {
      await ctx.reply(ctx.t("quiz-prompt:flow.no_questions"));
      await stopFlow(ctx);
    }
    const topic = await askButtons(conversation, ctx, {
      question: (c) => c.t("quiz-prompt:flow.ask_topic"),
      keyboard: (c) => quizTopicKeyboard(c.t, topics),
      codec: cb.bcQuizTopic,
      hint: "broadcast:flow.screen_hint",
      echo: (c, v) => echoLine(c, "quiz-prompt:flow.topic_label", escapeHtml(topics.find((x) => x.key === v)?.title ?? v)),
    });
    const list = await conversation.external((o) => o.deps.services.broadcasts.quizQuestions(me, topic, o.locale));
    if (list.length === 0) {
      await ctx.reply(ctx.t("quiz-prompt:flow.no_questions"));
      continue;
    }
    const picked = await pickQuestions(conversation, ctx, list);
    if (picked !== "topic") questionIds = picked;
  }
  const intro = await askText(conversation, ctx, {
    question: (c) => c.t("quiz-prompt:flow.ask_intro", { max: QUIZ_INTRO_MAX }),
    schema: introAnswer,
    hint: "broadcast:flow.text_hint",
    echo: (c, v) => echoLine(c, "quiz-prompt:flow.intro_label", v ? escapeHtml(v) : c.t("quiz-prompt:flow.intro_default")),
  });
  const close = await runStep<Close>(conversation, ctx, {
    question: (c) => c.t("quiz-prompt:flow.ask_close"),
    keyboard: (c) => quizCloseKeyboard(c.t),
    codecs: [cb.bcQuizClose],
    hint: "quiz-prompt:flow.close_hint",
    echo: (c, v) => echoLine(c, "quiz-prompt:flow.close_label", closeLabel(c, v)),
    accept: async (c) => {
      const v = cb.bcQuizClose.unpack(c.callbackQuery?.data);
      if (v) return { done: { closeHours: v === "1h" ? 1 : v === "24h" ? 24 : 72 } };
      const text = c.message?.text;
      if (text === undefined) return undefined;
      // The services' clock (the same one the close is checked against when the prompt is created).
      const now = new Date(await conversation.external((o) => o.deps.now().toISOString()));
      const parsed = parseVnDateTime(text.slice(0, 60), now);
      if (!parsed.ok) return { retry: `common:datetime.${parsed.reason}` };
      const open = parsed.at.getTime() - now.getTime();
      if (open < QUIZ_MIN_OPEN_MS || open > QUIZ_MAX_OPEN_MS) return { retry: "quiz-prompt:errors.quiz_close" };
      return { done: { closesAt: parsed.at.toISOString() } };
    },
  });
  return { questionIds: questionIds!, intro, close: close as Close };
}

const introAnswer = z.string().transform((s, ctx2) => {
  const text = s.replace(/\s+/g, " ").trim();
  if (isSkipWord(text)) return "";
  if (text.length > QUIZ_INTRO_MAX) {
    ctx2.addIssue({ code: "custom", message: "quiz-prompt:errors.intro_too_long" });
    return z.NEVER;
  }
  return text;
});

/** The question picker: previews by page, numbered toggles (at most five), then Done or another topic. */
async function pickQuestions(conversation: Convo, ctx: ConvContext, list: Array<{ id: string; preview: string }>): Promise<string[] | "topic"> {
  let selected: number[] = [];
  let page = 0;
  const pages = Math.ceil(list.length / PICK_PAGE);
  const screen = (c: ConvContext) => {
    const lines = list
      .slice(page * PICK_PAGE, (page + 1) * PICK_PAGE)
      .map((q, i) => `${selected.includes(page * PICK_PAGE + i) ? "✅" : "▫️"} <b>${page * PICK_PAGE + i + 1}.</b> ${escapeHtml(q.preview)}`);
    return c.t("quiz-prompt:flow.pick", { max: QUIZ_MAX_QUESTIONS, page: page + 1, pages, count: selected.length, lines: lines.join("\n"), interpolation: { escapeValue: false } });
  };
  const keyboard = (c: ConvContext) => quizPickKeyboard(c.t, { from: page * PICK_PAGE, to: Math.min(list.length, (page + 1) * PICK_PAGE), selected, hasPrev: page > 0, hasNext: page < pages - 1 });
  const answer = await runStep<string[] | "topic">(conversation, ctx, {
    question: screen,
    keyboard,
    codecs: [cb.bcQuizPick],
    hint: "broadcast:flow.screen_hint",
    echo: (c, v) => (v === "topic" ? undefined : echoLine(c, "quiz-prompt:flow.questions_label", String(v.length))),
    accept: async (c) => {
      const v = cb.bcQuizPick.unpack(c.callbackQuery?.data);
      if (v === undefined) return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
      if (v === "topic") return { done: "topic" };
      if (v === "done") return selected.length > 0 ? { done: selected.map((i) => list[i]!.id) } : { retry: "quiz-prompt:errors.pick_one" };
      if (v === "prev" || v === "next") page = Math.max(0, Math.min(pages - 1, page + (v === "next" ? 1 : -1)));
      else {
        const i = Number(v.slice(2));
        // A forged or stale index is refused like any other wrong button.
        if (i >= list.length) return { retry: "common:errors.invalid_button" };
        if (selected.includes(i)) selected = selected.filter((x) => x !== i);
        else if (selected.length >= QUIZ_MAX_QUESTIONS) return { retry: "quiz-prompt:errors.max_questions", params: { max: QUIZ_MAX_QUESTIONS } };
        else selected = [...selected, i];
      }
      await quietly(c.editMessageText(screen(c), { reply_markup: keyboard(c) }));
      return { wait: true };
    },
  });
  return answer as string[] | "topic";
}
