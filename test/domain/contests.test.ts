import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import type { DeliveryCounts, DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { contestCsv, contestXlsx, displayName } from "../../src/domain/quizzes/contest-format.js";
import { contestDataParts } from "../../src/domain/quizzes/contest-personal-data.js";
import { ContestService, numberAnswer, vnWeekStart, type ContestInput } from "../../src/domain/quizzes/contests.js";
import { QuizRounds } from "../../src/domain/quizzes/quiz-rounds.js";
import { UserService } from "../../src/domain/users/user-service.js";
import { createI18n } from "../../src/i18n.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";

// Sunday 6 December 2026, 20:00 in Vietnam (13:00 UTC); Monday 00:00 there is 17:00 UTC.
const SUNDAY_EVENING = new Date("2026-12-06T13:00:00.000Z");
const MONDAY_MIDNIGHT_VN = new Date("2026-12-06T17:00:00.000Z");
const ADMIN = "9700001";

const clock = new ManualClock(SUNDAY_EVENING.getTime());
let db: Database;
let contests: ContestService;
let rounds: QuizRounds;
let questionIds: string[];

function ledgerScheduler(ledger: Ledger): DeliveryScheduler {
  return {
    release: async () => {},
    schedule: (kind, ref, chats, due) => ledger.insert(kind, ref, chats, due),
    reschedule: (kind, ref, due) => ledger.reschedule(kind, ref, due),
    cancel: (kind, ref, reason) => ledger.cancel(kind, ref, reason ?? "cancelled"),
    counts: (kind, ref): Promise<DeliveryCounts> => ledger.counts(kind, ref),
  };
}

beforeAll(async () => {
  db = await openTestDatabase();
  rounds = new QuizRounds({ prisma: db.prisma, deliveries: ledgerScheduler(new Ledger(db.prisma)), now: clock.now });
  contests = new ContestService({ prisma: db.prisma, rounds, users: new UserService(db.prisma, new Set([ADMIN])), now: clock.now });
  questionIds = (await db.prisma.quizQuestion.findMany({ where: { topic: "sea", retiredAt: null }, orderBy: { id: "asc" }, take: 5 })).map((q) => q.id);
});
afterAll(() => db.close());

let nextId = 9_700_100;

async function place(): Promise<{ provinceCode: string; communeCode: string; otherCommune: string; otherProvince: string }> {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" }, take: 2 });
  const communes = await db.prisma.commune.findMany({ where: { provinceCode: provinces[0]!.code }, orderBy: { code: "asc" }, take: 2 });
  return { provinceCode: provinces[0]!.code, communeCode: communes[0]!.code, otherCommune: communes[1]!.code, otherProvince: provinces[1]!.code };
}

async function officer(provinceCode: string, communeCode?: string): Promise<string> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: provinceCode, scopeCommuneCode: communeCode ?? null } });
  return String(id);
}

async function citizen(provinceCode: string, communeCode: string, fullName = `Nguyễn Văn ${nextId + 1}`, showName = false): Promise<number> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id) } });
  await db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `CT-${id}`, fullName, birthYear: 1990, provinceCode, communeCode, affiliation: "resident", goals: ["law"], registeredAt: clock.now() },
  });
  if (showName) await db.prisma.quizProfile.create({ data: { userId: BigInt(id), showName: true } });
  return id;
}

function input(over: Partial<ContestInput> = {}): ContestInput {
  const now = clock.now().getTime();
  return {
    title: "Tìm hiểu Luật Biển",
    questionIds,
    opensAt: new Date(now - 3600_000).toISOString(),
    closesAt: new Date(now + 30 * 24 * 3600_000).toISOString(),
    attemptsPerWeek: 2,
    openPeriod: 30,
    tiebreakQuestion: { vi: "Bao nhiêu người dự thi?", en: "How many people will take part?" },
    tiebreakAnswer: 1250,
    ...over,
  };
}

