import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import { newToken, unitNameKey } from "../../src/domain/units/model.js";
import { UnitImportService, type UnitImporter } from "../../src/domain/units/unit-import.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

// One database per file; every test uses its own unit names (a tag) and importer ids, so each passes alone.
let db: Database;
let service: UnitImportService;
beforeAll(async () => {
  db = await openTestDatabase();
  service = new UnitImportService(db.prisma, new GeoService(db.prisma), () => new Date("2026-12-01T03:00:00Z"));
});
afterAll(() => db.close());

let nextId = 7_300_000;
const HEADER = "commune_code,name,kind,body,headcount,parent";
const csv = (...lines: string[]) => Buffer.from(lines.join("\r\n") + "\r\n", "utf8");
const officer = (provinceCode: string, communeCode?: string): UnitImporter => ({ role: "officer", scope: { provinceCode, communeCode }, id: String(++nextId) });
const admin = (): UnitImporter => ({ role: "admin", scope: {}, id: String(++nextId) });
const named = async (tag: string) => (await db.prisma.unit.findMany({ where: { name: { contains: tag } } })).sort((a, b) => a.name.localeCompare(b.name, "vi"));

async function communesOf(provinceCode: string, take = 2) {
  return db.prisma.commune.findMany({ where: { provinceCode }, orderBy: { code: "asc" }, take, include: { province: true } });
}

async function storedUnit(communeCode: string, name: string, extra: { parentId?: number; headcount?: number; deletedAt?: Date } = {}) {
  const c = await db.prisma.commune.findUniqueOrThrow({ where: { code: communeCode } });
  return db.prisma.unit.create({
    data: {
      name, nameKey: unitNameKey(name), kind: "school", body: "other", provinceCode: c.provinceCode, communeCode, headcount: extra.headcount ?? 10,
      joinToken: newToken(), parentId: extra.parentId ?? null, deletedAt: extra.deletedAt ?? null,
    },
  });
}

async function xlsxOf(rows: Array<Array<string | number>>): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet("units");
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await book.xlsx.writeBuffer());
}

