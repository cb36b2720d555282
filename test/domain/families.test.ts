import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { citizenDataParts } from "../../src/domain/citizens/personal-data.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import { DEFAULT_FAMILY_CRITERIA_FILE, LearningGroups, loadGroupCriteria, type GroupCriteria } from "../../src/domain/units/families.js";
import { UNIT_LIMITS } from "../../src/domain/units/model.js";
import { userDataParts } from "../../src/domain/users/personal-data.js";
import type { Database } from "../../src/infra/database.js";
import { createLogger } from "../../src/logger.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";

// Learning families against a real database: who may create and join (registered, one family per
// person, also under two requests at once), invite links that rotate, leaving with the ownership
// handover and the last one out deleting the family, the owner's removals, the status derived
// from members' records (one fixture family per case), counts per province and commune equal to
// hand counts, the criteria file's validation, and /mydata and /deleteme.

const NOW = new Date("2026-12-06T01:00:00.000Z");
const MINUTE = 60_000;
const clock = new ManualClock(NOW.getTime());
let db: Database;
let families: LearningGroups;

beforeAll(async () => {
  db = await openTestDatabase();
  families = new LearningGroups({ prisma: db.prisma, now: clock.now, logger: createLogger("silent") });
});
afterAll(() => db.close());
beforeEach(() => clock.set(NOW));

let nextId = 9_930_000;
let placeIndex = 3;

interface Place {
  province: string;
  communes: string[];
}

/** A province of its own for each test (counts by place see only that test's families), with two communes. */
async function place(): Promise<Place> {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[placeIndex++ % provinces.length]!;
  const communes = await db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, communes: communes.map((c) => c.code) };
}

let defaultPlace: Place | undefined;

/** A registered learning citizen (card with a year of birth), by default in the test file's first place. */
async function citizen(opts: { at?: Place; commune?: number; birthYear?: number; name?: string } = {}): Promise<string> {
  const at = opts.at ?? (defaultPlace ??= await place());
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id) } });
  await db.prisma.learningCitizen.create({
    data: {
      userId: BigInt(id), registrationNumber: `GD-${id}`, fullName: opts.name ?? `Lò Văn ${id}`, birthYear: opts.birthYear ?? 1980,
      provinceCode: at.province, communeCode: at.communes[opts.commune ?? 0]!, affiliation: "resident", goals: ["law"], registeredAt: clock.now(),
    },
  });
  return String(id);
}

async function stranger(): Promise<string> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id) } });
  return String(id);
}

/** A family created by `owner` with the given members joined one minute apart; returns its id and token. */
async function family(owner: string, members: string[] = [], name = "Gia đình ông Lò Văn Páo") {
  const created = await families.create(owner, { name });
  if (!created.ok) throw new Error(`create: ${created.reason}`);
  for (const m of members) {
    clock.advance(MINUTE);
    const joined = await families.join(m, created.token);
    if (!joined.ok) throw new Error(`join: ${joined.reason}`);
  }
  return { id: created.groupId, token: created.token };
}

async function memberRows(groupId: number) {
  const rows = await db.prisma.learningGroupMember.findMany({ where: { groupId }, orderBy: { joinedAt: "asc" } });
  return rows.map((r) => ({ userId: r.userId.toString(), role: r.role }));
}

