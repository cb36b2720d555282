/*
 * Đơn vị học tập (learning units): a unit's head (or an officer of its place) sends a short
 * self-assessment against a checklist kept as data (prisma/seed/learning-unit-checklist.json,
 * validated at load, read again when the file changes); an officer of the unit's place approves it
 * or returns it with a reason; status and dates are recorded on the unit. The unit's heads are told
 * through the delivery engine ("learning_unit_decision", rendered in each head's language).
 */
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.js";
import { DEFAULT_LOCALE, escapeHtml as h, isLocale, type I18n } from "../../i18n.js";
import type { Logger } from "../../logger.js";
import type { DeliveryKind, DeliveryScheduler, RenderOutcome } from "../delivery/types.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";
import { vnParts } from "../time/vietnam-time.js";
import type { Access } from "../users/user-service.js";
import { unitPlaceInScope, type LearningStatus } from "./model.js";

export const LEARNING_UNIT_DECISION_KIND = "learning_unit_decision";
export const DEFAULT_CHECKLIST_FILE = fileURLToPath(new URL("../../../prisma/seed/learning-unit-checklist.json", import.meta.url));
export const RETURN_REASON = { min: 5, max: 500 } as const;
export const PENDING_PAGE_SIZE = 6;

/** What the bot can compute instead of asking: the share of the unit's people who registered as learning citizens. */
export const MEASURES = ["staff_learning_citizens"] as const;
export type Measure = (typeof MEASURES)[number];

const text = (max: number) => z.string().trim().min(1).max(max);
const both = (max: number) => z.object({ vi: text(max), en: text(max) }).strict();

export const checklistSchema = z.object({
  version: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/),
  note: both(2_000),
  criteriaDocuments: z.array(both(400).extend({ source: text(200) }).strict()).max(20).default([]),
  items: z.array(z.object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
    /** The button's label (a button shows about 40 characters). */
    short: both(40),
    vi: text(400),
    en: text(400),
    /** Where the item comes from: a decision, a fact of the fact sheet. */
    source: text(200),
    computed: z.object({ measure: z.enum(MEASURES), targetPercent: z.number().int().min(1).max(100) }).strict().optional(),
  }).strict()).min(1).max(20)
    .refine((items) => new Set(items.map((i) => i.id)).size === items.length, { message: "item ids must be unique" }),
}).strict();
export type Checklist = z.infer<typeof checklistSchema>;
export type ChecklistItem = Checklist["items"][number];

export class ChecklistFileError extends Error {
  constructor(readonly file: string, readonly issues: string[]) {
    super(`learning-unit checklist ${file} is not valid: ${issues.join("; ")}`);
    this.name = "ChecklistFileError";
  }
}

/** Parses and validates a checklist; throws ChecklistFileError naming each problem (path: message). */
export function parseChecklist(json: string, file = "(checklist)"): Checklist {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ChecklistFileError(file, [`not JSON: ${(e as Error).message}`]);
  }
  const parsed = checklistSchema.safeParse(raw);
  if (!parsed.success) throw new ChecklistFileError(file, parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  return parsed.data;
}

/**
 * The checklist file, read at start (an invalid file stops the start: better than a checklist
 * nobody can answer) and again whenever it changes on disk, so an admin edits it without a code
 * change or a restart. A later invalid edit keeps the last good checklist and is logged.
 */
export class LearningUnitChecklist {
  private loaded: { mtimeMs: number; checklist: Checklist };

  constructor(private readonly file: string = DEFAULT_CHECKLIST_FILE, private readonly logger?: Logger) {
    this.loaded = { mtimeMs: statSync(file).mtimeMs, checklist: parseChecklist(readFileSync(file, "utf8"), file) };
  }

  current(): Checklist {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.file).mtimeMs;
    } catch (err) {
      this.logger?.error({ err, file: this.file }, "learning-unit checklist unreadable; keeping the last good one");
      return this.loaded.checklist;
    }
    if (mtimeMs === this.loaded.mtimeMs) return this.loaded.checklist;
    try {
      this.loaded = { mtimeMs, checklist: parseChecklist(readFileSync(this.file, "utf8"), this.file) };
      this.logger?.info({ file: this.file, version: this.loaded.checklist.version }, "learning-unit checklist reloaded");
    } catch (err) {
      // Not retried until the file changes again.
      this.loaded = { ...this.loaded, mtimeMs };
      this.logger?.error({ err, file: this.file }, "learning-unit checklist invalid; keeping the last good one");
    }
    return this.loaded.checklist;
  }
}

