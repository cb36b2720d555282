/**
 * Nominations of students to scholarship rounds (issue 10). Children's data (Decree 13/2023/NĐ-CP):
 * only what the round's rules need is asked and stored; a nomination is seen by its nominator and
 * the round's officers only; it is deleted on withdrawal, on the nominator's /deleteme, and
 * NOMINATION_RETENTION_DAYS after the award date (or a cancellation). Every method checks who
 * asks against the database, whatever the caller already checked.
 */
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.js";
import { toCsv } from "../broadcasts/csv.js";
import { isUniqueViolation } from "../citizens/citizen-service.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import { toPlainJson, type PersonalDataPart, type Tx } from "../privacy/registry.js";
import { vnParts } from "../time/vietnam-time.js";
import type { Access } from "../users/user-service.js";
import type { Logger } from "../../logger.js";
import { verdict, type RuleOutcome } from "./eligibility.js";
import {
  CIRCUMSTANCES, GRADES_OF_LEVEL, NOMINATION_RETENTION_DAYS, NOMINATION_STATUSES, NOMINATION_STATUS_KIND, RELATIONSHIPS, ROUND_LIMITS,
  SCHOOL_LEVELS, addDays, allowedRelationships, canManageRound, formatDay, nominationStatusRef, readRules, roundPhase, studentKey, vnDay,
  type Circumstance, type NominationStatusName, type Relationship, type RoundRules, type SchoolLevel,
} from "./model.js";

export type Actor = Access & { id: string };

const NS = "nominations";
const E = (key: string) => `${NS}:errors.${key}`;
/** Nominations per page of an officer's list. */
export const NOMINATION_PAGE_SIZE = 8;
/** A student's age in years, as a plausibility check on the birth year. */
export const STUDENT_AGE = { min: 3, max: 30 } as const;

// ---- the validators, shared with the conversation (messages are i18n keys) ------------------

const collapse = (s: string) => s.normalize("NFC").trim().replace(/\s+/g, " ");

/** Family and given name: at least two words of letters (hyphens and apostrophes allowed). */
export const studentNameSchema = z.string().transform(collapse).pipe(
  z.string()
    .min(4, E("student_name"))
    .max(ROUND_LIMITS.studentNameMax, E("student_name"))
    .regex(/^[\p{L}\p{M}][\p{L}\p{M}'’.-]*( [\p{L}\p{M}][\p{L}\p{M}'’.-]*)+$/u, E("student_name")),
);

export const guardianNameSchema = z.string().transform(collapse).pipe(
  z.string()
    .min(4, E("guardian_name"))
    .max(ROUND_LIMITS.guardianNameMax, E("guardian_name"))
    .regex(/^[\p{L}\p{M}][\p{L}\p{M}'’.-]*( [\p{L}\p{M}][\p{L}\p{M}'’.-]*)+$/u, E("guardian_name")),
);

export const schoolSchema = z.string().transform(collapse).pipe(z.string().min(3, E("school")).max(ROUND_LIMITS.schoolMax, E("school")));

/** Birth years a student may plausibly have in `year` (about 3 to 30 years old). */
export function birthYearRange(year: number): { min: number; max: number } {
  return { min: year - STUDENT_AGE.max, max: year - STUDENT_AGE.min };
}

export function birthYearSchema(year: number) {
  const { min, max } = birthYearRange(year);
  return z.number({ message: E("birth_year") }).int(E("birth_year")).min(min, E("birth_year")).max(max, E("birth_year"));
}

/** A typed birth year ("2014"). */
export function birthYearText(year: number) {
  return z.string().transform((s, ctx) => {
    const t = s.trim();
    const r = birthYearSchema(year).safeParse(/^\d{4}$/.test(t) ? Number(t) : NaN);
    if (!r.success) {
      ctx.addIssue({ code: "custom", message: E("birth_year") });
      return z.NEVER;
    }
    return r.data;
  });
}

