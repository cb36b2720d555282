import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import { CenterImportService, parseCenterFile } from "../../src/domain/sessions/center-import.js";
import type { Access } from "../../src/domain/users/user-service.js";
import type { Database } from "../../src/infra/database.js";
import { createSeededDatabase, openTestDatabase } from "../support/database.js";

// One database per file; every test uses its own centre names and importer ids, so each passes alone.
let db: Database;
let service: CenterImportService;
beforeAll(async () => {
  db = await openTestDatabase();
  service = new CenterImportService(db.prisma, new GeoService(db.prisma), () => new Date("2026-12-01T03:00:00Z"));
});
afterAll(() => db.close());

let nextId = 7_200_000;
const HEADER = "commune_code,name,address,lat,lon";
const csv = (...lines: string[]) => Buffer.from(lines.join("\r\n") + "\r\n", "utf8");
const officer = (provinceCode: string, communeCode?: string): Access & { id: string } => ({ role: "officer", scope: { provinceCode, communeCode }, id: String(++nextId) });
const admin = (): Access & { id: string } => ({ role: "admin", scope: {}, id: String(++nextId) });
const named = (tag: string) => db.prisma.learningCenter.findMany({ where: { name: { contains: tag } }, orderBy: { name: "asc" } });

async function communesOf(provinceCode: string, take = 2) {
  return db.prisma.commune.findMany({ where: { provinceCode }, orderBy: { code: "asc" }, take, include: { province: true } });
}

