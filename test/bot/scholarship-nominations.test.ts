import { describe, expect, it } from "vitest";
import type { Workbook } from "exceljs";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { NOMINATE_FLOW } from "../../src/bot/flows/scholarship-flow-names.js";
import { communeLabel } from "../../src/domain/geo/labels.js";
import { NOMINATION_STATUS_KIND } from "../../src/domain/scholarships/model.js";
import type { NominationInput } from "../../src/domain/scholarships/nominations.js";
import { vnParts } from "../../src/domain/time/vietnam-time.js";
import { ManualClock } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { makeRound } from "../support/scholarships.js";
import { storedFlow } from "../support/flows.js";

// Nominations through the real bot (handleUpdate, the strict fake Bot API): the nominate
// conversation end to end (a bad birth year re-asked, Back, the circumstance toggles, consent,
// the summary), the server's refusal of a duplicate at the end, /mynominations with the card and
// withdrawal, the officers' list, status button and Excel file, and forged buttons refused.

const clock = new ManualClock(Date.now());
const ADMIN = 9_910_001;
const h = useHarness({ now: clock.now, adminIds: [String(ADMIN)] });
const YEAR = vnParts(clock.now()).year;

let nextId = 9_910_100;
let nextProvince = 13;

async function freshPlace() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const q = provinces[nextProvince++ % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, commune: communes[0]!, otherCommune: communes[1]!, otherProvince: q.code };
}

async function person(role: "resident" | "member" | "officer", scope: { provinceCode?: string; communeCode?: string } = {}): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role, scopeProvinceCode: scope.provinceCode ?? null, scopeCommuneCode: scope.communeCode ?? null } });
  h.fake.registerChat(id);
  return h.user(id);
}

async function registeredParent(province: string, commune: string, fullName: string): Promise<TestUser> {
  const u = await person("resident");
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(u.id), registrationNumber: `CDHT-${province}-2026-${String(u.id).slice(-6)}`, fullName, birthYear: 1984, provinceCode: province, communeCode: commune, affiliation: "resident", goals: ["law"], registeredAt: clock.now() },
  });
  return u;
}

