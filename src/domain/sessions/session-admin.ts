/**
 * The officers' side of sessions: create, edit, move, cancel, the check-in token, figures and the
 * attendance list. Officers act in their province (or commune), admins anywhere; every method
 * checks role and scope itself, whatever the caller already checked. Seat changes run under the
 * session row's lock (the one sign-ups take), and every notice goes through the delivery engine.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { LearningSession, Prisma, PrismaClient } from "../../generated/prisma/client.js";
import { toCsv } from "../broadcasts/csv.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import { searchForm } from "../geo/normalize.js";
import type { Access } from "../users/user-service.js";
import { vnParts } from "../time/vietnam-time.js";
import {
  ORGANISER_BODIES, SESSION_LIMITS, SESSION_NOTICE_KIND, SESSION_REMINDER_KIND, SESSION_TOPICS, firstReminderAt, insertNoticeRows,
  noticeRef, placeInScope, refreshCenterUpcoming,
} from "./model.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";
import { cancelQueuedReminders } from "./reminders.js";
import type { SessionSignups } from "./signups.js";

export type Actor = Access & { id: string };

const E = (key: string) => `session-admin:errors.${key}`;
export const TITLE_MIN = 3;
/** Sessions and centres listed per page. */
export const LIST_PAGE_SIZE = 5;
export const CENTER_PAGE_SIZE = 8;

// The validators, shared with the conversations (messages are i18n keys).
export const titleSchema = z.string().trim().min(TITLE_MIN, E("title_length")).max(SESSION_LIMITS.titleMax, E("title_length"));
export const topicSchema = z.enum(SESSION_TOPICS, { message: E("topic") });
export const durationSchema = z
  .number({ message: E("duration") })
  .int(E("duration"))
  .min(SESSION_LIMITS.durationMinMin, E("duration"))
  .max(SESSION_LIMITS.durationMinMax, E("duration"));
export const capacitySchema = z
  .number({ message: E("capacity") })
  .int(E("capacity"))
  .min(SESSION_LIMITS.capacityMin, E("capacity"))
  .max(SESSION_LIMITS.capacityMax, E("capacity"));
export const speakerSchema = z.string().trim().min(2, E("speaker_length")).max(SESSION_LIMITS.speakerMax, E("speaker_length"));
export const descriptionSchema = z.string().trim().min(2, E("description_length")).max(SESSION_LIMITS.descriptionMax, E("description_length"));
export const organiserSchema = z.enum(ORGANISER_BODIES, { message: E("organiser") });
const startsAtSchema = z.coerce.date({ message: E("bad_time") }).refine((d) => Number.isFinite(d.getTime()), E("bad_time"));

/** A duration as people type it: "90", "90 phút", "1h30", "1 giờ 30", "1,5 giờ", "2h", "2 tiếng". */
export function parseDurationText(text: string): number | undefined {
  const s = text.normalize("NFD").replace(/\p{M}/gu, "").replace(/[đĐ]/g, "d").toLowerCase().trim().replace(/\s+/g, " ");
  const HOURS = "(?:h|g|gio|tieng|hours?|hrs?)";
  const MINUTES = "(?:p|ph|phut|m|min|mins|minutes?)";
  let m = new RegExp(`^(\\d{1,2})[.,](\\d) ?${HOURS}$`).exec(s);
  if (m) return Number(m[1]) * 60 + Number(m[2]) * 6;
  m = new RegExp(`^(\\d{1,4}) ?${MINUTES}?$`).exec(s);
  if (m) return Number(m[1]);
  m = new RegExp(`^(\\d{1,2}) ?${HOURS}(?: ?(\\d{1,2}) ?${MINUTES}?)?$`).exec(s);
  if (m) return Number(m[1]) * 60 + (m[2] ? Number(m[2]) : 0);
  return undefined;
}

/** Typed duration → minutes, 15 min to 8 h. */
export const durationText = z.string().transform((s, ctx) => {
  const minutes = parseDurationText(s);
  const r = durationSchema.safeParse(minutes ?? NaN);
  if (minutes === undefined || !r.success) {
    ctx.addIssue({ code: "custom", message: minutes === undefined ? E("duration_format") : E("duration") });
    return z.NEVER;
  }
  return r.data;
});