/** Who acts: a unit's head needs no role; officers act in their place (unitPlaceInScope). */
export type LearningActor = Access & { id: string };

export interface LearningUnitView {
  id: number;
  name: string;
  provinceCode: string;
  communeCode: string;
  headcount: number;
  status: LearningStatus;
  requestedAt: Date | null;
  decidedAt: Date | null;
  returnReason: string | null;
  /** As sent (null before the first sending). */
  assessment: Assessment | null;
}

export interface Assessment {
  checklistVersion: string;
  answers: Record<string, boolean>;
  /** What computed items measured when it was sent. */
  measured?: { citizens: number; headcount: number };
}

export interface Measured {
  citizens: number;
  headcount: number;
}

export type LearningFailureReason =
  | "not_found"
  | "forbidden"
  /** An officer without a province (or commune) cannot see any place's units. */
  | "no_scope"
  | "pending"
  | "approved"
  | "not_pending"
  | "reason_length"
  /** An answer names an item the current checklist does not have: it changed meanwhile. */
  | "checklist_changed";
export type LearningFailure = { ok: false; reason: LearningFailureReason; unit?: LearningUnitView };
const fail = (reason: LearningFailureReason, unit?: LearningUnitView): LearningFailure => ({ ok: false, reason, unit });

export interface PendingUnit {
  id: number;
  name: string;
  provinceCode: string;
  communeCode: string;
  headcount: number;
  citizens: number;
  requestedAt: Date;
  /** Items ticked (computed ones included) of those answered. */
  ticked: number;
  answered: number;
}

export interface LearningUnitsDeps {
  prisma: PrismaClient;
  deliveries: Pick<DeliveryScheduler, "release">;
  checklist: LearningUnitChecklist;
  now: () => Date;
}

const isOfficer = (a: Access) => a.role === "admin" || a.role === "officer";
const seconds = (at: Date) => Math.floor(at.getTime() / 1000);
const isoNoZ = (at: Date) => at.toISOString().replace("Z", "");

export function decisionRef(unitId: number, decision: "approve" | "return", decidedAt: Date): string {
  return `lud.${unitId}.${decision === "approve" ? "a" : "r"}.${seconds(decidedAt)}`;
}

export function parseDecisionRef(ref: string): { unitId: number; status: "approved" | "returned"; stamp: number } | undefined {
  const m = /^lud\.(\d{1,9})\.([ar])\.(\d{1,12})$/.exec(ref);
  return m ? { unitId: Number(m[1]), status: m[2] === "a" ? "approved" : "returned", stamp: Number(m[3]) } : undefined;
}

/** Whether a computed item is met: the share reaches its target (nothing measured: not met). */
export function measureMet(item: ChecklistItem, measured: Measured): boolean {
  if (!item.computed || measured.headcount <= 0) return false;
  return measured.citizens * 100 >= item.computed.targetPercent * measured.headcount;
}

export class LearningUnits {
  constructor(private readonly d: LearningUnitsDeps) {}

  checklist(): Checklist {
    return this.d.checklist.current();
  }

  /** The live units this person heads, by name. */
  async headedUnits(userId: string): Promise<Array<{ id: number; name: string; status: LearningStatus }>> {
    const rows = await this.d.prisma.unit.findMany({
      where: { deletedAt: null, members: { some: { userId: BigInt(userId), role: "head" } } },
      select: { id: true, name: true, learningStatus: true },
      orderBy: [{ name: "asc" }, { id: "asc" }],
    });
    return rows.map((r) => ({ id: r.id, name: r.name, status: r.learningStatus as LearningStatus }));
  }

  /**
   * Opens the self-assessment: for one of the unit's heads or an officer of its place, while the
   * unit is neither waiting for a decision nor approved. Gives the checklist, what the bot measured
   * and the answers sent last time (a returned unit starts from them).
   */
  async start(actor: LearningActor, unitId: number): Promise<{ ok: true; unit: LearningUnitView; checklist: Checklist; measured: Measured; answers: Record<string, boolean> } | LearningFailure> {
    const found = await this.unitFor(actor, unitId);
    if (!found.ok) return found;
    const { unit } = found;
    if (unit.status === "pending" || unit.status === "approved") return fail(unit.status, unit);
    const checklist = this.checklist();
    const measured = await this.measure(unitId);
    const previous = unit.assessment?.answers ?? {};
    const answers = Object.fromEntries(checklist.items.map((i) => [i.id, i.computed ? measureMet(i, measured) : previous[i.id] === true]));
    return { ok: true, unit, checklist, measured, answers };
  }

