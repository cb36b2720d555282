import { Composer, InlineKeyboard } from "grammy";
import type { InlineKeyboardButton } from "grammy/types";
import { provinceLabel } from "../../domain/geo/labels.js";
import type { RoundCard } from "../../domain/scholarships/listing.js";
import { daysUntil, formatDay, formatVnd, type Day, type RoundPhase } from "../../domain/scholarships/model.js";
import type { TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { ELIGIBILITY_FLOW, NOMINATE_FLOW } from "../flows/scholarship-flow-names.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { registerButton } from "./start.js";

/**
 * Residents and members and scholarship rounds (issue 10): /scholarships shows the rounds of the
 * person's province and nationwide ones, one card per page in one message (◀️ ▶️ edit it in
 * place), with details, "Am I eligible?", "Remind me" and nominate. The deep link
 * t.me/<bot>?start=sch_<id> opens one round's card.
 */
export const scholarshipsFeature = new Composer<BotContext>();
const dm = scholarshipsFeature.chatType("private");

export const SCHOLARSHIP_PAYLOAD = /^sch_(\d{1,9})$/;

type View = "card" | "details";
const langOf = (ctx: BotContext): "vi" | "en" => (ctx.locale === "en" ? "en" : "vi");
const noPreview = { link_preview_options: { is_disabled: true } } as const;

/** "còn 5 ngày", "hạn chót hôm nay", "mở sau 3 ngày" (empty for a closed round). */
export function countdownText(t: TFunction, round: { phase: RoundPhase; opensOn: Day; deadlineOn: Day }, now: Date): string {
  if (round.phase === "open") {
    const days = daysUntil(round.deadlineOn, now);
    return days <= 0 ? t("scholarships:countdown.today") : days === 1 ? t("scholarships:countdown.tomorrow") : t("scholarships:countdown.days_left", { days });
  }
  if (round.phase === "upcoming") {
    const days = daysUntil(round.opensOn, now);
    return days <= 1 ? t("scholarships:countdown.opens_tomorrow") : t("scholarships:countdown.opens_in", { days });
  }
  return "";
}

/** The round's province ("TP. Hải Phòng") or "toàn quốc". */
export async function roundPlace(ctx: BotContext, provinceCode: string | null): Promise<string> {
  if (!provinceCode) return ctx.t("scholarships:nationwide");
  const p = await ctx.deps.services.geo.getProvince(provinceCode);
  return p ? provinceLabel(p, langOf(ctx), "short") : provinceCode;
}

async function cardText(ctx: BotContext, card: RoundCard, view: View): Promise<string> {
  const t = ctx.t;
  const lang = langOf(ctx);
  const lines = [
    t("scholarships:card.title", { programme: card.programme, year: card.year }),
    t("scholarships:card.organiser", { body: t(`scholarships:body.${card.organiserBody}`, { defaultValue: card.organiserBody }), place: await roundPlace(ctx, card.provinceCode) }),
  ];
  const value = card.awardValueVnd !== null ? formatVnd(card.awardValueVnd, lang) : undefined;
  if (value && card.awardCount !== null) lines.push(t("scholarships:card.award_both", { value, count: card.awardCount }));
  else if (value) lines.push(t("scholarships:card.award_value", { value }));
  else if (card.awardCount !== null) lines.push(t("scholarships:card.award_count", { count: card.awardCount }));
  const phase = t(`scholarships:phase.${card.phase}`);
  if (card.phase === "open" || card.phase === "upcoming") {
    lines.push(t(`scholarships:card.phase_${card.phase}`, { phase, countdown: countdownText(t, card, ctx.deps.now()) }));
  } else lines.push(t("scholarships:card.phase_closed", { phase }));
  if (card.phase === "upcoming") lines.push(t("scholarships:card.opens_and_deadline", { opens: formatDay(card.opensOn), deadline: formatDay(card.deadlineOn) }));
  else lines.push(t("scholarships:card.deadline", { day: formatDay(card.deadlineOn) }));
  if (card.subscribed && card.phase !== "closed") lines.push(t("scholarships:card.subscribed"));
  if (view === "details") {
    lines.push(
      "",
      t("scholarships:details.eligibility", { text: card.eligibility }),
      t("scholarships:details.how_to_apply", { text: card.howToApply }),
      t("scholarships:details.contact", { text: card.contact }),
      t("scholarships:details.dates", { opens: formatDay(card.opensOn), deadline: formatDay(card.deadlineOn), award: formatDay(card.awardOn) }),
    );
  }
  return lines.join("\n");
}

const btn = (text: string, data: string): InlineKeyboardButton => ({ text, callback_data: data });

/**
 * Where a card is shown, carried in its buttons (a press arrives without its message): a list
 * page (of the person's province, or of one named in the command), or no list at all.
 */
export interface Where {
  page?: number;
  provinceCode?: string;
}

/** The "<where>" of a scholarshipCard button: c/d (view), then the page and "p<province>". */
function token(view: View, where: Where | undefined): string {
  const base = view === "card" ? "c" : "d";
  if (where?.page === undefined) return base;
  return `${base}${where.page}${where.provinceCode ? `p${where.provinceCode}` : ""}`;
}

function parseToken(t: string): { kind: "card"; view: View; where: Where } | { kind: "verdict"; nominate: boolean } {
  if (t === "v" || t === "w") return { kind: "verdict", nominate: t === "v" };
  const m = /^([cd])(?:(\d{1,3})(?:p(\d{2}))?)?$/.exec(t)!;
  const where: Where = {};
  if (m[2] !== undefined) where.page = Number(m[2]);
  if (m[3] !== undefined) where.provinceCode = m[3];
  return { kind: "card", view: m[1] === "d" ? "details" : "card", where };
}

/**
 * The remind button for the person's state. `on` says which message it redraws: a card (view
 * and list page) or the eligibility verdict; without it (a reminder's message) it only answers.
 */
export function remindButton(t: TFunction, roundId: number, subscribed: boolean, on?: string): InlineKeyboardButton {
  const action = subscribed ? "unrem" : "rem";
  const data = on ? cb.scholarshipCard.pack(`${action}.${roundId}.${on}`) : cb.scholarship.pack(`${action}.${roundId}`);
  return btn(t(subscribed ? "scholarships:card.unremind" : "scholarships:card.remind"), data);
}

function cardKeyboard(t: TFunction, card: RoundCard, view: View, where?: Where, pager: InlineKeyboardButton[] = []): InlineKeyboard {
  const on = token(view, where);
  const rows: InlineKeyboardButton[][] = [[
    view === "card"
      ? btn(t("scholarships:card.details"), cb.scholarshipCard.pack(`det.${card.id}.${token("details", where)}`))
      : btn(t("scholarships:card.less"), cb.scholarshipCard.pack(`open.${card.id}.${token("card", where)}`)),
    btn(t("scholarships:card.eligible"), cb.scholarship.pack(`elig.${card.id}`)),
  ]];
  const second: InlineKeyboardButton[] = [];
  if (card.phase !== "closed") second.push(remindButton(t, card.id, card.subscribed, on));
  if (card.phase === "open") second.push(btn(t("scholarships:card.nominate"), cb.scholarship.pack(`nom.${card.id}`)));
  if (second.length) rows.push(second);
  if (pager.length) rows.push(pager);
  return new InlineKeyboard(rows);
}

/** The eligibility verdict's buttons: the card, "Remind me" (redrawn in place), nominate. */
export function verdictKeyboard(t: TFunction, roundId: number, subscribed: boolean, nominate: boolean): InlineKeyboard {
  const rows: InlineKeyboardButton[][] = [[
    btn(t("scholarships:eligible.card_button"), cb.scholarship.pack(`open.${roundId}`)),
    remindButton(t, roundId, subscribed, nominate ? "v" : "w"),
  ]];
  if (nominate) rows.push([btn(t("scholarships:card.nominate"), cb.scholarship.pack(`nom.${roundId}`))]);
  return new InlineKeyboard(rows);
}

function packPage(where: Where, page: number): string {
  return where.provinceCode ? cb.scholarshipProvince.pack(`${where.provinceCode}.${page}`) : cb.scholarship.pack(`p.${page}`);
}

function pagerRow(t: TFunction, where: Where, page: number, total: number): InlineKeyboardButton[] {
  if (total <= 1) return [];
  const row: InlineKeyboardButton[] = [];
  if (page > 0) row.push(btn(t("scholarships:list.prev"), packPage(where, page - 1)));
  row.push(btn(t("scholarships:list.page", { page: page + 1, total }), packPage(where, page)));
  if (page < total - 1) row.push(btn(t("scholarships:list.next"), packPage(where, page + 1)));
  return row;
}

/** One page of the list: a round's card with the pager, or why there is none. */
async function listView(ctx: BotContext, where: Where): Promise<{ text: string; keyboard?: InlineKeyboard; homeProvinceCode: string | null }> {
  const listing = ctx.deps.services.scholarshipListing;
  const userId = String(ctx.from!.id);
  const opts = where.provinceCode ? { provinceCode: where.provinceCode } : {};
  let page = where.page ?? 0;
  let r = await listing.relevant(userId, { ...opts, page, pageSize: 1 });
  // Rounds closed since the list was drawn: start again from the first.
  if (r.items.length === 0 && page > 0) r = await listing.relevant(userId, { ...opts, page: (page = 0), pageSize: 1 });
  const card = r.items[0];
  if (!card) {
    const text = r.provinceCode ? ctx.t("scholarships:list.empty", { place: await roundPlace(ctx, r.provinceCode) }) : ctx.t("scholarships:list.empty_nationwide");
    return { text, homeProvinceCode: r.homeProvinceCode };
  }
  const here = { ...where, page };
  return { text: await cardText(ctx, card, "card"), keyboard: cardKeyboard(ctx.t, card, "card", here, pagerRow(ctx.t, here, page, r.total)), homeProvinceCode: r.homeProvinceCode };
}

/** A card redrawn in place: its view, and its list page's pager (the list's size as it is now). */
async function redrawCard(ctx: ButtonContext, card: RoundCard, view: View, where: Where): Promise<void> {
  let pager: InlineKeyboardButton[] = [];
  if (where.page !== undefined) {
    const r = await ctx.deps.services.scholarshipListing.relevant(String(ctx.from.id), { page: where.page, pageSize: 1, ...(where.provinceCode ? { provinceCode: where.provinceCode } : {}) });
    pager = pagerRow(ctx.t, where, where.page, Math.max(r.total, where.page + 1));
  }
  await editOrReply(ctx, await cardText(ctx, card, view), cardKeyboard(ctx.t, card, view, where, pager));
}

dm.command("scholarships", async (ctx) => {
  const query = ctx.match.trim().slice(0, 80);
  let provinceCode: string | undefined;
  if (query) {
    const found = await ctx.deps.services.geo.findProvinces(query);
    const province = found.exact ?? (found.matches.length === 1 ? found.matches[0] : found.matches.length === 0 ? found.suggestion : undefined);
    if (!province) {
      if (found.matches.length > 1) {
        const names = found.matches.slice(0, 6).map((p) => provinceLabel(p, langOf(ctx), "short")).join(", ");
        await ctx.reply(ctx.t("scholarships:list.province_ambiguous", { query, names }));
      } else await ctx.reply(ctx.t("scholarships:list.province_not_found", { query }));
      return;
    }
    provinceCode = province.code;
  }
  const view = await listView(ctx, { ...(provinceCode ? { provinceCode } : {}), page: 0 });
  // Someone not registered sees the nationwide rounds; how to see their province's comes first.
  if (!view.homeProvinceCode && !provinceCode) await ctx.reply(ctx.t("scholarships:list.not_registered"), { reply_markup: registerButton(ctx) });
  await ctx.reply(view.text, { reply_markup: view.keyboard, ...noPreview });
});

async function showPage(ctx: ButtonContext, where: Where): Promise<void> {
  await ctx.answerCallbackQuery();
  const view = await listView(ctx, where);
  await editOrReply(ctx, view.text, view.keyboard);
}

/** Sends a round's card as a new message (the deep link, a reminder's or the verdict's button). */
export async function openRoundCard(ctx: BotContext, roundId: number): Promise<void> {
  await sendCard(ctx, roundId, "card");
}

async function sendCard(ctx: BotContext, roundId: number, view: View): Promise<void> {
  const card = await ctx.deps.services.scholarshipListing.card(String(ctx.from!.id), roundId);
  if (!card) {
    await ctx.reply(ctx.t("scholarships:card.not_found"));
    return;
  }
  await ctx.reply(await cardText(ctx, card, view), { reply_markup: cardKeyboard(ctx.t, card, view), ...noPreview });
}

/** "Remind me" on or off: stored, then a short answer; false when refused (already answered). */
async function setReminder(ctx: ButtonContext, card: RoundCard, on: boolean): Promise<boolean> {
  const listing = ctx.deps.services.scholarshipListing;
  const userId = String(ctx.from.id);
  if (!on) {
    const r = await listing.unsubscribe(userId, card.id);
    await ctx.answerCallbackQuery({ text: ctx.t(r.status === "unsubscribed" ? "scholarships:remind.off" : r.status === "not_subscribed" ? "scholarships:remind.not_subscribed" : "scholarships:card.not_found") });
    return r.status !== "refused";
  }
  const r = await listing.subscribe(userId, card.id);
  if (r.status !== "refused") {
    await ctx.answerCallbackQuery({ text: ctx.t(r.status === "subscribed" ? "scholarships:remind.on" : "scholarships:remind.already") });
    return true;
  }
  if (r.reason === "not_registered") {
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t("scholarships:remind.register_first"), { reply_markup: registerButton(ctx) });
  } else {
    await ctx.answerCallbackQuery({ text: ctx.t(r.reason === "not_found" ? "scholarships:card.not_found" : `scholarships:remind.refused_${r.reason}`), show_alert: true });
  }
  return false;
}