/** The grades of a level (none at university). */
export function gradesOfLevel(level: SchoolLevel): number[] {
  if (level === "university") return [];
  const [a, b] = GRADES_OF_LEVEL[level];
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function inputSchema(year: number) {
  return z.object({
    relationship: z.enum(RELATIONSHIPS, { message: E("relationship") }),
    studentName: studentNameSchema,
    birthYear: birthYearSchema(year),
    school: schoolSchema,
    schoolLevel: z.enum(SCHOOL_LEVELS, { message: E("level") }),
    grade: z.number({ message: E("grade") }).int(E("grade")).min(1, E("grade")).max(12, E("grade")).nullish(),
    communeCode: z.string({ message: E("commune") }).regex(/^\d{5}$/, E("commune")),
    circumstances: z.array(z.enum(CIRCUMSTANCES, { message: E("circumstance") })).max(CIRCUMSTANCES.length).default([]),
    guardianName: guardianNameSchema.nullish(),
    consent: z.boolean({ message: E("no_consent") }),
  }).superRefine((v, ctx) => {
    // Grade 1–12 within the level at school, none at university.
    const grades = gradesOfLevel(v.schoolLevel);
    if (grades.length ? v.grade == null || !grades.includes(v.grade) : v.grade != null) ctx.addIssue({ code: "custom", message: E("grade"), path: ["grade"] });
  });
}
export type NominationInput = z.input<ReturnType<typeof inputSchema>>;

// ---- results ----------------------------------------------------------------------------------

export interface NominationError {
  key: string;
  params?: Record<string, string | number>;
}

export type FailReason =
  | "forbidden" | "not_found" | "invalid" | "cancelled" | "not_open" | "closed" | "relationship" | "rules_not_met" | "duplicate" | "no_consent";

export interface Failure {
  ok: false;
  reason: FailReason;
  errors: NominationError[];
}

const fail = (reason: FailReason, errors: NominationError[] = [{ key: reason === "forbidden" ? "common:errors.forbidden" : E(reason) }]): Failure => ({ ok: false, reason, errors });

/** What the nominate conversation needs of a round before asking anything (plain JSON). */
export interface RoundForNomination {
  id: number;
  programme: string;
  year: number;
  provinceCode: string | null;
  /** "dd/mm/yyyy". */
  deadline: string;
  rules: RoundRules;
  /** The communes the rules name, with their names (empty: any commune of the round's place). */
  communes: Array<{ code: string; name: string; type: string }>;
}

export interface NominationStart {
  ok: true;
  round: RoundForNomination;
  relationships: Relationship[];
  /** The nominator's registered name (Công dân học tập), if any: a parent's guardian name. */
  registeredName: string | null;
}

/** One nomination with the names of its round and place (what the cards and exports show). */
export interface NominationView {
  id: number;
  roundId: number;
  programme: string;
  roundYear: number;
  roundState: string;
  nominatorId: string;
  relationship: Relationship;
  studentName: string;
  birthYear: number;
  school: string;
  schoolLevel: SchoolLevel;
  grade: number | null;
  provinceCode: string;
  provinceName: string;
  communeCode: string;
  communeName: string;
  circumstances: Circumstance[];
  guardianName: string;
  guardianConsentAt: Date;
  status: NominationStatusName;
  statusChangedAt: Date | null;
  createdAt: Date;
}

export interface MyNomination {
  id: number;
  roundId: number;
  programme: string;
  roundYear: number;
  studentName: string;
  status: NominationStatusName;
  createdAt: Date;
}

export interface RoundSummary {
  id: number;
  programme: string;
  year: number;
  provinceCode: string | null;
  state: string;
  deadlineOn: Date;
  awardOn: Date;
}

export interface CommuneCount {
  communeCode: string;
  communeName: string;
  count: number;
}

export interface NominationList {
  ok: true;
  round: RoundSummary;
  items: Array<Pick<NominationView, "id" | "studentName" | "birthYear" | "schoolLevel" | "grade" | "communeName" | "status">>;
  total: number;
  page: number;
  pages: number;
  byStatus: Record<NominationStatusName, number>;
}

/** Labels of the exports; the bot passes its translator, tests may pass nothing (Vietnamese). */
export type Translate = (key: string, params?: Record<string, unknown>) => string;

export interface NominationDeps {
  prisma: PrismaClient;
  /** Status notices: ledger rows inside the transaction, released after the commit. */
  deliveries: DeliveryScheduler;
  now: () => Date;
  logger: Logger;
}

type Db = PrismaClient | Prisma.TransactionClient | Tx;

interface ViewRow {
  id: number; round_id: number; programme: string; round_year: number; round_state: string; nominator_id: bigint | string;
  relationship: string; student_name: string; birth_year: number; school: string; school_level: string; grade: number | null;
  province_code: string; province_name: string | null; commune_code: string; commune_name: string | null; commune_type: string | null;
  circumstances: string[]; guardian_name: string; guardian_consent_at: Date | string; status: string; status_changed_at: Date | string | null;
  created_at: Date | string;
}

const VIEW_SELECT = `
  SELECT n.id, n.round_id, r.programme, r.year AS round_year, r.state::text AS round_state, n.nominator_id, n.relationship, n.student_name,
         n.birth_year, n.school, n.school_level, n.grade, n.province_code, p.name AS province_name, n.commune_code, c.name AS commune_name,
         c.type AS commune_type, n.circumstances, n.guardian_name, n.guardian_consent_at, n.status::text AS status, n.status_changed_at, n.created_at
    FROM nominations n
    JOIN scholarship_rounds r ON r.id = n.round_id
    LEFT JOIN communes c ON c.code = n.commune_code
    LEFT JOIN provinces p ON p.code = n.province_code`;

const minuteOf = (d: Date) => Math.floor(d.getTime() / 60_000);
const isoNoZ = (d: Date) => d.toISOString().replace("Z", "");

export class NominationService {
  constructor(private readonly d: NominationDeps) {}

  // ---- nominating -----------------------------------------------------------------------------

  /**
   * Whether the actor may nominate to the round now, and what the conversation needs to ask: the
   * round's rules (only the questions they call for), its communes, the allowed relationships.
   */
  async start(actor: Actor, roundId: number): Promise<NominationStart | Failure> {
    const round = await this.d.prisma.scholarshipRound.findUnique({ where: { id: roundId } });
    const refused = round ? this.phaseFailure(round) : fail("not_found", [{ key: E("round_not_found") }]);
    if (refused) return refused;
    const r = round!;
    const rules = readRules(r.rules);
    const communes = rules.communeCodes.length
      ? await this.d.prisma.commune.findMany({ where: { code: { in: rules.communeCodes } }, select: { code: true, name: true, type: true }, orderBy: { name: "asc" } })
      : [];
    const citizen = await this.d.prisma.learningCitizen.findUnique({ where: { userId: BigInt(actor.id) }, select: { fullName: true } });
    return {
      ok: true,
      round: { id: r.id, programme: r.programme, year: r.year, provinceCode: r.provinceCode, deadline: formatDay(r.deadlineOn), rules, communes },
      relationships: allowedRelationships(actor.role),
      registeredName: citizen?.fullName ?? null,
    };
  }

  /**
   * Stores a nomination after every check: the round open, the relationship allowed for the
   * actor's role, the input valid, the guardian's consent, the place and the rules met, the
   * student not already nominated to the round (the unique index decides between two people at once).
   */
  async create(actor: Actor, roundId: number, raw: unknown): Promise<{ ok: true; nomination: NominationView } | Failure> {
    const now = this.d.now();
    const round = await this.d.prisma.scholarshipRound.findUnique({ where: { id: roundId } });
    if (!round) return fail("not_found", [{ key: E("round_not_found") }]);
    const refused = this.phaseFailure(round);
    if (refused) return refused;
    const parsed = inputSchema(vnParts(now).year).safeParse(raw);
    if (!parsed.success) return fail("invalid", issues(parsed.error));
    const input = parsed.data;
    if (!allowedRelationships(actor.role).includes(input.relationship)) return fail("relationship");
    if (!input.consent) return fail("no_consent");
    const rules = readRules(round.rules);
    // Only what the round asks about is kept.
    const extra = input.circumstances.filter((c) => !rules.circumstances.includes(c));
    if (extra.length) return fail("invalid", [{ key: E("circumstance") }]);
    const commune = await this.d.prisma.commune.findUnique({ where: { code: input.communeCode }, select: { code: true, provinceCode: true } });
    if (!commune) return fail("invalid", [{ key: E("commune") }]);
    const inPlace = (round.provinceCode === null || commune.provinceCode === round.provinceCode)
      && (rules.communeCodes.length === 0 || rules.communeCodes.includes(commune.code));
    const v = verdict(rules, round.provinceCode, {
      level: input.schoolLevel,
      grade: input.grade ?? undefined,
      place: inPlace ? "yes" : "no",
      circumstances: Object.fromEntries(rules.circumstances.map((c) => [c, input.circumstances.includes(c) ? "yes" : "no"])),
    });
    if (v.result === "no" || !inPlace) {
      const because: RuleOutcome[] = v.result === "no" ? v.because : [{ rule: "place", outcome: "fail" }];
      return fail("rules_not_met", [{ key: E("rules_not_met") }, ...because.map((b) => ruleError(b, rules))]);
    }
    let guardianName = input.guardianName ?? null;
    if (input.relationship === "parent") {
      // A parent is the guardian: their registered name when they have one.
      const citizen = await this.d.prisma.learningCitizen.findUnique({ where: { userId: BigInt(actor.id) }, select: { fullName: true } });
      guardianName = citizen?.fullName ?? guardianName;
    }
    if (!guardianName) return fail("invalid", [{ key: E("guardian_name") }]);
    const key = studentKey(input.studentName, input.birthYear);
    if (await this.d.prisma.nomination.findUnique({ where: { roundId_studentKey: { roundId, studentKey: key } }, select: { id: true } })) {
      return fail("duplicate", [{ key: E("duplicate"), params: { name: input.studentName, year: input.birthYear } }]);
    }
    try {
      const created = await this.d.prisma.$transaction(async (tx) => {
        // People who never registered have no user row yet: the nomination needs one.
        await tx.$executeRawUnsafe(`INSERT INTO users (telegram_id, updated_at) VALUES ($1::bigint, now()) ON CONFLICT DO NOTHING`, actor.id);
        return tx.nomination.create({
          data: {
            roundId, nominatorId: BigInt(actor.id), relationship: input.relationship, studentName: input.studentName, birthYear: input.birthYear,
            school: input.school, schoolLevel: input.schoolLevel, grade: input.grade ?? null, provinceCode: commune.provinceCode, communeCode: commune.code,
            circumstances: rules.circumstances.filter((c) => input.circumstances.includes(c)), guardianName, guardianConsentAt: now,
            studentKey: key, createdAt: now,
          },
          select: { id: true },
        });
      });
      const view = await this.viewRow(created.id);
      return { ok: true, nomination: view! };
    } catch (e) {
      // Two people nominating the same student at once: the second meets the unique index.
      if (isUniqueViolation(e)) return fail("duplicate", [{ key: E("duplicate"), params: { name: input.studentName, year: input.birthYear } }]);
      throw e;
    }
  }

  /** Refusals by the round's state and dates (the deadline ends with its day in Vietnam). */
  private phaseFailure(round: { state: string; opensOn: Date; deadlineOn: Date }): Failure | undefined {
    const phase = roundPhase(round, this.d.now());
    if (phase === "cancelled") return fail("cancelled");
    if (phase === "upcoming") return fail("not_open", [{ key: E("not_open"), params: { opens: formatDay(round.opensOn) } }]);
    if (phase === "closed") return fail("closed", [{ key: E("closed"), params: { deadline: formatDay(round.deadlineOn) } }]);
    return undefined;
  }

  // ---- the nominator --------------------------------------------------------------------------

  /** The person's nominations, newest first. */
  async mine(userId: string): Promise<MyNomination[]> {
    const rows = await this.d.prisma.nomination.findMany({
      where: { nominatorId: BigInt(userId) },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      select: { id: true, roundId: true, studentName: true, status: true, createdAt: true, round: { select: { programme: true, year: true } } },
    });
    return rows.map((r) => ({ id: r.id, roundId: r.roundId, programme: r.round.programme, roundYear: r.round.year, studentName: r.studentName, status: r.status, createdAt: r.createdAt }));
  }

  /** One of the person's own nominations (someone else's is not found). */
  async view(userId: string, id: number): Promise<{ ok: true; nomination: NominationView } | Failure> {
    const v = await this.viewRow(id);
    if (!v || v.nominatorId !== userId) return fail("not_found");
    return { ok: true, nomination: v };
  }

  /** Withdraws one of the person's nominations: the row is deleted (children's data is not kept), with any status notice still queued. */
  async withdraw(userId: string, id: number): Promise<{ ok: true; studentName: string; programme: string } | Failure> {
    return this.d.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<Array<{ student_name: string; round_id: number }>>(
        `DELETE FROM nominations WHERE id = $1 AND nominator_id = $2::bigint RETURNING student_name, round_id`, id, userId,
      );
      const row = rows[0];
      if (!row) return fail("not_found");
      await cancelStatusNotices(tx, [id], "nomination withdrawn");
      const round = await tx.scholarshipRound.findUnique({ where: { id: row.round_id }, select: { programme: true } });
      return { ok: true as const, studentName: row.student_name, programme: round?.programme ?? "" };
    });
  }

  // ---- the round's officers -------------------------------------------------------------------

  /** The round, if the actor runs it (read now: a revoked officer is refused at once). */
  private async managedRound(actor: Actor, roundId: number): Promise<{ ok: true; round: RoundSummary } | Failure> {
    if (actor.role !== "officer" && actor.role !== "admin") return fail("forbidden");
    const r = await this.d.prisma.scholarshipRound.findUnique({
      where: { id: roundId }, select: { id: true, programme: true, year: true, provinceCode: true, state: true, deadlineOn: true, awardOn: true },
    });
    if (!r) return fail("not_found", [{ key: E("round_not_found") }]);
    if (!canManageRound(actor, r)) {
      this.d.logger.warn({ round: roundId, user: actor.id }, "refused a round's nominations outside the caller's scope");
      return fail("forbidden");
    }
    return { ok: true, round: r };
  }

  /** A page of the round's nominations (commune, then name), with the count of each status. */
  async listForRound(actor: Actor, roundId: number, page = 0): Promise<NominationList | Failure> {
    const m = await this.managedRound(actor, roundId);
    if (!m.ok) return m;
    const counts = await this.d.prisma.nomination.groupBy({ by: ["status"], where: { roundId }, _count: { _all: true } });
    const byStatus = Object.fromEntries(NOMINATION_STATUSES.map((s) => [s, 0])) as Record<NominationStatusName, number>;
    for (const c of counts) byStatus[c.status] = c._count._all;
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    const pages = Math.max(1, Math.ceil(total / NOMINATION_PAGE_SIZE));
    const p = Math.min(Math.max(0, page), pages - 1);
    const rows = await this.d.prisma.$queryRawUnsafe<ViewRow[]>(
      `${VIEW_SELECT} WHERE n.round_id = $1 ORDER BY c.name NULLS LAST, n.student_name, n.id LIMIT ${NOMINATION_PAGE_SIZE} OFFSET ${p * NOMINATION_PAGE_SIZE}`, roundId,
    );
    return {
      ok: true, round: m.round, total, page: p, pages, byStatus,
      items: rows.map(toView).map((v) => ({ id: v.id, studentName: v.studentName, birthYear: v.birthYear, schoolLevel: v.schoolLevel, grade: v.grade, communeName: v.communeName, status: v.status })),
    };
  }

  /** One nomination, if the actor runs its round. */
  async viewAsOfficer(actor: Actor, id: number): Promise<{ ok: true; nomination: NominationView; round: RoundSummary } | Failure> {
    if (actor.role !== "officer" && actor.role !== "admin") return fail("forbidden");
    const v = await this.viewRow(id);
    if (!v) return fail("not_found");
    const m = await this.managedRound(actor, v.roundId);
    if (!m.ok) return m;
    return { ok: true, nomination: v, round: m.round };
  }

  /**
   * Sets a nomination's status (any order; nothing happens when it is unchanged) and queues the
   * nominator's notice as a ledger row in the same transaction, released after the commit.
   */
  async setStatus(actor: Actor, id: number, rawStatus: string): Promise<{ ok: true; changed: boolean; nomination: NominationView } | Failure> {
    const status = z.enum(NOMINATION_STATUSES).safeParse(rawStatus);
    if (!status.success) return fail("invalid", [{ key: E("status") }]);
    const found = await this.viewAsOfficer(actor, id);
    if (!found.ok) return found;
    if (found.round.state === "cancelled") return fail("cancelled");
    const now = this.d.now();
    const ref = nominationStatusRef(id, status.data, minuteOf(now));
    const changed = await this.d.prisma.$transaction(async (tx) => {
      // Two officers pressing at once: the row lock orders them, and the second sees the first's status.
      const rows = await tx.$queryRawUnsafe<Array<{ status: string; nominator_id: bigint | string }>>(
        `SELECT status::text AS status, nominator_id FROM nominations WHERE id = $1 FOR UPDATE`, id,
      );
      const row = rows[0];
      if (!row || row.status === status.data) return false;
      await tx.nomination.update({ where: { id }, data: { status: status.data, statusChangedAt: now } });
      await tx.$executeRawUnsafe(
        `INSERT INTO deliveries (kind, ref_id, chat_id, due_at) VALUES ($1, $2, $3::bigint, $4::timestamp) ON CONFLICT (kind, ref_id, chat_id) DO NOTHING`,
        NOMINATION_STATUS_KIND, ref, String(row.nominator_id), isoNoZ(now),
      );
      await audit(tx, actor, "nomination_status_set", { nominationId: id, roundId: found.round.id, status: status.data }, now);
      return true;
    });
    if (changed) await this.d.deliveries.release(NOMINATION_STATUS_KIND, ref, now);
    const view = await this.viewRow(id);
    if (!view) return fail("not_found");
    return { ok: true, changed, nomination: view };
  }

  /** How many nominations each commune sent (most first), in one query. */
  async countsByCommune(actor: Actor, roundId: number): Promise<{ ok: true; round: RoundSummary; communes: CommuneCount[]; total: number } | Failure> {
    const m = await this.managedRound(actor, roundId);
    if (!m.ok) return m;
    const communes = await this.communeCounts(roundId);
    return { ok: true, round: m.round, communes, total: communes.reduce((a, c) => a + c.count, 0) };
  }

  private async communeCounts(roundId: number): Promise<CommuneCount[]> {
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ commune_code: string; name: string | null; type: string | null; n: bigint | number }>>(
      `SELECT n.commune_code, c.name, c.type, count(*) AS n FROM nominations n LEFT JOIN communes c ON c.code = n.commune_code
        WHERE n.round_id = $1 GROUP BY n.commune_code, c.name, c.type ORDER BY count(*) DESC, c.name, n.commune_code`,
      roundId,
    );
    return rows.map((r) => ({ communeCode: r.commune_code, communeName: placeName(r.type, r.name ?? r.commune_code), count: Number(r.n) }));
  }

  /** Every nomination of the round, for the exports (commune, then name). */
  private async allOfRound(roundId: number): Promise<NominationView[]> {
    const rows = await this.d.prisma.$queryRawUnsafe<ViewRow[]>(`${VIEW_SELECT} WHERE n.round_id = $1 ORDER BY c.name NULLS LAST, n.student_name, n.id`, roundId);
    return rows.map(toView);
  }

  /** The round's nominations as CSV (RFC 4180), one row per nomination; audited. */
  async exportCsv(actor: Actor, roundId: number, t?: Translate): Promise<{ ok: true; round: RoundSummary; csv: string; rows: number } | Failure> {
    const m = await this.managedRound(actor, roundId);
    if (!m.ok) return m;
    const all = await this.allOfRound(roundId);
    const l = labels(t);
    const csv = toCsv([l.header, ...all.map((v) => exportRow(v, l).map((c) => (c === null ? "" : c)))]);
    await audit(this.d.prisma, actor, "nominations_exported", { roundId, format: "csv", rows: all.length }, this.d.now());
    return { ok: true, round: m.round, csv, rows: all.length };
  }

  /**
   * The round's nominations as an XLSX workbook: sheet "Đề cử" (one row per nomination) and
   * sheet "Theo xã" (counts by commune, with the total); audited.
   */
  async exportXlsx(actor: Actor, roundId: number, t?: Translate): Promise<{ ok: true; round: RoundSummary; xlsx: Buffer; rows: number } | Failure> {
    const m = await this.managedRound(actor, roundId);
    if (!m.ok) return m;
    const [all, communes] = await Promise.all([this.allOfRound(roundId), this.communeCounts(roundId)]);
    const l = labels(t);
    // Loaded on first use: exceljs is large, and most processes never write a workbook.
    const { default: ExcelJS } = await import("exceljs");
    const book = new ExcelJS.Workbook();
    book.created = this.d.now();
    const sheet = book.addWorksheet(l.sheetNominations);
    sheet.addRow(l.header).font = { bold: true };
    for (const v of all) sheet.addRow(exportRow(v, l));
    sheet.columns.forEach((c, i) => (c.width = [28, 10, 28, 16, 6, 24, 20, 30, 24, 18, 22, 12][i] ?? 14));
    sheet.views = [{ state: "frozen", ySplit: 1 }];
    const byCommune = book.addWorksheet(l.sheetCommunes);
    byCommune.addRow([l.commune, l.count]).font = { bold: true };
    for (const c of communes) byCommune.addRow([c.communeName, c.count]);
    byCommune.addRow([l.total, all.length]).font = { bold: true };
    byCommune.getColumn(1).width = 32;
    const xlsx = Buffer.from(await book.xlsx.writeBuffer());
    await audit(this.d.prisma, actor, "nominations_exported", { roundId, format: "xlsx", rows: all.length }, this.d.now());
    return { ok: true, round: m.round, xlsx, rows: all.length };
  }

  // ---- retention ------------------------------------------------------------------------------

  /**
   * Deletes nominations NOMINATION_RETENTION_DAYS after their round's award day (Vietnam's
   * calendar), or that long after the round was cancelled; one statement. Returns the count.
   */
  async purgeExpired(now: Date = this.d.now()): Promise<number> {
    const lastKeptAwardDay = addDays(vnDay(now), -NOMINATION_RETENTION_DAYS);
    const cancelledBefore = new Date(now.getTime() - NOMINATION_RETENTION_DAYS * 86_400_000);
    const n = await this.d.prisma.$executeRawUnsafe(
      `DELETE FROM nominations n USING scholarship_rounds r
        WHERE r.id = n.round_id
          AND (r.award_on <= $1::date OR (r.state = 'cancelled' AND coalesce(r.cancelled_at, r.updated_at) <= $2::timestamp))`,
      lastKeptAwardDay.toISOString().slice(0, 10), isoNoZ(cancelledBefore),
    );
    if (n > 0) this.d.logger.info({ purged: n }, "nominations past their retention deleted");
    return n;
  }

  // ---- personal data --------------------------------------------------------------------------

  /** The person's nominations as nominator: in /mydata; /deleteme withdraws and erases them. */
  dataParts(): PersonalDataPart[] {
    return [
      {
        key: "nominations",
        label: `${NS}:personal_data`,
        kind: "database",
        export: async (id) => {
          const rows = await this.d.prisma.nomination.findMany({
            where: { nominatorId: BigInt(id) },
            orderBy: { id: "asc" },
            select: {
              id: true, relationship: true, studentName: true, birthYear: true, school: true, schoolLevel: true, grade: true, provinceCode: true,
              communeCode: true, circumstances: true, guardianName: true, guardianConsentAt: true, status: true, statusChangedAt: true, createdAt: true,
              round: { select: { id: true, programme: true, year: true } },
            },
          });
          return rows.length ? toPlainJson(rows) : null;
        },
        exists: async (id) => (await this.d.prisma.nomination.count({ where: { nominatorId: BigInt(id) } })) > 0,
        erase: async (id, tx) => {
          const db: Db = tx ?? this.d.prisma;
          const rows = await db.$queryRawUnsafe<Array<{ id: number }>>(`DELETE FROM nominations WHERE nominator_id = $1::bigint RETURNING id`, id);
          await cancelStatusNotices(db, rows.map((r) => r.id), "erased");
          return rows.length > 0;
        },
      },
    ];
  }

  private async viewRow(id: number): Promise<NominationView | undefined> {
    const rows = await this.d.prisma.$queryRawUnsafe<ViewRow[]>(`${VIEW_SELECT} WHERE n.id = $1`, id);
    return rows[0] ? toView(rows[0]) : undefined;
  }
}