/** Typed number of seats. */
export const capacityText = z.string().transform((s, ctx) => {
  const t = s.trim().replace(/[\s.,](?=\d{3}\b)/g, "");
  const r = capacitySchema.safeParse(/^\d{1,6}$/.test(t) ? Number(t) : NaN);
  if (!r.success) {
    ctx.addIssue({ code: "custom", message: E("capacity") });
    return z.NEVER;
  }
  return r.data;
});

export const createInput = z.object({
  centerId: z.number({ message: E("center") }).int(E("center")).positive(E("center")),
  title: titleSchema,
  topic: topicSchema,
  startsAt: startsAtSchema,
  durationMin: durationSchema,
  capacity: capacitySchema,
  speaker: speakerSchema.nullish(),
  organiserBody: organiserSchema.nullish(),
  description: descriptionSchema.nullish(),
});
export type CreateInput = z.input<typeof createInput>;

export const patchInput = z
  .object({
    title: titleSchema,
    topic: topicSchema,
    startsAt: startsAtSchema,
    durationMin: durationSchema,
    capacity: capacitySchema,
    speaker: speakerSchema.nullable(),
    organiserBody: organiserSchema.nullable(),
    description: descriptionSchema.nullable(),
  })
  .partial()
  .strict();
export type SessionPatch = z.input<typeof patchInput>;
export type PatchField = keyof SessionPatch;

export interface SessionError {
  key: string;
  params?: Record<string, string | number>;
}

export type FailReason = "forbidden" | "not_found" | "invalid" | "cancelled" | "already_cancelled" | "started" | "ended";
/** A refusal with what to tell the officer (i18n keys). */
export interface Failure {
  ok: false;
  reason: FailReason;
  errors: SessionError[];
}

const fail = (reason: FailReason, errors: SessionError[] = [{ key: reason === "forbidden" ? "common:errors.forbidden" : E(reason) }]): Failure => ({ ok: false, reason, errors });

export interface SessionView {
  session: LearningSession;
  center: { id: number; name: string; address: string; provinceCode: string; communeCode: string; demo: boolean };
}

export interface SessionStats {
  confirmed: number;
  waiting: number;
  attended: number;
  walkIns: number;
  capacity: number;
}

export interface SessionListItem {
  id: number;
  title: string;
  topic: string;
  startsAt: Date;
  durationMin: number;
  state: "scheduled" | "cancelled";
  capacity: number;
  confirmed: number;
  waiting: number;
  centerName: string;
}

export interface CenterChoice {
  id: number;
  name: string;
  communeCode: string;
}

export interface UpdateResult {
  ok: true;
  session: LearningSession;
  /** People moved from the waiting list into seats by a raised capacity. */
  promoted: number;
  /** People told the session moved. */
  notified: number;
  moved: boolean;
}

export interface SessionAdminDeps {
  prisma: PrismaClient;
  deliveries: DeliveryScheduler;
  signups: SessionSignups;
  now: () => Date;
}

/** Labels of the attendance CSV; the bot passes its translator, tests may pass nothing. */
export type Translate = (key: string, params?: Record<string, unknown>) => string;

type Tx = Prisma.TransactionClient;

interface LockedRow {
  id: number;
  state: "scheduled" | "cancelled";
  starts_at: Date;
  duration_min: number;
  capacity: number;
  confirmed_count: number;
  center_id: number;
}

const isOfficer = (a: Access) => a.role === "officer" || a.role === "admin";
const minuteOf = (d: Date) => Math.floor(d.getTime() / 60_000);

export class SessionAdmin {
  constructor(private readonly d: SessionAdminDeps) {}

  /** Centres the actor may hold sessions at, by name; `query` matches names without diacritics. */
  async centersInScope(actor: Actor, opts: { page?: number; query?: string } = {}): Promise<{ ok: true; items: CenterChoice[]; total: number; page: number } | Failure> {
    if (!isOfficer(actor)) return fail("forbidden");
    const where = this.centerScope(actor);
    if (!where) return fail("forbidden");
    if (opts.query !== undefined) {
      const q = searchForm(opts.query);
      const all = await this.d.prisma.learningCenter.findMany({ where, select: { id: true, name: true, communeCode: true }, orderBy: [{ name: "asc" }, { id: "asc" }] });
      const items = q ? all.filter((c) => searchForm(c.name).includes(q)) : all;
      return { ok: true, items: items.slice(0, CENTER_PAGE_SIZE), total: items.length, page: 0 };
    }
    const total = await this.d.prisma.learningCenter.count({ where });
    const pages = Math.max(1, Math.ceil(total / CENTER_PAGE_SIZE));
    const page = Math.min(Math.max(0, opts.page ?? 0), pages - 1);
    const items = await this.d.prisma.learningCenter.findMany({
      where, select: { id: true, name: true, communeCode: true }, orderBy: [{ name: "asc" }, { id: "asc" }], skip: page * CENTER_PAGE_SIZE, take: CENTER_PAGE_SIZE,
    });
    return { ok: true, items, total, page };
  }