/** Other flows in progress: a new "Am I eligible?" replaces an unfinished one, anything else waits. */
async function otherFlowActive(ctx: ButtonContext): Promise<boolean> {
  const active = Object.keys(ctx.conversation.active());
  if (active.length === 1 && active[0] === ELIGIBILITY_FLOW) {
    await ctx.conversation.exit(ELIGIBILITY_FLOW);
    return false;
  }
  return active.length > 0;
}

scholarshipsFeature.use(
  onButton(cb.scholarship, async (ctx, value) => {
    const [action, arg] = value.split(".") as [string, string];
    const n = Number(arg);
    if (action === "p") return showPage(ctx, { page: n });
    const card = await ctx.deps.services.scholarshipListing.card(String(ctx.from.id), n);
    if (!card) {
      await ctx.answerCallbackQuery({ text: ctx.t("scholarships:card.not_found"), show_alert: true });
      return;
    }
    switch (action) {
      // Without a "where" (a reminder's or another part's message): a new card, or just the answer.
      case "open":
      case "det":
        await ctx.answerCallbackQuery();
        await sendCard(ctx, card.id, action === "det" ? "details" : "card");
        return;
      case "rem":
      case "unrem":
        await setReminder(ctx, card, action === "rem");
        return;
      case "elig": {
        if (card.phase === "closed") {
          await ctx.answerCallbackQuery({ text: ctx.t("scholarships:eligible.closed"), show_alert: true });
          return;
        }
        if (await otherFlowActive(ctx)) {
          await ctx.answerCallbackQuery({ text: ctx.t("common:errors.finish_flow_first"), show_alert: true });
          return;
        }
        await ctx.answerCallbackQuery();
        await ctx.conversation.enter(ELIGIBILITY_FLOW, { roundId: card.id });
        return;
      }
      case "nom": {
        if (card.phase !== "open") {
          await ctx.answerCallbackQuery({ text: ctx.t("scholarships:nominate.closed"), show_alert: true });
          return;
        }
        if (await otherFlowActive(ctx)) {
          await ctx.answerCallbackQuery({ text: ctx.t("common:errors.finish_flow_first"), show_alert: true });
          return;
        }
        await ctx.answerCallbackQuery();
        try {
          await ctx.conversation.enter(NOMINATE_FLOW, { roundId: card.id });
        } catch (e) {
          // The nominate flow is another part's; until it is registered, say so politely.
          if (!(e instanceof Error && /has not been registered/.test(e.message))) throw e;
          // The plugin leaves an empty entry for the unknown id, which would block every later flow.
          await ctx.conversation.exit(NOMINATE_FLOW);
          await ctx.reply(ctx.t("scholarships:nominate.unavailable"));
        }
        return;
      }
    }
  }),
);

