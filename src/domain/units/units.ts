/**
 * Units (đơn vị, issue 11) and their members: officers create, edit, delete and list the units of
 * their scope; people join by the unit's link, leave, and a unit's heads manage its members.
 * Every officer action re-reads nothing but the actor it is given and checks the unit's place
 * with unitPlaceInScope itself, whatever the bot checked: a forged id of another commune's unit
 * changes nothing. Counts go up the chain (one query per figure); names stay inside the unit.
 */
import { z } from "zod";
import type { PrismaClient, Unit } from "../../generated/prisma/client.js";
import type { Logger } from "../../logger.js";
import { isUniqueViolation } from "../citizens/citizen-service.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";
import type { Access } from "../users/user-service.js";
import {
  bodyOfKind, newToken, UNIT_BODIES, UNIT_KINDS, UNIT_LIMITS, unitNameKey, unitPlaceInScope, type UnitBody, type UnitKind,
} from "./model.js";

export type UnitActor = Access & { id: string };

/** The unit's join link: t.me/<bot>?start=u_<token>. */
export function unitJoinLink(botUsername: string, token: string): string {
  return `https://t.me/${botUsername}?start=u_${token}`;
}

/** The join poster's QR code as a PNG (as the sessions' check-in code: printable, error correction M). */
export async function unitQrPng(link: string): Promise<Buffer> {
  // Loaded when a poster is made: the library stays out of the bot's memory until then.
  const { default: QRCode } = await import("qrcode");
  return QRCode.toBuffer(link, { type: "png", errorCorrectionLevel: "M", margin: 2, width: 1000 });
}

const NS = "units";
const E = (key: string) => `${NS}:errors.${key}`;
/** Units per page of /units and of the parent picker. */
export const UNIT_PAGE_SIZE = 8;
/** Members per page of a unit's member list (heads) and of the head picker (officers). */
export const MEMBER_PAGE_SIZE = 8;
/** A Telegram name is at most 64+64 characters; kept shorter still. */
const DISPLAY_NAME_MAX = 80;
const TOKEN = /^[A-Za-z0-9_-]{24}$/;

/** Names as typed: NFC (some keyboards send decomposed letters), spaces collapsed. */
export function cleanUnitName(s: string): string {
  return s.normalize("NFC").replace(/\s+/g, " ").trim();
}

// Validators shared with the conversations (messages are i18n keys).
export const unitNameSchema = z
  .string()
  .transform(cleanUnitName)
  .pipe(z.string().min(UNIT_LIMITS.nameMin, E("name_length")).max(UNIT_LIMITS.nameMax, E("name_length")))
  .refine((s) => unitNameKey(s) !== "", E("name_letters"));
export const headcountSchema = z
  .number({ message: E("headcount") })
  .int(E("headcount"))
  .min(UNIT_LIMITS.headcountMin, E("headcount"))
  .max(UNIT_LIMITS.headcountMax, E("headcount"));
/** "1.200", "1 200", "1200 người": what officers type for a headcount. */
export const headcountTextSchema = z
  .string()
  .transform((s) => s.trim().replace(/\s*(người|nguoi|people|persons?)\.?$/i, "").replace(/[.\s,_]/g, ""))
  .pipe(z.string().regex(/^\d{1,7}$/, E("headcount")))
  .transform(Number)
  .pipe(headcountSchema);

const createSchema = z.object({
  name: unitNameSchema,
  kind: z.enum(UNIT_KINDS, { message: E("kind") }),
  body: z.enum(UNIT_BODIES, { message: E("body") }).optional(),
  communeCode: z.string().regex(/^\d{5}$/, E("commune")),
  parentId: z.number().int().positive().nullish(),
  headcount: headcountSchema,
});
export type UnitInput = z.input<typeof createSchema>;

const patchSchema = z
  .object({
    name: unitNameSchema,
    kind: z.enum(UNIT_KINDS, { message: E("kind") }),
    body: z.enum(UNIT_BODIES, { message: E("body") }),
    parentId: z.number().int().positive().nullable(),
    headcount: headcountSchema,
  })
  .partial()
  .strict();
export type UnitPatch = z.input<typeof patchSchema>;
export type UnitField = keyof UnitPatch;

export interface UnitError {
  key: string;
  params?: Record<string, string | number>;
}

export type UnitFailReason =
  | "forbidden" | "no_scope" | "not_found" | "out_of_scope" | "invalid" | "duplicate" | "parent" | "cycle" | "too_deep"
  | "headcount_below_registered" | "has_children" | "bad_token" | "deleted" | "not_member" | "not_head" | "heads_full"
  | "head_removing_head" | "heads_only";

export interface UnitFailure {
  ok: false;
  reason: UnitFailReason;
  errors: UnitError[];
}

const fail = (reason: UnitFailReason, errors?: UnitError[]): UnitFailure => ({
  ok: false, reason, errors: errors ?? [{ key: reason === "forbidden" ? "common:errors.forbidden" : E(reason) }],
});

export interface UnitDto {
  id: number;
  name: string;
  kind: UnitKind;
  body: UnitBody;
  provinceCode: string;
  communeCode: string;
  parentId: number | null;
  headcount: number;
  learningStatus: string;
  joinToken: string;
}

