import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";

/** The learning citizen's record and the consents given for it. */
export function citizenDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "learning_citizen",
      label: "privacy:parts.learning_citizen",
      kind: "database",
      export: async (id) => {
        const row = await prisma.learningCitizen.findUnique({ where: { userId: BigInt(id) } });
        if (!row) return null;
        const { id: _rowId, userId: _userId, ...rest } = row;
        return toPlainJson(rest);
      },
      exists: async (id) => (await prisma.learningCitizen.count({ where: { userId: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).learningCitizen.deleteMany({ where: { userId: BigInt(id) } })).count > 0,
    },
    {
      key: "consents",
      label: "privacy:parts.consents",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.consent.findMany({ where: { userId: BigInt(id) }, orderBy: { givenAt: "asc" } });
        return toPlainJson(rows.map((c) => ({ version: c.version, kind: c.kind, givenAt: c.givenAt, withdrawnAt: c.withdrawnAt })));
      },
      exists: async (id) => (await prisma.consent.count({ where: { userId: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).consent.deleteMany({ where: { userId: BigInt(id) } })).count > 0,
    },
  ];
}
