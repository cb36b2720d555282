import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";

/**
 * Broadcasts an officer wrote or approved. Erasure keeps the announcements (they were sent in a
 * body's name, and recipients' ledgers point at them) and drops who wrote and approved them.
 */
export function broadcastDataParts(prisma: PrismaClient): PersonalDataPart[] {
  const mine = (id: string) => ({ OR: [{ authorId: BigInt(id) }, { approvedById: BigInt(id) }] });
  return [
    {
      key: "broadcasts",
      label: "privacy:parts.broadcasts",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.broadcast.findMany({
          where: mine(id),
          orderBy: { id: "asc" },
          select: { id: true, authorId: true, senderBody: true, audience: true, text: true, state: true, recipientCount: true, createdAt: true, scheduledAt: true, approvedAt: true },
        });
        return toPlainJson(rows.map(({ authorId, ...r }) => ({ ...r, role: authorId === BigInt(id) ? "author" : "approver" })));
      },
      exists: async (id) => (await prisma.broadcast.count({ where: mine(id) })) > 0,
      erase: async (id, tx) => {
        const db = tx ?? prisma;
        const user = BigInt(id);
        const a = await db.broadcast.updateMany({ where: { authorId: user }, data: { authorId: null, progressChatId: null, progressMessageId: null } });
        const b = await db.broadcast.updateMany({ where: { approvedById: user }, data: { approvedById: null } });
        return a.count + b.count > 0;
      },
    },
  ];
}
