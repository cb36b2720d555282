import type { Message, Poll } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimedDelivery } from "../../src/domain/delivery/types.js";
import { QuizRounds } from "../../src/domain/quizzes/quiz-rounds.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { useHarness } from "../support/harness.js";
import { pollAnswer } from "../support/telegram/index.js";

// An officer's quiz prompt, whole stack: composed with /quizprompt, approved by a second person
// when the rule says so, delivered by the engine as native quiz polls, answered (through the round
// engine, as the poll_answer handler will), counted per commune and unit, summarised at the close.
const ADMIN = 9_500_001;
const clock = new ManualClock(new Date("2026-12-19T01:00:00Z").getTime());
// Above three recipients a commune-wide prompt needs a second person too.
const h = useHarness({ adminIds: [String(ADMIN)], now: clock.now, approvalThreshold: 3 });
let engine: TestEngine;
let rounds: QuizRounds;
beforeAll(() => {
  engine = TestEngine.start({ db: h.db, fake: h.fake, now: clock.now, kinds: h.deps.deliveryKinds, queues: h.queues, prefix: h.queuePrefix });
  rounds = new QuizRounds({ prisma: h.db.prisma, deliveries: h.deps.deliveries, now: clock.now });
});
afterAll(() => engine.stop());

let nextId = 9_500_100;
let nextProvince = 21;

async function freshPlace() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, communes };
}

async function citizen(province: string, commune: string, o: { unit?: string; locale?: string } = {}): Promise<number> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), locale: o.locale } });
  await h.db.prisma.learningCitizen.create({
    data: {
      userId: BigInt(id), registrationNumber: `QP-${id}`, fullName: `Người ${id}`, birthYear: 1985, provinceCode: province, communeCode: commune,
      affiliation: "resident", goals: ["law"], unitName: o.unit ?? null, registeredAt: new Date(),
    },
  });
  h.fake.registerChat(id);
  return id;
}

async function officer(scope: { province: string; commune?: string }) {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: scope.province, scopeCommuneCode: scope.commune ?? null } });
  h.fake.registerChat(id);
  return h.user(id);
}

const polls = (chat: number) => h.fake.sent(chat).filter((c) => c.method === "sendPoll").map((c) => (c.result as Message).poll!);
const texts = (chat: number) => h.fake.sent(chat).filter((c) => c.method === "sendMessage").map((c) => (c.result as Message).text ?? "");
const lastBroadcast = (authorId: number) => h.db.prisma.broadcast.findFirstOrThrow({ where: { authorId: BigInt(authorId) }, orderBy: { id: "desc" } });
const right = (p: Poll) => (p as Poll & { correct_option_ids: number[] }).correct_option_ids[0]!;

