import type { PrismaClient } from "../../generated/prisma/client.js";
import { unitKeySql } from "../broadcasts/audience.js";
import { fromVnWallTime, vnParts } from "../time/vietnam-time.js";

/*
 * Quiz leaderboards, computed from quiz_answers in the database: one statement per board, every
 * figure aggregated there (a person's answers never travel to the process), so a board costs one
 * round trip however many answers there are.
 *
 * Indexes that serve them (prisma/schema.prisma):
 * - week boards: quiz_answers(answered_at) — a range scan over this week's answers only;
 * - boards in a province or commune: learning_citizens(province_code) / (commune_code) for the
 *   people there, then quiz_answers(user_id, answered_at) per person (range on answered_at for a week);
 * - all-time boards nationwide read every answer once (a sequential scan, grouped by person): see
 *   the report for the rollup that would make them independent of the number of answers;
 * - names: learning_citizens(user_id) unique, quiz_profiles and users by primary key, for the
 *   shown rows only (joined after the limit).
 */

export type Period = "week" | "all";

/** Where a board looks: a province, a commune (codes are unique nationwide), or nationwide ({}). */
export interface BoardScope {
  provinceCode?: string;
  communeCode?: string;
}

export interface PersonRow {
  /** Competition ranking: people tied on every criterion share a rank (1, 2, 2, 4). */
  rank: number;
  userId: string;
  /** Full name if the person opted in, initials otherwise; "—" when nothing is known. */
  name: string;
  /** Whether `name` is the full name (the person opted in). */
  named: boolean;
  correct: number;
  /** Answers counted, timed-out ones included. */
  taken: number;
  /** Sum of answer times (a time-out counts its whole open period, as recorded). */
  ms: number;
  lastAt: Date;
}

export interface OwnRank {
  rank: number;
  /** People ranked on the same board. */
  of: number;
  correct: number;
  taken: number;
  ms: number;
}

export interface CommuneRow {
  rank: number;
  communeCode: string;
  provinceCode: string;
  correct: number;
  taken: number;
  /** Distinct people of the commune who answered in the period. */
  people: number;
}

export interface UnitRow {
  rank: number;
  provinceCode: string;
  /** The spelling most members typed (trimmed). */
  name: string;
  /** Registered learning citizens of the unit (in the scope). */
  registered: number;
  /** Of them, people who answered at least once in the period. */
  participants: number;
  correct: number;
  taken: number;
}

/** Monday 00:00 in Vietnam (Asia/Ho_Chi_Minh, UTC+7) of the week holding `now`. */
export function weekStart(now: Date): Date {
  const p = vnParts(now);
  const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  // Date.UTC carries a day before the 1st into the previous month.
  return fromVnWallTime(p.year, p.month, p.day - ((weekday + 6) % 7), 0, 0);
}

/** "Nguyễn Văn An" → "N. V. A.": the first letter of each word; "" when there is none. */
export function initialsOf(name: string): string {
  const letters = name
    .normalize("NFC")
    .split(/\s+/)
    .map((word) => /\p{L}/u.exec(word)?.[0])
    .filter((l): l is string => l !== undefined);
  return letters.map((l) => `${l.toLocaleUpperCase("vi")}.`).join(" ");
}

/**
 * What a board shows for a person: the full name only with their consent; otherwise the initials
 * of the learning citizen's name, else of the Telegram name we keep (officers), else "—".
 */
export function displayName(p: { fullName: string | null; showName: boolean; telegramName: string | null }): { name: string; named: boolean } {
  const full = p.fullName?.trim();
  if (full && p.showName) return { name: full, named: true };
  const initials = initialsOf(full || p.telegramName || "");
  return { name: initials || "—", named: false };
}

const iso = (d: Date) => d.toISOString().replace("Z", "");
const num = (v: unknown) => Number(v ?? 0);

/** Numbered SQL parameters: `p(value)` appends one and returns its placeholder. */
function params(): { list: unknown[]; p: (value: unknown) => string } {
  const list: unknown[] = [];
  return { list, p: (value) => (list.push(value), `$${list.length}`) };
}

type P = (value: unknown) => string;

/** Conditions on learning_citizens `c` for a scope; empty when nationwide. */
function scopeWhere(scope: BoardScope, p: P): string[] {
  const where: string[] = [];
  if (scope.communeCode) where.push(`c.commune_code = ${p(scope.communeCode)}`);
  else if (scope.provinceCode) where.push(`c.province_code = ${p(scope.provinceCode)}`);
  return where;
}

