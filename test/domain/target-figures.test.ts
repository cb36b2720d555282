import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { communeFigure, TargetFigures, unitFigure, type ProgrammeView } from "../../src/domain/targets/figures.js";
import { formatPercent } from "../../src/domain/units/model.js";
import { targetFor, worstFirst } from "../../src/domain/targets/model.js";
import { LearningGroups } from "../../src/domain/units/families.js";
import type { Database } from "../../src/infra/database.js";
import { createLogger } from "../../src/logger.js";
import { openTestDatabase } from "../support/database.js";

// The figures behind /targets and the yearly report, against a real database: the counters the
// database triggers keep (members, registered, association members per unit; members and members
// without a card per family) always equal a recount, whatever happens to people (joining, registering,
// declaring membership, leaving, moving, erasure, bulk inserts, two joins at once); and the
// scoreboard's arithmetic on a hand-counted province (bodies, deleted units, scopes, targets of
// the year against the period's, gaps, worst first).

const NOW = new Date("2026-12-06T01:00:00.000Z");
let db: Database;
let figures: TargetFigures;

beforeAll(async () => {
  db = await openTestDatabase();
  const families = new LearningGroups({ prisma: db.prisma, now: () => NOW, logger: createLogger("silent") });
  figures = new TargetFigures({ prisma: db.prisma, families });
});
afterAll(() => db.close());

let nextId = 9_960_000;
let provinceIndex = 11;

/** A province of the test's own (so province-wide figures see only its data) with three communes. */
async function province(): Promise<{ code: string; communes: string[] }> {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[provinceIndex++ % provinces.length]!;
  const communes = await db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 3 });
  return { code: p.code, communes: communes.map((c) => c.code) };
}

async function person(opts: { registered?: boolean; member?: boolean; at?: { code: string; communes: string[] } } = {}): Promise<bigint> {
  const id = BigInt(++nextId);
  await db.prisma.user.create({ data: { id, associationMemberSince: opts.member ? NOW : null } });
  if (opts.registered) await register(id, opts.at);
  return id;
}

async function register(id: bigint, at?: { code: string; communes: string[] }): Promise<void> {
  await db.prisma.learningCitizen.create({
    data: {
      userId: id, registrationNumber: `TF-${id}`, fullName: `Hoàng Thị ${id}`, birthYear: 1990, provinceCode: at?.code ?? "01",
      communeCode: at?.communes[0] ?? "00004", affiliation: "border_guard", goals: ["law"], registeredAt: NOW,
    },
  });
}

let unitSeq = 0;
async function unit(at: { code: string }, commune: string, opts: { name?: string; body?: string; headcount?: number; parentId?: number; approved?: boolean } = {}): Promise<number> {
  const n = ++unitSeq;
  const name = opts.name ?? `Đồn Biên phòng số ${n}`;
  const u = await db.prisma.unit.create({
    data: {
      name, nameKey: `tf ${n} ${name.toLowerCase()}`, kind: "border_post", body: opts.body ?? "border_guard", provinceCode: at.code, communeCode: commune,
      parentId: opts.parentId ?? null, headcount: opts.headcount ?? 10, joinToken: `tf-token-${String(n).padStart(15, "0")}`,
      learningStatus: opts.approved ? "approved" : "none",
    },
  });
  return u.id;
}

async function join(unitId: number, userId: bigint): Promise<void> {
  await db.prisma.unitMember.create({ data: { unitId, userId, displayName: `Người ${userId}`, joinedAt: NOW } });
}

/** Counters as stored against the same counts made from the member rows and today's records. */
async function countersAgree(unitIds: number[]): Promise<void> {
  const stored = await db.prisma.unit.findMany({ where: { id: { in: unitIds } }, select: { id: true, membersCount: true, registeredCount: true, associationCount: true }, orderBy: { id: "asc" } });
  const recount = await db.prisma.$queryRawUnsafe<Array<{ id: number; members: number; registered: number; association: number }>>(
    `SELECT u.id, count(m.user_id)::int AS members, count(c.user_id)::int AS registered,
            (count(m.user_id) FILTER (WHERE us.association_member_since IS NOT NULL))::int AS association
       FROM units u LEFT JOIN unit_members m ON m.unit_id = u.id LEFT JOIN users us ON us.telegram_id = m.user_id
       LEFT JOIN learning_citizens c ON c.user_id = m.user_id
      WHERE u.id = ANY($1::int[]) GROUP BY u.id ORDER BY u.id`,
    unitIds,
  );
  expect(stored.map((s) => ({ id: s.id, members: s.membersCount, registered: s.registeredCount, association: s.associationCount }))).toEqual(recount);
}