async function created(actor: string, over: Partial<ContestInput> = {}) {
  const r = await contests.create(actor, input(over));
  if (!r.ok) throw new Error(`contest not created: ${JSON.stringify(r)}`);
  return r.contest;
}

/** A finished attempt as the round engine leaves it. */
async function attempt(contestId: number, userId: number, score: number, elapsedMs: number, guess: number | null, finishedAt: Date, state: "finished" | "abandoned" | "active" = "finished") {
  return db.prisma.quizRound.create({
    data: {
      kind: "contest", contestId, userId: BigInt(userId), chatId: BigInt(userId), topic: "contest", locale: "vi", questionIds, current: questionIds.length,
      score, elapsedMs, tiebreakGuess: guess, state, startedAt: new Date(finishedAt.getTime() - elapsedMs - 1000), finishedAt: state === "active" ? null : finishedAt,
    },
  });
}

describe("creating a contest", () => {
  it("refuses residents and an officer's nationwide contest, and names every invalid field", async () => {
    const { provinceCode } = await place();
    const resident = await citizen(provinceCode, (await place()).communeCode);
    expect(await contests.create(String(resident), input())).toEqual({ ok: false, reason: "forbidden" });
    const o = await officer(provinceCode);
    expect(await contests.create(o, input({ nationwide: true }))).toEqual({ ok: false, reason: "forbidden" });

    const keysOf = async (over: Partial<ContestInput>) => {
      const r = await contests.create(o, input(over));
      return r.ok ? [] : r.reason === "invalid" ? r.errors.map((e) => e.key) : [r.reason];
    };
    expect(await keysOf({ title: "ab" })).toEqual(["contest:errors.title_length"]);
    expect(await keysOf({ questionIds: questionIds.slice(0, 4) })).toEqual(["contest:errors.question_count"]);
    expect(await keysOf({ questionIds: [...questionIds.slice(0, 4), questionIds[0]!] })).toEqual(["contest:errors.question_repeated"]);
    expect(await keysOf({ attemptsPerWeek: 0 })).toEqual(["contest:errors.attempts"]);
    expect(await keysOf({ attemptsPerWeek: 21 })).toEqual(["contest:errors.attempts"]);
    expect(await keysOf({ openPeriod: 5 })).toEqual(["contest:errors.open_period"]);
    expect(await keysOf({ openPeriod: 121 })).toEqual(["contest:errors.open_period"]);
    expect(await keysOf({ tiebreakQuestion: { vi: "?", en: "How many?" } })).toEqual(["contest:errors.tiebreak_length"]);
    expect(await keysOf({ tiebreakAnswer: Number.POSITIVE_INFINITY })).toEqual(["contest:errors.tiebreak_answer"]);
    const t = clock.now().getTime();
    expect(await keysOf({ opensAt: new Date(t + 7200_000).toISOString(), closesAt: new Date(t + 3600_000).toISOString() })).toEqual(["contest:errors.close_before_open"]);
    expect(await keysOf({ opensAt: new Date(t - 7200_000).toISOString(), closesAt: new Date(t - 3600_000).toISOString() })).toEqual(["contest:errors.closes_past"]);
    // Unknown, retired and other provinces' imported questions are refused, each named.
    const retired = (await db.prisma.quizQuestion.findFirstOrThrow({ where: { topic: "border-areas" }, orderBy: { id: "desc" } })).id;
    await db.prisma.quizQuestion.update({ where: { id: retired }, data: { retiredAt: clock.now() } });
    const r = await contests.create(o, input({ questionIds: [...questionIds.slice(0, 4), "nope-404", retired] }));
    expect(r).toMatchObject({ ok: false, reason: "invalid", errors: [{ key: "contest:errors.questions_unusable", params: { count: 2, ids: `nope-404, ${retired}` } }] });
    expect(await db.prisma.quizContest.count({ where: { authorId: BigInt(o) } })).toBe(0);
  });

  it("keeps the officer's scope, and lets an admin go nationwide", async () => {
    const { provinceCode, communeCode } = await place();
    const o = await officer(provinceCode, communeCode);
    const c = await created(o);
    expect(c).toMatchObject({ provinceCode, communeCode, attemptsPerWeek: 2, openPeriod: 30, tiebreakAnswer: 1250, questionIds });
    const nation = await contests.create(ADMIN, input({ nationwide: true }));
    expect(nation).toMatchObject({ ok: true, contest: { provinceCode: null, communeCode: null } });
  });

  it("exports an officer's contests with /mydata and keeps them without the author after /deleteme", async () => {
    const { provinceCode } = await place();
    const o = await officer(provinceCode);
    const c = await created(o);
    const [part] = contestDataParts(db.prisma);
    expect(await part!.exists(o)).toBe(true);
    expect(await part!.export(o)).toEqual([expect.objectContaining({ id: c.id, title: "Tìm hiểu Luật Biển", provinceCode })]);
    expect(await part!.erase(o)).toBe(true);
    expect(await part!.exists(o)).toBe(false);
    expect(await db.prisma.quizContest.findUniqueOrThrow({ where: { id: c.id } })).toMatchObject({ authorId: null, title: "Tìm hiểu Luật Biển" });
  });

  it("reads numbers typed the local ways, and refuses the rest with a reason", () => {
    for (const [typed, value] of [["1250", 1250], [" 12,5 ", 12.5], ["12.5", 12.5], ["1 250", 1250], ["1.449.566", 1449566], ["-3", -3]] as const) {
      expect(numberAnswer.parse(typed)).toBe(value);
    }
    for (const typed of ["mười", "12a", "1,2,3", "", "1e5"]) {
      expect(numberAnswer.safeParse(typed).error?.issues[0]?.message).toBe("contest:tiebreak.not_number");
    }
    expect(numberAnswer.safeParse("9".repeat(14)).error?.issues[0]?.message).toBe("contest:tiebreak.too_large");
  });
});

