import type { LearningCitizen as LearningCitizenRow, PrismaClient } from "../../generated/prisma/client.js";
import type { GeoService } from "../geo/geo-service.js";
import { CONSENT_KIND } from "../privacy/consent.js";
import type { AffiliationKey, GoalKey } from "./inputs.js";

/** Everything collected by the registration conversation; plain JSON (it lives in Redis). */
export interface RegistrationDraft {
  consentVersion: string;
  /** ISO time the person agreed to the notice. */
  consentAt: string;
  fullName: string;
  birthYear: number;
  guardianName?: string;
  provinceCode: string;
  communeCode: string;
  affiliation: AffiliationKey;
  unitName?: string;
  goals: GoalKey[];
  otherGoal?: string;
  phone?: string;
}

/** The learning card (thẻ Công dân học tập) as shown to its holder. */
export interface LearningCard {
  registrationNumber: string;
  fullName: string;
  birthYear: number;
  guardianName?: string;
  provinceCode: string;
  provinceName: string;
  communeCode: string;
  communeName: string;
  communeType: string;
  affiliation: AffiliationKey;
  unitName?: string;
  goals: GoalKey[];
  otherGoal?: string;
  phone?: string;
  registeredAt: string;
}

export class AlreadyRegisteredError extends Error {}

/** Fields the holder may change after registering, with their new values. */
export type CitizenPatch =
  | { field: "fullName"; fullName: string }
  | { field: "birthYear"; birthYear: number; guardianName?: string }
  | { field: "place"; provinceCode: string; communeCode: string }
  | { field: "affiliation"; affiliation: AffiliationKey; unitName?: string }
  | { field: "goals"; goals: GoalKey[]; otherGoal?: string }
  | { field: "phone"; phone?: string };

export function formatRegistrationNumber(provinceCode: string, year: number, seq: number): string {
  return `CDHT-${provinceCode}-${year}-${String(seq).padStart(6, "0")}`;
}

