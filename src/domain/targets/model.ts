/**
 * Programmes and targets (issue 11): the metrics a coordination programme sets targets for, which
 * target applies in a year, the scopes a scoreboard is computed for, and ordering worst first.
 * Shared by the scoreboard, the charts, the digest and the yearly report. No grammY, no Redis.
 */
import { UNIT_BODIES, gapTo, type UnitBody } from "../units/model.js";

/**
 * - learning_citizens: people of the programme's units registered as learning citizens / headcount;
 * - members: people of those units who are association members (hội viên khuyến học) / headcount;
 * - learning_units: units approved as learning units (Đơn vị học tập) / units;
 * - learning_families: learning families meeting the criteria (Gia đình học tập) / families of the place.
 */
export const TARGET_METRICS = ["learning_citizens", "members", "learning_units", "learning_families"] as const;
export type TargetMetric = (typeof TARGET_METRICS)[number];

/** What a metric counts, for its gap ("còn 37 người", "còn 4 đơn vị", "còn 12 gia đình"). */
export const METRIC_COUNTS: Record<TargetMetric, "people" | "units" | "families"> = {
  learning_citizens: "people",
  members: "people",
  learning_units: "units",
  learning_families: "families",
};

/** The bodies a programme can bring together (the association and the armed bodies, or other units). */
export const PROGRAMME_BODIES: readonly UnitBody[] = UNIT_BODIES;

export const PROGRAMME_LIMITS = {
  nameMin: 3,
  nameMax: 160,
  /** Years of a period (2024–2030 is 7). */
  periodYearsMax: 15,
  firstYear: 2000,
  lastYear: 2100,
} as const;

/** `year` 0 in programme_targets: the target for the end of the period. */
export const PERIOD_TARGET_YEAR = 0;

export interface ProgrammeTargetRow {
  metric: string;
  year: number;
  percent: number;
}

/**
 * The target that applies in `year`: that year's own, else the period's (year 0) — the programme's
 * end goal is what the scoreboard measures against until a yearly step is set. Undefined: none.
 */
export function targetFor(targets: readonly ProgrammeTargetRow[], metric: TargetMetric, year: number): number | undefined {
  return targets.find((t) => t.metric === metric && t.year === year)?.percent
    ?? targets.find((t) => t.metric === metric && t.year === PERIOD_TARGET_YEAR)?.percent;
}

/** Where a scoreboard looks: the whole programme (its province), one commune, or one unit with the units under it. */
export type ScoreScope =
  | { kind: "programme" }
  | { kind: "commune"; communeCode: string }
  | { kind: "unit"; unitId: number };

export interface Figure {
  part: number;
  whole: number;
}

export interface MetricFigure extends Figure {
  metric: TargetMetric;
  /** The target percent for the year (undefined: the programme sets none for this metric). */
  target?: number;
  /** How many more reach the target (people, units or families); 0 once reached; undefined without a target. */
  gap?: number;
}

export function metricFigure(metric: TargetMetric, figure: Figure, target: number | undefined): MetricFigure {
  return { metric, ...figure, target, gap: target === undefined ? undefined : gapTo(target, figure.part, figure.whole) };
}

/** Part over whole as a number (0 when there is no whole), for ordering and charts. */
export function ratio(f: Figure): number {
  return f.whole > 0 ? f.part / f.whole : 0;
}

/** Worst first: lowest share, then the largest gap in absolute numbers, then by name (stable for tests). */
export function worstFirst<T extends Figure & { name: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => ratio(a) - ratio(b) || (b.whole - b.part) - (a.whole - a.part) || a.name.localeCompare(b.name, "vi"));
}

export function isTargetMetric(value: string): value is TargetMetric {
  return (TARGET_METRICS as readonly string[]).includes(value);
}
