import { describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { parseGradeRange, parseVndText } from "../../src/bot/flows/round-steps.js";
import { communeLabel, provinceLabel } from "../../src/domain/geo/labels.js";
import { SCHOLARSHIP_NOTICE_KIND, addDays, formatDay, vnDay } from "../../src/domain/scholarships/model.js";
import { dayKey } from "../../src/domain/scholarships/rounds.js";
import { ManualClock } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { makeRound } from "../support/scholarships.js";

// The officers' scholarship rounds through the real bot (handleUpdate, the strict fake Bot API):
// /scholarship_new end to end with refused dates re-asked, /scholarships_admin and a round's card
// (close, extend, cancel, edit), forged buttons for another province's round, and announce
// reaching the broadcast preview with the round's text and deep link.

const clock = new ManualClock(Date.now());
const ADMIN = 9_910_001;
const h = useHarness({ now: clock.now, adminIds: [String(ADMIN)] });

let nextId = 9_910_100;
let nextProvince = 11;

async function freshPlace() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const q = provinces[nextProvince++ % provinces.length]!;
  const commune = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: p.code }, orderBy: { code: "asc" } });
  return { province: p.code, provinceName: provinceLabel(p, "vi", "full"), commune: commune.code, otherProvince: q.code };
}

async function officer(province: string, commune?: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: province, scopeCommuneCode: commune ?? null } });
  h.fake.registerChat(id);
  return h.user(id);
}

async function citizen(province: string, commune: string): Promise<bigint> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id) } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `SA-${id}`, fullName: `Người ${id}`, birthYear: 1985, provinceCode: province, communeCode: commune, affiliation: "resident", goals: ["law"], registeredAt: clock.now() },
  });
  return BigInt(id);
}

/** "dd/mm/yyyy", `days` after today on Vietnam's calendar. */
const typed = (days: number) => formatDay(addDays(vnDay(clock.now()), days));
const dayIn = (days: number) => dayKey(addDays(vnDay(clock.now()), days));

