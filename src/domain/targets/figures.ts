/**
 * The figures a programme is judged by, for a scope: one statement for the units (members,
 * registered learning citizens, association members — counters kept by database triggers —, the
 * learning-unit status), one for the families (their counters too); communes and totals are sums of those rows, so the scoreboard, the charts, the digest
 * and the yearly report can never disagree. Counts only: no name leaves this module.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import type { LearningGroups } from "../units/families.js";
import { UNIT_LIMITS } from "../units/model.js";
import { metricFigure, targetFor, type Figure, type MetricFigure, type ProgrammeTargetRow, type ScoreScope, type TargetMetric } from "./model.js";

export interface ProgrammeView {
  id: number;
  name: string;
  provinceCode: string;
  bodies: string[];
  startYear: number;
  endYear: number;
  targets: ProgrammeTargetRow[];
}

/** One unit of the scope with its own counts (not those of the units under it). */
export interface UnitFigures {
  id: number;
  name: string;
  communeCode: string;
  parentId: number | null;
  headcount: number;
  /** People who joined it in the bot. */
  members: number;
  /** Members registered as learning citizens. */
  registered: number;
  /** Members who are association members (hội viên khuyến học). */
  associationMembers: number;
  /** Approved as a learning unit (Đơn vị học tập). */
  learningUnit: boolean;
}

export interface CommuneFigures {
  communeCode: string;
  /** The commune's official name (communes.name). */
  name: string;
  units: number;
  headcount: number;
  registered: number;
  associationMembers: number;
  learningUnits: number;
  families: number;
  learningFamilies: number;
}

export interface Scoreboard {
  programme: ProgrammeView;
  scope: ScoreScope;
  /** The year whose targets apply (Asia/Ho_Chi_Minh). */
  year: number;
  /** Each metric with a figure in this scope, in TARGET_METRICS order (families only for a programme or a commune). */
  totals: MetricFigure[];
  units: UnitFigures[];
  communes: CommuneFigures[];
}

/** A unit row's figure for a people metric, or its learning-unit status as 1 of 1. */
export function unitFigure(u: UnitFigures, metric: TargetMetric): Figure {
  if (metric === "learning_citizens") return { part: u.registered, whole: u.headcount };
  if (metric === "members") return { part: u.associationMembers, whole: u.headcount };
  if (metric === "learning_units") return { part: u.learningUnit ? 1 : 0, whole: 1 };
  return { part: 0, whole: 0 };
}

export function communeFigure(c: CommuneFigures, metric: TargetMetric): Figure {
  if (metric === "learning_citizens") return { part: c.registered, whole: c.headcount };
  if (metric === "members") return { part: c.associationMembers, whole: c.headcount };
  if (metric === "learning_units") return { part: c.learningUnits, whole: c.units };
  return { part: c.learningFamilies, whole: c.families };
}

export interface TargetFiguresDeps {
  prisma: PrismaClient;
  families: LearningGroups;
}

export class TargetFigures {
  constructor(private readonly d: TargetFiguresDeps) {}

  /** A live programme with its targets, or undefined. */
  async programme(id: number): Promise<ProgrammeView | undefined> {
    const p = await this.d.prisma.programme.findFirst({
      where: { id, deletedAt: null },
      select: { id: true, name: true, provinceCode: true, bodies: true, startYear: true, endYear: true, targets: { select: { metric: true, year: true, percent: true } } },
    });
    return p ?? undefined;
  }

