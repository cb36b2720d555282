import { Composer, InlineKeyboard } from "grammy";
import { provinceLabel } from "../../domain/geo/labels.js";
import { daysUntil, formatDay, formatVnd } from "../../domain/scholarships/model.js";
import type { RoundFailure, RoundView } from "../../domain/scholarships/rounds.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { BROADCAST_FLOW } from "../flows/broadcast.js";
import { ROUND_EDIT_FIELDS } from "../flows/round-edit.js";
import type { RoundAnnounceMode } from "../flows/round-announce.js";
import { NS, bodyLabel, communeNames, rulesLines } from "../flows/round-steps.js";
import { ROUND_EDIT_FLOW, ROUND_EXTEND_FLOW, ROUND_NEW_FLOW } from "../flows/scholarship-flow-names.js";
import { currentActor } from "../flows/session-steps.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";

/**
 * Officers' scholarship rounds: /scholarship_new (the conversation), /scholarships_admin (the
 * rounds the caller runs, a page at a time), and per round its admin card: edit, close, extend,
 * cancel, announce (the broadcast flow, prefilled) and its nominations (the nominations part).
 * Role and scope are read from the database on every command and button: a forged button for
 * another province's round is refused.
 */
export const scholarshipAdminFeature = new Composer<BotContext>();
const dm = scholarshipAdminFeature.chatType("private");
const LABEL_MAX = 36;
const short = (s: string) => (s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s);

/** Admins and officers of a whole province run rounds; a commune officer is told where to go instead. */
async function requireRoundOfficer(ctx: BotContext): Promise<boolean> {
  const access = await requireRole(ctx, "officer");
  if (!access) return false;
  if (access.role === "admin" || (access.scope.provinceCode && !access.scope.communeCode)) return true;
  ctx.logger.warn({ user: ctx.from?.id }, "refused scholarship rounds to an officer without a whole province");
  const text = ctx.t(`${NS}:errors.commune_officer`);
  if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: text.slice(0, 200), show_alert: true });
  else await ctx.reply(text);
  return false;
}

dm.command("scholarship_new", async (ctx) => {
  if (!(await requireRoundOfficer(ctx))) return;
  await ctx.conversation.enter(ROUND_NEW_FLOW);
});

dm.command("scholarships_admin", async (ctx) => {
  if (!(await requireRoundOfficer(ctx))) return;
  const screen = await listScreen(ctx, 0);
  await ctx.reply(screen.text, { reply_markup: screen.keyboard });
});

async function listScreen(ctx: BotContext, page: number): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  const r = await ctx.deps.services.scholarshipRounds.list(await currentActor(ctx), page);
  if (!r.ok) return { text: ctx.t(r.errors[0]!.key) };
  if (r.total === 0) return { text: ctx.t(`${NS}:list.empty`) };
  const kb = new InlineKeyboard();
  const lines = [ctx.t(`${NS}:list.title`, { total: r.total, page: r.page + 1, pages: r.pages })];
  for (const v of r.items) {
    lines.push("", ctx.t(`${NS}:list.item`, {
      id: v.round.id, programme: v.round.programme, year: v.round.year, phase: phaseText(ctx, v), deadline: formatDay(v.round.deadlineOn),
      subscribers: v.subscribers, nominations: v.nominations,
    }));
    // Button labels are plain text: no HTML escaping.
    kb.text(ctx.t(`${NS}:list.open_button`, { id: v.round.id, programme: short(v.round.programme), interpolation: { escapeValue: false } }), cb.roundAdmin.pack(`v.${v.round.id}`)).row();
  }
  if (r.page > 0) kb.text("◀️", cb.roundAdmin.pack(`l.${r.page - 1}`));
  if (r.page < r.pages - 1) kb.text("▶️", cb.roundAdmin.pack(`l.${r.page + 1}`));
  return { text: lines.join("\n"), keyboard: kb };
}

