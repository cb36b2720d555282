import { Composer, InlineKeyboard, InputFile, Keyboard } from "grammy";
import { placeLabel } from "../../domain/geo/labels.js";
import type { SessionView } from "../../domain/sessions/cards.js";
import type { NearbyCenter } from "../../domain/sessions/nearby.js";
import { sessionIcs } from "../../domain/sessions/cards.js";
import { formatSessionTime, insideVietnam, SESSION_TOPICS, type SessionTopic } from "../../domain/sessions/model.js";
import type { JoinResult, LeaveResult } from "../../domain/sessions/signups.js";
import { checkInText } from "../format/checkin.js";
import { escapeHtml, type TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { REGISTRATION } from "../flows/registration.js";
import { SESSION_PLACE_FLOW } from "../flows/session-place.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { registerButton } from "./start.js";

/**
 * Residents and sessions at community learning centres: "📍 Gần tôi" (a shared location) or a
 * commune, a paginated list of the nearest centres with upcoming sessions (one message, edited
 * on Next/Previous and on the topic filter), the session card (sign up, waiting list, give back
 * the seat, map, calendar file, share link), /mysessions with the year's learning hours, and the
 * QR check-in deep link.
 */
export const sessionsFeature = new Composer<BotContext>();
const dm = sessionsFeature.chatType("private");

/** Centres per page of the nearby list. */
export const CENTERS_PER_PAGE = 3;
const raw = { interpolation: { escapeValue: false } } as const;

export const SESSION_PAYLOAD = /^s_(\d{1,9})$/;
export const CHECKIN_PAYLOAD = /^ci_([A-Za-z0-9_-]{16,32})$/;

type Where = { kind: "g"; lat: number; lon: number } | { kind: "c"; communeCode: string };
interface ListState {
  where: Where;
  topic: SessionTopic | "all";
  page: number;
}

function packList(s: ListState): string {
  const where = s.where.kind === "g" ? `g${s.where.lat.toFixed(4)},${s.where.lon.toFixed(4)}` : `c${s.where.communeCode}`;
  return cb.nearby.pack(`${where}|${s.topic}|${s.page}`);
}

/** The list's state from its button ("menu" as the topic: show the topic picker). */
function unpackList(value: string): ListState | undefined {
  const [where, topic, page] = value.split("|") as [string, string, string];
  const parsedWhere: Where | undefined = where.startsWith("g")
    ? (() => {
        const [lat, lon] = where.slice(1).split(",").map(Number) as [number, number];
        return insideVietnam(lat, lon) ? { kind: "g" as const, lat, lon } : undefined;
      })()
    : { kind: "c", communeCode: where.slice(1) };
  if (!parsedWhere) return undefined;
  if (topic !== "all" && topic !== "menu" && !(SESSION_TOPICS as readonly string[]).includes(topic)) return undefined;
  return { where: parsedWhere, topic: topic as SessionTopic | "all", page: Number(page) };
}

const topicName = (t: TFunction, topic: string) => t(`sessions:topics.${topic}`, { defaultValue: topic });

function km(value: number, locale: string): string {
  const s = value.toFixed(1);
  return locale === "en" ? s : s.replace(".", ",");
}

function seatsText(t: TFunction, s: { capacity: number; confirmedCount: number; waitingCount: number }): string {
  const left = Math.max(0, s.capacity - s.confirmedCount);
  return left > 0 ? t("sessions:card.seats_left", { left, capacity: s.capacity }) : t("sessions:card.full", { waiting: s.waitingCount });
}

function shortDate(at: Date): string {
  // "8:00 20/12" for buttons: the card has the full form.
  const full = formatSessionTime(at, "vi");
  const m = /^(\d{1,2}:\d{2}) .*, (\d{2}\/\d{2})\/\d{4}$/.exec(full);
  return m ? `${m[1]} ${m[2]}` : full;
}

/** The location keyboard: "📍 Gần tôi" asks Telegram for the location; the other picks a commune. */
function findKeyboard(t: TFunction): Keyboard {
  return new Keyboard().requestLocation(t("sessions:find.near_me")).text(t("sessions:find.choose_place")).resized().oneTime();
}

dm.command("sessions", async (ctx) => {
  await ctx.reply(ctx.t("sessions:find.prompt"), { reply_markup: findKeyboard(ctx.t) });
  const home = await ctx.deps.services.sessionCards.homeCommune(String(ctx.from.id));
  if (home) await sendList(ctx, { where: { kind: "c", communeCode: home }, topic: "all", page: 0 });
});

dm.hears([/^🏘/u], async (ctx) => {
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  await ctx.conversation.enter(SESSION_PLACE_FLOW);
});

dm.on("message:location", async (ctx) => {
  const { latitude: lat, longitude: lon } = ctx.message.location;
  if (!insideVietnam(lat, lon)) {
    await ctx.reply(ctx.t("sessions:find.outside_vietnam"), { reply_markup: findKeyboard(ctx.t) });
    return;
  }
  await sendList(ctx, { where: { kind: "g", lat: Math.round(lat * 1e4) / 1e4, lon: Math.round(lon * 1e4) / 1e4 }, topic: "all", page: 0 });
});

async function findPage(ctx: BotContext, s: ListState): Promise<{ items: NearbyCenter[]; hasMore: boolean }> {
  const opts = { limit: CENTERS_PER_PAGE, offset: s.page * CENTERS_PER_PAGE, ...(s.topic !== "all" ? { topic: s.topic } : {}) };
  const nearby = ctx.deps.services.nearby;
  if (s.where.kind === "g") return nearby.nearest({ lat: s.where.lat, lon: s.where.lon }, opts);
  return (await nearby.forCommune(s.where.communeCode, opts)) ?? { items: [], hasMore: false };
}

async function listView(ctx: BotContext, s: ListState): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const { items, hasMore } = await findPage(ctx, s);
  const t = ctx.t;
  let near = t("sessions:list.near_location");
  if (s.where.kind === "c") {
    const commune = await ctx.deps.services.geo.getCommune(s.where.communeCode);
    const province = commune ? await ctx.deps.services.geo.getProvince(commune.provinceCode) : undefined;
    near = t("sessions:list.near_place", { place: escapeHtml(commune && province ? placeLabel(commune, province, ctx.locale === "en" ? "en" : "vi") : s.where.communeCode), ...raw });
  }
  const lines = [t("sessions:list.title", { topic: s.topic === "all" ? t("sessions:list.all_topics") : topicName(t, s.topic), page: s.page + 1 }), near, ""];
  const keyboard = new InlineKeyboard();
  if (items.length === 0) lines.push(s.topic === "all" ? t("sessions:list.empty") : t("sessions:list.none_topic"));
  items.forEach((c, i) => {
    const n = s.page * CENTERS_PER_PAGE + i + 1;
    lines.push(t("sessions:list.center", { n, name: escapeHtml(c.name), km: km(c.distanceKm, ctx.locale), address: escapeHtml(c.address), ...raw }) + (c.demo ? ` ${t("sessions:demo_mark")}` : ""));
    for (const session of c.sessions) {
      lines.push(t("sessions:list.session", { when: formatSessionTime(session.startsAt, ctx.locale), title: escapeHtml(session.title), seats: seatsText(t, session), ...raw }));
      keyboard.text(`🗓 ${shortDate(session.startsAt)} · ${session.title}`.slice(0, 60), cb.session.pack(`open.${session.id}`)).row();
    }
    lines.push("");
  });
  if (s.page > 0) keyboard.text(t("sessions:list.prev"), packList({ ...s, page: s.page - 1 }));
  keyboard.text(t("sessions:list.topic_button"), packList({ ...s, topic: "menu" as never, page: 0 }));
  if (hasMore) keyboard.text(t("sessions:list.next"), packList({ ...s, page: s.page + 1 }));
  return { text: lines.join("\n").trim(), keyboard };
}