describe("unit import", () => {
  it("imports a good file, reports the same file twice as unchanged, then updates only the edited row", async () => {
    const [c1, c2] = await communesOf("01");
    const o = officer("01");
    const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv(
      HEADER,
      `${c1!.code},Ban CHQS Nhập-A,quân đội,,25,`,
      `${c1!.code},"Trường THCS Nhập-B, cơ sở 1",trường học,hội khuyến học,"1.200",Ban CHQS Nhập-A`,
      `${c2!.code},Thôn Nhập-C,thôn,,320,`,
    )]);
    expect(await service.importFile(file, "csv", o)).toEqual({ ok: true, created: 3, updated: 0, unchanged: 0 });
    const first = await named("Nhập-");
    expect(first.map((u) => [u.name, u.kind, u.body, u.communeCode, u.provinceCode, u.headcount, u.createdById, u.learningStatus])).toEqual([
      ["Ban CHQS Nhập-A", "military_unit", "military_command", c1!.code, "01", 25, BigInt(o.id!), "none"],
      ["Thôn Nhập-C", "residential_group", "other", c2!.code, "01", 320, BigInt(o.id!), "none"],
      ["Trường THCS Nhập-B, cơ sở 1", "school", "association", c1!.code, "01", 1200, BigInt(o.id!), "none"],
    ]);
    expect(first[2]!.parentId).toBe(first[0]!.id);
    expect(new Set(first.map((u) => u.joinToken)).size).toBe(3);

    expect(await service.importFile(file, "csv", o)).toEqual({ ok: true, created: 0, updated: 0, unchanged: 3 });
    expect(await named("Nhập-")).toEqual(first);

    const edited = csv(
      HEADER,
      `${c1!.code},Ban CHQS Nhập-A,quân đội,,25,`,
      `${c1!.code},"Trường THCS Nhập-B, cơ sở 1",trường học,hội khuyến học,1250,Ban CHQS Nhập-A`,
      `${c2!.code},Thôn Nhập-C,thôn,,320,`,
    );
    expect(await service.importFile(edited, "csv", o)).toEqual({ ok: true, created: 0, updated: 1, unchanged: 2 });
    const after = await named("Nhập-");
    expect(after[2]!.headcount).toBe(1250);
    expect([after[0], after[1]]).toEqual([first[0], first[1]]);
    expect(after[2]!.joinToken).toBe(first[2]!.joinToken);
    const audits = await db.prisma.auditLog.findMany({ where: { actorId: BigInt(o.id!), action: "units_imported" }, orderBy: { id: "asc" } });
    expect(audits.map((a) => a.detail)).toEqual([
      { created: 3, updated: 0, unchanged: 0 }, { created: 0, updated: 0, unchanged: 3 }, { created: 0, updated: 1, unchanged: 2 },
    ]);
  });

  it("reads an XLSX with Vietnamese headers, names without diacritics instead of the code, and the kind keys", async () => {
    const [c1] = await communesOf("01");
    const a = admin();
    const bare = (s: string) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D");
    const book = await xlsxOf([
      ["Tỉnh", "Xã", "Tên đơn vị", "Loại", "Số người", "Đơn vị cấp trên"],
      ["ha noi", bare(c1!.name), "Đồn Biên phòng Xlsx-1", "border_post", 40, ""],
      ["Hà Nội", c1!.name, "Trạm Xlsx-2", "đồn biên phòng", 12, "don bien phong xlsx 1"],
    ]);
    expect(await service.importFile(book, "xlsx", a)).toEqual({ ok: true, created: 2, updated: 0, unchanged: 0 });
    const units = await named("Xlsx-");
    expect(units.map((u) => [u.name, u.kind, u.body, u.communeCode, u.headcount])).toEqual([
      ["Đồn Biên phòng Xlsx-1", "border_post", "border_guard", c1!.code, 40],
      ["Trạm Xlsx-2", "border_post", "border_guard", c1!.code, 12],
    ]);
    expect(units[1]!.parentId).toBe(units[0]!.id);
    // The same rows as CSV change nothing: both readers give the same table.
    const same = csv("tinh;xa;ten;loai;so_nguoi;cap_tren", `Hà Nội;${c1!.name};Đồn Biên phòng Xlsx-1;border_post;40;`, `Hà Nội;${c1!.name};Trạm Xlsx-2;đồn biên phòng;12;Đồn Biên phòng Xlsx-1`);
    expect(await service.importFile(same, "csv", a)).toEqual({ ok: true, created: 0, updated: 0, unchanged: 2 });
  });

  it("lists every bad row with its column and reason, and stores nothing", async () => {
    const [c1] = await communesOf("01");
    const o = officer("01");
    const result = await service.importFile(csv(
      HEADER,
      `${c1!.code},Đơn vị Lỗi-tốt,cơ quan,,10,`,
      `${c1!.code},Đơn vị Lỗi-1,tàu ngầm,,10,`,
      `${c1!.code},Đơn vị Lỗi-2,cơ quan,,mười,`,
      `99999,Đơn vị Lỗi-3,cơ quan,,0,`,
      `${c1!.code},${"x".repeat(121)},cơ quan,khối lạ,10,`,
      `${c1!.code},Đơn vị Lỗi-4,,,,`,
    ), "csv", o);
    expect(result).toEqual({
      ok: false,
      rows: [
        { row: 3, column: "kind", reason: "unknown_kind" },
        { row: 4, column: "headcount", reason: "not_a_number" },
        { row: 5, column: "commune_code", reason: "unknown_commune" },
        { row: 5, column: "headcount", reason: "headcount_range", limit: 1, found: 0 },
        { row: 6, column: "name", reason: "too_long", limit: 120, found: 121 },
        { row: 6, column: "body", reason: "unknown_body" },
        { row: 7, column: "kind", reason: "required" },
        { row: 7, column: "headcount", reason: "required" },
      ],
    });
    expect(await named("Lỗi-")).toEqual([]);
  });

  it("refuses two units of one name in one commune (case and diacritics aside), but not in two communes", async () => {
    const [c1, c2] = await communesOf("01");
    const o = officer("01");
    const result = await service.importFile(csv(
      HEADER,
      `${c1!.code},Trường THCS Trùng-Tên,trường học,,30,`,
      `${c2!.code},Trường THCS Trùng-Tên,trường học,,30,`,
      `${c1!.code},truong thcs trung ten,trường học,,31,`,
    ), "csv", o);
    expect(result).toEqual({ ok: false, rows: [{ row: 4, column: "name", reason: "duplicate_name", limit: 2 }] });
    expect(await named("Trùng-Tên")).toEqual([]);
  });

  it("resolves parents by name in the file or stored in the province; refuses a missing parent, a cycle, itself, an ambiguous name and a tree too deep", async () => {
    const [c1, c2] = await communesOf("01");
    const o = officer("01");
    const command = await storedUnit(c2!.code, "Bộ CHQS Cây-Gốc");
    const ok = await service.importFile(csv(
      HEADER,
      `${c1!.code},Trung đoàn Cây-1,quân đội,,500,bo chqs cay goc`,
      `${c1!.code},Đại đội Cây-2,quân đội,,100,Trung đoàn Cây-1`,
    ), "csv", o);
    expect(ok).toEqual({ ok: true, created: 2, updated: 0, unchanged: 0 });
    const [regiment, company] = await Promise.all([
      db.prisma.unit.findFirstOrThrow({ where: { name: "Trung đoàn Cây-1" } }),
      db.prisma.unit.findFirstOrThrow({ where: { name: "Đại đội Cây-2" } }),
    ]);
    expect([regiment.parentId, company.parentId]).toEqual([command.id, regiment.id]);

    await storedUnit(c1!.code, "Đơn vị Cây-Trùng");
    await storedUnit(c2!.code, "Đơn vị Cây-Trùng");
    const bad = await service.importFile(csv(
      HEADER,
      `${c1!.code},Đơn vị Cây-Vòng-A,cơ quan,,10,Đơn vị Cây-Vòng-B`,
      `${c1!.code},Đơn vị Cây-Vòng-B,cơ quan,,10,Đơn vị Cây-Vòng-A`,
      `${c1!.code},Đơn vị Cây-Thiếu,cơ quan,,10,Đơn vị Không-Có`,
      `${c1!.code},Đơn vị Cây-Tự,cơ quan,,10,Đơn vị Cây-Tự`,
      `${c1!.code},Đơn vị Cây-Mơ-hồ,cơ quan,,10,Đơn vị Cây-Trùng`,
    ), "csv", o);
    expect(bad).toEqual({ ok: false, rows: [{ row: 4, column: "parent", reason: "parent_missing" }, { row: 5, column: "parent", reason: "parent_self" }, { row: 6, column: "parent", reason: "parent_ambiguous", found: 2 }] });
    const cycle = await service.importFile(csv(
      HEADER,
      `${c1!.code},Đơn vị Cây-Vòng-A,cơ quan,,10,Đơn vị Cây-Vòng-B`,
      `${c1!.code},Đơn vị Cây-Vòng-B,cơ quan,,10,Đơn vị Cây-Vòng-A`,
    ), "csv", o);
    expect(cycle).toEqual({ ok: false, rows: [{ row: 2, column: "parent", reason: "parent_cycle" }, { row: 3, column: "parent", reason: "parent_cycle" }] });
    // A cycle through a stored unit: the file makes the stored command the regiment's child.
    const through = await service.importFile(csv(HEADER, `${c2!.code},Bộ CHQS Cây-Gốc,quân đội,,10,Đại đội Cây-2`), "csv", o);
    expect(through).toEqual({ ok: false, rows: [{ row: 2, column: "parent", reason: "parent_cycle" }] });

    // Seven levels: one more than UNIT_LIMITS.depthMax.
    const chain = Array.from({ length: 7 }, (_, i) => `${c1!.code},Cấp Cây-Sâu-${i + 1},cơ quan,,10,${i === 0 ? "" : `Cấp Cây-Sâu-${i}`}`);
    const deep = await service.importFile(csv(HEADER, ...chain), "csv", o);
    expect(deep).toEqual({ ok: false, rows: [{ row: 8, column: "parent", reason: "too_deep", limit: 6, found: 7 }] });
    expect(await named("Cây-Vòng")).toEqual([]);
    expect(await named("Cây-Sâu")).toEqual([]);
    expect(await service.importFile(csv(HEADER, ...chain.slice(0, 6)), "csv", o)).toMatchObject({ ok: true, created: 6 });
  });

  it("refuses a headcount below the members who joined, and the name of a deleted unit", async () => {
    const [c1] = await communesOf("01");
    const o = officer("01");
    const unit = await storedUnit(c1!.code, "Đơn vị Đã-Có-Người", { headcount: 5 });
    await storedUnit(c1!.code, "Đơn vị Đã-Xóa", { deletedAt: new Date("2026-11-01T00:00:00Z") });
    for (const id of [7_390_001n, 7_390_002n, 7_390_003n]) {
      await db.prisma.user.create({ data: { id } });
      await db.prisma.unitMember.create({ data: { unitId: unit.id, userId: id, displayName: "Lan", joinedAt: new Date() } });
    }
    const result = await service.importFile(csv(HEADER, `${c1!.code},Đơn vị Đã-Có-Người,trường học,,2,`, `${c1!.code},đơn vị đã xóa,cơ quan,,9,`), "csv", o);
    expect(result).toEqual({ ok: false, rows: [{ row: 2, column: "headcount", reason: "headcount_below_members", limit: 3, found: 2 }, { row: 3, column: "name", reason: "deleted_unit" }] });
    expect((await db.prisma.unit.findUniqueOrThrow({ where: { id: unit.id } })).headcount).toBe(5);
  });

  it("keeps province officers to their province, refuses commune officers and residents altogether", async () => {
    const [c1] = await communesOf("01");
    const other = (await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: { not: "01" } }, orderBy: { code: "desc" } })).code;
    const file = csv(HEADER, `${c1!.code},Đơn vị Phạm-vi-1,cơ quan,,10,`, `${other},Đơn vị Phạm-vi-2,cơ quan,,10,`);
    expect(await service.importFile(file, "csv", officer("01"))).toEqual({ ok: false, rows: [{ row: 3, column: "commune_code", reason: "out_of_scope" }] });
    expect(await service.importFile(file, "csv", officer("01", c1!.code))).toEqual({ ok: false, reason: "forbidden" });
    expect(await service.importFile(file, "csv", { role: "resident", scope: {}, id: "7399999" })).toEqual({ ok: false, reason: "forbidden" });
    expect(await service.importFile(file, "csv", { role: "officer", scope: {}, id: "7399998" })).toEqual({ ok: false, reason: "forbidden" });
    expect(await named("Phạm-vi")).toEqual([]);
    expect(await service.importFile(file, "csv", admin())).toEqual({ ok: true, created: 2, updated: 0, unchanged: 0 });
  });

  it("refuses a Windows-1258 file, a double-encoded one, UTF-16 and an old .xls before reading any row", async () => {
    const [c1] = await communesOf("01");
    const o = officer("01");
    // "Đồn" in Windows-1258: Đ 0xD0, ô 0xF4, combining grave 0xCC, n.
    const cp1258 = Buffer.concat([Buffer.from(`${HEADER}\r\n${c1!.code},`, "ascii"), Buffer.from([0xd0, 0xf4, 0xcc, 0x6e]), Buffer.from(" Ma-1258,co quan,,10,\r\n", "ascii")]);
    expect(await service.importFile(cp1258, "csv", o)).toEqual({ ok: false, file: { kind: "not_utf8" } });
    const twice = Buffer.from(Buffer.from(`${HEADER}\r\n${c1!.code},Đồn Biên phòng Mã-Kép,đồn biên phòng,,10,\r\n`, "utf8").toString("latin1"), "utf8");
    expect(await service.importFile(twice, "csv", o)).toEqual({ ok: false, file: { kind: "mojibake", row: 2 } });
    const utf16 = Buffer.from(`\uFEFF${HEADER}\r\n`, "utf16le");
    expect(await service.importFile(utf16, "csv", o)).toEqual({ ok: false, file: { kind: "utf16" } });
    const ole2 = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]);
    expect(await service.importFile(ole2, "xls", o)).toEqual({ ok: false, file: { kind: "xls_binary" } });
    expect(await service.importFile(csv("name,kind", "A,b"), "csv", o)).toEqual({ ok: false, file: { kind: "bad_header", missing: ["commune_code", "headcount"], unknown: [], duplicate: [] } });
    expect(await service.importFile(csv(HEADER, `${c1!.code},X,cơ quan,,1,`), "csv", o, { maxBytes: 10 })).toEqual({ ok: false, file: { kind: "too_big", maxBytes: 10 } });
  });

  it("writes thousands of rows in a few statements: 2,400 units, parents included, then the same file unchanged", async () => {
    const cs = await communesOf("01", 4);
    const o = officer("01");
    const lines = [HEADER];
    for (let i = 0; i < 2_400; i++) {
      const c = cs[i % cs.length]!.code;
      // Every tenth unit is a parent of the nine after it (same commune or not: the province is what counts).
      const parent = i % 10 === 0 ? "" : `Khối Nhiều-${i - (i % 10)}`;
      lines.push(`${c},Khối Nhiều-${i},cơ quan,,${10 + (i % 50)},${parent}`);
    }
    const file = csv(...lines);
    const started = Date.now();
    expect(await service.importFile(file, "csv", o)).toEqual({ ok: true, created: 2_400, updated: 0, unchanged: 0 });
    const took = Date.now() - started;
    expect(await service.importFile(file, "csv", o)).toEqual({ ok: true, created: 0, updated: 0, unchanged: 2_400 });
    const child = await db.prisma.unit.findFirstOrThrow({ where: { name: "Khối Nhiều-2399" }, include: { parent: true } });
    expect(child.parent?.name).toBe("Khối Nhiều-2390");
    // Row by row this would be ~5,000 statements; batched it is well under a few seconds on either lane.
    expect(took).toBeLessThan(20_000);
  });
});