/** "🟢 đang nhận hồ sơ · còn 5 ngày", "⏳ sắp mở · mở sau 3 ngày", "🔒 đã đóng", "❌ đã hủy". */
function phaseText(ctx: BotContext, v: RoundView): string {
  const now = ctx.deps.now();
  if (v.phase === "open") {
    const left = daysUntil(v.round.deadlineOn, now);
    return ctx.t(`${NS}:phase.open`, { countdown: left === 0 ? ctx.t(`${NS}:phase.last_day`) : ctx.t(`${NS}:phase.days_left`, { count: left }) });
  }
  if (v.phase === "upcoming") return ctx.t(`${NS}:phase.upcoming`, { count: daysUntil(v.round.opensOn, now) });
  return ctx.t(`${NS}:phase.${v.phase}`);
}

scholarshipAdminFeature.use(
  onButton(cb.roundAdmin, async (ctx, value) => {
    if (!(await requireRoundOfficer(ctx))) return;
    const [action, raw] = value.split(".") as [string, string];
    const n = Number(raw);
    switch (action) {
      case "l": {
        await ctx.answerCallbackQuery();
        const screen = await listScreen(ctx, n);
        return editOrReply(ctx, screen.text, screen.keyboard);
      }
      case "v":
        return showCard(ctx, n);
      case "edit":
        return showEditMenu(ctx, n);
      case "close":
      case "cancel":
        return askConfirm(ctx, n, action);
      case "closeok":
        return doClose(ctx, n);
      case "cancelok":
        return doCancel(ctx, n);
      case "ext":
        return enterFlow(ctx, n, ROUND_EXTEND_FLOW, [n]);
      case "ann":
        return enterFlow(ctx, n, BROADCAST_FLOW, [{ scholarshipRoundId: n } satisfies RoundAnnounceMode]);
    }
  }),
  onButton(cb.roundAdminEdit, async (ctx, value) => {
    if (!(await requireRoundOfficer(ctx))) return;
    const [field, raw] = value.split(".") as [string, string];
    const id = Number(raw);
    const view = await managed(ctx, id);
    if (!view) return;
    if (view.round.state === "cancelled") return refuseCancelled(ctx);
    if (!(await noFlowOpen(ctx))) return;
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(ctx.t("common:flow.echo", { label: ctx.t(`${NS}:edit.editing`, { id }), value: ctx.t(`${NS}:edit.fields.${field}`) })).catch(() => undefined);
    await ctx.conversation.enter(ROUND_EDIT_FLOW, id, field);
  }),
);

/** The round behind a button, or a refusal shown to the officer (someone else's, forged, gone). */
async function managed(ctx: ButtonContext, id: number): Promise<RoundView | undefined> {
  const r = await ctx.deps.services.scholarshipRounds.get(await currentActor(ctx), id);
  if (r.ok) return r;
  await refuse(ctx, r);
  return undefined;
}

async function refuse(ctx: ButtonContext, r: RoundFailure): Promise<void> {
  await ctx.answerCallbackQuery({ text: r.errors.map((e) => ctx.t(e.key, e.params)).join("\n").slice(0, 200), show_alert: true });
}

