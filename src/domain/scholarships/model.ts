/**
 * Scholarship rounds (issue 10): what every part of the feature shares — the structured
 * eligibility rules, round dates as Vietnamese calendar days, the delivery kinds and their ref
 * shapes, who manages a round, and the Vietnamese way of writing dates, money and countdowns.
 * No grammY, no Redis.
 */
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.js";
import { compactForm, searchForm } from "../geo/normalize.js";
import { fromVnWallTime, vnParts } from "../time/vietnam-time.js";

export const SCHOOL_LEVELS = ["primary", "lower_secondary", "upper_secondary", "university"] as const;
export type SchoolLevel = (typeof SCHOOL_LEVELS)[number];

/** Grades 1–5 primary (tiểu học), 6–9 lower secondary (THCS), 10–12 upper secondary (THPT). */
export const GRADES_OF_LEVEL: Record<Exclude<SchoolLevel, "university">, readonly [number, number]> = {
  primary: [1, 5],
  lower_secondary: [6, 9],
  upper_secondary: [10, 12],
};

export function levelOfGrade(grade: number): Exclude<SchoolLevel, "university"> | undefined {
  for (const [level, [lo, hi]] of Object.entries(GRADES_OF_LEVEL)) if (grade >= lo && grade <= hi) return level as Exclude<SchoolLevel, "university">;
  return undefined;
}

/** Circumstances a round may ask for (hộ nghèo, cận nghèo, xã biên giới, mồ côi, con quân nhân). */
export const CIRCUMSTANCES = ["poor", "near_poor", "border_commune", "orphan", "soldier_child"] as const;
export type Circumstance = (typeof CIRCUMSTANCES)[number];

/** The bodies that run rounds (the announcing bodies of broadcasts). */
export const ROUND_BODIES = ["association", "military_command", "police", "border_guard", "other"] as const;
export type RoundBody = (typeof ROUND_BODIES)[number];

export const NOMINATION_STATUSES = ["received", "shortlisted", "awarded", "not_selected"] as const;
export type NominationStatusName = (typeof NOMINATION_STATUSES)[number];

/** Who nominates: a parent or guardian (their own child; any registered person), an association member, an officer. */
export const RELATIONSHIPS = ["parent", "member", "officer"] as const;
export type Relationship = (typeof RELATIONSHIPS)[number];

export const ROUND_LIMITS = {
  programmeMax: 120,
  eligibilityMax: 1000,
  howToApplyMax: 1000,
  contactMax: 200,
  awardValueMax: 1_000_000_000,
  awardCountMax: 1_000_000,
  communesMax: 50,
  studentNameMax: 80,
  schoolMax: 120,
  guardianNameMax: 80,
  /** Years ahead of today a round's dates may be set. */
  yearsAhead: 3,
} as const;

/** Nominations are kept this long after the award date (or a cancellation), then erased. */
export const NOMINATION_RETENTION_DAYS = 365;

const communeCode = z.string().regex(/^\d{5}$/);

/**
 * A round's structured rules. Empty lists mean "no rule". Grades apply to school levels only;
 * circumstances: the student must have any one (mode "any") or all (mode "all") of them.
 * The province rule is the round's own province (null: nationwide); communes narrow it.
 */
export const roundRulesSchema = z.object({
  levels: z.array(z.enum(SCHOOL_LEVELS)).max(SCHOOL_LEVELS.length).default([]),
  gradeMin: z.number().int().min(1).max(12).optional(),
  gradeMax: z.number().int().min(1).max(12).optional(),
  communeCodes: z.array(communeCode).max(ROUND_LIMITS.communesMax).default([]),
  circumstances: z.array(z.enum(CIRCUMSTANCES)).max(CIRCUMSTANCES.length).default([]),
  circumstancesMode: z.enum(["any", "all"]).default("any"),
}).refine((r) => r.gradeMin === undefined || r.gradeMax === undefined || r.gradeMin <= r.gradeMax, { message: "grade_range" });
export type RoundRules = z.infer<typeof roundRulesSchema>;

/** Rules read back from the database (a row written by an older version parses to "no rule" where unknown). */
export function readRules(json: unknown): RoundRules {
  const parsed = roundRulesSchema.safeParse(json ?? {});
  return parsed.success ? parsed.data : roundRulesSchema.parse({});
}