async function nominateDirectly(nominator: TestUser, roundId: number, communeCode: string, over: Partial<NominationInput> = {}) {
  const actor = { id: String(nominator.id), ...(await h.deps.services.users.access(String(nominator.id))) };
  const r = await h.deps.services.nominations.create(actor, roundId, {
    relationship: "member", studentName: "Lò Thị Hoa", birthYear: YEAR - 12, school: "Trường PTDTBT THCS Mường Lống", schoolLevel: "lower_secondary", grade: 6,
    communeCode, circumstances: [], guardianName: "Lò Văn Sơn", consent: true, ...over,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.nomination;
}

describe("nominating a student", () => {
  it("a member nominates through the conversation: a bad birth year is re-asked, Back works, only the round's levels and circumstances are offered", async () => {
    const p = await freshPlace();
    const round = await makeRound(h.db.prisma, clock.now(), {
      provinceCode: p.province, programme: "Vì em hiếu học", rules: { levels: ["lower_secondary"], gradeMin: 6, gradeMax: 8, circumstances: ["poor", "orphan"] },
    });
    const m = await person("member");

    const intro = (await m.send(`/nominate ${round.id}`)).join("\n");
    expect(intro).toContain(`Đề cử học sinh vào đợt «Vì em hiếu học» năm ${YEAR}`);
    expect(intro).toContain("Bạn đề cử với tư cách nào?");
    expect(m.buttons()).toEqual(["👪 Phụ huynh/người giám hộ", "🤝 Hội viên khuyến học"]);
    expect((await m.press("Hội viên khuyến học"))[0]).toBe("✅ Người đề cử là: Hội viên");
    expect(await m.send("Lan")).toEqual(["Gõ đầy đủ họ và tên của học sinh (ít nhất hai chữ, chỉ gồm chữ cái), tối đa 80 ký tự."]);
    expect((await m.send("Nguyễn Thị  Lan")).join("\n")).toContain(`Năm sinh của học sinh? (từ ${YEAR - 30} đến ${YEAR - 3})`);
    const badYear = "Năm sinh của học sinh là một năm có 4 chữ số, ứng với tuổi từ 3 đến 30. Gõ lại, ví dụ 2014.";
    expect(await m.send(String(YEAR - 1))).toEqual([badYear]);
    expect(await m.send("năm 2014")).toEqual([badYear]);
    expect((await m.send(String(YEAR - 12)))[0]).toBe(`✅ Năm sinh: ${YEAR - 12}`);
    // Back from the school question asks the birth year again.
    expect((await m.press("Quay lại")).join("\n")).toContain("Năm sinh của học sinh?");
    await m.send(String(YEAR - 13));
    await m.send("Trường THCS Lê Lợi");
    expect(m.buttons()).toEqual(["THCS", "↩️ Quay lại"]);
    await m.press("THCS");
    expect(m.buttons()).toEqual(["6", "7", "8", "↩️ Quay lại"]);
    expect(await m.send("9")).toEqual(["Chọn một lớp bằng nút, hoặc gõ số lớp: 6, 7, 8."]);
    expect((await m.send("lớp 7"))[0]).toBe("✅ Lớp: 7");

    // The commune, within the round's province.
    expect((await m.send(p.commune.name)).join("\n")).not.toMatch(/Không tìm thấy/);
    expect((await m.press(cb.commune.pack(p.commune.code)))[0]).toBe(`✅ Xã/phường: ${communeLabel(p.commune, "vi")}`);

    expect(m.buttons()).toEqual(["⬜ Hộ nghèo", "⬜ Mồ côi", "✔️ Xong", "↩️ Quay lại"]);
    await m.press("Hộ nghèo");
    expect(m.buttons()).toEqual(["☑️ Hộ nghèo", "⬜ Mồ côi", "✔️ Xong", "↩️ Quay lại"]);
    expect((await m.press("Xong"))[0]).toBe("✅ Hoàn cảnh: Hộ nghèo");
    expect((await m.send("Nguyễn Văn Bình")).join("\n")).toContain("Phụ huynh/người giám hộ (Nguyễn Văn Bình) đã đồng ý cho đề cử");
    const summary = (await m.press("Đồng ý")).join("\n");
    expect(summary).toContain(`👤 Nguyễn Thị Lan · sinh năm ${YEAR - 13}\n🏫 Trường THCS Lê Lợi · THCS · lớp 7\n📍 ${communeLabel(p.commune, "vi")}\n📝 Hoàn cảnh: Hộ nghèo\n👪 Phụ huynh/người giám hộ: Nguyễn Văn Bình\n🙋 Người đề cử là: Hội viên`);
    // Each question starts a fresh stored log: at the summary only the consent's press is kept, and
    // the answers are carried as the flow's state.
    const stored = await storedFlow(h.redis, m.id, NOMINATE_FLOW);
    expect(stored.updates).toBe(1);
    expect(stored.args[1]).toMatchObject({ state: { a: { studentName: "Nguyễn Thị Lan", grade: 7, circumstances: ["poor"], guardianName: "Nguyễn Văn Bình" } } });
    const done = (await m.press("Gửi đề cử")).join("\n");
    const row = await h.db.prisma.nomination.findFirstOrThrow({ where: { nominatorId: BigInt(m.id) } });
    expect(done).toContain(`Đã gửi đề cử #${row.id}: Nguyễn Thị Lan`);
    expect(row).toMatchObject({
      roundId: round.id, relationship: "member", studentName: "Nguyễn Thị Lan", birthYear: YEAR - 13, school: "Trường THCS Lê Lợi", schoolLevel: "lower_secondary",
      grade: 7, provinceCode: p.province, communeCode: p.commune.code, circumstances: ["poor"], guardianName: "Nguyễn Văn Bình", status: "received",
    });
    expect(h.logged()).toEqual([]);
  });

  it("a round for some communes names them once, refuses another commune with the list, and takes one of them", async () => {
    const p = await freshPlace();
    // A student at university: the grade is not asked, so the commune comes right after the level.
    const round = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.province, rules: { levels: ["university"], communeCodes: [p.commune.code] } });
    const m = await person("member");
    await m.send(`/nominate ${round.id}`);
    await m.press("Hội viên khuyến học");
    await m.send("Nguyễn Thị Lan");
    await m.send(String(YEAR - 19));
    await m.send("Trường Cao đẳng Hải Phòng");
    const list = communeLabel(p.commune, "vi");
    const atCommune = (await m.press("Đại học, cao đẳng")).join("\n");
    expect(atCommune).toContain(`Đợt này nhận học sinh ở: ${list}.`);
    await m.send(p.otherCommune.name);
    const refused = (await m.press(cb.commune.pack(p.otherCommune.code))).join("\n");
    expect(refused).toContain(`${communeLabel(p.otherCommune, "vi")} không thuộc các xã đợt này nhận (${list}).`);
    await m.send(p.commune.name);
    expect((await m.press(cb.commune.pack(p.commune.code)))[0]).toBe(`✅ Xã/phường: ${list}`);
    // The note came once, though each question starts a fresh stored log.
    const notes = h.fake.sent(m.id).filter((c) => String(c.payload.text ?? "").startsWith("Đợt này nhận học sinh ở"));
    expect(notes).toHaveLength(1);
    await m.send("Nguyễn Văn Bình");
    await m.press("Đồng ý");
    await m.press("Gửi đề cử");
    expect(await h.db.prisma.nomination.findFirstOrThrow({ where: { nominatorId: BigInt(m.id) } })).toMatchObject({ communeCode: p.commune.code, studentName: "Nguyễn Thị Lan" });
  });

  it("a registered parent only confirms they are the parent, is not asked their name, and a duplicate is refused at the end", async () => {
    const p = await freshPlace();
    const round = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.province, programme: "Nâng bước em tới trường" });
    const mother = await registeredParent(p.province, p.commune.code, "Hà Thị Sen");
    await nominateDirectly(await person("member"), round.id, p.commune.code, { studentName: "Lò Văn Páo", birthYear: YEAR - 19, schoolLevel: "university", grade: null });

    await mother.send(`/nominate ${round.id}`);
    expect(mother.buttons()).toEqual(["✅ Đúng, tôi là phụ huynh/người giám hộ"]);
    await mother.press("Đúng, tôi là phụ huynh");
    await mother.send("Lò Văn Páo");
    await mother.send(String(YEAR - 19));
    await mother.send("Đại học Tây Bắc");
    expect(mother.buttons()).toEqual(["Tiểu học", "THCS", "THPT", "Đại học, cao đẳng", "↩️ Quay lại"]);
    // University: no grade question; the commune comes next.
    expect((await mother.press("Đại học")).join("\n")).toMatch(/xã\/phường/i);
    await mother.send(p.commune.name);
    const consent = (await mother.press(cb.commune.pack(p.commune.code))).join("\n");
    expect(consent).toContain("tên phụ huynh/người giám hộ (Hà Thị Sen)");
    expect(consent).toContain("Là phụ huynh/người giám hộ, bạn có đồng ý không?");
    expect((await mother.press("Đồng ý")).join("\n")).toContain("👪 Phụ huynh/người giám hộ: Hà Thị Sen\n🙋 Người đề cử là: Phụ huynh/người giám hộ");
    const refused = (await mother.press("Gửi đề cử")).join("\n");
    expect(refused).toBe(`❌ Chưa gửi được đề cử.\nHọc sinh Lò Văn Páo (sinh năm ${YEAR - 19}) đã được đề cử vào đợt này rồi. Mỗi học sinh chỉ được đề cử một lần trong một đợt.`);
    expect(await h.db.prisma.nomination.count({ where: { nominatorId: BigInt(mother.id) } })).toBe(0);
  });

  it("refuses at once a round that is not open, one that does not exist, and /nominate without a number", async () => {
    const p = await freshPlace();
    const upcoming = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.province, opensIn: 5 });
    const u = await person("member");
    expect((await u.send(`/nominate ${upcoming.id}`))[0]).toMatch(/^Đợt học bổng này chưa mở nhận đề cử: mở từ ngày \d{2}\/\d{2}\/\d{4}\.$/);
    expect(await u.send("/nominate 987654321")).toEqual(["Không tìm thấy đợt học bổng này (có thể đã bị xóa)."]);
    expect(await u.send("/nominate")).toEqual(["Gõ /nominate kèm mã đợt học bổng, ví dụ /nominate 12. Mã đợt có trong /scholarships."]);
    // No flow was left open: a plain message is not taken as an answer.
    expect(await h.deps.conversations.read(String(u.id))).toBeUndefined();
  });
});

