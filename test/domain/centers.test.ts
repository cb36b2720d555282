import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CenterService, coordinateProblems, parseCoordinates, type CenterActor } from "../../src/domain/sessions/centers.js";
import { SESSION_LIMITS } from "../../src/domain/sessions/model.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

// One database per file; every test uses its own centre names and actor ids, so each passes alone.
let db: Database;
let service: CenterService;
const NOW = new Date("2026-12-01T03:00:00Z");
beforeAll(async () => {
  db = await openTestDatabase();
  service = new CenterService(db.prisma, () => NOW);
});
afterAll(() => db.close());

let nextId = 7_100_000;
const HANOI_POINT = { lat: 21.0285, lon: 105.8542 };

/** Two communes of one province and one of another, from the seeded administrative units. */
async function places() {
  const [a1, a2] = await db.prisma.commune.findMany({ where: { provinceCode: "01" }, orderBy: { code: "asc" }, take: 2 });
  const b = await db.prisma.commune.findFirst({ where: { provinceCode: { not: "01" } }, orderBy: { code: "asc" } });
  return { a1: a1!, a2: a2!, b: b! };
}
const officer = (provinceCode: string, communeCode?: string): CenterActor => ({ role: "officer", scope: { provinceCode, communeCode }, id: String(++nextId) });
const admin = (): CenterActor => ({ role: "admin", scope: {}, id: String(++nextId) });
const input = (communeCode: string, name: string, extra: Partial<{ address: string; lat: number; lon: number }> = {}) => ({
  communeCode, name, address: "Trụ sở UBND", ...HANOI_POINT, ...extra,
});

