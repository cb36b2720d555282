import type { Message, Poll } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUIZ_LIMITS } from "../../src/domain/quizzes/question-bank.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { Harness, useHarness, type TestUser } from "../support/harness.js";
import { pollAnswer } from "../support/telegram/index.js";

// /quiz through the whole stack: native quiz polls from the fake Bot API, answers as poll_answer
// updates, time-outs by a moved clock and the delivery engine, a restart in the middle.
const clock = new ManualClock(Date.parse("2026-12-05T12:00:00.000Z"));
const h = useHarness({ now: clock.now });
let engine: TestEngine;
beforeAll(() => {
  engine = TestEngine.start({ db: h.db, fake: h.fake, now: clock.now, kinds: h.deps.deliveryKinds, queues: h.queues, prefix: h.queuePrefix });
});
afterAll(() => engine.stop());

let nextId = 9_610_000;
function person(language_code?: string): TestUser {
  const u = h.user(++nextId, language_code ? { language_code } : {});
  h.fake.registerChat(u.id);
  return u;
}

interface SentPoll { message: Message; poll: Poll; payload: Record<string, unknown> }
function polls(chat: number): SentPoll[] {
  return h.fake.sent(chat).filter((c) => c.method === "sendPoll").map((c) => ({ message: c.result as Message, poll: (c.result as Message).poll!, payload: c.payload }));
}
const lastPoll = (chat: number) => polls(chat).at(-1)!;
const rightOption = (p: SentPoll) => Number(p.payload.correct_option_id);
const wrongOption = (p: SentPoll) => (rightOption(p) + 1) % p.poll.options.length;
const answer = (u: TestUser, p: SentPoll, option: number) => u.sendUpdate(pollAnswer(u.tg, p.poll.id, [option]));

async function startRound(u: TestUser, topic: string): Promise<void> {
  await u.send("/quiz");
  await u.press(topic);
}

