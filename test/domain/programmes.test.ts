import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CitizenService } from "../../src/domain/citizens/citizen-service.js";
import { GeoService } from "../../src/domain/geo/geo-service.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import { AssociationMembership } from "../../src/domain/targets/association-member.js";
import { TargetFigures } from "../../src/domain/targets/figures.js";
import { ProgrammeService, periodTextSchema, yearTargetTextSchema, type ProgrammeActor, type ProgrammeInput } from "../../src/domain/targets/programmes.js";
import { LearningGroups, loadGroupCriteria } from "../../src/domain/units/families.js";
import { UnitService } from "../../src/domain/units/units.js";
import type { Database } from "../../src/infra/database.js";
import { createLogger } from "../../src/logger.js";
import { openTestDatabase } from "../support/database.js";

let db: Database;
let programmes: ProgrammeService;
let units: UnitService;
let figures: TargetFigures;
const NOW = new Date("2026-06-01T03:00:00Z");
beforeAll(async () => {
  db = await openTestDatabase();
  const logger = createLogger("silent");
  programmes = new ProgrammeService({ prisma: db.prisma, now: () => NOW, logger });
  units = new UnitService({ prisma: db.prisma, now: () => NOW, logger });
  figures = new TargetFigures({ prisma: db.prisma, families: new LearningGroups({ prisma: db.prisma, now: () => NOW, logger, criteria: loadGroupCriteria() }) });
});
afterAll(() => db.close());

let nextId = 8_100_000;
let nextProvince = 5;

/** A province of this test's own with two communes, and another province. */
async function place() {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const other = provinces[(nextProvince + 10) % provinces.length]!;
  const [c1, c2] = await db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, other: other.code, c1: c1!.code, c2: c2!.code };
}
/** An officer with a user row (following needs one). */
async function officer(provinceCode: string, communeCode?: string): Promise<ProgrammeActor> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: provinceCode, scopeCommuneCode: communeCode ?? null } });
  return { role: "officer", scope: { provinceCode, communeCode }, id: String(id) };
}
const admin = (): ProgrammeActor => ({ role: "admin", scope: {}, id: String(++nextId) });
const resident = (): ProgrammeActor => ({ role: "resident", scope: {}, id: String(++nextId) });
const input = (provinceCode: string, over: Partial<ProgrammeInput> = {}): ProgrammeInput => ({
  name: "Phối hợp xây dựng xã hội học tập", provinceCode, bodies: ["association", "border_guard"], startYear: 2024, endYear: 2030,
  targets: [{ metric: "learning_citizens", percent: 80 }], ...over,
});
async function create(actor: ProgrammeActor, i: ProgrammeInput) {
  const r = await programmes.create(actor, i);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.programme;
}