describe("attempts", () => {
  it("are capped per week, and the cap resets on Monday 00:00 in Vietnam", async () => {
    clock.set(SUNDAY_EVENING);
    const { provinceCode, communeCode } = await place();
    const c = await created(await officer(provinceCode));
    const u = await citizen(provinceCode, communeCode);
    for (let i = 0; i < 2; i++) {
      const r = await contests.startAttempt(u, u, c.id, "vi");
      if (!r.ok) throw new Error(`refused: ${r.reason}`);
      expect(r.round).toMatchObject({ kind: "contest", contestId: c.id, questionIds, openPeriod: 30 });
      // A stopped attempt still counts: stopping is not a free retry.
      await rounds.abandon(r.round.id);
    }
    expect(await contests.attemptsThisWeek(u, c.id)).toBe(2);
    expect(await contests.startAttempt(u, u, c.id, "vi")).toEqual({ ok: false, reason: "cap", used: 2, cap: 2, nextWeek: MONDAY_MIDNIGHT_VN });
    clock.set(new Date(MONDAY_MIDNIGHT_VN.getTime() - 1));
    expect(await contests.startAttempt(u, u, c.id, "vi")).toMatchObject({ ok: false, reason: "cap" });
    clock.set(MONDAY_MIDNIGHT_VN);
    expect(await contests.attemptsThisWeek(u, c.id)).toBe(0);
    const monday = await contests.startAttempt(u, u, c.id, "vi");
    expect(monday.ok).toBe(true);
    // One round at a time in a chat.
    expect(await contests.startAttempt(u, u, c.id, "vi")).toMatchObject({ ok: false, reason: "busy" });
    expect(vnWeekStart(new Date("2026-12-09T10:00:00.000Z"))).toEqual(MONDAY_MIDNIGHT_VN);
    expect(vnWeekStart(MONDAY_MIDNIGHT_VN)).toEqual(MONDAY_MIDNIGHT_VN);
    expect(vnWeekStart(new Date(MONDAY_MIDNIGHT_VN.getTime() - 1))).toEqual(new Date("2026-11-29T17:00:00.000Z"));
    clock.set(SUNDAY_EVENING);
  });

  it("are refused before the opening, after the closing and outside the contest's place", async () => {
    const { provinceCode, communeCode, otherCommune, otherProvince } = await place();
    const o = await officer(provinceCode, communeCode);
    const t = clock.now().getTime();
    const later = await created(o, { opensAt: new Date(t + 3600_000).toISOString(), closesAt: new Date(t + 7200_000).toISOString() });
    const here = await citizen(provinceCode, communeCode);
    expect(await contests.startAttempt(here, here, later.id, "vi")).toEqual({ ok: false, reason: "not_yet", opensAt: later.opensAt });
    const open = await created(o, { closesAt: new Date(t + 60_000).toISOString() });
    const elsewhere = await citizen(provinceCode, otherCommune);
    const unregistered = ++nextId;
    expect(await contests.startAttempt(elsewhere, elsewhere, open.id, "vi")).toEqual({ ok: false, reason: "not_found" });
    expect(await contests.startAttempt(unregistered, unregistered, open.id, "vi")).toEqual({ ok: false, reason: "not_found" });
    expect((await contests.listOpenFor(here)).map((c) => c.id)).toContain(open.id);
    expect((await contests.listOpenFor(here)).map((c) => c.id)).not.toContain(later.id);
    expect((await contests.listOpenFor(elsewhere)).map((c) => c.id)).not.toContain(open.id);
    const nation = await created(ADMIN, { nationwide: true });
    const far = await citizen(otherProvince, (await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: otherProvince } })).code);
    expect((await contests.listOpenFor(far)).map((c) => c.id)).toContain(nation.id);
    expect((await contests.listOpenFor(unregistered)).map((c) => c.id)).toContain(nation.id);
    clock.advance(60_000);
    expect(await contests.startAttempt(here, here, open.id, "vi")).toEqual({ ok: false, reason: "closed" });
    clock.set(SUNDAY_EVENING);
  });
});