describe("center import", () => {
  it("imports a file with a BOM, then the same file changes nothing, then an edited row updates only that centre", async () => {
    const [c1, c2] = await communesOf("01");
    const o = officer("01");
    const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv(HEADER, `${c1!.code},TTHTCĐ Nhập-A,"Thôn 1, ${c1!.name}",21.03,105.85`, `${c2!.code},TTHTCĐ Nhập-B,Thôn 2,21.04,105.86`)]);
    expect(await service.importFile(file, o)).toEqual({ ok: true, created: 2, updated: 0, unchanged: 0 });
    const first = await named("Nhập-");
    expect(first.map((c) => [c.communeCode, c.provinceCode, c.name, c.address, c.lat, c.lon, c.createdById])).toEqual([
      [c1!.code, "01", "TTHTCĐ Nhập-A", `Thôn 1, ${c1!.name}`, 21.03, 105.85, BigInt(o.id)],
      [c2!.code, "01", "TTHTCĐ Nhập-B", "Thôn 2", 21.04, 105.86, BigInt(o.id)],
    ]);

    expect(await service.importFile(file, o)).toEqual({ ok: true, created: 0, updated: 0, unchanged: 2 });
    expect(await named("Nhập-")).toEqual(first);

    const edited = csv(HEADER, `${c1!.code},TTHTCĐ Nhập-A,"Thôn 1, ${c1!.name}",21.03,105.85`, `${c2!.code},TTHTCĐ Nhập-B,Thôn 2 (mới),21.04,105.86`);
    expect(await service.importFile(edited, o)).toEqual({ ok: true, created: 0, updated: 1, unchanged: 1 });
    const after = await named("Nhập-");
    expect(after[0]).toEqual(first[0]);
    expect(after[1]!.address).toBe("Thôn 2 (mới)");
    expect(after[1]!.id).toBe(first[1]!.id);
    const audits = await db.prisma.auditLog.findMany({ where: { actorId: BigInt(o.id) }, orderBy: { id: "asc" } });
    expect(audits.map((a) => a.detail)).toEqual([{ created: 2, updated: 0, unchanged: 0 }, { created: 0, updated: 1, unchanged: 1 }]);
  });

  it("reads semicolons, decimal commas, Vietnamese headers and province + commune names instead of the code", async () => {
    const [c1] = await communesOf("01");
    const a = admin();
    const file = csv("Tỉnh;Xã;Tên;Địa chỉ;Vĩ độ;Kinh độ", `ha noi;${c1!.name.normalize("NFD")};TTHTCĐ Tên-xã;Số 1;21,0285;105,8542`);
    expect(await service.importFile(file, a)).toEqual({ ok: true, created: 1, updated: 0, unchanged: 0 });
    expect((await named("Tên-xã")).map((c) => [c.communeCode, c.lat, c.lon])).toEqual([[c1!.code, 21.0285, 105.8542]]);
  });

  it("refuses a missing column, naming it, and writes nothing", async () => {
    const [c1] = await communesOf("01");
    const r = await service.importFile(csv("commune_code,name,lat,lon,phone", `${c1!.code},TTHTCĐ Thiếu cột,21,105,0912`), admin());
    expect(r).toEqual({ ok: false, file: { kind: "bad_header", missing: ["address"], unknown: ["phone"], duplicate: [] } });
    expect(await service.importFile(csv("name,address,lat,lon", "TTHTCĐ Thiếu mã,x,21,105"), admin())).toMatchObject({ file: { kind: "bad_header", missing: ["commune_code"] } });
    expect(await named("Thiếu")).toEqual([]);
  });

  it("refuses files in the wrong encoding with the reason: Windows-1258, UTF-16 with and without a BOM, converted twice", async () => {
    const [c1] = await communesOf("01");
    const text = `${HEADER}\r\n${c1!.code},Trung tâm Mã-sai,Thôn,21,105\r\n`;
    // "â" is 0xE2 in Windows-1258 (and Latin-1): a lone lead byte, not UTF-8.
    const cp1258 = Buffer.from(text.replace("â", "\u00e2"), "latin1");
    expect(await service.importFile(cp1258, admin())).toEqual({ ok: false, file: { kind: "not_utf8" } });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    expect(await service.importFile(utf16, admin())).toEqual({ ok: false, file: { kind: "utf16" } });
    expect(await service.importFile(Buffer.from(text, "utf16le"), admin())).toEqual({ ok: false, file: { kind: "utf16" } });
    const twice = Buffer.from(Buffer.from(text, "utf8").toString("latin1"), "utf8");
    expect(await service.importFile(twice, admin())).toEqual({ ok: false, file: { kind: "mojibake", row: 2 } });
    expect(await named("Mã-sai")).toEqual([]);
  });

  it("lists every bad row (coordinates, lengths, communes) with its row and column, and imports none of the good ones", async () => {
    const [c1] = await communesOf("01");
    const file = csv(
      HEADER,
      `${c1!.code},TTHTCĐ Tốt-1,Thôn,21.03,105.85`,
      `${c1!.code},TTHTCĐ Xấu-2,Thôn,hai mốt,105.85`,
      `${c1!.code},TTHTCĐ Xấu-3,Thôn,48.85,2.35`,
      `${c1!.code},TTHTCĐ Xấu-4,Thôn,105.85,21.03`,
      `99999,TTHTCĐ Xấu-5,${"x".repeat(201)},21,`,
      "",
      `${c1!.code},TTHTCĐ Tốt-1,Thôn khác,21.03,105.85`,
    );
    const r = await service.importFile(file, admin());
    expect(r).toEqual({
      ok: false,
      rows: [
        { row: 3, column: "lat", reason: "not_a_number" },
        { row: 4, column: "lat", reason: "outside_vietnam" },
        { row: 5, column: "lat", reason: "lat_lon_swapped" },
        { row: 6, column: "address", reason: "too_long", limit: 200, found: 201 },
        { row: 6, column: "lon", reason: "required" },
        { row: 6, column: "commune_code", reason: "unknown_commune" },
        { row: 8, column: "name", reason: "duplicate_row", limit: 2 },
      ],
    });
    expect(await named("TTHTCĐ Tốt-")).toEqual([]);
    expect(await named("TTHTCĐ Xấu-")).toEqual([]);
  });

  it("refuses rows outside the importer's province or commune, names that disagree with the code, and residents", async () => {
    const [a1, a2] = await communesOf("01");
    const other = await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: { not: "01" } }, include: { province: true } });
    const file = csv(HEADER, `${a1!.code},TTHTCĐ Phạm vi-1,Thôn,21,105.8`, `${other.code},TTHTCĐ Phạm vi-2,Thôn,21,105.8`);
    expect(await service.importFile(file, officer("01"))).toEqual({ ok: false, rows: [{ row: 3, column: "commune_code", reason: "out_of_scope" }] });
    const communeOfficer = officer("01", a2!.code);
    expect(await service.importFile(file, communeOfficer)).toEqual({
      ok: false, rows: [{ row: 2, column: "commune_code", reason: "out_of_scope" }, { row: 3, column: "commune_code", reason: "out_of_scope" }],
    });
    expect(await service.importFile(file, { role: "resident", scope: {}, id: "1" })).toEqual({ ok: false, reason: "forbidden" });
    const mismatch = csv("commune_code,province,commune,name,address,lat,lon", `${a1!.code},${other.province.name},${a1!.name},TTHTCĐ Phạm vi-3,Thôn,21,105.8`);
    expect(await service.importFile(mismatch, admin())).toEqual({ ok: false, rows: [{ row: 2, column: "province", reason: "commune_mismatch" }] });
    expect(await named("Phạm vi-")).toEqual([]);
  });

  it("imports more rows than one statement takes, in one transaction, and the second time finds them all unchanged", async () => {
    const [c1] = await communesOf("01");
    const lines = Array.from({ length: 1_201 }, (_, i) => `${c1!.code},TTHTCĐ Lô-${String(i).padStart(4, "0")},Thôn ${i},21.${i},105.5`);
    const file = csv(HEADER, ...lines);
    expect(await service.importFile(file, admin())).toEqual({ ok: true, created: 1_201, updated: 0, unchanged: 0 });
    expect(await service.importFile(file, admin())).toEqual({ ok: true, created: 0, updated: 0, unchanged: 1_201 });
    expect(await db.prisma.learningCenter.count({ where: { name: { startsWith: "TTHTCĐ Lô-" } } })).toBe(1_201);
  });

  it("refuses empty, too big and too long files", async () => {
    expect(parseCenterFile(Buffer.alloc(0))).toEqual({ ok: false, file: { kind: "empty" } });
    expect(parseCenterFile(csv(HEADER))).toEqual({ ok: false, file: { kind: "empty" } });
    expect(parseCenterFile(Buffer.alloc(11, 0x61), { maxBytes: 10 })).toEqual({ ok: false, file: { kind: "too_big", maxBytes: 10 } });
    expect(parseCenterFile(csv(HEADER, "01001,a,b,21,105", "01001,c,d,21,105"), { maxRows: 1 })).toEqual({ ok: false, file: { kind: "too_many_rows", max: 1, found: 2 } });
  });
});