export interface UnitCounts {
  members: number;
  /** Members registered as learning citizens. */
  registered: number;
  heads: number;
}

export interface UnitListItem extends UnitDto, UnitCounts {
  /** 0 for a unit whose parent is outside the list (or none), then 1, 2… down the tree. */
  depth: number;
}

export interface UnitView {
  ok: true;
  unit: UnitDto;
  counts: UnitCounts;
  parent: { id: number; name: string } | null;
  /** Live units directly under this one. */
  children: number;
  /** The heads' names (registered name, else the Telegram name they joined with). */
  heads: Array<{ userId: string; name: string }>;
  /** The caller is an officer of the unit's place (edits, deletes, appoints heads). */
  manage: boolean;
  /** The caller is one of the unit's heads (sees and removes members). */
  head: boolean;
}

export interface TreeNode {
  id: number;
  name: string;
  parentId: number | null;
  depth: number;
  headcount: number;
  members: number;
  registered: number;
  /** This unit and every live unit under it, summed. */
  totalHeadcount: number;
  totalMembers: number;
  totalRegistered: number;
}

export interface MemberItem {
  userId: string;
  name: string;
  role: "member" | "head";
  /** Shown to the unit's heads only; undefined for officers (names without who registered). */
  registered?: boolean;
}

export interface JoinedUnit {
  id: number;
  name: string;
  provinceCode: string;
  communeCode: string;
}

export interface UnitServiceDeps {
  prisma: PrismaClient;
  now: () => Date;
  logger: Logger;
}

function dto(u: Unit): UnitDto {
  return {
    id: u.id, name: u.name, kind: u.kind as UnitKind, body: u.body as UnitBody, provinceCode: u.provinceCode, communeCode: u.communeCode,
    parentId: u.parentId, headcount: u.headcount, learningStatus: u.learningStatus, joinToken: u.joinToken,
  };
}

const isOfficer = (a: Access) => a.role === "admin" || a.role === "officer";

/** The SQL condition limiting `u` (units) to an officer's scope; parameters from `first`. */
function scopeSql(access: Access, first: number): { sql: string; params: unknown[] } {
  if (access.role === "admin") return { sql: "TRUE", params: [] };
  if (access.scope.communeCode) return { sql: `u.commune_code = $${first}`, params: [access.scope.communeCode] };
  return { sql: `u.province_code = $${first}`, params: [access.scope.provinceCode] };
}

/**
 * Per-unit counts, for `u` (units): members and registered learning citizens from the counters the
 * database triggers keep (migration 20261128230000_target_counters), heads from the (unit, role) index.
 */
const COUNTS_JOIN = `LEFT JOIN LATERAL (
  SELECT u.members_count AS members, u.registered_count AS registered,
         (SELECT count(*)::int FROM unit_members um WHERE um.unit_id = u.id AND um.role = 'head') AS heads
) n ON TRUE`;

const clampPage = (page: number | undefined, pages: number) => Math.min(Math.max(0, Math.trunc(page ?? 0)), pages - 1);

export class UnitService {
  private readonly prisma: PrismaClient;
  private readonly now: () => Date;
  private readonly logger: Logger;

  constructor(deps: UnitServiceDeps) {
    this.prisma = deps.prisma;
    this.now = deps.now;
    this.logger = deps.logger;
  }

  // ── officers: units ──────────────────────────────────────────────────────────────────────────

