/**
 * Coordination programmes (issue 11): the association and the armed bodies of a province agree a
 * period (2024–2030) and targets for it, per metric, for the period and for single years. Admins
 * manage any programme, province officers those of their province; commune officers of the
 * province see them (their commune's scoreboard) but do not edit; a unit's heads see their unit in
 * the programmes it takes part in. Every call checks the actor it is given, whatever the bot
 * checked. Changes are audited with ids and counts only.
 */
import { z } from "zod";
import type { PrismaClient } from "../../generated/prisma/client.js";
import type { Logger } from "../../logger.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";
import type { Access } from "../users/user-service.js";
import { UNIT_BODIES, type UnitBody } from "../units/model.js";
import type { ProgrammeView } from "./figures.js";
import { PERIOD_TARGET_YEAR, PROGRAMME_LIMITS, TARGET_METRICS, type ScoreScope, type TargetMetric } from "./model.js";

export const NS = "programmes";
const E = (key: string) => `${NS}:errors.${key}`;

export type ProgrammeActor = Access & { id: string };

/** Names as typed: NFC, spaces collapsed. */
const cleanName = (s: string) => s.normalize("NFC").replace(/\s+/g, " ").trim();

export const programmeNameSchema = z
  .string()
  .transform(cleanName)
  .pipe(z.string().min(PROGRAMME_LIMITS.nameMin, E("name_length")).max(PROGRAMME_LIMITS.nameMax, E("name_length")));
export const percentSchema = z.number({ message: E("percent") }).int(E("percent")).min(1, E("percent")).max(100, E("percent"));
const yearSchema = z.number({ message: E("year") }).int(E("year")).min(PROGRAMME_LIMITS.firstYear, E("year")).max(PROGRAMME_LIMITS.lastYear, E("year"));
export const bodiesSchema = z
  .array(z.enum(UNIT_BODIES, { message: E("bodies") }))
  .min(1, E("bodies"))
  .transform((b) => UNIT_BODIES.filter((x) => b.includes(x)));

/** A period's years: start ≤ end, at most PROGRAMME_LIMITS.periodYearsMax years. */
export const periodSchema = z
  .object({ startYear: yearSchema, endYear: yearSchema })
  .refine((p) => p.startYear <= p.endYear, { message: E("period_order") })
  .refine((p) => p.endYear - p.startYear + 1 <= PROGRAMME_LIMITS.periodYearsMax, { message: E("period_long") });

/** "2024-2030", "2024–2030", "2024 đến 2030", "2024 to 2030": a period as officers type it. */
export const periodTextSchema = z
  .string()
  .transform((s, ctx) => {
    const m = /^\s*(\d{4})\s*(?:-|–|—|đến|den|tới|toi|to|\/)\s*(\d{4})\s*$/iu.exec(s.normalize("NFC"));
    if (!m) {
      ctx.addIssue({ code: "custom", message: E("period_format") });
      return z.NEVER;
    }
    return { startYear: Number(m[1]), endYear: Number(m[2]) };
  })
  .pipe(periodSchema);

/** "80", "80%", "80 %": a target percent 1–100. */
export const percentTextSchema = z
  .string()
  .transform((s) => s.trim().replace(/\s*%$/, ""))
  .pipe(z.string().regex(/^\d{1,3}$/, E("percent")))
  .transform(Number)
  .pipe(percentSchema);

/** "2026: 60%", "2026 60": one year's own target. */
export const yearTargetTextSchema = z
  .string()
  .transform((s, ctx) => {
    const m = /^\s*(\d{4})\s*[:=-]?\s*(\d{1,3})\s*%?\s*$/u.exec(s);
    if (!m) {
      ctx.addIssue({ code: "custom", message: E("year_target_format") });
      return z.NEVER;
    }
    return { year: Number(m[1]), percent: Number(m[2]) };
  })
  .pipe(z.object({ year: yearSchema, percent: percentSchema }));

const targetSchema = z.object({
  metric: z.enum(TARGET_METRICS, { message: E("metric") }),
  year: z.number().int().default(PERIOD_TARGET_YEAR),
  percent: percentSchema,
});
export type TargetInput = z.input<typeof targetSchema>;

