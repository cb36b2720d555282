import type { LearningCitizen as LearningCitizenRow, PrismaClient } from "../../generated/prisma/client.js";
import type { GeoService } from "../geo/geo-service.js";
import { CONSENT_KIND } from "../privacy/consent.js";
import type { AffiliationKey, GoalKey } from "./inputs.js";
import { directSql, type DirectSql } from "../direct-sql.js";

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
  provinceType: string;
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
  | { field: "birthYear"; birthYear: number }
  | { field: "place"; provinceCode: string; communeCode: string }
  | { field: "affiliation"; affiliation: AffiliationKey; unitName?: string }
  | { field: "goals"; goals: GoalKey[]; otherGoal?: string }
  | { field: "phone"; phone?: string };

/** A draft with one field changed (the summary's "Edit" before anything is saved). */
export function applyPatch<D extends Partial<RegistrationDraft>>(draft: D, patch: CitizenPatch): D {
  switch (patch.field) {
    case "fullName":
      return { ...draft, fullName: patch.fullName };
    case "birthYear":
      return { ...draft, birthYear: patch.birthYear };
    case "place":
      return { ...draft, provinceCode: patch.provinceCode, communeCode: patch.communeCode };
    case "affiliation":
      return { ...draft, affiliation: patch.affiliation, unitName: patch.unitName };
    case "goals":
      return { ...draft, goals: patch.goals, otherGoal: patch.otherGoal };
    case "phone":
      return { ...draft, phone: patch.phone };
  }
}

export function formatRegistrationNumber(provinceCode: string, year: number, seq: number): string {
  return `CDHT-${provinceCode}-${year}-${String(seq).padStart(6, "0")}`;
}

/** $1 id, $2 locale, $3 role, $4 now, $5–$7 consent, $8 province, $9 year, $10–$19 fields. */
const REGISTER_SQL = `
WITH u AS (
  INSERT INTO "users" ("telegram_id", "locale", "role", "created_at", "updated_at", "association_member_since")
  VALUES ($1::bigint, $2::text, $3::text::"Role", $4::timestamptz AT TIME ZONE 'UTC', $4::timestamptz AT TIME ZONE 'UTC',
    CASE WHEN $15::text = 'association_member' THEN $4::timestamptz AT TIME ZONE 'UTC' END)
  ON CONFLICT ("telegram_id") DO UPDATE SET
    "locale" = COALESCE(EXCLUDED."locale", "users"."locale"),
    -- Registering as an association member declares the membership (programmes' "members" target); an earlier date stays.
    "association_member_since" = COALESCE("users"."association_member_since", EXCLUDED."association_member_since"),
    "updated_at" = EXCLUDED."updated_at",
    "role" = CASE WHEN "users"."role" = 'resident' AND EXCLUDED."role" = 'member' THEN 'member'::"Role" ELSE "users"."role" END
  RETURNING "telegram_id"
), c AS (
  INSERT INTO "consents" ("user_id", "version", "kind", "given_at")
  SELECT "telegram_id", $5::text, $6::text, $7::timestamptz AT TIME ZONE 'UTC' FROM u
), s AS (
  INSERT INTO "registration_sequences" ("province_code", "year", "last") VALUES ($8::text, $9::int, 1)
  ON CONFLICT ("province_code", "year") DO UPDATE SET "last" = "registration_sequences"."last" + 1
  RETURNING "last"
)
INSERT INTO "learning_citizens" ("user_id", "registration_number", "full_name", "birth_year", "guardian_consent",
  "guardian_name", "province_code", "commune_code", "affiliation", "unit_name", "goals", "other_goal", "phone",
  "registered_at", "updated_at")
SELECT u."telegram_id", 'CDHT-' || $8::text || '-' || ($9::int)::text || '-' || lpad(s."last"::text, 6, '0'),
  $10::text, $11::int, $12::boolean, $13::text, $8::text, $14::text, $15::text::"Affiliation", $16::text, $17::text[],
  $18::text, $19::text, $4::timestamptz AT TIME ZONE 'UTC', $4::timestamptz AT TIME ZONE 'UTC'
FROM u, s
RETURNING "registration_number"`;

