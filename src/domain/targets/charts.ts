/**
 * Chart images for the targets (issue 11): a bar chart of units against a target and a line of
 * progress over the year, as PNG photos for Telegram. Vega builds the chart as an SVG string (no DOM,
 * no canvas) and resvg rasterises it with the Be Vietnam Pro font shipped in node_modules, so the
 * Vietnamese diacritics render the same on a machine with no system fonts. Pure: no grammY, no
 * database; callers pass the figures and the localised texts.
 */
import { createRequire } from "node:module";
import type { Mark, Spec } from "vega";
import { formatPercent } from "../units/model.js";

export interface ChartText {
  title: string;
  subtitle?: string;
  /** e.g. "Chỉ tiêu 80%" (unused without a target) */
  targetLabel: string;
  /** Shown when there is no data. */
  empty: string;
}

export interface BarDatum {
  label: string;
  /** percent, 0..100 (may exceed 100 a little) */
  value: number;
  /** shown on/after the bar, e.g. "37,5%" */
  valueLabel: string;
}

export interface TargetBarsInput {
  text: ChartText;
  /** percent; undefined: the programme sets none, so no target line and one colour for every bar */
  target?: number;
  /** Worst first as given (not re-sorted); at most BAR_LIMIT (the caller cuts). */
  bars: BarDatum[];
}

export interface LinePoint {
  /** "2026-03-01" (a calendar day) */
  day: string;
  /** percent */
  value: number;
}

export interface ProgressLineInput {
  text: ChartText;
  /** percent; undefined: no target line */
  target?: number;
  locale: "vi" | "en";
  year: number;
  series: Array<{ name: string; points: LinePoint[] }>;
}

/** Telegram photos: width + height ≤ 10000 and a side ratio ≤ 20; 1000 px reads well on a phone. */
export const CHART_WIDTH = 1000;
export const BAR_LIMIT = 30;
export const LABEL_MAX_CHARS = 40;

const FONT_FAMILY = "Be Vietnam Pro";
const FONT_FILES = [
  "@expo-google-fonts/be-vietnam-pro/400Regular/BeVietnamPro_400Regular.ttf",
  "@expo-google-fonts/be-vietnam-pro/700Bold/BeVietnamPro_700Bold.ttf",
] as const;