const createSchema = z.object({
  name: programmeNameSchema,
  provinceCode: z.string().regex(/^\d{2}$/, E("province")),
  bodies: bodiesSchema,
  startYear: yearSchema,
  endYear: yearSchema,
  targets: z.array(targetSchema).min(1, E("no_target")).max(TARGET_METRICS.length * (PROGRAMME_LIMITS.periodYearsMax + 1)),
});
export type ProgrammeInput = z.input<typeof createSchema>;

const patchSchema = z.object({
  name: programmeNameSchema,
  bodies: bodiesSchema,
  startYear: yearSchema,
  endYear: yearSchema,
  /** Replaces every target. */
  targets: z.array(targetSchema).min(1, E("no_target")),
}).partial().strict();
export type ProgrammePatch = z.input<typeof patchSchema>;

export type ProgrammeFailReason = "forbidden" | "no_scope" | "not_found" | "invalid" | "read_only" | "scope";

export interface ProgrammeFailure {
  ok: false;
  reason: ProgrammeFailReason;
  errors: Array<{ key: string; params?: Record<string, string | number> }>;
}

const fail = (reason: ProgrammeFailReason, errors?: ProgrammeFailure["errors"]): ProgrammeFailure => ({
  ok: false, reason, errors: errors ?? [{ key: reason === "forbidden" ? "common:errors.forbidden" : E(reason) }],
});

export interface ProgrammeDto extends ProgrammeView {
  bodies: UnitBody[];
}

export interface ProgrammeCard {
  ok: true;
  programme: ProgrammeDto;
  /** Admins and the province's officers: edit, delete, targets. */
  manage: boolean;
  /** The caller gets its digest and scheduled reports. */
  following: boolean;
  followers: number;
}

/** A scope of /targets the caller may open: the programme and where they look. */
export interface ScoreEntry {
  programme: { id: number; name: string };
  scope: ScoreScope;
  /** The unit's name for a unit scope. */
  unitName?: string;
}

export interface ProgrammeServiceDeps {
  prisma: PrismaClient;
  now: () => Date;
  logger: Logger;
}

const SELECT = { id: true, name: true, provinceCode: true, bodies: true, startYear: true, endYear: true, targets: { select: { metric: true, year: true, percent: true }, orderBy: [{ metric: "asc" as const }, { year: "asc" as const }] } };

function dto(p: { id: number; name: string; provinceCode: string; bodies: string[]; startYear: number; endYear: number; targets: Array<{ metric: string; year: number; percent: number }> }): ProgrammeDto {
  return { ...p, bodies: p.bodies as UnitBody[], targets: p.targets };
}

/** Admins anywhere; officers of the province without a commune. */
export function managesProvince(a: Access, provinceCode: string): boolean {
  if (a.role === "admin") return true;
  return a.role === "officer" && a.scope.provinceCode === provinceCode && !a.scope.communeCode;
}

/** Also commune officers of the province (read only). */
export function seesProvince(a: Access, provinceCode: string): boolean {
  return managesProvince(a, provinceCode) || (a.role === "officer" && a.scope.provinceCode === provinceCode);
}

/** The period's targets and each year's own, checked against the period (one per metric and year). */
function targetProblems(targets: Array<{ metric: TargetMetric; year: number; percent: number }>, startYear: number, endYear: number): ProgrammeFailure["errors"] {
  const errors: ProgrammeFailure["errors"] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    if (t.year !== PERIOD_TARGET_YEAR && (t.year < startYear || t.year > endYear)) errors.push({ key: E("year_outside"), params: { year: t.year, start: startYear, end: endYear } });
    const key = `${t.metric}:${t.year}`;
    if (seen.has(key)) errors.push({ key: E("target_twice") });
    seen.add(key);
  }
  return errors;
}

const zodErrors = (e: z.ZodError): ProgrammeFailure["errors"] => [...new Set(e.issues.map((i) => i.message))].map((key) => ({ key }));

export class ProgrammeService {
  constructor(private readonly d: ProgrammeServiceDeps) {}

