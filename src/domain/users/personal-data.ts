import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";

/**
 * The user row (role, language, officer scope, Telegram name of officers), the invites the
 * person redeemed or created, and their place in the audit log. Erasure keeps the events
 * (an invite was used, a role was granted) and drops the person.
 */
export function userDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "user",
      label: "privacy:parts.user",
      kind: "database",
      export: async (id) => {
        const u = await prisma.user.findUnique({ where: { id: BigInt(id) } });
        if (!u) return null;
        const { id: _id, ...rest } = u;
        return toPlainJson(rest);
      },
      exists: async (id) => (await prisma.user.count({ where: { id: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).user.deleteMany({ where: { id: BigInt(id) } })).count > 0,
    },
    {
      key: "officer_invites",
      label: "privacy:parts.invites",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.officerInvite.findMany({
          where: { OR: [{ usedById: BigInt(id) }, { createdById: BigInt(id) }] },
          select: { provinceCode: true, communeCode: true, unitName: true, usedAt: true, expiresAt: true, createdAt: true, usedById: true },
        });
        return toPlainJson(rows.map(({ usedById, ...r }) => ({ ...r, redeemedByYou: usedById === BigInt(id) })));
      },
      exists: async (id) => (await prisma.officerInvite.count({ where: { OR: [{ usedById: BigInt(id) }, { createdById: BigInt(id) }] } })) > 0,
      erase: async (id, tx) => {
        const db = tx ?? prisma;
        const user = BigInt(id);
        // A redeemed invite's scope and unit point at its redeemer: keep only that it was used.
        const used = await db.officerInvite.updateMany({ where: { usedById: user }, data: { usedById: null, unitName: null, communeCode: null } });
        const open = await db.officerInvite.deleteMany({ where: { createdById: user, usedAt: null } });
        const made = await db.officerInvite.updateMany({ where: { createdById: user }, data: { createdById: null } });
        return used.count + open.count + made.count > 0;
      },
    },
    {
      key: "audit_log",
      label: "privacy:parts.audit",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.auditLog.findMany({ where: { actorId: BigInt(id) }, orderBy: { at: "asc" }, select: { action: true, at: true } });
        return toPlainJson(rows);
      },
      exists: async (id) => (await prisma.auditLog.count({ where: { actorId: BigInt(id) } })) > 0,
      // The event stays (who granted what is accountable), the person's id and details go.
      erase: async (id, tx) => (await (tx ?? prisma).auditLog.updateMany({ where: { actorId: BigInt(id) }, data: { actorId: null } })).count > 0,
    },
  ];
}
