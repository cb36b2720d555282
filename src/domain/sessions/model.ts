/**
 * Learning centres and sessions (issue 9): what every part of the feature shares — topics, limits,
 * the delivery kinds and their ref shapes, the "upcoming" bookkeeping of centres and the Vietnamese
 * way of writing a session's time. No grammY, no Redis.
 */
import type { Prisma, PrismaClient } from "../../generated/prisma/client.js";
import { vnParts } from "../time/vietnam-time.js";

export const SESSION_TOPICS = ["law", "digital", "agriculture", "health", "literacy", "life_skills", "other"] as const;
export type SessionTopic = (typeof SESSION_TOPICS)[number];

/** The bodies that organise or speak at sessions (the announcing bodies of broadcasts). */
export const ORGANISER_BODIES = ["association", "military_command", "police", "border_guard", "other"] as const;
export type OrganiserBody = (typeof ORGANISER_BODIES)[number];

export const SESSION_LIMITS = {
  titleMax: 120,
  speakerMax: 120,
  descriptionMax: 1000,
  durationMinMin: 15,
  durationMinMax: 8 * 60,
  capacityMin: 1,
  capacityMax: 10_000,
  centerNameMax: 120,
  addressMax: 200,
} as const;

/** Check-in opens this long before the start and closes at the end. */
export const CHECKIN_OPENS_BEFORE_MS = 30 * 60_000;

/** Vietnam's mainland and islands (Hoàng Sa, Trường Sa included): typed or shared locations outside are refused. */
export const VIETNAM_BOUNDS = { latMin: 6.0, latMax: 23.5, lonMin: 102.1, lonMax: 117.9 } as const;

export function insideVietnam(lat: number, lon: number): boolean {
  return Number.isFinite(lat) && Number.isFinite(lon) &&
    lat >= VIETNAM_BOUNDS.latMin && lat <= VIETNAM_BOUNDS.latMax && lon >= VIETNAM_BOUNDS.lonMin && lon <= VIETNAM_BOUNDS.lonMax;
}

/** The /settings topic that mutes session reminders and notices. */
export const SESSIONS_TOPIC = "sessions";

/** Delivery kinds (src/domain/delivery/types.ts). */
export const SESSION_REMINDER_KIND = "session_reminder";
export const SESSION_NOTICE_KIND = "session_notice";

export const REMINDER_SLOTS = [
  { key: "24h", beforeMs: 24 * 3600_000 },
  { key: "1h", beforeMs: 3600_000 },
] as const;
export type ReminderSlot = (typeof REMINDER_SLOTS)[number]["key"];

/**
 * A reminder's ledger ref: the session, the slot and the start it was for (minutes since the
 * epoch), so a moved session is reminded again at its new time and never twice for one time.
 */
export function reminderRef(sessionId: number, slot: ReminderSlot, startsAt: Date): string {
  return `sr.${sessionId}.${slot}.${Math.floor(startsAt.getTime() / 60_000)}`;
}

export function parseReminderRef(ref: string): { sessionId: number; slot: ReminderSlot; startMinute: number } | undefined {
  const m = /^sr\.(\d{1,9})\.(24h|1h)\.(\d{1,10})$/.exec(ref);
  return m ? { sessionId: Number(m[1]), slot: m[2] as ReminderSlot, startMinute: Number(m[3]) } : undefined;
}

/**
 * Notices about one session: "cancelled" and "moved" go to everyone signed up or waiting;
 * "promoted" goes to the people a freed seat went to. `stamp` makes each event its own ref
 * (minutes since the epoch of the event, or the promoted sign-up's seq), so the same event queued
 * twice is one message and two events are two.
 */
export const NOTICE_EVENTS = ["cancelled", "moved", "promoted"] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];

export function noticeRef(sessionId: number, event: NoticeEvent, stamp: number | bigint): string {
  return `sn.${sessionId}.${event}.${stamp}`;
}