describe("/quiz", () => {
  it("asks ten native quiz polls one after another and ends with the score and what was missed, with sources", async () => {
    const u = person();
    const picker = await u.send("/quiz");
    expect(picker.join("\n")).toMatch(/Chọn chủ đề/);
    expect(u.buttons()).toContain("🎲 Tổng hợp các chủ đề");
    const chosen = await u.press("Luật Biên phòng");
    // The topic keyboard is gone; the choice stays readable.
    expect(chosen.join("\n")).toMatch(/✅ Chủ đề: .*Biên phòng/);
    expect(u.buttons()).toEqual([]);
    for (let i = 0; i < 10; i++) {
      const p = lastPoll(u.id);
      expect(polls(u.id)).toHaveLength(i + 1);
      expect(p.payload).toMatchObject({ type: "quiz", is_anonymous: false, open_period: 30 });
      expect(p.poll.question.startsWith(`${i + 1}/10. `)).toBe(true);
      expect(p.poll.question.length).toBeLessThanOrEqual(QUIZ_LIMITS.questionMax);
      expect(String(p.payload.explanation).length).toBeLessThanOrEqual(QUIZ_LIMITS.explanationMax);
      clock.advance(3_000);
      // Right on even questions, wrong on odd ones.
      await answer(u, p, i % 2 === 0 ? rightOption(p) : wrongOption(p));
    }
    const end = h.fake.lastText(u.id)!;
    expect(end).toMatch(/Kết thúc lượt: đúng 5\/10 câu/);
    expect(end).toMatch(/30 giây/);
    expect(end).toMatch(/Các câu chưa đúng/);
    expect(end.match(/📖/g)).toHaveLength(5);
    expect(end).toMatch(/Luật Biên phòng Việt Nam/);
    const round = await h.db.prisma.quizRound.findFirstOrThrow({ where: { userId: BigInt(u.id) } });
    expect(round).toMatchObject({ state: "finished", score: 5, current: 10, topic: "border-guard-law" });
    expect(await h.db.prisma.quizAnswer.count({ where: { roundId: round.id } })).toBe(10);
  });

  it("asks in English for an English speaker and shuffles options per person without moving the right answer", async () => {
    const a = person("en");
    const b = person("en");
    await startRound(a, "Law of the Sea");
    await startRound(b, "Law of the Sea");
    const pa = lastPoll(a.id);
    expect(pa.poll.question).toMatch(/^1\/10\. [A-Z]/);
    // Each person's poll marks the same text as right, whatever position it landed in.
    const rounds = await h.db.prisma.quizRound.findMany({ where: { userId: { in: [BigInt(a.id), BigInt(b.id)] } } });
    const questions = await h.db.prisma.quizQuestion.findMany({ where: { id: { in: rounds.map((r) => r.questionIds[0]!) } } });
    for (const [u, r] of [[a, rounds.find((x) => x.userId === BigInt(a.id))!], [b, rounds.find((x) => x.userId === BigInt(b.id))!]] as const) {
      const q = questions.find((x) => x.id === r.questionIds[0])!;
      const p = lastPoll(u.id);
      expect(p.poll.options[rightOption(p)]!.text).toBe((q.options as { en: string[] }).en[q.correct]);
    }
  });

  it("counts nothing twice: an old poll, a second answer and a forged poll id each get a clear answer", async () => {
    const u = person();
    await startRound(u, "Tổng hợp");
    const first = lastPoll(u.id);
    await answer(u, first, rightOption(first));
    const again = await answer(u, first, wrongOption(first));
    expect(again.join("\n")).toMatch(/đã đóng nên câu trả lời không được tính/);
    const forged = await u.sendUpdate(pollAnswer(u.tg, "999999", [0]));
    expect(forged.join("\n")).toMatch(/đã đóng/);
    const round = await h.db.prisma.quizRound.findFirstOrThrow({ where: { userId: BigInt(u.id) } });
    expect(round).toMatchObject({ score: 1, current: 1 });
    expect(await h.db.prisma.quizAnswer.count({ where: { roundId: round.id } })).toBe(1);
    // An answer after the timer does not count either.
    const second = lastPoll(u.id);
    clock.advance(45_000);
    expect((await answer(u, second, rightOption(second))).join("\n")).toMatch(/hết giờ/);
    expect((await h.db.prisma.quizRound.findUniqueOrThrow({ where: { id: round.id } })).score).toBe(1);
  });

  it("moves on when the time runs out, through the delivery engine, and answers typed text with a hint", async () => {
    const u = person();
    await startRound(u, "Tổng hợp");
    const hint = await u.send("đáp án B");
    expect(hint.join("\n")).toMatch(/chọn một phương án ngay trong câu hỏi ở trên \(câu 1\/10\)/);
    clock.advance(31_000);
    await h.deps.services.quizRounds.sweep();
    await eventually(async () => polls(u.id).length === 2, "second poll sent by the engine");
    const second = lastPoll(u.id);
    expect(second.poll.question.startsWith("2/10. ")).toBe(true);
    // Its poll id was recorded when Telegram accepted it: the answer counts and the third follows.
    await eventually(async () => (await h.db.prisma.quizRound.findFirstOrThrow({ where: { userId: BigInt(u.id) } })).pollId === second.poll.id, "poll recorded");
    await answer(u, second, rightOption(second));
    expect(lastPoll(u.id).poll.question.startsWith("3/10. ")).toBe(true);
    const answers = await h.db.prisma.quizAnswer.findMany({ where: { userId: BigInt(u.id) }, orderBy: { idx: "asc" } });
    expect(answers.map((a) => [a.idx, a.chosen === null, a.correct])).toEqual([[0, true, false], [1, false, true]]);
  });

  it("offers to continue or stop a round when /quiz is sent during it, and stopping gives the partial score", async () => {
    const u = person();
    await startRound(u, "Tổng hợp");
    const p = lastPoll(u.id);
    await answer(u, p, rightOption(p));
    const during = await u.send("/quiz");
    expect(during.join("\n")).toMatch(/đang làm dở một lượt \(câu 2\/10, đúng 1\)/);
    const stopped = await u.press("Dừng lượt");
    expect(stopped.join("\n")).toMatch(/Đã dừng lượt/);
    expect(stopped.join("\n")).toMatch(/đúng 1\/10/);
    expect((await h.db.prisma.quizRound.findFirstOrThrow({ where: { userId: BigInt(u.id) } })).state).toBe("abandoned");
    // The old topic keyboard is stale now; its buttons start a fresh round.
    expect((await u.send("/quiz")).join("\n")).toMatch(/Chọn chủ đề/);
  });

  it("resumes a round after a restart: the poll on screen still counts and the next one follows", async () => {
    const u = person();
    await startRound(u, "Tổng hợp");
    const p = lastPoll(u.id);
    const restarted = await Harness.create({ db: h.db, fake: h.fake, redisPrefix: h.redisPrefix, now: clock.now });
    try {
      const again = restarted.user(u.id);
      await again.sendUpdate(pollAnswer(u.tg, p.poll.id, [rightOption(p)]));
      expect(lastPoll(u.id).poll.question.startsWith("2/10. ")).toBe(true);
      expect((await h.db.prisma.quizRound.findFirstOrThrow({ where: { userId: BigInt(u.id) } })).score).toBe(1);
    } finally {
      await restarted.close();
    }
  });

  it("brings a missed question back first in the next round", async () => {
    const u = person();
    await startRound(u, "Luật Biên giới quốc gia");
    const first = lastPoll(u.id);
    await answer(u, first, wrongOption(first));
    const missedQuestion = first.poll.question.replace(/^1\/10\. /, "");
    await u.send("/quiz");
    await u.press("Dừng lượt");
    clock.advance(60_000);
    await startRound(u, "Luật Biên giới quốc gia");
    expect(lastPoll(u.id).poll.question).toBe(`1/10. ${missedQuestion}`);
  });
});

