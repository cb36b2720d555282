/**
 * The officers' side of scholarship rounds (issue 10): create, edit one group of fields, close
 * early, extend, cancel, list and view. Every method re-reads nothing from the caller but the
 * actor it is given and checks `canManageRound` itself, whatever the bot already checked: a forged
 * id for another province's round changes nothing. Date changes keep next_reminder_at (what the
 * reminders' tick reads) and cancel reminders queued for days that no longer hold; close, extend
 * and cancel queue one notice per subscriber and nominator through the delivery engine.
 */
import { z } from "zod";
import type { Prisma, PrismaClient, ScholarshipRound } from "../../generated/prisma/client.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";
import type { Access } from "../users/user-service.js";
import type { Logger } from "../../logger.js";
import {
  ROUND_BODIES, ROUND_LIMITS, ROUND_REMINDER_SLOTS, SCHOLARSHIP_NOTICE_KIND, SCHOLARSHIP_REMINDER_KIND, canManageRound, checkRoundDates,
  dayNumber, firstRoundReminderAt, formatDay, insertRoundNoticeRows, roundNoticeRef, roundPhase, roundReminderRef, roundRulesSchema, slotTime, vnDay,
  type Day, type RoundEvent, type RoundPhase, type RoundRules,
} from "./model.js";

export type Actor = Access & { id: string };

const NS = "scholarship-admin";
const E = (key: string) => `${NS}:errors.${key}`;
/** Rounds listed per page of /scholarships_admin. */
export const ROUND_PAGE_SIZE = 5;
const TEXT_MIN = 3;

// The validators, shared with the conversations (messages are i18n keys).
export const programmeSchema = z.string().trim().min(TEXT_MIN, E("programme_length")).max(ROUND_LIMITS.programmeMax, E("programme_length"));
export const yearSchema = z.number({ message: E("year") }).int(E("year")).min(2000, E("year")).max(2100, E("year"));
export const bodySchema = z.enum(ROUND_BODIES, { message: E("body") });
export const eligibilitySchema = z.string().trim().min(TEXT_MIN, E("eligibility_length")).max(ROUND_LIMITS.eligibilityMax, E("eligibility_length"));
export const howToApplySchema = z.string().trim().min(TEXT_MIN, E("apply_length")).max(ROUND_LIMITS.howToApplyMax, E("apply_length"));
export const contactSchema = z.string().trim().min(TEXT_MIN, E("contact_length")).max(ROUND_LIMITS.contactMax, E("contact_length"));
export const awardValueSchema = z.number({ message: E("award_value") }).int(E("award_value")).min(1_000, E("award_value")).max(ROUND_LIMITS.awardValueMax, E("award_value"));
export const awardCountSchema = z.number({ message: E("award_count") }).int(E("award_count")).min(1, E("award_count")).max(ROUND_LIMITS.awardCountMax, E("award_count"));
const provinceSchema = z.string().regex(/^\d{2}$/, E("province"));

/** A calendar day: a DATE value (UTC midnight) or "YYYY-MM-DD" (conversation state is JSON). */
export const daySchema = z
  .union([z.date(), z.string().regex(/^\d{4}-\d{2}-\d{2}$/)], { message: E("day") })
  .transform((v) => (typeof v === "string" ? new Date(`${v}T00:00:00Z`) : v))
  .refine((d) => Number.isFinite(d.getTime()) && d.getTime() % 86_400_000 === 0, E("day"));

/** "2026-12-20": how a day travels through conversation state. */
export function dayKey(day: Day): string {
  return day.toISOString().slice(0, 10);
}

export const createInput = z.object({
  programme: programmeSchema,
  year: yearSchema,
  organiserBody: bodySchema,
  provinceCode: provinceSchema.nullable(),
  eligibility: eligibilitySchema,
  rules: roundRulesSchema,
  awardValueVnd: awardValueSchema.nullish(),
  awardCount: awardCountSchema.nullish(),
  opensOn: daySchema,
  deadlineOn: daySchema,
  awardOn: daySchema,
  howToApply: howToApplySchema,
  contact: contactSchema,
});
export type CreateRoundInput = z.input<typeof createInput>;

/** What ROUND_EDIT_FLOW changes, one group at a time (any combination is accepted here). */
export const patchInput = z
  .object({
    programme: programmeSchema,
    year: yearSchema,
    organiserBody: bodySchema,
    provinceCode: provinceSchema.nullable(),
    eligibility: eligibilitySchema,
    rules: roundRulesSchema,
    awardValueVnd: awardValueSchema.nullable(),
    awardCount: awardCountSchema.nullable(),
    opensOn: daySchema,
    deadlineOn: daySchema,
    awardOn: daySchema,
    howToApply: howToApplySchema,
    contact: contactSchema,
  })
  .partial()
  .strict();
