import type { InlineKeyboardMarkup, Message } from "grammy/types";
import { describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { ELIGIBILITY_FLOW } from "../../src/bot/flows/scholarship-flow-names.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { ManualClock } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { makeRound } from "../support/scholarships.js";
import { storedFlow } from "../support/flows.js";

// What residents see of scholarship rounds, through the whole stack: /scholarships (one card per
// page, edited in place), details, "Remind me", "Am I eligible?" to a yes, a no naming the rule and
// a maybe, the deep link, the nominate button, and forged or stale buttons.

// Thursday 17 December 2026, 10:00 in Vietnam.
const clock = new ManualClock(fromVnWallTime(2026, 12, 17, 10, 0).getTime());
const h = useHarness({ now: clock.now });

let nextId = 9_840_000;
const HAI_PHONG = "31";

/**
 * Every test starts without nationwide rounds (they would show in every list) and with a clean
 * Hải Phòng; rounds of other provinces are left alone.
 */
async function fresh(): Promise<void> {
  clock.set(fromVnWallTime(2026, 12, 17, 10, 0));
  await h.db.prisma.scholarshipRound.deleteMany({ where: { OR: [{ provinceCode: null }, { provinceCode: HAI_PHONG }] } });
}

async function resident(provinceCode = HAI_PHONG): Promise<TestUser> {
  const id = ++nextId;
  const commune = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode }, orderBy: { code: "asc" } });
  await h.db.prisma.user.create({ data: { id: BigInt(id) } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `SB-${id}`, fullName: `Lê Thị ${id}`, birthYear: 1982, provinceCode, communeCode: commune.code, affiliation: "resident", goals: [], registeredAt: clock.now() },
  });
  h.fake.registerChat(id);
  return h.user(id);
}

function stranger(): TestUser {
  const id = ++nextId;
  h.fake.registerChat(id);
  return h.user(id);
}

/** The bot's newest message in the chat, as it reads now (after edits). */
function lastMessage(u: TestUser): Message {
  const m = h.fake.sent(u.id).at(-1)!.result as Message;
  return h.fake.getMessage(u.id, m.message_id) ?? m;
}

function current(u: TestUser, messageId: number): Message {
  return h.fake.getMessage(u.id, messageId)!;
}

function buttonsOf(m: Message): string[] {
  return (m.reply_markup as InlineKeyboardMarkup | undefined)?.inline_keyboard.flat().map((b) => b.text) ?? [];
}

