import { z } from "zod";
import { AFFILIATIONS, GOALS } from "../citizens/inputs.js";
import type { Access } from "../users/user-service.js";

/** Who may send: one per body, and each body is a topic people can mute ("ann:police"). */
export const SENDER_BODIES = ["association", "military_command", "police", "border_guard", "other"] as const;
export type SenderBody = (typeof SENDER_BODIES)[number];

export function topicOf(body: SenderBody): string {
  return `ann:${body}`;
}

/** A registered person's affiliation → the body whose announcements they would send as an officer. */
export function bodyOfAffiliation(affiliation: string | undefined): SenderBody | undefined {
  switch (affiliation) {
    case "association_member": return "association";
    case "military_command": return "military_command";
    case "police": return "police";
    case "border_guard": return "border_guard";
    case "other_organisation": return "other";
    default: return undefined;
  }
}

export const AUDIENCE_ROLES = ["resident", "member", "officer"] as const;
export type AudienceRole = (typeof AUDIENCE_ROLES)[number];

/** Filters of a broadcast's audience; absent means "anyone". Stored as JSON on the broadcast. */
export const audienceSchema = z
  .object({
    provinceCode: z.string().regex(/^\d{2}$/).optional(),
    communeCode: z.string().regex(/^\d{5}$/).optional(),
    roles: z.array(z.enum(AUDIENCE_ROLES)).min(1).max(AUDIENCE_ROLES.length).optional(),
    affiliations: z.array(z.enum(AFFILIATIONS)).min(1).max(AFFILIATIONS.length).optional(),
    unitName: z.string().trim().min(2).max(120).refine((s) => unitKey(s).length >= 2).optional(),
    goal: z.enum(GOALS).optional(),
  })
  .strict()
  .refine((a) => !a.communeCode || a.provinceCode, { message: "a commune needs its province" });
export type Audience = z.infer<typeof audienceSchema>;

/*
 * Unit names match ignoring case, diacritics, punctuation and spacing ("Đồn Biên phòng Lũng Cú"
 * = "don bien phong lung cu"), the same in SQL and here: translate() maps every Latin letter with
 * diacritics (Latin-1, Extended-A/B, Vietnamese) to its base letter, then anything but [a-z0-9]
 * becomes one space. Plain SQL: no unaccent extension, and PGlite's lower() is ASCII-only.
 */
function buildFold(): { from: string; to: string; map: Map<string, string> } {
  const map = new Map<string, string>();
  const add = (cp: number) => {
    const ch = String.fromCodePoint(cp);
    const base = ch.normalize("NFD").replace(/\p{M}/gu, "").replace(/[đĐ]/g, "d").toLowerCase();
    if (/^[a-z]$/.test(base) && base !== ch) map.set(ch, base);
  };
  for (let cp = 0x41; cp <= 0x5a; cp++) add(cp);
  for (let cp = 0xc0; cp <= 0x24f; cp++) add(cp);
  for (let cp = 0x1ea0; cp <= 0x1ef9; cp++) add(cp);
  return { from: [...map.keys()].join(""), to: [...map.values()].join(""), map };
}
const FOLD = buildFold();

/** The matching key of a unit name (what the SQL compares). */
export function unitKey(name: string): string {
  let folded = "";
  for (const ch of name.normalize("NFC")) folded += FOLD.map.get(ch) ?? ch;
  return folded.replace(/[^a-z0-9]+/g, " ").trim();
}

/**
 * Whether this caller may target this audience. Admins: anything, nationwide included. Officers:
 * inside their province; a commune officer only their commune; a unit officer only their unit.
 */
export function scopeCovers(access: Access, a: Audience): boolean {
  if (access.role === "admin") return true;
  if (access.role !== "officer") return false;
  const s = access.scope;
  if (!s.provinceCode || a.provinceCode !== s.provinceCode) return false;
  if (s.communeCode && a.communeCode !== s.communeCode) return false;
  if (s.unitName && (!a.unitName || unitKey(a.unitName) !== unitKey(s.unitName))) return false;
  return true;
}

/** The audience an officer starts from: their scope's fixed parts (an admin starts nationwide). */
export function audienceOfScope(access: Access): Audience {
  if (access.role === "admin") return {};
  const s = access.scope;
  return {
    ...(s.provinceCode ? { provinceCode: s.provinceCode } : {}),
    ...(s.communeCode ? { communeCode: s.communeCode } : {}),
    ...(s.unitName ? { unitName: s.unitName } : {}),
  };
}

/** Two-person rule: a whole province or more, or more people than the threshold. */
export function needsApproval(a: Audience, count: number, threshold: number): boolean {
  return !a.communeCode || count > threshold;
}

export interface RecipientsSql {
  /** "FROM … WHERE …" selecting `u.telegram_id` (users u) and `c` (learning_citizens c). */
  from: string;
  params: unknown[];
}

/**
 * The one recipient query, for counting and for freezing: registered learning citizens, minus
 * people who blocked the bot and people who muted this topic. Parameters are numbered from
 * `first` so callers can put theirs before.
 */
export function recipientsSql(a: Audience, topic: string, first = 1): RecipientsSql {
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${first + params.length - 1}`;
  };
  const where = [
    "u.unreachable_since IS NULL",
    `NOT EXISTS (SELECT 1 FROM topic_mutes m WHERE m.user_id = u.telegram_id AND m.topic = ${p(topic)})`,
  ];
  if (a.provinceCode) where.push(`c.province_code = ${p(a.provinceCode)}`);
  if (a.communeCode) where.push(`c.commune_code = ${p(a.communeCode)}`);
  if (a.roles) where.push(`u.role::text = ANY(${p(a.roles)}::text[])`);
  if (a.affiliations) where.push(`c.affiliation::text = ANY(${p(a.affiliations)}::text[])`);
  if (a.goal) where.push(`${p(a.goal)} = ANY(c.goals)`);
  if (a.unitName) {
    where.push(`btrim(regexp_replace(translate(coalesce(c.unit_name, ''), ${p(FOLD.from)}, ${p(FOLD.to)}), '[^a-z0-9]+', ' ', 'g')) = ${p(unitKey(a.unitName))}`);
  }
  return { from: `FROM learning_citizens c JOIN users u ON u.telegram_id = c.user_id WHERE ${where.join(" AND ")}`, params };
}

/** unitKey in SQL over a column (the fold strings go in as parameters named by `p`): for grouping by unit. */
export function unitKeySql(column: string, p: (value: unknown) => string): string {
  return `btrim(regexp_replace(translate(coalesce(${column}, ''), ${p(FOLD.from)}, ${p(FOLD.to)}), '[^a-z0-9]+', ' ', 'g'))`;
}