export type RoundPatch = z.input<typeof patchInput>;

export interface RoundError {
  key: string;
  params?: Record<string, string | number>;
}

export type RoundFailReason =
  | "forbidden" | "not_found" | "invalid" | "cancelled" | "already_closed" | "not_later" | "too_far"
  | "deadline_before_open" | "award_before_deadline" | "deadline_past";

export interface RoundFailure {
  ok: false;
  reason: RoundFailReason;
  errors: RoundError[];
}

const fail = (reason: RoundFailReason, errors?: RoundError[]): RoundFailure => ({
  ok: false, reason, errors: errors ?? [{ key: reason === "forbidden" ? "common:errors.forbidden" : E(reason) }],
});

export interface RoundView {
  round: ScholarshipRound;
  rules: RoundRules;
  phase: RoundPhase;
  subscribers: number;
  nominations: number;
}

export interface RoundChange {
  ok: true;
  round: ScholarshipRound;
  /** People told (subscribers and nominators), when the change sent a notice. */
  notified: number;
  /** The change counted as an extension (a later deadline). */
  extended: boolean;
}

export interface RoundServiceDeps {
  prisma: PrismaClient;
  deliveries: DeliveryScheduler;
  now: () => Date;
  logger?: Logger;
}

type Tx = Prisma.TransactionClient;
const minuteOf = (d: Date) => Math.floor(d.getTime() / 60_000);

/** Officers who may run rounds at all: admins, and officers of a whole province. */
function mayRunRounds(a: Access): boolean {
  return a.role === "admin" || (a.role === "officer" && Boolean(a.scope.provinceCode) && !a.scope.communeCode);
}

export class RoundService {
  constructor(private readonly d: RoundServiceDeps) {}

  /** Stores a new round in the actor's province (or nationwide, admins only), with its first reminder time. */
  async create(actor: Actor, raw: unknown): Promise<{ ok: true; round: ScholarshipRound } | RoundFailure> {
    if (!mayRunRounds(actor)) return this.refuse(actor, undefined);
    const parsed = createInput.safeParse(raw);
    if (!parsed.success) return fail("invalid", issues(parsed.error));
    const input = parsed.data;
    if (!canManageRound(actor, { provinceCode: input.provinceCode })) return this.refuse(actor, undefined);
    if (input.provinceCode && !(await this.d.prisma.province.findUnique({ where: { code: input.provinceCode }, select: { code: true } }))) {
      return fail("invalid", [{ key: E("province") }]);
    }
    const now = this.d.now();
    const dates = this.checkDates(input, now, true);
    if (dates) return dates;
    const yearError = this.checkYear(input.year, now);
    if (yearError) return yearError;
    const round = await this.d.prisma.$transaction(async (tx) => {
      const created = await tx.scholarshipRound.create({
        data: {
          programme: input.programme,
          year: input.year,
          organiserBody: input.organiserBody,
          provinceCode: input.provinceCode,
          eligibility: input.eligibility,
          rules: input.rules as Prisma.InputJsonValue,
          awardValueVnd: input.awardValueVnd == null ? null : BigInt(input.awardValueVnd),
          awardCount: input.awardCount ?? null,
          opensOn: input.opensOn,
          deadlineOn: input.deadlineOn,
          awardOn: input.awardOn,
          howToApply: input.howToApply,
          contact: input.contact,
          nextReminderAt: firstRoundReminderAt(input, now),
          createdById: BigInt(actor.id),
          createdAt: now,
        },
      });
      await audit(tx, actor, "scholarship_round_created", { roundId: created.id, provinceCode: created.provinceCode }, now);
      return created;
    });
    return { ok: true, round };
  }

  /** A round with its phase and how many follow it, if the actor manages it. */
  async get(actor: Actor, id: number): Promise<({ ok: true } & RoundView) | RoundFailure> {
    if (!mayRunRounds(actor)) return this.refuse(actor, id);
    const row = await this.d.prisma.scholarshipRound.findUnique({ where: { id }, include: { _count: { select: { subscriptions: true, nominations: true } } } });
    if (!row) return fail("not_found");
    if (!canManageRound(actor, row)) return this.refuse(actor, id);
    const { _count, ...round } = row;
    return { ok: true, ...this.view(round, _count.subscriptions, _count.nominations) };
  }

