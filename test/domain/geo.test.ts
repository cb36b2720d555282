import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import { modernToneSpelling } from "../../src/domain/geo/normalize.js";
import { ADMIN_UNITS_DATASET, readAdminUnits, seedAdminUnits } from "../../src/domain/geo/seed-admin-units.js";
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

  it("stores names in the modern tone-mark spelling (the file says Thanh Hoá, Điềm Thuỵ)", async () => {
    expect((await geo.getProvince("38"))?.name).toBe("Thanh Hóa");
    expect((await geo.getProvince("56"))?.name).toBe("Khánh Hòa");
    expect((await geo.getCommune("05941"))?.name).toBe("Điềm Thụy");
    expect((await geo.getCommune("01501"))?.name).toBe("Đàm Thủy");
    const names = (await db.prisma.commune.findMany({ select: { name: true } })).map((c) => c.name);
    expect(names.filter((n) => modernToneSpelling(n) !== n)).toEqual([]);
    expect(names.filter((n) => /(^| )Hòa( |$)/u.test(n)).length).toBeGreaterThan(100);
    // The search form is the same for both spellings.
    expect((await db.prisma.province.findUnique({ where: { code: "38" } }))?.searchName).toBe("thanh hoa");
  });

  it("re-seeds once a database seeded by the older seed version (same file, old spelling)", async () => {
    const { checksum: fileChecksum } = readAdminUnits();
    await db.prisma.province.update({ where: { code: "38" }, data: { name: "Thanh Hoá" } });
    await db.prisma.datasetImport.update({ where: { name: ADMIN_UNITS_DATASET }, data: { checksum: fileChecksum } });
    expect(await seedAdminUnits(db.prisma)).toBe("loaded");
    expect((await db.prisma.province.findUnique({ where: { code: "38" } }))?.name).toBe("Thanh Hóa");
    expect(await seedAdminUnits(db.prisma)).toBe("unchanged");
    expect(await db.prisma.province.count()).toBe(34);
  });

  it.each(["hai phong", "HẢI PHÒNG", "Hải Phòng", "tp hai phong", "Thành phố Hải Phòng", "haiphong", "Hai Phong City"])(
    "finds Hải Phòng from %j",
    async (q) => {
      const r = await geo.findProvinces(q);
      expect(r.exact?.code).toBe("31");
      expect(r.suggestion).toBeUndefined();
    },
  );

  it.each([
    ["Hanoi", "01"],
    ["hn", "01"],
    ["danang", "48"],
    ["TP.HCM", "79"],
    ["tphcm", "79"],
    ["sai gon", "79"],
    ["Saigon", "79"],
    ["thanh hoa", "38"],
    ["Thanh Hoá", "38"],
    ["Thanh Hóa", "38"],
    ["tỉnh Thanh Hóa", "38"],
    ["khanh hoa", "56"],
    ["Khánh Hoà", "56"],
    ["hue", "46"],
    ["Tuyen Quang Province", "08"],
  ])("knows %j as province %s outright", async (q, code) => {
    expect((await geo.findProvinces(q)).exact?.code).toBe(code);
  });

  it("offers choices for partial names, typo guesses never among them", async () => {
    const ninh = await geo.findProvinces("ninh");
    expect(ninh.exact).toBeUndefined();
    expect(ninh.suggestion).toBeUndefined();
    expect(ninh.matches.map((p) => p.name).sort()).toEqual(["Bắc Ninh", "Ninh Bình", "Quảng Ninh", "Tây Ninh"]);
    expect(ninh.matches[0]?.name).toBe("Ninh Bình"); // starts with the text: before "a word starts with"
    const ha = await geo.findProvinces("ha");
    expect(ha.matches.slice(0, 3).map((p) => p.name)).toEqual(["Hà Nội", "Hà Tĩnh", "Hải Phòng"]);
    expect((await geo.findProvinces("atlantis")).matches).toEqual([]);
  });

  it("suggests the closest province for one or two typos, and only one", async () => {
    const oneTypo = await geo.findProvinces("ha noii");
    expect(oneTypo.exact).toBeUndefined();
    expect(oneTypo.suggestion?.name).toBe("Hà Nội");
    expect((await geo.findProvinces("ho chi mihn")).suggestion?.code).toBe("79"); // a transposition is one typo
    const twoTypos = await geo.findProvinces("hai phnogg");
    expect(twoTypos.exact).toBeUndefined();
    expect(twoTypos.suggestion?.name).toBe("Hải Phòng");
    // Khánh Hòa is two typos from "thanh hao", Thanh Hóa one: listed in that order, Thanh Hóa suggested.
    const thanhHao = await geo.findProvinces("thanh hao");
    expect(thanhHao.matches.map((p) => p.name)).toEqual(["Thanh Hóa", "Khánh Hòa"]);
    expect(thanhHao.suggestion?.name).toBe("Thanh Hóa");
    // Up to five letters, one typo only: "dnag" is two from "danang".
    expect(await geo.findProvinces("dnag")).toEqual({ matches: [] });
  });

  it("searches communes within one province only, keyed by code", async () => {
    const hn = await geo.searchCommunes("01", "ba dinh");
    expect(hn.matches[0]).toMatchObject({ code: "00004", name: "Ba Đình", type: "phường", provinceCode: "01" });
    expect(hn.exact?.code).toBe("00004");
    // "Tân Phú" exists in several provinces: each search stays in its own province.
    const a = await geo.searchCommunes("79", "tan phu");
    const b = await geo.searchCommunes("75", "tan phu");
    expect(a.matches.map((c) => [c.code, c.name, c.provinceCode])).toContainEqual(["27031", "Tân Phú", "79"]);
    expect(b.matches.map((c) => [c.code, c.name, c.provinceCode])).toContainEqual(["26116", "Tân Phú", "75"]);
    expect(new Set(a.matches.map((c) => c.provinceCode))).toEqual(new Set(["79"]));
    expect(new Set(b.matches.map((c) => c.provinceCode))).toEqual(new Set(["75"]));
    expect(a.exact?.provinceCode).toBe("79");
    expect(b.exact?.provinceCode).toBe("75");
    expect(await geo.searchCommunes("01", "lung cu")).toEqual({ matches: [], total: 0 });
    const lungCu = await geo.searchCommunes("08", "LŨNG CÚ");
    expect(lungCu.matches.map((c) => c.code)).toEqual(["00715"]);
    expect((await geo.searchCommunes("08", "lung cu")).exact?.code).toBe("00715");
    expect((await geo.searchCommunes("08", "xã lũng cú")).exact?.code).toBe("00715");
  });

  it("ignores spaces and the unit word in commune names", async () => {
    for (const q of ["benthanh", "Phường Bến Thành", "p. ben thanh", "ben thanh ward"]) {
      const r = await geo.searchCommunes("79", q);
      expect(r.exact?.name, q).toBe("Bến Thành");
    }
    expect((await geo.searchCommunes("31", "đặc khu Cát Hải")).exact).toMatchObject({ name: "Cát Hải", type: "đặc khu" });
  });

  it("suggests a commune for a typo only when one is clearly closest", async () => {
    const baDihn = await geo.searchCommunes("01", "ba dihn");
    expect(baDihn.exact).toBeUndefined();
    expect(baDihn.suggestion).toMatchObject({ code: "00004", name: "Ba Đình" });
    expect(baDihn.matches[0]?.code).toBe("00004");
    // "tan phu" names Tân Phú and starts Tân Phước: literal matches, no guessing.
    const tanPhu = await geo.searchCommunes("79", "tan phu");
    expect(tanPhu.suggestion).toBeUndefined();
    expect(tanPhu.matches[0]?.name).toBe("Tân Phú");
    // Tây Hồ and Tây Mỗ are each one typo from "tay xo": both offered, neither suggested.
    const tayXo = await geo.searchCommunes("01", "tay xo");
    expect(tayXo.matches.map((c) => c.name).sort()).toEqual(["Tây Hồ", "Tây Mỗ"]);
    expect(tayXo.suggestion).toBeUndefined();
  });

  it("caps matches at the limit and reports the total", async () => {
    const r = await geo.searchCommunes("79", "a", 8);
    expect(r.matches.length).toBe(8);
    expect(r.total).toBeGreaterThan(8);
    expect(r.suggestion).toBeUndefined();
  });
});
