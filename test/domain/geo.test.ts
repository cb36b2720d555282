import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import { seedAdminUnits } from "../../src/domain/geo/seed-admin-units.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

// Read-only over the seeded admin units: tests share one database and need no data of their own.
let db: Database;
let geo: GeoService;

beforeAll(async () => {
  db = await openTestDatabase();
  geo = new GeoService(db.prisma);
});
afterAll(() => db.close());

describe("admin units", () => {
  it("loads the 34 provinces and 3,321 communes, once", async () => {
    expect(await db.prisma.province.count()).toBe(34);
    expect(await db.prisma.commune.count()).toBe(3321);
    expect(await seedAdminUnits(db.prisma)).toBe("unchanged");
    expect(await db.prisma.commune.count()).toBe(3321);
    expect((await db.prisma.commune.findUnique({ where: { code: "06970" } }))?.name).toBe("Ba Chẽ");
  });

  it.each(["hai phong", "HẢI PHÒNG", "Hải Phòng", "tp hai phong", "Thành phố Hải Phòng"])("finds Hải Phòng from %j", async (q) => {
    const r = await geo.findProvinces(q);
    expect(r.exact?.code).toBe("31");
  });

  it("knows the common short names and offers choices for partial names", async () => {
    expect((await geo.findProvinces("tp hcm")).exact?.name).toBe("Hồ Chí Minh");
    expect((await geo.findProvinces("Thanh Hóa")).exact?.code).toBe("38"); // data spells it "Thanh Hoá"
    const ninh = await geo.findProvinces("ninh");
    expect(ninh.exact).toBeUndefined();
    expect(ninh.matches.map((p) => p.name)).toEqual(expect.arrayContaining(["Ninh Bình", "Bắc Ninh", "Quảng Ninh"]));
    expect((await geo.findProvinces("atlantis")).matches).toEqual([]);
  });

  it("searches communes within one province only, keyed by code", async () => {
    const hn = await geo.searchCommunes("01", "ba dinh");
    expect(hn.matches[0]).toMatchObject({ code: "00004", name: "Ba Đình", type: "phường", provinceCode: "01" });
    // "Tân Phú" exists in several provinces: each search stays in its own province.
    const a = await geo.searchCommunes("79", "tan phu");
    const b = await geo.searchCommunes("75", "tan phu");
    expect(a.matches.map((c) => [c.code, c.name, c.provinceCode])).toContainEqual(["27031", "Tân Phú", "79"]);
    expect(b.matches.map((c) => [c.code, c.name, c.provinceCode])).toContainEqual(["26116", "Tân Phú", "75"]);
    expect(new Set(a.matches.map((c) => c.provinceCode))).toEqual(new Set(["79"]));
    expect(new Set(b.matches.map((c) => c.provinceCode))).toEqual(new Set(["75"]));
    expect(await geo.searchCommunes("01", "lung cu")).toEqual({ matches: [], total: 0 });
    const lungCu = await geo.searchCommunes("08", "LŨNG CÚ");
    expect(lungCu.matches.map((c) => c.code)).toEqual(["00715"]);
  });

  it("caps matches at the limit and reports the total", async () => {
    const r = await geo.searchCommunes("79", "a", 8);
    expect(r.matches.length).toBe(8);
    expect(r.total).toBeGreaterThan(8);
  });
});