  /** The rounds the actor manages, latest deadline first, with phase and counts (one query a page). */
  async list(actor: Actor, page = 0): Promise<{ ok: true; items: RoundView[]; total: number; page: number; pages: number } | RoundFailure> {
    if (!mayRunRounds(actor)) return this.refuse(actor, undefined);
    const where: Prisma.ScholarshipRoundWhereInput = actor.role === "admin" ? {} : { provinceCode: actor.scope.provinceCode! };
    const total = await this.d.prisma.scholarshipRound.count({ where });
    const pages = Math.max(1, Math.ceil(total / ROUND_PAGE_SIZE));
    const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
    const rows = await this.d.prisma.scholarshipRound.findMany({
      where, orderBy: [{ deadlineOn: "desc" }, { id: "desc" }], skip: p * ROUND_PAGE_SIZE, take: ROUND_PAGE_SIZE,
      include: { _count: { select: { subscriptions: true, nominations: true } } },
    });
    return { ok: true, total, page: p, pages, items: rows.map(({ _count, ...r }) => this.view(r, _count.subscriptions, _count.nominations)) };
  }

  /**
   * Changes one group of fields. New dates recompute next_reminder_at and cancel the reminders
   * queued for days that no longer hold, in the same transaction; a later deadline is an
   * extension (it reopens a round closed early, and subscribers and nominators are told).
   */
  async update(actor: Actor, id: number, rawPatch: unknown): Promise<RoundChange | RoundFailure> {
    const parsed = patchInput.safeParse(rawPatch);
    if (!parsed.success) return fail("invalid", issues(parsed.error));
    const p = parsed.data;
    if (Object.keys(p).length === 0) return fail("invalid", [{ key: E("invalid") }]);
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    if (p.provinceCode !== undefined) {
      // Moving a round needs the right to run it where it goes too.
      if (!canManageRound(actor, { provinceCode: p.provinceCode })) return this.refuse(actor, id);
      if (p.provinceCode && !(await this.d.prisma.province.findUnique({ where: { code: p.provinceCode }, select: { code: true } }))) {
        return fail("invalid", [{ key: E("province") }]);
      }
    }
    if (p.year !== undefined) {
      const yearError = this.checkYear(p.year, this.d.now());
      if (yearError) return yearError;
    }
    const now = this.d.now();
    let ref: string | undefined;
    const result = await this.d.prisma.$transaction(async (tx): Promise<RoundChange | RoundFailure> => {
      const r = await lockRound(tx, id);
      if (!r) return fail("not_found");
      if (r.state === "cancelled") return fail("cancelled");
      const next = { opensOn: p.opensOn ?? r.opensOn, deadlineOn: p.deadlineOn ?? r.deadlineOn, awardOn: p.awardOn ?? r.awardOn };
      const datesChanged = !(sameDay(next.opensOn, r.opensOn) && sameDay(next.deadlineOn, r.deadlineOn) && sameDay(next.awardOn, r.awardOn));
      const data: Prisma.ScholarshipRoundUpdateInput = {};
      if (p.programme !== undefined) data.programme = p.programme;
      if (p.year !== undefined) data.year = p.year;
      if (p.organiserBody !== undefined) data.organiserBody = p.organiserBody;
      if (p.provinceCode !== undefined) data.provinceCode = p.provinceCode;
      if (p.eligibility !== undefined) data.eligibility = p.eligibility;
      if (p.rules !== undefined) data.rules = p.rules as Prisma.InputJsonValue;
      if (p.awardValueVnd !== undefined) data.awardValueVnd = p.awardValueVnd === null ? null : BigInt(p.awardValueVnd);
      if (p.awardCount !== undefined) data.awardCount = p.awardCount;
      if (p.howToApply !== undefined) data.howToApply = p.howToApply;
      if (p.contact !== undefined) data.contact = p.contact;
      let extended = false;
      if (datesChanged) {
        const refused = this.checkDates(next, now, !sameDay(next.deadlineOn, r.deadlineOn));
        if (refused) return refused;
        extended = next.deadlineOn.getTime() > r.deadlineOn.getTime();
        data.opensOn = next.opensOn;
        data.deadlineOn = next.deadlineOn;
        data.awardOn = next.awardOn;
        if (extended && r.state === "closed") {
          data.state = "active";
          data.closedAt = null;
        }
        const open = r.state === "active" || extended;
        data.nextReminderAt = open ? firstRoundReminderAt(next, now) : null;
        await cancelStaleReminders(tx, id, open ? next : undefined);
      }
      const round = await tx.scholarshipRound.update({ where: { id }, data });
      let notified = 0;
      if (extended) {
        ref = roundNoticeRef(id, "extended", dayNumber(next.deadlineOn));
        notified = await this.notice(tx, id, ref, now);
      }
      await audit(tx, actor, "scholarship_round_updated", { roundId: id, fields: Object.keys(p) }, now);
      return { ok: true, round, notified, extended };
    });
    if (result.ok && ref) await this.d.deliveries.release(SCHOLARSHIP_NOTICE_KIND, ref, now);
    return result;
  }