describe("/mynominations", () => {
  it("lists the person's nominations, opens one, and withdraws it after a confirmation; someone else's is refused", async () => {
    const p = await freshPlace();
    const round = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.province, programme: "Học không bao giờ cùng" });
    const me = await person("member");
    const n = await nominateDirectly(me, round.id, p.commune.code, { studentName: "Vàng Thị Mỷ" });
    const stranger = await person("member");

    const list = (await me.send("/mynominations")).join("\n");
    expect(list).toContain("Đề cử của bạn (1)");
    expect(list).toContain(`📥 Vàng Thị Mỷ – «Học không bao giờ cùng» ${YEAR}: Đã tiếp nhận`);
    const card = (await me.press(`#${n.id} Vàng Thị Mỷ`)).join("\n");
    expect(card).toContain(`Đề cử #${n.id} – «Học không bao giờ cùng» ${YEAR}`);
    expect(card).toContain("📥 Trạng thái: Đã tiếp nhận");
    expect((await me.press("Rút đề cử")).join("\n")).toContain("Rút đề cử Vàng Thị Mỷ khỏi đợt «Học không bao giờ cùng»?");

    expect(await stranger.pressData(cb.nomination.pack(`v.${n.id}`))).toEqual(["[answer] Không tìm thấy đề cử này: có thể đã được rút, hoặc không phải của bạn."]);
    expect(await stranger.pressData(cb.nomination.pack(`wdok.${n.id}`))).toEqual(["[answer] Không tìm thấy đề cử này: có thể đã được rút, hoặc không phải của bạn."]);
    expect(await h.db.prisma.nomination.count({ where: { id: n.id } })).toBe(1);

    expect(await me.press("Rút và xóa")).toEqual(["Đã rút đề cử Vàng Thị Mỷ khỏi đợt «Học không bao giờ cùng» và xóa thông tin của học sinh."]);
    expect(await h.db.prisma.nomination.count({ where: { id: n.id } })).toBe(0);
    expect(await me.send("/mynominations")).toEqual(["Bạn chưa đề cử học sinh nào. Xem các đợt học bổng đang mở bằng /scholarships."]);
  });
});

