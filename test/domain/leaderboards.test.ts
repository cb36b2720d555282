import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CitizenService } from "../../src/domain/citizens/citizen-service.js";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import { displayName, initialsOf, Leaderboards, weekStart } from "../../src/domain/quizzes/leaderboards.js";
import { quizDataParts } from "../../src/domain/quizzes/personal-data.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { draft } from "../support/drafts.js";

// Boards are nationwide: every test gets a database of its own, so no test sees another's answers.
let db: Database;
let citizens: CitizenService;
let now: Date;
let boards: Leaderboards;

beforeEach(async () => {
  db = await openTestDatabase();
  citizens = new CitizenService(db.prisma, new GeoService(db.prisma));
  // Wednesday 2 December 2026, 10:00 in Vietnam; that week began on Monday 30 November, 00:00 (29 Nov 17:00 UTC).
  now = new Date("2026-12-02T03:00:00Z");
  boards = new Leaderboards(db.prisma, () => now);
});
afterEach(() => db.close());

const LUNG_CU = { provinceCode: "08", communeCode: "00715" };
const NGOC_DUONG = { provinceCode: "08", communeCode: "00700" };
const BA_DINH = { provinceCode: "01", communeCode: "00004" };

async function citizen(id: number, fullName: string, place = LUNG_CU, unitName?: string): Promise<void> {
  await citizens.register(String(id), draft({ fullName, ...place, unitName }), new Date("2026-11-01T00:00:00Z"));
}

let seq = 0;
/** One answer: true right, false wrong, null timed out (taken, not correct). */
async function answer(userId: number, at: string, correct: boolean | null, ms: number): Promise<void> {
  seq += 1;
  await db.prisma.quizAnswer.create({
    data: { roundId: BigInt(seq), idx: 0, userId: BigInt(userId), questionId: "nb-01", topic: "border", chosen: correct === null ? null : correct ? 1 : 0, correct: correct === true, ms, answeredAt: new Date(at) },
  });
}

describe("week boundary", () => {
  it("a week starts on Monday 00:00 Vietnam time, across months and years", () => {
    // Monday 30 Nov 00:00 VN = 29 Nov 17:00 UTC.
    expect(weekStart(new Date("2026-12-02T03:00:00Z")).toISOString()).toBe("2026-11-29T17:00:00.000Z");
    // The first instant of Monday is its own week start; the minute before belongs to the previous week.
    expect(weekStart(new Date("2026-11-29T17:00:00Z")).toISOString()).toBe("2026-11-29T17:00:00.000Z");
    expect(weekStart(new Date("2026-11-29T16:59:59Z")).toISOString()).toBe("2026-11-22T17:00:00.000Z");
    // Sunday 29 Nov 20:00 UTC is already Monday 03:00 in Vietnam.
    expect(weekStart(new Date("2026-11-29T20:00:00Z")).toISOString()).toBe("2026-11-29T17:00:00.000Z");
    // Friday 1 January 2027 (VN) → Monday 28 December 2026.
    expect(weekStart(new Date("2027-01-01T05:00:00Z")).toISOString()).toBe("2026-12-27T17:00:00.000Z");
  });

  it("counts Sunday 23:59 in last week and Monday 00:00 in this week", async () => {
    await citizen(72001, "Nguyễn Văn Chủ Nhật");
    await citizen(72002, "Trần Thị Thứ Hai");
    await answer(72001, "2026-11-29T16:59:00Z", true, 5_000); // Sunday 23:59 VN
    await answer(72002, "2026-11-29T17:00:00Z", true, 5_000); // Monday 00:00 VN
    now = new Date("2026-11-30T01:00:00Z"); // Monday 08:00 VN
    expect((await boards.people("week")).map((r) => r.name)).toEqual(["T. T. T. H."]);
    expect(await boards.rankOf(72001, "week")).toBeNull();
    expect((await boards.people("all")).map((r) => r.name)).toEqual(["N. V. C. N.", "T. T. T. H."]);

    // Seen on Sunday 23:59:30 VN, Sunday's answer is this week's and Monday's has not happened yet.
    now = new Date("2026-11-29T16:59:30Z");
    expect((await boards.people("week")).map((r) => r.name)).toEqual(["N. V. C. N."]);
  });
});