describe("/quizprompt", () => {
  it("a province-wide prompt waits for approval, reaches everyone as quiz polls in their language, and its answers show per commune and unit, live and at the close", async () => {
    const { province, communes: [a, b] } = await freshPlace();
    const lan = await citizen(province, a!.code, { unit: "Đồn Biên phòng Lũng Cú" });
    const minh = await citizen(province, a!.code, { unit: "đồn biên phòng lũng cú" });
    const sua = await citizen(province, b!.code);
    const kate = await citizen(province, b!.code, { unit: "Trường THCS Sủng Là", locale: "en" });
    const o = await officer({ province });
    h.fake.registerChat(ADMIN);

    expect((await o.send("/quizprompt"))[0]).toBe("📢 Bạn gửi thông báo với danh nghĩa cơ quan nào?");
    await o.press("Bộ đội Biên phòng");
    expect(o.buttons().some((label) => label.startsWith("Luật Biên phòng Việt Nam 2020"))).toBe(true);
    const picker = await o.press("bc:qt:border-guard-law");
    expect(picker.at(-1)).toContain("Chọn tối đa 5 câu");
    await o.press("bc:qq:t.0");
    const toggled = await o.press("bc:qq:t.1");
    expect(toggled[0]).toContain("đã chọn 2");
    expect(o.buttons()).toContain("✔️ Xong (2)");
    await o.press("bc:qq:done");
    expect((await o.send("Bỏ qua")).at(-1)).toContain("Nhận trả lời đến khi nào?");
    await o.press("24 giờ");
    await o.press("Tiếp tục");
    // The officer's own preview poll is anonymous: their answer never counts.
    const preview = h.fake.sent(o.id).filter((c) => c.method === "sendPoll").at(-1)!.result as Message;
    expect(preview.poll).toMatchObject({ type: "quiz", is_anonymous: true });
    expect(texts(o.id).at(-2)).toContain("đáp án đúng (✓)");
    expect(texts(o.id).at(-1)).toBe("Gửi câu đố cho 4 người?");
    await o.press("Gửi ngay");

    const bc = await lastBroadcast(o.id);
    expect(bc).toMatchObject({ state: "pending_approval", needsApproval: true, recipientCount: 4, quizQuestionIds: ["bp-001", "bp-002"] });
    expect(bc.quizClosesAt?.toISOString()).toBe("2026-12-20T01:00:00.000Z");
    expect(texts(o.id).at(-1)).toContain(`⏳ Câu đố #${bc.id} (4 người) cần được một người khác duyệt`);
    await eventually(() => texts(ADMIN).some((t) => t.includes(`#${bc.id}`) && t.includes("Câu đố") && t.includes("✓")), "approval request with the questions and answers");
    await new Promise((r) => setTimeout(r, 300));
    expect(polls(lan)).toEqual([]);
    await h.user(ADMIN).press("Duyệt");

    await eventually(() => [lan, minh, sua, kate].every((c) => polls(c).length === 1), "every recipient got the first poll");
    // Telegram's poll ids are recorded right after it accepted the polls.
    await eventually(async () => (await h.db.prisma.quizRound.count({ where: { broadcastId: bc.id, pollId: { not: null } } })) === 4, "poll ids recorded");
    const bank = await h.db.prisma.quizQuestion.findMany({ where: { id: { in: ["bp-001", "bp-002"] } }, orderBy: { id: "asc" } });
    const first = bank[0]!.question as { vi: string; en: string };
    const options = bank[0]!.options as { vi: string[]; en: string[] };
    const toLan = polls(lan)[0]!;
    expect(toLan).toMatchObject({ type: "quiz", is_anonymous: false });
    expect(toLan.question).toMatch(/^📢 Bộ đội Biên phòng · .+\n❓ Câu đố tìm hiểu pháp luật: bấm chọn đáp án bạn cho là đúng\.\n\n1\/2\. /);
    expect(toLan.question.endsWith(first.vi)).toBe(true);
    expect(toLan.options.map((x) => x.text).sort()).toEqual([...options.vi].sort());
    expect(toLan.options[right(toLan)]!.text).toBe(options.vi[bank[0]!.correct]);
    const toKate = polls(kate)[0]!;
    expect(toKate.question).toMatch(/^📢 Border Guard · .+\n❓ Law quiz: tap the answer you think is right\.\n\n1\/2\. /);
    expect(toKate.question.endsWith(first.en)).toBe(true);
    expect(toKate.options.map((x) => x.text).sort()).toEqual([...options.en].sort());
    for (const c of [lan, minh, sua, kate]) {
      const p = polls(c)[0]!;
      expect(p.question.length).toBeLessThanOrEqual(300);
      expect(p.options.length).toBeGreaterThanOrEqual(2);
      expect(p.options.length).toBeLessThanOrEqual(10);
      expect(p.options.every((x) => x.text.length <= 100)).toBe(true);
    }
    const sentPoll = h.fake.sent(lan).find((c) => c.method === "sendPoll")!;
    expect(JSON.stringify(sentPoll.payload.reply_markup)).toContain("Tắt thông báo từ Bộ đội Biên phòng");
    // One round per recipient, each holding the poll Telegram returned.
    const made = await h.db.prisma.quizRound.findMany({ where: { broadcastId: bc.id } });
    expect(made).toHaveLength(4);
    expect(made.find((r) => r.userId === BigInt(kate))).toMatchObject({ kind: "prompt", locale: "en", openPeriod: 0, pollId: toKate.id, state: "active" });

    // Lan answers both right in her chat (the second question follows her first answer), Minh the
    // first wrong, Kate the first right, Sua not at all.
    await h.handle(pollAnswer(h.user(lan).tg, toLan.id, [right(toLan)]));
    const secondToLan = polls(lan)[1]!;
    expect(secondToLan.question).toMatch(/^2\/2\. /);
    await h.handle(pollAnswer(h.user(lan).tg, secondToLan.id, [right(secondToLan)]));
    expect(h.fake.lastText(lan)).toMatch(/Kết thúc lượt: đúng 2\/2 câu/);
    const toMinh = polls(minh)[0]!;
    expect(await rounds.answer(toMinh.id, minh, [(right(toMinh) + 1) % toMinh.options.length])).toMatchObject({ status: "recorded", correct: false });
    expect(await rounds.answer(toKate.id, kate, [right(toKate)])).toMatchObject({ status: "recorded", correct: true });

    // The officer refreshes the figures on the message they watch.
    await eventually(async () => (await lastBroadcast(o.id)).state === "done", "prompt sent");
    await eventually(() => !h.fake.getMessage(o.id, bc.progressMessageId!)!.text!.startsWith("⏳"), "progress edited");
    const before = h.fake.calls.length;
    const refreshed = await o.press("📊 Kết quả");
    expect(refreshed).toContain("[answer] Đã cập nhật kết quả.");
    expect(h.fake.calls.slice(before).some((c) => c.method === "editMessageText" && c.payload.message_id === bc.progressMessageId)).toBe(true);
    const live = h.fake.getMessage(o.id, bc.progressMessageId!)!.text!;
    expect(live).toContain(`✅ Đã gửi xong câu đố #${bc.id}`);
    expect(live).toContain("Đã nhận câu hỏi: 4 người\nĐã trả lời: 3 người (75%)\nTrả lời đúng: 3/4 lượt (75%)");
    const lineOf = (name: RegExp) => live.split("\n").find((l) => l.startsWith("•") && name.test(l));
    expect(lineOf(new RegExp(a!.name))).toMatch(/: 2\/2 \(100%\) · đúng 67%$/);
    expect(lineOf(new RegExp(b!.name))).toMatch(/: 1\/2 \(50%\) · đúng 100%$/);
    expect(lineOf(/đồn biên phòng lũng cú/i)).toMatch(/: 2\/2 \(100%\) · đúng 67%$/);
    expect(lineOf(/Trường THCS Sủng Là/)).toMatch(/: 1\/1 \(100%\) · đúng 100%$/);
    expect(lineOf(/chưa ghi đơn vị/)).toMatch(/: 0\/1 \(0%\) · đúng –$/);
    expect(live).toContain("⏰ Nhận trả lời đến 08:00 ngày 20/12/2026");

    // At the close: answers stop counting, the rounds end, and the author gets the final figures.
    clock.set(new Date("2026-12-20T01:00:10Z"));
    // Lan's round ended with her second answer; the three others end now.
    expect(await rounds.sweep()).toBeGreaterThanOrEqual(3);
    expect(await h.db.prisma.quizRound.count({ where: { broadcastId: bc.id, state: "active" } })).toBe(0);
    expect((await rounds.answer(polls(sua)[0]!.id, sua, [0])).status).toBe("unknown");
    await h.deps.deliveries.promoteDue();
    await eventually(() => texts(o.id).some((t) => t.startsWith(`🏁 Câu đố #${bc.id} đã đóng`)), "summary at the close time");
    const summary = texts(o.id).find((t) => t.startsWith("🏁"))!;
    expect(summary).toContain("Đã trả lời: 3 người (75%)");
    expect(summary).toContain("⏰ Đã đóng lúc 08:00 ngày 20/12/2026");
    expect(summary.split("\n").find((l) => l.includes(b!.name))).toMatch(/1\/2 \(50%\) · đúng 100%$/);
  });

  it("above the threshold a commune prompt needs another officer too; its author cannot approve it, and stopping it cancels the summary", async () => {
    const { province, communes: [a] } = await freshPlace();
    for (let i = 0; i < 4; i++) await citizen(province, a!.code);
    const o = await officer({ province, commune: a!.code });
    await o.send("/quizprompt");
    await o.press("Công an");
    await o.press("bc:qt:sea");
    for (let i = 0; i < 5; i++) await o.press(`bc:qq:t.${i}`);
    expect(await o.press("bc:qq:t.5")).toContain("Chỉ chọn được tối đa 5 câu. Bỏ chọn một câu trước khi chọn câu khác.");
    await o.press("bc:qq:next");
    await o.press("bc:qq:done");
    expect((await o.send("Một câu dẫn quá dài ".repeat(10))).at(-1)).toBe("Câu dẫn quá dài. Vui lòng rút gọn.");
    await o.send("Thi tìm hiểu Luật Biển, mời bà con tham gia!");
    // A time typed the Vietnamese way; a past one, or one a year away, is refused.
    expect((await o.send("18/12/2026 8:00")).at(-1)).toMatch(/đã qua/);
    expect((await o.send("18/12 8:00")).at(-1)).toMatch(/không quá 30 ngày/);
    await o.send("20/12 20:00");
    await o.press("Tiếp tục");
    await o.press("Gửi ngay");
    const bc = await lastBroadcast(o.id);
    expect(bc).toMatchObject({ state: "pending_approval", recipientCount: 4, text: "Thi tìm hiểu Luật Biển, mời bà con tham gia!" });
    expect(bc.quizQuestionIds).toHaveLength(5);
    expect(bc.quizClosesAt?.toISOString()).toBe("2026-12-20T13:00:00.000Z");
    expect(await o.pressData(`bca:a.${bc.id}`)).toEqual(["[answer] Bạn không thể tự duyệt thông báo của mình: cần một cán bộ khác hoặc quản trị viên."]);
    expect((await engine.ledger.counts("quiz_prompt_summary", String(bc.id))).queued).toBe(1);

    await o.press("⛔ Dừng gửi");
    expect((await lastBroadcast(o.id)).state).toBe("cancelled");
    expect(await engine.ledger.counts("quiz_prompt_summary", String(bc.id))).toMatchObject({ queued: 0, cancelled: 1 });
  });

  it("refuses residents, forged buttons and officers outside the prompt's scope", async () => {
    const { province, communes: [a] } = await freshPlace();
    const resident = h.user(await citizen(province, a!.code));
    expect(await resident.send("/quizprompt")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    expect(await resident.pressData("bcq:r.1")).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    const author = await officer({ province, commune: a!.code });
    const bc = await h.db.prisma.broadcast.create({
      data: {
        authorId: BigInt(author.id), senderBody: "association", senderProvinceCode: province, senderCommuneCode: a!.code, audience: { provinceCode: province, communeCode: a!.code },
        text: "", state: "done", recipientCount: 0, quizQuestionIds: ["bp-001"], quizClosesAt: new Date("2026-12-25T00:00:00Z"),
      },
    });
    const { province: elsewhere } = await freshPlace();
    const outsider = await officer({ province: elsewhere });
    expect(await outsider.pressData(`bcq:n.${bc.id}`)).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(h.logged(40).some((l) => l.msg === "refused a quiz prompt's results to someone else")).toBe(true);
    expect(await outsider.pressData("bcq:x.1")).toEqual(["[answer] Nút không hợp lệ."]);
    // The author reads the (empty) figures from /broadcasts.
    const list = await author.send("/broadcasts");
    expect(list[0]).toContain(`❓ #${bc.id}`);
    const shown = await author.press(`📊 Kết quả #${bc.id}`);
    expect(shown.at(-1)).toContain("Chưa có ai nhận được câu hỏi.");
  });

  it("renders each recipient's first poll once: a retry reuses the round, a sent one is skipped, a closed prompt sends nothing", async () => {
    const { province, communes: [a] } = await freshPlace();
    const p = await citizen(province, a!.code);
    const author = await officer({ province, commune: a!.code });
    const bc = await h.db.prisma.broadcast.create({
      data: {
        authorId: BigInt(author.id), senderBody: "association", senderProvinceCode: province, senderCommuneCode: a!.code, audience: { provinceCode: province, communeCode: a!.code },
        text: "Câu hỏi tuần này", state: "sending", recipientCount: 1, quizQuestionIds: ["bgqg-001"], quizClosesAt: new Date(clock.now().getTime() + 3600_000),
      },
    });
    const kind = h.deps.deliveryKinds.get("broadcast")!;
    const env = { call: async () => ({}), now: clock.now };
    const row: ClaimedDelivery = { id: "77000001", kind: "broadcast", refId: String(bc.id), chatId: p, locale: null, attempts: 1 };
    const once = (await kind.render([row], env)).get(row.id)!;
    expect(once).toMatchObject({ method: "sendPoll", payload: { type: "quiz", is_anonymous: false } });
    expect(String((once as unknown as { payload: { question: string } }).payload.question)).toMatch(/\nCâu hỏi tuần này\n\n/);
    // Telegram never took it (a 5xx, a crash): the retry sends the same round's poll again.
    expect((await kind.render([{ ...row, attempts: 2 }], env)).get(row.id)).toMatchObject({ method: "sendPoll" });
    expect(await h.db.prisma.quizRound.count({ where: { broadcastId: bc.id } })).toBe(1);
    await kind.onSent!([{ row, result: { message_id: 4242, poll: { id: `poll-${p}` } } }], env);
    expect(await h.db.prisma.quizRound.findFirstOrThrow({ where: { broadcastId: bc.id } })).toMatchObject({ pollId: `poll-${p}`, pollMessageId: 4242 });
    expect((await kind.render([{ ...row, attempts: 3 }], env)).get(row.id)).toEqual({ skip: "quiz already sent" });
    expect(await h.db.prisma.quizRound.count({ where: { broadcastId: bc.id } })).toBe(1);
    await h.db.prisma.broadcast.update({ where: { id: bc.id }, data: { quizClosesAt: clock.now() } });
    await new Promise((r) => setTimeout(r, 1_100)); // the kind re-reads a broadcast at most once a second
    expect((await kind.render([{ ...row, id: "77000002" }], env)).get("77000002")).toEqual({ skip: "quiz closed" });
  });
});
