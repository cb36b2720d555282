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
import { audienceKeyboard, bodyKeyboard, cancelKeyboard, goalKeyboard, sendKeyboard, type AudienceRights } from "../keyboards/broadcast.js";
import { askDateTime } from "./ask-date-time.js";
import { askCommune, askProvince } from "./ask-place.js";
import { askButtons, askText, BACK, echoLine, runStep, stopFlow } from "./engine.js";

export const BROADCAST_FLOW = "broadcast";

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

/** /broadcast: content → audience (count live) → preview → send now, schedule or cancel. */
export async function broadcastFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const me = String(ctx.from!.id);
  const start = await conversation.external((o) => o.deps.services.broadcasts.composerStart(me));
  if (!start.ok) {
    await ctx.reply(ctx.t("broadcast:flow.not_officer"));
    return;
  }
  const rights: AudienceRights = { admin: start.admin, scope: start.scope };
  const body: SenderBody = start.body ?? (await askButtons(conversation, ctx, {
    question: (c) => c.t("broadcast:flow.ask_body"),
    keyboard: (c) => bodyKeyboard(c.t),
    codec: cb.bcBody,
    hint: "broadcast:flow.screen_hint",
    echo: (c, v) => echoLine(c, "broadcast:flow.body_label", c.t(`broadcast:body.${v}`)),
  }));
  let audience: Audience = start.audience;
  const content = await askContent(conversation, ctx, me, body, audience);

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
  const preview = await conversation.external((o) => o.deps.services.broadcasts.preview(me, draft, o.locale));
  await (ctx.api.raw as unknown as Record<string, (p: Record<string, unknown>) => Promise<unknown>>)[preview.method]!({ chat_id: ctx.chat!.id, ...preview.payload });
  await ctx.reply(ctx.t("broadcast:flow.preview_intro"));

  let scheduledAt: string | undefined;
  for (let round = 0; ; round++) {
    if (round >= MAX_SEND_ROUNDS) await stopFlow(ctx);
    const choice = await askButtons(conversation, ctx, {
      question: (c) => c.t("broadcast:flow.ask_send", { count: formatCount(count, c.locale) }),
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
    if (at !== BACK) {
      scheduledAt = at;
      break;
    }
  }

  const final: Draft = { ...draft, ...(scheduledAt ? { scheduledAt } : {}) };
  const result = await conversation.external((o) => o.deps.services.broadcasts.create(me, final));
  if (!result.ok) {
    await ctx.reply(result.reason === "invalid_text" ? ctx.t(result.key, result.params) : result.reason === "forbidden" ? ctx.t("broadcast:flow.not_officer") : ctx.t(`broadcast:errors.${result.reason}`));
    return;
  }
  const n = formatCount(result.recipients, ctx.locale);
  let text: string;
  if (result.state === "sending") text = ctx.t("broadcast:flow.started", { id: result.id, count: n });
  else if (result.state === "scheduled") text = ctx.t("broadcast:flow.scheduled", { id: result.id, count: n, when: formatDateTime(scheduledAt!, ctx.locale) });
  else {
    const info = await conversation.external(async (o) => ({
      place: await o.deps.services.broadcasts.audiencePlace(audience, o.locale),
      threshold: o.deps.services.broadcasts.approvalThreshold,
    }));
    text = ctx.t(result.approvers > 0 ? "broadcast:flow.pending" : "broadcast:flow.pending_no_approver", {
      id: result.id, count: n, threshold: formatCount(info.threshold, ctx.locale), place: info.place, approvers: result.approvers,
    });
  }
  // This message becomes the live progress, edited in place by the delivery engine.
  const progress = await ctx.reply(text, { reply_markup: cancelKeyboard(ctx.t, result.id) });
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
