/**
 * Units and learning groups (issue 11): what every part shares — unit kinds and the body each
 * belongs to, limits, who manages a unit, the join and invite tokens, learning-unit statuses, and
 * percentages written the Vietnamese way. No grammY, no Redis.
 */
import { randomBytes } from "node:crypto";
import { unitKey } from "../broadcasts/audience.js";

/** Quân đội, công an, đồn biên phòng, trường học, cơ quan, doanh nghiệp, thôn/tổ dân phố. */
export const UNIT_KINDS = ["military_unit", "police_unit", "border_post", "school", "agency", "enterprise", "residential_group"] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

/** The bodies of the coordination programmes (the announcing bodies of broadcasts). */
export const UNIT_BODIES = ["association", "military_command", "police", "border_guard", "other"] as const;
export type UnitBody = (typeof UNIT_BODIES)[number];

/** The body a unit belongs to by its kind (an officer may choose another for schools, agencies…). */
export function bodyOfKind(kind: UnitKind): UnitBody {
  if (kind === "military_unit") return "military_command";
  if (kind === "police_unit") return "police";
  if (kind === "border_post") return "border_guard";
  return "other";
}

export const UNIT_LIMITS = {
  nameMin: 2,
  nameMax: 120,
  headcountMin: 1,
  headcountMax: 1_000_000,
  /** Heads per unit. */
  headsMax: 5,
  /** Depth of the unit tree (a province's command → a regiment → a post). */
  depthMax: 6,
  groupNameMax: 80,
  /** Members of one learning family. */
  familyMembersMax: 30,
  /** Rows of one unit import. */
  importRowsMax: 5_000,
} as const;

export const UNIT_ROLES = ["member", "head"] as const;
export type UnitRole = (typeof UNIT_ROLES)[number];

/** Đơn vị học tập: not asked, self-assessment sent, approved by an officer, returned with a reason. */
export const LEARNING_STATUSES = ["none", "pending", "approved", "returned"] as const;
export type LearningStatus = (typeof LEARNING_STATUSES)[number];

/** Learning groups: families now; clans (dòng họ) and communities (cộng đồng học tập) share the tables. */
export const GROUP_KINDS = ["family"] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

/** The key two unit names of one commune are compared by (case, diacritics, punctuation ignored). */
export function unitNameKey(name: string): string {
  return unitKey(name);
}

/** 24 URL-safe random characters (144 bits): a join or invite token. */
export function newToken(): string {
  return randomBytes(18).toString("base64url");
}

export const UNIT_JOIN_PAYLOAD = /^u_([A-Za-z0-9_-]{24})$/;
export const FAMILY_INVITE_PAYLOAD = /^f_([A-Za-z0-9_-]{24})$/;

export interface UnitAccess {
  role: string;
  scope: { provinceCode?: string; communeCode?: string };
}

/**
 * Whether an officer may manage units in this place (create, edit, delete, import, approve a
 * learning unit): admins anywhere, officers in their province, a commune officer only in their
 * commune. A unit's heads manage its members, not the unit (see the service).
 */
export function unitPlaceInScope(access: UnitAccess, place: { provinceCode: string; communeCode: string }): boolean {
  if (access.role === "admin") return true;
  if (access.role !== "officer") return false;
  const s = access.scope;
  if (!s.provinceCode || s.provinceCode !== place.provinceCode) return false;
  return !s.communeCode || s.communeCode === place.communeCode;
}

/**
 * A percentage the Vietnamese way, one decimal only when it is not whole: "37,5%", "100%";
 * English "37.5%". Rounds half up on the tenth.
 */
export function formatPercent(part: number, whole: number, locale: string): string {
  if (whole <= 0) return "—";
  const tenths = Math.round((part * 1000) / whole);
  const text = tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1);
  return `${locale === "en" ? text : text.replace(".", ",")}%`;
}

/** A count the Vietnamese way, "1.200", or the English "1,200": the units', targets' and digest's numbers. */
export function formatCount(n: number, locale: string): string {
  return n.toLocaleString(locale === "en" ? "en-US" : "vi-VN");
}

/** How many more people reach `target` percent of `whole` (0 when reached): "còn 37 người". */
export function gapTo(targetPercent: number, part: number, whole: number): number {
  return Math.max(0, Math.ceil((targetPercent * whole) / 100 - 1e-9) - part);
}