describe("/myquiz and the daily question", () => {
  it("shows rounds, best score and accuracy by topic, and sets the daily question's time", async () => {
    const u = person();
    await startRound(u, "Luật Biên phòng");
    for (let i = 0; i < 10; i++) {
      const p = lastPoll(u.id);
      await answer(u, p, i < 7 ? rightOption(p) : wrongOption(p));
    }
    const view = (await u.send("/myquiz")).join("\n");
    expect(view).toMatch(/Lượt đã làm: 1 · Điểm cao nhất: 7\/10/);
    expect(view).toMatch(/Luật Biên phòng.*: 70% \(7\/10\)/);
    expect(view).toMatch(/Câu cần ôn lại: 3/);
    expect(view).toMatch(/Câu hỏi mỗi ngày: tắt/);
    // The learning card shows the quiz activity too.
    await h.db.prisma.user.create({ data: { id: BigInt(u.id) } });
    await h.db.prisma.learningCitizen.create({ data: { userId: BigInt(u.id), registrationNumber: `Q-${u.id}`, fullName: "Vàng A Dế", birthYear: 1995, provinceCode: "11", communeCode: (await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: "11" } })).code, affiliation: "resident", goals: [], registeredAt: clock.now() } });
    expect((await u.send("/me")).join("\n")).toMatch(/Vàng A Dế[\s\S]*\n🧠 Tìm hiểu pháp luật: 1 lượt, đúng 70%$/);
    await u.press("Nhận câu hỏi mỗi ngày");
    const set = (await u.press("20:00")).join("\n");
    expect(set).toMatch(/lúc 20:00/);
    expect((await h.db.prisma.quizProfile.findUniqueOrThrow({ where: { userId: BigInt(u.id) } })).dailyMinute).toBe(20 * 60);
  });

  it("sends the daily question at the chosen time through the engine, counts the streak, and stops when muted", async () => {
    const u = person();
    await h.db.prisma.user.create({ data: { id: BigInt(u.id) } });
    await h.deps.services.quizDaily.setTime(u.id, 19 * 60 + 30);
    // 19:29 in Vietnam: not yet.
    clock.set(new Date("2026-12-06T12:29:00.000Z"));
    await h.deps.services.quizDaily.tick();
    expect(polls(u.id)).toHaveLength(0);
    clock.set(new Date("2026-12-06T12:30:00.000Z"));
    await h.deps.services.quizDaily.tick();
    await h.deps.services.quizDaily.tick();
    await eventually(async () => polls(u.id).length === 1, "daily poll sent");
    const p = lastPoll(u.id);
    expect(p.poll.question).toMatch(/^📅 /);
    expect(p.payload).not.toHaveProperty("open_period");
    await eventually(async () => (await h.db.prisma.quizRound.findFirstOrThrow({ where: { userId: BigInt(u.id), kind: "daily" } })).pollId === p.poll.id, "poll recorded");
    const reply = (await answer(u, p, rightOption(p))).join("\n");
    expect(reply).toMatch(/Chính xác/);
    expect(reply).toMatch(/Chuỗi ngày trả lời: 1/);
    // The next day, a wrong answer still extends the streak (it counts days answered).
    clock.set(new Date("2026-12-07T12:31:00.000Z"));
    await h.deps.services.quizDaily.tick();
    await eventually(async () => polls(u.id).length === 2, "second daily poll");
    const p2 = lastPoll(u.id);
    await eventually(async () => (await h.db.prisma.quizRound.count({ where: { pollId: p2.poll.id } })) === 1, "poll recorded");
    const reply2 = (await answer(u, p2, wrongOption(p2))).join("\n");
    expect(reply2).toMatch(/Chưa đúng. Đáp án:/);
    expect(reply2).toMatch(/Chuỗi ngày trả lời: 2 \(kỷ lục 2\)/);
    // Muted with the button under the poll: no question the day after.
    await u.pressData(String((p2.message.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard[0]![0]!.callback_data), p2.message);
    clock.set(new Date("2026-12-08T12:31:00.000Z"));
    expect(await h.deps.services.quizDaily.tick()).toBe(0);
    expect(polls(u.id)).toHaveLength(2);
  });
});

