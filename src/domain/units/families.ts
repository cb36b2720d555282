/**
 * Learning groups (issue 11): a registered learning citizen links their household as a learning
 * family (Gia đình học tập), invites the others by a link, and the family's status is derived from
 * its members' records against criteria kept as data (prisma/seed/learning-family-criteria.json).
 * Clans and communities will share the tables with other kinds: the service is built for one kind.
 *
 * One person is in at most one group of a kind: the unique (user_id, kind) index decides when two
 * creates or joins race. Every change to a group's members locks the group row first, so a full
 * family stays within its limit and an owner leaving hands over to exactly one member.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.js";
import type { Logger } from "../../logger.js";
import { isUniqueViolation } from "../citizens/citizen-service.js";
import { toPlainJson, type PersonalDataPart, type Tx } from "../privacy/registry.js";
import { UNIT_LIMITS, newToken, type GroupKind } from "./model.js";

type Db = PrismaClient | Prisma.TransactionClient | Tx;

export const DEFAULT_FAMILY_CRITERIA_FILE = fileURLToPath(new URL("../../../prisma/seed/learning-family-criteria.json", import.meta.url));

// ---- the criteria, as data --------------------------------------------------------------------

const localized = z.object({ vi: z.string().trim().min(1).max(600), en: z.string().trim().min(1).max(600) }).strict();
const ruleBase = { text: localized, source: localized };

/** The rules the service knows how to check; a province's file may drop any, thresholds are its own. */
export const ruleSchema = z.discriminatedUnion("key", [
  z.object({ key: z.literal("min_members"), min: z.number().int().min(1).max(UNIT_LIMITS.familyMembersMax), ...ruleBase }).strict(),
  z.object({ key: z.literal("adults_registered"), adultAge: z.number().int().min(10).max(25), ...ruleBase }).strict(),
  z.object({ key: z.literal("children_in_school"), ...ruleBase }).strict(),
]);
export type GroupRule = z.infer<typeof ruleSchema>;
export type RuleKey = GroupRule["key"];

