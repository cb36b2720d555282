import ExcelJS from "exceljs";
import type { Message, Poll } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { vnWeekStart } from "../../src/domain/quizzes/contests.js";
import { vnParts } from "../../src/domain/time/vietnam-time.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { pollAnswer } from "../support/telegram/index.js";

// Contests through the whole stack: an officer's /contest_new conversation, attempts as native quiz
// polls answered with poll_answer updates, the tie-break after the last question (answered, or
// timed out through the delivery engine), the weekly cap, the officer's ranking and CSV export.

// Wednesday 12:00 in Vietnam of this week (or last week's, if that is still ahead): the week's
// cap cannot reset in the middle of a run, and dates typed into the conversation (checked against
// the real clock) are ahead of both clocks.
const DAY = 24 * 3600_000;
let wednesday = vnWeekStart(new Date()).getTime() + 2.5 * DAY;
if (wednesday > Date.now()) wednesday -= 7 * DAY;
const clock = new ManualClock(wednesday);
const ADMIN = 9_800_001;
const h = useHarness({ now: clock.now, adminIds: [String(ADMIN)] });
let engine: TestEngine;
beforeAll(() => {
  engine = TestEngine.start({ db: h.db, fake: h.fake, now: clock.now, kinds: h.deps.deliveryKinds, queues: h.queues, prefix: h.queuePrefix });
});
afterAll(() => engine.stop());

let nextId = 9_800_100;
let nextProvince = 3;

async function freshPlace() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, communes };
}

async function officer(province: string, commune?: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: province, scopeCommuneCode: commune ?? null } });
  h.fake.registerChat(id);
  return h.user(id);
}

async function citizen(province: string, commune: string, fullName: string, showName = false): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id) } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `CT-${id}`, fullName, birthYear: 1985, provinceCode: province, communeCode: commune, affiliation: "resident", goals: ["law"], registeredAt: clock.now() },
  });
  if (showName) await h.db.prisma.quizProfile.create({ data: { userId: BigInt(id), showName: true } });
  h.fake.registerChat(id);
  return h.user(id);
}

interface SentPoll { message: Message; poll: Poll; payload: Record<string, unknown> }
function polls(chat: number): SentPoll[] {
  return h.fake.sent(chat).filter((c) => c.method === "sendPoll").map((c) => ({ message: c.result as Message, poll: (c.result as Message).poll!, payload: c.payload }));
}
const lastPoll = (chat: number) => polls(chat).at(-1)!;
const rightOption = (p: SentPoll) => Number(p.payload.correct_option_id);
const wrongOption = (p: SentPoll) => (rightOption(p) + 1) % p.poll.options.length;

/** "dd/mm/yyyy" on Vietnam's calendar. */
function vnDate(at: Date): string {
  const p = vnParts(at);
  return `${String(p.day).padStart(2, "0")}/${String(p.month).padStart(2, "0")}/${p.year}`;
}

/** "dd/mm/yyyy 20:00", `days` after the clock. */
const typedDate = (days: number) => `${vnDate(new Date(clock.now().getTime() + days * DAY))} 20:00`;

/** Answers every poll of an attempt as it comes (right unless listed in `wrong`), 2 s each. */
async function answerAll(u: TestUser, count: number, wrong: number[] = []): Promise<string[]> {
  let last: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = lastPoll(u.id);
    expect(p.poll.question.startsWith(`${i + 1}/5. `)).toBe(true);
    expect(p.payload).toMatchObject({ type: "quiz", is_anonymous: false, open_period: 30 });
    clock.advance(2_000);
    last = await u.sendUpdate(pollAnswer(u.tg, p.poll.id, [wrong.includes(i) ? wrongOption(p) : rightOption(p)]));
  }
  return last;
}