scholarshipsFeature.use(
  onButton(cb.scholarshipProvince, async (ctx, value) => {
    const [code, page] = value.split(".") as [string, string];
    if (!(await ctx.deps.services.geo.getProvince(code))) {
      await ctx.answerCallbackQuery({ text: ctx.t("common:errors.invalid_button") });
      return;
    }
    await showPage(ctx, { provinceCode: code, page: Number(page) });
  }),
);

scholarshipsFeature.use(
  onButton(cb.scholarshipCard, async (ctx, value) => {
    const [action, id, on] = value.split(".") as [string, string, string];
    const card = await ctx.deps.services.scholarshipListing.card(String(ctx.from.id), Number(id));
    if (!card) {
      await ctx.answerCallbackQuery({ text: ctx.t("scholarships:card.not_found"), show_alert: true });
      return;
    }
    const at = parseToken(on);
    if (action === "open" || action === "det") {
      await ctx.answerCallbackQuery();
      const view: View = action === "det" ? "details" : "card";
      if (at.kind === "card") await redrawCard(ctx, card, view, at.where);
      else await sendCard(ctx, card.id, view);
      return;
    }
    const subscribe = action === "rem";
    if (!(await setReminder(ctx, card, subscribe))) return;
    const now = { ...card, subscribed: subscribe };
    if (at.kind === "card") await redrawCard(ctx, now, at.view, at.where);
    else {
      await ctx.editMessageReplyMarkup({ reply_markup: verdictKeyboard(ctx.t, card.id, subscribe, at.nominate && card.phase === "open") }).catch(() => undefined);
    }
  }),
);