describe("/scholarships", () => {
  it("shows the person's province's round as a card with its countdown, and not another province's", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { programme: "Hoa Phượng Đỏ", deadlineIn: 5, awardValueVnd: 3_000_000n, awardCount: 50 });
    await makeRound(h.db.prisma, clock.now(), { programme: "Học không bao giờ cùng", provinceCode: "14" });
    const u = await resident();
    const replies = await u.send("/scholarships");
    expect(replies).toHaveLength(1);
    const card = replies[0]!;
    expect(card).toContain("Hoa Phượng Đỏ 2026");
    expect(card).toContain("Hội Khuyến học · 📍 TP. Hải Phòng");
    expect(card).toContain("3.000.000 đồng mỗi suất · 50 suất");
    expect(card).toContain("Đang nhận hồ sơ: còn 5 ngày");
    expect(card).toContain("Hạn chót: 22/12/2026");
    expect(card).not.toContain("Học không bao giờ cùng");
    expect(u.buttons()).toEqual(["ℹ️ Chi tiết", "❓ Tôi có đủ điều kiện?", "🔔 Nhắc tôi", "✍️ Đề cử học sinh"]);
  });

  it("says 'hạn chót hôm nay' on the last day and 'mở sau 3 ngày' before opening, in English too", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { programme: "Nâng bước em tới trường", deadlineIn: 0, organiserBody: "border_guard" });
    await makeRound(h.db.prisma, clock.now(), { programme: "Con nuôi đồn biên phòng", opensIn: 3, deadlineIn: 20, awardIn: 40, provinceCode: null, awardValueVnd: null, awardCount: null });
    const u = await resident();
    const first = (await u.send("/scholarships"))[0]!;
    expect(first).toContain("Nâng bước em tới trường");
    expect(first).toContain("Bộ đội Biên phòng");
    expect(first).toContain("hạn chót hôm nay");
    const second = (await u.press("▶️")).join("\n");
    expect(second).toContain("Con nuôi đồn biên phòng");
    expect(second).toContain("📍 toàn quốc");
    expect(second).toContain("Sắp mở: mở sau 3 ngày");
    expect(second).toContain("Mở nhận hồ sơ: 20/12/2026");
    expect(second).not.toContain("💰");
    const en = h.user(u.id, { language_code: "en" });
    const english = (await en.send("/scholarships")).join("\n");
    expect(english).toContain("Open for nominations: deadline today");
    await en.press("▶️");
    expect(lastMessage(en).text).toContain("Opening soon: opens in 3 days");
  });

  it("pages through the rounds in one message: open ones by deadline first, then upcoming ones", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { programme: "Đợt hạn xa", deadlineIn: 12 });
    await makeRound(h.db.prisma, clock.now(), { programme: "Đợt sắp mở", opensIn: 3, deadlineIn: 8, awardIn: 40 });
    await makeRound(h.db.prisma, clock.now(), { programme: "Đợt hạn gần", deadlineIn: 2 });
    await makeRound(h.db.prisma, clock.now(), { programme: "Đợt đã hủy", state: "cancelled" });
    await makeRound(h.db.prisma, clock.now(), { programme: "Đợt đóng sớm", state: "closed" });
    const u = await resident();
    await u.send("/scholarships");
    const list = lastMessage(u);
    expect(list.text).toContain("Đợt hạn gần");
    expect(buttonsOf(list)).toContain("1/3");
    expect(buttonsOf(list)).not.toContain("◀️");
    await u.press("▶️");
    expect(lastMessage(u).message_id).toBe(list.message_id);
    expect(current(u, list.message_id).text).toContain("Đợt hạn xa");
    expect(buttonsOf(current(u, list.message_id))).toEqual(expect.arrayContaining(["◀️", "2/3", "▶️"]));
    await u.press("▶️");
    expect(current(u, list.message_id).text).toContain("Đợt sắp mở");
    expect(buttonsOf(current(u, list.message_id))).not.toContain("▶️");
    // Nominations open later: no nominate button on an upcoming round.
    expect(buttonsOf(current(u, list.message_id))).not.toContain("✍️ Đề cử học sinh");
    await u.press("◀️");
    expect(current(u, list.message_id).text).toContain("Đợt hạn xa");
    expect(h.fake.sent(u.id).filter((c) => c.method === "sendMessage")).toHaveLength(1);
  });

  it("shows someone not registered the nationwide rounds, how to name a province, and that province's rounds", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { programme: "Vì em hiếu học", provinceCode: null, deadlineIn: 9 });
    await makeRound(h.db.prisma, clock.now(), { programme: "Hoa Phượng Đỏ", deadlineIn: 4 });
    const u = stranger();
    const replies = await u.send("/scholarships");
    expect(replies[0]).toContain("/scholarships Hải Phòng");
    expect(replies[1]).toContain("Vì em hiếu học");
    expect(replies.join("\n")).not.toContain("Hoa Phượng Đỏ");
    const named = await u.send("/scholarships hai phong");
    expect(named).toHaveLength(1);
    expect(named[0]).toContain("Hoa Phượng Đỏ");
    await u.press("▶️");
    expect(lastMessage(u).text).toContain("Vì em hiếu học");
    expect(buttonsOf(lastMessage(u))).toContain("2/2");
    expect((await u.send("/scholarships Atlantis")).join("\n")).toContain("không tìm thấy tỉnh/thành “Atlantis”");
  });
});

