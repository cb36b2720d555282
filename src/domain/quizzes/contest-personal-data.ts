import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";

/**
 * Contests an officer created. Erasure keeps the contests (people's attempts point at them) and
 * drops who created them. Attempts themselves are quiz rounds, the round engine's part.
 */
export function contestDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "quiz_contests",
      label: "contest:privacy_part",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.quizContest.findMany({
          where: { authorId: BigInt(id) },
          orderBy: { id: "asc" },
          select: { id: true, title: true, provinceCode: true, communeCode: true, opensAt: true, closesAt: true, attemptsPerWeek: true, createdAt: true },
        });
        return rows.length ? toPlainJson(rows) : null;
      },
      exists: async (id) => (await prisma.quizContest.count({ where: { authorId: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).quizContest.updateMany({ where: { authorId: BigInt(id) }, data: { authorId: null } })).count > 0,
    },
  ];
}