  /**
   * Sends the self-assessment: answers for the checklist's ticked items (the rest count as not
   * met; computed items are measured here, whatever was sent). The unit waits for an officer.
   */
  async submit(actor: LearningActor, unitId: number, answers: Record<string, boolean>): Promise<{ ok: true; unit: LearningUnitView } | LearningFailure> {
    const found = await this.unitFor(actor, unitId);
    if (!found.ok) return found;
    if (found.unit.status === "pending" || found.unit.status === "approved") return fail(found.unit.status, found.unit);
    const checklist = this.checklist();
    const asked = new Set(checklist.items.filter((i) => !i.computed).map((i) => i.id));
    if (Object.keys(answers).some((id) => !asked.has(id) && !checklist.items.some((i) => i.id === id))) return fail("checklist_changed", found.unit);
    const measured = await this.measure(unitId);
    const assessment: Assessment = {
      checklistVersion: checklist.version,
      answers: Object.fromEntries(checklist.items.map((i) => [i.id, i.computed ? measureMet(i, measured) : answers[i.id] === true])),
      measured,
    };
    const now = this.d.now();
    const written = await this.d.prisma.$transaction(async (tx) => {
      // The status in the WHERE: two heads sending at once, the second finds it pending.
      const { count } = await tx.unit.updateMany({
        where: { id: unitId, deletedAt: null, learningStatus: { notIn: ["pending", "approved"] } },
        data: {
          learningStatus: "pending", learningAssessment: assessment as unknown as Prisma.InputJsonValue, learningRequestedAt: now,
          learningDecidedAt: null, learningDecidedById: null, learningReturnReason: null,
        },
      });
      if (count === 0) return false;
      await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "learning_unit_submitted", detail: { unitId, checklistVersion: checklist.version }, at: now } });
      return true;
    });
    const after = await this.view(unitId);
    if (!after) return fail("not_found");
    if (!written) return fail(after.status === "approved" ? "approved" : "pending", after);
    return { ok: true, unit: after };
  }

  /** Units of the officer's place waiting for a decision, oldest request first: one query. */
  async pending(actor: Access, page: number): Promise<{ ok: true; total: number; page: number; pages: number; items: PendingUnit[] } | LearningFailure> {
    if (!isOfficer(actor)) return fail("forbidden");
    const params: unknown[] = [];
    let where = "u.learning_status = 'pending' AND u.deleted_at IS NULL";
    if (actor.role !== "admin") {
      if (!actor.scope.provinceCode) return fail("no_scope");
      params.push(actor.scope.provinceCode);
      where += ` AND u.province_code = $${params.length}`;
      if (actor.scope.communeCode) {
        params.push(actor.scope.communeCode);
        where += ` AND u.commune_code = $${params.length}`;
      }
    }
    const p = Math.max(0, Math.min(page, 999));
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{
      id: number; name: string; province_code: string; commune_code: string; headcount: number; citizens: bigint | number;
      requested_ms: bigint | number; assessment: unknown; total: bigint | number;
    }>>(
      `SELECT u.id, u.name, u.province_code, u.commune_code, u.headcount,
              (SELECT count(*) FROM unit_members m JOIN learning_citizens c ON c.user_id = m.user_id WHERE m.unit_id = u.id) AS citizens,
              floor(extract(epoch FROM u.learning_requested_at) * 1000)::bigint AS requested_ms,
              u.learning_assessment AS assessment, count(*) OVER () AS total
         FROM units u WHERE ${where}
        ORDER BY u.learning_requested_at, u.id
        LIMIT ${PENDING_PAGE_SIZE} OFFSET ${p * PENDING_PAGE_SIZE}`,
      ...params,
    );
    const total = rows.length ? Number(rows[0]!.total) : 0;
    if (rows.length === 0 && p > 0) return this.pending(actor, 0);
    return {
      ok: true, total, page: p, pages: Math.max(1, Math.ceil(total / PENDING_PAGE_SIZE)),
      items: rows.map((r) => {
        const answers = Object.values(readAssessment(r.assessment)?.answers ?? {});
        return {
          id: r.id, name: r.name, provinceCode: r.province_code, communeCode: r.commune_code, headcount: r.headcount,
          citizens: Number(r.citizens), requestedAt: new Date(Number(r.requested_ms)), ticked: answers.filter(Boolean).length, answered: answers.length,
        };
      }),
    };
  }

  /** A unit as an officer of its place sees it before deciding. */
  async viewForOfficer(actor: Access, unitId: number): Promise<{ ok: true; unit: LearningUnitView; measured: Measured } | LearningFailure> {
    if (!isOfficer(actor)) return fail("forbidden");
    const unit = await this.view(unitId);
    if (!unit) return fail("not_found");
    if (!unitPlaceInScope(actor, unit)) return fail("forbidden");
    return { ok: true, unit, measured: await this.measure(unitId) };
  }

  /**
   * Approves or returns a unit waiting for a decision (officers of its place only; a return needs
   * a reason of 5–500 characters). The heads' notices are ledger rows of the same transaction,
   * released after the commit.
   */
  async decide(actor: LearningActor, unitId: number, decision: "approve" | "return", reason?: string): Promise<{ ok: true; unit: LearningUnitView; notified: number } | LearningFailure> {
    const found = await this.viewForOfficer(actor, unitId);
    if (!found.ok) return found;
    const why = decision === "return" ? (reason ?? "").normalize("NFC").replace(/[ \t]+/g, " ").trim() : null;
    if (why !== null && (why.length < RETURN_REASON.min || why.length > RETURN_REASON.max)) return fail("reason_length", found.unit);
    if (found.unit.status !== "pending") return fail("not_pending", found.unit);
    const now = this.d.now();
    const ref = decisionRef(unitId, decision, now);
    const notified = await this.d.prisma.$transaction(async (tx) => {
      const { count } = await tx.unit.updateMany({
        where: { id: unitId, deletedAt: null, learningStatus: "pending" },
        data: { learningStatus: decision === "approve" ? "approved" : "returned", learningDecidedAt: now, learningDecidedById: BigInt(actor.id), learningReturnReason: why },
      });
      if (count === 0) return undefined;
      const queued = await tx.$executeRawUnsafe(
        `INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
         SELECT $1, $2, m.user_id, $4::timestamp FROM unit_members m WHERE m.unit_id = $3 AND m.role = 'head'
         ON CONFLICT (kind, ref_id, chat_id) DO NOTHING`,
        LEARNING_UNIT_DECISION_KIND, ref, unitId, isoNoZ(now),
      );
      await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: `learning_unit_${decision === "approve" ? "approved" : "returned"}`, detail: { unitId }, at: now } });
      return queued;
    });
    const after = await this.view(unitId);
    if (!after) return fail("not_found");
    if (notified === undefined) return fail("not_pending", after);
    if (notified > 0) await this.d.deliveries.release(LEARNING_UNIT_DECISION_KIND, ref, now);
    return { ok: true, unit: after, notified };
  }

  /** A unit's learning-unit status and dates (nothing about who decided). */
  async status(unitId: number): Promise<Pick<LearningUnitView, "status" | "requestedAt" | "decidedAt" | "returnReason" | "assessment"> | undefined> {
    const unit = await this.view(unitId);
    if (!unit) return undefined;
    return { status: unit.status, requestedAt: unit.requestedAt, decidedAt: unit.decidedAt, returnReason: unit.returnReason, assessment: unit.assessment };
  }

  /** The registered learning citizens among the unit's members, and its headcount. */
  async measure(unitId: number): Promise<Measured> {
    const [citizens, unit] = await Promise.all([
      this.d.prisma.unitMember.count({ where: { unitId, user: { citizen: { isNot: null } } } }),
      this.d.prisma.unit.findUnique({ where: { id: unitId }, select: { headcount: true } }),
    ]);
    return { citizens, headcount: unit?.headcount ?? 0 };
  }

  /** Who decided which unit: exported on /mydata; erasure keeps the decision, drops the name. */
  dataParts(): PersonalDataPart[] {
    const prisma = this.d.prisma;
    return [{
      key: "learning_unit_decisions",
      label: "learning-units:personal_data",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.unit.findMany({
          where: { learningDecidedById: BigInt(id) }, orderBy: { id: "asc" },
          select: { id: true, name: true, learningStatus: true, learningDecidedAt: true, learningReturnReason: true },
        });
        return rows.length ? toPlainJson(rows.map((r) => ({ unitId: r.id, unit: r.name, status: r.learningStatus, decidedAt: r.learningDecidedAt, returnReason: r.learningReturnReason }))) : null;
      },
      exists: async (id) => (await prisma.unit.count({ where: { learningDecidedById: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).unit.updateMany({ where: { learningDecidedById: BigInt(id) }, data: { learningDecidedById: null } })).count > 0,
    }];
  }

  private async view(unitId: number): Promise<LearningUnitView | undefined> {
    const u = await this.d.prisma.unit.findUnique({ where: { id: unitId } });
    if (!u || u.deletedAt) return undefined;
    return {
      id: u.id, name: u.name, provinceCode: u.provinceCode, communeCode: u.communeCode, headcount: u.headcount,
      status: u.learningStatus as LearningStatus, requestedAt: u.learningRequestedAt, decidedAt: u.learningDecidedAt,
      returnReason: u.learningReturnReason, assessment: readAssessment(u.learningAssessment),
    };
  }

  /** The unit, if the actor is one of its heads or an officer of its place. */
  private async unitFor(actor: LearningActor, unitId: number): Promise<{ ok: true; unit: LearningUnitView } | LearningFailure> {
    const unit = await this.view(unitId);
    if (!unit) return fail("not_found");
    if (isOfficer(actor) && unitPlaceInScope(actor, unit)) return { ok: true, unit };
    const head = await this.d.prisma.unitMember.count({ where: { unitId, userId: BigInt(actor.id), role: "head" } });
    return head > 0 ? { ok: true, unit } : fail("forbidden");
  }
}