describe("counters kept by the database", () => {
  it("follow joining, registering, declaring membership, leaving, moving between units and erasure", async () => {
    const at = await province();
    const a = await unit(at, at.communes[0]!);
    const b = await unit(at, at.communes[1]!);
    const ann = await person();
    const binh = await person({ registered: true, member: true, at });
    await join(a, ann);
    await join(a, binh);
    await countersAgree([a, b]);
    expect(await db.prisma.unit.findUniqueOrThrow({ where: { id: a } })).toMatchObject({ membersCount: 2, registeredCount: 1, associationCount: 1 });

    await register(ann, at); // Ann registers after joining
    await db.prisma.user.update({ where: { id: ann }, data: { associationMemberSince: NOW } });
    expect(await db.prisma.unit.findUniqueOrThrow({ where: { id: a } })).toMatchObject({ membersCount: 2, registeredCount: 2, associationCount: 2 });
    await db.prisma.user.update({ where: { id: ann }, data: { locale: "en" } }); // other changes move nothing
    await countersAgree([a, b]);

    await db.prisma.unitMember.update({ where: { unitId_userId: { unitId: a, userId: binh } }, data: { unitId: b } });
    expect(await db.prisma.unit.findUniqueOrThrow({ where: { id: b } })).toMatchObject({ membersCount: 1, registeredCount: 1, associationCount: 1 });
    await db.prisma.user.update({ where: { id: binh }, data: { associationMemberSince: null } });
    await db.prisma.learningCitizen.delete({ where: { userId: binh } });
    expect(await db.prisma.unit.findUniqueOrThrow({ where: { id: b } })).toMatchObject({ membersCount: 1, registeredCount: 0, associationCount: 0 });

    await db.prisma.unitMember.delete({ where: { unitId_userId: { unitId: b, userId: binh } } });
    await db.prisma.user.delete({ where: { id: ann } }); // /deleteme: the card and the membership go by cascade
    expect(await db.prisma.unit.findUniqueOrThrow({ where: { id: a } })).toMatchObject({ membersCount: 0, registeredCount: 0, associationCount: 0 });
    await countersAgree([a, b]);
  });

  it("stay exact under a bulk insert and under ten people joining one unit at the same moment", async () => {
    const at = await province();
    const a = await unit(at, at.communes[0]!, { headcount: 100 });
    const people = await Promise.all(Array.from({ length: 30 }, (_, i) => person({ registered: i % 2 === 0, member: i % 3 === 0, at })));
    await db.prisma.unitMember.createMany({ data: people.slice(0, 20).map((userId) => ({ unitId: a, userId, displayName: "x", joinedAt: NOW })) });
    await Promise.all(people.slice(20).map((p) => join(a, p)));
    expect(await db.prisma.unit.findUniqueOrThrow({ where: { id: a } })).toMatchObject({ membersCount: 30, registeredCount: 15, associationCount: 10 });
    await countersAgree([a]);
  });

  it("keep a family's members and members without a learning card", async () => {
    const at = await province();
    const owner = await person({ registered: true, at });
    const child = await person();
    const g = await db.prisma.learningGroup.create({
      data: { kind: "family", name: "Gia đình bà Vàng Thị Mai", provinceCode: at.code, communeCode: at.communes[0]!, inviteToken: `tf-fam-${nextId}`.padEnd(24, "x"), createdAt: NOW },
    });
    for (const userId of [owner, child]) await db.prisma.learningGroupMember.create({ data: { groupId: g.id, userId, kind: "family", joinedAt: NOW } });
    expect(await db.prisma.learningGroup.findUniqueOrThrow({ where: { id: g.id } })).toMatchObject({ membersCount: 2, unregisteredCount: 1 });
    await register(child, at);
    expect(await db.prisma.learningGroup.findUniqueOrThrow({ where: { id: g.id } })).toMatchObject({ membersCount: 2, unregisteredCount: 0 });
    await db.prisma.user.delete({ where: { id: owner } });
    expect(await db.prisma.learningGroup.findUniqueOrThrow({ where: { id: g.id } })).toMatchObject({ membersCount: 1, unregisteredCount: 0 });
  });
});

