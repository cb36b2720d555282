import { Composer, InlineKeyboard } from "grammy";
import { PENDING_PAGE_SIZE, type LearningUnitView, type Measured } from "../../domain/units/learning-units.js";
import { formatPercent } from "../../domain/units/model.js";
import type { Access } from "../../domain/users/user-service.js";
import { escapeHtml } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { formatDate } from "../format/dates.js";
import { checklistLines, LEARNING_UNIT_FLOW, officerRefusal } from "../flows/learning-unit-assessment.js";
import { LEARNING_UNIT_RETURN_FLOW } from "../flows/learning-unit-return.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { describeScope } from "./scope.js";

const NS = "learning-units";
const raw = { interpolation: { escapeValue: false } } as const;

/**
 * Đơn vị học tập: /learning_unit for a unit's heads (the self-assessment conversation),
 * /learning_units for officers (the units of their place waiting for a decision, each unit's
 * answers, approve, return with a reason). Every button re-reads the role and the unit's place:
 * a forged id of another place's unit is refused.
 */
export const learningUnitsFeature = new Composer<BotContext>();
const privateChats = learningUnitsFeature.chatType("private");

privateChats.command("learning_unit", async (ctx) => {
  const units = await ctx.deps.services.learningUnits.headedUnits(String(ctx.from.id));
  if (units.length === 0) {
    await ctx.reply(ctx.t(`${NS}:head.no_units`));
    return;
  }
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  await ctx.conversation.enter(LEARNING_UNIT_FLOW);
});

privateChats.command("learning_units", async (ctx) => {
  const access = await requireRole(ctx, "officer");
  if (!access) return;
  const screen = await pendingScreen(ctx, access, 0);
  await ctx.reply(screen.text, { reply_markup: screen.keyboard });
});

// The self-assessment's buttons outside its conversation: a finished or abandoned checklist.
learningUnitsFeature.use(onButton(cb.ulCheck, (ctx) => ctx.answerCallbackQuery({ text: ctx.t(`${NS}:head.stale`) })));
learningUnitsFeature.use(onButton(cb.ulUnit, (ctx) => ctx.answerCallbackQuery({ text: ctx.t(`${NS}:head.stale`) })));

