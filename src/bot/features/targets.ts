import { Composer, InlineKeyboard } from "grammy";
import { communeLabel } from "../../domain/geo/labels.js";
import { communeFigure, unitFigure, type Scoreboard } from "../../domain/targets/figures.js";
import { METRIC_COUNTS, TARGET_METRICS, worstFirst, type ScoreScope, type TargetMetric } from "../../domain/targets/model.js";
import type { ProgrammeDto, ScoreEntry } from "../../domain/targets/programmes.js";
import { vnParts } from "../../domain/time/vietnam-time.js";
import { formatCount, formatPercent, gapTo } from "../../domain/units/model.js";
import { escapeHtml, type TFunction } from "../../i18n.js";
import { cb, packScope, packTargetChart, unpackScope, unpackTargetChart } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { currentActor, metricLabel, provinceName } from "../flows/programme-steps.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { replyTargetChart } from "./target-charts.js";

/**
 * /targets (issue 11): the live scoreboard of the caller's scope — admins and province officers a
 * programme, commune officers their commune, a unit's heads their unit — each metric with its
 * figure, percentage, the year's target and the gap; by unit and by commune, worst first; for a
 * unit's heads the members not registered yet (names stay inside the unit) and one nudge to them
 * all. Every button carries the programme and scope, and every press checks them again.
 */
export const targetsFeature = new Composer<BotContext>();
const dm = targetsFeature.chatType("private");

const NS = "targets";
/** Lines of a by-unit or by-commune page. */
export const BREAKDOWN_PAGE = 10;
/** Unregistered names shown in one message; the rest are counted. */
const NAMES_SHOWN = 60;
const raw = { interpolation: { escapeValue: false } } as const;

const countWord = (t: TFunction, metric: TargetMetric, n: number) => t(`${NS}:counts.${METRIC_COUNTS[metric]}`, { count: n });

/** "còn 37 người" / "✅ đạt" / "chưa đặt chỉ tiêu". */
function gapText(t: TFunction, locale: string, metric: TargetMetric, target: number | undefined, part: number, whole: number): string {
  if (target === undefined) return t(`${NS}:board.no_target`);
  const gap = gapTo(target, part, whole);
  return gap === 0 ? t(`${NS}:board.reached`) : t(`${NS}:board.gap`, { count: gap, n: formatCount(gap, locale), what: countWord(t, metric, gap) });
}

async function scopeLabel(ctx: BotContext, p: ProgrammeDto, scope: ScoreScope, unitName?: string): Promise<string> {
  if (scope.kind === "programme") return escapeHtml(await provinceName(ctx, p.provinceCode));
  if (scope.kind === "unit") return escapeHtml(unitName ?? String(scope.unitId));
  const c = await ctx.deps.services.geo.getCommune(scope.communeCode);
  return escapeHtml(c ? communeLabel(c, ctx.locale === "en" ? "en" : "vi") : scope.communeCode);
}

type Resolved = { programme: ProgrammeDto; scope: ScoreScope; unitName?: string };

/**
 * The programme and scope behind a command or button, for this caller, or a localised refusal.
 * The programme scope asked by someone who may not see it (a commune officer, a head: the card's
 * button) opens their own scope of that programme instead.
 */
async function resolve(ctx: BotContext, programmeId: number, scope: ScoreScope): Promise<Resolved | { refused: string }> {
  const actor = await currentActor(ctx);
  const r = await ctx.deps.services.programmes.authorizeScope(actor, programmeId, scope);
  if (r.ok) return { programme: r.programme, scope, unitName: r.unitName };
  if (scope.kind === "programme") {
    const own = (await ctx.deps.services.programmes.scoreEntries(actor)).find((e) => e.programme.id === programmeId);
    if (own) {
      const again = await ctx.deps.services.programmes.authorizeScope(actor, programmeId, own.scope);
      if (again.ok) return { programme: again.programme, scope: own.scope, unitName: again.unitName };
    }
  }
  return { refused: r.reason === "not_found" ? ctx.t(`${NS}:errors.not_found`) : ctx.t(`${NS}:errors.scope`) };
}