  /** One centre, if the actor may hold sessions there. */
  async centerInScope(actor: Actor, centerId: number): Promise<{ ok: true; center: CenterChoice } | Failure> {
    if (!isOfficer(actor)) return fail("forbidden");
    const center = await this.d.prisma.learningCenter.findUnique({ where: { id: centerId }, select: { id: true, name: true, communeCode: true, provinceCode: true } });
    if (!center) return fail("not_found", [{ key: E("center") }]);
    if (!placeInScope(actor, center)) return fail("forbidden");
    return { ok: true, center: { id: center.id, name: center.name, communeCode: center.communeCode } };
  }

  /** Validates and stores a session at a centre in the actor's scope, with its check-in token. */
  async create(actor: Actor, raw: unknown): Promise<{ ok: true; session: LearningSession } | Failure> {
    if (!isOfficer(actor)) return fail("forbidden");
    const parsed = createInput.safeParse(raw);
    if (!parsed.success) return fail("invalid", issues(parsed.error));
    const input = parsed.data;
    const center = await this.d.prisma.learningCenter.findUnique({ where: { id: input.centerId } });
    if (!center) return fail("not_found", [{ key: E("center") }]);
    if (!placeInScope(actor, center)) return fail("forbidden");
    const now = this.d.now();
    if (input.startsAt.getTime() <= now.getTime()) return fail("invalid", [{ key: E("start_past") }]);
    const session = await this.d.prisma.$transaction(async (tx) => {
      const created = await tx.learningSession.create({
        data: {
          centerId: center.id,
          title: input.title,
          topic: input.topic,
          startsAt: input.startsAt,
          durationMin: input.durationMin,
          capacity: input.capacity,
          speaker: input.speaker ?? null,
          organiserBody: input.organiserBody ?? null,
          description: input.description ?? null,
          checkinToken: newToken(),
          nextReminderAt: firstReminderAt(input.startsAt, now),
          createdById: BigInt(actor.id),
          createdAt: now,
        },
      });
      await refreshCenterUpcoming(tx, [center.id]);
      await audit(tx, actor, "session_created", { sessionId: created.id, centerId: center.id }, now);
      return created;
    });
    return { ok: true, session };
  }

  /** A session with its centre, if the actor may manage it. */
  async get(actor: Actor, id: number): Promise<({ ok: true } & SessionView) | Failure> {
    if (!isOfficer(actor)) return fail("forbidden");
    const session = await this.d.prisma.learningSession.findUnique({
      where: { id },
      include: { center: { select: { id: true, name: true, address: true, provinceCode: true, communeCode: true, demo: true } } },
    });
    if (!session) return fail("not_found");
    if (!placeInScope(actor, session.center)) return fail("forbidden");
    const { center, ...rest } = session;
    return { ok: true, session: rest, center };
  }

