/**
 * Chart photos of a programme's targets (issue 11), for the "📊" button of /targets: a bar chart of
 * the scope's units (or communes) against the target, worst first, and the line of the scope's
 * progress over the year from the daily snapshots. The figures are the scoreboard's (TargetFigures),
 * so a chart can never disagree with /targets.
 */
import { InlineKeyboard, InputFile } from "grammy";
import { communeFigure, unitFigure, type ProgrammeView, type Scoreboard, type TargetFigures } from "../../domain/targets/figures.js";
import {
  BAR_LIMIT, renderProgressLine, renderTargetBars, type BarDatum, type ChartText, type ProgressLineInput, type TargetBarsInput,
} from "../../domain/targets/charts.js";
import { ratio, targetFor, worstFirst, type Figure, type ScoreScope, type TargetMetric } from "../../domain/targets/model.js";
import { snapshotScopeKey, type TargetSnapshots } from "../../domain/targets/snapshots.js";
import { formatPercent } from "../../domain/units/model.js";
import type { I18n, TFunction } from "../../i18n.js";
import type { BotContext, Deps } from "../context.js";

export interface TargetChartDeps {
  figures: TargetFigures;
  snapshots: TargetSnapshots;
  i18n: I18n;
}

export interface TargetChartArgs {
  programme: ProgrammeView;
  scope: ScoreScope;
  metric: TargetMetric;
  kind: "bar" | "line";
  locale: "vi" | "en";
  /** The year whose targets and progress are drawn. */
  year: number;
}

export interface TargetChart {
  png: Buffer;
  /** HTML (names are escaped): send with parse_mode "HTML". */
  caption: string;
}

/** A programme scope with more units than this is drawn by commune: thirty bars is what a phone shows. */
export const UNITS_BY_COMMUNE_ABOVE = BAR_LIMIT;
/** Telegram's caption limit. */
const CAPTION_MAX = 1_024;

/** Texts going into the SVG are not HTML: no escaping there. */
const plain = { interpolation: { escapeValue: false } } as const;

/** The scope's name for titles and captions: the programme, a commune's official name, a unit's name. */
function scopeName(t: TFunction, board: Scoreboard, scope: ScoreScope): string {
  if (scope.kind === "commune") return board.communes.find((c) => c.communeCode === scope.communeCode)?.name ?? scope.communeCode;
  if (scope.kind === "unit") return board.units.find((u) => u.id === scope.unitId)?.name ?? t("charts:scope_unit_missing");
  return t("charts:scope_programme");
}

/** Which rows a bar chart draws: units, or communes for the unit-status metrics and for large programmes. */
export function barRows(board: Scoreboard, scope: ScoreScope, metric: TargetMetric): { by: "units" | "communes"; rows: Array<Figure & { name: string }> } {
  const byCommune = metric === "learning_units" || metric === "learning_families" || (scope.kind === "programme" && board.units.length > UNITS_BY_COMMUNE_ABOVE);
  const rows = byCommune
    ? board.communes.map((c) => ({ name: c.name, ...communeFigure(c, metric) }))
    : board.units.map((u) => ({ name: u.name, ...unitFigure(u, metric) }));
  return { by: byCommune ? "communes" : "units", rows: worstFirst(rows.filter((r) => r.whole > 0)) };
}

export type TargetChartSpec =
  | { kind: "bar"; input: TargetBarsInput; caption: string }
  | { kind: "line"; input: ProgressLineInput; caption: string };

/**
 * What a chart shows (the renderer's input) and its caption, without drawing it. No permission
 * check here: the caller (/targets) has already checked that the person may see this scope.
 */