/** The first page of the list around a commune's point (the place flow's answer). */
export function communeListView(ctx: BotContext, communeCode: string): Promise<{ text: string; keyboard: InlineKeyboard }> {
  return listView(ctx, { where: { kind: "c", communeCode }, topic: "all", page: 0 });
}

async function sendList(ctx: BotContext, s: ListState): Promise<void> {
  const view = await listView(ctx, s);
  await ctx.reply(view.text, { reply_markup: view.keyboard, link_preview_options: { is_disabled: true } });
}

/** The list message is edited in place: pages, the topic menu and the filter. */
sessionsFeature.use(
  onButton(cb.nearby, async (ctx, value) => {
    const s = unpackList(value);
    if (!s) {
      await ctx.answerCallbackQuery({ text: ctx.t("common:errors.invalid_button") });
      return;
    }
    await ctx.answerCallbackQuery();
    if ((s.topic as string) === "menu") {
      const kb = new InlineKeyboard().text(ctx.t("sessions:list.all_topics"), packList({ ...s, topic: "all", page: 0 })).row();
      SESSION_TOPICS.forEach((topic, i) => {
        kb.text(topicName(ctx.t, topic), packList({ ...s, topic, page: 0 }));
        if (i % 2 === 1) kb.row();
      });
      await ctx.editMessageReplyMarkup({ reply_markup: kb }).catch(() => undefined);
      return;
    }
    const view = await listView(ctx, s);
    await ctx.editMessageText(view.text, { reply_markup: view.keyboard, link_preview_options: { is_disabled: true } }).catch(ignoreNotModified);
  }),
);

