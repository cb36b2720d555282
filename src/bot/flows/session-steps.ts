import { InlineKeyboard, InputFile } from "grammy";
import type { LearningSession } from "../../generated/prisma/client.js";
import { checkinLink, checkinQrPng } from "../../domain/sessions/checkin-qr.js";
import { CHECKIN_OPENS_BEFORE_MS, ORGANISER_BODIES, SESSION_LIMITS, SESSION_TOPICS, formatSessionTime } from "../../domain/sessions/model.js";
import {
  capacityText, descriptionSchema, durationText, speakerSchema, titleSchema, type Actor,
} from "../../domain/sessions/session-admin.js";
import { isSkipWord } from "../../domain/citizens/inputs.js";
import type { Locale, TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext, ConvContext, Convo } from "../context.js";
import { formatTime } from "../format/dates.js";
import { askDateTime } from "./ask-date-time.js";
import { askButtons, askText, echoLine, parseWith, runStep, type Back, type BackOption } from "./engine.js";

/**
 * The questions of the officers' session flows, one function per field, shared by /session_new
 * and the edit menu so both validate alike (the validators live in the domain).
 */

const NS = "session-admin";
const DURATIONS = ["30", "60", "90", "120"] as const;

/** The caller's role and scope, read from the database now (never from the conversation's past). */
export async function currentActor(o: { deps: BotContext["deps"]; from?: { id: number } }): Promise<Actor> {
  const id = String(o.from!.id);
  return { id, ...(await o.deps.services.users.access(id)) };
}

/** "1 giờ 30 phút" / "1 h 30 min". */
export function formatDuration(t: TFunction, minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return t(`${NS}:duration.minutes`, { m });
  return m === 0 ? t(`${NS}:duration.hours`, { h }) : t(`${NS}:duration.hm`, { h, m });
}

export const topicLabel = (t: TFunction, topic: string) => t(`${NS}:topics.${topic}`, { defaultValue: topic });
export const bodyLabel = (t: TFunction, body: string | null | undefined) => (body ? t(`${NS}:bodies.${body}`, { defaultValue: body }) : t(`${NS}:new.none`));

export function askTitle(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<string | Back> {
  return askText(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_title`, { max: SESSION_LIMITS.titleMax }),
    schema: titleSchema,
    hint: `${NS}:new.text_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.title_label`, v),
  });
}

export function askTopic(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<string | Back> {
  return askButtons(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_topic`),
    keyboard: (c) => {
      const kb = new InlineKeyboard();
      SESSION_TOPICS.forEach((topic, i) => {
        kb.text(topicLabel(c.t, topic), cb.snTopic.pack(topic));
        if (i % 2 === 1) kb.row();
      });
      return kb;
    },
    codec: cb.snTopic,
    hint: `${NS}:new.buttons_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.topic_label`, topicLabel(c.t, v)),
  });
}

/** A start in the future (the date parser refuses past times; the domain checks again on save). */
export function askStart(conversation: Convo, ctx: ConvContext, question?: (c: ConvContext) => string, back?: BackOption): Promise<string | Back> {
  return askDateTime(conversation, ctx, { question: question ?? ((c) => c.t(`${NS}:new.ask_start`)), label: `${NS}:new.start_label`, back });
}

