import { beforeAll, describe, expect, it } from "vitest";
import { useHarness, type TestUser } from "../support/harness.js";

const h = useHarness();
let nextId = 9_830_000;
let nextProvince = 11;

beforeAll(async () => {
  await h.deps.services.geo.listProvinces();
});

async function place() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const [c1] = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 1 });
  return { province: p, c1: c1! };
}
async function officer(provinceCode: string, communeCode?: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: provinceCode, scopeCommuneCode: communeCode ?? null } });
  return h.user(id);
}

describe("/programme_new", () => {
  it("creates a programme through the conversation: a bad name and period re-asked, Back, bodies toggled, targets or skip, summary", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const start = await o.send("/programme_new");
    expect(start[0]).toContain("Thêm chương trình phối hợp");
    expect(start.at(-1)).toContain("Tên chương trình?");
    expect(await o.send("ab")).toEqual(["Tên chương trình dài 3–160 ký tự. Gõ lại tên."]);
    expect((await o.send("Phối hợp   xây dựng xã hội học tập"))[0]).toBe("✅ Tên chương trình: Phối hợp xây dựng xã hội học tập");
    // Officers are not asked the province: the bodies come next, and Back returns to the name.
    expect(h.fake.lastText(o.id)).toContain("Những khối nào tham gia?");
    await o.press("Quay lại");
    expect(h.fake.lastText(o.id)).toContain("Tên chương trình?");
    await o.send("Phối hợp Biên phòng – Khuyến học 2024–2030");
    await o.press("Xong");
    expect(h.fake.lastText(o.id)).toBe("Chọn ít nhất một khối tham gia, rồi bấm Xong.");
    await o.press("Bộ đội Biên phòng");
    await o.press("Hội Khuyến học");
    expect(o.buttons()).toEqual(["✅ Hội Khuyến học", "▫️ Bộ Chỉ huy Quân sự", "▫️ Công an", "✅ Bộ đội Biên phòng", "▫️ Khác", "✔️ Xong", "↩️ Quay lại"]);
    expect((await o.press("Xong"))[0]).toBe("✅ Khối tham gia: Hội Khuyến học, Bộ đội Biên phòng");
    expect(await o.send("2030-2024")).toEqual(["Năm bắt đầu phải trước hoặc bằng năm kết thúc. Gõ lại, ví dụ 2024-2030."]);
    expect(await o.send("2024 đến 2050")).toEqual(["Một thời kỳ dài tối đa 15 năm. Gõ lại, ví dụ 2024-2030."]);
    expect(await o.send("từ 2024")).toEqual(["Chưa hiểu thời kỳ. Gõ năm bắt đầu và năm kết thúc, ví dụ 2024-2030 hoặc 2024 đến 2030."]);
    expect((await o.send("2024–2030"))[0]).toBe("✅ Thời kỳ: 2024–2030");
    expect(h.fake.lastText(o.id)).toContain("Chỉ tiêu Công dân học tập");
    expect(await o.send("120")).toEqual(["Chỉ tiêu là một số phần trăm từ 1 đến 100. Gõ lại, ví dụ 80."]);
    await o.send("80%");
    await o.press("Bỏ qua");
    await o.send("90");
    // Back from the families' target asks the learning units' again.
    await o.press("Quay lại");
    expect(h.fake.lastText(o.id)).toContain("Chỉ tiêu Đơn vị học tập");
    await o.send("95");
    await o.press("Bỏ qua");
    const summary = h.fake.lastText(o.id)!;
    expect(summary).toContain("📋 Phối hợp Biên phòng – Khuyến học 2024–2030");
    expect(summary).toContain(`📍 ${p.province.name.replace(/^Thành phố /, "TP. ")}`);
    expect(summary).toContain("• Công dân học tập: 80% cả thời kỳ");
    expect(summary).toContain("• Hội viên khuyến học: chưa đặt");
    expect(summary).toContain("• Đơn vị học tập: 95% cả thời kỳ");
    const done = (await o.press("Tạo chương trình")).join("\n");
    const row = await h.db.prisma.programme.findFirstOrThrow({ where: { provinceCode: p.province.code }, include: { targets: { orderBy: { metric: "asc" } }, officers: true } });
    expect(done).toContain(`✅ Đã tạo chương trình «Phối hợp Biên phòng – Khuyến học 2024–2030» (số ${row.id})`);
    expect(row).toMatchObject({ bodies: ["association", "border_guard"], startYear: 2024, endYear: 2030, createdById: BigInt(o.id) });
    expect(row.targets.map((t) => [t.metric, t.year, t.percent])).toEqual([["learning_citizens", 0, 80], ["learning_units", 0, 95]]);
    expect(row.officers.map((x) => Number(x.userId))).toEqual([o.id]);
    expect(h.logged()).toEqual([]);
  });

  it("keeps a commune officer and residents out of creating and editing", async () => {
    const p = await place();
    const provincial = await officer(p.province.code);
    const communal = await officer(p.province.code, p.c1.code);
    const r = await h.deps.services.programmes.create({ role: "officer", scope: { provinceCode: p.province.code }, id: String(provincial.id) }, {
      name: "Chương trình tỉnh", provinceCode: p.province.code, bodies: ["police"], startYear: 2025, endYear: 2030, targets: [{ metric: "members", percent: 60 }],
    });
    if (!r.ok) throw new Error("programme");
    expect(await communal.send("/programme_new")).toEqual(["Chỉ cán bộ cấp tỉnh và quản trị viên mới sửa được chương trình. Bạn vẫn xem được bảng chỉ tiêu: /targets"]);
    expect(await h.user(++nextId).send("/programme_new")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    expect((await communal.send("/programmes")).join("\n")).toContain("1. Chương trình tỉnh · 2025–2030");
    await communal.press("📋 1");
    expect(communal.buttons()).not.toContain("✏️ Sửa");
    expect(communal.buttons()).toContain("🔔 Theo dõi");
    expect(await communal.pressData(`pg:e.${r.programme.id}`)).toEqual(["[answer] Chỉ cán bộ cấp tỉnh và quản trị viên mới sửa được chương trình. Bạn vẫn xem được bảng chỉ tiêu: /targets"]);
    expect(await communal.pressData(`pg:do.${r.programme.id}`)).toEqual(["[answer] Chỉ cán bộ cấp tỉnh và quản trị viên mới sửa được chương trình. Bạn vẫn xem được bảng chỉ tiêu: /targets"]);
    expect((await h.db.prisma.programme.findUniqueOrThrow({ where: { id: r.programme.id } })).deletedAt).toBeNull();
  });
});

