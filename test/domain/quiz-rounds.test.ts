import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import type { DeliveryCounts, DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { pollMessage, QUIZ_END, QUIZ_POLL, QuizRounds, shuffle } from "../../src/domain/quizzes/quiz-rounds.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";

let db: Database;
const clock = new ManualClock(Date.parse("2026-12-01T13:00:00.000Z"));

/** The scheduler side of the engine, over the real ledger; what the sweep hands on is read back from it. */
function ledgerScheduler(ledger: Ledger): DeliveryScheduler {
  return {
    release: async () => {},
    schedule: (kind, ref, chats, due) => ledger.insert(kind, ref, chats, due),
    reschedule: (kind, ref, due) => ledger.reschedule(kind, ref, due),
    cancel: (kind, ref, reason) => ledger.cancel(kind, ref, reason ?? "cancelled"),
    counts: (kind, ref): Promise<DeliveryCounts> => ledger.counts(kind, ref),
  };
}

let rounds: QuizRounds;
beforeAll(async () => {
  db = await openTestDatabase();
  rounds = new QuizRounds({ prisma: db.prisma, deliveries: ledgerScheduler(new Ledger(db.prisma)), now: clock.now });
});
afterAll(() => db.close());

async function sent(roundId: bigint, idx: number, pollId: string) {
  const round = (await rounds.get(roundId))!;
  const poll = (await rounds.currentPoll(round))!;
  expect(await rounds.markSent(roundId, idx, pollId, 100 + idx, poll.perm, clock.now())).toBe(true);
  return poll;
}

describe("quiz rounds", () => {
  it("shuffles options per poll while the right answer stays right", async () => {
    const q = (await rounds.questionsById(["bgqg-001"])).get("bgqg-001")!;
    expect(q).toBeDefined();
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const poll = pollMessage(q, 2, 10, "en", 30);
      const options = (poll.payload.options as Array<{ text: string }>).map((o) => o.text);
      expect(options[poll.payload.correct_option_id as number]).toBe(q.options.en[q.correct]);
      expect([...options].sort()).toEqual([...q.options.en].sort());
      expect(poll.payload).toMatchObject({ type: "quiz", is_anonymous: false, open_period: 30 });
      expect(String(poll.payload.question)).toMatch(/^3\/10\. /);
      seen.add(poll.payload.correct_option_id as number);
    }
    expect(seen.size).toBeGreaterThan(1);
    expect(shuffle(5).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("scores an answer once, moves to the next question, and ignores old, late and second answers", async () => {
    const ids = await rounds.pick(9101, "sea", null, 3);
    expect(ids).toHaveLength(3);
    const round = await rounds.start({ kind: "solo", userId: 9101, chatId: 9101, topic: "sea", locale: "vi", questionIds: ids });
    const poll = await sent(round.id, 0, "p-9101-0");
    const q0 = (await rounds.questionsById([ids[0]!])).get(ids[0]!)!;
    const right = poll.perm.indexOf(q0.correct);
    clock.advance(4_000);
    const first = await rounds.answer("p-9101-0", 9101, [right]);
    expect(first).toMatchObject({ status: "recorded", correct: true, idx: 0 });
    expect(first.status === "recorded" && first.round.current).toBe(1);
    // The same poll again (a second answer, a redelivered update): nothing counts twice.
    expect(await rounds.answer("p-9101-0", 9101, [right])).toEqual({ status: "unknown" });
    expect(await rounds.answer("forged", 9101, [0])).toEqual({ status: "unknown" });
    const poll1 = await sent(round.id, 1, "p-9101-1");
    // After the timer (30 s) plus the grace: late, not counted.
    clock.advance(40_000);
    expect((await rounds.answer("p-9101-1", 9101, [0])).status).toBe("late");
    expect(await db.prisma.quizAnswer.count({ where: { roundId: round.id } })).toBe(1);
    expect((await rounds.get(round.id))!.score).toBe(1);
    expect(poll1.perm).toHaveLength(((await rounds.questionsById([ids[1]!])).get(ids[1]!)!).options.vi.length);
    const answer = await db.prisma.quizAnswer.findFirstOrThrow({ where: { roundId: round.id } });
    expect(answer).toMatchObject({ userId: 9101n, questionId: ids[0], chosen: q0.correct, correct: true, ms: 4000 });
  });

  it("times out an unanswered poll, counts it missed and hands the next poll and the end to the engine", async () => {
    const ids = await rounds.pick(9102, "mixed", null, 2);
    const round = await rounds.start({ kind: "solo", userId: 9102, chatId: 9102, topic: "mixed", locale: "en", questionIds: ids });
    await sent(round.id, 0, "p-9102-0");
    clock.advance(29_000);
    await rounds.sweep();
    expect((await rounds.get(round.id))!.current).toBe(0);
    clock.advance(2_000);
    await rounds.sweep();
    const after = (await rounds.get(round.id))!;
    expect(after).toMatchObject({ current: 1, pollId: null, state: "active" });
    expect(await db.prisma.delivery.count({ where: { kind: QUIZ_POLL, refId: `${round.id}.1`, chatId: 9102n } })).toBe(1);
    expect(await db.prisma.quizAnswer.findFirst({ where: { roundId: round.id, idx: 0 } })).toMatchObject({ chosen: null, correct: false });
    // The engine sent question 2; nobody answers it either: the round ends and its summary is due.
    await sent(round.id, 1, "p-9102-1");
    clock.advance(31_000);
    await rounds.sweep();
    expect((await rounds.get(round.id))!.state).toBe("finished");
    expect(await db.prisma.delivery.count({ where: { kind: QUIZ_END, refId: String(round.id) } })).toBe(1);
    const summary = (await rounds.summary(round.id))!;
    expect(summary).toMatchObject({ score: 0, total: 2 });
    expect(summary.missed.map((m) => m.question.id)).toEqual(ids);
    // A second sweep (another process, or after a crash) changes nothing.
    await rounds.sweep();
    expect(await db.prisma.quizAnswer.count({ where: { roundId: round.id } })).toBe(2);
  });

  it("brings missed questions back first in the next round (Leitner boxes)", async () => {
    const first = await rounds.pick(9103, "border-guard-law", null, 4);
    const round = await rounds.start({ kind: "solo", userId: 9103, chatId: 9103, topic: "border-guard-law", locale: "vi", questionIds: first });
    const questions = await rounds.questionsById(first);
    for (let idx = 0; idx < 4; idx++) {
      const poll = await sent(round.id, idx, `p-9103-${idx}`);
      const q = questions.get(first[idx]!)!;
      // Right on 0 and 2, wrong on 1 and 3.
      const pos = idx % 2 === 0 ? poll.perm.indexOf(q.correct) : poll.perm.findIndex((o) => o !== q.correct);
      expect((await rounds.answer(`p-9103-${idx}`, 9103, [pos])).status).toBe("recorded");
    }
    expect((await rounds.get(round.id))!).toMatchObject({ state: "finished", score: 2 });
    clock.advance(60_000);
    const next = await rounds.pick(9103, "border-guard-law", null, 4);
    expect(next.slice(0, 2).sort()).toEqual([first[1], first[3]].sort());
    expect(next.slice(2)).not.toContain(first[0]);
    expect(next.slice(2)).not.toContain(first[2]);
    const boxes = await db.prisma.quizBox.findMany({ where: { userId: 9103n }, orderBy: { box: "asc" } });
    expect(boxes.map((b) => b.box)).toEqual([1, 1, 2, 2]);
  });
});