describe("ranking", () => {
  it("orders by score, then time, then the tie-break's distance, then who finished first", async () => {
    const { provinceCode, communeCode } = await place();
    const c = await created(await officer(provinceCode));
    const t0 = clock.now().getTime();
    const at = (s: number) => new Date(t0 + s * 1000);
    const [slowTop, fastTop, closeGuess, farGuess, noGuess, laterSame, earlierSame] = await Promise.all(Array.from({ length: 7 }, () => citizen(provinceCode, communeCode)));
    await attempt(c.id, slowTop!, 5, 90_000, 1, at(1));
    await attempt(c.id, fastTop!, 5, 40_000, 1, at(2));
    await attempt(c.id, noGuess!, 4, 50_000, null, at(3));
    await attempt(c.id, farGuess!, 4, 50_000, 2000, at(4));
    await attempt(c.id, closeGuess!, 4, 50_000, 1200, at(5));
    // Same score, time and distance (1250 ± 50): the earlier finish wins.
    await attempt(c.id, laterSame!, 3, 50_000, 1300, at(20));
    await attempt(c.id, earlierSame!, 3, 50_000, 1200, at(10));
    const ranked = await contests.ranking(c.id, 100);
    expect(ranked.map((r) => Number(r.userId))).toEqual([fastTop, slowTop, closeGuess, farGuess, noGuess, earlierSame, laterSame]);
    expect(ranked.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(ranked.every((r) => r.entrants === 7)).toBe(true);
    expect((await contests.ranking(c.id, 3)).map((r) => r.rank)).toEqual([1, 2, 3]);
  });

  it("counts each person's best finished attempt once, with their attempts, and finds one person's rank", async () => {
    const { provinceCode, communeCode } = await place();
    const c = await created(await officer(provinceCode));
    const t = clock.now();
    const a = await citizen(provinceCode, communeCode, "Trần Thị Bình", true);
    const b = await citizen(provinceCode, communeCode, "Lê Văn Cường");
    await attempt(c.id, a, 2, 20_000, 1250, t);
    const best = await attempt(c.id, a, 4, 60_000, null, t);
    await attempt(c.id, a, 3, 10_000, 1250, t);
    // Stopped and running attempts are not results.
    await attempt(c.id, a, 5, 5_000, 1250, t, "abandoned");
    await attempt(c.id, b, 5, 5_000, 1250, t, "active");
    await attempt(c.id, b, 3, 30_000, 1250, t);
    const ranked = await contests.ranking(c.id, 10);
    expect(ranked).toHaveLength(2);
    expect(ranked[0]).toMatchObject({ userId: BigInt(a), roundId: best.id, score: 4, elapsedMs: 60_000, tiebreakGuess: null, attempts: 4, fullName: "Trần Thị Bình", showName: true });
    expect(ranked[1]).toMatchObject({ userId: BigInt(b), score: 3, attempts: 2, showName: false });
    expect(displayName(ranked[0]!)).toBe("Trần Thị Bình");
    expect(displayName(ranked[1]!)).toBe("L. V. C.");
    const mine = await contests.ranking(c.id, 1, b);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ rank: 2, entrants: 2 });
    // The export: one row per person, the name only with consent, the commune, numbers as numbers.
    const t18 = (await createI18n()).t("vi");
    const lines = contestCsv(t18, ranked, "vi").trim().split("\r\n");
    expect(lines[0]).toBe("Hạng,Họ tên,Xã/phường,Số câu đúng,Thời gian (giây),Câu hỏi phụ,Số lượt");
    expect(lines[1]).toMatch(/^1,Trần Thị Bình,(Xã|Phường|Đặc khu) [^,]+,4,60\.0,,4$/);
    expect(lines[2]).toMatch(/^2,L\. V\. C\.,[^,]+,3,30\.0,1250,2$/);
    // The workbook: the same rows, numbers as numbers, no guess as an empty cell.
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await contestXlsx(t18, ranked, "vi")) as never);
    const rows = book.worksheets[0]!.getSheetValues().slice(1).map((r) => (r as unknown[]).slice(1));
    expect(rows).toEqual([
      ["Hạng", "Họ tên", "Xã/phường", "Số câu đúng", "Thời gian (giây)", "Câu hỏi phụ", "Số lượt"],
      [1, "Trần Thị Bình", expect.stringMatching(/^(Xã|Phường|Đặc khu) /), 4, 60, undefined, 4],
      [2, "L. V. C.", expect.any(String), 3, 30, 1250, 2],
    ]);
  });

  it("takes a tie-break guess once, only on the person's own finished attempt, within a day", async () => {
    const { provinceCode, communeCode } = await place();
    const c = await created(await officer(provinceCode));
    const u = await citizen(provinceCode, communeCode);
    const other = await citizen(provinceCode, communeCode);
    const r = await attempt(c.id, u, 3, 30_000, null, clock.now());
    expect((await contests.pendingTiebreak(u))?.round.id).toBe(r.id);
    expect(await contests.recordTiebreak(r.id, other, 1)).toBe(false);
    expect(await contests.recordTiebreak(r.id, u, 1249.5)).toBe(true);
    expect(await contests.recordTiebreak(r.id, u, 1)).toBe(false);
    expect((await db.prisma.quizRound.findUniqueOrThrow({ where: { id: r.id } })).tiebreakGuess).toBe(1249.5);
    expect(await contests.pendingTiebreak(u)).toBeNull();
    const old = await attempt(c.id, other, 3, 30_000, null, new Date(clock.now().getTime() - 25 * 3600_000));
    expect(await contests.pendingTiebreak(other)).toBeNull();
    expect(await contests.recordTiebreak(old.id, other, 5)).toBe(false);
  });
});