/** Conditions on quiz_answers `a` for a period: a week is Monday 00:00 Vietnam time up to now. */
function periodWhere(period: Period, now: Date, p: P): string[] {
  if (period === "all") return [];
  return [`a.answered_at >= ${p(iso(weekStart(now)))}::timestamp`, `a.answered_at <= ${p(iso(now))}::timestamp`];
}

/**
 * Per-person totals of a period and scope (columns user_id, correct, taken, ms, last_at). Scoped
 * boards pick their people first (learning_citizens indexes), then their answers by
 * quiz_answers(user_id, answered_at).
 */
function totalsSql(period: Period, scope: BoardScope, now: Date, p: P): string {
  const where = periodWhere(period, now, p);
  const inScope = scopeWhere(scope, p);
  if (inScope.length > 0) where.push(`a.user_id IN (SELECT c.user_id FROM learning_citizens c WHERE ${inScope.join(" AND ")})`);
  return `SELECT a.user_id, count(*) FILTER (WHERE a.correct) AS correct, count(*) AS taken, sum(a.ms) AS ms, max(a.answered_at) AS last_at
            FROM quiz_answers a ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
           GROUP BY a.user_id`;
}

/** The people ranking: more correct answers, then less total time, then the earlier last answer. */
const PEOPLE_ORDER = "t.correct DESC, t.ms ASC, t.last_at ASC";