  /** Validates, checks the province and the caller's right, stores the programme and its targets; the creator follows it. */
  async create(actor: ProgrammeActor, input: ProgrammeInput): Promise<{ ok: true; programme: ProgrammeDto } | ProgrammeFailure> {
    const officer = this.officerCheck(actor);
    if (officer) return officer;
    const parsed = createSchema.safeParse(input);
    if (!parsed.success) return fail("invalid", zodErrors(parsed.error));
    const v = parsed.data;
    const period = periodSchema.safeParse(v);
    if (!period.success) return fail("invalid", zodErrors(period.error));
    const problems = targetProblems(v.targets, v.startYear, v.endYear);
    if (problems.length) return fail("invalid", problems);
    if (!managesProvince(actor, v.provinceCode)) return this.refuse(actor, "create");
    if (!(await this.d.prisma.province.findUnique({ where: { code: v.provinceCode }, select: { code: true } }))) return fail("invalid", [{ key: E("province") }]);
    const now = this.d.now();
    const p = await this.d.prisma.$transaction(async (tx) => {
      // A bootstrap admin (ADMIN_TELEGRAM_IDS) may have no user row yet: the follow needs one (the
      // role still comes from the configuration).
      await tx.user.upsert({ where: { id: BigInt(actor.id) }, create: { id: BigInt(actor.id) }, update: {} });
      const row = await tx.programme.create({
        data: {
          name: v.name, provinceCode: v.provinceCode, bodies: v.bodies, startYear: v.startYear, endYear: v.endYear, createdById: BigInt(actor.id),
          targets: { create: v.targets.map((t) => ({ metric: t.metric, year: t.year, percent: t.percent })) },
          officers: { create: { userId: BigInt(actor.id), addedAt: now } },
        },
        select: SELECT,
      });
      await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "programme_created", detail: { programmeId: row.id, provinceCode: v.provinceCode, targets: v.targets.length }, at: now } });
      return row;
    });
    return { ok: true, programme: dto(p) };
  }

  /** Changes name, bodies, period or the whole set of targets; year targets must stay inside the period. */
  async update(actor: ProgrammeActor, id: number, patch: ProgrammePatch): Promise<{ ok: true; programme: ProgrammeDto; changed: string[] } | ProgrammeFailure> {
    const found = await this.managed(actor, id);
    if (!found.ok) return found;
    const parsed = patchSchema.safeParse(patch);
    if (!parsed.success) return fail("invalid", zodErrors(parsed.error));
    const v = parsed.data;
    const current = found.programme;
    const startYear = v.startYear ?? current.startYear;
    const endYear = v.endYear ?? current.endYear;
    const period = periodSchema.safeParse({ startYear, endYear });
    if (!period.success) return fail("invalid", zodErrors(period.error));
    const targets = v.targets ?? current.targets.map((t) => ({ metric: t.metric as TargetMetric, year: t.year, percent: t.percent }));
    const problems = targetProblems(targets, startYear, endYear);
    if (problems.length) return fail("invalid", problems);
    const changed = Object.keys(v);
    const now = this.d.now();
    const p = await this.d.prisma.$transaction(async (tx) => {
      if (v.targets) {
        await tx.programmeTarget.deleteMany({ where: { programmeId: id } });
        await tx.programmeTarget.createMany({ data: v.targets.map((t) => ({ programmeId: id, metric: t.metric, year: t.year, percent: t.percent })) });
      }
      const row = await tx.programme.update({
        where: { id },
        data: { ...(v.name ? { name: v.name } : {}), ...(v.bodies ? { bodies: v.bodies } : {}), startYear, endYear },
        select: SELECT,
      });
      await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "programme_updated", detail: { programmeId: id, fields: changed, ...(v.targets ? { targets: v.targets.length } : {}) }, at: now } });
      return row;
    });
    return { ok: true, programme: dto(p), changed };
  }

  /**
   * One target: the period's (year 0) or a single year's inside the period; `percent` null clears
   * it (a programme keeps at least one target).
   */
  async setTarget(actor: ProgrammeActor, id: number, t: { metric: TargetMetric; year: number; percent: number | null }): Promise<{ ok: true; programme: ProgrammeDto } | ProgrammeFailure> {
    const found = await this.managed(actor, id);
    if (!found.ok) return found;
    const p = found.programme;
    if (!(TARGET_METRICS as readonly string[]).includes(t.metric)) return fail("invalid", [{ key: E("metric") }]);
    if (t.percent !== null) {
      const percent = percentSchema.safeParse(t.percent);
      if (!percent.success) return fail("invalid", zodErrors(percent.error));
    }
    const problems = targetProblems([{ metric: t.metric, year: t.year, percent: t.percent ?? 1 }], p.startYear, p.endYear);
    if (problems.length) return fail("invalid", problems);
    if (t.percent === null && p.targets.filter((x) => !(x.metric === t.metric && x.year === t.year)).length === 0) return fail("invalid", [{ key: E("no_target") }]);
    const now = this.d.now();
    await this.d.prisma.$transaction(async (tx) => {
      const key = { programmeId_metric_year: { programmeId: id, metric: t.metric, year: t.year } };
      if (t.percent === null) await tx.programmeTarget.deleteMany({ where: { programmeId: id, metric: t.metric, year: t.year } });
      else await tx.programmeTarget.upsert({ where: key, create: { programmeId: id, metric: t.metric, year: t.year, percent: t.percent }, update: { percent: t.percent } });
      await tx.programme.update({ where: { id }, data: { updatedAt: now } });
      await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "programme_target_set", detail: { programmeId: id, metric: t.metric, year: t.year, cleared: t.percent === null }, at: now } });
    });
    const after = await this.live(id);
    return after ? { ok: true, programme: after } : fail("not_found");
  }

  /** Soft delete: the rows stay for past reports; the programme is listed and counted nowhere. */
  async remove(actor: ProgrammeActor, id: number): Promise<{ ok: true; programme: ProgrammeDto } | ProgrammeFailure> {
    const found = await this.managed(actor, id);
    if (!found.ok) return found;
    const now = this.d.now();
    const { count } = await this.d.prisma.$transaction(async (tx) => {
      const r = await tx.programme.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: now } });
      if (r.count) await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "programme_removed", detail: { programmeId: id }, at: now } });
      return r;
    });
    return count ? { ok: true, programme: found.programme } : fail("not_found");
  }

  /** Follow (digest, scheduled reports) or stop following: officers who may see the programme. */
  async follow(actor: ProgrammeActor, id: number, on: boolean): Promise<{ ok: true; following: boolean } | ProgrammeFailure> {
    const found = await this.visible(actor, id);
    if (!found.ok) return found;
    const userId = BigInt(actor.id);
    if (on) {
      // A bootstrap admin may have no user row yet (see create).
      await this.d.prisma.user.upsert({ where: { id: userId }, create: { id: userId }, update: {} });
      await this.d.prisma.programmeOfficer.upsert({
        where: { programmeId_userId: { programmeId: id, userId } }, create: { programmeId: id, userId, addedAt: this.d.now() }, update: {},
      });
    } else {
      await this.d.prisma.programmeOfficer.deleteMany({ where: { programmeId: id, userId } });
    }
    return { ok: true, following: on };
  }

  /** The officers following a programme (Telegram ids): who gets its digest and scheduled reports. */
  async followers(id: number): Promise<string[]> {
    const rows = await this.d.prisma.programmeOfficer.findMany({ where: { programmeId: id, programme: { deletedAt: null } }, orderBy: { addedAt: "asc" }, select: { userId: true } });
    return rows.map((r) => r.userId.toString());
  }

  /** The live programmes the actor may see: admins all, officers those of their province. */
  async list(actor: ProgrammeActor): Promise<{ ok: true; items: Array<ProgrammeDto & { manage: boolean; following: boolean }> } | ProgrammeFailure> {
    const officer = this.officerCheck(actor);
    if (officer) return officer;
    const rows = await this.d.prisma.programme.findMany({
      where: { deletedAt: null, ...(actor.role === "admin" ? {} : { provinceCode: actor.scope.provinceCode }) },
      orderBy: [{ startYear: "desc" }, { id: "asc" }],
      select: { ...SELECT, officers: { where: { userId: BigInt(actor.id) }, select: { userId: true } } },
    });
    return { ok: true, items: rows.map(({ officers, ...p }) => ({ ...dto(p), manage: managesProvince(actor, p.provinceCode), following: officers.length > 0 })) };
  }

  /** A programme's card for someone who may see it. */
  async get(actor: ProgrammeActor, id: number): Promise<ProgrammeCard | ProgrammeFailure> {
    const found = await this.visible(actor, id);
    if (!found.ok) return found;
    const [following, followers] = await Promise.all([
      this.d.prisma.programmeOfficer.count({ where: { programmeId: id, userId: BigInt(actor.id) } }),
      this.d.prisma.programmeOfficer.count({ where: { programmeId: id } }),
    ]);
    return { ok: true, programme: found.programme, manage: managesProvince(actor, found.programme.provinceCode), following: following > 0, followers };
  }

  /**
   * What /targets opens for the actor: admins and province officers each programme they see
   * (programme scope); commune officers their commune in each programme of their province; a
   * unit's head (without an officer role) each unit they lead in the programmes of its province
   * whose bodies include the unit's body.
   */
  async scoreEntries(actor: ProgrammeActor): Promise<ScoreEntry[]> {
    if (actor.role === "admin" || (actor.role === "officer" && actor.scope.provinceCode)) {
      const rows = await this.d.prisma.programme.findMany({
        where: { deletedAt: null, ...(actor.role === "admin" ? {} : { provinceCode: actor.scope.provinceCode }) },
        orderBy: [{ startYear: "desc" }, { id: "asc" }], select: { id: true, name: true },
      });
      const commune = actor.role === "officer" ? actor.scope.communeCode : undefined;
      return rows.map((p) => ({ programme: p, scope: commune ? { kind: "commune", communeCode: commune } : { kind: "programme" } }));
    }
    if (!/^\d{1,16}$/.test(actor.id)) return [];
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ programme_id: number; programme_name: string; unit_id: number; unit_name: string }>>(
      `SELECT p.id AS programme_id, p.name AS programme_name, u.id AS unit_id, u.name AS unit_name
         FROM unit_members m
         JOIN units u ON u.id = m.unit_id AND u.deleted_at IS NULL
         JOIN programmes p ON p.province_code = u.province_code AND p.deleted_at IS NULL AND u.body = ANY(p.bodies)
        WHERE m.user_id = $1::bigint AND m.role = 'head'
        ORDER BY p.start_year DESC, p.id, u.name, u.id`,
      actor.id,
    );
    return rows.map((r) => ({ programme: { id: r.programme_id, name: r.programme_name }, scope: { kind: "unit", unitId: r.unit_id }, unitName: r.unit_name }));
  }

  /**
   * Whether the actor may see this scope of this programme (buttons carry both and can be forged):
   * admins and the province's officers any scope of it; a commune officer their commune only; a
   * unit's head their unit when it takes part in the programme.
   */
  async authorizeScope(actor: ProgrammeActor, programmeId: number, scope: ScoreScope): Promise<{ ok: true; programme: ProgrammeDto; unitName?: string } | ProgrammeFailure> {
    const programme = await this.live(programmeId);
    if (!programme) return fail("not_found");
    if (managesProvince(actor, programme.provinceCode)) {
      if (scope.kind === "programme") return { ok: true, programme };
      if (scope.kind === "commune") {
        const c = await this.d.prisma.commune.findUnique({ where: { code: scope.communeCode }, select: { provinceCode: true } });
        return c?.provinceCode === programme.provinceCode ? { ok: true, programme } : this.refuse(actor, "scope", programmeId);
      }
      const u = await this.unitIn(programme, scope.unitId);
      return u ? { ok: true, programme, unitName: u.name } : this.refuse(actor, "scope", programmeId);
    }
    if (actor.role === "officer" && actor.scope.provinceCode === programme.provinceCode && actor.scope.communeCode) {
      if (scope.kind === "commune" && scope.communeCode === actor.scope.communeCode) return { ok: true, programme };
      if (scope.kind === "unit") {
        const u = await this.unitIn(programme, scope.unitId);
        if (u && u.communeCode === actor.scope.communeCode) return { ok: true, programme, unitName: u.name };
      }
      return this.refuse(actor, "scope", programmeId);
    }
    if (scope.kind === "unit" && /^\d{1,16}$/.test(actor.id)) {
      const u = await this.unitIn(programme, scope.unitId);
      const head = u ? await this.d.prisma.unitMember.count({ where: { unitId: u.id, userId: BigInt(actor.id), role: "head" } }) : 0;
      if (u && head > 0) return { ok: true, programme, unitName: u.name };
    }
    return this.refuse(actor, "scope", programmeId);
  }

  /** programmes: the programmes the person created and follows; erasure drops the follow rows and the creator. */
  dataParts(): PersonalDataPart[] {
    const prisma = this.d.prisma;
    return [{
      key: "programmes",
      label: `${NS}:personal_data`,
      kind: "database",
      export: async (id) => {
        const user = BigInt(id);
        const [followed, created] = await Promise.all([
          prisma.programmeOfficer.findMany({ where: { userId: user }, orderBy: { addedAt: "asc" }, select: { programmeId: true, addedAt: true, programme: { select: { name: true } } } }),
          prisma.programme.findMany({ where: { createdById: user }, orderBy: { id: "asc" }, select: { id: true, name: true, createdAt: true } }),
        ]);
        if (followed.length === 0 && created.length === 0) return null;
        return toPlainJson({
          followed: followed.map((f) => ({ programmeId: f.programmeId, programme: f.programme.name, since: f.addedAt })),
          created: created.map((c) => ({ programmeId: c.id, programme: c.name, createdAt: c.createdAt })),
        });
      },
      exists: async (id) => {
        const user = BigInt(id);
        const [f, c] = await Promise.all([prisma.programmeOfficer.count({ where: { userId: user } }), prisma.programme.count({ where: { createdById: user } })]);
        return f + c > 0;
      },
      erase: async (id, tx) => {
        const db = tx ?? prisma;
        const user = BigInt(id);
        const f = await db.programmeOfficer.deleteMany({ where: { userId: user } });
        const c = await db.programme.updateMany({ where: { createdById: user }, data: { createdById: null } });
        return f.count + c.count > 0;
      },
    }];
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────

  private officerCheck(actor: Access): ProgrammeFailure | undefined {
    if (actor.role === "admin") return undefined;
    if (actor.role !== "officer") return fail("forbidden");
    return actor.scope.provinceCode ? undefined : fail("no_scope");
  }

  private refuse(actor: { id: string }, action: string, programmeId?: number): ProgrammeFailure {
    this.d.logger.warn({ programme: programmeId, user: actor.id, action }, "refused a programme outside the caller's scope");
    return fail(action === "scope" ? "scope" : "forbidden");
  }

  async live(id: number): Promise<ProgrammeDto | undefined> {
    if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) return undefined;
    const p = await this.d.prisma.programme.findFirst({ where: { id, deletedAt: null }, select: SELECT });
    return p ? dto(p) : undefined;
  }

  private async visible(actor: ProgrammeActor, id: number): Promise<{ ok: true; programme: ProgrammeDto } | ProgrammeFailure> {
    const officer = this.officerCheck(actor);
    if (officer) return officer;
    const programme = await this.live(id);
    if (!programme) return fail("not_found");
    if (!seesProvince(actor, programme.provinceCode)) return this.refuse(actor, "view", id);
    return { ok: true, programme };
  }

  private async managed(actor: ProgrammeActor, id: number): Promise<{ ok: true; programme: ProgrammeDto } | ProgrammeFailure> {
    const found = await this.visible(actor, id);
    if (!found.ok) return found;
    if (!managesProvince(actor, found.programme.provinceCode)) {
      this.d.logger.warn({ programme: id, user: actor.id }, "refused a programme change to a commune officer");
      return fail("read_only");
    }
    return found;
  }

  /** A live unit of the programme (its province, a participating body). */
  private async unitIn(p: ProgrammeDto, unitId: number): Promise<{ id: number; name: string; communeCode: string } | undefined> {
    if (!Number.isSafeInteger(unitId) || unitId <= 0 || unitId > 2_147_483_647) return undefined;
    const u = await this.d.prisma.unit.findFirst({
      where: { id: unitId, deletedAt: null, provinceCode: p.provinceCode, body: { in: p.bodies } },
      select: { id: true, name: true, communeCode: true },
    });
    return u ?? undefined;
  }
}