export class CitizenService {
  /** The registration's two statements (is the person registered; the one-statement INSERT). */
  private readonly sql: DirectSql;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly geo: GeoService,
    read?: DirectSql,
  ) {
    this.sql = directSql(prisma, read);
  }

  /**
   * Saves a registration with its consent and the person's user row in ONE statement (so it is
   * atomic without an interactive transaction, and cheap on the embedded database), numbered
   * with the next readable number for its province and year. A second registration of the same
   * person fails on the unique user id and the whole statement rolls back, sequence included.
   */
  async register(telegramId: string, draft: RegistrationDraft, now: Date, locale?: string): Promise<LearningCard> {
    const year = now.getUTCFullYear();
    const rows = await this
      .sql<{ registration_number: string }>(REGISTER_SQL, [
        telegramId,
        locale ?? null,
        draft.affiliation === "association_member" ? "member" : "resident",
        now.toISOString(),
        draft.consentVersion,
        CONSENT_KIND,
        draft.consentAt,
        draft.provinceCode,
        year,
        draft.fullName,
        draft.birthYear,
        draft.guardianName !== undefined,
        draft.guardianName ?? null,
        draft.communeCode,
        draft.affiliation,
        draft.unitName ?? null,
        `{${draft.goals.join(",")}}`,
        draft.otherGoal ?? null,
        draft.phone ?? null,
      ])
      .catch((e: unknown) => {
        if (isUniqueViolation(e)) throw new AlreadyRegisteredError();
        throw e;
      });
    const registrationNumber = rows[0]?.registration_number;
    if (!registrationNumber) throw new Error("registration was not saved");
    const { consentVersion: _v, consentAt: _a, ...fields } = draft;
    return this.withNames({ ...fields, registrationNumber, registeredAt: now.toISOString() });
  }

  stats(scope: { provinceCode?: string; communeCode?: string }, year: number): Promise<CitizenStats> {
    return citizenStats(this.prisma, scope, year);
  }

  async isRegistered(telegramId: string): Promise<boolean> {
    const rows = await this.sql<{ one: number }>("SELECT 1 AS one FROM learning_citizens WHERE user_id = $1::bigint", [telegramId]);
    return rows.length > 0;
  }

  async getCard(telegramId: string): Promise<LearningCard | undefined> {
    const c = await this.prisma.learningCitizen.findUnique({ where: { userId: BigInt(telegramId) } });
    return c ? this.toCard(c) : undefined;
  }

  private async withNames(card: Omit<LearningCard, "provinceName" | "provinceType" | "communeName" | "communeType">): Promise<LearningCard> {
    const [commune, province] = await Promise.all([this.geo.getCommune(card.communeCode), this.geo.getProvince(card.provinceCode)]);
    return {
      ...card,
      provinceName: province?.name ?? card.provinceCode,
      provinceType: province?.type ?? "",
      communeName: commune?.name ?? card.communeCode,
      communeType: commune?.type ?? "",
    };
  }

  private toCard(c: LearningCitizenRow): Promise<LearningCard> {
    return this.withNames({
      registrationNumber: c.registrationNumber,
      fullName: c.fullName,
      birthYear: c.birthYear,
      guardianName: c.guardianName ?? undefined,
      provinceCode: c.provinceCode,
      communeCode: c.communeCode,
      affiliation: c.affiliation,
      unitName: c.unitName ?? undefined,
      goals: c.goals as GoalKey[],
      otherGoal: c.otherGoal ?? undefined,
      phone: c.phone ?? undefined,
      registeredAt: c.registeredAt.toISOString(),
    });
  }

  /** Changes one field of a registration; the registration number never changes. */
  async update(telegramId: string, patch: CitizenPatch): Promise<LearningCard> {
    const userId = BigInt(telegramId);
    const data = (() => {
      switch (patch.field) {
        case "fullName":
          return { fullName: patch.fullName };
        case "birthYear":
          // A guardian's consent stays with the record; it is given once, from the guardian's account.
          return { birthYear: patch.birthYear };
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
        await tx.user.updateMany({ where: { id: userId, associationMemberSince: null }, data: { associationMemberSince: new Date() } });
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
  /** For a province-wide scope: the communes with most registrations, most first (at most 10). */
  topCommunes: Array<{ communeCode: string; count: number }>;
}

/** Counts for an officer's scope (province, optionally commune); no personal data leaves here. */
export async function citizenStats(prisma: PrismaClient, scope: { provinceCode?: string; communeCode?: string }, year: number): Promise<CitizenStats> {
  const where = {
    ...(scope.provinceCode ? { provinceCode: scope.provinceCode } : {}),
    ...(scope.communeCode ? { communeCode: scope.communeCode } : {}),
  };
  const [groups, thisYear, communes] = await Promise.all([
    prisma.learningCitizen.groupBy({ by: ["affiliation"], where, _count: { _all: true } }),
    prisma.learningCitizen.count({ where: { ...where, registeredAt: { gte: new Date(Date.UTC(year, 0, 1)) } } }),
    scope.provinceCode && !scope.communeCode
      ? prisma.learningCitizen.groupBy({ by: ["communeCode"], where, _count: { _all: true }, orderBy: [{ _count: { communeCode: "desc" } }, { communeCode: "asc" }], take: 10 })
      : Promise.resolve([]),
  ]);
  const byAffiliation: CitizenStats["byAffiliation"] = {};
  let total = 0;
  for (const g of groups) {
    byAffiliation[g.affiliation] = g._count._all;
    total += g._count._all;
  }
  return { total, byAffiliation, thisYear, topCommunes: communes.map((c) => ({ communeCode: c.communeCode, count: c._count._all })) };
}

/**
 * A unique-constraint violation, whichever way it arrives: Prisma's P2002, a raw query's P2010
 * wrapping the driver adapter's error, or that error itself. PostgreSQL's SQLSTATE is 23505;
 * adapter-pg (both lanes) names it UniqueConstraintViolation.
 */
export function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  type Cause = { code?: unknown; originalCode?: unknown; kind?: unknown };
  const err = e as { code?: unknown; cause?: Cause; meta?: { driverAdapterError?: { cause?: Cause } } };
  const cause = err.meta?.driverAdapterError?.cause ?? err.cause;
  // P2002 through Prisma; 23505 from the driver directly (Database.read).
  return err.code === "P2002" || err.code === "23505" || cause?.code === "23505" || cause?.originalCode === "23505" || cause?.kind === "UniqueConstraintViolation";
}