/** 30 / 60 / 90 / 120 minutes as buttons, or typed ("1h30", "90 phút"): 15 min to 8 h. */
export function askDuration(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<number | Back> {
  return runStep<number>(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_duration`),
    keyboard: (c) => {
      const kb = new InlineKeyboard();
      for (const d of DURATIONS) kb.text(formatDuration(c.t, Number(d)), cb.snDuration.pack(d));
      return kb;
    },
    codecs: [cb.snDuration],
    hint: `${NS}:new.duration_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.duration_label`, formatDuration(c.t, v)),
    accept: async (c) => {
      const pressed = cb.snDuration.unpack(c.callbackQuery?.data);
      if (pressed) return { done: Number(pressed) };
      const text = c.message?.text;
      return text === undefined ? undefined : parseWith(durationText, text);
    },
  });
}

export function askCapacity(conversation: Convo, ctx: ConvContext, question?: (c: ConvContext) => string, back?: BackOption): Promise<number | Back> {
  return askText(conversation, ctx, {
    question: question ?? ((c) => c.t(`${NS}:new.ask_capacity`)),
    schema: capacityText,
    hint: `${NS}:new.text_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.capacity_label`, String(v)),
  });
}

/** An optional text: typed, or skipped with the button or a skip word ("bỏ qua", "không"); null when skipped. */
function askOptionalText(
  conversation: Convo, ctx: ConvContext,
  opts: { question: string; label: string; schema: typeof speakerSchema | typeof descriptionSchema; back?: BackOption },
): Promise<string | null | Back> {
  return runStep<string | null>(conversation, ctx, {
    question: (c) => c.t(opts.question),
    keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:new.skip`), cb.snSkip.pack("skip")),
    codecs: [cb.snSkip],
    hint: `${NS}:new.text_hint`,
    back: opts.back,
    echo: (c, v) => echoLine(c, opts.label, v ?? c.t(`${NS}:new.none`)),
    accept: async (c) => {
      if (cb.snSkip.unpack(c.callbackQuery?.data)) return { done: null };
      const text = c.message?.text;
      if (text === undefined) return undefined;
      if (isSkipWord(text)) return { done: null };
      return parseWith(opts.schema, text);
    },
  });
}

export function askSpeaker(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<string | null | Back> {
  return askOptionalText(conversation, ctx, { question: `${NS}:new.ask_speaker`, label: `${NS}:new.speaker_label`, schema: speakerSchema, back });
}

export function askDescription(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<string | null | Back> {
  return askOptionalText(conversation, ctx, { question: `${NS}:new.ask_description`, label: `${NS}:new.description_label`, schema: descriptionSchema, back });
}

/** The organising body, or none ("skip"). */
export async function askBody(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<string | null | Back> {
  const v = await askButtons(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_body`),
    keyboard: (c) => {
      const kb = new InlineKeyboard();
      for (const b of ORGANISER_BODIES) kb.text(bodyLabel(c.t, b), cb.snBody.pack(b)).row();
      return kb.text(c.t(`${NS}:new.skip`), cb.snBody.pack("skip"));
    },
    codec: cb.snBody,
    hint: `${NS}:new.buttons_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.body_label`, v === "skip" ? c.t(`${NS}:new.none`) : bodyLabel(c.t, v)),
  });
  return v === "skip" ? null : v;
}

/** The check-in QR as a photo: title, time, window and link in the caption, and a button to rotate it. */
export async function sendCheckinQr(ctx: BotContext | ConvContext, session: Pick<LearningSession, "id" | "title" | "startsAt" | "durationMin" | "checkinToken">): Promise<void> {
  const link = checkinLink(ctx.me.username, session.checkinToken);
  const png = await checkinQrPng(link);
  const startsAt = new Date(session.startsAt);
  const caption = ctx.t(`${NS}:qr.caption`, {
    id: session.id,
    title: session.title,
    time: formatSessionTime(startsAt, ctx.locale),
    opens: formatTime(new Date(startsAt.getTime() - CHECKIN_OPENS_BEFORE_MS)),
    closes: formatTime(new Date(startsAt.getTime() + session.durationMin * 60_000)),
    link,
  });
  await ctx.replyWithPhoto(new InputFile(png, `checkin-${session.id}.png`), {
    caption,
    reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:qr.rotate_button`), cb.sessionAdmin.pack(`rotate.${session.id}`)),
  });
}

export function sessionTime(at: Date | string, locale: Locale): string {
  return formatSessionTime(new Date(at), locale);
}
