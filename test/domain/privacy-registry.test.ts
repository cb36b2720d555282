import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CitizenService } from "../../src/domain/citizens/citizen-service.js";
import { citizenDataParts } from "../../src/domain/citizens/personal-data.js";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import { userDataParts } from "../../src/domain/users/personal-data.js";
import { UserService } from "../../src/domain/users/user-service.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { draft } from "../support/drafts.js";

let db: Database;
let citizens: CitizenService;
let registry: PersonalDataRegistry;
const now = new Date("2026-11-23T03:00:00Z");


beforeAll(async () => {
  db = await openTestDatabase();
  citizens = new CitizenService(db.prisma, new GeoService(db.prisma));
  registry = new PersonalDataRegistry(db.prisma);
  for (const part of [...citizenDataParts(db.prisma), ...userDataParts(db.prisma)]) registry.register(part);
});
afterAll(() => db.close());

describe("the personal-data registry (Decree 13/2023/NĐ-CP)", () => {
  it("exports every registered part of a person, and nothing of others", async () => {
    await citizens.register("61001", draft({ fullName: "Lò Văn Páo", phone: "+84911111111" }), now);
    await citizens.register("61002", draft({ fullName: "Người Khác" }), now);
    const data = await registry.exportAll("61001");
    expect(Object.keys(data)).toEqual(["learning_citizen", "consents", "user", "officer_invites", "audit_log"]);
    expect(data).toMatchObject({ learning_citizen: { fullName: "Lò Văn Páo", phone: "+84911111111" }, consents: [{ version: "v-test" }], user: { role: "resident" } });
    expect(JSON.stringify(data)).not.toContain("Người Khác");
    expect(JSON.stringify(data)).not.toMatch(/"userId"/);
  });

  it("erases everything in one go, keeps events but not the person, and audits only real erasures", async () => {
    const users = new UserService(db.prisma, new Set(["61100"]));
    const { token } = await users.createInvite("61100", { provinceCode: "08" }, 24, now);
    await citizens.register("61101", draft({ fullName: "Cán Bộ Xóa", phone: "+84922222222" }), now);
    expect((await users.redeemInvite("61101", token, now, { name: "Cán Bộ", username: "canbo_xoa" })).status).toBe("granted");
    expect(await registry.held("61101")).toEqual(["privacy:parts.learning_citizen", "privacy:parts.consents", "privacy:parts.user", "privacy:parts.invites", "privacy:parts.audit"]);
    const audits = await db.prisma.auditLog.count({ where: { action: "personal_data_erased" } });

    const result = await registry.erase("61101", now);
    expect(result.erased).toContain("privacy:parts.learning_citizen");
    expect(await registry.held("61101")).toEqual([]);
    const dump = JSON.stringify(
      await Promise.all([db.prisma.user.findMany(), db.prisma.learningCitizen.findMany(), db.prisma.auditLog.findMany(), db.prisma.officerInvite.findMany()]),
      (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
    );
    for (const trace of ["61101", "Cán Bộ Xóa", "+84922222222", "canbo_xoa"]) expect(dump).not.toContain(trace);
    // The invite stays used (nobody can redeem it again), and the grant is still on record.
    expect(await db.prisma.officerInvite.count({ where: { usedAt: { not: null }, usedById: null } })).toBeGreaterThanOrEqual(1);
    expect(await db.prisma.auditLog.count({ where: { action: "officer_role_granted", actorId: null } })).toBeGreaterThanOrEqual(1);
    expect(await db.prisma.auditLog.count({ where: { action: "personal_data_erased" } })).toBe(audits + 1);

    // A second erasure finds nothing and writes no audit row.
    expect((await registry.erase("61101", now)).erased).toEqual([]);
    expect(await db.prisma.auditLog.count({ where: { action: "personal_data_erased" } })).toBe(audits + 1);
  });

  it("never reuses a registration number after an erasure", async () => {
    const first = await citizens.register("61201", draft({ provinceCode: "96", communeCode: "31825" }), now);
    await registry.erase("61201", now);
    const next = await citizens.register("61202", draft({ provinceCode: "96", communeCode: "31825" }), now);
    expect(next.registrationNumber).not.toBe(first.registrationNumber);
    expect(Number(next.registrationNumber.slice(-6))).toBe(Number(first.registrationNumber.slice(-6)) + 1);
  });

  it("refuses a part registered twice", () => {
    expect(() => registry.register(citizenDataParts(db.prisma)[0]!)).toThrow(/registered twice/);
  });
});