async function refuseCancelled(ctx: ButtonContext): Promise<void> {
  await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:errors.cancelled`), show_alert: true });
}

/** A conversation is one at a time: an officer in the middle of another is told to finish it first. */
async function noFlowOpen(ctx: ButtonContext): Promise<boolean> {
  if (Object.keys(ctx.conversation.active()).length === 0) return true;
  await ctx.answerCallbackQuery({ text: ctx.t("common:errors.finish_flow_first"), show_alert: true });
  return false;
}

async function enterFlow(ctx: ButtonContext, id: number, flow: string, args: unknown[]): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  if (view.round.state === "cancelled") return refuseCancelled(ctx);
  if (!(await noFlowOpen(ctx))) return;
  await ctx.answerCallbackQuery();
  await ctx.conversation.enter(flow, ...args);
}

export function cardText(ctx: BotContext, v: RoundView, provinceName: string | undefined, communes: readonly string[] = []): string {
  const x = v.round;
  const award = x.awardValueVnd === null ? ctx.t(`${NS}:new.unknown`) : formatVnd(x.awardValueVnd, ctx.locale);
  return ctx.t(`${NS}:card.text`, {
    id: x.id, programme: x.programme, year: x.year, phase: phaseText(ctx, v), body: bodyLabel(ctx.t, x.organiserBody),
    scope: provinceName ?? ctx.t(`${NS}:card.nationwide`), opens: formatDay(x.opensOn), deadline: formatDay(x.deadlineOn), awardOn: formatDay(x.awardOn),
    award, count: x.awardCount ?? ctx.t(`${NS}:new.unknown`), eligibility: x.eligibility, rules: rulesLines(ctx.t, v.rules, communes),
    apply: x.howToApply, contact: x.contact, subscribers: v.subscribers, nominations: v.nominations,
  });
}

async function showCard(ctx: ButtonContext, id: number): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  await ctx.answerCallbackQuery();
  const x = view.round;
  const province = x.provinceCode ? await ctx.deps.services.geo.getProvince(x.provinceCode) : undefined;
  const kb = new InlineKeyboard();
  if (x.state !== "cancelled") {
    kb.text(ctx.t(`${NS}:card.edit_button`), cb.roundAdmin.pack(`edit.${id}`)).text(ctx.t(`${NS}:card.extend_button`), cb.roundAdmin.pack(`ext.${id}`)).row();
    if (view.phase !== "closed") kb.text(ctx.t(`${NS}:card.close_button`), cb.roundAdmin.pack(`close.${id}`));
    kb.text(ctx.t(`${NS}:card.cancel_button`), cb.roundAdmin.pack(`cancel.${id}`)).row();
    if (view.phase !== "closed") kb.text(ctx.t(`${NS}:card.announce_button`), cb.roundAdmin.pack(`ann.${id}`)).row();
  }
  kb.text(ctx.t(`${NS}:card.nominations_button`, { count: view.nominations }), cb.nominationAdmin.pack(`l.${id}.0`)).row();
  kb.text(ctx.t(`${NS}:card.list_button`), cb.roundAdmin.pack("l.0"));
  const communes = await communeNames(ctx.deps.services.geo, view.rules.communeCodes, ctx.locale);
  await ctx.reply(cardText(ctx, view, province ? provinceLabel(province, ctx.locale, "full") : undefined, communes), { reply_markup: kb });
}

async function showEditMenu(ctx: ButtonContext, id: number): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  if (view.round.state === "cancelled") return refuseCancelled(ctx);
  await ctx.answerCallbackQuery();
  const kb = new InlineKeyboard();
  ROUND_EDIT_FIELDS.forEach((f, i) => {
    kb.text(ctx.t(`${NS}:edit.fields.${f}`), cb.roundAdminEdit.pack(`${f}.${id}`));
    if (i % 2 === 1) kb.row();
  });
  await ctx.reply(ctx.t(`${NS}:edit.which_field`, { id, programme: view.round.programme }), { reply_markup: kb });
}

async function askConfirm(ctx: ButtonContext, id: number, action: "close" | "cancel"): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  if (view.round.state === "cancelled") return refuseCancelled(ctx);
  if (action === "close" && view.phase === "closed") {
    await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:errors.already_closed`), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  const people = view.subscribers + view.nominations;
  await ctx.reply(ctx.t(`${NS}:${action}.ask`, { programme: view.round.programme, deadline: formatDay(view.round.deadlineOn), count: people }), {
    reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:${action}.yes`), cb.roundAdmin.pack(`${action}ok.${id}`)),
  });
}

async function doClose(ctx: ButtonContext, id: number): Promise<void> {
  const r = await ctx.deps.services.scholarshipRounds.close(await currentActor(ctx), id);
  if (!r.ok) return refuse(ctx, r);
  await ctx.answerCallbackQuery();
  await ctx.editMessageReplyMarkup().catch(() => undefined);
  await ctx.reply(ctx.t(`${NS}:close.result`, { programme: r.round.programme, count: r.notified }));
}

async function doCancel(ctx: ButtonContext, id: number): Promise<void> {
  const r = await ctx.deps.services.scholarshipRounds.cancel(await currentActor(ctx), id);
  if (!r.ok) return refuse(ctx, r);
  await ctx.answerCallbackQuery();
  await ctx.editMessageReplyMarkup().catch(() => undefined);
  await ctx.reply(ctx.t(`${NS}:cancel.result`, { programme: r.round.programme, count: r.notified }));
}
