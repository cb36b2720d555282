import type { Locale } from "../../i18n.js";
import { vnParts } from "../../domain/time/vietnam-time.js";

/**
 * The bot's one way of writing dates and times: Vietnam's time zone, day first, two digits
 * ("14:16 ngày 01/12/2026"). Accepts a Date or an ISO string (conversation state holds strings).
 */
const two = (n: number) => String(n).padStart(2, "0");

export function formatDate(at: Date | string, _locale: Locale): string {
  const p = vnParts(new Date(at));
  return `${two(p.day)}/${two(p.month)}/${p.year}`;
}

export function formatTime(at: Date | string): string {
  const p = vnParts(new Date(at));
  return `${two(p.hour)}:${two(p.minute)}`;
}

export function formatDateTime(at: Date | string, locale: Locale): string {
  return locale === "en" ? `${formatTime(at)} on ${formatDate(at, locale)}` : `${formatTime(at)} ngày ${formatDate(at, locale)}`;
}