describe("creating a family", () => {
  it("lets a registered person create one, as its owner, in the commune of their registration", async () => {
    const at = await place();
    const owner = await citizen({ at, commune: 1 });
    const r = await families.create(owner, { name: "  Gia đình   ông Lò Văn Páo " });
    expect(r).toMatchObject({ ok: true, name: "Gia đình ông Lò Văn Páo" });
    if (!r.ok) return;
    const row = await db.prisma.learningGroup.findUniqueOrThrow({ where: { id: r.groupId } });
    expect(row).toMatchObject({ kind: "family", provinceCode: at.province, communeCode: at.communes[1], childrenInSchool: null, inviteToken: r.token });
    expect(await memberRows(r.groupId)).toEqual([{ userId: owner, role: "owner" }]);
  });

  it("refuses someone not registered, a bad name, and a second family for the same person", async () => {
    expect(await families.create(await stranger(), { name: "Gia đình bà Hoa" })).toMatchObject({ ok: false, reason: "not_registered" });
    const owner = await citizen();
    expect(await families.create(owner, { name: "G" })).toMatchObject({ ok: false, reason: "invalid_name", message: "families:errors.name_length" });
    expect(await families.create(owner, { name: "Gia đình <script>" })).toMatchObject({ ok: false, reason: "invalid_name", message: "families:errors.name_chars" });
    await family(owner, [], "Gia đình bà Hoa");
    expect(await families.create(owner, { name: "Gia đình thứ hai" })).toEqual({ ok: false, reason: "already_member", family: "Gia đình bà Hoa" });
    expect(await db.prisma.learningGroup.count({ where: { name: "Gia đình thứ hai" } })).toBe(0);
  });

  it("keeps one family when the same person creates two at once", async () => {
    const owner = await citizen();
    const results = await Promise.all([families.create(owner, { name: "Gia đình A" }), families.create(owner, { name: "Gia đình B" })]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ ok: false, reason: "already_member" });
    const groups = await db.prisma.learningGroupMember.findMany({ where: { userId: BigInt(owner) } });
    expect(groups).toHaveLength(1);
    // The losing create left no empty family behind.
    expect(await db.prisma.learningGroup.count({ where: { name: { in: ["Gia đình A", "Gia đình B"] }, members: { none: {} } } })).toBe(0);
  });
});