/** Status notices of these nominations still waiting to go: news about data that is gone. */
async function cancelStatusNotices(db: Db, ids: number[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  await db.$executeRawUnsafe(
    `UPDATE deliveries SET state = 'cancelled', error = $2, updated_at = now()
      WHERE kind = $1 AND state = 'queued' AND ref_id LIKE ANY($3::text[])`,
    NOMINATION_STATUS_KIND, reason, ids.map((id) => `shs.${id}.%`),
  );
}

function ruleError(b: RuleOutcome, rules: RoundRules): NominationError {
  // The rule by name: level, grade, place, one circumstance, or "any of" the circumstances.
  if (b.rule === "grade") return { key: E("rule_grade"), params: { min: rules.gradeMin ?? 1, max: rules.gradeMax ?? 12 } };
  return { key: E(`rule_${b.rule}`) };
}

function issues(error: z.ZodError): NominationError[] {
  const keys = [...new Set(error.issues.map((i) => (i.message.startsWith(`${NS}:`) ? i.message : E("invalid"))))];
  return keys.map((key) => ({ key }));
}

/** Who did what to which round's nominations: ids only, never a child's data. */
async function audit(db: Db, actor: Actor, action: string, detail: Record<string, unknown>, at: Date): Promise<void> {
  await db.auditLog.create({ data: { actorId: BigInt(actor.id), action, detail: detail as Prisma.InputJsonValue, at } });
}

const capitalize = (s: string) => s.charAt(0).toLocaleUpperCase("vi") + s.slice(1);
/** "Xã Lũng Cú" as documents write it (exports are in Vietnamese whatever the officer's language). */
function placeName(type: string | null, name: string): string {
  return type ? `${capitalize(type)} ${name}` : name;
}

/** Raw timestamp columns (UTC, without time zone) come back as a Date or an ISO string without "Z". */
function asUtc(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(value.endsWith("Z") ? value : value + "Z");
}

function toView(r: ViewRow): NominationView {
  return {
    id: r.id, roundId: r.round_id, programme: r.programme, roundYear: r.round_year, roundState: r.round_state, nominatorId: String(r.nominator_id),
    relationship: r.relationship as Relationship, studentName: r.student_name, birthYear: r.birth_year, school: r.school,
    schoolLevel: r.school_level as SchoolLevel, grade: r.grade, provinceCode: r.province_code, provinceName: r.province_name ?? r.province_code,
    communeCode: r.commune_code, communeName: placeName(r.commune_type, r.commune_name ?? r.commune_code),
    circumstances: (r.circumstances ?? []) as Circumstance[], guardianName: r.guardian_name, guardianConsentAt: asUtc(r.guardian_consent_at),
    status: r.status as NominationStatusName, statusChangedAt: r.status_changed_at ? asUtc(r.status_changed_at) : null, createdAt: asUtc(r.created_at),
  };
}

/** Vietnamese labels when no translator is given (the exports' default language). */
const VI: Record<string, string> = {
  "export.sheet_nominations": "Đề cử", "export.sheet_communes": "Theo xã", "export.student": "Học sinh", "export.birth_year": "Năm sinh",
  "export.school": "Trường", "export.level": "Cấp học", "export.grade": "Lớp", "export.commune": "Xã/phường", "export.province": "Tỉnh/thành",
  "export.circumstances": "Hoàn cảnh", "export.guardian": "Phụ huynh/người giám hộ", "export.relationship": "Người đề cử là", "export.status": "Trạng thái",
  "export.date": "Ngày đề cử", "export.count": "Số đề cử", "export.total": "Tổng cộng",
  "levels.primary": "Tiểu học", "levels.lower_secondary": "THCS", "levels.upper_secondary": "THPT", "levels.university": "Đại học, cao đẳng",
  "circumstances.poor": "Hộ nghèo", "circumstances.near_poor": "Hộ cận nghèo", "circumstances.border_commune": "Xã biên giới",
  "circumstances.orphan": "Mồ côi", "circumstances.soldier_child": "Con quân nhân",
  "relationships.parent": "Phụ huynh/người giám hộ", "relationships.member": "Hội viên", "relationships.officer": "Cán bộ",
  "statuses.received": "Đã tiếp nhận", "statuses.shortlisted": "Vào danh sách xét chọn", "statuses.awarded": "Được trao học bổng", "statuses.not_selected": "Không được chọn",
};

function labels(t?: Translate) {
  const l = (key: string) => (t ? t(`${NS}:${key}`) : VI[key] ?? key);
  return {
    l,
    sheetNominations: l("export.sheet_nominations"),
    sheetCommunes: l("export.sheet_communes"),
    commune: l("export.commune"),
    count: l("export.count"),
    total: l("export.total"),
    header: ["student", "birth_year", "school", "level", "grade", "commune", "province", "circumstances", "guardian", "relationship", "status", "date"].map((k) => l(`export.${k}`)),
  };
}

function exportRow(v: NominationView, { l }: ReturnType<typeof labels>): Array<string | number | null> {
  return [
    v.studentName, v.birthYear, v.school, l(`levels.${v.schoolLevel}`), v.grade, v.communeName, v.provinceName,
    v.circumstances.map((c) => l(`circumstances.${c}`)).join("; "), v.guardianName, l(`relationships.${v.relationship}`), l(`statuses.${v.status}`),
    formatDay(vnDay(v.createdAt)),
  ];
}