describe("people", () => {
  it("ranks by correct answers, then less time, then the earlier last answer; equal people share a rank", async () => {
    const t = (minutes: number) => new Date(Date.parse("2026-11-30T02:00:00Z") + minutes * 60_000).toISOString();
    await citizen(71001, "Nguyễn Văn An");
    await citizen(71002, "Trần Thị Bình");
    await citizen(71003, "Lê Văn Cường");
    await citizen(71004, "Phạm Thị Dung");
    await citizen(71005, "Hoàng Văn Em");
    await citizen(71006, "Võ Thị Phương");
    await citizen(71007, "Đặng Văn Giang");
    await citizen(71008, "Bùi Thị Hạnh"); // registered, never answered
    // A: 2 right of 3, 10 + 20 + 5 = 35 s, last at minute 12.
    await answer(71001, t(10), true, 10_000);
    await answer(71001, t(11), true, 20_000);
    await answer(71001, t(12), false, 5_000);
    // B: 2 right, a time-out is taken (30 s) but not correct: 15 + 20 + 30 = 65 s.
    await answer(71002, t(1), true, 15_000);
    await answer(71002, t(2), true, 20_000);
    await answer(71002, t(3), null, 30_000);
    // C: the same 2 right in 35 s as A, but finished earlier (minute 6): ahead of A.
    await answer(71003, t(4), true, 10_000);
    await answer(71003, t(5), true, 20_000);
    await answer(71003, t(6), false, 5_000);
    // D: 3 right, 3 s: first.
    for (const m of [20, 21, 22]) await answer(71004, t(m), true, 1_000);
    // E: two time-outs: 0 right of 2, 60 s.
    await answer(71005, t(30), null, 30_000);
    await answer(71005, t(31), null, 30_000);
    // F and G: equal on every count: 1 right, 10 s, last answer at the same instant.
    await answer(71006, t(40), true, 10_000);
    await answer(71007, t(40), true, 10_000);

    const rows = await boards.people("week");
    expect(rows.map((r) => [r.rank, r.name, r.correct, r.taken, r.ms])).toEqual([
      [1, "P. T. D.", 3, 3, 3_000],
      [2, "L. V. C.", 2, 3, 35_000],
      [3, "N. V. A.", 2, 3, 35_000],
      [4, "T. T. B.", 2, 3, 65_000],
      [5, "V. T. P.", 1, 1, 10_000],
      [5, "Đ. V. G.", 1, 1, 10_000],
      [7, "H. V. E.", 0, 2, 60_000],
    ]);
    expect(rows[2]!.lastAt.toISOString()).toBe(t(12));
    expect(rows.map((r) => r.userId)).not.toContain("71008");
    // The limit keeps the top; ranks are still counted over everyone.
    expect((await boards.people("week", {}, 3)).map((r) => r.userId)).toEqual(["71004", "71003", "71001"]);

    // Own rank: the same rule as the board (1 + people strictly ahead), out of everyone ranked.
    expect(await boards.rankOf(71001, "week")).toEqual({ rank: 3, of: 7, correct: 2, taken: 3, ms: 35_000 });
    expect(await boards.rankOf("71007", "week")).toEqual({ rank: 5, of: 7, correct: 1, taken: 1, ms: 10_000 });
    expect(await boards.rankOf(71005, "all")).toEqual({ rank: 7, of: 7, correct: 0, taken: 2, ms: 60_000 });
    expect(await boards.rankOf(71008, "week")).toBeNull();
  });

  it("shows a full name only to those who opted in; initials, a Telegram name's initials or — otherwise", async () => {
    await citizen(73001, "Nguyễn Văn An");
    await citizen(73002, "  lò   văn páo ");
    await db.prisma.user.create({ data: { id: 73003n, role: "officer", telegramName: "Đỗ Minh" } });
    const at = "2026-12-01T01:00:00Z";
    await answer(73001, at, true, 1_000);
    await answer(73002, at, true, 2_000);
    await answer(73003, at, true, 3_000);
    await answer(73004, at, true, 4_000); // answered in a group, never registered
    const names = async () => (await boards.people("week")).map((r) => [r.name, r.named]);
    expect(await names()).toEqual([["N. V. A.", false], ["L. V. P.", false], ["Đ. M.", false], ["—", false]]);

    expect(await boards.showsName(73001)).toBe(false);
    await boards.setShowName(73001, true);
    expect(await boards.showsName(73001)).toBe(true);
    expect((await names())[0]).toEqual(["Nguyễn Văn An", true]);
    // Opting out again hides it; the profile row keeps its other defaults.
    await boards.setShowName(73001, false);
    expect((await names())[0]).toEqual(["N. V. A.", false]);
    expect(await db.prisma.quizProfile.findUnique({ where: { userId: 73001n } })).toMatchObject({ showName: false, dailyMinute: null, streak: 0 });
  });

  it("scopes people to a province or a commune by their registration", async () => {
    await citizen(74001, "Người Lũng Cú", LUNG_CU);
    await citizen(74002, "Người Ngọc Đường", NGOC_DUONG);
    await citizen(74003, "Người Ba Đình", BA_DINH);
    const at = "2026-12-01T01:00:00Z";
    await answer(74001, at, true, 9_000);
    await answer(74002, at, true, 5_000);
    await answer(74002, at, false, 5_000);
    await answer(74003, at, true, 1_000);
    await answer(74003, at, true, 1_000);
    await answer(74004, at, true, 1_000); // not registered: in no scope

    const ids = async (scope: object) => (await boards.people("all", scope)).map((r) => [r.rank, r.userId]);
    expect(await ids({})).toEqual([[1, "74003"], [2, "74004"], [3, "74001"], [4, "74002"]]);
    expect(await ids({ provinceCode: "08" })).toEqual([[1, "74001"], [2, "74002"]]);
    expect(await ids({ communeCode: "00715" })).toEqual([[1, "74001"]]);
    expect(await boards.rankOf(74001, "all", { provinceCode: "08" })).toEqual({ rank: 1, of: 2, correct: 1, taken: 1, ms: 9_000 });
    expect(await boards.rankOf(74002, "all", { provinceCode: "08" })).toEqual({ rank: 2, of: 2, correct: 1, taken: 2, ms: 10_000 });
    expect(await boards.rankOf(74002, "all")).toEqual({ rank: 4, of: 4, correct: 1, taken: 2, ms: 10_000 });
    expect(await boards.rankOf(74001, "all", { provinceCode: "01" })).toBeNull();
  });
});

