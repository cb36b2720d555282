import type { Message } from "grammy/types";
import { describe, expect, it } from "vitest";
import { formatGroupLeaderboard } from "../../src/bot/format/leaderboard.js";
import type { RegistrationDraft } from "../../src/domain/citizens/citizen-service.js";
import { createI18n } from "../../src/i18n.js";
import { draft } from "../support/drafts.js";
import { useHarness, type Harness } from "../support/harness.js";

// Wednesday 2 December 2026, 10:00 in Vietnam: this week began on Monday 30 November.
const NOW = new Date("2026-12-02T03:00:00Z");
const THIS_WEEK = "2026-12-01T01:00:00Z";
const LAST_WEEK = "2026-11-25T01:00:00Z";
const LUNG_CU = { provinceCode: "08", communeCode: "00715" };
const BA_DINH = { provinceCode: "01", communeCode: "00004" };
const DON = "Đồn Biên phòng Lũng Cú";

async function citizen(h: Harness, id: number, over: Partial<RegistrationDraft>): Promise<void> {
  await h.deps.services.citizens.register(String(id), draft(over), new Date("2026-11-01T00:00:00Z"));
}

let seq = 0;
/** Answers as the round engine records them: true right, false wrong, null timed out. */
async function answers(h: Harness, userId: number, at: string, ...list: Array<[boolean | null, number]>): Promise<void> {
  for (const [correct, ms] of list) {
    seq += 1;
    await h.db.prisma.quizAnswer.create({
      data: { roundId: BigInt(seq), idx: 0, userId: BigInt(userId), questionId: "nb-01", topic: "border", chosen: correct === null ? null : correct ? 1 : 0, correct: correct === true, ms, answeredAt: new Date(at) },
    });
  }
}

const lastSent = (h: Harness, chatId: number) => h.fake.sent(chatId).at(-1)!.result as Message;

