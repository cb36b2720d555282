import ExcelJS from "exceljs";
import { beforeAll, describe, expect, it } from "vitest";
import { useHarness, type TestUser } from "../support/harness.js";

const ADMIN = 9_600_001;
const h = useHarness({ adminIds: [String(ADMIN)] });
const FORBIDDEN = "Bạn không có quyền thực hiện thao tác này.";
const COMMUNE_OFFICER = "Chỉ quản trị viên và cán bộ cấp tỉnh/thành được nhập đơn vị từ tệp. Cán bộ cấp xã thêm đơn vị từng cái một.";

let nextId = 9_600_100;

// The place lists load once per process: loaded here, the first test's updates do not wait for them.
beforeAll(async () => {
  await h.deps.services.geo.listProvinces();
  await h.deps.services.geo.getCommune("00004");
});

async function officer(provinceCode: string, communeCode?: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: provinceCode, scopeCommuneCode: communeCode ?? null } });
  return h.user(id);
}
async function communes(provinceCode: string, take = 2) {
  return h.db.prisma.commune.findMany({ where: { provinceCode }, orderBy: { code: "asc" }, take });
}
/** A province no other test of this file uses: the template's example names repeat per province. */
async function provinceAt(index: number): Promise<string> {
  return (await h.db.prisma.province.findMany({ orderBy: { code: "asc" }, skip: index, take: 1 }))[0]!.code;
}
const csv = (...lines: string[]) => lines.join("\r\n") + "\r\n";
const HEADER = "commune_code,name,kind,headcount,parent";
const units = (tag: string) => h.db.prisma.unit.count({ where: { name: { contains: tag } } });

