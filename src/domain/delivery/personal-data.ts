import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";

/**
 * The ledger rows of messages the bot started to the person's private chat (chat id = their
 * Telegram id): what was sent, when, and what Telegram answered. Erasing drops the rows, so a
 * broadcast still queued for them is not sent either; group chats' rows are nobody's.
 */
export function deliveryDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "deliveries",
      label: "privacy:parts.deliveries",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.delivery.findMany({
          where: { chatId: BigInt(id) },
          orderBy: [{ dueAt: "asc" }, { id: "asc" }],
          select: { kind: true, refId: true, state: true, dueAt: true, sentAt: true, error: true },
        });
        return toPlainJson(rows.map(({ refId, ...r }) => ({ kind: r.kind, ref: refId, state: r.state, dueAt: r.dueAt, sentAt: r.sentAt, error: r.error })));
      },
      exists: async (id) => (await prisma.delivery.count({ where: { chatId: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).delivery.deleteMany({ where: { chatId: BigInt(id) } })).count > 0,
    },
  ];
}
