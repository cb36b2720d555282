import { escapeHtml as h, type Locale, type TFunction } from "../../i18n.js";
import type { LearningCard, RegistrationDraft } from "../../domain/citizens/citizen-service.js";
import { GOALS, type AffiliationKey, type GoalKey } from "../../domain/citizens/inputs.js";
import { placeLabel } from "../../domain/geo/labels.js";
import { formatDate } from "./dates.js";

/*
 * Composite values are escaped here piece by piece (user text and labels alike) and passed with
 * escapeValue: false, so nothing is escaped twice.
 */

/** Goals in the list's order, "Khác: …" last. */
export function goalsText(t: TFunction, goals: readonly GoalKey[], other?: string): string {
  return GOALS.filter((g) => goals.includes(g))
    .map((g) => (g === "other" && other ? `${t("registration:goals.other")}: ${other}` : t(`registration:goals.${g}`)))
    .join(", ");
}

export function roleText(t: TFunction, affiliation: AffiliationKey, unitName?: string): string {
  const label = t(`registration:affiliation.${affiliation}`);
  return unitName ? `${label} — ${unitName}` : label;
}

interface PlaceNames {
  communeName: string;
  communeType: string;
  provinceName: string;
  provinceType: string;
}

function placeText(p: PlaceNames, locale: Locale): string {
  return placeLabel({ name: p.communeName, type: p.communeType }, { name: p.provinceName, type: p.provinceType }, locale);
}

/** The learning card (thẻ Công dân học tập), HTML. */
export function formatCard(t: TFunction, card: LearningCard, locale: Locale): string {
  return t("registration:card.text", {
    number: h(card.registrationNumber),
    name: h(card.fullName),
    birthYear: card.birthYear,
    place: h(placeText(card, locale)),
    role: h(roleText(t, card.affiliation, card.unitName)),
    goals: h(goalsText(t, card.goals, card.otherGoal)),
    date: h(formatDate(card.registeredAt, locale)),
    interpolation: { escapeValue: false },
  });
}

/** The summary shown before saving, HTML. */
export function formatSummary(t: TFunction, d: RegistrationDraft, place: PlaceNames, locale: Locale): string {
  return t("registration:summary.text", {
    name: h(d.fullName),
    birthYear: d.birthYear,
    guardian: d.guardianName ? h(t("registration:summary.guardian", { name: d.guardianName, interpolation: { escapeValue: false } })) : "",
    place: h(placeText(place, locale)),
    role: h(roleText(t, d.affiliation, d.unitName)),
    goals: h(goalsText(t, d.goals, d.otherGoal)),
    phone: h(d.phone ?? t("registration:summary.no_phone")),
    interpolation: { escapeValue: false },
  });
}
