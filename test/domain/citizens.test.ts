import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlreadyRegisteredError, CitizenService, type RegistrationDraft } from "../../src/domain/citizens/citizen-service.js";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

let db: Database;
let citizens: CitizenService;
const now = new Date("2026-11-23T03:00:00Z");

const draft = (over: Partial<RegistrationDraft> = {}): RegistrationDraft => ({
  consentVersion: "v-test", consentAt: "2026-11-23T02:59:00.000Z", fullName: "Nguyễn Thị Hoa", birthYear: 1985,
  provinceCode: "08", communeCode: "00715", affiliation: "resident", goals: ["law", "digital"], ...over,
});

beforeAll(async () => {
  db = await openTestDatabase();
  citizens = new CitizenService(db.prisma, new GeoService(db.prisma));
});
afterAll(() => db.close());

describe("learning citizens", () => {
  it("numbers registrations per province and year, readable and unique", async () => {
    const a = await citizens.register("1001", draft(), now);
    const b = await citizens.register("1002", draft({ fullName: "Lò Văn Páo" }), now);
    const c = await citizens.register("1003", draft({ provinceCode: "01", communeCode: "00004" }), now);
    expect(a.registrationNumber).toBe("CDHT-08-2026-000001");
    expect(b.registrationNumber).toBe("CDHT-08-2026-000002");
    expect(c.registrationNumber).toBe("CDHT-01-2026-000001");
    expect(a).toMatchObject({ communeName: "Lũng Cú", provinceName: "Tuyên Quang", goals: ["law", "digital"] });
  });

  it("gives concurrent registrations distinct numbers", async () => {
    const cards = await Promise.all(
      Array.from({ length: 8 }, (_, i) => citizens.register(String(2000 + i), draft({ provinceCode: "48", communeCode: "20194" }), now).catch((e: unknown) => e)),
    );
    const numbers = cards.map((c) => (c as { registrationNumber: string }).registrationNumber);
    expect(new Set(numbers).size).toBe(8);
    expect([...numbers].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `CDHT-48-2026-00000${i + 1}`));
  });

  it("stores the consent with the registration and refuses a second registration", async () => {
    const consents = await db.prisma.consent.findMany({ where: { userId: 1001n } });
    expect(consents).toHaveLength(1);
    expect(consents[0]).toMatchObject({ version: "v-test", kind: "personal_data" });
    expect(consents[0]!.givenAt.toISOString()).toBe("2026-11-23T02:59:00.000Z");
    await expect(citizens.register("1001", draft(), now)).rejects.toBeInstanceOf(AlreadyRegisteredError);
    expect(await db.prisma.consent.count({ where: { userId: 1001n } })).toBe(1);
  });

  it("makes association members members, and changes one field keeping the number", async () => {
    const card = await citizens.register("1004", draft({ affiliation: "association_member" }), now);
    expect((await db.prisma.user.findUnique({ where: { id: 1004n } }))?.role).toBe("member");
    const updated = await citizens.update("1004", { field: "affiliation", affiliation: "border_guard", unitName: "Đồn Biên phòng Lũng Cú" });
    expect(updated.registrationNumber).toBe(card.registrationNumber);
    expect(updated).toMatchObject({ affiliation: "border_guard", unitName: "Đồn Biên phòng Lũng Cú" });
    expect((await db.prisma.user.findUnique({ where: { id: 1004n } }))?.role).toBe("resident");
  });

  it("counts registrations in an officer's scope without personal data", async () => {
    const stats = await citizens.stats({ provinceCode: "08" }, 2026);
    expect(stats.total).toBe(3);
    expect(stats.byAffiliation).toEqual({ resident: 2, border_guard: 1 });
    expect(stats.thisYear).toBe(3);
    expect(stats.topCommunes).toEqual([{ communeCode: "00715", count: 3 }]);
    expect((await citizens.stats({ provinceCode: "08", communeCode: "00715" }, 2026)).topCommunes).toEqual([]);
  });
});