const INK = "#1f2937";
const MUTED = "#6b7280";
const GRID = "#e5e7eb";
const BELOW_TARGET = "#e76f51";
const AT_TARGET = "#2a9d8f";
const TARGET_RULE = "#374151";
/** Bars with no target to be measured against. */
const NO_TARGET = "#1d4ed8";
const SERIES_COLOURS = ["#1d4ed8", "#c2410c", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#a16207"];

/** Each bar row: its label on one line, the bar under it. */
const ROW_HEIGHT = 46;
const LABEL_BASELINE = 17;
const BAR_TOP = 23;
const BAR_HEIGHT = 18;
const LINE_PLOT_HEIGHT = 440;
/** About 900 px of Be Vietnam Pro bold at 22 px, regular at 15 px. */
const TITLE_LINE_CHARS = 64;
const SUBTITLE_LINE_CHARS = 100;
const PERCENT_TICKS = [0, 20, 40, 60, 80, 100];

const MONTHS: Record<ProgressLineInput["locale"], string[]> = {
  vi: ["Th1", "Th2", "Th3", "Th4", "Th5", "Th6", "Th7", "Th8", "Th9", "Th10", "Th11", "Th12"],
  en: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
};

/** Labels longer than LABEL_MAX_CHARS end in "…" (counted in characters, not UTF-16 units). */
export function truncateLabel(label: string): string {
  const chars = Array.from(label.normalize("NFC").replace(/\s+/g, " ").trim());
  return chars.length <= LABEL_MAX_CHARS ? chars.join("") : `${chars.slice(0, LABEL_MAX_CHARS - 1).join("").trimEnd()}…`;
}

/**
 * Splits a title into lines that fit the width: Vega does not wrap, and its length limit measures
 * text by a rough estimate (no canvas here) that would cut a Vietnamese title well short of the edge.
 */
export function wrapLines(text: string, maxChars: number, maxLines = 3): string[] {
  const lines: string[] = [];
  const words = text.normalize("NFC").split(/\s+/).filter(Boolean);
  // A "word" wider than a line (a pasted link, a run of letters) is cut into line-sized pieces.
  const pieces = words.flatMap((word) => {
    const chars = Array.from(word);
    return Array.from({ length: Math.ceil(chars.length / maxChars) }, (_, i) => chars.slice(i * maxChars, (i + 1) * maxChars).join(""));
  });
  for (const word of pieces) {
    const last = lines[lines.length - 1];
    if (last !== undefined && Array.from(`${last} ${word}`).length <= maxChars) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${Array.from(kept[maxLines - 1] ?? "").slice(0, maxChars - 1).join("")}…`;
  return kept;
}

function titleOf(text: ChartText): NonNullable<Spec["title"]> {
  return {
    text: wrapLines(text.title, TITLE_LINE_CHARS),
    ...(text.subtitle ? { subtitle: wrapLines(text.subtitle, SUBTITLE_LINE_CHARS) } : {}),
    anchor: "start",
    frame: "group",
    offset: 14,
    fontSize: 22,
    lineHeight: 29,
    fontWeight: "bold",
    color: INK,
    subtitleFontSize: 15,
    subtitleLineHeight: 20,
    subtitleColor: MUTED,
    subtitlePadding: 6,
  };
}

// One font everywhere: resvg has only the shipped font, and Vega's own default is "sans-serif".
const CONFIG: NonNullable<Spec["config"]> = {
  text: { font: FONT_FAMILY },
  title: { font: FONT_FAMILY, subtitleFont: FONT_FAMILY },
  axis: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, labelFontSize: 13, labelColor: MUTED, domainColor: "#9ca3af", tickColor: "#9ca3af" },
  legend: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, labelFontSize: 14, labelColor: INK },
};

/** The frame every chart shares: 1000 px wide whatever the axes take, height as the content needs. */
function frame(text: ChartText, height: number): Spec {
  return {
    width: CHART_WIDTH,
    height,
    autosize: { type: "fit-x", contains: "padding" },
    padding: { left: 20, right: 28, top: 18, bottom: 16 },
    background: "#ffffff",
    title: titleOf(text),
    config: CONFIG,
  };
}

function emptySpec(text: ChartText): Spec {
  return {
    ...frame(text, 200),
    marks: [
      {
        type: "text",
        encode: {
          enter: {
            x: { signal: "width / 2" },
            y: { value: 100 },
            align: { value: "center" },
            baseline: { value: "middle" },
            text: { value: text.empty },
            fontSize: { value: 18 },
            fill: { value: MUTED },
          },
        },
      },
    ],
  };
}

function percentAxis(orient: "bottom" | "left", scale: string, max: number) {
  return {
    orient,
    scale,
    values: PERCENT_TICKS.filter((tick) => tick <= max),
    grid: true,
    gridColor: GRID,
    domain: false,
    ticks: false,
    labelPadding: 6,
    encode: { labels: { update: { text: { signal: "datum.value + '%'" } } } },
  } as const;
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

/** The bar chart as an SVG string (what `renderTargetBars` rasterises). */
export async function targetBarsSvg(input: TargetBarsInput): Promise<string> {
  if (input.bars.length === 0) return toSvg(emptySpec(input.text));
  const target = input.target === undefined ? undefined : finite(input.target);
  const rows = input.bars.slice(0, BAR_LIMIT).map((bar, index) => {
    const value = Math.max(0, finite(bar.value));
    const colour = target === undefined ? NO_TARGET : value >= target ? AT_TARGET : BELOW_TARGET;
    return { key: index, label: truncateLabel(bar.label), value, valueLabel: bar.valueLabel, colour };
  });
  // Room past 100% for a bar that overshoots and for its value label.
  const max = Math.max(100, target ?? 0, ...rows.map((row) => row.value));
  const height = rows.length * ROW_HEIGHT;
  return toSvg({
    ...frame(input.text, height),
    data: [{ name: "bars", values: rows }],
    scales: [
      { name: "x", type: "linear", domain: [0, max * 1.08], range: "width", nice: false, zero: true },
      { name: "row", type: "band", domain: { data: "bars", field: "key" }, range: "height" },
    ],
    axes: [percentAxis("bottom", "x", max)],
    marks: [
      ...(target === undefined ? [] : targetBarMarks(target, max, input.text.targetLabel)),
      {
        type: "rect",
        from: { data: "bars" },
        encode: {
          enter: {
            x: { scale: "x", value: 0 },
            x2: { scale: "x", field: "value" },
            y: { scale: "row", field: "key", offset: BAR_TOP },
            height: { value: BAR_HEIGHT },
            fill: { field: "colour" },
          },
        },
      },
      {
        type: "text",
        from: { data: "bars" },
        encode: {
          enter: {
            x: { value: 0 },
            y: { scale: "row", field: "key", offset: LABEL_BASELINE },
            baseline: { value: "alphabetic" },
            text: { field: "label" },
            fontSize: { value: 15 },
            fill: { value: INK },
          },
        },
      },
      {
        type: "text",
        from: { data: "bars" },
        encode: {
          enter: {
            x: { scale: "x", field: "value", offset: 6 },
            y: { scale: "row", field: "key", offset: BAR_TOP + BAR_HEIGHT / 2 },
            baseline: { value: "middle" },
            text: { field: "valueLabel" },
            fontSize: { value: 14 },
            fontWeight: { value: "bold" },
            fill: { value: INK },
          },
        },
      },
    ],
  });
}

/** The dashed vertical target line of the bar chart and its label. */
function targetBarMarks(target: number, max: number, label: string): Mark[] {
  return [
    {
      type: "rule",
      encode: {
        enter: {
          x: { scale: "x", value: target },
          y: { value: -4 },
          y2: { signal: "height" },
          stroke: { value: TARGET_RULE },
          strokeWidth: { value: 2 },
          strokeDash: { value: [6, 4] },
        },
      },
    },
    {
      type: "text",
      encode: {
        enter: {
          x: { scale: "x", value: target },
          y: { value: -8 },
          align: { value: target > max * 0.8 ? "right" : "center" },
          baseline: { value: "bottom" },
          text: { value: label },
          fontSize: { value: 14 },
          fontWeight: { value: "bold" },
          fill: { value: TARGET_RULE },
        },
      },
    },
  ];
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds at UTC midnight of a calendar day: the chart's time axis is the calendar, not an instant. */
function dayToTime(day: string): number {
  const match = DAY.exec(day);
  const time = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || new Date(time).toISOString().slice(0, 10) !== day) throw new RangeError(`not a calendar day: ${day}`);
  return time;
}

/** The progress line as an SVG string (what `renderProgressLine` rasterises). */
export async function progressLineSvg(input: ProgressLineInput): Promise<string> {
  const start = Date.UTC(input.year, 0, 1);
  const end = Date.UTC(input.year, 11, 31);
  const points = input.series.flatMap((series, index) =>
    series.points
      .map((point) => ({ series: series.name, order: index, t: dayToTime(point.day), value: Math.max(0, finite(point.value)) }))
      .filter((point) => point.t >= start && point.t <= end)
      .sort((a, b) => a.t - b.t),
  );
  if (points.length === 0) return toSvg(emptySpec(input.text));
  const target = input.target === undefined ? undefined : finite(input.target);
  const max = Math.max(100, target ?? 0, ...points.map((point) => point.value));
  // With one series its latest figure stands at the line's end; with several those labels would
  // collide where the lines meet, so each name in the legend carries its latest figure instead.
  const latest = new Map<number, string>();
  for (const point of points) latest.set(point.order, formatPercent(point.value, 100, input.locale));
  const several = input.series.length > 1;
  const names = input.series.map((series, index) => several && latest.has(index) ? `${truncateLabel(series.name)} · ${latest.get(index)}` : truncateLabel(series.name));
  for (const point of points) point.series = names[point.order] ?? point.series;
  const last = several ? [] : points.slice(-1).map((point) => ({ ...point, label: latest.get(point.order) }));
  // A marker per point while they are few (monthly figures); a daily line would drown in them.
  const withSymbols = input.series.every((_, index) => points.filter((point) => point.order === index).length <= 60);
  return toSvg({
    ...frame(input.text, LINE_PLOT_HEIGHT),
    signals: [{ name: "monthNames", value: MONTHS[input.locale] }],
    data: [
      { name: "points", values: points },
      { name: "last", values: last },
    ],
    scales: [
      { name: "x", type: "utc", domain: [start, end], range: "width" },
      { name: "y", type: "linear", domain: [0, max], range: "height", nice: false, zero: true },
      { name: "colour", type: "ordinal", domain: names, range: SERIES_COLOURS },
    ],
    axes: [
      {
        orient: "bottom",
        scale: "x",
        values: MONTHS.en.map((_, month) => Date.UTC(input.year, month, 1)),
        grid: true,
        gridColor: GRID,
        labelAlign: "left",
        labelPadding: 6,
        encode: { labels: { update: { text: { signal: "monthNames[utcmonth(datum.value)]" } } } },
      },
      percentAxis("left", "y", max),
    ],
    ...(several
      ? {
          legends: [
            { stroke: "colour", orient: "top", direction: "horizontal", symbolType: "stroke", symbolStrokeWidth: 3, labelLimit: 420, columnPadding: 24 },
          ],
        }
      : {}),
    marks: [
      ...(target === undefined ? [] : targetLineMarks(target, input.text.targetLabel)),
      {
        type: "group",
        from: { facet: { name: "one", data: "points", groupby: ["order", "series"] } },
        marks: [
          {
            type: "line",
            from: { data: "one" },
            sort: { field: "datum.t" },
            encode: {
              enter: {
                x: { scale: "x", field: "t" },
                y: { scale: "y", field: "value" },
                stroke: { scale: "colour", field: "series" },
                strokeWidth: { value: 3 },
              },
            },
          },
          ...(withSymbols
            ? [
                {
                  type: "symbol" as const,
                  from: { data: "one" },
                  encode: {
                    enter: {
                      x: { scale: "x", field: "t" },
                      y: { scale: "y", field: "value" },
                      size: { value: 40 },
                      fill: { scale: "colour", field: "series" },
                    },
                  },
                },
              ]
            : []),
        ],
      },
      {
        type: "text",
        from: { data: "last" },
        encode: {
          enter: {
            x: { scale: "x", field: "t", offset: 6 },
            y: { scale: "y", field: "value", offset: -8 },
            baseline: { value: "bottom" },
            text: { field: "label" },
            fontSize: { value: 14 },
            fontWeight: { value: "bold" },
            fill: { scale: "colour", field: "series" },
          },
        },
      },
    ],
  });
}

/** The dashed horizontal target line of the progress chart and its label. */
function targetLineMarks(target: number, label: string): Mark[] {
  return [
    {
      type: "rule",
      encode: {
        enter: {
          x: { value: 0 },
          x2: { signal: "width" },
          y: { scale: "y", value: target },
          stroke: { value: TARGET_RULE },
          strokeWidth: { value: 2 },
          strokeDash: { value: [6, 4] },
        },
      },
    },
    {
      type: "text",
      encode: {
        enter: {
          x: { signal: "width" },
          y: { scale: "y", value: target, offset: -6 },
          align: { value: "right" },
          baseline: { value: "bottom" },
          text: { value: label },
          fontSize: { value: 14 },
          fontWeight: { value: "bold" },
          fill: { value: TARGET_RULE },
        },
      },
    },
  ];
}

/** Horizontal bars against a vertical target line, as a PNG 1000 px wide; taller with more bars. */
export async function renderTargetBars(input: TargetBarsInput): Promise<Buffer> {
  return rasterise(await targetBarsSvg(input));
}

/** Progress over the year against a horizontal target line, as a PNG 1000 px wide. */
export async function renderProgressLine(input: ProgressLineInput): Promise<Buffer> {
  return rasterise(await progressLineSvg(input));
}

type Vega = typeof import("vega");
type ResvgModule = typeof import("@resvg/resvg-js");

// Loaded on the first chart: Vega and the native renderer cost ~12 MB of heap and 0.4 s that a
// process drawing no chart should not pay. Only the promises are cached; nothing is mutated per call.
let vegaModule: Promise<Vega> | undefined;
let resvgModule: Promise<ResvgModule> | undefined;
let fontFiles: string[] | undefined;

async function toSvg(spec: Spec): Promise<string> {
  vegaModule ??= import("vega");
  const vega = await vegaModule;
  // No animation, no clip paths (their ids count up across views): the same spec gives the same SVG.
  const view = new vega.View(vega.parse(spec), { renderer: "none", logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The shipped font files, resolved from node_modules wherever this module was compiled to. */
export function chartFontFiles(): string[] {
  if (!fontFiles) {
    const require = createRequire(import.meta.url);
    fontFiles = FONT_FILES.map((file) => require.resolve(file));
  }
  return fontFiles;
}

async function rasterise(svg: string): Promise<Buffer> {
  resvgModule ??= import("@resvg/resvg-js");
  const { renderAsync } = await resvgModule;
  // renderAsync draws on libuv's thread pool: a big chart does not hold up the bot's updates.
  const image = await renderAsync(svg, {
    font: { fontFiles: chartFontFiles(), loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    fitTo: { mode: "original" },
    background: "#ffffff",
    logLevel: "off",
  });
  return image.asPng();
}