function ignoreNotModified(err: unknown): void {
  if (err instanceof Error && /message is not modified/.test(err.message)) return;
  throw err;
}

/** A session card: what, when, where, who speaks, seats, and the person's place. */
async function cardView(ctx: BotContext, s: SessionView): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const t = ctx.t;
  const locale = ctx.locale === "en" ? "en" : "vi";
  const me = await ctx.deps.services.sessionSignups.statusOf(String(ctx.from!.id), s.id);
  const commune = await ctx.deps.services.geo.getCommune(s.center.communeCode);
  const province = await ctx.deps.services.geo.getProvince(s.center.provinceCode);
  const place = commune && province ? placeLabel(commune, province, locale) : "";
  const now = ctx.deps.now();
  const ended = s.startsAt.getTime() + s.durationMin * 60_000 <= now.getTime();
  const started = s.startsAt.getTime() <= now.getTime();
  const lines = [
    `🗓 <b>${escapeHtml(s.title)}</b>` + (s.demo ? ` ${t("sessions:demo_mark")}` : ""),
    t("sessions:card.topic", { topic: topicName(t, s.topic), minutes: s.durationMin }),
    t("sessions:card.when", { when: formatSessionTime(s.startsAt, locale) }),
    t("sessions:card.where", { center: escapeHtml(s.center.name), address: escapeHtml(s.center.address), place: escapeHtml(place), ...raw }),
  ];
  if (s.speaker || s.organiserBody) {
    const body = s.organiserBody ? t(`sessions:bodies.${s.organiserBody}`, { defaultValue: "" }) : "";
    lines.push(t("sessions:card.speaker", { speaker: escapeHtml([s.speaker, body ? `(${body})` : ""].filter(Boolean).join(" ")), ...raw }));
  }
  if (s.state === "cancelled") lines.push("", t("sessions:card.cancelled"));
  else if (ended) lines.push("", t("sessions:card.ended"));
  else lines.push(t("sessions:card.seats", { seats: seatsText(t, s) }));
  if (s.description) lines.push("", `<i>${escapeHtml(s.description)}</i>`);
  if (me?.attendedAt) lines.push("", t("sessions:card.me_attended"));
  else if (me?.status === "confirmed") lines.push("", t("sessions:card.me_confirmed"));
  else if (me?.status === "waiting") lines.push("", t("sessions:card.me_waiting", { position: me.position ?? 1 }));
  const kb = new InlineKeyboard();
  if (s.state === "scheduled" && !started) {
    if (me?.status === "confirmed") kb.text(t("sessions:card.leave"), cb.session.pack(`leave.${s.id}`));
    else if (me?.status === "waiting") kb.text(t("sessions:card.leave_waiting"), cb.session.pack(`leave.${s.id}`));
    else if (s.confirmedCount < s.capacity) kb.text(t("sessions:card.join"), cb.session.pack(`join.${s.id}`));
    else kb.text(t("sessions:card.join_waiting"), cb.session.pack(`join.${s.id}`));
    kb.row();
  }
  kb.text(t("sessions:card.map"), cb.session.pack(`map.${s.id}`));
  if (s.state === "scheduled" && !ended) kb.text(t("sessions:card.calendar"), cb.session.pack(`ics.${s.id}`));
  kb.row().url(t("sessions:card.share"), shareUrl(ctx, s));
  return { text: lines.join("\n"), keyboard: kb };
}

export function sessionLink(botUsername: string, sessionId: number): string {
  return `https://t.me/${botUsername}?start=s_${sessionId}`;
}