describe("CenterService", () => {
  it("creates a centre in the officer's province, the province taken from the commune, and audits it without names", async () => {
    const { a1 } = await places();
    const o = officer("01");
    const r = await service.create(o, input(a1.code, "  Trung tâm  HTCĐ   thử 1 ", { address: "Thôn  Đông" }));
    expect(r).toMatchObject({ ok: true, center: { provinceCode: "01", communeCode: a1.code, name: "Trung tâm HTCĐ thử 1", address: "Thôn Đông", lat: 21.0285, lon: 105.8542 } });
    const id = r.ok ? r.center.id : 0;
    const row = await db.prisma.learningCenter.findUniqueOrThrow({ where: { id } });
    expect(row.createdById).toBe(BigInt(o.id));
    const audit = await db.prisma.auditLog.findMany({ where: { actorId: BigInt(o.id) } });
    expect(audit.map((a) => [a.action, a.detail])).toEqual([["center_created", { centerId: id, communeCode: a1.code }]]);
    expect(JSON.stringify(audit.map((a) => a.detail))).not.toContain("Trung tâm");
  });

  it("refuses bad input with every problem and stores nothing", async () => {
    const { a1 } = await places();
    const o = officer("01");
    const before = await db.prisma.learningCenter.count();
    expect(await service.create(o, { communeCode: "99999", name: " ", address: "x".repeat(SESSION_LIMITS.addressMax + 1), lat: 48.85, lon: 2.35 })).toEqual({
      ok: false, reason: "invalid", problems: [
        { field: "communeCode", reason: "unknown_commune" },
        { field: "name", reason: "required" },
        { field: "address", reason: "too_long", limit: SESSION_LIMITS.addressMax, found: SESSION_LIMITS.addressMax + 1 },
        { field: "lat", reason: "outside_vietnam" },
      ],
    });
    expect(await service.create(o, input(a1.code, "Đảo ngược", { lat: 105.8542, lon: 21.0285 }))).toMatchObject({ reason: "invalid", problems: [{ field: "lat", reason: "lat_lon_swapped" }] });
    expect(await service.create(o, input(a1.code, "Không phải số", { lat: Number.NaN }))).toMatchObject({ reason: "invalid", problems: [{ field: "lat", reason: "not_a_number" }] });
    expect(await service.create(o, input(a1.code, "x".repeat(SESSION_LIMITS.centerNameMax + 1)))).toMatchObject({ reason: "invalid", problems: [{ field: "name", reason: "too_long" }] });
    expect(await db.prisma.learningCenter.count()).toBe(before);
  });

  it("checks the scope server-side: another province, another commune, a resident; admins anywhere", async () => {
    const { a1, a2, b } = await places();
    expect(await service.create(officer("01"), input(b.code, "Ngoài tỉnh"))).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await service.create(officer("01", a1.code), input(a2.code, "Xã khác"))).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await service.create({ role: "resident", scope: {}, id: String(++nextId) }, input(a1.code, "Người dân"))).toEqual({ ok: false, reason: "forbidden" });
    expect(await service.create({ role: "officer", scope: {}, id: String(++nextId) }, input(a1.code, "Không địa bàn"))).toEqual({ ok: false, reason: "forbidden" });
    expect(await db.prisma.learningCenter.count({ where: { name: { in: ["Ngoài tỉnh", "Xã khác", "Người dân", "Không địa bàn"] } } })).toBe(0);
    expect(await service.create(admin(), input(b.code, "Quản trị thêm"))).toMatchObject({ ok: true, center: { provinceCode: b.provinceCode } });
  });

  it("says a second centre of the same name in the commune is a duplicate, also typed decomposed or spaced, and when two officers add it at once", async () => {
    const { a1, a2 } = await places();
    const first = await service.create(officer("01"), input(a1.code, "Trung tâm Trùng"));
    const id = first.ok ? first.center.id : -1;
    expect(await service.create(officer("01"), input(a1.code, "Trung tâm Trùng"))).toEqual({ ok: false, reason: "duplicate", existingId: id });
    expect(await service.create(officer("01"), input(a1.code, " Trung  tâm Trùng".normalize("NFD")))).toEqual({ ok: false, reason: "duplicate", existingId: id });
    // The same name in another commune is another centre.
    expect((await service.create(officer("01"), input(a2.code, "Trung tâm Trùng"))).ok).toBe(true);

    const race = await Promise.all([service.create(officer("01"), input(a1.code, "Cùng lúc")), service.create(officer("01"), input(a1.code, "Cùng lúc"))]);
    expect(race.filter((r) => r.ok)).toHaveLength(1);
    expect(race.filter((r) => !r.ok)).toMatchObject([{ reason: "duplicate" }]);
    expect(await db.prisma.learningCenter.count({ where: { communeCode: a1.code, name: "Cùng lúc" } })).toBe(1);
  });

  it("updates fields in scope, refuses a move or a forged id outside it, and leaves an unchanged centre alone", async () => {
    const { a1, a2, b } = await places();
    const o = officer("01");
    const created = await service.create(o, input(a1.code, "Sửa tôi"));
    const id = created.ok ? created.center.id : -1;
    expect(await service.update(o, id, { name: "Đã sửa", lat: 21.5 })).toMatchObject({ ok: true, changed: ["name", "lat"], center: { name: "Đã sửa", lat: 21.5 } });
    expect(await service.update(o, id, { communeCode: a2.code })).toMatchObject({ ok: true, changed: ["communeCode"], center: { communeCode: a2.code } });
    expect(await service.update(o, id, { communeCode: b.code })).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await service.update(o, id, { lat: 1 })).toMatchObject({ ok: false, reason: "invalid" });
    const audits = await db.prisma.auditLog.count({ where: { actorId: BigInt(o.id) } });
    expect(await service.update(o, id, { name: "Đã sửa " })).toMatchObject({ ok: true, changed: [] });
    expect(await db.prisma.auditLog.count({ where: { actorId: BigInt(o.id) } })).toBe(audits);

    const elsewhere = await service.create(admin(), input(b.code, "Tỉnh khác"));
    const otherId = elsewhere.ok ? elsewhere.center.id : -1;
    expect(await service.update(o, otherId, { name: "Chiếm" })).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await service.find(o, otherId)).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await service.update(o, 999_999_999, { name: "Không có" })).toEqual({ ok: false, reason: "not_found" });
    expect((await service.get(otherId))?.name).toBe("Tỉnh khác");

    const clash = await service.create(o, input(a2.code, "Tên đã có"));
    expect(await service.update(o, id, { name: "Tên đã có" })).toEqual({ ok: false, reason: "duplicate", existingId: clash.ok ? clash.center.id : -1 });
  });

  it("lists only the caller's scope, a page at a time", async () => {
    // The last province: no other test of this file writes there.
    const province = await db.prisma.province.findFirstOrThrow({ orderBy: { code: "desc" } });
    const communes = await db.prisma.commune.findMany({ where: { provinceCode: province.code }, orderBy: { code: "asc" }, take: 2 });
    const a = admin();
    for (let i = 0; i < 5; i++) await service.create(a, input(communes[0]!.code, `Danh sách ${i}`, { lat: 22, lon: 105 }));
    await service.create(a, input(communes[1]!.code, "Danh sách xã 2", { lat: 22, lon: 105 }));
    const provinceOfficer = officer(province.code);
    const page0 = await service.listInScope(provinceOfficer, { page: 0, pageSize: 4 });
    expect(page0).toMatchObject({ total: 6, pages: 2, page: 0 });
    expect(page0.items.map((c) => c.name)).toEqual(["Danh sách 0", "Danh sách 1", "Danh sách 2", "Danh sách 3"]);
    expect((await service.listInScope(provinceOfficer, { page: 9, pageSize: 4 })).items.map((c) => c.name)).toEqual(["Danh sách 4", "Danh sách xã 2"]);
    expect((await service.listInScope(officer(province.code, communes[1]!.code))).items.map((c) => c.name)).toEqual(["Danh sách xã 2"]);
    expect((await service.listInScope(provinceOfficer, { communeCode: communes[1]!.code })).total).toBe(1);
    expect(await service.listInScope({ role: "resident", scope: {} })).toEqual({ items: [], page: 0, pages: 1, total: 0 });
    const everywhere = await service.listInScope(a, { pageSize: 1000 });
    expect(everywhere.items.some((c) => c.provinceCode !== province.code)).toBe(everywhere.total > 6);
  });

  it("keeps the creator on /mydata and drops them on erasure", async () => {
    const { a1 } = await places();
    const o = officer("01");
    await service.create(o, input(a1.code, "Của tôi"));
    const { centerDataParts } = await import("../../src/domain/sessions/centers.js");
    const [part] = centerDataParts(db.prisma);
    expect(await part!.export(o.id)).toMatchObject([{ name: "Của tôi", communeCode: a1.code }]);
    expect(await part!.erase(o.id)).toBe(true);
    expect(await part!.exists(o.id)).toBe(false);
    expect(await db.prisma.learningCenter.count({ where: { name: "Của tôi" } })).toBe(1);
  });
});

