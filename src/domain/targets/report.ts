/**
 * The yearly report of a coordination programme (issue 11): what the programme reports each year
 * for its province or one commune, rolled up commune → province. The targets, members, units and
 * families come from TargetFigures.scoreboard (the very figures /targets shows at that moment); the
 * other sections are one aggregate statement each, GROUP BY ROLLUP (commune), so the database's
 * own grand total is checked against the sum of the commune rows before anything leaves this
 * module. Counts only: no person's name is read here (the report goes up the chain).
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { fromVnWallTime, vnParts } from "../time/vietnam-time.js";
import { type CommuneFigures, type ProgrammeView, type TargetFigures, type UnitFigures } from "./figures.js";
import { type MetricFigure } from "./model.js";

/** A report covers the whole programme (its province) or one commune of it. */
export type ReportScope = { kind: "programme" } | { kind: "commune"; communeCode: string };

export const REPORT_SECTIONS = ["targets", "registrations", "members_units", "units", "families", "sessions", "quizzes", "scholarships", "broadcasts"] as const;
export type ReportSectionKey = (typeof REPORT_SECTIONS)[number];

/** Years a report may cover: from the first year the bot could have data to this year. */
export const REPORT_FIRST_YEAR = 2000;

export interface PlaceName {
  code: string;
  name: string;
  type: string;
}

/** A column of a section table: a count (summed), learning hours (summed) or a share of two other columns. */
export type ReportColumn =
  | { key: string; kind: "count" }
  | { key: string; kind: "hours" }
  | { key: string; kind: "percent"; part: string; whole: string };

export interface ReportRow {
  /** Commune code, unit id, round id, or "" for the province level (broadcasts sent by province officers). */
  code: string;
  values: Record<string, number>;
}

export interface ReportTable {
  columns: ReportColumn[];
  rows: ReportRow[];
  /** Sums of the rows (counts, hours) and the share of the summed parts: the bold total row. */
  total: Record<string, number>;
}

export interface RoundRow {
  id: number;
  programme: string;
  year: number;
  /** The deadline day (Vietnam's calendar) as YYYY-MM-DD. */
  deadline: string;
  nominations: number;
  awards: number;
}

/** A unit of the report: exactly the scoreboard's row for it. */
export type UnitRow = UnitFigures;

export interface YearlyReport {
  programme: ProgrammeView;
  scope: ReportScope;
  year: number;
  /** When the figures were read (the scoreboard is live: "as of" this moment). */
  at: Date;
  province: PlaceName;
  /** The commune rows of every commune section, in this order (the scope's commune, or the province's communes). */
  communes: PlaceName[];
  /** The scoreboard's totals (the targets with their figures and gaps), exactly as /targets shows them. */
  totals: MetricFigure[];
  tables: {
    targets: ReportTable;
    registrations: ReportTable;
    members_units: ReportTable;
    families: ReportTable;
    sessions: ReportTable;
    quizzes: ReportTable;
    scholarships: ReportTable;
    broadcasts: ReportTable;
  };
  units: UnitRow[];
  rounds: RoundRow[];
  /** Milliseconds each section took to read (the scoreboard's three for "targets"). */
  timings: Partial<Record<ReportSectionKey, number>>;
}

export class ReportTotalsError extends Error {
  constructor(section: string, column: string, rows: number, total: number) {
    super(`yearly report: ${section}.${column} rows add up to ${rows}, the total says ${total}`);
  }
}

export interface YearlyReportsDeps {
  prisma: PrismaClient;
  figures: TargetFigures;
  now: () => Date;
}

const iso = (d: Date) => d.toISOString().replace("Z", "");

/** The instants a Vietnamese calendar year starts and ends (Asia/Ho_Chi_Minh). */
export function vnYearBounds(year: number): { from: Date; to: Date } {
  return { from: fromVnWallTime(year, 1, 1, 0, 0), to: fromVnWallTime(year + 1, 1, 1, 0, 0) };
}