function year(ctx: BotContext): number {
  return vnParts(ctx.deps.now()).year;
}

/** The scoreboard's text and buttons. */
async function boardScreen(ctx: BotContext, r: Resolved, entries: number): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const y = year(ctx);
  const sb = await ctx.deps.services.targetFigures.scoreboard(r.programme, r.scope, y);
  const t = ctx.t;
  const lines = [t(`${NS}:board.title`, { programme: escapeHtml(r.programme.name), scope: await scopeLabel(ctx, r.programme, r.scope, r.unitName), year: y, ...raw }), ""];
  for (const m of sb.totals) {
    // Nothing to count yet (no units, no families): no percentage and no "reached".
    if (m.whole === 0) {
      lines.push(t(`${NS}:board.line_empty`, { metric: metricLabel(t, m.metric), target: m.target === undefined ? "" : t(`${NS}:board.target`, { percent: m.target }), ...raw }));
      continue;
    }
    lines.push(t(`${NS}:board.line`, {
      metric: metricLabel(t, m.metric), part: formatCount(m.part, ctx.locale), whole: formatCount(m.whole, ctx.locale), what: countWord(t, m.metric, m.whole),
      percent: formatPercent(m.part, m.whole, ctx.locale),
      target: m.target === undefined ? "" : t(`${NS}:board.target`, { percent: m.target }),
      gap: gapText(t, ctx.locale, m.metric, m.target, m.part, m.whole),
      ...raw,
    }));
  }
  if (sb.totals.every((m) => m.whole === 0)) lines.push("", t(`${NS}:board.empty`));
  const kb = new InlineKeyboard();
  const scope = packScope(r.scope);
  const id = r.programme.id;
  const multiUnit = r.scope.kind !== "unit" || sb.units.length > 1;
  for (const m of sb.totals) {
    if (m.metric !== "learning_families" && multiUnit && sb.units.length > 0) kb.text(t(`${NS}:board.by_unit`, { metric: t(`${NS}:short.${m.metric}`) }), cb.targets.pack(`u.${id}.${scope}.${m.metric}.0`));
    if (r.scope.kind === "programme" && sb.communes.length > 0) kb.text(t(`${NS}:board.by_commune`, { metric: t(`${NS}:short.${m.metric}`) }), cb.targets.pack(`c.${id}.${scope}.${m.metric}.0`));
    kb.row();
  }
  const chartMetric = sb.totals.find((m) => m.target !== undefined)?.metric ?? "learning_citizens";
  kb.text(t(`${NS}:board.chart`), packTargetChart({ programmeId: id, scope: r.scope, metric: chartMetric, chart: r.scope.kind === "unit" && !multiUnit ? "line" : "bar" })).row();
  if (r.scope.kind === "unit") {
    // Names stay inside the unit: only its heads get the list (the service refuses anyone else).
    const names = await ctx.deps.services.units.unregistered(await currentActor(ctx), r.scope.unitId);
    if (names.ok) kb.text(t(`${NS}:board.unregistered`, { count: names.total }), cb.targets.pack(`r.${id}.${r.scope.unitId}`)).row();
  }
  if (entries > 1) kb.text(t(`${NS}:board.other`), cb.targets.pack("l"));
  return { text: lines.join("\n"), keyboard: kb };
}

function entryLabel(t: TFunction, e: ScoreEntry): string {
  const name = e.programme.name.length > 40 ? `${e.programme.name.slice(0, 39)}…` : e.programme.name;
  return e.unitName ? t(`${NS}:pick.unit_entry`, { programme: name, unit: e.unitName.slice(0, 24) }) : name;
}