describe("npm run import:centers", () => {
  it("imports as an admin, prints the counts or every problem, and exits 1 on errors with nothing written", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "khb-centres-"));
    const seeded = await createSeededDatabase(dir);
    try {
      const [c1] = await communesOf("01");
      const other = await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: { not: "01" } } });
      const bad = path.join(dir, "bad.csv");
      writeFileSync(bad, csv(HEADER, `${c1!.code},TTHTCĐ CLI-1,Thôn,21,105.8`, `${other.code},TTHTCĐ CLI-2,Thôn,21,200`));
      const good = path.join(dir, "good.csv");
      writeFileSync(good, csv(HEADER, `${c1!.code},TTHTCĐ CLI-1,Thôn,21,105.8`, `${other.code},TTHTCĐ CLI-2,Thôn,21,105.9`));
      const env = { ...process.env, DATA_DIR: dir, DATABASE_URL: seeded.url ?? "", LANG: "en_US.UTF-8", LC_ALL: "" };
      const run = (file: string) => spawnSync(process.execPath, ["--import", "tsx", "src/cli/import-centers.ts", file], { env, encoding: "utf8", timeout: 120_000 });

      const refused = run(bad);
      expect(refused.status, refused.stderr).toBe(1);
      expect(refused.stdout).toBe("❌ No centre imported: 1 problems in 1 rows. Please fix them and send the whole file again.\n\n• Row 3, lon: outside Vietnam\n");
      const imported = run(good);
      expect(imported.status, imported.stderr).toBe(0);
      expect(imported.stdout).toContain("Learning centres imported: 2 new, 0 updated, 0 unchanged.");

      const check = await seeded.open();
      try {
        expect(await check.prisma.learningCenter.findMany({ where: { name: { startsWith: "TTHTCĐ CLI-" } }, select: { provinceCode: true, createdById: true }, orderBy: { name: "asc" } }))
          .toEqual([{ provinceCode: "01", createdById: null }, { provinceCode: other.provinceCode, createdById: null }]);
      } finally {
        await check.close();
      }
    } finally {
      await seeded.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