describe("joining by the invite link", () => {
  it("lets registered people join, and refuses unregistered people, wrong and rotated links", async () => {
    const owner = await citizen();
    const f = await family(owner);
    const anh = await citizen();
    expect(await families.join(anh, f.token)).toMatchObject({ ok: true, groupId: f.id });
    expect(await families.join(anh, f.token)).toMatchObject({ ok: false, reason: "already_here" });
    expect(await families.join(await stranger(), f.token)).toEqual({ ok: false, reason: "not_registered", family: "Gia đình ông Lò Văn Páo" });
    expect(await families.join(await citizen(), "A".repeat(24))).toMatchObject({ ok: false, reason: "not_found" });
    expect(await families.join(await citizen(), "short")).toMatchObject({ ok: false, reason: "not_found" });

    // Only the owner gets and rotates the link; the old one stops working.
    expect(await families.invite(anh)).toMatchObject({ ok: false, reason: "not_owner" });
    expect(await families.invite(anh, { rotate: true })).toMatchObject({ ok: false, reason: "not_owner" });
    expect(await families.invite(owner)).toMatchObject({ ok: true, token: f.token });
    const rotated = await families.invite(owner, { rotate: true });
    expect(rotated.ok && rotated.token).not.toBe(f.token);
    if (!rotated.ok) return;
    const late = await citizen();
    expect(await families.join(late, f.token)).toMatchObject({ ok: false, reason: "not_found" });
    expect(await families.join(late, rotated.token)).toMatchObject({ ok: true });
    expect((await memberRows(f.id)).map((m) => m.userId)).toEqual([owner, anh, late]);
  });

  it("refuses someone already in another family, naming it", async () => {
    const first = await family(await citizen(), [], "Gia đình ông Páo");
    const second = await family(await citizen(), [], "Gia đình bà Mai");
    const person = await citizen();
    expect(await families.join(person, first.token)).toMatchObject({ ok: true });
    expect(await families.join(person, second.token)).toEqual({ ok: false, reason: "already_member", family: "Gia đình ông Páo" });
    expect(await memberRows(second.id)).toHaveLength(1);
  });

  it(`stops at ${UNIT_LIMITS.familyMembersMax} members, also when the last places are taken at once`, async () => {
    const owner = await citizen();
    const f = await family(owner);
    for (let i = 1; i < UNIT_LIMITS.familyMembersMax - 1; i++) expect(await families.join(await citizen(), f.token)).toMatchObject({ ok: true });
    // One place left, three people at once.
    const racers = await Promise.all([citizen(), citizen(), citizen()]);
    const results = await Promise.all(racers.map((r) => families.join(r, f.token)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(["full", "full"]);
    expect(await db.prisma.learningGroupMember.count({ where: { groupId: f.id } })).toBe(UNIT_LIMITS.familyMembersMax);
    expect(await families.peek(f.token)).toMatchObject({ ok: true, full: true });
  });

  it("keeps one family when one person joins two at the same moment", async () => {
    const a = await family(await citizen(), [], "Gia đình A");
    const b = await family(await citizen(), [], "Gia đình B");
    const person = await citizen();
    const results = await Promise.all([families.join(person, a.token), families.join(person, b.token)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ ok: false, reason: "already_member" });
    expect(await db.prisma.learningGroupMember.count({ where: { userId: BigInt(person) } })).toBe(1);
  });
});

describe("leaving and removing", () => {
  it("hands ownership to the longest-standing member when the owner leaves, and deletes the family with the last one", async () => {
    const [owner, first, second] = [await citizen(), await citizen({ name: "Lò Thị Mai" }), await citizen()];
    const f = await family(owner, [first, second]);
    const left = await families.leave(owner);
    expect(left).toMatchObject({ ok: true, deleted: false, newOwner: { userId: first, name: "Lò Thị Mai" } });
    expect(await memberRows(f.id)).toEqual([{ userId: first, role: "owner" }, { userId: second, role: "member" }]);
    // A member leaving changes no role.
    expect(await families.leave(second)).toMatchObject({ ok: true, deleted: false });
    expect((await families.leave(second)) as object).toMatchObject({ ok: false, reason: "no_family" });
    expect(await memberRows(f.id)).toEqual([{ userId: first, role: "owner" }]);
    expect(await families.leave(first)).toMatchObject({ ok: true, deleted: true });
    expect(await db.prisma.learningGroup.count({ where: { id: f.id } })).toBe(0);
  });

  it("refuses a leave from a button of a family the person has since left", async () => {
    const person = await citizen();
    const old = await family(await citizen(), [person]);
    await families.leave(person);
    const now = await family(await citizen(), [person]);
    expect(await families.leave(person, { groupId: old.id })).toMatchObject({ ok: false, reason: "stale" });
    expect((await memberRows(now.id)).map((m) => m.userId)).toContain(person);
  });

  it("lets only the owner remove members, never themselves, and only members of their family", async () => {
    const [owner, a, b] = [await citizen(), await citizen({ name: "Lò Văn Anh" }), await citizen()];
    const f = await family(owner, [a, b]);
    const outsider = await citizen();
    await family(outsider, [], "Gia đình khác");
    expect(await families.remove(a, b)).toMatchObject({ ok: false, reason: "not_owner" });
    expect(await families.remove(owner, owner)).toMatchObject({ ok: false, reason: "self" });
    expect(await families.remove(owner, outsider)).toMatchObject({ ok: false, reason: "not_a_member" });
    expect(await families.remove(owner, a, { groupId: f.id + 100_000 })).toMatchObject({ ok: false, reason: "stale" });
    expect(await families.remove(owner, a, { groupId: f.id })).toMatchObject({ ok: true, removed: { userId: a, name: "Lò Văn Anh" } });
    expect((await memberRows(f.id)).map((m) => m.userId)).toEqual([owner, b]);
    // The removed person may join another family now.
    expect(await families.create(a, { name: "Gia đình anh Anh" })).toMatchObject({ ok: true });
  });

  it("lets only the owner declare whether the children attend school", async () => {
    const [owner, member] = [await citizen(), await citizen()];
    const f = await family(owner, [member]);
    expect(await families.setChildrenInSchool(member, true)).toMatchObject({ ok: false, reason: "not_owner" });
    expect((await db.prisma.learningGroup.findUniqueOrThrow({ where: { id: f.id } })).childrenInSchool).toBeNull();
    expect(await families.setChildrenInSchool(owner, false, { groupId: f.id })).toMatchObject({ ok: true, childrenInSchool: false });
    expect((await db.prisma.learningGroup.findUniqueOrThrow({ where: { id: f.id } })).childrenInSchool).toBe(false);
  });
});

describe("status", () => {
  it("meets the criteria: two registered members and the children at school", async () => {
    const owner = await citizen();
    const f = await family(owner, [await citizen({ birthYear: 2012 })]);
    await families.setChildrenInSchool(owner, true);
    expect(await families.status(f.id)).toEqual({ groupId: f.id, met: true, members: 2, missing: [] });
  });

  it("is in progress while an adult member is not registered (their card erased since joining)", async () => {
    const owner = await citizen();
    const adult = await citizen();
    const f = await family(owner, [adult, await citizen()]);
    await families.setChildrenInSchool(owner, true);
    await db.prisma.learningCitizen.delete({ where: { userId: BigInt(adult) } });
    expect(await families.status(f.id)).toEqual({ groupId: f.id, met: false, members: 3, missing: [{ rule: "adults_registered", count: 1 }] });
    const mine = await families.mine(owner);
    expect(mine?.members.find((m) => m.userId === adult)).toMatchObject({ name: null, role: "member" });
  });

  it("is in progress while the children are not at school, or not declared yet", async () => {
    const owner = await citizen();
    const f = await family(owner, [await citizen()]);
    expect((await families.status(f.id))?.missing).toEqual([{ rule: "children_in_school", declared: "unknown" }]);
    await families.setChildrenInSchool(owner, false);
    expect(await families.status(f.id)).toMatchObject({ met: false, missing: [{ rule: "children_in_school", declared: "no" }] });
  });

  it("is in progress for a family of one", async () => {
    const owner = await citizen();
    const f = await family(owner);
    await families.setChildrenInSchool(owner, true);
    expect(await families.status(f.id)).toEqual({ groupId: f.id, met: false, members: 1, missing: [{ rule: "min_members", need: 2, have: 1 }] });
    expect(await families.statusOf(owner)).toMatchObject({ groupId: f.id, name: "Gia đình ông Lò Văn Páo", status: { met: false } });
    expect(await families.statusOf(await citizen())).toBeUndefined();
  });

  it("counts families per province and commune as a hand count does", async () => {
    const at = await place();
    // Commune 0: met, a family of one, children not at school. Commune 1: met, a card erased since joining.
    const specs = [
      { commune: 0, members: 1, kids: true, erase: false, met: true },
      { commune: 0, members: 0, kids: true, erase: false, met: false },
      { commune: 0, members: 2, kids: false, erase: false, met: false },
      { commune: 1, members: 1, kids: true, erase: false, met: true },
      { commune: 1, members: 1, kids: true, erase: true, met: false },
    ];
    for (const s of specs) {
      const owner = await citizen({ at, commune: s.commune });
      const others = [];
      for (let i = 0; i < s.members; i++) others.push(await citizen({ at, commune: s.commune }));
      await family(owner, others);
      await families.setChildrenInSchool(owner, s.kids);
      if (s.erase) await db.prisma.learningCitizen.delete({ where: { userId: BigInt(others[0]!) } });
    }
    const hand = (rows: typeof specs) => ({ total: rows.length, met: rows.filter((s) => s.met).length, inProgress: rows.filter((s) => !s.met).length });
    expect(await families.statusCounts({ provinceCode: at.province })).toEqual(hand(specs));
    expect(await families.statusCounts({ provinceCode: at.province, communeCode: at.communes[0]! })).toEqual(hand(specs.filter((s) => s.commune === 0)));
    expect(await families.statusCounts({ provinceCode: at.province, communeCode: at.communes[1]! })).toEqual(hand(specs.filter((s) => s.commune === 1)));
    expect(await families.statusCountsByCommune(at.province)).toEqual([
      { communeCode: at.communes[0], ...hand(specs.filter((s) => s.commune === 0)) },
      { communeCode: at.communes[1], ...hand(specs.filter((s) => s.commune === 1)) },
    ]);
  });
});

describe("criteria file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "khb-criteria-"));
  const base = () => JSON.parse(readFileSync(DEFAULT_FAMILY_CRITERIA_FILE, "utf8")) as GroupCriteria;
  const write = (name: string, data: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(data));
    return file;
  };

  it("loads the shipped file, with its thresholds and the facts it rests on", () => {
    const c = loadGroupCriteria();
    expect(c.rules.map((r) => r.key)).toEqual(["min_members", "adults_registered", "children_in_school"]);
    expect(c.rules[0]).toMatchObject({ min: 2 });
    expect(c.rules[1]).toMatchObject({ adultAge: 16 });
    expect(c.source.facts).toEqual(expect.arrayContaining(["L23", "L24"]));
    expect(c.note.vi).toContain("bộ tiêu chí chính thức của tỉnh");
  });

  it("refuses a file with a rule twice, an unknown rule or a bad threshold, naming the file and the place", () => {
    const twice = base();
    twice.rules.push(twice.rules[0]!);
    expect(() => loadGroupCriteria(write("twice.json", twice))).toThrow(/twice\.json: rules: each rule at most once/);
    const unknown = base() as unknown as { rules: Array<Record<string, unknown>> };
    unknown.rules[0]!.key = "hours";
    expect(() => loadGroupCriteria(write("unknown.json", unknown))).toThrow(/unknown\.json: rules\.0\.key/);
    const threshold = base() as unknown as { rules: Array<Record<string, unknown>> };
    threshold.rules[0]!.min = 0;
    expect(() => loadGroupCriteria(write("threshold.json", threshold))).toThrow(/threshold\.json: rules\.0\.min/);
  });

  it("applies a province's own thresholds and drops the rules it leaves out", async () => {
    const own = base();
    own.rules = own.rules.filter((r) => r.key !== "children_in_school").map((r) => (r.key === "min_members" ? { ...r, min: 3 } : r));
    const strict = new LearningGroups({ prisma: db.prisma, now: clock.now, logger: createLogger("silent"), criteria: loadGroupCriteria(write("own.json", own)) });
    const owner = await citizen();
    const f = await family(owner, [await citizen()]);
    expect(await strict.status(f.id)).toEqual({ groupId: f.id, met: false, members: 2, missing: [{ rule: "min_members", need: 3, have: 2 }] });
    await families.join(await citizen(), f.token);
    expect(await strict.status(f.id)).toMatchObject({ met: true, missing: [] });
    // The shipped criteria still want the children's declaration.
    expect(await families.status(f.id)).toMatchObject({ met: false });
  });
});

