import type { PrismaClient } from "../../generated/prisma/client.js";

/** Subject rights under Decree 13/2023/NĐ-CP: a copy of one's data, and its erasure. */
export class PrivacyService {
  constructor(private readonly prisma: PrismaClient) {}

  /** Everything stored about one person, as plain JSON (ids as strings, times as ISO). */
  async exportData(telegramId: string): Promise<Record<string, unknown>> {
    const id = BigInt(telegramId);
    const user = await this.prisma.user.findUnique({
      where: { id },
      include: { citizen: true, consents: { orderBy: { givenAt: "asc" } } },
    });
    const invitesRedeemed = await this.prisma.officerInvite.findMany({
      where: { usedById: id },
      select: { provinceCode: true, communeCode: true, unitName: true, usedAt: true },
    });
    return toPlainJson({
      telegram_user_id: telegramId,
      user: user ? { role: user.role, locale: user.locale, scopeProvinceCode: user.scopeProvinceCode, scopeCommuneCode: user.scopeCommuneCode, scopeUnit: user.scopeUnit, createdAt: user.createdAt, updatedAt: user.updatedAt } : null,
      learning_citizen: user?.citizen ? { ...user.citizen, userId: undefined, id: undefined } : null,
      consents: user?.consents.map((c) => ({ version: c.version, kind: c.kind, givenAt: c.givenAt, withdrawnAt: c.withdrawnAt })) ?? [],
      officer_invites_redeemed: invitesRedeemed,
    }) as Record<string, unknown>;
  }

  /**
   * Erases the person: user row, registration and consents (cascade), and their id on invites
   * they redeemed or created. The audit log keeps only that an erasure happened.
   */
  async erase(telegramId: string, now: Date): Promise<boolean> {
    const id = BigInt(telegramId);
    return this.prisma.$transaction(async (tx) => {
      await tx.officerInvite.updateMany({ where: { usedById: id }, data: { usedById: null } });
      await tx.officerInvite.deleteMany({ where: { createdById: id, usedAt: null } });
      await tx.auditLog.updateMany({ where: { actorId: id }, data: { actorId: null } });
      const { count } = await tx.user.deleteMany({ where: { id } });
      await tx.auditLog.create({ data: { action: "personal_data_erased", at: now } });
      return count > 0;
    });
  }
}

export function toPlainJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
  );
}