export async function targetChartSpec(d: TargetChartDeps, args: TargetChartArgs): Promise<TargetChartSpec> {
  const { programme, scope, metric, locale, year } = args;
  const t = d.i18n.t(locale);
  const board = await d.figures.scoreboard(programme, scope, year);
  const target = targetFor(programme.targets, metric, year);
  const where = scopeName(t, board, scope);
  const metricName = t(`charts:metric.${metric}`);
  const base: Omit<ChartText, "title"> = {
    subtitle: t("charts:subtitle", { programme: programme.name, scope: where, ...plain }),
    targetLabel: target === undefined ? "" : t("charts:target_label", { percent: target, ...plain }),
    empty: t("charts:empty"),
  };
  // The caption is HTML: i18next escapes the values.
  const caption = (title: string, extra: string[]) => {
    const text = [t("charts:caption", { title, programme: programme.name, scope: where }), ...extra].join("\n");
    return text.length > CAPTION_MAX ? `${text.slice(0, CAPTION_MAX - 1)}…` : text;
  };
  if (args.kind === "bar") {
    const { by, rows } = barRows(board, scope, metric);
    const title = t(`charts:title_bar_${by}`, { metric: metricName, year, ...plain });
    const bars: BarDatum[] = rows.slice(0, BAR_LIMIT).map((r) => ({ label: r.name, value: ratio(r) * 100, valueLabel: formatPercent(r.part, r.whole, locale) }));
    const extra = rows.length > BAR_LIMIT ? [t(`charts:more_${by}`, { count: rows.length - BAR_LIMIT })] : [];
    return { kind: "bar", input: { text: { ...base, title }, target, bars }, caption: caption(title, extra) };
  }
  const points = await d.snapshots.series(programme.id, snapshotScopeKey(scope), metric, year, liveFigure(board, scope, metric));
  const title = t("charts:title_line", { metric: metricName, year, ...plain });
  const extra = scope.kind === "unit" && board.units.length > 1 ? [t("charts:unit_own_only")] : [];
  return {
    kind: "line",
    input: { text: { ...base, title, empty: t("charts:empty_line") }, target, locale, year, series: [{ name: metricName, points }] },
    caption: caption(title, extra),
  };
}

/** Draws one chart of a programme's figures as a PNG with its caption. No permission check: as targetChartSpec. */
export async function targetChart(d: TargetChartDeps, args: TargetChartArgs): Promise<TargetChart> {
  const spec = await targetChartSpec(d, args);
  const png = spec.kind === "bar" ? await renderTargetBars(spec.input) : await renderProgressLine(spec.input);
  return { png, caption: spec.caption };
}

/** Today's figure of the scope as the snapshots key it: totals, a commune, or a unit's own counts. */
function liveFigure(board: Scoreboard, scope: ScoreScope, metric: TargetMetric): Figure | undefined {
  if (scope.kind === "programme") return board.totals.find((f) => f.metric === metric);
  if (scope.kind === "commune") {
    const c = board.communes.find((x) => x.communeCode === scope.communeCode);
    return c ? communeFigure(c, metric) : undefined;
  }
  const u = board.units.find((x) => x.id === scope.unitId);
  return u && metric !== "learning_families" ? unitFigure(u, metric) : undefined;
}

/** The chart services of the bot's deps. */
export function targetChartDeps(deps: Pick<Deps, "services" | "i18n">): TargetChartDeps {
  return { figures: deps.services.targetFigures, snapshots: deps.services.targetSnapshots, i18n: deps.i18n };
}

/** Telegram shows "sending a photo…" for 5 seconds: renewed while a large chart is drawn. */
const CHAT_ACTION_EVERY_MS = 4_000;

/**
 * Sends the chart as a photo in the current chat, with "sending a photo…" shown while it is drawn.
 * A failure is logged and answered with a localised "try again", never silence. Same contract as
 * targetChart: the caller has checked the scope.
 */
export async function replyTargetChart(ctx: BotContext, args: TargetChartArgs, replyMarkup?: InlineKeyboard): Promise<void> {
  const action = () => ctx.replyWithChatAction("upload_photo").catch(() => undefined);
  void action();
  const timer = setInterval(() => void action(), CHAT_ACTION_EVERY_MS);
  let chart: TargetChart;
  try {
    chart = await targetChart(targetChartDeps(ctx.deps), args);
  } catch (err) {
    ctx.logger.warn({ err, programme: args.programme.id, kind: args.kind, metric: args.metric }, "could not draw a target chart");
    await ctx.reply(ctx.t("charts:error"));
    return;
  } finally {
    clearInterval(timer);
  }
  await ctx.replyWithPhoto(new InputFile(chart.png, "chart.png"), { caption: chart.caption, parse_mode: "HTML", ...(replyMarkup ? { reply_markup: replyMarkup } : {}) });
}