describe("/importunits", () => {
  it("explains the format with a template that imports as is; the same file twice is unchanged; an XLSX with the caption works too", async () => {
    const province = await provinceAt(5);
    const [c1, c2] = await communes(province);
    const o = await officer(province);
    const how = await o.send("/importunits");
    expect(how[0]).toContain("📥 Nhập đơn vị từ tệp CSV hoặc Excel (.xlsx)");
    expect(how[0]).toContain("quân đội, công an, đồn biên phòng, trường học, cơ quan, doanh nghiệp, thôn/tổ dân phố");
    const template = h.fake.lastDocument(o.id)!;
    expect(template.file_name).toBe("units-template.csv");
    expect(template.content.toString("utf8")).toContain(`commune_code,province,commune,name,kind,body,headcount,parent\r\n${c1!.code},`);
    expect(await o.sendDocument(template.content, "mau.csv")).toEqual(["✅ Đã nhập đơn vị: 3 mới, 0 cập nhật, 0 không đổi."]);
    expect(await o.sendDocument(template.content, "mau (1).csv")).toEqual(["✅ Đã nhập đơn vị: 0 mới, 0 cập nhật, 3 không đổi."]);

    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet("Đơn vị");
    sheet.addRow(["Mã xã", "Tên đơn vị", "Loại", "Số người", "Cấp trên"]);
    sheet.addRow([c2!.code, "Đồn Biên phòng Tệp-Excel", "đồn biên phòng", 45, ""]);
    sheet.addRow([c2!.code, "Trạm Tệp-Excel", "border_post", 9, "Đồn Biên phòng Tệp-Excel"]);
    const xlsx = Buffer.from(await book.xlsx.writeBuffer());
    expect(await o.sendDocument(xlsx, "don-vi.xlsx", { caption: "/importunits" })).toEqual(["✅ Đã nhập đơn vị: 2 mới, 0 cập nhật, 0 không đổi."]);
    const post = await h.db.prisma.unit.findFirstOrThrow({ where: { name: "Trạm Tệp-Excel" }, include: { parent: true } });
    expect([post.kind, post.body, post.headcount, post.parent?.name, post.createdById]).toEqual(["border_post", "border_guard", 9, "Đồn Biên phòng Tệp-Excel", BigInt(o.id)]);
  });

  it("lists bad rows and duplicate names in one commune, refuses a Windows-1258 file and other file types, writing nothing", async () => {
    const [c1] = await communes("01");
    const o = await officer("01");
    const rows = await o.sendDocument(csv(
      HEADER,
      `${c1!.code},Trường Tiểu học Lỗi-Trùng,trường học,30,`,
      `${c1!.code},TRƯỜNG TIỂU HỌC LỖI TRÙNG,trường học,31,`,
      `${c1!.code},Đơn vị Lỗi-Cha,cơ quan,12,Đơn vị Không-Tồn-Tại`,
      `${c1!.code},Đơn vị Lỗi-Số,cơ quan,mười hai,`,
    ), "u.csv", { caption: "/importunits" });
    expect(rows).toEqual([
      "❌ Chưa nhập đơn vị nào: có 2 lỗi ở 2 dòng. Hãy sửa rồi gửi lại cả tệp.\n\n" +
        "• Dòng 3, name: trùng tên với đơn vị ở dòng 2 trong cùng xã/phường\n" +
        "• Dòng 5, headcount: không phải số nguyên (ví dụ 120)",
    ]);
    // The parent is looked for once the rows themselves are fine.
    const parent = await o.sendDocument(csv(HEADER, `${c1!.code},Đơn vị Lỗi-Cha,cơ quan,12,Đơn vị Không-Tồn-Tại`), "u.csv", { caption: "/importunits" });
    expect(parent).toEqual(["❌ Chưa nhập đơn vị nào: có 1 lỗi ở 1 dòng. Hãy sửa rồi gửi lại cả tệp.\n\n• Dòng 2, parent: không tìm thấy đơn vị cấp trên tên này trong tệp hay trong tỉnh/thành"]);
    await o.send("/importunits");
    const cp1258 = Buffer.concat([Buffer.from(`${HEADER}\r\n${c1!.code},`, "ascii"), Buffer.from([0xd0, 0xf4, 0xcc, 0x6e]), Buffer.from(" Lỗi-Mã,co quan,10,\r\n".replace("ỗ", "o"), "latin1")]);
    expect((await o.sendDocument(cp1258, "u.csv"))[0]).toMatch(/^❌ Tệp không ở dạng UTF-8 \(có lẽ Windows-1258, TCVN3 hay VNI/);
    expect(await o.sendDocument("%PDF-1.4", "u.pdf")).toEqual(["«u.pdf» không phải tệp CSV hay Excel (.xlsx). Trong Excel: Tệp → Lưu thành → CSV UTF-8 hoặc Sổ làm việc Excel (.xlsx), rồi gửi tệp đó."]);
    expect(await units("Lỗi-")).toBe(0);
  });

  it("sends a long list of problems as a CSV file too", async () => {
    const [c1] = await communes("01");
    const o = await officer("01");
    const lines = Array.from({ length: 25 }, (_, i) => `${c1!.code},Đơn vị Nhiều-Lỗi-${i},tàu bay,10,`);
    const reply = await o.sendDocument(csv(HEADER, ...lines), "u.csv", { caption: "/importunits" });
    expect(reply[0]).toContain("có 25 lỗi ở 25 dòng");
    expect(reply[0]).toContain("…và 5 lỗi khác: xem danh sách đính kèm.");
    const list = h.fake.lastDocument(o.id)!;
    expect(list.file_name).toBe("units-problems.csv");
    expect(list.content.toString("utf8")).toContain("26,kind,\"loại đơn vị không rõ (quân đội, công an");
    expect(await units("Nhiều-Lỗi")).toBe(0);
  });

  it("keeps officers to their province and refuses commune officers and residents, by command and by caption", async () => {
    const [c1] = await communes("01");
    const other = (await communes(await provinceAt(6), 1))[0]!;
    const file = csv(HEADER, `${c1!.code},Đơn vị Phạm-Vi-Bot,cơ quan,10,`, `${other.code},Đơn vị Phạm-Vi-Bot-2,cơ quan,10,`);
    const o = await officer("01");
    expect((await o.sendDocument(file, "u.csv", { caption: "/importunits" }))[0]).toContain("• Dòng 3, commune_code: không thuộc địa bàn của bạn");
    const communeOfficer = await officer("01", c1!.code);
    expect(await communeOfficer.send("/importunits")).toEqual([COMMUNE_OFFICER]);
    expect(await communeOfficer.sendDocument(file, "u.csv", { caption: "/importunits" })).toEqual([COMMUNE_OFFICER]);
    const resident = h.user(++nextId);
    expect(await resident.send("/importunits")).toEqual([FORBIDDEN]);
    expect(await resident.sendDocument(file, "u.csv", { caption: "/importunits" })).toEqual([FORBIDDEN]);
    expect(await units("Phạm-Vi-Bot")).toBe(0);
    expect(await h.user(ADMIN).sendDocument(file, "u.csv", { caption: "/importunits" })).toEqual(["✅ Đã nhập đơn vị: 2 mới, 0 cập nhật, 0 không đổi."]);
  });

  it("takes an uncaptioned file when /importunits came last, and leaves it to the centre import when /importcenters did", async () => {
    const [c1] = await communes("01");
    const o = await officer("01");
    await o.send("/importcenters");
    await o.send("/importunits");
    expect(await o.sendDocument(csv(HEADER, `${c1!.code},Đơn vị Thứ-Tự,cơ quan,10,`), "u.csv")).toEqual(["✅ Đã nhập đơn vị: 1 mới, 0 cập nhật, 0 không đổi."]);
    await o.send("/importcenters");
    const reply = await o.sendDocument(csv(HEADER, `${c1!.code},Đơn vị Thứ-Tự-2,cơ quan,10,`), "u.csv");
    expect(reply[0]).toContain("/importcenters");
    expect(await units("Thứ-Tự-2")).toBe(0);
  });
});
