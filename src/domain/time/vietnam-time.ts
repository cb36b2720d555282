/**
 * Vietnam's clock: Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving since 1975), so local
 * wall time converts to an instant by a fixed offset.
 */
export const VN_TIME_ZONE = "Asia/Ho_Chi_Minh";
const OFFSET_MS = 7 * 3600_000;

/** Wall-clock parts in Vietnam of an instant. */
export function vnParts(at: Date): { year: number; month: number; day: number; hour: number; minute: number } {
  const d = new Date(at.getTime() + OFFSET_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
}

/** The instant of a wall-clock time in Vietnam. */
export function fromVnWallTime(year: number, month: number, day: number, hour: number, minute: number): Date {
  return new Date(Date.UTC(year, month - 1, day, hour, minute) - OFFSET_MS);
}

export type DateTimeParse = { ok: true; at: Date } | { ok: false; reason: "format" | "invalid_date" | "past" };

const DATE = /(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?/;
/** "8:30", "8h30", "8 giờ", "7 giờ tối", "2pm", "9 sáng". */
const TIME = /(\d{1,2})\s*(?:(:|h|giờ|gio)\s*(\d{2})?\s*(?:phút|phut|p)?)?\s*(am|pm|sáng|sang|trưa|trua|chiều|chieu|tối|toi)?(?![\p{L}\d])/iu;
const AFTERNOON = ["pm", "chiều", "chieu", "tối", "toi"];

/**
 * A date and time typed the ways people in Vietnam write them: "20/12 8:00", "8h ngày 20/12",
 * "20/12/2026 08:30", "8h30 20-12", "14 giờ 20.12.2026", "2pm 20/12". Without a year, the next
 * such date (this year, or next year once it has passed). Times are Vietnam's.
 */
export function parseVnDateTime(input: string, now: Date): DateTimeParse {
  const text = input.normalize("NFC").toLowerCase().replace(/\b(ngày|ngay|lúc|luc|vào|vao|on|at)\b/g, " ");
  const date = DATE.exec(text);
  if (!date) return { ok: false, reason: "format" };
  const rest = text.slice(0, date.index) + " " + text.slice(date.index + date[0].length);
  const time = TIME.exec(rest);
  // A bare number is not a time: it needs ":", "h", "giờ" or a part of the day.
  if (!time || (time[2] === undefined && time[4] === undefined)) return { ok: false, reason: "format" };
  let hour = Number(time[1]);
  const minute = time[3] ? Number(time[3]) : 0;
  const period = time[4]?.toLowerCase();
  if (period) {
    if (hour < 1 || hour > 12) {
      if (!(hour > 12 && hour <= 23 && AFTERNOON.includes(period))) return { ok: false, reason: "invalid_date" };
    } else if (AFTERNOON.includes(period) && hour < 12) hour += 12;
    else if (period === "am" && hour === 12) hour = 0;
  }
  // Anything left besides spaces and punctuation is not part of a date: refuse rather than guess.
  if (rest.replace(time[0], " ").replace(/[\s,]+/g, "") !== "") return { ok: false, reason: "format" };
  const day = Number(date[1]);
  const month = Number(date[2]);
  const nowVn = vnParts(now);
  let year = date[3] ? Number(date[3].length === 2 ? `20${date[3]}` : date[3]) : nowVn.year;
  if (hour > 23 || minute > 59 || month < 1 || month > 12 || day < 1) return { ok: false, reason: "invalid_date" };
  const build = (y: number) => fromVnWallTime(y, month, day, hour, minute);
  let at = build(year);
  if (vnParts(at).day !== day) return { ok: false, reason: "invalid_date" }; // 31/11, 29/2 of a common year
  if (!date[3] && at.getTime() <= now.getTime()) {
    year += 1;
    at = build(year);
    if (vnParts(at).day !== day) return { ok: false, reason: "invalid_date" };
  }
  if (at.getTime() <= now.getTime()) return { ok: false, reason: "past" };
  return { ok: true, at };
}