export function parseNoticeRef(ref: string): { sessionId: number; event: NoticeEvent; stamp: string } | undefined {
  const m = /^sn\.(\d{1,9})\.(cancelled|moved|promoted)\.(\d{1,20})$/.exec(ref);
  return m ? { sessionId: Number(m[1]), event: m[2] as NoticeEvent, stamp: m[3]! } : undefined;
}

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Queues a notice to everyone signed up or waiting (or to the given people) as ledger rows, inside
 * the caller's transaction; the caller releases (kind, ref) after the commit (and a restart
 * releases whatever is still open). Returns how many rows were added.
 */
export async function insertNoticeRows(db: Db, sessionId: number, ref: string, dueAt: Date, userIds?: readonly bigint[]): Promise<number> {
  const due = dueAt.toISOString().replace("Z", "");
  if (userIds) {
    if (userIds.length === 0) return 0;
    return db.$executeRawUnsafe(
      `INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
       SELECT $1, $2, u, $3::timestamp FROM unnest($4::bigint[]) AS u
       ON CONFLICT (kind, ref_id, chat_id) DO NOTHING`,
      SESSION_NOTICE_KIND, ref, due, userIds.map(String),
    );
  }
  return db.$executeRawUnsafe(
    `INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
     SELECT $1, $2, s.user_id, $3::timestamp FROM session_signups s
      WHERE s.session_id = $4 AND s.status IN ('confirmed', 'waiting')
     ON CONFLICT (kind, ref_id, chat_id) DO NOTHING`,
    SESSION_NOTICE_KIND, ref, due, sessionId,
  );
}

/**
 * Recomputes centres' upcoming_until (the end of their last scheduled session) after sessions
 * were created, moved or cancelled: one statement for any number of centres.
 */
export async function refreshCenterUpcoming(db: Db, centerIds: readonly number[]): Promise<void> {
  if (centerIds.length === 0) return;
  await db.$executeRawUnsafe(
    `UPDATE learning_centers c
        SET upcoming_until = (SELECT max(s.starts_at + make_interval(mins => s.duration_min))
                                FROM learning_sessions s WHERE s.center_id = c.id AND s.state = 'scheduled')
      WHERE c.id = ANY($1::int[])`,
    centerIds.slice(),
  );
}

/**
 * The first reminder slot of a session still ahead of `now` (null when none): what
 * learning_sessions.next_reminder_at holds after a create or a move.
 */
export function firstReminderAt(startsAt: Date, now: Date): Date | null {
  for (const slot of REMINDER_SLOTS) {
    const at = new Date(startsAt.getTime() - slot.beforeMs);
    if (at.getTime() > now.getTime()) return at;
  }
  return null;
}

const WEEKDAYS_VI = ["Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy"];
const WEEKDAYS_EN = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const two = (n: number) => String(n).padStart(2, "0");

/** "8:00 thứ Bảy, 20/12/2026" / "8:00 Saturday, 20/12/2026" (Asia/Ho_Chi_Minh). */
export function formatSessionTime(at: Date, locale: string): string {
  const p = vnParts(at);
  const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  const names = locale === "en" ? WEEKDAYS_EN : WEEKDAYS_VI;
  return `${p.hour}:${two(p.minute)} ${names[weekday]}, ${two(p.day)}/${two(p.month)}/${p.year}`;
}

/** Great-circle distance in km (haversine, mean Earth radius). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * Whether an officer may manage a centre (and its sessions) in this place: admins anywhere,
 * officers in their province, a commune officer only in their commune. Checked server-side on
 * every officer action; a unit scope does not narrow places.
 */
export function placeInScope(access: { role: string; scope: { provinceCode?: string; communeCode?: string } }, place: { provinceCode: string; communeCode: string }): boolean {
  if (access.role === "admin") return true;
  if (access.role !== "officer") return false;
  const s = access.scope;
  if (!s.provinceCode || s.provinceCode !== place.provinceCode) return false;
  return !s.communeCode || s.communeCode === place.communeCode;
}