  /** Closes a round before its deadline: no more nominations, no more reminders; everyone following it is told. */
  async close(actor: Actor, id: number): Promise<RoundChange | RoundFailure> {
    return this.event(actor, id, "closed", async (_tx, r, now) => {
      if (roundPhase(r, now) === "closed") return fail("already_closed");
      return { state: "closed", closedAt: now, nextReminderAt: null };
    });
  }

  /**
   * A later deadline (not past): reopens a round closed early, reschedules its reminders and tells
   * everyone following it. A deadline after the award day needs a new award day too.
   */
  async extend(actor: Actor, id: number, rawDeadline: unknown, rawAward?: unknown): Promise<RoundChange | RoundFailure> {
    const deadline = daySchema.safeParse(rawDeadline);
    if (!deadline.success) return fail("invalid", issues(deadline.error));
    const award = rawAward === undefined || rawAward === null ? undefined : daySchema.safeParse(rawAward);
    if (award && !award.success) return fail("invalid", issues(award.error));
    const deadlineOn = deadline.data;
    return this.event(actor, id, "extended", async (tx, r, now) => {
      if (deadlineOn.getTime() <= r.deadlineOn.getTime()) return fail("not_later", [{ key: E("not_later"), params: { day: formatDay(r.deadlineOn) } }]);
      const next = { opensOn: r.opensOn, deadlineOn, awardOn: award?.data ?? r.awardOn };
      const refused = this.checkDates(next, now, true);
      if (refused) return refused;
      await cancelStaleReminders(tx, id, next);
      return { state: "active", closedAt: null, deadlineOn, awardOn: next.awardOn, nextReminderAt: firstRoundReminderAt(next, now) };
    }, dayNumber(deadlineOn));
  }

  /** Cancels a round for good: reminders and notices still queued are dropped; everyone following it is told. */
  async cancel(actor: Actor, id: number): Promise<RoundChange | RoundFailure> {
    return this.event(actor, id, "cancelled", async (tx, _r, now) => {
      // An extension or closing still waiting to be told is news of a round that no longer runs.
      await tx.$executeRawUnsafe(
        `UPDATE deliveries SET state = 'cancelled', error = 'round cancelled', updated_at = now()
          WHERE kind = $1 AND ref_id LIKE $2 AND state = 'queued'`,
        SCHOLARSHIP_NOTICE_KIND, `shn.${id}.%`,
      );
      return { state: "cancelled", cancelledAt: now, nextReminderAt: null };
    });
  }

  /** Close, extend, cancel: under the round's lock, one notice per person, released after the commit. */
  private async event(
    actor: Actor, id: number, event: RoundEvent,
    change: (tx: Tx, r: ScholarshipRound, now: Date) => Promise<Prisma.ScholarshipRoundUpdateInput | RoundFailure>,
    stamp?: number,
  ): Promise<RoundChange | RoundFailure> {
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    const now = this.d.now();
    const ref = roundNoticeRef(id, event, stamp ?? minuteOf(now));
    const result = await this.d.prisma.$transaction(async (tx): Promise<RoundChange | RoundFailure> => {
      const r = await lockRound(tx, id);
      if (!r) return fail("not_found");
      if (r.state === "cancelled") return fail("cancelled");
      const data = await change(tx, r, now);
      if ("ok" in data && data.ok === false) return data as RoundFailure;
      if (event !== "extended") await cancelStaleReminders(tx, id, undefined);
      const round = await tx.scholarshipRound.update({ where: { id }, data: data as Prisma.ScholarshipRoundUpdateInput });
      const notified = await this.notice(tx, id, ref, now);
      await audit(tx, actor, `scholarship_round_${event}`, { roundId: id }, now);
      return { ok: true, round, notified, extended: event === "extended" };
    });
    if (result.ok) await this.d.deliveries.release(SCHOLARSHIP_NOTICE_KIND, ref, now);
    return result;
  }

  private async notice(tx: Tx, id: number, ref: string, now: Date): Promise<number> {
    await insertRoundNoticeRows(tx, id, ref, now);
    // Counted from the ledger: a second attempt of the same notice adds no row but still reaches the same people.
    return tx.delivery.count({ where: { kind: SCHOLARSHIP_NOTICE_KIND, refId: ref } });
  }