export function currentVnYear(now: Date): number {
  return vnParts(now).year;
}

export type YearCheck = { ok: true; year: number } | { ok: false; reason: "format" | "too_early" | "future" };

/** "/report 2026": a year from REPORT_FIRST_YEAR to this year (Vietnam); empty: this year. */
export function parseReportYear(input: string, now: Date): YearCheck {
  const text = input.trim();
  const thisYear = currentVnYear(now);
  if (text === "") return { ok: true, year: thisYear };
  if (!/^\d{4}$/.test(text)) return { ok: false, reason: "format" };
  const year = Number(text);
  if (year < REPORT_FIRST_YEAR) return { ok: false, reason: "too_early" };
  if (year > thisYear) return { ok: false, reason: "future" };
  return { ok: true, year };
}

/** Adds up a table's count and hours columns, and computes its shares from the summed parts. */
function totalOf(columns: readonly ReportColumn[], rows: readonly ReportRow[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of columns) if (c.kind !== "percent") total[c.key] = rows.reduce((n, r) => n + (r.values[c.key] ?? 0), 0);
  for (const c of columns) if (c.kind === "percent") total[c.key] = share(total[c.part]!, total[c.whole]!);
  return total;
}

/** A share as a fraction (0.375 is 37.5%); NaN when there is no whole (the cell stays empty). */
export function share(part: number, whole: number): number {
  return whole > 0 ? part / whole : Number.NaN;
}

function withShares(columns: readonly ReportColumn[], values: Record<string, number>): Record<string, number> {
  for (const c of columns) if (c.kind === "percent") values[c.key] = share(values[c.part] ?? 0, values[c.whole] ?? 0);
  return values;
}

/** The rows' sums must equal a total counted independently (the database's ROLLUP, the scoreboard's totals). */
function expectTotals(section: string, table: ReportTable, independent: Record<string, number>): void {
  for (const [key, value] of Object.entries(independent)) {
    const summed = table.total[key] ?? 0;
    // Hours are sums of fractions: equal to the minute once rounded.
    if (Math.abs(summed - value) > 1e-6) throw new ReportTotalsError(section, key, summed, value);
  }
}

/** Rows of a GROUP BY ROLLUP statement: per key, and the grand total (grouped = 1). */
interface RollupRow {
  key: string | null;
  grouped: number;
  [column: string]: unknown;
}

function fromRollup(section: string, columns: readonly ReportColumn[], rows: readonly RollupRow[], order: readonly string[]): ReportTable {
  const counted = columns.filter((c) => c.kind !== "percent");
  const byKey = new Map<string, Record<string, number>>();
  let grand: Record<string, number> = Object.fromEntries(counted.map((c) => [c.key, 0]));
  for (const r of rows) {
    const values = Object.fromEntries(counted.map((c) => [c.key, Number(r[c.key] ?? 0)]));
    if (Number(r.grouped) === 1) grand = values;
    else byKey.set(r.key ?? "", values);
  }
  // Every commune of the scope has a row (a zero is a gap to see); keys outside the list follow.
  const keys = [...order, ...[...byKey.keys()].filter((k) => !order.includes(k)).sort()];
  const out: ReportRow[] = keys.map((code) => ({ code, values: withShares(columns, { ...Object.fromEntries(counted.map((c) => [c.key, 0])), ...byKey.get(code) }) }));
  const table = { columns: [...columns], rows: out, total: totalOf(columns, out) };
  expectTotals(section, table, grand);
  return table;
}

export class YearlyReports {
  constructor(private readonly d: YearlyReportsDeps) {}