describe("typed amounts and grades", () => {
  it("reads money and grade ranges the ways officers type them", () => {
    expect(["2000000", "2.000.000", "2 triệu", "2tr", "2,5 triệu", "1.5tr", "500 nghìn", "500k", "2 triệu đồng", "3000000đ"].map(parseVndText))
      .toEqual([2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_500_000, 1_500_000, 500_000, 500_000, 2_000_000, 3_000_000]);
    expect(["nhiều", "2 tỷ", ""].map(parseVndText)).toEqual([undefined, undefined, undefined]);
    expect(["6-9", "6 – 9", "lớp 6 đến 9", "7", "Lớp 10-12"].map(parseGradeRange)).toEqual([
      { gradeMin: 6, gradeMax: 9 }, { gradeMin: 6, gradeMax: 9 }, { gradeMin: 6, gradeMax: 9 }, { gradeMin: 7, gradeMax: 7 }, { gradeMin: 10, gradeMax: 12 },
    ]);
    expect(["9-6", "0-5", "13", "sáu"].map(parseGradeRange)).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("/scholarship_new", () => {
  it("a province officer creates a round through the conversation; bad and out-of-order dates are re-asked with their reason", async () => {
    const p = await freshPlace();
    const o = await officer(p.province);
    const year = vnDay(clock.now()).getUTCFullYear();

    const intro = await o.send("/scholarship_new");
    expect(intro[0]).toMatch(/Đợt học bổng mới/);
    expect(intro[1]).toMatch(/Tên chương trình học bổng\?/);
    expect(await o.send("ab")).toEqual(["Tên chương trình dài 3–120 ký tự. Gõ lại."]);
    await o.send("Hoa Phượng Đỏ <2026>");
    expect(o.buttons()).toEqual([String(year), String(year + 1), "↩️ Quay lại"]);
    expect(await o.send("1990")).toEqual([expect.stringMatching(/^Năm không hợp lệ/)]);
    expect((await o.press(String(year)))[0]).toBe(`✅ Năm: ${year}`);
    expect((await o.press("Hội Khuyến học"))[0]).toBe("✅ Cơ quan tổ chức: Hội Khuyến học");
    // A province officer's round is in their province: the next question is who is eligible.
    expect((await o.send("Học sinh nghèo vượt khó, học lực khá trở lên."))[0]).toBe("✅ Đối tượng: Học sinh nghèo vượt khó, học lực khá trở lên.");
    expect((await o.press("THCS")).join("\n")).toContain("Dành cho cấp học nào?");
    expect(o.buttons()).toContain("✅ THCS");
    expect((await o.press("Xong"))[0]).toBe("✅ Cấp học: THCS");
    expect(await o.send("10-12")).toEqual(["Khoảng lớp này không có lớp nào của cấp THCS (lớp 6–9). Gõ lại khoảng lớp, hoặc bấm Quay lại để bỏ chọn THCS."]);
    expect((await o.send("lớp 6 đến 9"))[0]).toBe("✅ Lớp: lớp 6–9");
    await o.press("Hộ nghèo");
    await o.press("Hộ cận nghèo");
    expect((await o.press("Xong"))[0]).toBe("✅ Hoàn cảnh: Hộ nghèo, Hộ cận nghèo");
    expect((await o.press("Một trong các hoàn cảnh")).join("\n")).toContain(`Đợt này dành cho cả ${p.provinceName}, hay chỉ một số xã/phường?`);
    // Some communes only: one picked with the commune search; Back at the list takes it off again.
    const commune = await h.db.prisma.commune.findUniqueOrThrow({ where: { code: p.commune } });
    expect((await o.press("Chọn xã/phường")).join("\n")).toContain(`Xã/phường/đặc khu nào của ${p.provinceName}?`);
    await o.send(commune.name);
    expect((await o.press(cb.commune.pack(p.commune))).join("\n")).toContain(`Đã chọn 1 xã/phường: ${communeLabel(commune, "vi")}`);
    expect((await o.press("Quay lại")).join("\n")).toContain("hay chỉ một số xã/phường?");
    await o.press("Chọn xã/phường");
    await o.send(commune.name);
    await o.press(cb.commune.pack(p.commune));
    expect((await o.press("Xong"))[0]).toBe(`✅ Xã/phường: ${communeLabel(commune, "vi")}`);
    expect(await o.send("nhiều tiền")).toEqual([expect.stringMatching(/^Tôi chưa đọc được số tiền/)]);
    expect((await o.send("2 triệu"))[0]).toBe("✅ Giá trị mỗi suất: 2.000.000 đồng");
    // Back from the number of awards to the value, then forward again.
    expect((await o.press("Quay lại")).join("\n")).toContain("Giá trị mỗi suất?");
    await o.send("2,5tr");
    expect((await o.send("50"))[0]).toBe("✅ Số suất: 50");

    expect(await o.send("31/11")).toEqual(["Ngày này không có thật (ví dụ 31/11). Gõ lại ngày."]);
    expect(await o.send("mai")).toEqual([expect.stringMatching(/^Tôi chưa đọc được ngày này/)]);
    expect((await o.send(typed(5)))[0]).toBe(`✅ Mở nhận hồ sơ: ${typed(5)}`);
    expect(await o.send("1/1/2020")).toEqual(["Ngày này đã qua. Gõ một ngày từ hôm nay trở đi."]);
    expect(await o.send(typed(2))).toEqual(["Hạn nộp hồ sơ phải từ ngày mở nhận hồ sơ trở đi. Gõ lại hạn nộp."]);
    expect((await o.send(typed(25)))[0]).toBe(`✅ Hạn nộp hồ sơ: ${typed(25)}`);
    expect(await o.send(typed(24))).toEqual(["Ngày trao phải từ hạn nộp hồ sơ trở đi. Gõ lại ngày trao."]);
    await o.send(typed(40));
    await o.send("Nộp tại Hội Khuyến học xã, gồm đơn và giấy xác nhận hộ nghèo.");
    const summary = (await o.send("Chị Lan, 0912 345 678")).join("\n");
    expect(summary).toContain(`🎓 Hoa Phượng Đỏ <2026> ${year}\n🏛 Hội Khuyến học · 📍 ${p.provinceName}\n`);
    expect(summary).toContain(`🏫 Cấp học: THCS\n🔢 Lớp: lớp 6–9\n🏠 Hoàn cảnh: Hộ nghèo hoặc Hộ cận nghèo\n🏘 Xã/phường: ${communeLabel(commune, "vi")}`);
    expect(summary).toContain(`💰 2.500.000 đồng · 🎁 50 suất\n🗓 Nhận hồ sơ từ ${typed(5)} đến hết ${typed(25)}`);

    const done = (await o.press("Tạo đợt học bổng")).join("\n");
    const row = await h.db.prisma.scholarshipRound.findFirstOrThrow({ where: { createdById: BigInt(o.id) } });
    expect(done).toContain(`Đã tạo đợt học bổng #${row.id} «Hoa Phượng Đỏ <2026>», hạn nộp hồ sơ ${typed(25)}`);
    expect(row).toMatchObject({
      programme: "Hoa Phượng Đỏ <2026>", year, organiserBody: "association", provinceCode: p.province, awardValueVnd: 2_500_000n, awardCount: 50,
      rules: { levels: ["lower_secondary"], gradeMin: 6, gradeMax: 9, communeCodes: [p.commune], circumstances: ["poor", "near_poor"], circumstancesMode: "any" },
      contact: "Chị Lan, 0912 345 678", state: "active",
    });
    expect([dayKey(row.opensOn), dayKey(row.deadlineOn), dayKey(row.awardOn)]).toEqual([dayIn(5), dayIn(25), dayIn(40)]);
    expect(row.nextReminderAt).not.toBeNull();
    expect(h.logged()).toEqual([]);
  });

  it("asks an admin for the scope: nationwide or a province", async () => {
    h.fake.registerChat(ADMIN);
    const a = h.user(ADMIN);
    await a.send("/scholarship_new");
    await a.send("Vì em hiếu học");
    await a.press(String(vnDay(clock.now()).getUTCFullYear()));
    await a.press("Công an");
    expect(a.buttons()).toEqual(["🇻🇳 Toàn quốc", "📍 Một tỉnh/thành", "↩️ Quay lại"]);
    expect((await a.press("Toàn quốc"))[0]).toBe("✅ Phạm vi: 🇻🇳 Toàn quốc");
    // Back from eligibility to the scope, then one province.
    await a.press("Quay lại");
    expect((await a.press("Một tỉnh/thành")).join("\n")).toContain("Đợt học bổng dành cho tỉnh/thành nào?");
    expect((await a.send("Hải Phòng"))[0]).toMatch(/^✅ Tỉnh\/thành: .*Hải Phòng/);
    expect((await a.send("Học sinh vượt khó"))[0]).toBe("✅ Đối tượng: Học sinh vượt khó");
    expect((await a.send("/cancel")).join("\n")).toMatch(/Đã dừng/);
  });

  it("refuses a commune officer and a resident with a clear reason", async () => {
    const p = await freshPlace();
    const c = await officer(p.province, p.commune);
    expect(await c.send("/scholarship_new")).toEqual([expect.stringContaining("Cán bộ cấp xã có thể đề cử học sinh")]);
    expect(await c.send("/scholarships_admin")).toEqual([expect.stringContaining("Cán bộ cấp xã có thể đề cử học sinh")]);
    const r = h.user(++nextId);
    expect(await r.send("/scholarship_new")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
  });
});

describe("/scholarships_admin", () => {
  it("lists the officer's rounds and runs a round's card: close, extend, edit and cancel, telling followers", async () => {
    const p = await freshPlace();
    const o = await officer(p.province);
    const round = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.province, programme: "Học không bao giờ cùng", deadlineIn: 10, awardIn: 30 });
    await makeRound(h.db.prisma, clock.now(), { provinceCode: p.otherProvince, programme: "Tỉnh khác" });
    const fan = await citizen(p.province, p.commune);
    await h.db.prisma.scholarshipSubscription.create({ data: { roundId: round.id, userId: fan, createdAt: clock.now() } });

    const list = (await o.send("/scholarships_admin")).join("\n");
    expect(list).toContain("Các đợt học bổng bạn quản lý (1)");
    expect(list).toContain(`#${round.id} Học không bao giờ cùng`);
    expect(list).toContain("🟢 đang nhận hồ sơ · còn 10 ngày");
    expect(list).not.toContain("Tỉnh khác");
    const card = (await o.press(`#${round.id}`)).join("\n");
    expect(card).toContain("🔔 1 người theo dõi · 📋 0 hồ sơ đề cử");
    expect(o.buttons()).toEqual(["✏️ Sửa", "⏩ Gia hạn", "🔒 Đóng nhận hồ sơ", "❌ Hủy đợt", "📣 Thông báo", "📋 Hồ sơ đề cử (0)", "🎓 Tất cả các đợt"]);

    expect((await o.press("Đóng nhận hồ sơ")).join("\n")).toMatch(/Đóng nhận hồ sơ «Học không bao giờ cùng» ngay bây giờ/);
    expect((await o.press("🔒 Đóng nhận hồ sơ")).join("\n")).toContain("Đã đóng nhận hồ sơ «Học không bao giờ cùng». Đang báo cho 1 người.");
    expect(await h.db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: round.id } })).toMatchObject({ state: "closed" });
    // A second press of the stale confirmation changes nothing.
    expect(await o.pressData(cb.roundAdmin.pack(`closeok.${round.id}`))).toEqual(["[answer] Đợt học bổng này đã đóng nhận hồ sơ; không có gì thay đổi."]);

    await o.pressData(cb.roundAdmin.pack(`v.${round.id}`));
    await o.press("Gia hạn");
    expect(await o.send(typed(10))).toEqual([`Hạn mới phải sau hạn hiện tại (${typed(10)}). Gõ lại hạn mới.`]);
    await o.send(typed(35));
    expect((await o.send(typed(45))).join("\n")).toContain(`Đã gia hạn «Học không bao giờ cùng» đến hết ${typed(35)}. Đang báo cho 1 người`);
    const extended = await h.db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: round.id } });
    expect(extended).toMatchObject({ state: "active" });
    expect([dayKey(extended.deadlineOn), dayKey(extended.awardOn)]).toEqual([dayIn(35), dayIn(45)]);

    await o.pressData(cb.roundAdmin.pack(`edit.${round.id}`));
    await o.press("Cách nộp hồ sơ");
    expect((await o.send("Nộp trực tuyến qua cổng của Hội.")).join("\n")).toContain(`Đã lưu đợt học bổng #${round.id}`);
    expect((await h.db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: round.id } })).howToApply).toBe("Nộp trực tuyến qua cổng của Hội.");

    await o.pressData(cb.roundAdmin.pack(`cancel.${round.id}`));
    expect((await o.press("❌ Hủy đợt học bổng")).join("\n")).toContain("Đã hủy đợt học bổng «Học không bao giờ cùng». Đang báo cho 1 người.");
    const notices = await h.db.prisma.delivery.findMany({ where: { kind: SCHOLARSHIP_NOTICE_KIND, refId: { startsWith: `shn.${round.id}.` } } });
    expect(notices.map((n) => n.refId.split(".")[2]).sort()).toEqual(["cancelled", "closed", "extended"]);
    expect(notices.every((n) => n.chatId === fan)).toBe(true);
    // A cancelled round's card keeps only its nominations.
    await o.pressData(cb.roundAdmin.pack(`v.${round.id}`));
    expect(o.buttons()).toEqual(["📋 Hồ sơ đề cử (0)", "🎓 Tất cả các đợt"]);
    expect(await o.pressData(cb.roundAdmin.pack(`ext.${round.id}`))).toEqual([expect.stringContaining("đã bị hủy")]);
  });

  it("refuses forged buttons for another province's round, changing nothing", async () => {
    const p = await freshPlace();
    const o = await officer(p.province);
    const theirs = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.otherProvince });
    for (const action of ["v", "closeok", "cancelok", "ext", "ann", "edit"]) {
      expect(await o.pressData(cb.roundAdmin.pack(`${action}.${theirs.id}`))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    }
    expect(await o.pressData(cb.roundAdminEdit.pack(`contact.${theirs.id}`))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await o.pressData(cb.roundAdmin.pack("v.999999999"))).toEqual(["[answer] Không tìm thấy đợt học bổng này (có thể đã bị xóa)."]);
    expect(await o.pressData("shra:v.1;DROP")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(await h.db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: theirs.id } })).toMatchObject({ state: "active", contact: "Hội Khuyến học xã, 0225 3 123 456" });
    expect(h.logged(40).some((l) => l.msg === "refused a scholarship round action outside the caller's scope")).toBe(true);
  });

  it("announces a round: the broadcast flow starts prefilled in the round's province and reaches the preview", async () => {
    const p = await freshPlace();
    const o = await officer(p.province);
    await citizen(p.province, p.commune);
    await citizen(p.province, p.commune);
    const round = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.province, programme: "Nâng bước em tới trường {name}", organiserBody: "border_guard" });
    await o.pressData(cb.roundAdmin.pack(`v.${round.id}`));
    const screen = (await o.press("Thông báo")).join("\n");
    expect(screen).toContain("Nội dung thông báo đã được điền sẵn");
    expect(screen).toContain("Số người nhận hiện tại: 2");
    const preview = await o.press("Tiếp tục");
    expect(preview[0]).toMatch(/^📢 Bộ đội Biên phòng/);
    // Braces typed by the officer stay literal: never read as a {variable}.
    expect(preview[0]).toContain("Học bổng Nâng bước em tới trường {name}");
    expect(preview[0]).toContain(`Nhận hồ sơ: ${formatDay(round.opensOn)} – hết ${formatDay(round.deadlineOn)}`);
    expect(preview[0]).toContain(`https://t.me/${h.fake.botInfo.username}?start=sch_${round.id}`);
    expect(preview.at(-1)).toBe("Gửi thông báo cho 2 người?");
    await o.press("Gửi ngay");
    const bc = await h.db.prisma.broadcast.findFirstOrThrow({ where: { authorId: BigInt(o.id) }, orderBy: { id: "desc" } });
    expect(bc).toMatchObject({ senderBody: "border_guard", audience: { provinceCode: p.province } });
    // A province-wide broadcast needs a second person's approval: the broadcast's own rules still apply.
    expect(bc.needsApproval).toBe(true);
  });
});