describe("a round's card", () => {
  it("shows the details in place and folds them back", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { programme: "Hoa Phượng Đỏ" });
    const u = await resident();
    await u.send("/scholarships");
    const card = lastMessage(u);
    await u.press("Chi tiết");
    const details = current(u, card.message_id).text!;
    expect(details).toContain("Đối tượng: Học sinh nghèo vượt khó, học lực khá trở lên.");
    expect(details).toContain("Cách nộp hồ sơ: Nộp hồ sơ tại Hội Khuyến học xã.");
    expect(details).toContain("Liên hệ: Hội Khuyến học xã, 0225 3 123 456");
    expect(details).toContain("mở nhận hồ sơ 15/12/2026 · hạn chót 27/12/2026 · trao học bổng 16/01/2027");
    await u.press("Thu gọn");
    expect(current(u, card.message_id).text).not.toContain("Cách nộp hồ sơ");
    expect(buttonsOf(current(u, card.message_id))).toContain("ℹ️ Chi tiết");
  });

  it("turns reminders on and off in place, stored, with a short answer each time", async () => {
    await fresh();
    const round = await makeRound(h.db.prisma, clock.now(), { programme: "Hoa Phượng Đỏ" });
    await makeRound(h.db.prisma, clock.now(), { programme: "Vì em hiếu học", provinceCode: null, deadlineIn: 20 });
    const u = await resident();
    await u.send("/scholarships");
    const card = lastMessage(u);
    const on = await u.press("🔔 Nhắc tôi");
    expect(on[0]).toContain("[answer] 🔔 Đã bật nhắc");
    expect(await h.db.prisma.scholarshipSubscription.count({ where: { roundId: round.id, userId: BigInt(u.id) } })).toBe(1);
    const redrawn = current(u, card.message_id);
    expect(redrawn.text).toContain("Bạn sẽ được nhắc");
    expect(buttonsOf(redrawn)).toContain("🔕 Thôi nhắc");
    // The pager stays.
    expect(buttonsOf(redrawn)).toContain("1/2");
    // A stale second tap on the old button changes nothing.
    expect((await u.pressData(cb.scholarshipCard.pack(`rem.${round.id}.c0`), card)).join("\n")).toContain("đã bật nhắc cho đợt này rồi");
    expect(await h.db.prisma.scholarshipSubscription.count({ where: { roundId: round.id } })).toBe(1);
    const off = await u.press("🔕 Thôi nhắc");
    expect(off[0]).toContain("[answer] 🔕 Đã tắt nhắc");
    expect(await h.db.prisma.scholarshipSubscription.count({ where: { roundId: round.id } })).toBe(0);
    expect(current(u, card.message_id).text).not.toContain("Bạn sẽ được nhắc");
    expect(buttonsOf(current(u, card.message_id))).toContain("🔔 Nhắc tôi");
  });

  it("asks someone not registered to register before reminding them", async () => {
    await fresh();
    const round = await makeRound(h.db.prisma, clock.now(), { provinceCode: null });
    const u = stranger();
    await u.send(`/start sch_${round.id}`);
    const r = await u.press("🔔 Nhắc tôi");
    expect(r.join("\n")).toContain("đăng ký Công dân học tập trước");
    expect(u.buttons()).toContain("📝 Đăng ký Công dân học tập");
    expect(await h.db.prisma.scholarshipSubscription.count({ where: { roundId: round.id } })).toBe(0);
  });

  it("opens by deep link, and answers missing, cancelled, closed and forged buttons", async () => {
    await fresh();
    const round = await makeRound(h.db.prisma, clock.now(), { programme: "Hoa Phượng Đỏ" });
    const u = await resident();
    const opened = await u.send(`/start sch_${round.id}`);
    expect(opened[0]).toContain("Hoa Phượng Đỏ 2026");
    expect(opened[0]).toContain("còn 10 ngày");
    expect((await u.send("/start sch_999999999")).join("\n")).toContain("Không tìm thấy đợt học bổng");
    const card = lastMessage(u);
    await h.db.prisma.scholarshipRound.update({ where: { id: round.id }, data: { state: "cancelled" } });
    expect((await u.press("🔔 Nhắc tôi")).join("\n")).toContain("Không tìm thấy đợt học bổng");
    expect((await u.pressData(cb.scholarship.pack(`elig.${round.id}`))).join("\n")).toContain("Không tìm thấy đợt học bổng");
    expect(await h.db.prisma.scholarshipSubscription.count({ where: { roundId: round.id } })).toBe(0);
    expect(card.message_id).toBeGreaterThan(0);
    const closed = await makeRound(h.db.prisma, clock.now(), { state: "closed" });
    expect((await u.pressData(cb.scholarship.pack(`rem.${closed.id}`))).join("\n")).toContain("hết hạn nhận hồ sơ");
    expect((await u.pressData(cb.scholarship.pack(`nom.${closed.id}`))).join("\n")).toContain("không nhận đề cử");
    expect((await u.pressData("sch:rem.abc")).join("\n")).toContain("Nút không hợp lệ");
    expect((await u.pressData("sch:drop.1")).join("\n")).toContain("Nút không hợp lệ");
    expect((await u.pressData("schv:99.0")).join("\n")).toContain("Nút không hợp lệ");
  });

  it("enters the nominate flow when it exists, and otherwise says it is coming without blocking other flows", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { programme: "Hoa Phượng Đỏ", rules: { circumstances: ["poor"] } });
    const u = await resident();
    await u.send("/scholarships");
    const r = (await u.press("✍️ Đề cử học sinh")).join("\n");
    // Either the nominations part's flow asked its first question or this part said it is coming.
    expect(r.length).toBeGreaterThan(0);
    if (r.includes("sắp có")) {
      const elig = (await u.press("❓ Tôi có đủ điều kiện?")).join("\n");
      expect(elig).toContain("Học sinh có sống ở TP. Hải Phòng không?");
      await u.send("/cancel");
    }
  });
});

