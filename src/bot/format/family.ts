import type { GroupCriteria, GroupStatus, JoinResult, MyGroup, Missing } from "../../domain/units/families.js";
import { UNIT_LIMITS } from "../../domain/units/model.js";
import { escapeHtml as h, type Locale, type TFunction } from "../../i18n.js";

/*
 * Texts of learning families, shared by the /family feature, its conversation and registration
 * (which completes a join after the card is saved). HTML; values are escaped by i18next unless a
 * composite is passed with escapeValue: false, then escaped here piece by piece.
 */
const NS = "families";
const raw = { interpolation: { escapeValue: false } } as const;

export function missingText(t: TFunction, m: Missing): string {
  if (m.rule === "min_members") return t(`${NS}:missing.min_members`, { need: m.need, have: m.have });
  if (m.rule === "adults_registered") return t(`${NS}:missing.adults_registered`, { count: m.count });
  return t(`${NS}:missing.${m.declared === "no" ? "children_absent" : "children_undeclared"}`);
}

/** "✅ Gia đình học tập" or "🔸 Đang phấn đấu: còn 1 người lớn chưa đăng ký Công dân học tập". */
export function statusText(t: TFunction, status: GroupStatus): string {
  if (status.met) return t(`${NS}:status.met`);
  return t(`${NS}:status.in_progress`, { missing: status.missing.map((m) => missingText(t, m)).join("; "), ...raw });
}

/** A rule's wording from the criteria file, its thresholds filled in. */
function ruleText(rule: GroupCriteria["rules"][number], locale: Locale): string {
  const text = rule.text[locale === "en" ? "en" : "vi"];
  const values: Record<string, number> = { ...("min" in rule ? { min: rule.min } : {}), ...("adultAge" in rule ? { adultAge: rule.adultAge } : {}) };
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}

/** The criteria, one line each; with a status, each line says whether the family meets it. */
export function criteriaLines(t: TFunction, locale: Locale, criteria: GroupCriteria, status?: GroupStatus): string {
  return criteria.rules
    .map((r) => {
      const text = h(ruleText(r, locale));
      if (!status) return `• ${text}`;
      const missing = status.missing.some((m) => m.rule === r.key);
      return t(`${NS}:view.${missing ? "rule_missing" : "rule_met"}`, { text, ...raw });
    })
    .join("\n");
}

/** The family's screen: name, status, members (longest-standing first), the declaration, criteria. */
export function familyText(t: TFunction, locale: Locale, criteria: GroupCriteria, g: MyGroup, viewerId: string): string {
  const members = g.members.map((m) => {
    const tags = (m.role === "owner" ? t(`${NS}:view.owner_tag`) : "") + (m.userId === viewerId ? t(`${NS}:view.you_tag`) : "");
    return t(`${NS}:view.member`, { name: h(m.name ?? t(`${NS}:view.no_card`)), tags: h(tags), ...raw });
  });
  const children = g.childrenInSchool === true ? "children_attend" : g.childrenInSchool === false ? "children_absent" : "children_undeclared";
  return [
    t(`${NS}:view.title`, { name: g.name }),
    t(`${NS}:view.status`, { status: h(statusText(t, g.status)), ...raw }),
    "",
    t(`${NS}:view.members`, { count: g.members.length, max: UNIT_LIMITS.familyMembersMax }),
    ...members,
    "",
    t(`${NS}:view.${children}`),
    "",
    t(`${NS}:view.criteria`, { version: criteria.version }),
    criteriaLines(t, locale, criteria, g.status),
  ].join("\n");
}

/** What joining by a link came to (the joined case too, for registration's short confirmation). */
export function joinResultText(t: TFunction, r: JoinResult, afterRegistration = false): string {
  if (r.ok) return t(`${NS}:join.${afterRegistration ? "joined_after_registration" : "joined"}`, { name: r.name });
  const name = r.family ?? "";
  switch (r.reason) {
    case "already_here":
      return t(`${NS}:join.already_here`, { name });
    case "already_member":
      return t(`${NS}:join.already_member`, { name });
    case "full":
      return t(`${NS}:join.full`, { name, max: UNIT_LIMITS.familyMembersMax });
    case "not_registered":
      return t(`${NS}:join.register_first`, { name });
    default:
      return t(`${NS}:join.not_found`);
  }
}

/** The learning card's line: "👪 Gia đình học tập: Gia đình ông Páo — ✅ Gia đình học tập". */
export function familyCardText(t: TFunction, family: { name: string; status: GroupStatus }): string {
  return t(`${NS}:card_line`, { name: h(family.name), status: h(statusText(t, family.status)), ...raw });
}