describe("programme permissions", () => {
  it("admins anywhere, province officers in their province; commune officers read only; residents and other provinces refused", async () => {
    const p = await place();
    const provincial = await officer(p.province);
    const communal = await officer(p.province, p.c1);
    const elsewhere = await officer(p.other);
    const mine = await create(provincial, input(p.province));
    expect(mine).toMatchObject({ provinceCode: p.province, bodies: ["association", "border_guard"], startYear: 2024, endYear: 2030, targets: [{ metric: "learning_citizens", year: 0, percent: 80 }] });
    expect(await create(admin(), input(p.other, { name: "Chương trình của tỉnh khác" }))).toMatchObject({ provinceCode: p.other });
    expect(await programmes.create(provincial, input(p.other))).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await programmes.create(communal, input(p.province))).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await programmes.create(resident(), input(p.province))).toMatchObject({ ok: false, reason: "forbidden" });
    // The commune officer sees it (and may follow it), but may not change it.
    expect(await programmes.get(communal, mine.id)).toMatchObject({ ok: true, manage: false, following: false });
    expect(await programmes.update(communal, mine.id, { name: "Tên khác" })).toMatchObject({ ok: false, reason: "read_only" });
    expect(await programmes.setTarget(communal, mine.id, { metric: "members", year: 0, percent: 50 })).toMatchObject({ ok: false, reason: "read_only" });
    expect(await programmes.remove(communal, mine.id)).toMatchObject({ ok: false, reason: "read_only" });
    expect(await programmes.follow(communal, mine.id, true)).toEqual({ ok: true, following: true });
    // Another province's officer sees nothing of it.
    expect(await programmes.get(elsewhere, mine.id)).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await programmes.follow(elsewhere, mine.id, true)).toMatchObject({ ok: false });
    const listed = await programmes.list(elsewhere);
    expect(listed.ok && listed.items.map((i) => i.id)).not.toContain(mine.id);
    const own = await programmes.list(communal);
    expect(own.ok && own.items.map((i) => [i.id, i.manage, i.following])).toEqual([[mine.id, false, true]]);
    expect(await programmes.list(resident())).toMatchObject({ ok: false, reason: "forbidden" });
    // The creator follows by default.
    expect(await programmes.followers(mine.id)).toEqual([provincial.id, communal.id]);
    const name = await db.prisma.programme.findUniqueOrThrow({ where: { id: mine.id } });
    expect(name.name).toBe("Phối hợp xây dựng xã hội học tập");
  });

  it("a bootstrap admin with no user row yet follows what they create, and can unfollow and follow again", async () => {
    const p = await place();
    const a = admin();
    expect(await db.prisma.user.findUnique({ where: { id: BigInt(a.id) } })).toBeNull();
    const created = await create(a, input(p.province));
    expect(await programmes.followers(created.id)).toEqual([a.id]);
    expect(await programmes.follow(a, created.id, false)).toEqual({ ok: true, following: false });
    expect(await programmes.followers(created.id)).toEqual([]);
    expect(await programmes.follow(a, created.id, true)).toEqual({ ok: true, following: true });
    expect(await programmes.followers(created.id)).toEqual([a.id]);
  });

  it("scoreboard scopes: the province's officers any, a commune officer their commune, a unit head their unit of a participating body", async () => {
    const p = await place();
    const provincial = await officer(p.province);
    const communal = await officer(p.province, p.c1);
    const prog = await create(provincial, input(p.province, { bodies: ["border_guard"] }));
    const post = await units.create(provincial, { communeCode: p.c2, name: "Đồn Biên phòng A", kind: "border_post", headcount: 40 });
    const school = await units.create(provincial, { communeCode: p.c2, name: "Trường B", kind: "school", headcount: 40 });
    if (!post.ok || !school.ok) throw new Error("units");
    const headId = String(++nextId);
    await units.join(headId, post.unit.joinToken, "Trưởng đồn");
    await units.addHead({ ...provincial }, post.unit.id, headId);
    const head: ProgrammeActor = { role: "resident", scope: {}, id: headId };
    expect(await programmes.authorizeScope(provincial, prog.id, { kind: "commune", communeCode: p.c2 })).toMatchObject({ ok: true });
    expect(await programmes.authorizeScope(provincial, prog.id, { kind: "unit", unitId: post.unit.id })).toMatchObject({ ok: true, unitName: "Đồn Biên phòng A" });
    // A school is not of a participating body: not part of the programme.
    expect(await programmes.authorizeScope(provincial, prog.id, { kind: "unit", unitId: school.unit.id })).toMatchObject({ ok: false, reason: "scope" });
    expect(await programmes.authorizeScope(communal, prog.id, { kind: "commune", communeCode: p.c1 })).toMatchObject({ ok: true });
    expect(await programmes.authorizeScope(communal, prog.id, { kind: "commune", communeCode: p.c2 })).toMatchObject({ ok: false });
    expect(await programmes.authorizeScope(communal, prog.id, { kind: "programme" })).toMatchObject({ ok: false });
    expect(await programmes.authorizeScope(head, prog.id, { kind: "unit", unitId: post.unit.id })).toMatchObject({ ok: true });
    expect(await programmes.authorizeScope(head, prog.id, { kind: "programme" })).toMatchObject({ ok: false });
    expect(await programmes.scoreEntries(communal)).toEqual([{ programme: { id: prog.id, name: prog.name }, scope: { kind: "commune", communeCode: p.c1 } }]);
    expect(await programmes.scoreEntries(head)).toEqual([{ programme: { id: prog.id, name: prog.name }, scope: { kind: "unit", unitId: post.unit.id }, unitName: "Đồn Biên phòng A" }]);
    expect(await programmes.scoreEntries(resident())).toEqual([]);
  });
});