  /** Builds every section of the programme's report for the scope and year. */
  async build(programme: ProgrammeView, scope: ReportScope, year: number): Promise<YearlyReport> {
    const at = this.d.now();
    const timings: YearlyReport["timings"] = {};
    const timed = async <T>(key: ReportSectionKey, run: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await run();
      } finally {
        timings[key] = (timings[key] ?? 0) + performance.now() - started;
      }
    };
    const place = scope.kind === "commune" ? scope : undefined;
    const { province, communes } = await this.places(programme.provinceCode, place?.communeCode);
    const order = communes.map((c) => c.code);
    // (a), (c), (d): the scoreboard itself, never a recount.
    const board = await timed("targets", () => this.d.figures.scoreboard(programme, scope, year));
    const bounds = vnYearBounds(year);
    const filter = { provinceCode: programme.provinceCode, communeCode: place?.communeCode, ...bounds, now: at };

    const targets = timed("targets", async () => this.targetsTable(board.communes, board.totals, order));
    const membersUnits = timed("members_units", async () => this.membersUnitsTable(board.communes, order));
    const families = timed("families", async () => this.familiesTable(board.communes, order));
    const units = await timed("units", async () => this.unitRows(board.units, board.communes));
    const registrations = await timed("registrations", () => this.registrations(filter, order));
    const sessions = await timed("sessions", () => this.sessions(filter, order));
    const quizzes = await timed("quizzes", () => this.quizzes(filter, order));
    const scholarships = await timed("scholarships", () => this.scholarships(filter, order));
    const broadcasts = await timed("broadcasts", () => this.broadcasts(filter, order));
    return {
      programme, scope, year, at, province, communes, totals: board.totals,
      tables: {
        targets: await targets, registrations, members_units: await membersUnits, families: await families, sessions, quizzes,
        scholarships: scholarships.table, broadcasts,
      },
      units, rounds: scholarships.rounds, timings,
    };
  }

  /** The province and the scope's communes (every commune of the province, or the one), in Vietnamese order. */
  private async places(provinceCode: string, communeCode?: string): Promise<{ province: PlaceName; communes: PlaceName[] }> {
    const [province, communes] = await Promise.all([
      this.d.prisma.province.findUniqueOrThrow({ where: { code: provinceCode }, select: { code: true, name: true, type: true } }),
      this.d.prisma.commune.findMany({ where: { provinceCode, ...(communeCode ? { code: communeCode } : {}) }, select: { code: true, name: true, type: true } }),
    ]);
    communes.sort((a, b) => a.name.localeCompare(b.name, "vi") || a.code.localeCompare(b.code));
    return { province, communes };
  }

  /** (a) Each commune's figure for every metric, and the total row equal to the scoreboard's totals. */
  private targetsTable(rows: readonly CommuneFigures[], totals: readonly MetricFigure[], order: readonly string[]): ReportTable {
    const columns: ReportColumn[] = [
      { key: "headcount", kind: "count" }, { key: "registered", kind: "count" }, { key: "registered_share", kind: "percent", part: "registered", whole: "headcount" },
      { key: "association_members", kind: "count" }, { key: "members_share", kind: "percent", part: "association_members", whole: "headcount" },
      { key: "units", kind: "count" }, { key: "learning_units", kind: "count" }, { key: "learning_units_share", kind: "percent", part: "learning_units", whole: "units" },
      { key: "families", kind: "count" }, { key: "learning_families", kind: "count" }, { key: "learning_families_share", kind: "percent", part: "learning_families", whole: "families" },
    ];
    const byCode = new Map(rows.map((c) => [c.communeCode, c]));
    const table = communeTable(columns, order, byCode, (c) => ({
      headcount: c.headcount, registered: c.registered, association_members: c.associationMembers, units: c.units,
      learning_units: c.learningUnits, families: c.families, learning_families: c.learningFamilies,
    }));
    const t = Object.fromEntries(totals.map((m) => [m.metric, m]));
    const independent: Record<string, number> = {
      registered: t.learning_citizens!.part, headcount: t.learning_citizens!.whole, association_members: t.members!.part,
      learning_units: t.learning_units!.part, units: t.learning_units!.whole,
    };
    if (t.learning_families) Object.assign(independent, { learning_families: t.learning_families.part, families: t.learning_families.whole });
    expectTotals("targets", table, independent);
    return table;
  }

  /** (c) Association members and learning units by commune (the scoreboard's commune rows). */
  private membersUnitsTable(rows: readonly CommuneFigures[], order: readonly string[]): ReportTable {
    const columns: ReportColumn[] = [
      { key: "units", kind: "count" }, { key: "learning_units", kind: "count" }, { key: "learning_units_share", kind: "percent", part: "learning_units", whole: "units" },
      { key: "headcount", kind: "count" }, { key: "association_members", kind: "count" }, { key: "members_share", kind: "percent", part: "association_members", whole: "headcount" },
    ];
    return communeTable(columns, order, new Map(rows.map((c) => [c.communeCode, c])), (c) => ({
      units: c.units, learning_units: c.learningUnits, headcount: c.headcount, association_members: c.associationMembers,
    }));
  }

  /** (d) Families and those meeting the criteria, by commune. */
  private familiesTable(rows: readonly CommuneFigures[], order: readonly string[]): ReportTable {
    const columns: ReportColumn[] = [{ key: "families", kind: "count" }, { key: "learning_families", kind: "count" }, { key: "learning_families_share", kind: "percent", part: "learning_families", whole: "families" }];
    return communeTable(columns, order, new Map(rows.map((c) => [c.communeCode, c])), (c) => ({ families: c.families, learning_families: c.learningFamilies }));
  }

  /** (c) by unit: the scoreboard's unit rows; their sums must equal its commune rows. */
  private unitRows(units: readonly UnitFigures[], communes: readonly CommuneFigures[]): UnitRow[] {
    const rows = [...units].sort((a, b) => a.communeCode.localeCompare(b.communeCode) || a.name.localeCompare(b.name, "vi") || a.id - b.id);
    const sum = (pick: (u: UnitFigures) => number) => rows.reduce((n, u) => n + pick(u), 0);
    const csum = (pick: (c: CommuneFigures) => number) => communes.reduce((n, c) => n + pick(c), 0);
    for (const [name, a, b] of [
      ["headcount", sum((u) => u.headcount), csum((c) => c.headcount)],
      ["registered", sum((u) => u.registered), csum((c) => c.registered)],
      ["association_members", sum((u) => u.associationMembers), csum((c) => c.associationMembers)],
      ["learning_units", sum((u) => (u.learningUnit ? 1 : 0)), csum((c) => c.learningUnits)],
    ] as const) if (a !== b) throw new ReportTotalsError("units", name, a, b);
    return rows.map((u) => ({ ...u }));
  }

  /** (b) Learning citizens of the place registered in the year, and all registered by its end. */
  private async registrations(f: SectionFilter, order: readonly string[]): Promise<ReportTable> {
    const rows = await this.d.prisma.$queryRawUnsafe<RollupRow[]>(
      `SELECT commune_code AS key, GROUPING(commune_code) AS grouped,
              count(*) FILTER (WHERE registered_at >= $3::timestamp)::int AS in_year, count(*)::int AS total
         FROM learning_citizens
        WHERE province_code = $1 AND ($2::text IS NULL OR commune_code = $2) AND registered_at < $4::timestamp
        GROUP BY ROLLUP (commune_code)`,
      f.provinceCode, f.communeCode ?? null, iso(f.from), iso(f.to),
    );
    return fromRollup("registrations", [{ key: "in_year", kind: "count" }, { key: "total", kind: "count" }], rows, order);
  }

  /**
   * (e) Sessions of the place's centres held in the year (not cancelled, begun by now; demo
   * sessions left out), the check-ins, and learning hours counted as SessionSignups.hours counts a
   * person's: the duration of each session they were checked in at.
   */
  private async sessions(f: SectionFilter, order: readonly string[]): Promise<ReportTable> {
    const until = f.to.getTime() < f.now.getTime() ? f.to : f.now;
    const rows = await this.d.prisma.$queryRawUnsafe<RollupRow[]>(
      `SELECT c.commune_code AS key, GROUPING(c.commune_code) AS grouped,
              count(DISTINCT s.id)::int AS sessions,
              count(g.user_id) FILTER (WHERE g.attended_at IS NOT NULL)::int AS attendance,
              (coalesce(sum(s.duration_min) FILTER (WHERE g.attended_at IS NOT NULL), 0) / 60.0)::float8 AS hours
         FROM learning_sessions s
         JOIN learning_centers c ON c.id = s.center_id
         LEFT JOIN session_signups g ON g.session_id = s.id
        WHERE c.province_code = $1 AND ($2::text IS NULL OR c.commune_code = $2) AND s.state = 'scheduled' AND NOT s.demo
          AND s.starts_at >= $3::timestamp AND s.starts_at < $4::timestamp
        GROUP BY ROLLUP (c.commune_code)`,
      f.provinceCode, f.communeCode ?? null, iso(f.from), iso(until),
    );
    return fromRollup("sessions", [{ key: "sessions", kind: "count" }, { key: "attendance", kind: "count" }, { key: "hours", kind: "hours" }], rows, order);
  }

  /**
   * (f) Quiz answers given in the year by the place's learning citizens (placed by their card):
   * people, rounds played (a group round counts once per person in it), answers, correct ones.
   */
  private async quizzes(f: SectionFilter, order: readonly string[]): Promise<ReportTable> {
    // Per (person, round), then per person, then per commune: hash aggregates, where DISTINCT
    // over a year's answers sorted them all twice (5–10 s for 300,000 answers on PGlite).
    const rows = await this.d.prisma.$queryRawUnsafe<RollupRow[]>(
      `WITH placed AS (
         SELECT user_id, commune_code FROM learning_citizens WHERE province_code = $1 AND ($2::text IS NULL OR commune_code = $2)
       ), per_round AS (
         SELECT a.user_id, count(*) FILTER (WHERE a.chosen IS NOT NULL) AS answers, count(*) FILTER (WHERE a.correct) AS correct
           FROM quiz_answers a JOIN placed p ON p.user_id = a.user_id
          WHERE a.answered_at >= $3::timestamp AND a.answered_at < $4::timestamp
          GROUP BY a.user_id, a.round_id
       ), per_person AS (
         SELECT user_id, count(*) AS rounds, sum(answers) AS answers, sum(correct) AS correct FROM per_round GROUP BY user_id
       )
       SELECT p.commune_code AS key, GROUPING(p.commune_code) AS grouped, count(*)::int AS people, coalesce(sum(x.rounds), 0)::int AS rounds,
              coalesce(sum(x.answers), 0)::int AS answers, coalesce(sum(x.correct), 0)::int AS correct
         FROM per_person x JOIN placed p ON p.user_id = x.user_id
        GROUP BY ROLLUP (p.commune_code)`,
      f.provinceCode, f.communeCode ?? null, iso(f.from), iso(f.to),
    );
    return fromRollup("quizzes", [
      { key: "people", kind: "count" }, { key: "rounds", kind: "count" }, { key: "answers", kind: "count" }, { key: "correct", kind: "count" },
      { key: "accuracy", kind: "percent", part: "correct", whole: "answers" },
    ], rows, order);
  }

  /**
   * (g) The province's scholarship rounds whose deadline falls in the year (not cancelled), and
   * their nominations and awards from the place, by commune and by round (two statements; the
   * rounds' awards must add up to the communes').
   */
  private async scholarships(f: SectionFilter, order: readonly string[]): Promise<{ table: ReportTable; rounds: RoundRow[] }> {
    const firstDay = `${vnParts(f.from).year}-01-01`;
    const lastDay = `${vnParts(f.from).year}-12-31`;
    const params = [f.provinceCode, f.communeCode ?? null, firstDay, lastDay];
    const inScope = "n.province_code = $1 AND ($2::text IS NULL OR n.commune_code = $2)";
    const rounds = await this.d.prisma.$queryRawUnsafe<Array<{ id: number; programme: string; year: number; deadline: string; nominations: number; awards: number }>>(
      `SELECT r.id, r.programme, r.year, to_char(r.deadline_on, 'YYYY-MM-DD') AS deadline,
              count(n.id)::int AS nominations, count(n.id) FILTER (WHERE n.status = 'awarded')::int AS awards
         FROM scholarship_rounds r
         LEFT JOIN nominations n ON n.round_id = r.id AND ${inScope}
        WHERE r.province_code = $1 AND r.state <> 'cancelled' AND r.deadline_on BETWEEN $3::date AND $4::date
        GROUP BY r.id ORDER BY r.deadline_on, r.id`,
      ...params,
    );
    const rows = await this.d.prisma.$queryRawUnsafe<RollupRow[]>(
      `SELECT n.commune_code AS key, GROUPING(n.commune_code) AS grouped,
              count(*)::int AS nominations, count(*) FILTER (WHERE n.status = 'awarded')::int AS awards
         FROM nominations n
         JOIN scholarship_rounds r ON r.id = n.round_id
        WHERE ${inScope} AND r.province_code = $1 AND r.state <> 'cancelled' AND r.deadline_on BETWEEN $3::date AND $4::date
        GROUP BY ROLLUP (n.commune_code)`,
      ...params,
    );
    const table = fromRollup("scholarships", [{ key: "nominations", kind: "count" }, { key: "awards", kind: "count" }], rows, order);
    expectTotals("scholarships.rounds", table, {
      nominations: rounds.reduce((n, r) => n + r.nominations, 0), awards: rounds.reduce((n, r) => n + r.awards, 0),
    });
    return { table, rounds: rounds.map((r) => ({ ...r })) };
  }

  /**
   * (h) Broadcasts the place's officers started sending in the year (a commune's, or the province
   * level's: key ""), the people they were addressed to and those the ledger records as delivered.
   */
  private async broadcasts(f: SectionFilter, order: readonly string[]): Promise<ReportTable> {
    const rows = await this.d.prisma.$queryRawUnsafe<RollupRow[]>(
      `SELECT coalesce(b.sender_commune_code, '') AS key, GROUPING(coalesce(b.sender_commune_code, '')) AS grouped,
              count(*)::int AS broadcasts, coalesce(sum(b.recipient_count), 0)::int AS recipients, coalesce(sum(d.n), 0)::int AS delivered
         FROM broadcasts b
         LEFT JOIN LATERAL (SELECT count(*) AS n FROM deliveries x WHERE x.kind = 'broadcast' AND x.ref_id = b.id::text AND x.state = 'sent') d ON true
        WHERE b.sender_province_code = $1 AND ($2::text IS NULL OR b.sender_commune_code = $2)
          AND b.started_at >= $3::timestamp AND b.started_at < $4::timestamp
        GROUP BY ROLLUP (coalesce(b.sender_commune_code, ''))`,
      f.provinceCode, f.communeCode ?? null, iso(f.from), iso(f.to),
    );
    // The province level comes first when the report is the whole programme's.
    return fromRollup("broadcasts", [{ key: "broadcasts", kind: "count" }, { key: "recipients", kind: "count" }, { key: "delivered", kind: "count" }], rows, f.communeCode ? order : ["", ...order]);
  }
}

interface SectionFilter {
  provinceCode: string;
  communeCode?: string;
  from: Date;
  to: Date;
  now: Date;
}

function communeTable<T>(columns: readonly ReportColumn[], order: readonly string[], byCode: Map<string, T>, values: (row: T) => Record<string, number>): ReportTable {
  const zero = Object.fromEntries(columns.filter((c) => c.kind !== "percent").map((c) => [c.key, 0]));
  const keys = [...order, ...[...byCode.keys()].filter((k) => !order.includes(k)).sort()];
  const rows = keys.map((code) => {
    const found = byCode.get(code);
    return { code, values: withShares(columns, { ...zero, ...(found ? values(found) : {}) }) };
  });
  return { columns: [...columns], rows, total: totalOf(columns, rows) };
}