describe("/programmes", () => {
  it("a card with its targets: follow and unfollow, a year's own target, delete with confirmation", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const r = await h.deps.services.programmes.create({ role: "officer", scope: { provinceCode: p.province.code }, id: String(o.id) }, {
      name: "Chương trình thẻ", provinceCode: p.province.code, bodies: ["military_command"], startYear: 2024, endYear: 2030, targets: [{ metric: "learning_citizens", percent: 80 }],
    });
    if (!r.ok) throw new Error("programme");
    await o.send("/programmes");
    const card = (await o.press("📋 1")).join("\n");
    expect(card).toContain("• Công dân học tập: 80% cả thời kỳ");
    expect(card).toContain("🔔 1 cán bộ theo dõi (có bạn)");
    expect(await o.press("Bỏ theo dõi")).toContain("[answer] Đã bỏ theo dõi chương trình này.");
    expect(await h.deps.services.programmes.followers(r.programme.id)).toEqual([]);
    await o.press("🔔 Theo dõi");
    expect(await h.deps.services.programmes.followers(r.programme.id)).toEqual([String(o.id)]);
    await o.press("✏️ Sửa");
    await o.press("Chỉ tiêu một năm");
    await o.press("Công dân học tập");
    expect(await o.send("2031: 60%")).toEqual(expect.arrayContaining([expect.stringContaining("Năm 2031 nằm ngoài thời kỳ 2024–2030")]));
    // Not saved: the card is opened again from its button data.
    await o.pressData(`pg:e.${r.programme.id}`);
    await o.press("Chỉ tiêu một năm");
    await o.press("Công dân học tập");
    const saved = (await o.send("2026: 60%")).join("\n");
    expect(saved).toContain("• Công dân học tập: 80% cả thời kỳ · 2026: 60%");
    expect((await o.press("🗑 Xóa")).join("\n")).toContain("Xóa chương trình «Chương trình thẻ»?");
    expect((await o.press("🗑 Xóa")).join("\n")).toContain("Đã xóa chương trình «Chương trình thẻ».");
    expect((await h.db.prisma.programme.findUniqueOrThrow({ where: { id: r.programme.id } })).deletedAt).not.toBeNull();
    expect(await o.send("/programmes")).toEqual(["Chưa có chương trình phối hợp nào trong địa bàn của bạn. Tạo mới: /programme_new"]);
  });
});

describe("/myunits: the association-member declaration", () => {
  it("declares and withdraws it; /mydata exports it and /deleteme erases it with the user row", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const unit = await h.deps.services.units.create({ role: "officer", scope: { provinceCode: p.province.code }, id: String(o.id) }, { communeCode: p.c1.code, name: "Thôn Hội viên", kind: "residential_group", headcount: 30 });
    if (!unit.ok) throw new Error("unit");
    const person = h.user(++nextId, { first_name: "Mai" });
    await h.deps.services.units.join(String(person.id), unit.unit.joinToken, "Mai");
    await person.send("/myunits");
    expect(person.buttons()).toContain("🎗 Tôi là hội viên Hội Khuyến học");
    expect((await person.press("Tôi là hội viên")).join("\n")).toContain("Bạn là hội viên Hội Khuyến học?");
    expect(await person.press("Đúng, tôi là hội viên")).toEqual(["✅ Đã ghi nhận bạn là hội viên Hội Khuyến học."]);
    const row = await h.db.prisma.user.findUniqueOrThrow({ where: { id: BigInt(person.id) } });
    expect(row.associationMemberSince).not.toBeNull();
    const exported = await h.deps.services.privacy.exportAll(String(person.id));
    expect(exported.user).toMatchObject({ associationMemberSince: row.associationMemberSince!.toISOString() });
    await person.send("/myunits");
    expect(person.buttons()).toContain("🎗 Hội viên Hội Khuyến học ✅");
    await person.press("Hội viên Hội Khuyến học ✅");
    expect(await person.press("Bỏ khai báo")).toEqual(["Đã bỏ khai báo hội viên Hội Khuyến học."]);
    expect((await h.db.prisma.user.findUniqueOrThrow({ where: { id: BigInt(person.id) } })).associationMemberSince).toBeNull();
    await h.deps.services.associationMembership.set(String(person.id), true);
    await h.deps.services.privacy.erase(String(person.id), new Date());
    expect(await h.db.prisma.user.findUnique({ where: { id: BigInt(person.id) } })).toBeNull();
  });
});