describe("targets", () => {
  it("validates names, bodies, periods and percentages with localised reasons; stores nothing on refusal", async () => {
    const p = await place();
    const o = await officer(p.province);
    const before = await db.prisma.programme.count();
    const keys = async (i: ProgrammeInput) => {
      const r = await programmes.create(o, i);
      return r.ok ? [] : r.errors.map((e) => e.key).sort();
    };
    expect(await keys(input(p.province, { name: "x", bodies: [] }))).toEqual(["programmes:errors.bodies", "programmes:errors.name_length"]);
    expect(await keys(input(p.province, { targets: [{ metric: "members", percent: 0 }] }))).toEqual(["programmes:errors.percent"]);
    expect(await keys(input(p.province, { targets: [{ metric: "members", percent: 101 }] }))).toEqual(["programmes:errors.percent"]);
    expect(await keys(input(p.province, { targets: [] }))).toEqual(["programmes:errors.no_target"]);
    expect(await keys(input(p.province, { startYear: 2030, endYear: 2024 }))).toEqual(["programmes:errors.period_order"]);
    expect(await keys(input(p.province, { startYear: 2020, endYear: 2035 }))).toEqual(["programmes:errors.period_long"]);
    expect(await keys(input(p.province, { targets: [{ metric: "members", year: 2031, percent: 50 }] }))).toEqual(["programmes:errors.year_outside"]);
    expect(await keys(input(p.province, { targets: [{ metric: "members", percent: 50 }, { metric: "members", percent: 60 }] }))).toEqual(["programmes:errors.target_twice"]);
    expect(await db.prisma.programme.count()).toBe(before);
    expect(periodTextSchema.parse("2024–2030")).toEqual({ startYear: 2024, endYear: 2030 });
    expect(periodTextSchema.parse(" 2024 đến 2030 ")).toEqual({ startYear: 2024, endYear: 2030 });
    expect(periodTextSchema.safeParse("2030-2024").error?.issues[0]?.message).toBe("programmes:errors.period_order");
    expect(periodTextSchema.safeParse("từ năm 2024").error?.issues[0]?.message).toBe("programmes:errors.period_format");
    expect(yearTargetTextSchema.parse("2026: 60%")).toEqual({ year: 2026, percent: 60 });
  });

  it("a year's own target beats the period's on the scoreboard of that year only", async () => {
    const p = await place();
    const o = await officer(p.province);
    const prog = await create(o, input(p.province));
    expect(await programmes.setTarget(o, prog.id, { metric: "learning_citizens", year: 2026, percent: 60 })).toMatchObject({ ok: true });
    expect(await programmes.setTarget(o, prog.id, { metric: "learning_citizens", year: 2031, percent: 60 })).toMatchObject({ ok: false, errors: [{ key: "programmes:errors.year_outside" }] });
    const target = async (year: number) => (await figures.scoreboard((await figures.programme(prog.id))!, { kind: "programme" }, year)).totals.find((t) => t.metric === "learning_citizens")!.target;
    expect(await target(2026)).toBe(60);
    expect(await target(2027)).toBe(80);
    // Shrinking the period under a year's own target is refused with that year named.
    expect(await programmes.update(o, prog.id, { startYear: 2027 })).toMatchObject({ ok: false, errors: [{ key: "programmes:errors.year_outside", params: { year: 2026, start: 2027, end: 2030 } }] });
    // The last target cannot be cleared; clearing the year's leaves the period's.
    expect(await programmes.setTarget(o, prog.id, { metric: "learning_citizens", year: 2026, percent: null })).toMatchObject({ ok: true });
    expect(await programmes.setTarget(o, prog.id, { metric: "learning_citizens", year: 0, percent: null })).toMatchObject({ ok: false, errors: [{ key: "programmes:errors.no_target" }] });
    expect(await target(2026)).toBe(80);
  });

  it("soft delete keeps the rows, lists and counts the programme nowhere; every change is audited with ids and counts only", async () => {
    const p = await place();
    const o = await officer(p.province);
    const prog = await create(o, input(p.province));
    await programmes.update(o, prog.id, { name: "Tên mới của chương trình", targets: [{ metric: "members", percent: 70 }, { metric: "learning_units", percent: 90 }] });
    await programmes.setTarget(o, prog.id, { metric: "members", year: 2027, percent: 40 });
    expect(await programmes.remove(o, prog.id)).toMatchObject({ ok: true });
    expect(await programmes.remove(o, prog.id)).toMatchObject({ ok: false, reason: "not_found" });
    const row = await db.prisma.programme.findUniqueOrThrow({ where: { id: prog.id }, include: { targets: true } });
    expect(row.deletedAt).toEqual(NOW);
    expect(row.targets).toHaveLength(3);
    expect(await figures.programme(prog.id)).toBeUndefined();
    const listed = await programmes.list(o);
    expect(listed.ok && listed.items.map((i) => i.id)).not.toContain(prog.id);
    expect(await programmes.scoreEntries(o)).not.toContainEqual(expect.objectContaining({ programme: expect.objectContaining({ id: prog.id }) }));
    const audit = await db.prisma.auditLog.findMany({ where: { actorId: BigInt(o.id) }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.detail])).toEqual([
      ["programme_created", { programmeId: prog.id, provinceCode: p.province, targets: 1 }],
      ["programme_updated", { programmeId: prog.id, fields: ["name", "targets"], targets: 2 }],
      ["programme_target_set", { programmeId: prog.id, metric: "members", year: 2027, cleared: false }],
      ["programme_removed", { programmeId: prog.id }],
    ]);
  });

  it("exports and erases an officer's programmes: follow rows go, the programme stays without its creator", async () => {
    const p = await place();
    const o = await officer(p.province);
    const prog = await create(o, input(p.province));
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of programmes.dataParts()) registry.register(part);
    const [part] = programmes.dataParts();
    expect(await part!.export(o.id)).toEqual({
      followed: [{ programmeId: prog.id, programme: prog.name, since: NOW.toISOString() }],
      created: [{ programmeId: prog.id, programme: prog.name, createdAt: expect.any(String) }],
    });
    expect(await part!.erase(o.id)).toBe(true);
    expect(await part!.exists(o.id)).toBe(false);
    expect(await db.prisma.programme.findUniqueOrThrow({ where: { id: prog.id } })).toMatchObject({ createdById: null, deletedAt: null });
    expect(await programmes.followers(prog.id)).toEqual([]);
  });
});