describe("personal data", () => {
  function registry() {
    // The order of createDeps: the family before the user row, whose cascade would skip the handover.
    const r = new PersonalDataRegistry(db.prisma);
    for (const part of [...families.dataParts(), ...citizenDataParts(db.prisma), ...userDataParts(db.prisma)]) r.register(part);
    return r;
  }

  it("exports the family's name, the role and the day joined", async () => {
    const owner = await citizen();
    await family(owner, [], "Gia đình bà Hoa");
    const data = await registry().exportAll(owner);
    expect(data.learning_family).toEqual({ name: "Gia đình bà Hoa", role: "owner", joinedAt: NOW.toISOString() });
    expect((await registry().exportAll(await citizen())).learning_family).toBeNull();
  });

  it("erases an owner as leaving does: ownership passes on, their row goes; the last one's erasure deletes the family", async () => {
    const [owner, member] = [await citizen(), await citizen()];
    const f = await family(owner, [member]);
    const r = registry();
    expect(await r.held(owner)).toContain("families:privacy_part");
    const erased = await r.erase(owner, clock.now());
    expect(erased.erased).toContain("families:privacy_part");
    expect(await memberRows(f.id)).toEqual([{ userId: member, role: "owner" }]);
    await r.erase(member, clock.now());
    expect(await db.prisma.learningGroup.count({ where: { id: f.id } })).toBe(0);
  });
});