function shareUrl(ctx: BotContext, s: SessionView): string {
  const link = sessionLink(ctx.me.username, s.id);
  return `https://t.me/share/url?url=${encodeURIComponent(link)}&text=${encodeURIComponent(s.title)}`;
}

/** Sends a session's card (from the list, /mysessions, a reminder, or the shared deep link). */
export async function sendSessionCard(ctx: BotContext, sessionId: number): Promise<void> {
  const s = await ctx.deps.services.sessionCards.get(sessionId);
  if (!s) {
    await ctx.reply(ctx.t("sessions:card.not_found"));
    return;
  }
  const view = await cardView(ctx, s);
  await ctx.reply(view.text, { reply_markup: view.keyboard, link_preview_options: { is_disabled: true } });
}

async function redrawCard(ctx: ButtonContext, sessionId: number): Promise<void> {
  const s = await ctx.deps.services.sessionCards.get(sessionId);
  if (!s) return;
  const view = await cardView(ctx, s);
  await ctx.editMessageText(view.text, { reply_markup: view.keyboard, link_preview_options: { is_disabled: true } }).catch((err: unknown) => {
    // The card may be a reminder or notice (other text): then answer with a fresh card instead.
    if (err instanceof Error && /message is not modified/.test(err.message)) return;
    return ctx.reply(view.text, { reply_markup: view.keyboard, link_preview_options: { is_disabled: true } }).then(() => undefined);
  });
}

function joinAnswer(t: TFunction, r: JoinResult): string {
  switch (r.status) {
    case "confirmed":
      return t("sessions:join.confirmed");
    case "waiting":
      return t("sessions:join.waiting", { position: r.position });
    case "already_confirmed":
      return t("sessions:join.already_confirmed");
    case "already_waiting":
      return t("sessions:join.already_waiting", { position: r.position });
    case "unavailable":
      return t(`sessions:unavailable.${r.reason}`);
  }
}

function leaveAnswer(t: TFunction, r: LeaveResult): string {
  switch (r.status) {
    case "left":
      return r.was === "confirmed" ? t("sessions:leave.seat_given_back") : t("sessions:leave.left_waiting");
    case "not_signed_up":
      return t("sessions:leave.not_signed_up");
    case "unavailable":
      return t(`sessions:unavailable.${r.reason}`);
  }
}

sessionsFeature.use(
  onButton(cb.session, async (ctx, value) => {
    const [action, idText] = value.split(".") as [string, string];
    const sessionId = Number(idText);
    const userId = String(ctx.from.id);
    const s = await ctx.deps.services.sessionCards.get(sessionId);
    if (!s) {
      await ctx.answerCallbackQuery({ text: ctx.t("sessions:card.not_found"), show_alert: true });
      return;
    }
    switch (action) {
      case "open": {
        await ctx.answerCallbackQuery();
        const view = await cardView(ctx, s);
        await ctx.reply(view.text, { reply_markup: view.keyboard, link_preview_options: { is_disabled: true } });
        return;
      }
      case "join": {
        if (!(await ctx.deps.services.citizens.isRegistered(userId))) {
          await ctx.answerCallbackQuery();
          await ctx.reply(ctx.t("sessions:join.register_first"), { reply_markup: registerButton(ctx) });
          return;
        }
        const r = await ctx.deps.services.sessionSignups.join(userId, sessionId);
        await ctx.answerCallbackQuery({ text: joinAnswer(ctx.t, r), show_alert: r.status === "waiting" || r.status === "unavailable" });
        await redrawCard(ctx, sessionId);
        return;
      }
      case "leave": {
        const r = await ctx.deps.services.sessionSignups.leave(userId, sessionId);
        await ctx.answerCallbackQuery({ text: leaveAnswer(ctx.t, r) });
        await redrawCard(ctx, sessionId);
        return;
      }
      case "map":
        await ctx.answerCallbackQuery();
        await ctx.replyWithVenue(s.center.lat, s.center.lon, s.center.name.slice(0, 256), s.center.address.slice(0, 256));
        return;
      case "ics": {
        await ctx.answerCallbackQuery();
        const locale = ctx.locale === "en" ? "en" : "vi";
        const commune = await ctx.deps.services.geo.getCommune(s.center.communeCode);
        const province = await ctx.deps.services.geo.getProvince(s.center.provinceCode);
        const ics = await sessionIcs(s, {
          placeLabel: commune && province ? placeLabel(commune, province, locale) : "",
          url: sessionLink(ctx.me.username, s.id),
          ...(s.description ? { description: s.description } : {}),
        });
        await ctx.replyWithDocument(new InputFile(Buffer.from(ics, "utf8"), `buoi-hoc-${s.id}.ics`), {
          caption: ctx.t("sessions:card.calendar_caption", { title: escapeHtml(s.title), when: formatSessionTime(s.startsAt, locale), ...raw }),
        });
        return;
      }
      case "share":
        await ctx.answerCallbackQuery();
        await ctx.reply(sessionLink(ctx.me.username, s.id), { link_preview_options: { is_disabled: true } });
        return;
    }
  }),
);