describe("the association-member declaration", () => {
  it("registering as an association member sets it; /myunits' toggle sets and clears it; the members total moves with it", async () => {
    const p = await place();
    const o = await officer(p.province);
    const prog = await create(o, input(p.province, { targets: [{ metric: "members", percent: 50 }] }));
    const post = await units.create(o, { communeCode: p.c1, name: "Đồn Biên phòng Hội viên", kind: "border_post", headcount: 4 });
    if (!post.ok) throw new Error("unit");
    const citizens = new CitizenService(db.prisma, new GeoService(db.prisma));
    const membership = new AssociationMembership({ prisma: db.prisma, now: () => NOW });
    const draft = (affiliation: "association_member" | "border_guard") => ({
      consentVersion: "1", consentAt: NOW.toISOString(), fullName: "Lò Văn Hội", birthYear: 1990, provinceCode: p.province, communeCode: p.c1, affiliation, goals: [],
    });
    const member = String(++nextId);
    const soldier = String(++nextId);
    await citizens.register(member, draft("association_member"), NOW);
    await citizens.register(soldier, draft("border_guard"), NOW);
    await units.join(member, post.unit.joinToken, "Hội");
    await units.join(soldier, post.unit.joinToken, "Lính");
    expect(await membership.since(member)).toEqual(NOW);
    expect(await membership.since(soldier)).toBeUndefined();
    const view = (await figures.programme(prog.id))!;
    const members = async () => (await figures.scoreboard(view, { kind: "unit", unitId: post.unit.id }, 2026)).totals.find((t) => t.metric === "members")!;
    expect(await members()).toMatchObject({ part: 1, whole: 4, target: 50, gap: 1 });
    expect(await membership.set(soldier, true)).toBe(true);
    expect(await members()).toMatchObject({ part: 2, gap: 0 });
    // Editing the affiliation to association member keeps an earlier date; clearing takes it off the count.
    await citizens.update(soldier, { field: "affiliation", affiliation: "association_member" });
    expect(await membership.since(soldier)).toEqual(NOW);
    expect(await membership.set(member, false)).toBe(true);
    expect(await members()).toMatchObject({ part: 1, gap: 1 });
    // Someone the bot does not know stores nothing.
    expect(await membership.set(String(++nextId), true)).toBe(false);
  });
});