describe("the scoreboard", () => {
  /**
   * Commune 0: Đồn A (border guard, headcount 8: 3 registered of whom 2 members, 1 not registered;
   * approved learning unit) with Trạm A1 under it (headcount 4: 1 registered); commune 1: Ban CHQS
   * (military command, headcount 10: 5 registered, 5 members); a school (body "other", not in the
   * programme) and a deleted unit, both left out. Families in commune 0: one meeting the criteria
   * (2 registered adults, children in school), one not.
   */
  async function fixture() {
    const at = await province();
    const [c0, c1] = [at.communes[0]!, at.communes[1]!];
    const doanA = await unit(at, c0, { name: "Đồn Biên phòng A", headcount: 8, approved: true });
    const tramA1 = await unit(at, c0, { name: "Trạm A1", headcount: 4, parentId: doanA });
    const ban = await unit(at, c1, { name: "Ban CHQS xã", body: "military_command", headcount: 10 });
    const school = await unit(at, c1, { name: "Trường Tiểu học", body: "other", headcount: 30 });
    const gone = await unit(at, c1, { name: "Đơn vị đã xoá", headcount: 50 });
    await db.prisma.unit.update({ where: { id: gone }, data: { deletedAt: NOW } });
    for (const [u, registered, member] of [[doanA, true, true], [doanA, true, true], [doanA, true, false], [doanA, false, false], [tramA1, true, false]] as const) {
      await join(u, await person({ registered, member, at }));
    }
    for (let i = 0; i < 5; i++) await join(ban, await person({ registered: true, member: true, at }));
    for (let i = 0; i < 7; i++) await join(school, await person({ registered: true, at }));
    for (let i = 0; i < 3; i++) await join(gone, await person({ registered: true, at }));
    const fam = async (name: string, inSchool: boolean, registered: boolean[]) => {
      const g = await db.prisma.learningGroup.create({ data: { kind: "family", name, provinceCode: at.code, communeCode: c0, inviteToken: `tf-fam-${++nextId}`.padEnd(24, "y"), childrenInSchool: inSchool, createdAt: NOW } });
      for (const r of registered) await db.prisma.learningGroupMember.create({ data: { groupId: g.id, userId: await person({ registered: r, at }), kind: "family", joinedAt: NOW } });
    };
    await fam("Gia đình ông Páo", true, [true, true]);
    await fam("Gia đình bà Mai", true, [true, false]);
    const p = await db.prisma.programme.create({
      data: {
        name: "Phối hợp Hội Khuyến học – BĐBP 2024–2030", provinceCode: at.code, bodies: ["association", "border_guard", "military_command"], startYear: 2024, endYear: 2030,
        targets: { create: [
          { metric: "learning_citizens", year: 0, percent: 100 }, { metric: "learning_citizens", year: 2026, percent: 80 },
          { metric: "members", year: 0, percent: 100 }, { metric: "learning_units", year: 0, percent: 90 }, { metric: "learning_families", year: 0, percent: 80 },
        ] },
      },
    });
    const programme = (await figures.programme(p.id)) as ProgrammeView;
    return { at, c0, c1, doanA, tramA1, ban, programme };
  }

  it("adds up the programme's units by hand: figures, percentages, the year's target and gaps", async () => {
    const f = await fixture();
    const board = await figures.scoreboard(f.programme, { kind: "programme" }, 2026);
    expect(board.units.map((u) => u.id).sort()).toEqual([f.doanA, f.tramA1, f.ban].sort());
    expect(board.totals).toEqual([
      // 3 + 1 + 5 registered of 8 + 4 + 10 people; 80% of 22 is 17.6 → 18 people, 9 there: 9 to go.
      { metric: "learning_citizens", part: 9, whole: 22, target: 80, gap: 9 },
      { metric: "members", part: 7, whole: 22, target: 100, gap: 15 },
      { metric: "learning_units", part: 1, whole: 3, target: 90, gap: 2 },
      { metric: "learning_families", part: 1, whole: 2, target: 80, gap: 1 },
    ]);
    expect(formatPercent(9, 22, "vi")).toBe("40,9%");
    // In 2031 (after the period's years) the period's 100% applies.
    expect((await figures.scoreboard(f.programme, { kind: "programme" }, 2031)).totals[0]).toMatchObject({ target: 100, gap: 13 });
    expect(targetFor(f.programme.targets, "learning_citizens", 2025)).toBe(100);

    // Communes: sums of their units; the families where they live.
    const c0 = board.communes.find((c) => c.communeCode === f.c0)!;
    expect(c0).toMatchObject({ units: 2, headcount: 12, registered: 4, associationMembers: 2, learningUnits: 1, families: 2, learningFamilies: 1 });
    expect(communeFigure(c0, "learning_citizens")).toEqual({ part: 4, whole: 12 });
    // Worst first by share: Trạm A1 1/4 (25%), then Đồn A 3/8 (37,5%), then Ban CHQS 5/10.
    const order = worstFirst(board.units.map((u) => ({ name: u.name, ...unitFigure(u, "learning_citizens") }))).map((u) => u.name);
    expect(order).toEqual(["Trạm A1", "Đồn Biên phòng A", "Ban CHQS xã"]);
  });

  it("narrows to a commune or to a unit and the units under it", async () => {
    const f = await fixture();
    const commune = await figures.scoreboard(f.programme, { kind: "commune", communeCode: f.c1 }, 2026);
    expect(commune.units.map((u) => u.name)).toEqual(["Ban CHQS xã"]);
    expect(commune.totals.map((t) => [t.metric, t.part, t.whole])).toEqual([["learning_citizens", 5, 10], ["members", 5, 10], ["learning_units", 0, 1], ["learning_families", 0, 0]]);
    const sub = await figures.scoreboard(f.programme, { kind: "unit", unitId: f.doanA }, 2026);
    expect(sub.units.map((u) => u.name).sort()).toEqual(["Trạm A1", "Đồn Biên phòng A"]);
    // A unit's scoreboard has no families line (families belong to places, not units).
    expect(sub.totals.map((t) => [t.metric, t.part, t.whole, t.gap])).toEqual([["learning_citizens", 4, 12, 6], ["members", 2, 12, 10], ["learning_units", 1, 2, 1]]);
  });
});