export const criteriaSchema = z
  .object({
    version: z.string().trim().min(1).max(40),
    kind: z.string().min(1).max(16),
    title: localized,
    note: localized,
    source: localized.extend({ facts: z.array(z.string().regex(/^[A-Z]\d{1,2}$/)).min(1) }),
    rules: z.array(ruleSchema).min(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    const keys = c.rules.map((r) => r.key);
    if (new Set(keys).size !== keys.length) ctx.addIssue({ code: "custom", path: ["rules"], message: "each rule at most once" });
  });
export type GroupCriteria = z.infer<typeof criteriaSchema>;

/** Reads and validates a criteria file; a bad file stops the start with the file and the reason. */
export function loadGroupCriteria(file = DEFAULT_FAMILY_CRITERIA_FILE): GroupCriteria {
  const parsed = criteriaSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}

function rule<K extends RuleKey>(criteria: GroupCriteria, key: K): Extract<GroupRule, { key: K }> | undefined {
  return criteria.rules.find((r): r is Extract<GroupRule, { key: K }> => r.key === key);
}

// ---- status, in SQL -----------------------------------------------------------------------------

/** What a group still lacks, one entry per rule it does not meet (in the criteria's order). */
export type Missing =
  | { rule: "min_members"; need: number; have: number }
  | { rule: "adults_registered"; count: number }
  | { rule: "children_in_school"; declared: "no" | "unknown" };

export interface GroupStatus {
  groupId: number;
  met: boolean;
  members: number;
  missing: Missing[];
}

interface StatusRow {
  id: number;
  province_code: string;
  commune_code: string;
  children_in_school: boolean | null;
  members: number;
  unregistered: number;
  met: boolean;
}

/**
 * One row per group of `$1` (the kind) matching `where` (SQL over `g`, parameters from `$2`):
 * members, members without a learning card, the declaration, and `met`. Every figure — a card, a
 * family's screen, a commune's count, later the scoreboard and the report — comes from here.
 * Thresholds are integers validated at load, so they are written into the statement.
 */
export function groupStatusSql(criteria: GroupCriteria, where = "TRUE"): string {
  const min = rule(criteria, "min_members");
  const conditions = [
    min ? `g.members_count >= ${min.min}` : "",
    // A card holder is registered whatever their age; a member without a card (erased since
    // joining) has no year of birth left and counts as an adult not registered.
    rule(criteria, "adults_registered") ? "g.unregistered_count = 0" : "",
    rule(criteria, "children_in_school") ? "g.children_in_school IS TRUE" : "",
  ].filter(Boolean);
  // members_count and unregistered_count are kept by database triggers (migration
  // 20261128230000_target_counters): a province's families are counted without reading their members.
  return `
    SELECT g.id, g.province_code, g.commune_code, g.children_in_school,
           g.members_count AS members, g.unregistered_count AS unregistered,
           (${conditions.length ? conditions.join(" AND ") : "TRUE"}) AS met
      FROM learning_groups g
     WHERE g.kind = $1 AND (${where})`;
}

/** Same name as the brief's: the status statement of learning families. */
export const familyStatusSql = groupStatusSql;

export interface StatusCounts {
  total: number;
  met: number;
  inProgress: number;
}

// ---- inputs and results -------------------------------------------------------------------------

export const groupNameSchema = z
  .string()
  .transform((s) => s.normalize("NFC").replace(/\s+/g, " ").trim())
  .pipe(
    z
      .string()
      .min(2, "families:errors.name_length")
      .max(UNIT_LIMITS.groupNameMax, "families:errors.name_length")
      .regex(/^[\p{L}\p{M}\p{N} '’.,()\/&-]+$/u, "families:errors.name_chars"),
  );

const TOKEN = /^[A-Za-z0-9_-]{24}$/;

export type FailureReason =
  | "invalid_name"
  | "not_registered"
  | "already_member"
  | "already_here"
  | "not_found"
  | "full"
  | "no_family"
  | "not_owner"
  | "not_a_member"
  | "self"
  | "stale";

export interface Failure {
  ok: false;
  reason: FailureReason;
  /** The family concerned: the one the person is already in, or the one the link is for. */
  family?: string;
  /** invalid_name: the i18n key saying why. */
  message?: string;
}

const fail = (reason: FailureReason, extra: Omit<Failure, "ok" | "reason"> = {}): Failure => ({ ok: false, reason, ...extra });

export interface GroupRef {
  groupId: number;
  name: string;
}

export type CreateResult = ({ ok: true } & GroupRef & { token: string }) | Failure;
export type JoinResult = ({ ok: true } & GroupRef) | Failure;
export type InviteResult = ({ ok: true } & GroupRef & { token: string }) | Failure;
export type PeekResult = ({ ok: true } & GroupRef & { members: number; full: boolean }) | Failure;
export type LeaveResult =
  | ({ ok: true } & GroupRef & { deleted: boolean; newOwner?: { userId: string; name: string | null } })
  | Failure;
export type RemoveResult = ({ ok: true } & GroupRef & { removed: { userId: string; name: string | null } }) | Failure;
export type DeclareResult = ({ ok: true } & GroupRef & { childrenInSchool: boolean }) | Failure;

export interface GroupMemberView {
  userId: string;
  /** From the member's learning card; null when their card is gone. */
  name: string | null;
  role: "owner" | "member";
  joinedAt: Date;
}

export interface MyGroup extends GroupRef {
  role: "owner" | "member";
  provinceCode: string;
  communeCode: string;
  childrenInSchool: boolean | null;
  /** Longest-standing first: the order ownership passes in. */
  members: GroupMemberView[];
  status: GroupStatus;
}

export interface LearningGroupsDeps {
  prisma: PrismaClient;
  now: () => Date;
  logger: Logger;
  /** Default "family". */
  kind?: GroupKind;
  /** Default: the family criteria file. */
  criteria?: GroupCriteria;
}

// ---- the service ----------------------------------------------------------------------------------

export class LearningGroups {
  readonly kind: GroupKind;
  readonly criteria: GroupCriteria;

  constructor(private readonly d: LearningGroupsDeps) {
    this.kind = d.kind ?? "family";
    this.criteria = d.criteria ?? loadGroupCriteria();
    if (this.criteria.kind !== this.kind) throw new Error(`criteria of kind "${this.criteria.kind}" given for groups of kind "${this.kind}"`);
  }

  /** The owner's new group: their place from their registration; they cannot be in another. */
  async create(userId: string, input: { name: string }): Promise<CreateResult> {
    const name = groupNameSchema.safeParse(input.name);
    if (!name.success) return fail("invalid_name", { message: name.error.issues[0]?.message ?? "families:errors.name_length" });
    const user = BigInt(userId);
    const citizen = await this.d.prisma.learningCitizen.findUnique({ where: { userId: user }, select: { provinceCode: true, communeCode: true } });
    if (!citizen) return fail("not_registered");
    const existing = await this.membership(this.d.prisma, userId);
    if (existing) return fail("already_member", { family: existing.name });
    const now = this.d.now();
    try {
      const group = await this.d.prisma.learningGroup.create({
        data: {
          kind: this.kind, name: name.data, provinceCode: citizen.provinceCode, communeCode: citizen.communeCode, inviteToken: newToken(), createdAt: now,
          members: { create: { userId: user, kind: this.kind, role: "owner", joinedAt: now } },
        },
        select: { id: true, name: true, inviteToken: true },
      });
      return { ok: true, groupId: group.id, name: group.name, token: group.inviteToken };
    } catch (e) {
      // Two creates (or a create and a join) at once: the index kept one; the group went with the other.
      if (!isUniqueViolation(e)) throw e;
      return fail("already_member", { family: (await this.membership(this.d.prisma, userId))?.name });
    }
  }

  /** The owner's invite token (a new one with `rotate`: the old link stops working). */
  async invite(userId: string, opts: { rotate?: boolean; groupId?: number } = {}): Promise<InviteResult> {
    const m = await this.membership(this.d.prisma, userId);
    if (!m) return fail("no_family");
    if (opts.groupId !== undefined && m.groupId !== opts.groupId) return fail("stale");
    if (m.role !== "owner") return fail("not_owner", { family: m.name });
    if (!opts.rotate) return { ok: true, groupId: m.groupId, name: m.name, token: m.token };
    // Only while still the owner: a handover between the read and the write changes nothing.
    const token = newToken();
    const changed = await this.d.prisma.$executeRawUnsafe(
      `UPDATE learning_groups SET invite_token = $1, updated_at = $2::timestamptz AT TIME ZONE 'UTC'
        WHERE id = $3 AND EXISTS (SELECT 1 FROM learning_group_members WHERE group_id = $3 AND user_id = $4::bigint AND role = 'owner')`,
      token, this.d.now().toISOString(), m.groupId, userId,
    );
    return changed === 1 ? { ok: true, groupId: m.groupId, name: m.name, token } : fail("not_owner", { family: m.name });
  }

  /** What an invite link leads to, for someone who must register before joining. */
  async peek(token: string): Promise<PeekResult> {
    const group = TOKEN.test(token)
      ? await this.d.prisma.learningGroup.findFirst({ where: { inviteToken: token, kind: this.kind }, select: { id: true, name: true, _count: { select: { members: true } } } })
      : null;
    if (!group) return fail("not_found");
    return { ok: true, groupId: group.id, name: group.name, members: group._count.members, full: group._count.members >= UNIT_LIMITS.familyMembersMax };
  }

  /** Joins by an invite link: registered learning citizens only, one group of a kind each. */
  async join(userId: string, token: string): Promise<JoinResult> {
    const peek = await this.peek(token);
    if (!peek.ok) return peek;
    const group = { groupId: peek.groupId, name: peek.name };
    if (!(await this.registered(userId))) return fail("not_registered", { family: group.name });
    const existing = await this.membership(this.d.prisma, userId);
    if (existing) return existing.groupId === group.groupId ? fail("already_here", { family: group.name }) : fail("already_member", { family: existing.name });
    try {
      return await this.d.prisma.$transaction(async (tx): Promise<JoinResult> => {
        // The token again under the lock: a link rotated meanwhile no longer opens the group.
        const locked = await tx.$queryRawUnsafe<Array<{ id: number }>>(`SELECT id FROM learning_groups WHERE id = $1 AND invite_token = $2 FOR UPDATE`, group.groupId, token);
        if (locked.length === 0) return fail("not_found");
        const count = await tx.learningGroupMember.count({ where: { groupId: group.groupId } });
        if (count >= UNIT_LIMITS.familyMembersMax) return fail("full", { family: group.name });
        await tx.learningGroupMember.create({ data: { groupId: group.groupId, userId: BigInt(userId), kind: this.kind, role: "member", joinedAt: this.d.now() } });
        return { ok: true, ...group };
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const now = await this.membership(this.d.prisma, userId);
      return now?.groupId === group.groupId ? fail("already_here", { family: group.name }) : fail("already_member", { family: now?.name });
    }
  }

  /**
   * Leaves the person's group. An owner hands ownership to the longest-standing member; the last
   * one out deletes the group. `groupId` (from a button) must still be the person's group.
   */
  async leave(userId: string, opts: { groupId?: number } = {}): Promise<LeaveResult> {
    return this.d.prisma.$transaction((tx) => this.leaveIn(tx, userId, opts.groupId));
  }

  /** The owner takes a member out of the group. */
  async remove(ownerId: string, userId: string, opts: { groupId?: number } = {}): Promise<RemoveResult> {
    if (ownerId === userId) return fail("self");
    return this.d.prisma.$transaction(async (tx): Promise<RemoveResult> => {
      const owner = await this.lockedMembership(tx, ownerId);
      if (!owner) return fail("no_family");
      if (opts.groupId !== undefined && owner.groupId !== opts.groupId) return fail("stale");
      if (owner.role !== "owner") return fail("not_owner", { family: owner.name });
      const target = await tx.learningGroupMember.findUnique({
        where: { groupId_userId: { groupId: owner.groupId, userId: BigInt(userId) } },
        select: { user: { select: { citizen: { select: { fullName: true } } } } },
      });
      if (!target) return fail("not_a_member", { family: owner.name });
      await tx.learningGroupMember.delete({ where: { groupId_userId: { groupId: owner.groupId, userId: BigInt(userId) } } });
      return { ok: true, groupId: owner.groupId, name: owner.name, removed: { userId, name: target.user.citizen?.fullName ?? null } };
    });
  }

  /** The owner's declaration that the household's school-age children attend school (or that it has none). */
  async setChildrenInSchool(ownerId: string, value: boolean, opts: { groupId?: number } = {}): Promise<DeclareResult> {
    const m = await this.membership(this.d.prisma, ownerId);
    if (!m) return fail("no_family");
    if (opts.groupId !== undefined && m.groupId !== opts.groupId) return fail("stale");
    if (m.role !== "owner") return fail("not_owner", { family: m.name });
    const changed = await this.d.prisma.$executeRawUnsafe(
      `UPDATE learning_groups SET children_in_school = $1, updated_at = $2::timestamptz AT TIME ZONE 'UTC'
        WHERE id = $3 AND EXISTS (SELECT 1 FROM learning_group_members WHERE group_id = $3 AND user_id = $4::bigint AND role = 'owner')`,
      value, this.d.now().toISOString(), m.groupId, ownerId,
    );
    return changed === 1 ? { ok: true, groupId: m.groupId, name: m.name, childrenInSchool: value } : fail("not_owner", { family: m.name });
  }

  /** The person's group with its members and status, or undefined. */
  async mine(userId: string): Promise<MyGroup | undefined> {
    const row = await this.d.prisma.learningGroupMember.findUnique({
      where: { userId_kind: { userId: BigInt(userId), kind: this.kind } },
      select: {
        role: true,
        group: {
          select: {
            id: true, name: true, provinceCode: true, communeCode: true, childrenInSchool: true,
            members: {
              orderBy: [{ joinedAt: "asc" }, { userId: "asc" }],
              select: { userId: true, role: true, joinedAt: true, user: { select: { citizen: { select: { fullName: true } } } } },
            },
          },
        },
      },
    });
    if (!row) return undefined;
    const g = row.group;
    const status = await this.status(g.id);
    if (!status) return undefined;
    return {
      groupId: g.id, name: g.name, role: asRole(row.role), provinceCode: g.provinceCode, communeCode: g.communeCode, childrenInSchool: g.childrenInSchool,
      members: g.members.map((m) => ({ userId: m.userId.toString(), name: m.user.citizen?.fullName ?? null, role: asRole(m.role), joinedAt: m.joinedAt })),
      status,
    };
  }

  /** A group's status and what it lacks: one query. */
  async status(groupId: number): Promise<GroupStatus | undefined> {
    const rows = await this.d.prisma.$queryRawUnsafe<StatusRow[]>(groupStatusSql(this.criteria, "g.id = $2"), this.kind, groupId);
    return rows[0] ? this.toStatus(rows[0]) : undefined;
  }

  /** The person's group name and status (the learning card's line): one query. */
  async statusOf(userId: string): Promise<(GroupRef & { status: GroupStatus }) | undefined> {
    const rows = await this.d.prisma.$queryRawUnsafe<Array<StatusRow & { name: string }>>(
      `SELECT s.*, g.name FROM (${groupStatusSql(this.criteria, "g.id = (SELECT group_id FROM learning_group_members WHERE user_id = $2::bigint AND kind = $1)")}) s
         JOIN learning_groups g ON g.id = s.id`,
      this.kind, userId,
    );
    const r = rows[0];
    return r ? { groupId: r.id, name: r.name, status: this.toStatus(r) } : undefined;
  }

  /** Groups of a province (or one commune of it) and how many meet the criteria: one query. */
  async statusCounts(place: { provinceCode: string; communeCode?: string }): Promise<StatusCounts> {
    const where = place.communeCode ? "g.province_code = $2 AND g.commune_code = $3" : "g.province_code = $2";
    const params: unknown[] = [this.kind, place.provinceCode, ...(place.communeCode ? [place.communeCode] : [])];
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ total: number; met: number }>>(
      `SELECT count(*)::int AS total, (count(*) FILTER (WHERE s.met))::int AS met FROM (${groupStatusSql(this.criteria, where)}) s`,
      ...params,
    );
    const { total, met } = rows[0] ?? { total: 0, met: 0 };
    return { total, met, inProgress: total - met };
  }

  /** The same counts per commune of a province (for scoreboards by commune): one query. */
  async statusCountsByCommune(provinceCode: string): Promise<Array<StatusCounts & { communeCode: string }>> {
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ commune_code: string; total: number; met: number }>>(
      `SELECT s.commune_code, count(*)::int AS total, (count(*) FILTER (WHERE s.met))::int AS met
         FROM (${groupStatusSql(this.criteria, "g.province_code = $2")}) s GROUP BY s.commune_code ORDER BY s.commune_code`,
      this.kind, provinceCode,
    );
    return rows.map((r) => ({ communeCode: r.commune_code, total: r.total, met: r.met, inProgress: r.total - r.met }));
  }

  /** /mydata and /deleteme: the person's group (name, role, joined); erasure leaves it as `leave` does. */
  dataParts(): PersonalDataPart[] {
    const where = (id: string) => ({ userId: BigInt(id), kind: this.kind });
    return [
      {
        key: `learning_${this.kind}`,
        label: "families:privacy_part",
        kind: "database",
        export: async (id) => {
          const m = await this.d.prisma.learningGroupMember.findFirst({ where: where(id), select: { role: true, joinedAt: true, group: { select: { name: true } } } });
          return m ? toPlainJson({ name: m.group.name, role: m.role, joinedAt: m.joinedAt }) : null;
        },
        exists: async (id) => (await this.d.prisma.learningGroupMember.count({ where: where(id) })) > 0,
        erase: async (id, tx) => {
          const db = tx ?? this.d.prisma;
          const left = await this.leaveIn(db, id);
          // Whatever the leave found (nothing, or a row another erasure raced), no row stays.
          const rest = await db.learningGroupMember.deleteMany({ where: where(id) });
          return left.ok || rest.count > 0;
        },
      },
    ];
  }

  // ---- internals ----------------------------------------------------------------------------------

  private async leaveIn(db: Db, userId: string, expectedGroupId?: number): Promise<LeaveResult> {
    const m = await this.lockedMembership(db, userId);
    if (!m) return fail("no_family");
    if (expectedGroupId !== undefined && m.groupId !== expectedGroupId) return fail("stale");
    await db.learningGroupMember.delete({ where: { groupId_userId: { groupId: m.groupId, userId: BigInt(userId) } } });
    const ref = { groupId: m.groupId, name: m.name };
    const next = await db.learningGroupMember.findFirst({
      where: { groupId: m.groupId },
      orderBy: [{ joinedAt: "asc" }, { userId: "asc" }],
      select: { userId: true, role: true, user: { select: { citizen: { select: { fullName: true } } } } },
    });
    if (!next) {
      await db.learningGroup.delete({ where: { id: m.groupId } });
      this.d.logger.info({ kind: this.kind, groupId: m.groupId }, "learning group deleted: its last member left");
      return { ok: true, ...ref, deleted: true };
    }
    if (m.role !== "owner" || next.role === "owner") return { ok: true, ...ref, deleted: false };
    await db.learningGroupMember.update({ where: { groupId_userId: { groupId: m.groupId, userId: next.userId } }, data: { role: "owner" } });
    return { ok: true, ...ref, deleted: false, newOwner: { userId: next.userId.toString(), name: next.user.citizen?.fullName ?? null } };
  }

  /**
   * The person's membership read under the group's lock: read, lock, read again (the role may have
   * changed hands, or the person left, while waiting for the lock).
   */
  private async lockedMembership(db: Db, userId: string) {
    const first = await this.membership(db, userId);
    if (!first) return undefined;
    await db.$queryRawUnsafe(`SELECT id FROM learning_groups WHERE id = $1 FOR UPDATE`, first.groupId);
    const again = await this.membership(db, userId);
    return again?.groupId === first.groupId ? again : undefined;
  }

  private async membership(db: Db, userId: string): Promise<{ groupId: number; name: string; role: "owner" | "member"; token: string } | undefined> {
    const m = await db.learningGroupMember.findUnique({
      where: { userId_kind: { userId: BigInt(userId), kind: this.kind } },
      select: { groupId: true, role: true, group: { select: { name: true, inviteToken: true } } },
    });
    return m ? { groupId: m.groupId, name: m.group.name, role: asRole(m.role), token: m.group.inviteToken } : undefined;
  }

  private async registered(userId: string): Promise<boolean> {
    return (await this.d.prisma.learningCitizen.count({ where: { userId: BigInt(userId) } })) > 0;
  }

  private toStatus(r: StatusRow): GroupStatus {
    const missing: Missing[] = [];
    for (const c of this.criteria.rules) {
      if (c.key === "min_members" && r.members < c.min) missing.push({ rule: "min_members", need: c.min, have: r.members });
      if (c.key === "adults_registered" && r.unregistered > 0) missing.push({ rule: "adults_registered", count: r.unregistered });
      if (c.key === "children_in_school" && r.children_in_school !== true) missing.push({ rule: "children_in_school", declared: r.children_in_school === false ? "no" : "unknown" });
    }
    return { groupId: r.id, met: r.met, members: r.members, missing };
  }
}

function asRole(role: string): "owner" | "member" {
  return role === "owner" ? "owner" : "member";
}