describe("a quiz round in a unit's group", () => {
  const GROUP = -100_961_001;
  function groupCommand(from: TestUser, text: string, id: number) {
    const name = text.split(" ")[0]!;
    return { message: { message_id: id, date: Math.floor(clock.now().getTime() / 1000), text, chat: { id: GROUP, type: "supergroup" as const, title: "Đồn Biên phòng Sìn Hồ" }, from: from.tg, entities: [{ type: "bot_command" as const, offset: 0, length: name.length }] } };
  }

  it("is started by an officer only, moves on every 30 s within the group limit, and ends with a leaderboard", async () => {
    h.fake.registerChat(GROUP, { type: "supergroup", title: "Đồn Biên phòng Sìn Hồ" } as never);
    const officer = person();
    await h.db.prisma.user.create({ data: { id: BigInt(officer.id), role: "officer", scopeProvinceCode: "11" } });
    const an = person();
    const binh = person();
    await h.db.prisma.user.create({ data: { id: BigInt(binh.id) } });
    await h.db.prisma.learningCitizen.create({ data: { userId: BigInt(binh.id), registrationNumber: `Q-${binh.id}`, fullName: "Lò Văn Bình", birthYear: 1990, provinceCode: "11", communeCode: (await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: "11" } })).code, affiliation: "border_guard", goals: [], registeredAt: clock.now() } });
    await h.db.prisma.quizProfile.create({ data: { userId: BigInt(binh.id), showName: true } });

    await h.handle(groupCommand(an, "/quiz", 1) as never);
    expect(h.fake.lastText(GROUP)).toMatch(/Chỉ cán bộ/);
    await h.handle(groupCommand(officer, "/quiz", 2) as never);
    const groupPolls = () => h.fake.sent(GROUP).filter((c) => c.method === "sendPoll").map((c) => c.result as Message);
    expect(groupPolls()).toHaveLength(1);
    // /quiz again while it runs: told, not restarted.
    await h.handle(groupCommand(officer, "/quiz", 3) as never);
    expect(h.fake.lastText(GROUP)).toMatch(/Nhóm đang có một lượt câu hỏi \(câu 1\/10\)/);
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      const m = groupPolls()[i]!;
      const payload = h.fake.sent(GROUP).find((c) => (c.result as Message).message_id === m.message_id)!.payload;
      const right = Number(payload.correct_option_id);
      clock.advance(5_000);
      // Bình is right every time, An on the first half; Bình answers twice, counted once.
      await h.handle(pollAnswer(binh.tg, m.poll!.id, [right]));
      await h.handle(pollAnswer(binh.tg, m.poll!.id, [(right + 1) % m.poll!.options.length]));
      await h.handle(pollAnswer(an.tg, m.poll!.id, [i < 5 ? right : (right + 1) % m.poll!.options.length]));
      // Nobody in a group is messaged privately for answering.
      expect(h.fake.sent(an.id)).toHaveLength(0);
      clock.advance(26_000);
      await h.deps.services.quizRounds.sweep();
      if (i < 9) {
        await eventually(async () => groupPolls().length === i + 2, `group poll ${i + 2}`);
        await eventually(async () => (await h.db.prisma.quizRound.count({ where: { pollId: groupPolls()[i + 1]!.poll!.id } })) === 1, "poll recorded");
      }
    }
    await eventually(async () => /Kết quả lượt 10 câu hỏi/.test(h.fake.lastText(GROUP) ?? ""), "leaderboard");
    const board = h.fake.lastText(GROUP)!;
    expect(board.split("\n").slice(1)).toEqual([
      expect.stringMatching(/^🥇 Lò Văn Bình: 10\/10 · 50 giây$/),
      expect.stringMatching(/^🥈 Thành viên nhóm: 5\/10 · 50 giây$/),
    ]);
    // 13 messages in the group, never more than 20 in a minute, and Telegram never said 429.
    expect(h.fake.calls.filter((c) => Number(c.payload.chat_id) === GROUP && !c.ok)).toEqual([]);
    expect(h.fake.sent(GROUP).length).toBeLessThanOrEqual(20 + Math.floor((Date.now() - started) / 60_000) * 20);
  });
});