describe("coordinates", () => {
  it("reads typed and pasted coordinates in the usual forms", () => {
    const p = { lat: 21.0285, lon: 105.8542 };
    for (const text of ["21.0285, 105.8542", "21.0285 105.8542", "21.0285N 105.8542E", "21.0285° N, 105.8542° E", "105.8542E 21.0285N",
      "21.0285°B, 105.8542°Đ", "21,0285; 105,8542", "https://www.google.com/maps/place/UBND/@21.0285,105.8542,17z", "https://maps.google.com/?q=21.0285,105.8542"]) {
      expect(parseCoordinates(text), text).toEqual(p);
    }
    for (const text of ["hà nội", "21.0285", "1 2 3", "21.0285, 105.8542 phía đông"]) expect(parseCoordinates(text), text).toBeUndefined();
  });

  it("accepts Vietnam's islands and refuses the rest of the world", () => {
    expect(coordinateProblems(16.5, 112.3)).toEqual([]); // Hoàng Sa
    expect(coordinateProblems(8.64, 111.92)).toEqual([]); // Trường Sa
    expect(coordinateProblems(13.75, 100.5)).toEqual([{ field: "lon", reason: "outside_vietnam" }]); // Bangkok
    expect(coordinateProblems(39.9, 116.4)).toEqual([{ field: "lat", reason: "outside_vietnam" }]); // Beijing
    expect(coordinateProblems(105.85, 21.03)).toEqual([{ field: "lat", reason: "lat_lon_swapped" }]);
  });
});