  /**
   * Changes title, topic, speaker, organiser, description, seats, start or duration. Fewer seats
   * than people holding one is refused; more seats promote the people waiting, in order. A new
   * time cancels the reminders queued for the old one and tells everyone signed up or waiting.
   */
  async update(actor: Actor, id: number, rawPatch: unknown): Promise<UpdateResult | Failure> {
    const parsed = patchInput.safeParse(rawPatch);
    if (!parsed.success) return fail("invalid", issues(parsed.error));
    const p = parsed.data;
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    const now = this.d.now();
    const promotions: Parameters<SessionSignups["promoteWaiting"]>[3] = [];
    let ref: string | undefined;
    const result = await this.d.prisma.$transaction(async (tx): Promise<UpdateResult | Failure> => {
      const s = await lockSession(tx, id);
      if (!s) return fail("not_found");
      if (s.state === "cancelled") return fail("cancelled");
      const startMoved = p.startsAt !== undefined && p.startsAt.getTime() !== s.starts_at.getTime();
      const timeChanged = startMoved || (p.durationMin !== undefined && p.durationMin !== s.duration_min);
      const capacityChanged = p.capacity !== undefined && p.capacity !== s.capacity;
      if ((timeChanged || capacityChanged) && s.starts_at.getTime() <= now.getTime()) return fail("started");
      if (startMoved && p.startsAt!.getTime() <= now.getTime()) return fail("invalid", [{ key: E("start_past") }]);
      if (capacityChanged && p.capacity! < s.confirmed_count) {
        return fail("invalid", [{ key: E("capacity_below_confirmed"), params: { confirmed: s.confirmed_count } }]);
      }
      const data: Prisma.LearningSessionUpdateInput = {};
      if (p.title !== undefined) data.title = p.title;
      if (p.topic !== undefined) data.topic = p.topic;
      if (p.speaker !== undefined) data.speaker = p.speaker;
      if (p.organiserBody !== undefined) data.organiserBody = p.organiserBody;
      if (p.description !== undefined) data.description = p.description;
      if (p.capacity !== undefined) data.capacity = p.capacity;
      if (p.durationMin !== undefined) data.durationMin = p.durationMin;
      if (startMoved) {
        data.startsAt = p.startsAt;
        data.nextReminderAt = firstReminderAt(p.startsAt!, now);
      }
      await tx.learningSession.update({ where: { id }, data });
      const promoted = capacityChanged && p.capacity! > s.capacity ? await this.d.signups.promoteWaiting(tx, id, now, promotions) : 0;
      let notified = 0;
      if (startMoved) await moveReminders(tx, id, p.startsAt!);
      if (timeChanged) {
        // Seconds, not minutes: an officer who fixes a wrong time at once must be heard twice.
        ref = noticeRef(id, "moved", Math.floor(now.getTime() / 1000));
        notified = await insertNoticeRows(tx, id, ref, now);
        await refreshCenterUpcoming(tx, [s.center_id]);
      }
      await audit(tx, actor, "session_updated", { sessionId: id, fields: Object.keys(data).filter((k) => k !== "nextReminderAt") }, now);
      const session = await tx.learningSession.findUniqueOrThrow({ where: { id } });
      return { ok: true, session, promoted, notified, moved: timeChanged };
    });
    if (result.ok) {
      await this.d.signups.releasePromotions(promotions, now);
      if (ref) await this.d.deliveries.release(SESSION_NOTICE_KIND, ref, now);
    }
    return result;
  }

  /**
   * Cancels a session that has not ended: its reminders and any notice still queued are
   * cancelled, and everyone signed up or waiting is told. A second cancel changes nothing.
   */
  async cancel(actor: Actor, id: number, reason?: string): Promise<{ ok: true; session: LearningSession; notified: number } | Failure> {
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    const now = this.d.now();
    const ref = noticeRef(id, "cancelled", minuteOf(now));
    const result = await this.d.prisma.$transaction(async (tx) => {
      const s = await lockSession(tx, id);
      if (!s) return fail("not_found");
      if (s.state === "cancelled") return fail("already_cancelled");
      if (s.starts_at.getTime() + s.duration_min * 60_000 <= now.getTime()) return fail("ended");
      const session = await tx.learningSession.update({ where: { id }, data: { state: "cancelled", cancelledAt: now, nextReminderAt: null } });
      await cancelQueuedReminders(tx, id, "session cancelled");
      // A move or a promotion still waiting to be told is news of a session that no longer takes place.
      await tx.$executeRawUnsafe(
        `UPDATE deliveries SET state = 'cancelled', error = 'session cancelled', updated_at = now()
          WHERE kind = $1 AND ref_id LIKE $2 AND state = 'queued'`,
        SESSION_NOTICE_KIND, `sn.${id}.%`,
      );
      const notified = await insertNoticeRows(tx, id, ref, now);
      await refreshCenterUpcoming(tx, [s.center_id]);
      await audit(tx, actor, "session_cancelled", { sessionId: id, reason: reason?.trim().slice(0, 200) || null }, now);
      return { ok: true as const, session, notified };
    });
    if (result.ok) await this.d.deliveries.release(SESSION_NOTICE_KIND, ref, now);
    return result;
  }

  /** A new check-in token: the old link and printed QR stop working at once. */
  async rotateToken(actor: Actor, id: number): Promise<{ ok: true; session: LearningSession; token: string } | Failure> {
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    if (found.session.state === "cancelled") return fail("cancelled");
    const now = this.d.now();
    const token = newToken();
    const session = await this.d.prisma.$transaction(async (tx) => {
      const updated = await tx.learningSession.update({ where: { id }, data: { checkinToken: token } });
      await audit(tx, actor, "session_token_rotated", { sessionId: id }, now);
      return updated;
    });
    return { ok: true, session, token };
  }