async function pickOrBoard(ctx: BotContext): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  const actor = await currentActor(ctx);
  if (actor.role === "officer" && !actor.scope.provinceCode) return { text: ctx.t("programmes:errors.no_scope") };
  const entries = await ctx.deps.services.programmes.scoreEntries(actor);
  if (entries.length === 0) return { text: ctx.t(actor.role === "admin" || actor.role === "officer" ? `${NS}:pick.none_officer` : `${NS}:pick.nothing`) };
  if (entries.length === 1) {
    const e = entries[0]!;
    const r = await resolve(ctx, e.programme.id, e.scope);
    return "refused" in r ? { text: r.refused } : boardScreen(ctx, r, 1);
  }
  const kb = new InlineKeyboard();
  for (const e of entries.slice(0, 40)) kb.text(entryLabel(ctx.t, e), cb.targets.pack(`v.${e.programme.id}.${packScope(e.scope)}`)).row();
  return { text: ctx.t(`${NS}:pick.title`), keyboard: kb };
}

dm.command("targets", async (ctx) => {
  const screen = await pickOrBoard(ctx);
  await ctx.reply(screen.text, { reply_markup: screen.keyboard });
});

/** A page of the metric by unit or by commune, worst first. */
async function breakdownScreen(ctx: BotContext, r: Resolved, by: "u" | "c", metric: TargetMetric, page: number): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const y = year(ctx);
  const sb: Scoreboard = await ctx.deps.services.targetFigures.scoreboard(r.programme, r.scope, y);
  const target = sb.totals.find((m) => m.metric === metric)?.target;
  const rows = by === "u"
    ? worstFirst(sb.units.map((u) => ({ ...unitFigure(u, metric), name: u.name })))
    : worstFirst(sb.communes.map((c) => ({ ...communeFigure(c, metric), name: c.name, code: c.communeCode })));
  const pages = Math.max(1, Math.ceil(rows.length / BREAKDOWN_PAGE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const shown = rows.slice(p * BREAKDOWN_PAGE, (p + 1) * BREAKDOWN_PAGE);
  const t = ctx.t;
  const lines = [t(`${NS}:breakdown.${by === "u" ? "title_units" : "title_communes"}`, {
    metric: metricLabel(t, metric), scope: await scopeLabel(ctx, r.programme, r.scope, r.unitName), page: p + 1, pages, ...raw,
  }), target === undefined ? t(`${NS}:board.no_target`) : t(`${NS}:breakdown.target`, { percent: target, year: y }), ""];
  for (const [i, row] of shown.entries()) {
    let name = escapeHtml(row.name);
    if ("code" in row) {
      const c = await ctx.deps.services.geo.getCommune(row.code as string);
      if (c) name = escapeHtml(communeLabel(c, ctx.locale === "en" ? "en" : "vi"));
    }
    const figure = metric === "learning_units" && by === "u"
      ? t(row.part > 0 ? `${NS}:breakdown.learning_unit_yes` : `${NS}:breakdown.learning_unit_no`)
      : t(`${NS}:breakdown.figure`, { part: formatCount(row.part, ctx.locale), whole: formatCount(row.whole, ctx.locale), percent: formatPercent(row.part, row.whole, ctx.locale) });
    const gap = metric === "learning_units" && by === "u" ? "" : ` · ${gapText(t, ctx.locale, metric, target, row.part, row.whole)}`;
    lines.push(t(`${NS}:breakdown.line`, { n: p * BREAKDOWN_PAGE + i + 1, name, figure, gap, ...raw }));
  }
  if (shown.length === 0) lines.push(t(`${NS}:breakdown.empty`));
  const kb = new InlineKeyboard();
  const base = `${by}.${r.programme.id}.${packScope(r.scope)}.${metric}`;
  if (p > 0) kb.text("◀️", cb.targets.pack(`${base}.${p - 1}`));
  if (p < pages - 1) kb.text("▶️", cb.targets.pack(`${base}.${p + 1}`));
  kb.row().text(t(`${NS}:board.back`), cb.targets.pack(`v.${r.programme.id}.${packScope(r.scope)}`));
  return { text: lines.join("\n"), keyboard: kb };
}

const refuse = (ctx: ButtonContext, text: string) => ctx.answerCallbackQuery({ text: text.slice(0, 200), show_alert: true });

/** "08:00 02/12/2026" in Vietnam's time. */
function vnTime(at: Date): string {
  const p = vnParts(at);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(p.hour)}:${two(p.minute)} ${two(p.day)}/${two(p.month)}/${p.year}`;
}

/** Where "back" goes from a unit's names and nudge: its scoreboard, or /myunits (programme 0). */
const unitBack = (t: TFunction, programmeId: number, unitId: number) => programmeId === 0
  ? { text: t(`${NS}:board.back_units`), data: cb.myUnits.pack("l") }
  : { text: t(`${NS}:board.back`), data: cb.targets.pack(`v.${programmeId}.u${unitId}`) };

/** The unit's members not registered yet (its heads only) with the nudge button. */
async function unregisteredScreen(ctx: ButtonContext, programmeId: number, unitId: number): Promise<void> {
  const r = await ctx.deps.services.units.unregistered(await currentActor(ctx), unitId);
  if (!r.ok) return void (await refuse(ctx, ctx.t(r.reason === "heads_only" ? `${NS}:errors.heads_only` : `${NS}:errors.scope`)));
  await ctx.answerCallbackQuery();
  const lines = [ctx.t(`${NS}:unregistered.title`, { count: r.total })];
  for (const p of r.names.slice(0, NAMES_SHOWN)) lines.push(`• ${escapeHtml(p.name)}`);
  if (r.total > NAMES_SHOWN) lines.push(ctx.t(`${NS}:unregistered.more`, { count: r.total - NAMES_SHOWN }));
  if (r.total === 0) lines.push(ctx.t(`${NS}:unregistered.all_registered`));
  const kb = new InlineKeyboard();
  if (r.total > 0) kb.text(ctx.t(`${NS}:nudge.button`), cb.targets.pack(`n.${programmeId}.${unitId}`)).row();
  const back = unitBack(ctx.t, programmeId, unitId);
  await editOrReply(ctx, lines.join("\n"), kb.text(back.text, back.data));
}

/** The nudge's confirm screen: the message as people will read it, how many get it, or when the next is allowed. */
async function nudgeScreen(ctx: ButtonContext, programmeId: number, unitId: number): Promise<void> {
  const r = await ctx.deps.services.unitNudges.preview(String(ctx.from.id), unitId);
  if (!r.ok) return void (await refuse(ctx, ctx.t(r.reason === "heads_only" ? `${NS}:errors.heads_only` : `${NS}:errors.scope`)));
  await ctx.answerCallbackQuery();
  const preview = ctx.t(`${NS}:nudge.message`, { unit: escapeHtml(r.unitName), ...raw });
  const lines = [ctx.t(`${NS}:nudge.confirm_title`), "", `<blockquote>${preview}</blockquote>`, ""];
  const kb = new InlineKeyboard();
  if (r.nextAt) lines.push(ctx.t(`${NS}:nudge.too_soon`, { at: vnTime(r.nextAt) }));
  else if (r.recipients === 0) lines.push(ctx.t(`${NS}:nudge.nobody`));
  else {
    lines.push(ctx.t(`${NS}:nudge.recipients`, { count: r.recipients, muted: r.unregistered - r.recipients }));
    kb.text(ctx.t(`${NS}:nudge.send`), cb.targets.pack(`ny.${programmeId}.${unitId}`));
  }
  kb.text(ctx.t(`${NS}:nudge.cancel`), cb.targets.pack(`r.${programmeId}.${unitId}`));
  await editOrReply(ctx, lines.join("\n"), kb);
}

async function nudgeSend(ctx: ButtonContext, programmeId: number, unitId: number): Promise<void> {
  const r = await ctx.deps.services.unitNudges.send(String(ctx.from.id), unitId);
  if (!r.ok && (r.reason === "heads_only" || r.reason === "not_found")) return void (await refuse(ctx, ctx.t(r.reason === "heads_only" ? `${NS}:errors.heads_only` : `${NS}:errors.scope`)));
  await ctx.answerCallbackQuery();
  const back = unitBack(ctx.t, programmeId, unitId);
  const text = r.ok
    ? ctx.t(`${NS}:nudge.sent`, { count: r.sent })
    : r.reason === "too_soon" ? ctx.t(`${NS}:nudge.too_soon`, { at: vnTime(r.nextAt) }) : ctx.t(`${NS}:nudge.nobody`);
  await editOrReply(ctx, text, new InlineKeyboard().text(back.text, back.data));
}

targetsFeature.use(onButton(cb.targets, async (ctx, value) => {
  if (value === "l") {
    await ctx.answerCallbackQuery();
    const screen = await pickOrBoard(ctx);
    await editOrReply(ctx, screen.text, screen.keyboard);
    return;
  }
  const parts = value.split(".");
  const action = parts[0]!;
  const programmeId = Number(parts[1]);
  if (action === "r" || action === "n" || action === "ny") {
    const unitId = Number(parts[2]);
    // From a scoreboard the programme is checked too; from /myunits (programme 0) the unit's headship alone.
    if (programmeId !== 0) {
      const r = await resolve(ctx, programmeId, { kind: "unit", unitId });
      if ("refused" in r) return void (await refuse(ctx, r.refused));
    }
    if (action === "r") return unregisteredScreen(ctx, programmeId, unitId);
    if (action === "n") return nudgeScreen(ctx, programmeId, unitId);
    return nudgeSend(ctx, programmeId, unitId);
  }
  const scope = unpackScope(parts[2]!);
  if (!scope) return void (await refuse(ctx, ctx.t("common:errors.invalid_button")));
  const r = await resolve(ctx, programmeId, scope);
  if ("refused" in r) return void (await refuse(ctx, r.refused));
  await ctx.answerCallbackQuery();
  if (action === "v") {
    const entries = (await ctx.deps.services.programmes.scoreEntries(await currentActor(ctx))).length;
    const screen = await boardScreen(ctx, r, entries);
    await editOrReply(ctx, screen.text, screen.keyboard);
    return;
  }
  const screen = await breakdownScreen(ctx, r, action as "u" | "c", parts[3] as TargetMetric, Number(parts[4]));
  await editOrReply(ctx, screen.text, screen.keyboard);
}));

/** /myunits' button for a unit's heads: the members not registered yet, and the nudge (no programme needed). */
export function unitUnregisteredButton(t: TFunction, n: number, unitId: number): { text: string; data: string } {
  return { text: t(`${NS}:board.unregistered_short`, { n }), data: cb.targets.pack(`r.0.${unitId}`) };
}


/**
 * "📊 Biểu đồ": the chart as a photo, with buttons for the other metrics and for bars against the
 * year's progress line. The programme and scope are checked again here: a button is not a permission.
 */
targetsFeature.use(onButton(cb.targetChart, async (ctx) => {
  const req = unpackTargetChart(ctx.callbackQuery.data);
  if (!req) return void (await refuse(ctx, ctx.t("common:errors.invalid_button")));
  const r = await resolve(ctx, req.programmeId, req.scope);
  if ("refused" in r) return void (await refuse(ctx, r.refused));
  // A forged metric the scope has no figure for (families of a unit) draws the first one instead.
  const metrics = TARGET_METRICS.filter((m) => r.scope.kind !== "unit" || m !== "learning_families");
  const metric = metrics.includes(req.metric) ? req.metric : metrics[0]!;
  await ctx.answerCallbackQuery();
  const t = ctx.t;
  const kb = new InlineKeyboard();
  for (const m of metrics) {
    kb.text(`${m === metric ? "• " : ""}${t(`${NS}:short.${m}`)}`, packTargetChart({ programmeId: r.programme.id, scope: r.scope, metric: m, chart: req.chart }));
  }
  const other = req.chart === "bar" ? "line" : "bar";
  kb.row().text(t(`charts:switch.${other}`), packTargetChart({ programmeId: r.programme.id, scope: r.scope, metric, chart: other }));
  await replyTargetChart(ctx, { programme: r.programme, scope: r.scope, metric, kind: req.chart, locale: ctx.locale === "en" ? "en" : "vi", year: year(ctx) }, kb);
}));