  private view(round: ScholarshipRound, subscribers: number, nominations: number): RoundView {
    return { round, rules: roundRulesSchema.parse(round.rules ?? {}), phase: roundPhase(round, this.d.now()), subscribers, nominations };
  }

  private checkDates(d: { opensOn: Day; deadlineOn: Day; awardOn: Day }, now: Date, deadlineMoved: boolean): RoundFailure | undefined {
    const limit = vnDay(now).getUTCFullYear() + ROUND_LIMITS.yearsAhead;
    if ([d.opensOn, d.deadlineOn, d.awardOn].some((x) => x.getUTCFullYear() > limit)) return fail("too_far");
    const error = checkRoundDates(d, now);
    // An award day fixed after the deadline passed is fine; only a new deadline must lie ahead.
    if (error === "deadline_past" && !deadlineMoved) return undefined;
    return error ? fail(error) : undefined;
  }

  private checkYear(year: number, now: Date): RoundFailure | undefined {
    const y = vnDay(now).getUTCFullYear();
    return year < y - 1 || year > y + ROUND_LIMITS.yearsAhead ? fail("invalid", [{ key: E("year") }]) : undefined;
  }

  private refuse(actor: Actor, roundId: number | undefined): RoundFailure {
    this.d.logger?.warn({ user: actor.id, round: roundId }, "refused a scholarship round action outside the caller's scope");
    return fail("forbidden");
  }
}

/** The same row lock for every change: two officers' edits never interleave. */
async function lockRound(tx: Tx, id: number): Promise<ScholarshipRound | null> {
  await tx.$queryRawUnsafe(`SELECT id FROM scholarship_rounds WHERE id = $1 FOR UPDATE`, id);
  return tx.scholarshipRound.findUnique({ where: { id } });
}

const STALE = "round dates changed";

/**
 * Cancels the queued reminders of a round whose day no longer holds (all of them when the round
 * stops: `next` undefined). Reminders of days that still hold stay queued; those cancelled by an
 * earlier change to exactly these days are forgotten, so the reminders' tick queues them again
 * (the ledger keeps one row per ref and person).
 */
async function cancelStaleReminders(tx: Tx, id: number, next: { opensOn: Day; deadlineOn: Day } | undefined): Promise<void> {
  const keep = next ? ROUND_REMINDER_SLOTS.map((s) => roundReminderRef(id, s, slotTime(s, next).aboutDay)) : [];
  await tx.$executeRawUnsafe(
    `UPDATE deliveries SET state = 'cancelled', error = $4, updated_at = now()
      WHERE kind = $1 AND ref_id LIKE $2 AND state = 'queued' AND NOT (ref_id = ANY($3::text[]))`,
    SCHOLARSHIP_REMINDER_KIND, `shr.${id}.%`, keep, next ? STALE : "round stopped",
  );
  if (keep.length) {
    await tx.$executeRawUnsafe(
      `DELETE FROM deliveries WHERE kind = $1 AND ref_id = ANY($2::text[]) AND state = 'cancelled' AND error = $3`,
      SCHOLARSHIP_REMINDER_KIND, keep, STALE,
    );
  }
}

function sameDay(a: Day, b: Day): boolean {
  return a.getTime() === b.getTime();
}


/** Who did what to which round: ids only. */
async function audit(db: Tx, actor: Actor, action: string, detail: Record<string, unknown>, at: Date): Promise<void> {
  await db.auditLog.create({ data: { actorId: BigInt(actor.id), action, detail: detail as Prisma.InputJsonValue, at } });
}

function issues(error: z.ZodError): RoundError[] {
  const keys = [...new Set(error.issues.map((i) => (i.message.startsWith(`${NS}:`) ? i.message : i.message === "grade_range" ? E("grade_range") : E("invalid"))))];
  return keys.map((key) => ({ key }));
}

/** Rounds an officer created: in their /mydata; erasure keeps the rounds (families follow them), drops the creator. */
export function roundAuthorDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "scholarship_rounds",
      label: `${NS}:personal_data`,
      kind: "database",
      export: async (id) => {
        const rows = await prisma.scholarshipRound.findMany({
          where: { createdById: BigInt(id) }, orderBy: { id: "asc" },
          select: { id: true, programme: true, year: true, provinceCode: true, deadlineOn: true, createdAt: true },
        });
        return rows.length ? toPlainJson(rows) : null;
      },
      exists: async (id) => (await prisma.scholarshipRound.count({ where: { createdById: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).scholarshipRound.updateMany({ where: { createdById: BigInt(id) }, data: { createdById: null } })).count > 0,
    },
  ];
}
