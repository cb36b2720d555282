import { createHash, randomBytes } from "node:crypto";
import type { PrismaClient, Role, User } from "../../generated/prisma/client.js";

export type { Role };

export interface Scope {
  provinceCode?: string;
  communeCode?: string;
  unitName?: string;
}

export interface Access {
  role: Role;
  scope: Scope;
}

export interface OfficerSummary {
  telegramId: string;
  /** The registered name, when the officer is a learning citizen too. */
  fullName?: string;
  /** The Telegram name and @username they redeemed their invite with. */
  telegramName?: string;
  username?: string;
  scope: Scope;
}

/** Who redeems an invite, as Telegram shows them (kept for officers only, for /officers). */
export interface TelegramProfile {
  name: string;
  username?: string;
}

/** An officer's scope as stored on their user row. */
export function scopeOf(user: Pick<User, "scopeProvinceCode" | "scopeCommuneCode" | "scopeUnit"> | null | undefined): Scope {
  return {
    provinceCode: user?.scopeProvinceCode ?? undefined,
    communeCode: user?.scopeCommuneCode ?? undefined,
    unitName: user?.scopeUnit ?? undefined,
  };
}

/** Invite tokens are stored hashed: a database backup cannot redeem them. */
function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

export type RedeemResult =
  | { status: "granted"; scope: Scope }
  | { status: "unknown" | "expired" | "used" | "admin" };