/** The /settings topic that mutes scholarship reminders. */
export const SCHOLARSHIPS_TOPIC = "scholarships";

/** Delivery kinds (src/domain/delivery/types.ts). */
export const SCHOLARSHIP_REMINDER_KIND = "scholarship_reminder";
export const SCHOLARSHIP_NOTICE_KIND = "scholarship_notice";
export const NOMINATION_STATUS_KIND = "nomination_status";

// ---- calendar days -------------------------------------------------------------------------

/**
 * Round dates are calendar days in Vietnam, stored as DATE (Prisma gives them as UTC midnight).
 * `Day` is that value; these helpers turn it into instants.
 */
export type Day = Date;

/** The Vietnamese calendar day of an instant, as a DATE value (UTC midnight). */
export function vnDay(at: Date): Day {
  const p = vnParts(at);
  return new Date(Date.UTC(p.year, p.month - 1, p.day));
}

export function addDays(day: Day, n: number): Day {
  return new Date(day.getTime() + n * 86_400_000);
}

/** Days since 1970-01-01 (for refs). */
export function dayNumber(day: Day): number {
  return Math.floor(day.getTime() / 86_400_000);
}

/** The instant a day starts in Vietnam (00:00), or a given wall-clock hour that day. */
export function vnDayAt(day: Day, hour = 0, minute = 0): Date {
  return fromVnWallTime(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), hour, minute);
}

/** Nominations are accepted until the end of the deadline day (Vietnam time). */
export function nominationsCloseAt(deadlineOn: Day): Date {
  return vnDayAt(addDays(deadlineOn, 1));
}

/** Whole days from today (Vietnam) to `day`: 0 today, 1 tomorrow, negative when past. */
export function daysUntil(day: Day, now: Date): number {
  return Math.round((day.getTime() - vnDay(now).getTime()) / 86_400_000);
}

export type RoundPhase = "upcoming" | "open" | "closed" | "cancelled";

/** Where a round stands: upcoming before opens_on, open through the deadline day, then closed. */
export function roundPhase(round: { state: string; opensOn: Day; deadlineOn: Day }, now: Date): RoundPhase {
  if (round.state === "cancelled") return "cancelled";
  if (round.state === "closed") return "closed";
  if (now.getTime() >= nominationsCloseAt(round.deadlineOn).getTime()) return "closed";
  if (now.getTime() < vnDayAt(round.opensOn).getTime()) return "upcoming";
  return "open";
}

export type DayParse = { ok: true; day: Day } | { ok: false; reason: "format" | "invalid_date" | "past" | "too_far" };

const MONTH_WORD = /(?:tháng|thang|th)\s*/g;
const YEAR_WORD = /\b(?:năm|nam)\s*/g;

/**
 * A calendar day typed the ways people write one: "20/12/2026", "20-12-26", "20.12", "ngày 20
 * tháng 12 năm 2026", "20 tháng 12", "2026-12-20". Without a year: the next such day (today
 * counts). A day before today is refused unless `allowPast`; more than ROUND_LIMITS.yearsAhead
 * years ahead is refused as a typo.
 */