dm.command("mysessions", async (ctx) => {
  const id = String(ctx.from.id);
  const { upcoming, past } = await ctx.deps.services.sessionSignups.mine(id, 10);
  const year = Number(formatSessionTime(ctx.deps.now(), "vi").slice(-4));
  const hours = await ctx.deps.services.sessionSignups.hours(id, year);
  const t = ctx.t;
  const locale = ctx.locale === "en" ? "en" : "vi";
  const lines = [t("sessions:mine.title"), ""];
  if (upcoming.length === 0 && past.length === 0) {
    lines.push(t("sessions:mine.empty"));
    await ctx.reply(lines.join("\n"));
    return;
  }
  const kb = new InlineKeyboard();
  if (upcoming.length) {
    lines.push(t("sessions:mine.upcoming"));
    for (const m of upcoming) {
      const state = m.state === "cancelled" ? t("sessions:mine.state_cancelled") : m.attendedAt ? t("sessions:mine.state_attended") : t(`sessions:mine.state_${m.status}`);
      lines.push(t("sessions:mine.line", { when: formatSessionTime(m.startsAt, locale), title: escapeHtml(m.title), center: escapeHtml(m.centerName), state, ...raw }));
      if (m.state === "scheduled") kb.text(`🗓 ${shortDate(m.startsAt)} · ${m.title}`.slice(0, 60), cb.session.pack(`open.${m.id}`)).row();
    }
    lines.push("");
  }
  if (past.length) {
    lines.push(t("sessions:mine.past"));
    for (const m of past) {
      const state = m.state === "cancelled" ? t("sessions:mine.state_cancelled") : m.attendedAt ? t("sessions:mine.state_attended") : t("sessions:mine.state_absent");
      lines.push(t("sessions:mine.line", { when: formatSessionTime(m.startsAt, locale), title: escapeHtml(m.title), center: escapeHtml(m.centerName), state, ...raw }));
    }
    lines.push("");
  }
  lines.push(t("sessions:mine.hours", { year, hours: km(hours.hours, ctx.locale), sessions: hours.sessions }));
  await ctx.reply(lines.join("\n"), { reply_markup: kb });
});

/** The learning card's line for the year's learning hours ("" when none). */
export async function hoursCardLine(ctx: BotContext): Promise<string> {
  const year = Number(formatSessionTime(ctx.deps.now(), "vi").slice(-4));
  const h = await ctx.deps.services.sessionSignups.hours(String(ctx.from!.id), year);
  return h.sessions > 0 ? ctx.t("sessions:card_line", { year, hours: km(h.hours, ctx.locale), sessions: h.sessions }) : "";
}

/**
 * /start ci_<token>: the QR code at the session. A registered person is checked in at once;
 * someone not registered yet is told why, then registers, and the check-in completes right after.
 */
export async function startCheckIn(ctx: BotContext, token: string): Promise<void> {
  const id = String(ctx.from!.id);
  const locale = ctx.locale === "en" ? "en" : "vi";
  if (await ctx.deps.services.citizens.isRegistered(id)) {
    const r = await ctx.deps.services.sessionSignups.checkIn(id, token);
    await ctx.reply(checkInText(ctx.t, locale, r));
    return;
  }
  const peek = await ctx.deps.services.sessionSignups.peekCheckIn(token);
  if (peek.status !== "open") {
    await ctx.reply(checkInText(ctx.t, locale, peek));
    return;
  }
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  await ctx.reply(ctx.t("sessions:checkin.register_first", { title: escapeHtml(peek.title), ...raw }));
  await ctx.conversation.enter(REGISTRATION, { checkinToken: token });
}