const RANK: Record<Role, number> = { resident: 0, member: 1, officer: 2, admin: 3 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** Roles, officer scopes, invites and the saved language. Reads the database on every check. */
export class UserService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly adminIds: ReadonlySet<string>,
  ) {}

  /** The caller's current role, read server-side; ADMIN_TELEGRAM_IDS are admins. */
  async access(telegramId: string): Promise<Access> {
    const user = await this.prisma.user.findUnique({ where: { id: BigInt(telegramId) } });
    const scope = scopeOf(user);
    if (this.adminIds.has(telegramId)) return { role: "admin", scope };
    return { role: user?.role ?? "resident", scope };
  }

  /** Listed in ADMIN_TELEGRAM_IDS (no database read). */
  isBootstrapAdmin(telegramId: string): boolean {
    return this.adminIds.has(telegramId);
  }

  async savedLocale(telegramId: string): Promise<string | undefined> {
    const user = await this.prisma.user.findUnique({ where: { id: BigInt(telegramId) }, select: { locale: true } });
    return user?.locale ?? undefined;
  }

  /** Saves the language only for people already known (unknown people stay unstored). */
  async saveLocale(telegramId: string, locale: string): Promise<void> {
    await this.prisma.user.updateMany({ where: { id: BigInt(telegramId) }, data: { locale } });
  }

  async createInvite(adminId: string, scope: Required<Pick<Scope, "provinceCode">> & Scope, ttlHours: number, now: Date): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(16).toString("base64url");
    const expiresAt = new Date(now.getTime() + ttlHours * 3600_000);
    await this.prisma.$transaction([
      this.prisma.officerInvite.create({
        data: { token: tokenHash(token), createdById: BigInt(adminId), provinceCode: scope.provinceCode, communeCode: scope.communeCode ?? null, unitName: scope.unitName ?? null, expiresAt, createdAt: now },
      }),
      this.prisma.auditLog.create({ data: { actorId: BigInt(adminId), action: "officer_invite_created", detail: { provinceCode: scope.provinceCode, communeCode: scope.communeCode ?? null, expiresAt: expiresAt.toISOString() }, at: now } }),
    ]);
    return { token, expiresAt };
  }

  /** Officers, newest first, with their scope and registered name when they have one. */
  async listOfficers(limit: number): Promise<{ officers: OfficerSummary[]; total: number }> {
    const where = { role: "officer" as const };
    const [rows, total] = await Promise.all([
      this.prisma.user.findMany({ where, orderBy: { updatedAt: "desc" }, take: limit, include: { citizen: { select: { fullName: true } } } }),
      this.prisma.user.count({ where }),
    ]);
    return {
      total,
      officers: rows.map((u) => ({
        telegramId: u.id.toString(),
        fullName: u.citizen?.fullName,
        telegramName: u.telegramName ?? undefined,
        username: u.telegramUsername ?? undefined,
        scope: scopeOf(u),
      })),
    };
  }

  /** Takes the officer role back (the person stays a resident, or a member if registered so). */
  /** The revoked officer's name for the admin's confirmation, or false when they were not one. */
  async revokeOfficer(adminId: string, telegramId: string, now: Date): Promise<{ name: string } | false> {
    const id = BigInt(telegramId);
    return this.prisma.$transaction(async (tx) => {
      const user = await tx.user.findUnique({ where: { id }, include: { citizen: { select: { affiliation: true, fullName: true } } } });
      if (user?.role !== "officer") return false;
      await tx.user.update({
        where: { id },
        data: {
          role: user.citizen?.affiliation === "association_member" ? "member" : "resident",
          scopeProvinceCode: null, scopeCommuneCode: null, scopeUnit: null, telegramName: null, telegramUsername: null,
        },
      });
      await tx.auditLog.create({ data: { actorId: BigInt(adminId), action: "officer_role_revoked", detail: { provinceCode: user.scopeProvinceCode }, at: now } });
      return { name: user.citizen?.fullName ?? user.telegramName ?? telegramId };
    });
  }

  /** An event without a person (who did it is not kept). */
  async audit(action: string, now: Date): Promise<void> {
    await this.prisma.auditLog.create({ data: { action, at: now } });
  }

  /** The person blocked the bot: messages the bot starts skip them until they come back. */
  async markUnreachable(telegramId: string, now: Date): Promise<void> {
    await this.prisma.user.updateMany({ where: { id: BigInt(telegramId), unreachableSince: null }, data: { unreachableSince: now } });
  }

  async markReachable(telegramId: string): Promise<void> {
    await this.prisma.user.updateMany({ where: { id: BigInt(telegramId), unreachableSince: { not: null } }, data: { unreachableSince: null } });
  }

  /** Single use: the conditional update is the lock, so two people cannot redeem one link. */
  async redeemInvite(telegramId: string, token: string, now: Date, profile?: TelegramProfile): Promise<RedeemResult> {
    const id = BigInt(telegramId);
    if (this.adminIds.has(telegramId)) return { status: "admin" };
    const hash = tokenHash(token);
    return this.prisma.$transaction(async (tx) => {
      // An admin gains nothing from an invite: checked before the invite is used up.
      if ((await tx.user.findUnique({ where: { id }, select: { role: true } }))?.role === "admin") return { status: "admin" } as const;
      const invite = await tx.officerInvite.findUnique({ where: { token: hash } });
      if (!invite) return { status: "unknown" } as const;
      if (invite.usedAt) return { status: "used" } as const;
      if (invite.expiresAt <= now) return { status: "expired" } as const;
      const { count } = await tx.officerInvite.updateMany({ where: { token: hash, usedAt: null }, data: { usedAt: now, usedById: id } });
      if (count !== 1) return { status: "used" } as const;
      const scope = {
        scopeProvinceCode: invite.provinceCode, scopeCommuneCode: invite.communeCode, scopeUnit: invite.unitName,
        telegramName: profile?.name ?? null, telegramUsername: profile?.username ?? null,
      };
      await tx.user.upsert({ where: { id }, create: { id, role: "officer", ...scope }, update: { role: "officer", ...scope } });
      await tx.auditLog.create({ data: { actorId: id, action: "officer_role_granted", detail: { provinceCode: invite.provinceCode, communeCode: invite.communeCode }, at: now } });
      return {
        status: "granted",
        scope: { provinceCode: invite.provinceCode, communeCode: invite.communeCode ?? undefined, unitName: invite.unitName ?? undefined },
      } as const;
    });
  }
}