export function parseVnDate(input: string, now: Date, opts: { allowPast?: boolean } = {}): DayParse {
  const text = input.normalize("NFC").toLowerCase().trim()
    .replace(/\b(?:ngày|ngay|hạn|han|on)\b/g, " ")
    .replace(MONTH_WORD, "/").replace(YEAR_WORD, "/")
    .replace(/\s+/g, " ").trim();
  let day: number, month: number, year: number | undefined;
  const iso = /^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$/.exec(text);
  const vn = /^(\d{1,2})\s*[-/. ]\s*\/?\s*(\d{1,2})(?:\s*[-/. ]\s*\/?\s*(\d{4}|\d{2}))?$/.exec(text);
  if (iso) [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (vn) {
    day = Number(vn[1]);
    month = Number(vn[2]);
    if (vn[3]) year = Number(vn[3].length === 2 ? `20${vn[3]}` : vn[3]);
  } else return { ok: false, reason: "format" };
  if (month < 1 || month > 12 || day < 1 || day > 31) return { ok: false, reason: "invalid_date" };
  const today = vnDay(now);
  const build = (y: number) => new Date(Date.UTC(y, month - 1, day));
  let y = year ?? today.getUTCFullYear();
  let result = build(y);
  if (result.getUTCDate() !== day) {
    if (year !== undefined) return { ok: false, reason: "invalid_date" };
    // 29/2 typed without a year: the next leap year's.
    while (build(y).getUTCDate() !== day && y < today.getUTCFullYear() + 4) y++;
    result = build(y);
    if (result.getUTCDate() !== day) return { ok: false, reason: "invalid_date" };
  }
  if (year === undefined && result.getTime() < today.getTime()) {
    result = build(y + 1);
    if (result.getUTCDate() !== day) return { ok: false, reason: "invalid_date" };
  }
  if (!opts.allowPast && result.getTime() < today.getTime()) return { ok: false, reason: "past" };
  if (result.getUTCFullYear() > today.getUTCFullYear() + ROUND_LIMITS.yearsAhead) return { ok: false, reason: "too_far" };
  return { ok: true, day: result };
}

export type RoundDatesError = "deadline_before_open" | "award_before_deadline" | "deadline_past";

/** The order of a round's days: open ≤ deadline ≤ award, and the deadline not already past. */
export function checkRoundDates(d: { opensOn: Day; deadlineOn: Day; awardOn: Day }, now: Date): RoundDatesError | undefined {
  if (d.deadlineOn.getTime() < d.opensOn.getTime()) return "deadline_before_open";
  if (d.awardOn.getTime() < d.deadlineOn.getTime()) return "award_before_deadline";
  if (d.deadlineOn.getTime() < vnDay(now).getTime()) return "deadline_past";
  return undefined;
}

// ---- reminders and notices -----------------------------------------------------------------

/** Reminder slots: the opening day, 7 days and 1 day before the deadline, each at 8:00 Vietnam time. */
export const ROUND_REMINDER_SLOTS = ["open", "7d", "1d"] as const;
export type RoundReminderSlot = (typeof ROUND_REMINDER_SLOTS)[number];
export const REMINDER_HOUR = 8;

/** The day a slot is about (opens_on for "open", deadline_on for the others) and when it is sent. */
export function slotTime(slot: RoundReminderSlot, d: { opensOn: Day; deadlineOn: Day }): { aboutDay: Day; at: Date } {
  if (slot === "open") return { aboutDay: d.opensOn, at: vnDayAt(d.opensOn, REMINDER_HOUR) };
  const before = slot === "7d" ? 7 : 1;
  return { aboutDay: d.deadlineOn, at: vnDayAt(addDays(d.deadlineOn, -before), REMINDER_HOUR) };
}

/** The first slot still ahead of `now` (null when none): what next_reminder_at holds after a write. */
export function firstRoundReminderAt(d: { opensOn: Day; deadlineOn: Day }, now: Date): Date | null {
  const ahead = ROUND_REMINDER_SLOTS.map((s) => slotTime(s, d).at).filter((at) => at.getTime() > now.getTime());
  return ahead.length ? new Date(Math.min(...ahead.map((a) => a.getTime()))) : null;
}

/**
 * A reminder's ledger ref: the round, the slot and the day it is about (days since the epoch), so
 * a moved deadline is reminded again and one deadline never twice.
 */
export function roundReminderRef(roundId: number, slot: RoundReminderSlot, aboutDay: Day): string {
  return `shr.${roundId}.${slot}.${dayNumber(aboutDay)}`;
}

export function parseRoundReminderRef(ref: string): { roundId: number; slot: RoundReminderSlot; day: number } | undefined {
  const m = /^shr\.(\d{1,9})\.(open|7d|1d)\.(\d{1,6})$/.exec(ref);
  return m ? { roundId: Number(m[1]), slot: m[2] as RoundReminderSlot, day: Number(m[3]) } : undefined;
}

/**
 * Notices about a round to its subscribers and nominators: extended (a later deadline; `stamp` =
 * the new deadline's day number), closed early, cancelled (`stamp` = minutes since the epoch of
 * the event). Extended notices respect the "scholarships" mute; closed and cancelled do not.
 */
export const ROUND_EVENTS = ["extended", "closed", "cancelled"] as const;
export type RoundEvent = (typeof ROUND_EVENTS)[number];

export function roundNoticeRef(roundId: number, event: RoundEvent, stamp: number): string {
  return `shn.${roundId}.${event}.${stamp}`;
}

export function parseRoundNoticeRef(ref: string): { roundId: number; event: RoundEvent; stamp: number } | undefined {
  const m = /^shn\.(\d{1,9})\.(extended|closed|cancelled)\.(\d{1,12})$/.exec(ref);
  return m ? { roundId: Number(m[1]), event: m[2] as RoundEvent, stamp: Number(m[3]) } : undefined;
}

/** A nomination's status change, to its nominator (`stamp` = minutes since the epoch of the change). */
export function nominationStatusRef(nominationId: number, status: NominationStatusName, stamp: number): string {
  return `shs.${nominationId}.${status}.${stamp}`;
}

export function parseNominationStatusRef(ref: string): { nominationId: number; status: NominationStatusName; stamp: number } | undefined {
  const m = /^shs\.(\d{1,9})\.(received|shortlisted|awarded|not_selected)\.(\d{1,12})$/.exec(ref);
  return m ? { nominationId: Number(m[1]), status: m[2] as NominationStatusName, stamp: Number(m[3]) } : undefined;
}

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Queues a round notice to its subscribers and the nominators of its nominations, as ledger rows
 * inside the caller's transaction (one statement); the caller releases (kind, ref) after the
 * commit. Returns how many rows were added.
 */
export async function insertRoundNoticeRows(db: Db, roundId: number, ref: string, dueAt: Date): Promise<number> {
  return db.$executeRawUnsafe(
    `INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
     SELECT $1, $2, p.user_id, $3::timestamp FROM (
       SELECT user_id FROM scholarship_subscriptions WHERE round_id = $4
       UNION SELECT nominator_id FROM nominations WHERE round_id = $4) p
     ON CONFLICT (kind, ref_id, chat_id) DO NOTHING`,
    SCHOLARSHIP_NOTICE_KIND, ref, dueAt.toISOString().replace("Z", ""), roundId,
  );
}

// ---- who may do what -----------------------------------------------------------------------

export interface RoundAccess {
  role: string;
  scope: { provinceCode?: string; communeCode?: string };
}

/**
 * The officers of a round (create, edit, close, extend, cancel, announce, see and export its
 * nominations, set their status): admins for every round; officers of the round's province whose
 * scope is the whole province. Nationwide rounds are admins' only; a commune officer nominates but
 * does not run rounds. Checked server-side on every officer action.
 */
export function canManageRound(access: RoundAccess, round: { provinceCode: string | null }): boolean {
  if (access.role === "admin") return true;
  if (access.role !== "officer") return false;
  const s = access.scope;
  return round.provinceCode !== null && s.provinceCode === round.provinceCode && !s.communeCode;
}

/** Who may nominate, and as what: residents only their own child; members and officers any student. */
export function allowedRelationships(role: string): Relationship[] {
  if (role === "admin" || role === "officer") return ["parent", "member", "officer"];
  if (role === "member") return ["parent", "member"];
  return ["parent"];
}

/** The duplicate-check key of a student: the name without diacritics, case or spaces, and the birth year. */
export function studentKey(name: string, birthYear: number): string {
  return `${compactForm(searchForm(name))}.${birthYear}`;
}

// ---- formatting ----------------------------------------------------------------------------

const two = (n: number) => String(n).padStart(2, "0");

/** "20/12/2026" (the same in both languages, as Vietnamese documents write it). */
export function formatDay(day: Day): string {
  return `${two(day.getUTCDate())}/${two(day.getUTCMonth() + 1)}/${day.getUTCFullYear()}`;
}

/** "2.000.000 đồng" / "2,000,000 VND". */
export function formatVnd(amount: bigint | number, locale: string): string {
  const digits = String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, locale === "en" ? "," : ".");
  return locale === "en" ? `${digits} VND` : `${digits} đồng`;
}