  async stats(actor: Actor, id: number): Promise<({ ok: true; stats: SessionStats } & SessionView) | Failure> {
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ attended: bigint; walk_ins: bigint }>>(
      `SELECT count(*) FILTER (WHERE attended_at IS NOT NULL) AS attended, count(*) FILTER (WHERE status = 'walk_in') AS walk_ins
         FROM session_signups WHERE session_id = $1`,
      id,
    );
    const s = found.session;
    return {
      ...found,
      stats: { confirmed: s.confirmedCount, waiting: s.waitingCount, attended: Number(rows[0]?.attended ?? 0), walkIns: Number(rows[0]?.walk_ins ?? 0), capacity: s.capacity },
    };
  }

  /**
   * The attendance list as CSV (RFC 4180): registration number and name of each learning citizen
   * signed up, waiting or walked in, their status, when they signed up and when they were checked
   * in (Vietnam time). Personal data: only for officers whose scope covers the centre; audited.
   */
  async attendanceCsv(actor: Actor, id: number, t?: Translate): Promise<({ ok: true; csv: string; rows: number } & SessionView) | Failure> {
    const found = await this.get(actor, id);
    if (!found.ok) return found;
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ registration_number: string | null; full_name: string | null; status: string; signed_up_at: Date | string; attended_at: Date | string | null }>>(
      `SELECT c.registration_number, c.full_name, g.status::text AS status, g.signed_up_at, g.attended_at
         FROM session_signups g LEFT JOIN learning_citizens c ON c.user_id = g.user_id
        WHERE g.session_id = $1
        ORDER BY CASE g.status WHEN 'confirmed' THEN 0 WHEN 'walk_in' THEN 1 ELSE 2 END, g.seq`,
      id,
    );
    const label = (key: string, fallback: string) => (t ? t(`session-admin:csv.${key}`) : fallback);
    const csv = toCsv([
      [label("registration_number", "registration_number"), label("full_name", "full_name"), label("status", "status"), label("signed_up_at", "signed_up_at"), label("attended_at", "attended_at")],
      ...rows.map((r) => [
        r.registration_number ?? "",
        r.full_name ?? "",
        label(`status_${r.status}`, r.status),
        vnStamp(asUtc(r.signed_up_at)),
        r.attended_at ? vnStamp(asUtc(r.attended_at)) : "",
      ]),
    ]);
    await audit(this.d.prisma, actor, "session_attendance_exported", { sessionId: id, rows: rows.length }, this.d.now());
    return { ...found, csv, rows: rows.length };
  }

  /**
   * Sessions at centres in the actor's scope: upcoming (not yet ended, soonest first, cancelled
   * ones included so the officer sees them) or past (ended, latest first).
   */
  async listInScope(actor: Actor, opts: { upcoming: boolean; page?: number }): Promise<{ ok: true; items: SessionListItem[]; total: number; page: number; pages: number } | Failure> {
    if (!isOfficer(actor)) return fail("forbidden");
    const scope = this.centerScope(actor);
    if (!scope) return fail("forbidden");
    const now = this.d.now().toISOString().replace("Z", "");
    const params: unknown[] = [now];
    let where = opts.upcoming ? `s.starts_at + make_interval(mins => s.duration_min) > $1::timestamp` : `s.starts_at + make_interval(mins => s.duration_min) <= $1::timestamp`;
    if (scope.provinceCode) {
      params.push(scope.provinceCode);
      where += ` AND c.province_code = $${params.length}`;
    }
    if (scope.communeCode) {
      params.push(scope.communeCode);
      where += ` AND c.commune_code = $${params.length}`;
    }
    const from = `FROM learning_sessions s JOIN learning_centers c ON c.id = s.center_id WHERE ${where}`;
    const [{ n }] = await this.d.prisma.$queryRawUnsafe<Array<{ n: bigint }>>(`SELECT count(*) AS n ${from}`, ...params) as [{ n: bigint }];
    const total = Number(n);
    const pages = Math.max(1, Math.ceil(total / LIST_PAGE_SIZE));
    const page = Math.min(Math.max(0, opts.page ?? 0), pages - 1);
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{
      id: number; title: string; topic: string; starts_at: Date | string; duration_min: number; state: "scheduled" | "cancelled";
      capacity: number; confirmed_count: number; waiting_count: number; center_name: string;
    }>>(
      `SELECT s.id, s.title, s.topic, s.starts_at, s.duration_min, s.state::text AS state, s.capacity, s.confirmed_count, s.waiting_count, c.name AS center_name
       ${from} ORDER BY s.starts_at ${opts.upcoming ? "ASC" : "DESC"}, s.id LIMIT ${LIST_PAGE_SIZE} OFFSET ${page * LIST_PAGE_SIZE}`,
      ...params,
    );
    return {
      ok: true, total, page, pages,
      items: rows.map((r) => ({
        id: r.id, title: r.title, topic: r.topic, startsAt: asUtc(r.starts_at), durationMin: r.duration_min, state: r.state,
        capacity: r.capacity, confirmed: r.confirmed_count, waiting: r.waiting_count, centerName: r.center_name,
      })),
    };
  }

  /** The centres filter of an officer's scope (admins: everything); undefined for a broken scope. */
  private centerScope(actor: Actor): { provinceCode?: string; communeCode?: string } | undefined {
    if (actor.role === "admin") return {};
    if (!actor.scope.provinceCode) return undefined;
    return actor.scope.communeCode ? { provinceCode: actor.scope.provinceCode, communeCode: actor.scope.communeCode } : { provinceCode: actor.scope.provinceCode };
  }
}