// Boards are nationwide: each describe has a bot and a database of its own.
describe("/leaderboard", () => {
  const h = useHarness({ now: () => NOW });

  it("shows this week's people with the person's own rank, and switches period, board and scope in place", async () => {
    await citizen(h, 82001, { fullName: "Trần Văn Xuân", ...LUNG_CU, unitName: DON });
    await citizen(h, 82002, { fullName: "Lê Thị Yến", ...BA_DINH });
    await citizen(h, 82003, { fullName: "Nguyễn Thị Hoa", ...LUNG_CU, unitName: ` ${DON}  ` });
    await citizen(h, 82004, { fullName: "Phạm Văn Tú", ...BA_DINH });
    await answers(h, 82001, THIS_WEEK, [true, 1_000], [true, 1_000], [true, 1_000]);
    await answers(h, 82002, THIS_WEEK, [true, 1_000], [true, 1_000], [null, 30_000]);
    await answers(h, 82003, THIS_WEEK, [true, 4_000], [false, 5_000]);
    await answers(h, 82003, LAST_WEEK, [true, 1_000], [true, 1_000], [true, 1_000], [true, 1_000], [true, 1_000]);
    await answers(h, 82004, LAST_WEEK, [true, 4_000], [true, 4_000], [true, 4_000], [true, 4_000]);
    const u = h.user(82003);

    expect(await u.send("/leaderboard")).toEqual([
      [
        "🏆 Bảng xếp hạng câu đố",
        "Cá nhân · toàn quốc · tuần này (từ 00:00 thứ Hai 30/11/2026)",
        "",
        "🥇 T. V. X. — 3/3 câu đúng · ⏱ 0:03",
        "🥈 L. T. Y. — 2/3 câu đúng · ⏱ 0:32",
        "🥉 N. T. H. — 1/2 câu đúng · ⏱ 0:09",
        "",
        "👉 Bạn: hạng 3/3 · 1/2 câu đúng · ⏱ 0:09",
        "Trên bảng xếp hạng bạn hiện là N. T. H. (chữ cái đầu). Muốn hiện tên đầy đủ, bấm nút bên dưới.",
      ].join("\n"),
    ]);
    expect(u.buttons()).toEqual(["✅ Tuần này", "Mọi lúc", "✅ Cá nhân", "Xã, phường", "Đơn vị", "✅ Toàn quốc", "Tuyên Quang", "👤 Hiện tên tôi"]);
    const shown = lastSent(h, u.id);
    // The person's own row stands out (bold).
    const own = shown.text!.indexOf("🥉 N. T. H.");
    expect(shown.entities!.some((e) => e.type === "bold" && e.offset <= own && e.offset + e.length > own)).toBe(true);

    // All time: last week's answers count, and the person leads.
    const all = await u.press("Mọi lúc");
    expect(u.callsSince().map((c) => c.method)).toEqual(["answerCallbackQuery", "editMessageText"]);
    expect(u.callsSince()[1]!.payload.message_id).toBe(shown.message_id);
    expect(all).toEqual([
      [
        "🏆 Bảng xếp hạng câu đố",
        "Cá nhân · toàn quốc · mọi lúc",
        "",
        "🥇 N. T. H. — 6/7 câu đúng · ⏱ 0:14",
        "🥈 P. V. T. — 4/4 câu đúng · ⏱ 0:16",
        "🥉 T. V. X. — 3/3 câu đúng · ⏱ 0:03",
        "4. L. T. Y. — 2/3 câu đúng · ⏱ 0:32",
        "",
        "👉 Bạn: hạng 1/4 · 6/7 câu đúng · ⏱ 0:14",
        "Trên bảng xếp hạng bạn hiện là N. T. H. (chữ cái đầu). Muốn hiện tên đầy đủ, bấm nút bên dưới.",
      ].join("\n"),
    ]);
    expect(u.buttons().slice(0, 2)).toEqual(["Tuần này", "✅ Mọi lúc"]);

    await u.press("Tuần này");
    const communes = await u.press("Xã, phường");
    expect(communes[0]).toContain("Xã, phường · toàn quốc · tuần này");
    expect(communes[0]).toContain("\n🥇 Xã Lũng Cú, Tuyên Quang — 4 câu đúng · 2 người\n🥈 Phường Ba Đình, TP. Hà Nội — 2 câu đúng · 1 người\n");

    const units = await u.press("Đơn vị");
    expect(units[0]).toContain("\n🥇 Đồn Biên phòng Lũng Cú (Tuyên Quang) — 2/2 người tham gia (100%) · 4 câu đúng\n");
    const province = await u.press("Tuyên Quang");
    expect(province[0]).toContain("Đơn vị · Tuyên Quang · tuần này");
    expect(province[0]).toContain("\n🥇 Đồn Biên phòng Lũng Cú — 2/2 người tham gia (100%) · 4 câu đúng\n");
    // Her rank among the province's people: Xuân 3 right, then her.
    expect(province[0]).toContain("👉 Bạn: hạng 2/2 · 1/2 câu đúng");
    expect(u.buttons()).toEqual(["✅ Tuần này", "Mọi lúc", "Cá nhân", "Xã, phường", "✅ Đơn vị", "Toàn quốc", "✅ Tuyên Quang", "👤 Hiện tên tôi"]);
    // Every switch edited the one message.
    expect(h.fake.sent(u.id).filter((c) => c.method === "sendMessage")).toHaveLength(1);
    expect(h.logged(40)).toEqual([]);
  });

  it("shows the name only after the person opts in, and hides it again", async () => {
    await citizen(h, 83001, { fullName: "Lò Thị Mai", ...LUNG_CU });
    await answers(h, 83001, THIS_WEEK, [true, 2_000]);
    const u = h.user(83001);
    await u.send("/leaderboard");
    expect(await h.db.prisma.quizProfile.count({ where: { userId: 83001n } })).toBe(0);

    const shown = await u.press("Hiện tên tôi");
    expect(shown[0]).toBe("[answer] Đã hiện tên đầy đủ của bạn trên bảng xếp hạng.");
    expect(shown[1]).toContain("Lò Thị Mai — 1/1 câu đúng");
    expect(shown[1]).toMatch(/Tên của bạn đang hiện đầy đủ trên bảng xếp hạng\.$/);
    expect(u.buttons().at(-1)).toBe("🙈 Ẩn tên tôi");
    expect(await h.db.prisma.quizProfile.findUnique({ where: { userId: 83001n } })).toMatchObject({ showName: true });
    // Others see it too.
    const other = h.user(83002);
    expect((await other.send("/leaderboard"))[0]).toContain("Lò Thị Mai — 1/1 câu đúng");

    const hidden = await u.press("Ẩn tên tôi");
    expect(hidden[0]).toBe("[answer] Đã ẩn tên bạn: bảng xếp hạng chỉ hiện chữ cái đầu.");
    expect(hidden[1]).not.toContain("Lò Thị Mai");
    expect(hidden[1]).toContain("L. T. M. — 1/1 câu đúng");
    expect(await h.db.prisma.quizProfile.findUnique({ where: { userId: 83001n } })).toMatchObject({ showName: false });
    // A stale "show" button pressed after hiding asks for the state it names: shown again, not toggled.
    await u.pressData("lbn:1.p.w.n", lastSent(h, u.id));
    await u.pressData("lbn:1.p.w.n", lastSent(h, u.id));
    expect(await h.db.prisma.quizProfile.findUnique({ where: { userId: 83001n } })).toMatchObject({ showName: true });
  });

  it("answers forged or stale buttons helpfully, and someone unregistered cannot opt in", async () => {
    const u = h.user(84001);
    await answers(h, 84001, THIS_WEEK, [true, 3_000]);
    const first = await u.send("/leaderboard");
    // Not registered: shown as "—", no province view, no name button.
    expect(first[0]).toContain("— — 1/1 câu đúng");
    expect(first[0]).toMatch(/Người chưa đăng ký Công dân học tập hiện là “—”\. Gõ \/start để đăng ký\.$/);
    expect(u.buttons()).toEqual(["✅ Tuần này", "Mọi lúc", "✅ Cá nhân", "Xã, phường", "Đơn vị"]);

    expect(await u.pressData("lb:p.w.x")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(await u.pressData("lbn:2.p.w.n")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(await u.pressData("lb:p.w.n'; DROP TABLE quiz_answers")).toEqual(["[answer] Nút không hợp lệ."]);
    // A province view kept from when they were registered: nationwide, with the reason.
    const stale = await u.pressData("lb:c.a.p", lastSent(h, u.id));
    expect(stale[0]).toBe("[answer] Bạn chưa đăng ký nên chưa có tỉnh: đang xem toàn quốc.");
    expect(stale[1]).toContain("Xã, phường · toàn quốc · mọi lúc");
    expect(await u.pressData("lbn:1.p.w.n")).toEqual(["[answer] Hãy đăng ký Công dân học tập (/start) trước: tên hiện trên bảng là tên bạn đăng ký."]);
    expect(await h.db.prisma.quizProfile.count({ where: { userId: 84001n } })).toBe(0);
    expect(await h.db.prisma.quizAnswer.count()).toBeGreaterThan(0);
  });
});

describe("/leaderboard beyond the top ten", () => {
  const h = useHarness({ now: () => NOW });

  it("lists ten people and still tells the eleventh and later their rank", async () => {
    for (let i = 0; i < 11; i++) await answers(h, 85001 + i, THIS_WEEK, [true, 1_000 + i], [true, 1_000]);
    await citizen(h, 85100, { fullName: "Đinh Văn Mười Hai", ...LUNG_CU });
    await answers(h, 85100, THIS_WEEK, [true, 5_000], [false, 5_000]);
    const u = h.user(85100);
    const [text] = await u.send("/leaderboard");
    const rows = text!.split("\n").filter((l) => / — \d+\/\d+ câu đúng/.test(l) && !l.startsWith("👉"));
    expect(rows).toHaveLength(10);
    expect(rows.at(-1)).toMatch(/^10\. — — 2\/2 câu đúng · ⏱ 0:02$/);
    expect(rows.join("\n")).not.toContain("Đ. V. M. H.");
    expect(text).toContain("👉 Bạn: hạng 12/12 · 1/2 câu đúng · ⏱ 0:10");
  });

  it("speaks English to English clients", async () => {
    await answers(h, 85201, THIS_WEEK, [true, 1_000], [true, 1_000], [true, 1_000]);
    const u = h.user(85200, { language_code: "en" });
    const [text] = await u.send("/leaderboard");
    expect(text).toMatch(/^🏆 Quiz leaderboard\nPeople · nationwide · this week \(since Monday 30\/11\/2026, 00:00\)\n\n🥇 — — 3\/3 correct · ⏱ 0:03\n/);
    expect(text).toContain("👉 You have not answered a question this week. Type /quiz to take part.");
    expect(u.buttons()).toEqual(["✅ This week", "All time", "✅ People", "Communes", "Units"]);
  });
});

describe("quiz data in /mydata and /deleteme", () => {
  const h = useHarness({ now: () => NOW });

  it("exports the person's quiz data and erases it with the rest", async () => {
    const u = h.user(86001);
    await citizen(h, 86001, { fullName: "Hà Thị Thu", ...LUNG_CU });
    await answers(h, 86001, THIS_WEEK, [true, 1_000], [null, 30_000]);
    await answers(h, 86002, THIS_WEEK, [true, 1_000]);
    await h.db.prisma.quizRound.create({ data: { kind: "solo", userId: 86001n, chatId: 86001n, topic: "border", questionIds: ["nb-01", "nb-02"], locale: "vi", score: 1, elapsedMs: 31_000, state: "finished", startedAt: new Date(THIS_WEEK) } });
    await h.db.prisma.quizBox.create({ data: { userId: 86001n, questionId: "nb-02", box: 1, dueAt: new Date(THIS_WEEK) } });
    await u.send("/leaderboard");
    await u.press("Hiện tên tôi");

    await u.send("/mydata");
    const data = JSON.parse(h.fake.lastDocument(86001)!.content.toString("utf8"));
    expect(data).toMatchObject({
      quiz_profile: { showName: true },
      quiz_answers: { taken: 2, correct: 1, timedOut: 1 },
      quiz_rounds: { total: 1, rounds: [{ kind: "solo", score: 1, questions: 2, state: "finished" }] },
      quiz_boxes: [{ box: 1, questions: 1 }],
    });

    const ask = await u.send("/deleteme");
    for (const line of ["• cài đặt câu đố của bạn", "• các câu trả lời câu đố của bạn", "• các lượt câu đố bạn đã làm hoặc bắt đầu", "• các câu hỏi đang chờ ôn lại"]) expect(ask[0]).toContain(line);
    const done = await u.press("Xóa dữ liệu");
    expect(done[0]).toContain("• các câu trả lời câu đố của bạn");
    for (const count of [
      h.db.prisma.quizAnswer.count({ where: { userId: 86001n } }),
      h.db.prisma.quizRound.count({ where: { userId: 86001n } }),
      h.db.prisma.quizBox.count({ where: { userId: 86001n } }),
      h.db.prisma.quizProfile.count({ where: { userId: 86001n } }),
    ]) expect(await count).toBe(0);
    // Someone else's answers stay, and the board no longer knows the person.
    expect(await h.db.prisma.quizAnswer.count({ where: { userId: 86002n } })).toBe(1);
    expect((await u.send("/leaderboard"))[0]).toContain("👉 Tuần này bạn chưa trả lời câu nào.");
  });
});

describe("a group round's final leaderboard", () => {
  it("ranks by score then time, shares equal ranks, escapes names and stays short", async () => {
    const i18n = await createI18n();
    const t = i18n.t("vi");
    expect(formatGroupLeaderboard(t, [
      { name: "Hoa", score: 7, ms: 65_000 },
      { name: "<b>Bình</b>", score: 8, ms: 90_000 },
      { name: "An", score: 7, ms: 65_000 },
      { name: "Cường", score: 7, ms: 70_400 },
    ])).toBe([
      "🏁 <b>Kết quả</b>",
      "🥇 &lt;b&gt;Bình&lt;/b&gt; — 8 câu đúng · ⏱ 1:30",
      "🥈 Hoa — 7 câu đúng · ⏱ 1:05",
      "🥈 An — 7 câu đúng · ⏱ 1:05",
      "4. Cường — 7 câu đúng · ⏱ 1:10",
    ].join("\n"));
    expect(formatGroupLeaderboard(i18n.t("en"), [])).toBe("🏁 <b>Results</b>\nNobody answered.");
    const many = Array.from({ length: 25 }, (_, i) => ({ name: `P${i}`, score: 25 - i, ms: 1_000 }));
    const text = formatGroupLeaderboard(t, many);
    expect(text.split("\n")).toHaveLength(1 + 20 + 1);
    expect(text.endsWith("\n… và 5 người khác")).toBe(true);
    expect(text).toContain("\n20. P19 — 6 câu đúng · ⏱ 0:01\n");
  });
});
