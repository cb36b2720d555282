import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlreadyRegisteredError, CitizenService, type RegistrationDraft } from "../../src/domain/citizens/citizen-service.js";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { draft } from "../support/drafts.js";

// One database per file. Numbers and stats count per province, so every test registers its own
// people (own Telegram ids) in its own province, and passes alone or in any order.
let db: Database;
let citizens: CitizenService;
const now = new Date("2026-11-23T03:00:00Z");


beforeAll(async () => {
  db = await openTestDatabase();
  citizens = new CitizenService(db.prisma, new GeoService(db.prisma));
});
afterAll(() => db.close());

describe("learning citizens", () => {
  it("numbers registrations per province and year, readable and unique", async () => {
    const a = await citizens.register("1101", draft(), now);
    const b = await citizens.register("1102", draft({ fullName: "Lò Văn Páo" }), now);
    const c = await citizens.register("1103", draft({ provinceCode: "01", communeCode: "00004" }), now);
    const nextYear = await citizens.register("1104", draft(), new Date("2027-01-02T03:00:00Z"));
    expect(a.registrationNumber).toBe("CDHT-08-2026-000001");
    expect(b.registrationNumber).toBe("CDHT-08-2026-000002");
    expect(c.registrationNumber).toBe("CDHT-01-2026-000001");
    expect(nextYear.registrationNumber).toBe("CDHT-08-2027-000001");
    expect(a).toMatchObject({ communeName: "Lũng Cú", provinceName: "Tuyên Quang", goals: ["law", "digital"] });
  });

  it("gives concurrent registrations distinct numbers", async () => {
    const cards = await Promise.all(
      Array.from({ length: 8 }, (_, i) => citizens.register(String(1201 + i), draft({ provinceCode: "48", communeCode: "20194" }), now).catch((e: unknown) => e)),
    );
    const numbers = cards.map((c) => (c as { registrationNumber: string }).registrationNumber);
    expect([...numbers].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `CDHT-48-2026-00000${i + 1}`));
  });

  it("stores the consent with the registration and refuses a second registration", async () => {
    const first = await citizens.register("1301", draft({ provinceCode: "04", communeCode: "01273" }), now);
    const consents = await db.prisma.consent.findMany({ where: { userId: 1301n } });
    expect(consents).toHaveLength(1);
    expect(consents[0]).toMatchObject({ version: "v-test", kind: "personal_data" });
    expect(consents[0]!.givenAt.toISOString()).toBe("2026-11-23T02:59:00.000Z");
    await expect(citizens.register("1301", draft({ provinceCode: "04", communeCode: "01273" }), now)).rejects.toBeInstanceOf(AlreadyRegisteredError);
    expect(await db.prisma.consent.count({ where: { userId: 1301n } })).toBe(1);
    // The refused attempt used no number: the next person gets the one after the first.
    const next = await citizens.register("1302", draft({ provinceCode: "04", communeCode: "01273" }), now);
    expect([first.registrationNumber, next.registrationNumber]).toEqual(["CDHT-04-2026-000001", "CDHT-04-2026-000002"]);
  });

  it("registers and refuses a second registration the same way straight through the driver (what the bot uses)", async () => {
    const direct = new CitizenService(db.prisma, new GeoService(db.prisma), db.read);
    expect(await direct.isRegistered("1901")).toBe(false);
    const first = await direct.register("1901", draft({ provinceCode: "12", communeCode: "03388" }), now);
    expect(first).toMatchObject({ registrationNumber: "CDHT-12-2026-000001", provinceName: "Lai Châu", goals: ["law", "digital"] });
    expect(await direct.isRegistered("1901")).toBe(true);
    await expect(direct.register("1901", draft({ provinceCode: "12", communeCode: "03388" }), now)).rejects.toBeInstanceOf(AlreadyRegisteredError);
    expect(await db.prisma.consent.count({ where: { userId: 1901n } })).toBe(1);
    expect(await db.prisma.learningCitizen.findUnique({ where: { userId: 1901n } })).toMatchObject({ fullName: "Nguyễn Thị Hoa", birthYear: 1985 });
  });

  it("makes association members members, and changes one field keeping the number", async () => {
    const card = await citizens.register("1401", draft({ provinceCode: "11", communeCode: "03127", affiliation: "association_member" }), now);
    expect((await db.prisma.user.findUnique({ where: { id: 1401n } }))?.role).toBe("member");
    const updated = await citizens.update("1401", { field: "affiliation", affiliation: "border_guard", unitName: "Đồn Biên phòng Lũng Cú" });
    expect(updated.registrationNumber).toBe(card.registrationNumber);
    expect(updated).toMatchObject({ affiliation: "border_guard", unitName: "Đồn Biên phòng Lũng Cú" });
    expect((await db.prisma.user.findUnique({ where: { id: 1401n } }))?.role).toBe("resident");
  });

  it("counts registrations in an officer's scope without personal data", async () => {
    const hp = (communeCode: string, over: Partial<RegistrationDraft> = {}) => draft({ provinceCode: "31", communeCode, ...over });
    await citizens.register("1501", hp("10507"), now);
    await citizens.register("1502", hp("10507"), now);
    await citizens.register("1503", hp("10525", { affiliation: "border_guard", unitName: "Đồn Biên phòng Hải Phòng" }), now);
    await citizens.register("1504", hp("10532"), new Date("2025-06-01T03:00:00Z"));
    const stats = await citizens.stats({ provinceCode: "31" }, 2026);
    expect(stats).toEqual({
      total: 4,
      byAffiliation: { resident: 3, border_guard: 1 },
      thisYear: 3,
      topCommunes: [{ communeCode: "10507", count: 2 }, { communeCode: "10525", count: 1 }, { communeCode: "10532", count: 1 }],
    });
    expect(await citizens.stats({ provinceCode: "31", communeCode: "10507" }, 2026)).toEqual({ total: 2, byAffiliation: { resident: 2 }, thisYear: 2, topCommunes: [] });
  });
});
