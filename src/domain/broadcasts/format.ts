import type { DeliveryCounts } from "../delivery/types.js";
import type { GeoService } from "../geo/geo-service.js";
import { communeLabel, provinceLabel } from "../geo/labels.js";
import { vnParts } from "../time/vietnam-time.js";
import type { Locale, TFunction } from "../../i18n.js";
import type { Audience, SenderBody } from "./audience.js";
import { escapeHtml } from "./text.js";

/** What recipients and approvers read about a broadcast; HTML-escaped, in the reader's language. */

const two = (n: number) => String(n).padStart(2, "0");

/** "08:00 ngày 20/12/2026" / "08:00 on 20/12/2026", Vietnam's time. */
export function formatVnDateTime(at: Date, locale: Locale): string {
  const p = vnParts(at);
  const date = `${two(p.day)}/${two(p.month)}/${p.year}`;
  return locale === "en" ? `${two(p.hour)}:${two(p.minute)} on ${date}` : `${two(p.hour)}:${two(p.minute)} ngày ${date}`;
}

/** "1 240" (vi) / "1,240" (en). */
export function formatCount(n: number, locale: Locale): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, locale === "en" ? "," : " ");
}

/** "Xã Lũng Cú, Tuyên Quang", "Tỉnh Lào Cai", or "Toàn quốc" (unescaped). */
export async function placeText(geo: GeoService, t: TFunction, locale: Locale, provinceCode?: string | null, communeCode?: string | null): Promise<string> {
  const province = provinceCode ? await geo.getProvince(provinceCode) : undefined;
  const commune = communeCode ? await geo.getCommune(communeCode) : undefined;
  if (commune && province) return `${communeLabel(commune, locale)}, ${provinceLabel(province, locale, "short")}`;
  if (province) return provinceLabel(province, locale, "full");
  return t("broadcast:audience.nationwide");
}

/** "📢 Bộ đội Biên phòng · Tỉnh Lào Cai": the first line of every broadcast. */
export async function senderLine(geo: GeoService, t: TFunction, locale: Locale, body: SenderBody, provinceCode?: string | null, communeCode?: string | null): Promise<string> {
  const where = await placeText(geo, t, locale, provinceCode, communeCode);
  return t("broadcast:sender_line", { body: t(`broadcast:body.${body}`), place: where });
}

/** One line per filter that narrows the audience (escaped). */
export async function audienceLines(geo: GeoService, t: TFunction, locale: Locale, a: Audience): Promise<string[]> {
  const lines = [t("broadcast:audience.place", { place: await placeText(geo, t, locale, a.provinceCode, a.communeCode) })];
  const all = t("broadcast:audience.all");
  lines.push(t("broadcast:audience.roles", { value: a.roles ? a.roles.map((r) => t(`broadcast:role.${r}`)).join(", ") : all }));
  lines.push(t("broadcast:audience.affiliations", { value: a.affiliations ? a.affiliations.map((x) => t(`registration:affiliation.${x}`)).join(", ") : all }));
  lines.push(t("broadcast:audience.unit", { value: a.unitName ?? all }));
  lines.push(t("broadcast:audience.goal", { value: a.goal ? t(`registration:goals.${a.goal}`) : all }));
  return lines;
}

/** "1 240 / 5 000 · ✓ 1 230 · ✗ 10 · còn ~3 phút". */
export function progressLine(t: TFunction, locale: Locale, counts: DeliveryCounts, etaMinutes: number | undefined): string {
  const done = counts.total - counts.queued - counts.sending;
  const parts = [
    `${formatCount(done, locale)} / ${formatCount(counts.total, locale)}`,
    `✓ ${formatCount(counts.sent, locale)}`,
    `✗ ${formatCount(counts.failed + counts.blocked, locale)}`,
  ];
  if (etaMinutes !== undefined) parts.push(t("broadcast:progress.eta", { minutes: etaMinutes }));
  return parts.join(" · ");
}

/** Minutes left at the rate so far, or undefined before anything was sent. */
export function etaMinutes(counts: DeliveryCounts, startedAt: Date | null, now: Date): number | undefined {
  const done = counts.total - counts.queued - counts.sending;
  const open = counts.queued + counts.sending;
  if (!startedAt || done === 0 || open === 0) return undefined;
  const elapsed = Math.max(1, now.getTime() - startedAt.getTime());
  return Math.max(1, Math.ceil((open * elapsed) / done / 60_000));
}

/** Plain text of a broadcast for approvers (tags dropped, escaped, cut to `max`). */
export function plainPreview(plain: string, max: number): string {
  const cut = plain.length > max ? plain.slice(0, max - 1) + "…" : plain;
  return escapeHtml(cut);
}
