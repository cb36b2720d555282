import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";

/** The topics the person switched off in /settings, and when. */
export function topicMuteDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "topic_mutes",
      label: "privacy:parts.topic_mutes",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.topicMute.findMany({ where: { userId: BigInt(id) }, orderBy: { mutedAt: "asc" }, select: { topic: true, mutedAt: true } });
        return toPlainJson(rows);
      },
      exists: async (id) => (await prisma.topicMute.count({ where: { userId: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).topicMute.deleteMany({ where: { userId: BigInt(id) } })).count > 0,
    },
  ];
}