describe("communes", () => {
  it("adds up each commune's correct answers and people, ties broken by more people", async () => {
    await citizen(75001, "A", LUNG_CU);
    await citizen(75002, "B", LUNG_CU);
    await citizen(75003, "C", NGOC_DUONG);
    await citizen(75004, "D", BA_DINH);
    await citizen(75005, "E", { provinceCode: "08", communeCode: "00706" }); // no answers: no row
    const at = "2026-12-01T01:00:00Z";
    // Lũng Cú: A 3 right of 4, B 1 right and a time-out → 4 right, 6 taken, 2 people.
    for (const c of [true, true, true, false]) await answer(75001, at, c, 1_000);
    await answer(75002, at, true, 1_000);
    await answer(75002, at, null, 30_000);
    // Ngọc Đường: C 4 right of 4 → 4 right, 1 person.
    for (let i = 0; i < 4; i++) await answer(75003, at, true, 1_000);
    // Ba Đình (Hà Nội): D 5 right.
    for (let i = 0; i < 5; i++) await answer(75004, at, true, 1_000);
    // Last week's answers count all-time only.
    await answer(75003, "2026-11-25T01:00:00Z", true, 1_000);
    await answer(75003, "2026-11-25T01:00:00Z", true, 1_000);
    await answer(75099, at, true, 1_000); // not registered: no commune

    const rows = (r: Awaited<ReturnType<Leaderboards["communes"]>>) => r.map((c) => [c.rank, c.communeCode, c.correct, c.taken, c.people]);
    expect(rows(await boards.communes("week"))).toEqual([
      [1, "00004", 5, 5, 1],
      [2, "00715", 4, 6, 2],
      [3, "00700", 4, 4, 1],
    ]);
    expect(rows(await boards.communes("week", "08"))).toEqual([
      [1, "00715", 4, 6, 2],
      [2, "00700", 4, 4, 1],
    ]);
    expect(rows(await boards.communes("all", "08"))).toEqual([
      [1, "00700", 6, 6, 1],
      [2, "00715", 4, 6, 2],
    ]);
    expect((await boards.communes("week", undefined, 1)).map((c) => c.communeCode)).toEqual(["00004"]);
  });
});