describe("am I eligible?", () => {
  const rules = { levels: ["lower_secondary"], gradeMin: 6, gradeMax: 9, circumstances: ["poor", "near_poor"] };

  it("reaches a yes through level, grade, place and circumstances, with nominate and remind buttons", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { programme: "Hoa Phượng Đỏ", rules });
    const u = await resident();
    await u.send("/scholarships");
    const intro = (await u.press("❓ Tôi có đủ điều kiện?")).join("\n");
    expect(intro).toContain("Hoa Phượng Đỏ 2026");
    expect(intro).toContain("Học sinh đang học cấp nào?");
    expect(u.buttons()).toEqual(["Tiểu học", "THCS", "THPT", "Đại học, cao đẳng", "Chưa hoặc không đi học"]);
    expect((await u.press("THCS")).join("\n")).toContain("Học sinh học lớp mấy?");
    expect(u.buttons()).toEqual(["Lớp 6", "Lớp 7", "Lớp 8", "Lớp 9"]);
    expect((await u.press("Lớp 7")).join("\n")).toContain("Học sinh có sống ở TP. Hải Phòng không?");
    // Each question starts a fresh stored log: only the press that brought this one is kept, and
    // the round and the answers so far are carried as the flow's state.
    const stored = await storedFlow(h.redis, u.id, ELIGIBILITY_FLOW);
    expect(stored.updates).toBe(1);
    expect(stored.args[1]).toMatchObject({ state: { answers: { level: "lower_secondary", grade: 7 } } });
    expect((await u.press("Có")).join("\n")).toContain("Gia đình học sinh thuộc hộ nghèo?");
    expect((await u.press("Có")).join("\n")).toContain("Gia đình học sinh thuộc hộ cận nghèo?");
    const verdict = (await u.press("Không chắc")).join("\n");
    expect(verdict).toContain("✅ Có thể đủ điều kiện");
    const verdictMessage = lastMessage(u);
    expect(u.buttons()).toEqual(["📄 Xem đợt học bổng", "🔔 Nhắc tôi", "✍️ Đề cử học sinh"]);
    // Remind me from the verdict: stored, and the button turns into its opposite there.
    expect((await u.press("🔔 Nhắc tôi")).join("\n")).toContain("Đã bật nhắc");
    expect(u.buttons()).toContain("🔕 Thôi nhắc");
    expect(await h.db.prisma.scholarshipSubscription.count({ where: { userId: BigInt(u.id) } })).toBe(1);
    // The card button opens a new card, leaving the verdict as it was.
    const card = (await u.press("📄 Xem đợt học bổng")).join("\n");
    expect(card).toContain("Hoa Phượng Đỏ 2026");
    expect(card).toContain("Bạn sẽ được nhắc");
    expect(lastMessage(u).message_id).not.toBe(verdictMessage.message_id);
    expect(current(u, verdictMessage.message_id).text).toContain("Có thể đủ điều kiện");
  });

  it("says no at once when the level is wrong, naming the rule", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { rules: { gradeMin: 6, gradeMax: 9 } });
    const u = await resident();
    await u.send("/scholarships");
    await u.press("❓ Tôi có đủ điều kiện?");
    const verdict = (await u.press("THPT")).join("\n");
    expect(verdict).toContain("❌ Chưa đủ điều kiện");
    expect(verdict).toContain("Đợt này dành cho học sinh lớp 6–9.");
    expect(verdict).not.toContain("Học sinh có sống ở");
    expect(u.buttons()).toEqual(["📄 Xem đợt học bổng", "🔔 Nhắc tôi"]);
  });

  it("says no when the student lives elsewhere or has none of the circumstances", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { rules: { circumstances: ["poor", "orphan"] } });
    const u = await resident();
    await u.send("/scholarships");
    await u.press("❓ Tôi có đủ điều kiện?");
    const away = (await u.press("Không")).join("\n");
    expect(away).toContain("Đợt này dành cho học sinh sống ở TP. Hải Phòng.");
    await u.send("/scholarships");
    await u.press("❓ Tôi có đủ điều kiện?");
    // Typing a button's label answers as pressing it does.
    expect((await u.send("có"))[0]).toContain("✅ Có");
    await u.send("KHONG");
    const none = (await u.send("không")).join("\n");
    expect(none).toContain("❌ Chưa đủ điều kiện");
    expect(none).toContain("Đợt này dành cho học sinh có ít nhất một hoàn cảnh: hộ nghèo, mồ côi.");
  });

  it("says maybe when a required circumstance is not known, naming what to check", async () => {
    await fresh();
    const commune = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: HAI_PHONG }, orderBy: { code: "asc" } });
    await makeRound(h.db.prisma, clock.now(), { rules: { communeCodes: [commune.code], circumstances: ["poor"] } });
    const u = await resident();
    await u.send("/scholarships");
    const asked = (await u.press("❓ Tôi có đủ điều kiện?")).join("\n");
    expect(asked).toContain("Học sinh có sống ở một trong các xã/phường sau không:");
    expect(asked).toContain(`${commune.name} (TP. Hải Phòng)?`);
    await u.press("Có");
    const verdict = (await u.press("Không chắc")).join("\n");
    expect(verdict).toContain("🤔 Có thể — cần xác minh");
    expect(verdict).toContain("Đợt này dành cho học sinh thuộc hộ nghèo.");
    expect(verdict).toContain("Hỏi thêm: Hội Khuyến học xã, 0225 3 123 456");
    expect(u.buttons()).toContain("✍️ Đề cử học sinh");
  });

  it("says at once when a round sets no conditions of its own", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { provinceCode: null, programme: "Vì em hiếu học" });
    const u = await resident();
    await u.send("/scholarships");
    const r = (await u.press("❓ Tôi có đủ điều kiện?")).join("\n");
    expect(r).toContain("Đợt này không đặt điều kiện riêng: xem mô tả");
    expect(r).toContain("Học sinh nghèo vượt khó");
    // Not inside a flow: other commands work at once.
    expect((await u.send("/scholarships")).join("\n")).toContain("Vì em hiếu học");
  });

  it("refuses a forged grade of another level and restarts for another round", async () => {
    await fresh();
    await makeRound(h.db.prisma, clock.now(), { programme: "Đợt một", rules, deadlineIn: 3 });
    await makeRound(h.db.prisma, clock.now(), { programme: "Đợt hai", rules: { circumstances: ["orphan"] }, deadlineIn: 6 });
    const u = await resident();
    await u.send("/scholarships");
    await u.press("❓ Tôi có đủ điều kiện?");
    await u.press("THCS");
    expect((await u.pressData(cb.elGrade.pack("11"), lastMessage(u))).join("\n")).toContain("Lựa chọn không hợp lệ");
    // "Am I eligible?" of another round replaces the unfinished one.
    await u.send("/scholarships");
    await u.press("▶️");
    const other = (await u.press("❓ Tôi có đủ điều kiện?")).join("\n");
    expect(other).toContain("Đợt hai");
    expect(other).toContain("Học sinh có sống ở TP. Hải Phòng không?");
  });
});
