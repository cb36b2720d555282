/**
 * Daily figures of every live programme (issue 11), for the progress line and the weekly digest's
 * "+12 người since last week". An hourly tick upserts today's rows (Vietnam's calendar day), so
 * the day's last value wins; past days are never rewritten. Rows are counts only: no person.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { vnParts } from "../time/vietnam-time.js";
import type { LinePoint } from "./charts.js";
import { communeFigure, unitFigure, type ProgrammeView, type Scoreboard, type TargetFigures } from "./figures.js";
import { ratio, TARGET_METRICS, type Figure, type ScoreScope, type TargetMetric } from "./model.js";

/** target_snapshots.scope: "" the programme's totals, "c<commune code>" a commune, "u<unit id>" one unit (its own counts). */
export type SnapshotScopeKey = string;

export const TOTAL_SCOPE_KEY: SnapshotScopeKey = "";

export function snapshotScopeKey(scope: ScoreScope): SnapshotScopeKey {
  if (scope.kind === "commune") return `c${scope.communeCode}`;
  if (scope.kind === "unit") return `u${scope.unitId}`;
  return TOTAL_SCOPE_KEY;
}

/** A calendar day as "YYYY-MM-DD". */
export type DayString = string;

/** The Vietnamese calendar day of an instant (Asia/Ho_Chi_Minh, UTC+7). */
export function vnDay(at: Date): DayString {
  const p = vnParts(at);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

/** `day` moved by `days` calendar days. */
export function addDays(day: DayString, days: number): DayString {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export interface SnapshotRow {
  scope: SnapshotScopeKey;
  metric: TargetMetric;
  part: number;
  whole: number;
}

/**
 * The rows one programme scoreboard gives: totals and communes for every metric, units for the
 * three metrics a unit has (learning_units as 0 or 1); only figures with a whole.
 */
export function snapshotRows(board: Scoreboard): SnapshotRow[] {
  const rows: SnapshotRow[] = [];
  const add = (scope: string, metric: TargetMetric, f: Figure) => {
    if (f.whole > 0) rows.push({ scope, metric, part: f.part, whole: f.whole });
  };
  for (const t of board.totals) add(TOTAL_SCOPE_KEY, t.metric, t);
  for (const c of board.communes) for (const metric of TARGET_METRICS) add(`c${c.communeCode}`, metric, communeFigure(c, metric));
  for (const u of board.units) for (const metric of TARGET_METRICS) if (metric !== "learning_families") add(`u${u.id}`, metric, unitFigure(u, metric));
  return rows;
}

/** Percent for the chart (0 without a whole). */
export function percentOf(f: Figure): number {
  return ratio(f) * 100;
}

export interface TargetSnapshotsDeps {
  prisma: PrismaClient;
  figures: TargetFigures;
  now: () => Date;
}

const PROGRAMME_SELECT = { id: true, name: true, provinceCode: true, bodies: true, startYear: true, endYear: true, targets: { select: { metric: true, year: true, percent: true } } } as const;

export class TargetSnapshots {
  constructor(private readonly d: TargetSnapshotsDeps) {}

  /**
   * Upserts today's rows of every live programme: one scoreboard and one statement per programme.
   * Safe in several processes at once (the upsert keeps one row per key; the last write wins, and
   * both computed the same day's figures). Returns how many programmes and rows were written.
   */
  async take(now: Date = this.d.now()): Promise<{ programmes: number; rows: number }> {
    const day = vnDay(now);
    const year = vnParts(now).year;
    const programmes: ProgrammeView[] = await this.d.prisma.programme.findMany({ where: { deletedAt: null }, select: PROGRAMME_SELECT, orderBy: { id: "asc" } });
    let rows = 0;
    for (const programme of programmes) {
      const board = await this.d.figures.scoreboard(programme, { kind: "programme" }, year);
      // Sorted keys: concurrent upserts of one programme lock its rows in the same order.
      const list = snapshotRows(board).sort((a, b) => a.scope.localeCompare(b.scope) || a.metric.localeCompare(b.metric));
      if (list.length === 0) continue;
      rows += await this.d.prisma.$executeRawUnsafe(
        `INSERT INTO target_snapshots (programme_id, day, scope, metric, part, whole)
         SELECT $1, $2::date, x.scope, x.metric, x.part, x.whole
           FROM unnest($3::text[], $4::text[], $5::int[], $6::int[]) AS x(scope, metric, part, whole)
         ON CONFLICT (programme_id, scope, metric, day) DO UPDATE SET part = EXCLUDED.part, whole = EXCLUDED.whole`,
        programme.id, day, list.map((r) => r.scope), list.map((r) => r.metric), list.map((r) => r.part), list.map((r) => r.whole),
      );
    }
    return { programmes: programmes.length, rows };
  }

  /**
   * The progress line of one scope and metric over `year`: a point per snapshot day, and today's
   * live figure in place of today's snapshot (the chart shows what /targets shows now). Pass
   * `live` when the caller already has the figure; otherwise it is computed when `year` is this year.
   */
  async series(programmeId: number, scopeKey: SnapshotScopeKey, metric: TargetMetric, year: number, live?: Figure): Promise<LinePoint[]> {
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ day: string; part: number; whole: number }>>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, part, whole FROM target_snapshots
        WHERE programme_id = $1 AND scope = $2 AND metric = $3 AND day BETWEEN $4::date AND $5::date
        ORDER BY day`,
      programmeId, scopeKey, metric, `${year}-01-01`, `${year}-12-31`,
    );
    const points = rows.filter((r) => r.whole > 0).map((r) => ({ day: r.day, value: percentOf(r) }));
    const now = this.d.now();
    if (vnParts(now).year !== year) return points;
    const today = vnDay(now);
    const figure = live ?? (await this.liveFigure(programmeId, scopeKey, metric, year));
    const kept = points.filter((p) => p.day !== today);
    if (figure && figure.whole > 0) kept.push({ day: today, value: percentOf(figure) });
    return kept;
  }

  /**
   * The latest snapshot on or before `day` of each (programme, scope) asked for, per metric: one
   * query for a whole digest batch. Keyed by snapshotKey(programmeId, scope, metric).
   */
  async latestOnOrBefore(pairs: ReadonlyArray<{ programmeId: number; scope: SnapshotScopeKey }>, day: DayString): Promise<Map<string, Figure>> {
    const unique = [...new Map(pairs.map((p) => [`${p.programmeId}|${p.scope}`, p])).values()];
    if (unique.length === 0) return new Map();
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ programme_id: number; scope: string; metric: string; part: number; whole: number }>>(
      `SELECT DISTINCT ON (s.programme_id, s.scope, s.metric) s.programme_id, s.scope, s.metric, s.part, s.whole
         FROM target_snapshots s
         JOIN unnest($1::int[], $2::text[]) AS x(programme_id, scope) ON s.programme_id = x.programme_id AND s.scope = x.scope
        WHERE s.day <= $3::date
        ORDER BY s.programme_id, s.scope, s.metric, s.day DESC`,
      unique.map((p) => p.programmeId), unique.map((p) => p.scope), day,
    );
    return new Map(rows.map((r) => [snapshotKey(r.programme_id, r.scope, r.metric), { part: r.part, whole: r.whole }]));
  }

  private async liveFigure(programmeId: number, scopeKey: SnapshotScopeKey, metric: TargetMetric, year: number): Promise<Figure | undefined> {
    const programme = await this.d.figures.programme(programmeId);
    if (!programme) return undefined;
    const scope = scopeOfKey(scopeKey);
    if (!scope) return undefined;
    const board = await this.d.figures.scoreboard(programme, scope, year);
    if (scope.kind === "programme") return board.totals.find((t) => t.metric === metric);
    if (scope.kind === "commune") {
      const c = board.communes.find((x) => x.communeCode === scope.communeCode);
      return c ? communeFigure(c, metric) : undefined;
    }
    // A unit's key holds its own counts, not those of the units under it.
    const u = board.units.find((x) => x.id === scope.unitId);
    return u && metric !== "learning_families" ? unitFigure(u, metric) : undefined;
  }
}

export function snapshotKey(programmeId: number, scope: SnapshotScopeKey, metric: string): string {
  return `${programmeId}|${scope}|${metric}`;
}

/** The scope a snapshot key names, or undefined for a malformed key. */
export function scopeOfKey(key: SnapshotScopeKey): ScoreScope | undefined {
  if (key === TOTAL_SCOPE_KEY) return { kind: "programme" };
  if (/^c\d{1,5}$/.test(key)) return { kind: "commune", communeCode: key.slice(1) };
  if (/^u\d{1,9}$/.test(key)) return { kind: "unit", unitId: Number(key.slice(1)) };
  return undefined;
}