learningUnitsFeature.use(onButton(cb.ulDecide, async (ctx, value) => {
  const access = await requireRole(ctx, "officer");
  if (!access) return;
  const [verb, n] = value.split(".") as ["p" | "v" | "a" | "r", string];
  if (verb === "p") {
    await ctx.answerCallbackQuery();
    const screen = await pendingScreen(ctx, access, Number(n));
    await editOrReply(ctx, screen.text, screen.keyboard);
    return;
  }
  const unitId = Number(n);
  const services = ctx.deps.services;
  if (verb === "a") {
    const r = await services.learningUnits.decide({ ...access, id: String(ctx.from.id) }, unitId, "approve");
    if (!r.ok) return refuse(ctx, r.reason, unitId);
    await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:officer.approved_short`) });
    const text = ctx.t(`${NS}:officer.approved`, { unit: escapeHtml(r.unit.name), date: formatDate(r.unit.decidedAt!, ctx.locale), count: r.notified, ...raw });
    await editOrReply(ctx, text, new InlineKeyboard().text(ctx.t(`${NS}:officer.back`), cb.ulDecide.pack("p.0")));
    return;
  }
  const found = await services.learningUnits.viewForOfficer(access, unitId);
  if (!found.ok) return refuse(ctx, found.reason, unitId);
  if (verb === "v") {
    await ctx.answerCallbackQuery();
    await editOrReply(ctx, await cardText(ctx, found.unit, found.measured), cardKeyboard(ctx, found.unit));
    return;
  }
  if (found.unit.status !== "pending") return refuse(ctx, "not_pending", unitId);
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.answerCallbackQuery({ text: ctx.t("common:errors.finish_flow_first"), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  await ctx.conversation.enter(LEARNING_UNIT_RETURN_FLOW, unitId);
}));

async function refuse(ctx: ButtonContext, reason: string, unitId: number): Promise<void> {
  if (reason === "forbidden") ctx.logger.warn({ unit: unitId, user: ctx.from.id }, "refused a unit outside the officer's place");
  await ctx.answerCallbackQuery({ text: officerRefusal(ctx.t, reason), show_alert: true });
}

const scopeOf = (access: Access) => (access.role === "admin" ? {} : { provinceCode: access.scope.provinceCode, communeCode: access.scope.communeCode });

async function pendingScreen(ctx: BotContext, access: Access, page: number): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const keyboard = new InlineKeyboard();
  const list = await ctx.deps.services.learningUnits.pending(access, page);
  if (!list.ok) return { text: officerRefusal(ctx.t, list.reason), keyboard };
  const scope = await describeScope(ctx, scopeOf(access));
  if (list.total === 0) return { text: ctx.t(`${NS}:officer.empty`, { scope, ...raw }), keyboard };
  const first = list.page * PENDING_PAGE_SIZE;
  const lines = await Promise.all(list.items.map(async (u, i) => ctx.t(`${NS}:officer.line`, {
    n: first + i + 1, unit: escapeHtml(u.name), place: await describeScope(ctx, { communeCode: u.communeCode, provinceCode: u.provinceCode }),
    ticked: u.ticked, answered: u.answered, share: formatPercent(u.citizens, u.headcount, ctx.locale), date: formatDate(u.requestedAt, ctx.locale), ...raw,
  })));
  list.items.forEach((u, i) => {
    keyboard.text(`🔍 ${first + i + 1}`, cb.ulDecide.pack(`v.${u.id}`));
    if (i % 3 === 2) keyboard.row();
  });
  if (list.pages > 1) {
    keyboard.row();
    if (list.page > 0) keyboard.text(ctx.t(`${NS}:officer.previous`), cb.ulDecide.pack(`p.${list.page - 1}`));
    if (list.page < list.pages - 1) keyboard.text(ctx.t(`${NS}:officer.next`), cb.ulDecide.pack(`p.${list.page + 1}`));
  }
  const title = ctx.t(`${NS}:officer.title`, { scope, total: list.total, page: list.page + 1, pages: list.pages, ...raw });
  return { text: [title, "", ...lines, "", ctx.t(`${NS}:officer.hint`)].join("\n"), keyboard };
}

/** One unit's self-assessment as sent (the answers and what was measured then), and its status. */
async function cardText(ctx: BotContext, unit: LearningUnitView, now: Measured): Promise<string> {
  const checklist = ctx.deps.services.learningUnits.checklist();
  const measured = unit.assessment?.measured ?? now;
  const head = ctx.t(`${NS}:officer.card`, {
    unit: escapeHtml(unit.name), place: await describeScope(ctx, { communeCode: unit.communeCode, provinceCode: unit.provinceCode }),
    headcount: unit.headcount, share: formatPercent(now.citizens, now.headcount, ctx.locale), citizens: now.citizens, ...raw,
  });
  const status = ctx.t(`${NS}:officer.status.${unit.status}`, {
    requested: unit.requestedAt ? formatDate(unit.requestedAt, ctx.locale) : "—", decided: unit.decidedAt ? formatDate(unit.decidedAt, ctx.locale) : "—",
    reason: escapeHtml(unit.returnReason ?? ""), ...raw,
  });
  const lines = unit.assessment ? checklistLines(ctx.t, ctx.locale, checklist, unit.assessment.answers, measured) : [];
  const version = unit.assessment && unit.assessment.checklistVersion !== checklist.version
    ? [ctx.t(`${NS}:officer.other_version`, { version: unit.assessment.checklistVersion })] : [];
  return [head, status, "", ...lines, ...version].join("\n");
}

function cardKeyboard(ctx: BotContext, unit: LearningUnitView): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (unit.status === "pending") {
    kb.text(ctx.t(`${NS}:officer.approve`), cb.ulDecide.pack(`a.${unit.id}`)).text(ctx.t(`${NS}:officer.return`), cb.ulDecide.pack(`r.${unit.id}`)).row();
  }
  return kb.text(ctx.t(`${NS}:officer.back`), cb.ulDecide.pack("p.0"));
}
