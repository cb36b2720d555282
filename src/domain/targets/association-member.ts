/**
 * The person's own declaration "Tôi là hội viên Hội Khuyến học" (users.association_member_since):
 * what the programmes' "members" target counts among a unit's people. Set on registering as an
 * association member, or from /myunits; cleared from /myunits. Only for people the bot already
 * knows (a user row): declaring stores nothing new about anyone else. /mydata exports it with the
 * user row and /deleteme erases it with that row.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";

export class AssociationMembership {
  constructor(private readonly d: { prisma: PrismaClient; now: () => Date }) {}

  /** Since when, or undefined (not declared, or unknown person). */
  async since(userId: string): Promise<Date | undefined> {
    const u = await this.d.prisma.user.findUnique({ where: { id: BigInt(userId) }, select: { associationMemberSince: true } });
    return u?.associationMemberSince ?? undefined;
  }

  /** Declares (keeping an earlier date) or clears it; false for someone the bot does not know. */
  async set(userId: string, member: boolean): Promise<boolean> {
    const id = BigInt(userId);
    if (member) {
      const { count } = await this.d.prisma.user.updateMany({ where: { id, associationMemberSince: null }, data: { associationMemberSince: this.d.now() } });
      return count > 0 || (await this.since(userId)) !== undefined;
    }
    const { count } = await this.d.prisma.user.updateMany({ where: { id }, data: { associationMemberSince: null } });
    return count > 0;
  }
}