const assessmentSchema = z.object({
  checklistVersion: z.string(),
  answers: z.record(z.string(), z.boolean()),
  measured: z.object({ citizens: z.number(), headcount: z.number() }).optional(),
});

function readAssessment(json: unknown): Assessment | null {
  const parsed = assessmentSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

const two = (n: number) => String(n).padStart(2, "0");
/** "05/12/2026" in Vietnam's time zone. */
export function formatVnDate(at: Date): string {
  const p = vnParts(at);
  return `${two(p.day)}/${two(p.month)}/${p.year}`;
}

/**
 * "learning_unit_decision" (ref decisionRef), to each head of the unit: the officer's decision, in
 * the head's language. The batch's units are read in one query; a notice is skipped when the unit
 * was deleted, decided again since (the ref's time is not the unit's), or the person no longer heads it.
 */
export function learningUnitDecisionKind(d: { prisma: PrismaClient; i18n: I18n }): DeliveryKind {
  return {
    kind: LEARNING_UNIT_DECISION_KIND,
    priority: 2,
    async render(rows) {
      const out = new Map<string, RenderOutcome>();
      const parsed = rows.map((row) => ({ row, ref: parseDecisionRef(row.refId) }));
      const ids = [...new Set(parsed.flatMap((p) => (p.ref ? [p.ref.unitId] : [])))];
      const units = ids.length === 0 ? [] : await d.prisma.$queryRawUnsafe<Array<{
        id: number; name: string; status: string; decided_s: bigint | number | null; reason: string | null; deleted: boolean; heads: string[];
      }>>(
        `SELECT u.id, u.name, u.learning_status AS status, floor(extract(epoch FROM u.learning_decided_at))::bigint AS decided_s,
                u.learning_return_reason AS reason, (u.deleted_at IS NOT NULL) AS deleted,
                coalesce((SELECT array_agg(m.user_id::text) FROM unit_members m WHERE m.unit_id = u.id AND m.role = 'head'), '{}') AS heads
           FROM units u WHERE u.id = ANY($1::int[])`,
        ids,
      );
      const byId = new Map(units.map((u) => [u.id, u]));
      for (const { row, ref } of parsed) {
        const u = ref ? byId.get(ref.unitId) : undefined;
        if (!ref || !u || u.deleted) out.set(row.id, { skip: "unit gone" });
        else if (u.status !== ref.status || u.decided_s === null || Number(u.decided_s) !== ref.stamp) out.set(row.id, { skip: "decided again" });
        else if (!u.heads.includes(String(row.chatId))) out.set(row.id, { skip: "no longer a head" });
        else {
          const t = d.i18n.t(isLocale(row.locale) ? row.locale : DEFAULT_LOCALE);
          const values = { unit: h(u.name), date: formatVnDate(new Date(ref.stamp * 1000)), reason: h(u.reason ?? ""), interpolation: { escapeValue: false } };
          out.set(row.id, {
            method: "sendMessage",
            payload: { text: t(`learning-units:notice.${ref.status}`, values), parse_mode: "HTML", link_preview_options: { is_disabled: true } },
          });
        }
      }
      return out;
    },
  };
}