  /**
   * The programme's units in the scope (live units of its province whose body takes part), each
   * with its own counts: one statement. A unit scope is that unit and the units under it.
   */
  async units(programme: ProgrammeView, scope: ScoreScope): Promise<UnitFigures[]> {
    const params: unknown[] = [programme.provinceCode, programme.bodies];
    let from = "units u";
    let where = "";
    if (scope.kind === "commune") {
      params.push(scope.communeCode);
      where = "AND u.commune_code = $3";
    } else if (scope.kind === "unit") {
      params.push(scope.unitId);
      from = `(WITH RECURSIVE sub AS (
                 SELECT id, 0 AS depth FROM units WHERE id = $3
                 UNION ALL SELECT c.id, s.depth + 1 FROM units c JOIN sub s ON c.parent_id = s.id WHERE s.depth < ${UNIT_LIMITS.depthMax * 2}
               ) SELECT DISTINCT units.* FROM units JOIN sub ON sub.id = units.id) u`;
    }
    // The counters are kept by triggers (migration 20261128230000_target_counters): one row per unit.
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{
      id: number; name: string; commune_code: string; parent_id: number | null; headcount: number;
      learning_unit: boolean; members: number; registered: number; association_members: number;
    }>>(
      `SELECT u.id, u.name, u.commune_code, u.parent_id, u.headcount, u.learning_status = 'approved' AS learning_unit,
              u.members_count AS members, u.registered_count AS registered, u.association_count AS association_members
         FROM ${from}
        WHERE u.deleted_at IS NULL AND u.province_code = $1 AND u.body = ANY($2::text[]) ${where}
        ORDER BY u.id`,
      ...params,
    );
    return rows.map((r) => ({
      id: r.id, name: r.name, communeCode: r.commune_code, parentId: r.parent_id, headcount: r.headcount,
      members: r.members, registered: r.registered, associationMembers: r.association_members, learningUnit: r.learning_unit,
    }));
  }

  /** Families of the programme's province (or one commune) and how many meet the criteria, per commune. */
  async families(programme: ProgrammeView, scope: ScoreScope): Promise<Map<string, { total: number; met: number }>> {
    const out = new Map<string, { total: number; met: number }>();
    if (scope.kind === "unit") return out;
    if (scope.kind === "commune") {
      const c = await this.d.families.statusCounts({ provinceCode: programme.provinceCode, communeCode: scope.communeCode });
      if (c.total > 0) out.set(scope.communeCode, { total: c.total, met: c.met });
      return out;
    }
    for (const c of await this.d.families.statusCountsByCommune(programme.provinceCode)) out.set(c.communeCode, { total: c.total, met: c.met });
    return out;
  }

  /**
   * Every figure of the programme in the scope, against the targets of `year`. Totals are the sums
   * of the unit rows and of the families per commune: what the report adds up to.
   */
  async scoreboard(programme: ProgrammeView, scope: ScoreScope, year: number): Promise<Scoreboard> {
    const [units, families] = await Promise.all([this.units(programme, scope), this.families(programme, scope)]);
    const communeCodes = new Set([...units.map((u) => u.communeCode), ...families.keys()]);
    const names = new Map(
      (await this.d.prisma.commune.findMany({ where: { code: { in: [...communeCodes] } }, select: { code: true, name: true } })).map((c) => [c.code, c.name]),
    );
    const byCommune = new Map<string, CommuneFigures>();
    const commune = (code: string): CommuneFigures => {
      let c = byCommune.get(code);
      if (!c) {
        c = { communeCode: code, name: names.get(code) ?? code, units: 0, headcount: 0, registered: 0, associationMembers: 0, learningUnits: 0, families: 0, learningFamilies: 0 };
        byCommune.set(code, c);
      }
      return c;
    };
    for (const u of units) {
      const c = commune(u.communeCode);
      c.units += 1;
      c.headcount += u.headcount;
      c.registered += u.registered;
      c.associationMembers += u.associationMembers;
      if (u.learningUnit) c.learningUnits += 1;
    }
    for (const [code, f] of families) {
      const c = commune(code);
      c.families += f.total;
      c.learningFamilies += f.met;
    }
    const communes = [...byCommune.values()].sort((a, b) => a.communeCode.localeCompare(b.communeCode));
    const sum = (pick: (c: CommuneFigures) => number) => communes.reduce((n, c) => n + pick(c), 0);
    const t = (metric: TargetMetric, figure: Figure) => metricFigure(metric, figure, targetFor(programme.targets, metric, year));
    const totals: MetricFigure[] = [
      t("learning_citizens", { part: sum((c) => c.registered), whole: sum((c) => c.headcount) }),
      t("members", { part: sum((c) => c.associationMembers), whole: sum((c) => c.headcount) }),
      t("learning_units", { part: sum((c) => c.learningUnits), whole: sum((c) => c.units) }),
    ];
    if (scope.kind !== "unit") totals.push(t("learning_families", { part: sum((c) => c.learningFamilies), whole: sum((c) => c.families) }));
    return { programme, scope, year, totals, units, communes };
  }
}
