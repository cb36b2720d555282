import { escapeHtml as h, type TFunction } from "../../i18n.js";
import type { LearningCard, RegistrationDraft } from "../../domain/citizens/citizen-service.js";
import type { AffiliationKey, GoalKey } from "../../domain/citizens/inputs.js";

/*
 * Composite values are escaped here piece by piece (user text and labels alike) and passed with
 * escapeValue: false, so nothing is escaped twice.
 */

export function goalsText(t: TFunction, goals: readonly GoalKey[], other?: string): string {
  return goals
    .map((g) => (g === "other" && other ? `${t("registration:goals.other")}: ${other}` : t(`registration:goals.${g}`)))
    .join(", ");
}

/** "Xã Lũng Cú": the unit word of the commune's type, then its name. */
export function communeLabel(t: TFunction, communeType: string, communeName: string): string {
  return `${t(`registration:commune_type.${communeType}`, { defaultValue: communeType })} ${communeName}`;
}

export function placeText(t: TFunction, communeType: string, communeName: string, provinceName: string): string {
  return `${communeLabel(t, communeType, communeName)}, ${provinceName}`;
}

export function roleText(t: TFunction, affiliation: AffiliationKey, unitName?: string): string {
  const label = t(`registration:affiliation.${affiliation}`);
  return unitName ? `${label} — ${unitName}` : label;
}

/** Building an Intl formatter is costly; one per locale, in Vietnam's time zone. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

export function formatDate(iso: string, locale: string): string {
  const tag = locale === "en" ? "en-GB" : "vi-VN";
  let format = dateFormats.get(tag);
  if (!format) {
    format = new Intl.DateTimeFormat(tag, { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "numeric", day: "numeric" });
    dateFormats.set(tag, format);
  }
  return format.format(new Date(iso));
}

/** The learning card (thẻ Công dân học tập), HTML. */
export function formatCard(t: TFunction, card: LearningCard, locale: string): string {
  return t("registration:card.text", {
    number: h(card.registrationNumber),
    name: h(card.fullName),
    birthYear: card.birthYear,
    place: h(placeText(t, card.communeType, card.communeName, card.provinceName)),
    role: h(roleText(t, card.affiliation, card.unitName)),
    goals: h(goalsText(t, card.goals, card.otherGoal)),
    date: h(formatDate(card.registeredAt, locale)),
    interpolation: { escapeValue: false },
  });
}

export interface PlaceNames {
  provinceName: string;
  communeName: string;
  communeType: string;
}

/** The summary shown before saving, HTML. */
export function formatSummary(t: TFunction, d: RegistrationDraft, names: PlaceNames): string {
  return t("registration:summary.text", {
    name: h(d.fullName),
    birthYear: d.birthYear,
    guardian: d.guardianName ? h(t("registration:summary.guardian", { name: d.guardianName, interpolation: { escapeValue: false } })) : "",
    place: h(placeText(t, names.communeType, names.communeName, names.provinceName)),
    role: h(roleText(t, d.affiliation, d.unitName)),
    goals: h(goalsText(t, d.goals, d.otherGoal)),
    phone: h(d.phone ?? t("registration:summary.no_phone")),
    interpolation: { escapeValue: false },
  });
}