describe("units", () => {
  it("groups unit names ignoring case and spacing within a province, and rates participation against registered members", async () => {
    const DON = "Đồn Biên phòng Lũng Cú";
    const CHI_HOI = "Chi hội Khuyến học thôn 1";
    await citizen(76001, DON, LUNG_CU, DON);
    await citizen(76002, "B", LUNG_CU, DON);
    await citizen(76003, "C", NGOC_DUONG, "  đồn biên phòng   LŨNG CÚ ");
    await citizen(76004, "D", LUNG_CU, CHI_HOI);
    await citizen(76005, "E", NGOC_DUONG, CHI_HOI);
    await citizen(76006, "F", BA_DINH, CHI_HOI); // the same name in another province: another unit
    await citizen(76007, "G", LUNG_CU); // no unit
    const at = "2026-12-01T01:00:00Z";
    // The border post: two of three answered this week (one only timed out, which still counts
    // as taking part); the third only last week.
    await answer(76001, at, true, 1_000);
    await answer(76001, at, true, 1_000);
    await answer(76002, at, null, 30_000);
    await answer(76003, "2026-11-26T01:00:00Z", true, 1_000);
    // Chi hội (Tuyên Quang): one of two; Chi hội (Hà Nội): one of one.
    await answer(76004, at, false, 1_000);
    await answer(76006, at, true, 1_000);
    await answer(76007, at, true, 1_000);

    const rows = (r: Awaited<ReturnType<Leaderboards["units"]>>) => r.map((u) => [u.rank, u.provinceCode, u.name, u.participants, u.registered, u.correct, u.taken]);
    expect(rows(await boards.units("week"))).toEqual([
      [1, "01", CHI_HOI, 1, 1, 1, 1],
      [2, "08", DON, 2, 3, 2, 3],
      [3, "08", CHI_HOI, 1, 2, 0, 1],
    ]);
    // All time: the post reaches 3/3, equal to Hà Nội's 1/1 but with more people taking part.
    expect(rows(await boards.units("all"))).toEqual([
      [1, "08", DON, 3, 3, 3, 4],
      [2, "01", CHI_HOI, 1, 1, 1, 1],
      [3, "08", CHI_HOI, 1, 2, 0, 1],
    ]);
    expect(rows(await boards.units("week", { provinceCode: "08" }))).toEqual([
      [1, "08", DON, 2, 3, 2, 3],
      [2, "08", CHI_HOI, 1, 2, 0, 1],
    ]);
    // A commune's view counts only the members registered there (and names a unit as they wrote it).
    expect(rows(await boards.units("week", { communeCode: "00700" }))).toEqual([
      [1, "08", CHI_HOI, 0, 1, 0, 0],
      [1, "08", "đồn biên phòng   LŨNG CÚ", 0, 1, 0, 0],
    ]);
  });
});