describe("officers and a round's nominations", () => {
  it("lists a round's nominations with counts, sets a status (one notice queued for the nominator) and sends the Excel file", async () => {
    const p = await freshPlace();
    const round = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.province, programme: "Hoa Phượng Đỏ" });
    const nominator = await person("member");
    const a = await nominateDirectly(nominator, round.id, p.commune.code, { studentName: "Đỗ Minh Anh" });
    await nominateDirectly(nominator, round.id, p.otherCommune.code, { studentName: "Đỗ Minh Bảo" });
    const o = await person("officer", { provinceCode: p.province });

    const list = (await o.pressData(cb.nominationAdmin.pack(`l.${round.id}.0`))).join("\n");
    expect(list).toContain(`Đề cử – «Hoa Phượng Đỏ» ${YEAR} (2 · trang 1/1)`);
    expect(list).toContain("📥 2 đã tiếp nhận · 📋 0 vào danh sách xét chọn · 🏆 0 được trao · ➖ 0 không được chọn");
    expect(list).toContain(`📥 #${a.id} Đỗ Minh Anh (${YEAR - 12}) · THCS 6 · ${communeLabel(p.commune, "vi")}`);
    const card = (await o.press(`#${a.id} Đỗ Minh Anh`)).join("\n");
    expect(card).toContain("👪 Phụ huynh/người giám hộ: Lò Văn Sơn (đồng ý ngày");
    expect(o.buttons().slice(0, 4)).toEqual(["✅ 📥 Đã tiếp nhận", "📋 Vào danh sách xét chọn", "🏆 Được trao học bổng", "➖ Không được chọn"]);

    const set = await o.press("Vào danh sách xét chọn");
    expect(set[0]).toBe("[answer] Đã chuyển sang «Vào danh sách xét chọn». Người đề cử sẽ được báo.");
    expect(set.join("\n")).toContain("📋 Trạng thái: Vào danh sách xét chọn");
    expect(o.buttons()[1]).toBe("✅ 📋 Vào danh sách xét chọn");
    expect(await o.press("✅ 📋 Vào danh sách xét chọn")).toEqual(["[answer] Trạng thái vẫn là «Vào danh sách xét chọn»."]);
    const rows = await h.db.prisma.delivery.findMany({ where: { kind: NOMINATION_STATUS_KIND, refId: { startsWith: `shs.${a.id}.` } } });
    expect(rows.map((r) => [r.refId.split(".")[2], String(r.chatId), r.state])).toEqual([["shortlisted", String(nominator.id), "queued"]]);

    await o.press("Danh sách");
    expect((await o.press("Theo xã")).join("\n")).toContain(`• ${communeLabel(p.commune, "vi")}: 1`);
    await o.press("Danh sách");
    const caption = (await o.press("Excel")).join("\n");
    expect(caption).toContain(`Đề cử của đợt «Hoa Phượng Đỏ» ${YEAR}: 2 học sinh.`);
    const doc = h.fake.lastDocument(o.id)!;
    expect(doc.file_name).toBe(`nominations-${round.id}.xlsx`);
    const { default: ExcelJS } = await import("exceljs");
    const book: Workbook = new ExcelJS.Workbook();
    await book.xlsx.load(doc.content as never);
    expect(book.worksheets.map((s) => s.name)).toEqual(["Đề cử", "Theo xã"]);
    const sheet = book.getWorksheet("Đề cử")!;
    const students = [2, 3].map((i) => [sheet.getRow(i).getCell(1).value, sheet.getRow(i).getCell(11).value]);
    expect(students).toEqual(expect.arrayContaining([["Đỗ Minh Anh", "Vào danh sách xét chọn"], ["Đỗ Minh Bảo", "Đã tiếp nhận"]]));
    const counts = book.getWorksheet("Theo xã")!;
    expect([counts.getRow(counts.rowCount).getCell(1).value, counts.getRow(counts.rowCount).getCell(2).value]).toEqual(["Tổng cộng", 2]);
  });

  it("refuses forged buttons: another province's officer, a commune officer and a member see nothing and change nothing", async () => {
    const p = await freshPlace();
    const round = await makeRound(h.db.prisma, clock.now(), { provinceCode: p.province });
    const n = await nominateDirectly(await person("member"), round.id, p.commune.code, { studentName: "Sùng A Dình" });
    const forbidden = ["[answer] Bạn không có quyền thực hiện thao tác này."];
    for (const who of [await person("officer", { provinceCode: p.otherProvince }), await person("officer", { provinceCode: p.province, communeCode: p.commune.code })]) {
      expect(await who.pressData(cb.nominationAdmin.pack(`v.${n.id}`))).toEqual(forbidden);
      expect(await who.pressData(cb.nominationAdmin.pack(`st.${n.id}.awarded`))).toEqual(forbidden);
      expect(await who.pressData(cb.nominationAdmin.pack(`l.${round.id}.0`))).toEqual(forbidden);
      expect(await who.pressData(cb.nominationAdmin.pack(`xlsx.${round.id}`))).toEqual(forbidden);
      expect(h.fake.lastDocument(who.id)).toBeUndefined();
    }
    expect(await (await person("member")).pressData(cb.nominationAdmin.pack(`v.${n.id}`))).toEqual(forbidden);
    const admin = h.user(ADMIN);
    h.fake.registerChat(ADMIN);
    expect(await admin.pressData(cb.nominationAdmin.pack("v.987654321"))).toEqual(["[answer] Không tìm thấy đề cử này: có thể đã được rút, hoặc không phải của bạn."]);
    expect(await admin.pressData("nomo:v.abc")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(await h.db.prisma.nomination.findUniqueOrThrow({ where: { id: n.id } })).toMatchObject({ status: "received" });
    expect(await h.db.prisma.delivery.count({ where: { kind: NOMINATION_STATUS_KIND, refId: { startsWith: `shs.${n.id}.` } } })).toBe(0);
  });
});