describe("contests", () => {
  it("an officer creates one; residents take attempts, answer the tie-break, see their rank; the cap holds; the officer exports CSV and XLSX", async () => {
    const { province, communes: [here] } = await freshPlace();
    const o = await officer(province, here!.code);

    // The officer's conversation.
    expect((await o.send("/contest_new")).join("\n")).toMatch(/Tạo cuộc thi[\s\S]*Tên cuộc thi\?/);
    expect(await o.send("ab")).toEqual(["Tên cuộc thi cần từ 3 đến 120 ký tự. Gõ lại tên."]);
    const title = await o.send("Tìm hiểu Luật Biển <2026>");
    expect(title[0]).toBe("✅ Tên cuộc thi: Tìm hiểu Luật Biển <2026>");
    expect(o.buttons().some((b) => /^Luật Biển Việt Nam 2012 .*\(\d+\)$/.test(b))).toBe(true);
    await o.press("Luật Biển Việt Nam 2012");
    // Only counts the topic can fill (it has 28 questions).
    expect(o.buttons()).toEqual(["5", "10", "15", "20", "↩️ Quay lại"]);
    await o.press("5");
    await o.press("Mở ngay");
    expect(await o.send("1/1/2020 8:00")).toEqual([expect.stringMatching(/đã qua/)]);
    await o.send(typedDate(10));
    expect(await o.send("0")).toEqual(["Số lượt mỗi tuần là một số từ 1 đến 20. Gõ lại."]);
    await o.send("2");
    await o.send("Có bao nhiêu người dự thi đến hết tuần?");
    await o.send("Bỏ qua");
    expect(await o.send("khoảng một nghìn")).toEqual(["Câu trả lời câu hỏi phụ phải là một con số, ví dụ 1250 hoặc 12,5."]);
    const summary = (await o.send("1250")).join("\n");
    expect(summary).toContain("🏆 Tìm hiểu Luật Biển <2026>\n📍 ");
    expect(summary).toMatch(/5 câu hỏi/);
    expect(summary).toMatch(/2 lượt mỗi tuần/);
    const done = (await o.press("Tạo cuộc thi")).join("\n");
    const contest = await h.db.prisma.quizContest.findFirstOrThrow({ where: { authorId: BigInt(o.id) } });
    expect(done).toContain(`Đã tạo cuộc thi #${contest.id}`);
    expect(contest).toMatchObject({ provinceCode: province, communeCode: here!.code, attemptsPerWeek: 2, openPeriod: 30, tiebreakAnswer: 1250, tiebreakQuestion: { vi: "Có bao nhiêu người dự thi đến hết tuần?", en: "Có bao nhiêu người dự thi đến hết tuần?" } });
    expect(contest.questionIds).toHaveLength(5);
    expect(await h.db.prisma.quizQuestion.count({ where: { id: { in: contest.questionIds }, topic: "sea" } })).toBe(5);

    // A resident's attempt, answered to the end.
    const a = await citizen(province, here!.code, "Trần Thị Bình", true);
    const list = (await a.send("/contest")).join("\n");
    expect(list).toMatch(/Cuộc thi đang mở/);
    expect(list).toMatch(/5 câu · mỗi câu 30 giây/);
    expect(list).toMatch(/Tuần này còn 2\/2 lượt/);
    const started = (await a.press("Thi: Tìm hiểu Luật Biển")).join("\n");
    expect(started).toMatch(/lượt thi 1\/2 của tuần này/);
    const end = (await answerAll(a, 5, [2])).join("\n");
    // After the last question: the tie-break, not the summary with the answers.
    expect(end).toMatch(/Câu hỏi phụ/);
    expect(end).toMatch(/Có bao nhiêu người dự thi đến hết tuần\?/);
    expect(end).not.toMatch(/Các câu chưa đúng/);
    expect(await a.send("nhiều lắm")).toEqual([
      "Câu trả lời câu hỏi phụ phải là một con số, ví dụ 1250 hoặc 12,5.\n🎯 Câu hỏi phụ: Có bao nhiêu người dự thi đến hết tuần?",
    ]);
    const result = (await a.send("1200")).join("\n");
    expect(result).toMatch(/Đã ghi nhận câu trả lời câu hỏi phụ: 1\.200/);
    expect(result).toMatch(/đúng 4\/5 câu · 10 giây/);
    expect(result).toMatch(/Thứ hạng hiện tại của bạn: 1\/1/);
    expect(result).toMatch(/Tuần này bạn còn 1 lượt/);
    // Text after the tie-break is ordinary free text again.
    expect((await a.send("1300")).join("\n")).not.toMatch(/Đã ghi nhận/);

    // A second resident lets the last question time out: the tie-break comes through the engine.
    const b = await citizen(province, here!.code, "Lê Văn Cường");
    await b.send("/contest");
    await b.press("Thi: Tìm hiểu Luật Biển");
    await answerAll(b, 4);
    clock.advance(31_000);
    await h.deps.services.quizRounds.sweep();
    await eventually(() => /Câu hỏi phụ/.test(h.fake.lastText(b.id) ?? ""), "tie-break asked after the time-out");
    const bResult = (await b.send("1300")).join("\n");
    expect(bResult).toMatch(/đúng 4\/5 câu · 38 giây/);
    expect(bResult).toMatch(/Thứ hạng hiện tại của bạn: 2\/2/);

    // The cap: a second attempt (stopped) uses the week's last one; the old button is refused.
    await a.send("/contest");
    await a.press("Thi: Tìm hiểu Luật Biển");
    await a.send("/quiz");
    await a.press("Dừng lượt");
    const none = (await a.send("/contest")).join("\n");
    expect(none).toMatch(/Tuần này còn 0\/2 lượt/);
    expect((h.fake.sent(a.id).at(-1)!.result as Message).reply_markup).toBeUndefined();
    const monday = vnWeekStart(new Date(clock.now().getTime() + 7 * DAY));
    const refused = await a.pressData(cb.ctPlay.pack(String(contest.id)));
    expect(refused).toEqual([`[answer] Bạn đã dùng hết 2 lượt thi của tuần này. Lượt mới từ 00:00 ngày ${vnDate(monday)}.`]);
    expect(await h.db.prisma.quizRound.count({ where: { contestId: contest.id, userId: BigInt(a.id) } })).toBe(2);

    // The officer's list, ranking and export.
    const mine = (await o.send("/contests")).join("\n");
    expect(mine).toContain(`#${contest.id} Tìm hiểu Luật Biển`);
    expect(mine).toMatch(/đang mở/);
    expect(mine).toMatch(/👥 2 người · 3 lượt \(2 lượt xong\)/);
    const ranking = (await o.press(`Xếp hạng #${contest.id}`)).join("\n");
    expect(ranking).toMatch(/\(2 người\)/);
    expect(ranking).toMatch(/1\. Trần Thị Bình \([^)]+\): 4\/5 · 10 giây · 🎯 1\.200/);
    expect(ranking).toMatch(/2\. L\. V\. C\. \([^)]+\): 4\/5 · 38 giây · 🎯 1\.300/);
    const caption = (await o.press(`CSV #${contest.id}`)).join("\n");
    expect(caption).toMatch(/Kết quả cuộc thi #\d+ .*: 2 người/);
    const doc = h.fake.lastDocument(o.id)!;
    expect(doc.file_name).toBe(`contest-${contest.id}.csv`);
    const text = doc.content.toString("utf8");
    expect(text.startsWith("\uFEFF")).toBe(true);
    const rows = text.slice(1).trim().split("\r\n");
    expect(rows).toHaveLength(3);
    expect(rows[0]).toBe("Hạng,Họ tên,Xã/phường,Số câu đúng,Thời gian (giây),Câu hỏi phụ,Số lượt");
    expect(rows[1]).toMatch(new RegExp(`^1,Trần Thị Bình,[^,]*${here!.name}[^,]*,4,10\\.0,1200,2$`));
    expect(rows[2]).toMatch(/^2,L\. V\. C\.,[^,]+,4,38\.0,1300,1$/);

    // The same export as a workbook: the header bold and frozen, numbers stored as numbers.
    expect((await o.press(`XLSX #${contest.id}`)).join("\n")).toMatch(/Kết quả cuộc thi #\d+ .*: 2 người/);
    const sheetDoc = h.fake.lastDocument(o.id)!;
    expect(sheetDoc.file_name).toBe(`contest-${contest.id}.xlsx`);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(sheetDoc.content as never);
    const sheet = book.worksheets[0]!;
    expect(sheet.name).toBe("Kết quả");
    expect(sheet.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
    expect(sheet.getRow(1).getCell(1).font?.bold).toBe(true);
    const values = [1, 2, 3].map((n) => (sheet.getRow(n).values as unknown[]).slice(1));
    expect(values[0]).toEqual(["Hạng", "Họ tên", "Xã/phường", "Số câu đúng", "Thời gian (giây)", "Câu hỏi phụ", "Số lượt"]);
    expect(values[1]).toEqual([1, "Trần Thị Bình", expect.stringContaining(here!.name), 4, 10, 1200, 2]);
    expect(values[2]).toEqual([2, "L. V. C.", expect.any(String), 4, 38, 1300, 1]);
    expect(sheet.rowCount).toBe(3);
    expect(sheet.getRow(2).getCell(5).numFmt).toBe("0.0");
    expect(h.logged()).toEqual([]);
  });

  it("refuses residents, other officers and forged buttons politely, and keeps contests to their place", async () => {
    const { province, communes: [here, there] } = await freshPlace();
    const o = await officer(province, here!.code);
    const t = clock.now().getTime();
    const created = await h.deps.services.contests.create(String(o.id), {
      title: "Ngày Biên phòng toàn dân", questionIds: (await h.db.prisma.quizQuestion.findMany({ where: { topic: "border-guard-law" }, take: 5 })).map((q) => q.id),
      opensAt: new Date(t - 60_000).toISOString(), closesAt: new Date(t + 5 * DAY).toISOString(), attemptsPerWeek: 1,
      tiebreakQuestion: { vi: "Bao nhiêu đồn biên phòng?", en: "How many border posts?" }, tiebreakAnswer: 42,
    });
    if (!created.ok) throw new Error("contest not created");
    const id = created.contest.id;

    const r = await citizen(province, there!.code, "Phạm Văn Đồng");
    expect(await r.send("/contest_new")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    expect(await r.send("/contests")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    expect(await r.pressData(cb.ctRank.pack(String(id)))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await r.pressData(cb.ctCsv.pack(String(id)))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await r.pressData(cb.ctXlsx.pack(String(id)))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await r.pressData("ctc:1;DROP")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(h.fake.lastDocument(r.id)).toBeUndefined();
    // Another commune's contest is not listed for them, and a forged start is refused.
    expect((await r.send("/contest")).join("\n")).not.toContain("Ngày Biên phòng toàn dân");
    expect(await r.pressData(cb.ctPlay.pack(String(id)))).toEqual(["[answer] Cuộc thi này không còn hoặc không dành cho địa bàn của bạn."]);
    expect(await h.db.prisma.quizRound.count({ where: { contestId: id } })).toBe(0);

    // An officer who does not run it sees no ranking or export.
    const other = await officer(province);
    expect(await other.pressData(cb.ctRank.pack(String(id)))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await other.pressData(cb.ctCsv.pack(String(id)))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await other.pressData(cb.ctXlsx.pack(String(id)))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(h.fake.lastDocument(other.id)).toBeUndefined();
    expect(h.logged(40).some((l) => l.msg === "refused a contest to someone who does not run it")).toBe(true);
    expect((await other.send("/contests")).join("\n")).toMatch(/chưa tạo cuộc thi nào/);
    // An admin may look at anyone's.
    const admin = h.user(ADMIN);
    expect((await admin.pressData(cb.ctRank.pack(String(id)))).join("\n")).toMatch(/Chưa có ai hoàn thành lượt thi/);
  });
});