export class Leaderboards {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The top `limit` people of a period in a scope (people outside the scope's communes are not in it). */
  async people(period: Period, scope: BoardScope = {}, limit = 10): Promise<PersonRow[]> {
    const { list, p } = params();
    // The names are joined for the shown rows only, after ranking and the limit.
    const sql = `WITH totals AS (${totalsSql(period, scope, this.now(), p)}),
      top AS (
        SELECT t.*, rank() OVER (ORDER BY ${PEOPLE_ORDER}) AS rnk FROM totals t
         ORDER BY rnk, t.user_id LIMIT ${p(limit)})
      SELECT top.user_id::text AS user_id, top.correct::int AS correct, top.taken::int AS taken, top.ms::float8 AS ms,
             (extract(epoch FROM top.last_at) * 1000)::float8 AS last_ms, top.rnk::int AS rnk,
             c.full_name, coalesce(q.show_name, false) AS show_name, u.telegram_name
        FROM top
        LEFT JOIN learning_citizens c ON c.user_id = top.user_id
        LEFT JOIN quiz_profiles q ON q.user_id = top.user_id
        LEFT JOIN users u ON u.telegram_id = top.user_id
       ORDER BY top.rnk, top.user_id`;
    const rows = await this.prisma.$queryRawUnsafe<Array<{
      user_id: string; correct: number; taken: number; ms: number; last_ms: number; rnk: number;
      full_name: string | null; show_name: boolean; telegram_name: string | null;
    }>>(sql, ...list);
    return rows.map((r) => ({
      rank: r.rnk,
      userId: r.user_id,
      ...displayName({ fullName: r.full_name, showName: r.show_name, telegramName: r.telegram_name }),
      correct: r.correct,
      taken: r.taken,
      ms: num(r.ms),
      lastAt: new Date(num(r.last_ms)),
    }));
  }

  /**
   * The person's own place on the people board of a period and scope (rank = 1 + people strictly
   * ahead, as `people` ranks), so someone outside the top sees "#153"; null without answers there.
   */
  async rankOf(userId: number | string, period: Period, scope: BoardScope = {}): Promise<OwnRank | null> {
    const { list, p } = params();
    const me = p(String(userId));
    // totals is read twice, so PostgreSQL computes it once (a materialised CTE).
    const sql = `WITH totals AS (${totalsSql(period, scope, this.now(), p)}),
      me AS (SELECT * FROM totals WHERE user_id = ${me}::bigint)
      SELECT me.correct::int AS correct, me.taken::int AS taken, me.ms::float8 AS ms,
             (SELECT count(*) FROM totals t
               WHERE t.correct > me.correct
                  OR (t.correct = me.correct AND (t.ms < me.ms OR (t.ms = me.ms AND t.last_at < me.last_at))))::int + 1 AS rnk,
             (SELECT count(*) FROM totals)::int AS people
        FROM me`;
    const rows = await this.prisma.$queryRawUnsafe<Array<{ correct: number; taken: number; ms: number; rnk: number; people: number }>>(sql, ...list);
    const r = rows[0];
    return r ? { rank: r.rnk, of: r.people, correct: r.correct, taken: r.taken, ms: num(r.ms) } : null;
  }

  /**
   * Communes by correct answers of their people (a person counts for the commune of their
   * learning-citizen record), then by people taking part. Unregistered people belong to none.
   */
  async communes(period: Period, provinceCode?: string, limit = 10): Promise<CommuneRow[]> {
    const { list, p } = params();
    const scope = provinceCode ? { provinceCode } : {};
    // Totals per person first (one row per person), then the join and the grouping by commune.
    const sql = `WITH totals AS (${totalsSql(period, scope, this.now(), p)})
      SELECT c.commune_code, c.province_code, sum(t.correct)::int AS correct, sum(t.taken)::int AS taken, count(*)::int AS people,
             rank() OVER (ORDER BY sum(t.correct) DESC, count(*) DESC)::int AS rnk
        FROM totals t JOIN learning_citizens c ON c.user_id = t.user_id
       GROUP BY c.commune_code, c.province_code
       ORDER BY rnk, c.commune_code LIMIT ${p(limit)}`;
    const rows = await this.prisma.$queryRawUnsafe<Array<{ commune_code: string; province_code: string; correct: number; taken: number; people: number; rnk: number }>>(sql, ...list);
    return rows.map((r) => ({ rank: r.rnk, communeCode: r.commune_code, provinceCode: r.province_code, correct: r.correct, taken: r.taken, people: r.people }));
  }

  /**
   * Units (learning citizens' unit names, grouped within a province ignoring case, diacritics,
   * spacing and punctuation — the same key officers' unit scopes use) by participation rate:
   * people who answered in the period / registered members; then participants, then correct answers.
   */
  async units(period: Period, scope: BoardScope = {}, limit = 10): Promise<UnitRow[]> {
    const { list, p } = params();
    const inScope = scopeWhere(scope, p);
    const key = unitKeySql("s.unit_name", p);
    const answered = periodWhere(period, this.now(), p);
    // Members come from learning_citizens (its province/commune index when scoped); their answers
    // by quiz_answers(user_id, answered_at). The unit key (a long translate()) is computed once
    // per distinct spelling, not once per member (MATERIALIZED: or the planner pushes the
    // filter on it below the DISTINCT): it was most of the cost nationwide.
    const sql = `WITH members AS (
        SELECT c.user_id, c.province_code, btrim(c.unit_name) AS unit_name
          FROM learning_citizens c
         WHERE c.unit_name IS NOT NULL ${inScope.map((w) => `AND ${w}`).join(" ")}
      ), spellings AS MATERIALIZED (
        SELECT s.unit_name, ${key} AS unit_key FROM (SELECT DISTINCT unit_name FROM members) s
      ), keyed AS (
        SELECT m.user_id, m.province_code, m.unit_name, s.unit_key
          FROM members m JOIN spellings s ON s.unit_name = m.unit_name
         WHERE s.unit_key <> ''
      ), totals AS (
        SELECT a.user_id, count(*) FILTER (WHERE a.correct) AS correct, count(*) AS taken
          FROM quiz_answers a
         WHERE a.user_id IN (SELECT user_id FROM keyed) ${answered.map((w) => `AND ${w}`).join(" ")}
         GROUP BY a.user_id
      )
      SELECT m.province_code, mode() WITHIN GROUP (ORDER BY m.unit_name) AS name,
             count(*)::int AS registered, count(t.user_id)::int AS participants,
             coalesce(sum(t.correct), 0)::int AS correct, coalesce(sum(t.taken), 0)::int AS taken,
             rank() OVER (ORDER BY count(t.user_id)::numeric / count(*) DESC, count(t.user_id) DESC, coalesce(sum(t.correct), 0) DESC)::int AS rnk
        FROM keyed m LEFT JOIN totals t ON t.user_id = m.user_id
       GROUP BY m.province_code, m.unit_key
       ORDER BY rnk, m.province_code, m.unit_key LIMIT ${p(limit)}`;
    const rows = await this.prisma.$queryRawUnsafe<Array<{ province_code: string; name: string; registered: number; participants: number; correct: number; taken: number; rnk: number }>>(sql, ...list);
    return rows.map((r) => ({ rank: r.rnk, provinceCode: r.province_code, name: r.name, registered: r.registered, participants: r.participants, correct: r.correct, taken: r.taken }));
  }

  /** Whether the person agreed to show their full name on leaderboards (default no). */
  async showsName(userId: number | string): Promise<boolean> {
    const row = await this.prisma.quizProfile.findUnique({ where: { userId: BigInt(userId) }, select: { showName: true } });
    return row?.showName ?? false;
  }

  /** Stores the person's choice (creating their quiz profile if needed). */
  async setShowName(userId: number | string, show: boolean): Promise<void> {
    const at = this.now();
    await this.prisma.quizProfile.upsert({
      where: { userId: BigInt(userId) },
      create: { userId: BigInt(userId), showName: show, updatedAt: at },
      update: { showName: show, updatedAt: at },
    });
  }
}