  /** Validates, checks the commune, the scope and the parent, then stores the unit (audited, ids only). */
  async create(actor: UnitActor, input: UnitInput): Promise<{ ok: true; unit: UnitDto } | UnitFailure> {
    const officer = this.officerCheck(actor);
    if (officer) return officer;
    const parsed = createSchema.safeParse(input);
    if (!parsed.success) return fail("invalid", parsed.error.issues.map((i) => ({ key: i.message })));
    const v = parsed.data;
    const commune = await this.prisma.commune.findUnique({ where: { code: v.communeCode }, select: { provinceCode: true } });
    if (!commune) return fail("invalid", [{ key: E("commune") }]);
    const place = { provinceCode: commune.provinceCode, communeCode: v.communeCode };
    if (!unitPlaceInScope(actor, place)) return this.outOfScope(actor, "create");
    if (v.parentId) {
      const parent = await this.parentProblem(actor, v.parentId, undefined);
      if (parent) return parent;
    }
    const nameKey = unitNameKey(v.name);
    const clash = await this.clash(v.communeCode, nameKey);
    if (clash) return clash;
    try {
      const unit = await this.prisma.$transaction(async (tx) => {
        const created = await tx.unit.create({
          data: {
            name: v.name, nameKey, kind: v.kind, body: v.body ?? bodyOfKind(v.kind), ...place, parentId: v.parentId ?? null,
            headcount: v.headcount, joinToken: newToken(), createdById: BigInt(actor.id),
          },
        });
        await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "unit_created", detail: { unitId: created.id, communeCode: v.communeCode }, at: this.now() } });
        return created;
      });
      return { ok: true, unit: dto(unit) };
    } catch (e) {
      // Two officers adding the same name at once: the unique index decides, the loser is told.
      if (!isUniqueViolation(e)) throw e;
      const lost = await this.clash(v.communeCode, nameKey);
      if (!lost) throw e;
      return lost;
    }
  }

  /** Changes some fields; nothing changed is not an error (and not audited). */
  async update(actor: UnitActor, id: number, patch: UnitPatch): Promise<{ ok: true; unit: UnitDto; changed: UnitField[] } | UnitFailure> {
    const found = await this.managed(actor, id);
    if (!found.ok) return found;
    const current = found.unit;
    const parsed = patchSchema.safeParse(patch);
    if (!parsed.success) return fail("invalid", parsed.error.issues.map((i) => ({ key: i.message })));
    const p = parsed.data;
    const next = {
      name: p.name ?? current.name,
      kind: p.kind ?? (current.kind as UnitKind),
      // A body that followed the kind follows it again; one an officer chose stays.
      body: p.body ?? (p.kind && current.body === bodyOfKind(current.kind as UnitKind) ? bodyOfKind(p.kind) : current.body),
      parentId: p.parentId === undefined ? current.parentId : p.parentId,
      headcount: p.headcount ?? current.headcount,
    };
    const changed = (["name", "kind", "body", "parentId", "headcount"] as const).filter((f) => next[f] !== current[f]);
    if (changed.length === 0) return { ok: true, unit: dto(current), changed };
    const nameKey = unitNameKey(next.name);
    if (changed.includes("name") && nameKey !== current.nameKey) {
      const clash = await this.clash(current.communeCode, nameKey);
      if (clash) return clash;
    }
    if (changed.includes("parentId") && next.parentId !== null) {
      const parent = await this.parentProblem(actor, next.parentId, id);
      if (parent) return parent;
    }
    try {
      const result = await this.prisma.$transaction(async (tx) => {
        if (changed.includes("headcount")) {
          const registered = await this.registeredCount(tx as PrismaClient, id);
          if (next.headcount < registered) return fail("headcount_below_registered", [{ key: E("headcount_below_registered"), params: { registered, headcount: next.headcount } }]);
        }
        const updated = await tx.unit.update({ where: { id }, data: { ...next, nameKey } });
        await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "unit_updated", detail: { unitId: id, fields: changed }, at: this.now() } });
        return { ok: true as const, unit: dto(updated), changed: changed as UnitField[] };
      });
      return result;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const lost = await this.clash(current.communeCode, nameKey);
      if (!lost) throw e;
      return lost;
    }
  }

  /**
   * Soft delete: the row and its members stay for past counts, but it is listed nowhere and its
   * link says it was deleted. Its name is freed for a new unit of the commune (the stored key gets
   * a suffix unitNameKey never produces). A unit with live units under it is refused: move or
   * delete those first, so no post is left hanging under a deleted command.
   */
  async remove(actor: UnitActor, id: number): Promise<{ ok: true; unit: UnitDto } | UnitFailure> {
    const found = await this.managed(actor, id);
    if (!found.ok) return found;
    const children = await this.prisma.unit.count({ where: { parentId: id, deletedAt: null } });
    if (children > 0) return fail("has_children", [{ key: E("has_children"), params: { count: children } }]);
    const unit = await this.prisma.$transaction(async (tx) => {
      const removed = await tx.unit.update({ where: { id }, data: { deletedAt: this.now(), nameKey: `${found.unit.nameKey}~deleted~${id}` } });
      await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "unit_deleted", detail: { unitId: id }, at: this.now() } });
      return removed;
    });
    return { ok: true, unit: dto(unit) };
  }

  /** A new join link: the old one stops working at once. */
  async rotateToken(actor: UnitActor, id: number): Promise<{ ok: true; unit: UnitDto } | UnitFailure> {
    const found = await this.managed(actor, id);
    if (!found.ok) return found;
    const unit = await this.prisma.$transaction(async (tx) => {
      const rotated = await tx.unit.update({ where: { id }, data: { joinToken: newToken() } });
      await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "unit_token_rotated", detail: { unitId: id }, at: this.now() } });
      return rotated;
    });
    return { ok: true, unit: dto(unit) };
  }

  /**
   * The live units of the caller's scope in tree order (a unit whose parent is outside the scope
   * starts a tree), trees by commune then name, with their counts: one query for the page.
   */
  async list(actor: Access, opts: { page?: number; pageSize?: number } = {}): Promise<{ ok: true; items: UnitListItem[]; page: number; pages: number; total: number } | UnitFailure> {
    const officer = this.officerCheck(actor);
    if (officer) return officer;
    const pageSize = opts.pageSize ?? UNIT_PAGE_SIZE;
    const scope = scopeSql(actor, 1);
    const [{ total }] = await this.prisma.$queryRawUnsafe<[{ total: number }]>(`SELECT count(*)::int AS total FROM units u WHERE u.deleted_at IS NULL AND ${scope.sql}`, ...scope.params);
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const page = clampPage(opts.page, pages);
    if (total === 0) return { ok: true, items: [], page, pages, total };
    const n = scope.params.length;
    const rows = await this.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(
      `WITH RECURSIVE scoped AS (
         SELECT u.id, u.parent_id, u.name_key, u.commune_code FROM units u WHERE u.deleted_at IS NULL AND ${scope.sql}
       ), walk AS (
         SELECT s.id, ARRAY[s.commune_code || ' ' || s.name_key || ' ' || lpad(s.id::text, 10, '0')] AS path, 0 AS depth
         FROM scoped s WHERE s.parent_id IS NULL OR s.parent_id NOT IN (SELECT id FROM scoped)
         UNION ALL
         SELECT s.id, w.path || (s.name_key || ' ' || lpad(s.id::text, 10, '0')), w.depth + 1
         FROM scoped s JOIN walk w ON s.parent_id = w.id WHERE w.depth < ${UNIT_LIMITS.depthMax * 2}
       )
       SELECT u.*, w.depth, n.members, n.registered, n.heads
       FROM walk w JOIN units u ON u.id = w.id ${COUNTS_JOIN}
       ORDER BY w.path COLLATE "C" LIMIT $${n + 1} OFFSET $${n + 2}`,
      ...scope.params, pageSize, page * pageSize,
    );
    return { ok: true, items: rows.map(listItem), page, pages, total };
  }

  /** A unit with its counts and heads, for an officer of its place or one of its heads. */
  async get(actor: UnitActor, id: number): Promise<UnitView | UnitFailure> {
    const found = await this.managedOrHead(actor, id);
    if (!found.ok) return found;
    const { unit } = found;
    const [counts] = await this.prisma.$queryRawUnsafe<[UnitCounts & { children: number }]>(
      `SELECT n.members, n.registered, n.heads, (SELECT count(*)::int FROM units c WHERE c.parent_id = u.id AND c.deleted_at IS NULL) AS children
       FROM units u ${COUNTS_JOIN} WHERE u.id = $1`, id,
    );
    const heads = await this.prisma.unitMember.findMany({
      where: { unitId: id, role: "head" }, orderBy: { joinedAt: "asc" },
      select: { userId: true, displayName: true, user: { select: { citizen: { select: { fullName: true } } } } },
    });
    const parent = unit.parentId ? await this.prisma.unit.findFirst({ where: { id: unit.parentId, deletedAt: null }, select: { id: true, name: true } }) : null;
    return {
      ok: true, unit: dto(unit), counts: { members: counts.members, registered: counts.registered, heads: counts.heads }, children: counts.children, parent,
      heads: heads.map((h) => ({ userId: h.userId.toString(), name: h.user.citizen?.fullName ?? h.displayName })),
      manage: found.manage, head: found.head,
    };
  }

  /**
   * A unit and every live unit under it, each with its own counts and the counts rolled up its
   * subtree (a province's command sees its posts): one recursive query.
   */
  async tree(actor: UnitActor, rootId: number): Promise<{ ok: true; nodes: TreeNode[] } | UnitFailure> {
    const found = await this.managedOrHead(actor, rootId);
    if (!found.ok) return found;
    const rows = await this.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(
      `WITH RECURSIVE sub AS (
         SELECT u.id, 0 AS depth, ARRAY[u.id] AS ids, ARRAY[]::text[] AS path FROM units u WHERE u.id = $1 AND u.deleted_at IS NULL
         UNION ALL
         SELECT u.id, s.depth + 1, s.ids || u.id, s.path || (u.name_key || ' ' || lpad(u.id::text, 10, '0'))
         FROM units u JOIN sub s ON u.parent_id = s.id
         WHERE u.deleted_at IS NULL AND NOT u.id = ANY(s.ids) AND s.depth < ${UNIT_LIMITS.depthMax * 2}
       ), own AS (
         SELECT s.id, u.headcount, n.members, n.registered FROM sub s JOIN units u ON u.id = s.id ${COUNTS_JOIN}
       )
       SELECT s.id, u.name, u.parent_id, s.depth, o.headcount, o.members, o.registered,
              sum(od.headcount)::int AS total_headcount, sum(od.members)::int AS total_members, sum(od.registered)::int AS total_registered
       FROM sub s JOIN units u ON u.id = s.id JOIN own o ON o.id = s.id
       JOIN sub d ON s.id = ANY(d.ids) JOIN own od ON od.id = d.id
       GROUP BY s.id, u.name, u.parent_id, s.depth, s.path, o.headcount, o.members, o.registered
       ORDER BY s.path COLLATE "C"`,
      rootId,
    );
    return {
      ok: true,
      nodes: rows.map((r) => ({
        id: Number(r.id), name: String(r.name), parentId: r.parent_id === null ? null : Number(r.parent_id), depth: Number(r.depth),
        headcount: Number(r.headcount), members: Number(r.members), registered: Number(r.registered),
        totalHeadcount: Number(r.total_headcount), totalMembers: Number(r.total_members), totalRegistered: Number(r.total_registered),
      })),
    };
  }

  /** Live units of the caller's scope a unit could be put under (the parent picker), by name. */
  async parentChoices(actor: Access, opts: { page?: number; exceptId?: number } = {}): Promise<{ ok: true; items: Array<{ id: number; name: string }>; page: number; pages: number; total: number } | UnitFailure> {
    const officer = this.officerCheck(actor);
    if (officer) return officer;
    const where = { deletedAt: null, ...(actor.role === "admin" ? {} : actor.scope.communeCode ? { communeCode: actor.scope.communeCode } : { provinceCode: actor.scope.provinceCode }), ...(opts.exceptId ? { id: { not: opts.exceptId } } : {}) };
    const total = await this.prisma.unit.count({ where });
    const pages = Math.max(1, Math.ceil(total / UNIT_PAGE_SIZE));
    const page = clampPage(opts.page, pages);
    const items = await this.prisma.unit.findMany({ where, orderBy: [{ nameKey: "asc" }, { id: "asc" }], skip: page * UNIT_PAGE_SIZE, take: UNIT_PAGE_SIZE, select: { id: true, name: true } });
    return { ok: true, items, page, pages, total };
  }

  /** A unit picked as a parent, when it is live and in the caller's scope (saving checks it all again). */
  async parentCandidate(actor: Access, id: number): Promise<{ id: number; name: string } | undefined> {
    if (this.officerCheck(actor)) return undefined;
    const unit = await this.liveUnit(id);
    return unit && unitPlaceInScope(actor, unit) ? { id: unit.id, name: unit.name } : undefined;
  }

  // ── heads ────────────────────────────────────────────────────────────────────────────────────

  /** An officer of the unit's place makes a member a head (at most UNIT_LIMITS.headsMax). */
  async addHead(actor: UnitActor, unitId: number, userId: string): Promise<{ ok: true; changed: boolean; name: string } | UnitFailure> {
    const found = await this.managed(actor, unitId);
    if (!found.ok) return found;
    const member = await this.memberRow(unitId, userId);
    if (!member) return fail("not_member");
    if (member.role === "head") return { ok: true, changed: false, name: member.name };
    return this.prisma.$transaction(async (tx) => {
      // Counted inside the transaction that promotes: two quick presses cannot pass the limit together.
      await tx.$queryRawUnsafe(`SELECT id FROM units WHERE id = $1 FOR UPDATE`, unitId);
      const heads = await tx.unitMember.count({ where: { unitId, role: "head" } });
      if (heads >= UNIT_LIMITS.headsMax) return fail("heads_full", [{ key: E("heads_full"), params: { max: UNIT_LIMITS.headsMax } }]);
      await tx.unitMember.update({ where: { unitId_userId: { unitId, userId: BigInt(userId) } }, data: { role: "head" } });
      await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "unit_head_added", detail: { unitId }, at: this.now() } });
      return { ok: true as const, changed: true, name: member.name };
    });
  }

  /**
   * An officer of the unit's place takes a head's role back; a head may step down themselves, but
   * never remove another head (heads are appointed by officers, not by each other).
   */
  async removeHead(actor: UnitActor, unitId: number, userId: string): Promise<{ ok: true; changed: boolean; name: string } | UnitFailure> {
    const found = await this.managedOrHead(actor, unitId);
    if (!found.ok) return found;
    if (!found.manage && userId !== actor.id) {
      this.logger.warn({ unit: unitId, user: actor.id }, "refused a unit head removing another head");
      return fail("head_removing_head");
    }
    const member = await this.memberRow(unitId, userId);
    if (!member) return fail("not_member");
    if (member.role !== "head") return { ok: true, changed: false, name: member.name };
    await this.prisma.$transaction([
      this.prisma.unitMember.update({ where: { unitId_userId: { unitId, userId: BigInt(userId) } }, data: { role: "member" } }),
      this.prisma.auditLog.create({ data: { actorId: BigInt(actor.id), action: "unit_head_removed", detail: { unitId }, at: this.now() } }),
    ]);
    return { ok: true, changed: true, name: member.name };
  }

  // ── members ──────────────────────────────────────────────────────────────────────────────────

  /** What a join link opens: the unit (live), and whether the person is in it already. */
  async peek(token: string, userId: string): Promise<{ ok: true; unit: JoinedUnit; member: boolean } | UnitFailure> {
    const unit = await this.byToken(token);
    if (!unit.ok) return unit;
    const member = await this.prisma.unitMember.count({ where: { unitId: unit.unit.id, userId: BigInt(userId) } });
    return { ok: true, unit: unit.unit, member: member > 0 };
  }

  /**
   * Joins by the unit's link: refused for a deleted unit or a wrong or rotated token; a second
   * join changes nothing but the Telegram name kept for the heads' list.
   */
  async join(userId: string, token: string, displayName: string): Promise<{ ok: true; unit: JoinedUnit; already: boolean } | UnitFailure> {
    const unit = await this.byToken(token);
    if (!unit.ok) return unit;
    return this.addMember(userId, unit.unit, displayName);
  }

  /**
   * The registration's "join unit X?": the unit is matched again from the registered answers
   * (nothing the person could forge), then joined.
   */
  async joinMatched(userId: string, match: { provinceCode: string; communeCode: string; name: string }, displayName: string): Promise<{ ok: true; unit: JoinedUnit; already: boolean } | UnitFailure> {
    const found = await this.matchByName(match.provinceCode, match.communeCode, match.name);
    if (!found) return fail("not_found");
    return this.addMember(userId, found, displayName);
  }

  /** Leaves a unit (a head's role goes with it); leaving twice is not an error. */
  async leave(userId: string, unitId: number): Promise<{ ok: true; left: boolean; name?: string }> {
    const unit = await this.prisma.unit.findUnique({ where: { id: unitId }, select: { name: true } });
    const { count } = await this.prisma.unitMember.deleteMany({ where: { unitId, userId: BigInt(userId) } });
    return { ok: true, left: count > 0, name: unit?.name };
  }

  /** A head of the unit or an officer of its place removes a member; a head cannot remove another head. */
  async removeMember(actor: UnitActor, unitId: number, userId: string): Promise<{ ok: true; removed: boolean; name?: string } | UnitFailure> {
    const found = await this.managedOrHead(actor, unitId);
    if (!found.ok) return found;
    const member = await this.memberRow(unitId, userId);
    if (!member) return { ok: true, removed: false };
    if (!found.manage && member.role === "head" && userId !== actor.id) {
      this.logger.warn({ unit: unitId, user: actor.id }, "refused a unit head removing another head");
      return fail("head_removing_head");
    }
    await this.prisma.$transaction([
      this.prisma.unitMember.deleteMany({ where: { unitId, userId: BigInt(userId) } }),
      this.prisma.auditLog.create({ data: { actorId: BigInt(actor.id), action: "unit_member_removed", detail: { unitId }, at: this.now() } }),
    ]);
    return { ok: true, removed: true, name: member.name };
  }

  /** The person's live units, with their role. */
  async mine(userId: string): Promise<Array<JoinedUnit & { role: "member" | "head"; kind: UnitKind }>> {
    const rows = await this.prisma.unitMember.findMany({
      where: { userId: BigInt(userId), unit: { deletedAt: null } }, orderBy: { joinedAt: "asc" },
      select: { role: true, unit: { select: { id: true, name: true, provinceCode: true, communeCode: true, kind: true } } },
    });
    return rows.map((r) => ({ ...r.unit, kind: r.unit.kind as UnitKind, role: r.role === "head" ? "head" : "member" }));
  }

  /**
   * A unit's members, a page at a time: for its heads (with who registered) and for officers of
   * its place choosing a head (names only, without who registered).
   */
  async members(actor: UnitActor, unitId: number, opts: { page?: number } = {}): Promise<{ ok: true; items: MemberItem[]; page: number; pages: number; total: number } | UnitFailure> {
    const found = await this.managedOrHead(actor, unitId);
    if (!found.ok) return found;
    const total = await this.prisma.unitMember.count({ where: { unitId } });
    const pages = Math.max(1, Math.ceil(total / MEMBER_PAGE_SIZE));
    const page = clampPage(opts.page, pages);
    const rows = await this.prisma.unitMember.findMany({
      where: { unitId }, orderBy: [{ role: "asc" }, { displayName: "asc" }, { userId: "asc" }], skip: page * MEMBER_PAGE_SIZE, take: MEMBER_PAGE_SIZE,
      select: { userId: true, role: true, displayName: true, user: { select: { citizen: { select: { fullName: true } } } } },
    });
    return {
      ok: true, page, pages, total,
      items: rows.map((r) => ({
        userId: r.userId.toString(), name: r.user.citizen?.fullName ?? r.displayName, role: r.role === "head" ? "head" : "member",
        ...(found.head ? { registered: r.user.citizen !== null } : {}),
      })),
    };
  }

  /** One member of a unit (name and role), for its heads and the officers of its place. */
  async memberOf(actor: UnitActor, unitId: number, userId: string): Promise<{ ok: true; member: { name: string; role: string } | undefined } | UnitFailure> {
    const found = await this.managedOrHead(actor, unitId);
    if (!found.ok) return found;
    return { ok: true, member: await this.memberRow(unitId, userId) };
  }

  /**
   * The members not registered as learning citizens yet, by the Telegram name they joined with:
   * the unit's heads only. Officers see the counts (get), never these names.
   */
  async unregistered(actor: UnitActor, unitId: number): Promise<{ ok: true; names: Array<{ userId: string; name: string }>; total: number } | UnitFailure> {
    const found = await this.managedOrHead(actor, unitId);
    if (!found.ok) return found;
    if (!found.head) {
      if (found.manage) this.logger.info({ unit: unitId, user: actor.id }, "an officer asked for a unit's unregistered names: counts only");
      return fail("heads_only");
    }
    const rows = await this.prisma.unitMember.findMany({
      where: { unitId, user: { citizen: { is: null } } }, orderBy: [{ displayName: "asc" }, { userId: "asc" }], select: { userId: true, displayName: true },
    });
    return { ok: true, total: rows.length, names: rows.map((r) => ({ userId: r.userId.toString(), name: r.displayName })) };
  }

  /**
   * The registration's free-text unit name as a real unit: the commune's unit with the same key,
   * else the province's only unit with it (several: none, the person can use the unit's link).
   */
  async matchByName(provinceCode: string, communeCode: string, name: string): Promise<JoinedUnit | undefined> {
    const nameKey = unitNameKey(name);
    if (nameKey === "") return undefined;
    const select = { id: true, name: true, provinceCode: true, communeCode: true } as const;
    const own = await this.prisma.unit.findFirst({ where: { communeCode, nameKey, deletedAt: null }, select });
    if (own) return own;
    const province = await this.prisma.unit.findMany({ where: { provinceCode, nameKey, deletedAt: null }, select, take: 2 });
    return province.length === 1 ? province[0] : undefined;
  }

  /** unit_memberships: the person's units (role, the name kept); erasure deletes them and drops them as creator. */
  dataParts(): PersonalDataPart[] {
    const prisma = this.prisma;
    return [
      {
        key: "unit_memberships",
        label: `${NS}:personal_data`,
        kind: "database",
        export: async (id) => {
          const user = BigInt(id);
          const [memberships, created] = await Promise.all([
            prisma.unitMember.findMany({ where: { userId: user }, orderBy: { joinedAt: "asc" }, select: { unitId: true, role: true, displayName: true, joinedAt: true, unit: { select: { name: true } } } }),
            prisma.unit.findMany({ where: { createdById: user }, orderBy: { id: "asc" }, select: { id: true, name: true, createdAt: true } }),
          ]);
          if (memberships.length === 0 && created.length === 0) return null;
          return toPlainJson({
            memberships: memberships.map((m) => ({ unitId: m.unitId, unit: m.unit.name, role: m.role, displayName: m.displayName, joinedAt: m.joinedAt })),
            unitsCreated: created,
          });
        },
        exists: async (id) => {
          const user = BigInt(id);
          const [m, c] = await Promise.all([prisma.unitMember.count({ where: { userId: user } }), prisma.unit.count({ where: { createdById: user } })]);
          return m + c > 0;
        },
        erase: async (id, tx) => {
          const db = tx ?? prisma;
          const user = BigInt(id);
          const m = await db.unitMember.deleteMany({ where: { userId: user } });
          const c = await db.unit.updateMany({ where: { createdById: user }, data: { createdById: null } });
          return m.count + c.count > 0;
        },
      },
    ];
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────

  private officerCheck(actor: Access): UnitFailure | undefined {
    if (!isOfficer(actor)) return fail("forbidden");
    if (actor.role === "officer" && !actor.scope.provinceCode) return fail("no_scope");
    return undefined;
  }

  private outOfScope(actor: { id?: string }, what: string, unitId?: number): UnitFailure {
    this.logger.warn({ unit: unitId, user: actor.id, action: what }, "refused a unit outside the officer's scope");
    return fail("out_of_scope");
  }

  /** A live unit the officer manages (its place in their scope). */
  private async managed(actor: UnitActor, id: number): Promise<{ ok: true; unit: Unit } | UnitFailure> {
    const officer = this.officerCheck(actor);
    if (officer) return officer;
    const unit = await this.liveUnit(id);
    if (!unit) return fail("not_found");
    if (!unitPlaceInScope(actor, unit)) return this.outOfScope(actor, "manage", id);
    return { ok: true, unit };
  }

  /** A live unit the caller manages as an officer of its place, or leads as one of its heads. */
  private async managedOrHead(actor: UnitActor, id: number): Promise<{ ok: true; unit: Unit; manage: boolean; head: boolean } | UnitFailure> {
    const unit = await this.liveUnit(id);
    if (!unit) return fail("not_found");
    const manage = isOfficer(actor) && unitPlaceInScope(actor, unit);
    const head = /^\d{1,16}$/.test(actor.id)
      ? (await this.prisma.unitMember.count({ where: { unitId: id, userId: BigInt(actor.id), role: "head" } })) > 0
      : false;
    if (!manage && !head) return isOfficer(actor) ? this.outOfScope(actor, "view", id) : fail("forbidden");
    return { ok: true, unit, manage, head };
  }

  private async liveUnit(id: number): Promise<Unit | null> {
    if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) return null;
    return this.prisma.unit.findFirst({ where: { id, deletedAt: null } });
  }

  private async clash(communeCode: string, nameKey: string): Promise<UnitFailure | undefined> {
    const existing = await this.prisma.unit.findUnique({ where: { communeCode_nameKey: { communeCode, nameKey } }, select: { id: true, name: true } });
    return existing ? fail("duplicate", [{ key: E("duplicate"), params: { id: existing.id, name: existing.name } }]) : undefined;
  }

  /**
   * Why a unit cannot go under this parent: gone or deleted, outside the officer's scope, the
   * unit itself or one of its own descendants (a cycle), or the tree would grow deeper than
   * UNIT_LIMITS.depthMax. Undefined when it can.
   */
  private async parentProblem(actor: Access, parentId: number, unitId: number | undefined): Promise<UnitFailure | undefined> {
    const parent = await this.liveUnit(parentId);
    if (!parent) return fail("parent", [{ key: E("parent_not_found") }]);
    if (!unitPlaceInScope(actor, parent)) return fail("parent", [{ key: E("parent_out_of_scope") }]);
    const [up] = await this.prisma.$queryRawUnsafe<[{ depth: number; cycle: boolean }]>(
      `WITH RECURSIVE up AS (
         SELECT id, parent_id, 1 AS n, ARRAY[id] AS seen FROM units WHERE id = $1
         UNION ALL
         SELECT u.id, u.parent_id, up.n + 1, up.seen || u.id FROM units u JOIN up ON u.id = up.parent_id
         WHERE NOT u.id = ANY(up.seen) AND up.n < 64
       )
       SELECT max(n)::int AS depth, coalesce(bool_or(id = $2), false) AS cycle FROM up`,
      parentId, unitId ?? 0,
    );
    if (up.cycle) return fail("cycle");
    let height = 1;
    if (unitId !== undefined) {
      const [down] = await this.prisma.$queryRawUnsafe<[{ height: number }]>(
        `WITH RECURSIVE down AS (
           SELECT id, 1 AS n, ARRAY[id] AS seen FROM units WHERE id = $1
           UNION ALL
           SELECT u.id, d.n + 1, d.seen || u.id FROM units u JOIN down d ON u.parent_id = d.id
           WHERE u.deleted_at IS NULL AND NOT u.id = ANY(d.seen) AND d.n < 64
         )
         SELECT max(n)::int AS height FROM down`,
        unitId,
      );
      height = down.height;
    }
    if (up.depth + height > UNIT_LIMITS.depthMax) return fail("too_deep", [{ key: E("too_deep"), params: { max: UNIT_LIMITS.depthMax } }]);
    return undefined;
  }

  private async registeredCount(db: PrismaClient, unitId: number): Promise<number> {
    // Kept by the database's triggers (migration 20261128230000_target_counters).
    const [{ n }] = await db.$queryRawUnsafe<[{ n: number }]>(`SELECT registered_count AS n FROM units WHERE id = $1`, unitId);
    return n;
  }

  private async memberRow(unitId: number, userId: string): Promise<{ role: string; name: string } | undefined> {
    if (!/^\d{1,16}$/.test(userId)) return undefined;
    const m = await this.prisma.unitMember.findUnique({
      where: { unitId_userId: { unitId, userId: BigInt(userId) } },
      select: { role: true, displayName: true, user: { select: { citizen: { select: { fullName: true } } } } },
    });
    return m ? { role: m.role, name: m.user.citizen?.fullName ?? m.displayName } : undefined;
  }

  private async byToken(token: string): Promise<{ ok: true; unit: JoinedUnit } | UnitFailure> {
    if (!TOKEN.test(token)) return fail("bad_token");
    const unit = await this.prisma.unit.findUnique({ where: { joinToken: token }, select: { id: true, name: true, provinceCode: true, communeCode: true, deletedAt: true } });
    if (!unit) return fail("bad_token");
    if (unit.deletedAt) return fail("deleted", [{ key: E("deleted"), params: { name: unit.name } }]);
    const { deletedAt: _d, ...live } = unit;
    return { ok: true, unit: live };
  }

  private async addMember(userId: string, unit: JoinedUnit, displayName: string): Promise<{ ok: true; unit: JoinedUnit; already: boolean } | UnitFailure> {
    const id = BigInt(userId);
    const name = cleanUnitName(displayName).slice(0, DISPLAY_NAME_MAX) || "?";
    return this.prisma.$transaction(async (tx) => {
      // A member needs a user row; people who have not registered get a plain one (role resident).
      await tx.user.upsert({ where: { id }, create: { id }, update: {} });
      const existing = await tx.unitMember.findUnique({ where: { unitId_userId: { unitId: unit.id, userId: id } }, select: { displayName: true } });
      if (existing) {
        if (existing.displayName !== name) await tx.unitMember.update({ where: { unitId_userId: { unitId: unit.id, userId: id } }, data: { displayName: name } });
        return { ok: true as const, unit, already: true };
      }
      // A deleted-meanwhile unit takes no one: the insert is conditional on it being live.
      const inserted = await tx.$executeRawUnsafe(
        `INSERT INTO unit_members (unit_id, user_id, role, display_name, joined_at)
         SELECT id, $2, 'member', $3, $4 FROM units WHERE id = $1 AND deleted_at IS NULL
         ON CONFLICT (unit_id, user_id) DO NOTHING`,
        unit.id, id, name, this.now(),
      );
      if (inserted === 0) {
        const again = await tx.unitMember.count({ where: { unitId: unit.id, userId: id } });
        if (again === 0) return fail("deleted", [{ key: E("deleted"), params: { name: unit.name } }]);
        return { ok: true as const, unit, already: true };
      }
      return { ok: true as const, unit, already: false };
    });
  }
}

function listItem(r: Record<string, unknown>): UnitListItem {
  return {
    id: Number(r.id), name: String(r.name), kind: r.kind as UnitKind, body: r.body as UnitBody, provinceCode: String(r.province_code), communeCode: String(r.commune_code),
    parentId: r.parent_id === null ? null : Number(r.parent_id), headcount: Number(r.headcount), learningStatus: String(r.learning_status), joinToken: String(r.join_token),
    depth: Number(r.depth), members: Number(r.members), registered: Number(r.registered), heads: Number(r.heads),
  };
}