describe("names", () => {
  it("makes initials of each word's first letter", () => {
    expect(initialsOf("Nguyễn Văn An")).toBe("N. V. A.");
    expect(initialsOf("đặng thị ánh")).toBe("Đ. T. Á.");
    expect(initialsOf("  (Bé) Na ")).toBe("B. N.");
    expect(initialsOf("   ")).toBe("");
    expect(displayName({ fullName: "Lò Văn Páo", showName: true, telegramName: null })).toEqual({ name: "Lò Văn Páo", named: true });
    expect(displayName({ fullName: null, showName: true, telegramName: "Hoa" })).toEqual({ name: "H.", named: false });
    expect(displayName({ fullName: null, showName: false, telegramName: null })).toEqual({ name: "—", named: false });
  });
});

describe("quiz personal data", () => {
  it("exports summaries of a person's quiz data and erases it, keeping group rounds they started without them", async () => {
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of quizDataParts(db.prisma)) registry.register(part);
    expect(registry.keys()).toEqual(["quiz_profile", "quiz_answers", "quiz_rounds", "quiz_boxes"]);
    const me = 77001;
    const round = (id: number, kind: "solo" | "group", userId: number, score: number) =>
      db.prisma.quizRound.create({ data: { id: BigInt(id), kind, userId: BigInt(userId), chatId: kind === "group" ? -100123n : BigInt(userId), topic: "mixed", questionIds: ["nb-01", "nb-02"], locale: "vi", score, state: "finished", startedAt: new Date("2026-12-01T01:00:00Z") } });
    await round(900, "solo", me, 1);
    await round(901, "group", me, 0);
    await round(902, "solo", 77002, 2);
    await answer(me, "2026-12-01T01:00:00Z", true, 1_000);
    await answer(me, "2026-12-01T01:01:00Z", null, 30_000);
    await answer(77002, "2026-12-01T01:00:00Z", true, 1_000);
    await db.prisma.quizBox.create({ data: { userId: BigInt(me), questionId: "nb-02", box: 1, dueAt: new Date("2026-12-01T01:01:00Z") } });
    await boards.setShowName(me, true);

    const data = await registry.exportAll(String(me));
    expect(data).toMatchObject({
      quiz_profile: { showName: true, streak: 0 },
      quiz_answers: { taken: 2, correct: 1, timedOut: 1, byTopic: [{ topic: "border", taken: 2, correct: 1, timedOut: 1, firstAt: "2026-12-01T01:00:00.000Z", lastAt: "2026-12-01T01:01:00.000Z" }] },
      quiz_rounds: { total: 2, listed: 2 },
      quiz_boxes: [{ box: 1, questions: 1, nextDue: "2026-12-01T01:01:00.000Z" }],
    });
    expect((data.quiz_rounds as { rounds: Array<{ kind: string; questions: number }> }).rounds.map((r) => [r.kind, r.questions]).sort()).toEqual([["group", 2], ["solo", 2]]);
    expect(await registry.held(String(me))).toHaveLength(4);

    const { erased } = await registry.erase(String(me), now);
    expect(erased).toEqual(["leaderboard:parts.quiz_profile", "leaderboard:parts.quiz_answers", "leaderboard:parts.quiz_rounds", "leaderboard:parts.quiz_boxes"]);
    expect(await registry.held(String(me))).toEqual([]);
    expect(await db.prisma.quizAnswer.count({ where: { userId: BigInt(me) } })).toBe(0);
    expect(await db.prisma.quizRound.findUnique({ where: { id: 900n } })).toBeNull();
    // The group round stays for the others who answered in it, without its starter.
    expect(await db.prisma.quizRound.findUnique({ where: { id: 901n } })).toMatchObject({ kind: "group", userId: null });
    // Someone else's data is untouched.
    expect(await db.prisma.quizAnswer.count({ where: { userId: 77002n } })).toBe(1);
    expect(await db.prisma.quizRound.count({ where: { userId: 77002n } })).toBe(1);
    expect(await boards.rankOf(me, "all")).toBeNull();
  });
});