export class CitizenService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly geo: GeoService,
  ) {}

  /**
   * Saves a registration with its consent in one transaction, so nothing is half-written, and
   * gives it the next readable number for its province and year. A second registration of the
   * same person fails on the unique user id and rolls everything back.
   */
  async register(telegramId: string, draft: RegistrationDraft, now: Date, locale?: string): Promise<LearningCard> {
    const userId = BigInt(telegramId);
    const year = now.getUTCFullYear();
    const row = await this.prisma
      .$transaction(async (tx) => {
        const member = draft.affiliation === "association_member";
        await tx.user.upsert({
          where: { id: userId },
          create: { id: userId, locale, role: member ? "member" : "resident" },
          update: { locale },
        });
        if (member) await tx.user.updateMany({ where: { id: userId, role: "resident" }, data: { role: "member" } });
        await tx.consent.create({
          data: { userId, version: draft.consentVersion, kind: CONSENT_KIND, givenAt: new Date(draft.consentAt) },
        });
        const [seq] = await tx.$queryRawUnsafe<{ last: number }[]>(
          `INSERT INTO "registration_sequences" ("province_code", "year", "last") VALUES ($1, $2, 1)
           ON CONFLICT ("province_code", "year") DO UPDATE SET "last" = "registration_sequences"."last" + 1
           RETURNING "last"`,
          draft.provinceCode,
          year,
        );
        if (!seq) throw new Error("registration sequence did not return a number");
        return tx.learningCitizen.create({
          data: {
            userId,
            registrationNumber: formatRegistrationNumber(draft.provinceCode, year, Number(seq.last)),
            fullName: draft.fullName,
            birthYear: draft.birthYear,
            guardianConsent: draft.guardianName !== undefined,
            guardianName: draft.guardianName ?? null,
            provinceCode: draft.provinceCode,
            communeCode: draft.communeCode,
            affiliation: draft.affiliation,
            unitName: draft.unitName ?? null,
            goals: draft.goals,
            otherGoal: draft.otherGoal ?? null,
            phone: draft.phone ?? null,
            registeredAt: now,
          },
        });
      })
      .catch((e: unknown) => {
        if (isUniqueViolation(e)) throw new AlreadyRegisteredError();
        throw e;
      });
    return this.toCard(row);
  }

  stats(scope: { provinceCode?: string; communeCode?: string }, year: number): Promise<CitizenStats> {
    return citizenStats(this.prisma, scope, year);
  }

  async isRegistered(telegramId: string): Promise<boolean> {
    const row = await this.prisma.learningCitizen.findUnique({ where: { userId: BigInt(telegramId) }, select: { id: true } });
    return row !== null;
  }

  async getCard(telegramId: string): Promise<LearningCard | undefined> {
    const c = await this.prisma.learningCitizen.findUnique({ where: { userId: BigInt(telegramId) } });
    return c ? this.toCard(c) : undefined;
  }

  private async toCard(c: LearningCitizenRow): Promise<LearningCard> {
    const [commune, province] = await Promise.all([this.geo.getCommune(c.communeCode), this.geo.getProvince(c.provinceCode)]);
    return {
      registrationNumber: c.registrationNumber,
      fullName: c.fullName,
      birthYear: c.birthYear,
      guardianName: c.guardianName ?? undefined,
      provinceCode: c.provinceCode,
      provinceName: province?.name ?? c.provinceCode,
      communeCode: c.communeCode,
      communeName: commune?.name ?? c.communeCode,
      communeType: commune?.type ?? "",
      affiliation: c.affiliation,
      unitName: c.unitName ?? undefined,
      goals: c.goals as GoalKey[],
      otherGoal: c.otherGoal ?? undefined,
      phone: c.phone ?? undefined,
      registeredAt: c.registeredAt.toISOString(),
    };
  }

  /** Changes one field of a registration; the registration number never changes. */
  async update(telegramId: string, patch: CitizenPatch): Promise<LearningCard> {
    const userId = BigInt(telegramId);
    const data = (() => {
      switch (patch.field) {
        case "fullName":
          return { fullName: patch.fullName };
        case "birthYear":
          return { birthYear: patch.birthYear, guardianConsent: patch.guardianName !== undefined, guardianName: patch.guardianName ?? null };
        case "place":
          return { provinceCode: patch.provinceCode, communeCode: patch.communeCode };
        case "affiliation":
          return { affiliation: patch.affiliation, unitName: patch.unitName ?? null };
        case "goals":
          return { goals: patch.goals, otherGoal: patch.otherGoal ?? null };
        case "phone":
          return { phone: patch.phone ?? null };
      }
    })();
    const row = await this.prisma.$transaction(async (tx) => {
      const updated = await tx.learningCitizen.update({ where: { userId }, data });
      if (patch.field === "affiliation" && patch.affiliation === "association_member") {
        await tx.user.updateMany({ where: { id: userId, role: "resident" }, data: { role: "member" } });
      }
      if (patch.field === "affiliation" && patch.affiliation !== "association_member") {
        await tx.user.updateMany({ where: { id: userId, role: "member" }, data: { role: "resident" } });
      }
      return updated;
    });
    return this.toCard(row);
  }
}

export interface CitizenStats {
  total: number;
  byAffiliation: Partial<Record<AffiliationKey, number>>;
  thisYear: number;
}

/** Counts for an officer's scope (province, optionally commune); no personal data leaves here. */
export async function citizenStats(prisma: PrismaClient, scope: { provinceCode?: string; communeCode?: string }, year: number): Promise<CitizenStats> {
  const where = {
    ...(scope.provinceCode ? { provinceCode: scope.provinceCode } : {}),
    ...(scope.communeCode ? { communeCode: scope.communeCode } : {}),
  };
  const [groups, thisYear] = await Promise.all([
    prisma.learningCitizen.groupBy({ by: ["affiliation"], where, _count: { _all: true } }),
    prisma.learningCitizen.count({ where: { ...where, registeredAt: { gte: new Date(Date.UTC(year, 0, 1)) } } }),
  ]);
  const byAffiliation: CitizenStats["byAffiliation"] = {};
  let total = 0;
  for (const g of groups) {
    byAffiliation[g.affiliation] = g._count._all;
    total += g._count._all;
  }
  return { total, byAffiliation, thisYear };
}

/**
 * A unique-constraint violation, whichever driver adapter raised it: Prisma's P2002, or the
 * raw DriverAdapterError with PostgreSQL's SQLSTATE 23505 (pglite-prisma-adapter 0.6).
 */
function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const err = e as { code?: unknown; cause?: { code?: unknown; kind?: unknown } };
  return err.code === "P2002" || err.cause?.code === "23505" || err.cause?.kind === "UniqueConstraintViolation";
}