/** 18 random bytes: 24 URL-safe characters, unguessable. */
function newToken(): string {
  return randomBytes(18).toString("base64url");
}

/** The same lock sign-ups take, so seats never change under an officer's edit. */
async function lockSession(tx: Tx, id: number): Promise<LockedRow | undefined> {
  const rows = await tx.$queryRawUnsafe<LockedRow[]>(
    `SELECT id, state::text AS state, starts_at, duration_min, capacity, confirmed_count, center_id FROM learning_sessions WHERE id = $1 FOR UPDATE`,
    id,
  );
  const s = rows[0];
  return s ? { ...s, starts_at: asUtc(s.starts_at) } : undefined;
}

/**
 * A new start: the reminders queued for the old one are cancelled, and those cancelled by an
 * earlier move to this very start are forgotten, so the reminders' tick queues them again (their
 * refs name the start, and the ledger keeps one row per ref and person).
 */
async function moveReminders(tx: Tx, id: number, newStart: Date): Promise<void> {
  await cancelQueuedReminders(tx, id, MOVED);
  await tx.$executeRawUnsafe(
    `DELETE FROM deliveries WHERE kind = $1 AND ref_id LIKE $2 AND state = 'cancelled' AND error = $3`,
    SESSION_REMINDER_KIND, `sr.${id}.%.${minuteOf(newStart)}`, MOVED,
  );
}
const MOVED = "session moved";

/** Who did what to which session: ids only, never a person's data. */
async function audit(db: Tx | PrismaClient, actor: Actor, action: string, detail: Record<string, unknown>, at: Date): Promise<void> {
  await db.auditLog.create({ data: { actorId: BigInt(actor.id), action, detail: detail as Prisma.InputJsonValue, at } });
}

function issues(error: z.ZodError): SessionError[] {
  const keys = [...new Set(error.issues.map((i) => (i.message.startsWith("session-admin:") ? i.message : E("invalid"))))];
  return keys.map((key) => ({ key }));
}

const two = (n: number) => String(n).padStart(2, "0");
/** "20/12/2026 08:00" in Vietnam: what a spreadsheet reads as a date. */
function vnStamp(at: Date): string {
  const p = vnParts(at);
  return `${two(p.day)}/${two(p.month)}/${p.year} ${two(p.hour)}:${two(p.minute)}`;
}

/** Raw timestamp columns (UTC, without time zone) come back as a Date or an ISO string without "Z". */
function asUtc(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(value.endsWith("Z") ? value : value + "Z");
}

/** Sessions an officer created: exported on /mydata; erasure keeps the sessions (people signed up), drops the creator. */
export function sessionAuthorDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "learning_sessions",
      label: "session-admin:personal_data",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.learningSession.findMany({ where: { createdById: BigInt(id) }, orderBy: { id: "asc" }, select: { id: true, centerId: true, title: true, startsAt: true, createdAt: true } });
        return rows.length ? toPlainJson(rows) : null;
      },
      exists: async (id) => (await prisma.learningSession.count({ where: { createdById: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).learningSession.updateMany({ where: { createdById: BigInt(id) }, data: { createdById: null } })).count > 0,
    },
  ];
}
