import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNIT_LIMITS } from "../../src/domain/units/model.js";
import { UnitService, type UnitActor, type UnitInput } from "../../src/domain/units/units.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import type { Database } from "../../src/infra/database.js";
import { createLogger } from "../../src/logger.js";
import { openTestDatabase } from "../support/database.js";

// One database per file; every test takes its own province (or names) and ids, so each passes alone.
let db: Database;
let units: UnitService;
const NOW = new Date("2026-12-01T03:00:00Z");
beforeAll(async () => {
  db = await openTestDatabase();
  units = new UnitService({ prisma: db.prisma, now: () => NOW, logger: createLogger("silent") });
});
afterAll(() => db.close());

let nextId = 7_300_000;
let nextProvince = 0;

/** A province no other test of this file uses, with two of its communes, and a commune elsewhere. */
async function place() {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const [c1, c2] = await db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  const elsewhere = await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: { not: p.code } }, orderBy: { code: "desc" } });
  return { province: p.code, c1: c1!.code, c2: c2!.code, elsewhere };
}
const officer = (provinceCode: string, communeCode?: string): UnitActor => ({ role: "officer", scope: { provinceCode, communeCode }, id: String(++nextId) });
const admin = (): UnitActor => ({ role: "admin", scope: {}, id: String(++nextId) });
const person = (): UnitActor => ({ role: "resident", scope: {}, id: String(++nextId) });
const input = (communeCode: string, name: string, over: Partial<UnitInput> = {}): UnitInput => ({ communeCode, name, kind: "border_post", headcount: 120, ...over });

async function create(actor: UnitActor, i: UnitInput) {
  const r = await units.create(actor, i);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.unit;
}
/** Someone who joined by the link; `registered` also gives them a learning card. */
async function joined(token: string, registered: boolean, name = "Tèo"): Promise<string> {
  const id = String(++nextId);
  if (registered) {
    await db.prisma.user.create({ data: { id: BigInt(id) } });
    await db.prisma.learningCitizen.create({
      data: { userId: BigInt(id), registrationNumber: `U-${id}`, fullName: `Lò Văn ${id}`, birthYear: 1990, provinceCode: "01", communeCode: "00004", affiliation: "border_guard", goals: [], registeredAt: NOW },
    });
  }
  const r = await units.join(id, token, name);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return id;
}

describe("creating units", () => {
  it("creates a unit in the officer's commune with the body of its kind, a join token, and an audit row with ids only", async () => {
    const p = await place();
    const o = officer(p.province, p.c1);
    const r = await units.create(o, input(p.c1, "  Đồn Biên phòng   Lũng Cú ", { headcount: 83 }));
    expect(r).toMatchObject({ ok: true, unit: { name: "Đồn Biên phòng Lũng Cú", kind: "border_post", body: "border_guard", provinceCode: p.province, communeCode: p.c1, headcount: 83, parentId: null } });
    const id = r.ok ? r.unit.id : 0;
    const row = await db.prisma.unit.findUniqueOrThrow({ where: { id } });
    expect(row.joinToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(row.createdById).toBe(BigInt(o.id));
    const audit = await db.prisma.auditLog.findMany({ where: { actorId: BigInt(o.id) } });
    expect(audit.map((a) => [a.action, a.detail])).toEqual([["unit_created", { unitId: id, communeCode: p.c1 }]]);
    // A school may belong to the association: the officer's choice of body is kept.
    expect(await units.create(o, input(p.c1, "Trường THCS Lũng Cú", { kind: "school", body: "association" }))).toMatchObject({ ok: true, unit: { body: "association" } });
  });

  it("refuses bad input with every reason and stores nothing", async () => {
    const p = await place();
    const o = officer(p.province);
    const before = await db.prisma.unit.count();
    const bad = await units.create(o, { communeCode: "123", name: "x", kind: "navy" as never, headcount: 0 });
    expect(bad).toMatchObject({ ok: false, reason: "invalid" });
    expect(!bad.ok && bad.errors.map((e) => e.key).sort()).toEqual(["units:errors.commune", "units:errors.headcount", "units:errors.kind", "units:errors.name_length"]);
    expect(await units.create(o, input(p.c1, "!!! ???"))).toMatchObject({ reason: "invalid", errors: [{ key: "units:errors.name_letters" }] });
    expect(await units.create(o, input(p.c1, "Đơn vị", { headcount: UNIT_LIMITS.headcountMax + 1 }))).toMatchObject({ reason: "invalid", errors: [{ key: "units:errors.headcount" }] });
    expect(await units.create(o, input(p.c1, "Đơn vị", { headcount: 2.5 }))).toMatchObject({ reason: "invalid" });
    expect(await units.create(o, input("99999", "Không có xã"))).toMatchObject({ reason: "invalid", errors: [{ key: "units:errors.commune" }] });
    expect(await db.prisma.unit.count()).toBe(before);
  });

  it("checks role and scope server-side: residents, officers without a province, another province, a neighbour commune; admins anywhere", async () => {
    const p = await place();
    expect(await units.create(person(), input(p.c1, "Người dân tạo"))).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await units.create({ role: "officer", scope: {}, id: String(++nextId) }, input(p.c1, "Không địa bàn"))).toMatchObject({ ok: false, reason: "no_scope" });
    expect(await units.create(officer(p.province), input(p.elsewhere.code, "Tỉnh khác"))).toMatchObject({ ok: false, reason: "out_of_scope" });
    expect(await units.create(officer(p.province, p.c1), input(p.c2, "Xã bên cạnh"))).toMatchObject({ ok: false, reason: "out_of_scope" });
    expect(await db.prisma.unit.count({ where: { name: { in: ["Người dân tạo", "Không địa bàn", "Tỉnh khác", "Xã bên cạnh"] } } })).toBe(0);
    expect(await units.create(admin(), input(p.elsewhere.code, "Quản trị tạo"))).toMatchObject({ ok: true, unit: { provinceCode: p.elsewhere.provinceCode } });
  });

  it("refuses a second unit of the same name in a commune (case, diacritics, spaces ignored) with the existing unit's number, also two at once", async () => {
    const p = await place();
    const o = officer(p.province);
    const first = await create(o, input(p.c1, "Trường Tiểu học Thống Nhất", { kind: "school" }));
    const dup = await units.create(o, input(p.c1, "truong tieu hoc  THONG NHAT", { kind: "school" }));
    expect(dup).toEqual({ ok: false, reason: "duplicate", errors: [{ key: "units:errors.duplicate", params: { id: first.id, name: "Trường Tiểu học Thống Nhất" } }] });
    // Another commune may have its own.
    expect((await units.create(o, input(p.c2, "Trường Tiểu học Thống Nhất", { kind: "school" }))).ok).toBe(true);
    const race = await Promise.all([units.create(o, input(p.c1, "Công an xã Cùng Lúc")), units.create(officer(p.province), input(p.c1, "Công an xã Cùng Lúc"))]);
    expect(race.filter((r) => r.ok)).toHaveLength(1);
    expect(race.filter((r) => !r.ok)).toMatchObject([{ reason: "duplicate" }]);
    expect(await db.prisma.unit.count({ where: { communeCode: p.c1, name: "Công an xã Cùng Lúc" } })).toBe(1);
  });

  it("puts a unit under a parent of the scope, and refuses a deleted or foreign parent, a cycle and a tree deeper than the limit", async () => {
    const p = await place();
    const o = officer(p.province);
    const command = await create(o, input(p.c1, "Bộ Chỉ huy Biên phòng tỉnh", { kind: "military_unit" }));
    const post = await create(o, input(p.c2, "Đồn Biên phòng Cửa khẩu", { parentId: command.id }));
    expect(post.parentId).toBe(command.id);
    const foreign = await create(admin(), input(p.elsewhere.code, `Đơn vị tỉnh khác ${nextId}`));
    expect(await units.create(o, input(p.c1, "Con của tỉnh khác", { parentId: foreign.id }))).toMatchObject({ reason: "parent", errors: [{ key: "units:errors.parent_out_of_scope" }] });
    expect(await units.create(o, input(p.c1, "Con của số lạ", { parentId: 2_000_000_000 }))).toMatchObject({ reason: "parent", errors: [{ key: "units:errors.parent_not_found" }] });
    // A cycle: the command under its own post, or under itself.
    expect(await units.update(o, command.id, { parentId: post.id })).toMatchObject({ ok: false, reason: "cycle" });
    expect(await units.update(o, command.id, { parentId: command.id })).toMatchObject({ ok: false, reason: "cycle" });
    // Depth: a chain of depthMax units is fine, one more is refused, also by moving a subtree.
    let parent = post.id;
    for (let depth = 3; depth <= UNIT_LIMITS.depthMax; depth++) parent = (await create(o, input(p.c1, `Cấp ${depth}`, { parentId: parent }))).id;
    expect(await units.create(o, input(p.c1, "Quá sâu", { parentId: parent }))).toMatchObject({ ok: false, reason: "too_deep", errors: [{ params: { max: UNIT_LIMITS.depthMax } }] });
    const small = await create(o, input(p.c1, "Tổ gốc"));
    await create(o, input(p.c1, "Tổ con", { parentId: small.id }));
    const deepest = (await db.prisma.unit.findFirstOrThrow({ where: { name: `Cấp ${UNIT_LIMITS.depthMax - 1}`, communeCode: p.c1 } })).id;
    expect(await units.update(o, small.id, { parentId: deepest })).toMatchObject({ ok: false, reason: "too_deep" });
    expect((await db.prisma.unit.findUniqueOrThrow({ where: { id: small.id } })).parentId).toBeNull();
    // A deleted parent takes no new units.
    const gone = await create(o, input(p.c1, "Sắp xóa"));
    await units.remove(o, gone.id);
    expect(await units.create(o, input(p.c1, "Con của đã xóa", { parentId: gone.id }))).toMatchObject({ reason: "parent", errors: [{ key: "units:errors.parent_not_found" }] });
  });
});

describe("editing, deleting and the join link", () => {
  it("refuses a headcount below the members registered, with the number, and accepts one at it", async () => {
    const p = await place();
    const o = officer(p.province);
    const u = await create(o, input(p.c1, "Đồn Biên phòng Quân số", { headcount: 10 }));
    for (let i = 0; i < 3; i++) await joined(u.joinToken, true);
    await joined(u.joinToken, false);
    const refused = await units.update(o, u.id, { headcount: 2 });
    expect(refused).toEqual({ ok: false, reason: "headcount_below_registered", errors: [{ key: "units:errors.headcount_below_registered", params: { registered: 3, headcount: 2 } }] });
    expect((await db.prisma.unit.findUniqueOrThrow({ where: { id: u.id } })).headcount).toBe(10);
    expect(await units.update(o, u.id, { headcount: 3 })).toMatchObject({ ok: true, changed: ["headcount"], unit: { headcount: 3 } });
  });

  it("edits name, kind (the body follows a default body), parent; an unchanged edit is not audited; a forged id of another province changes nothing", async () => {
    const p = await place();
    const o = officer(p.province);
    const u = await create(o, input(p.c1, "Trường Mầm non Hoa Sen", { kind: "school" }));
    expect(await units.update(o, u.id, { kind: "police_unit" })).toMatchObject({ ok: true, changed: ["kind", "body"], unit: { kind: "police_unit", body: "police" } });
    expect(await units.update(o, u.id, { body: "association" })).toMatchObject({ ok: true, changed: ["body"] });
    // An officer's chosen body stays when the kind changes again.
    expect(await units.update(o, u.id, { kind: "agency" })).toMatchObject({ ok: true, changed: ["kind"], unit: { body: "association" } });
    expect(await units.update(o, u.id, { name: "Trường Mầm non Hoa Mai" })).toMatchObject({ ok: true, changed: ["name"] });
    const audits = await db.prisma.auditLog.count({ where: { actorId: BigInt(o.id) } });
    expect(await units.update(o, u.id, { name: " Trường Mầm non  Hoa Mai" })).toMatchObject({ ok: true, changed: [] });
    expect(await db.prisma.auditLog.count({ where: { actorId: BigInt(o.id) } })).toBe(audits);
    const other = officer(p.elsewhere.provinceCode);
    expect(await units.update(other, u.id, { name: "Chiếm quyền" })).toMatchObject({ ok: false, reason: "out_of_scope" });
    expect(await units.remove(other, u.id)).toMatchObject({ ok: false, reason: "out_of_scope" });
    expect(await units.rotateToken(person(), u.id)).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await units.get(other, u.id)).toMatchObject({ ok: false, reason: "out_of_scope" });
    expect((await db.prisma.unit.findUniqueOrThrow({ where: { id: u.id } })).name).toBe("Trường Mầm non Hoa Mai");
  });

  it("soft-deletes: members stay recorded, the unit is listed nowhere, its link says it was deleted, and its name is free again", async () => {
    const p = await place();
    const o = officer(p.province);
    const u = await create(o, input(p.c1, "Tổ dân phố Số 5", { kind: "residential_group" }));
    const member = await joined(u.joinToken, true);
    const child = await create(o, input(p.c1, "Tổ con số 5", { parentId: u.id }));
    expect(await units.remove(o, u.id)).toMatchObject({ ok: false, reason: "has_children", errors: [{ params: { count: 1 } }] });
    await units.remove(o, child.id);
    expect(await units.remove(o, u.id)).toMatchObject({ ok: true });
    expect(await db.prisma.unitMember.count({ where: { unitId: u.id } })).toBe(1);
    const list = await units.list(o);
    expect(list.ok && list.items.map((i) => i.id)).not.toContain(u.id);
    expect(await units.mine(member)).toEqual([]);
    expect(await units.join(String(++nextId), u.joinToken, "Lan")).toEqual({ ok: false, reason: "deleted", errors: [{ key: "units:errors.deleted", params: { name: "Tổ dân phố Số 5" } }] });
    expect(await units.get(o, u.id)).toMatchObject({ ok: false, reason: "not_found" });
    expect(await units.update(o, u.id, { headcount: 5 })).toMatchObject({ ok: false, reason: "not_found" });
    expect(await units.matchByName(p.province, p.c1, "Tổ dân phố số 5")).toBeUndefined();
    expect((await units.create(o, input(p.c1, "Tổ dân phố số 5", { kind: "residential_group" }))).ok).toBe(true);
  });

  it("rotates the join token: the old link stops working, the new one works", async () => {
    const p = await place();
    const o = officer(p.province);
    const u = await create(o, input(p.c1, "Công an xã Đổi Mã", { kind: "police_unit" }));
    const r = await units.rotateToken(o, u.id);
    const fresh = r.ok ? r.unit.joinToken : "";
    expect(fresh).not.toBe(u.joinToken);
    expect(await units.join(String(++nextId), u.joinToken, "A")).toMatchObject({ ok: false, reason: "bad_token" });
    expect(await units.join(String(++nextId), "not-a-token", "A")).toMatchObject({ ok: false, reason: "bad_token" });
    expect(await units.join(String(++nextId), fresh, "A")).toMatchObject({ ok: true, already: false, unit: { id: u.id } });
    expect(await db.prisma.auditLog.count({ where: { actorId: BigInt(o.id), action: "unit_token_rotated" } })).toBe(1);
  });
});

describe("members", () => {
  it("joins idempotently (a user row for someone not registered, the Telegram name refreshed), leaves idempotently, lists the person's units", async () => {
    const p = await place();
    const u = await create(officer(p.province), input(p.c1, "Doanh nghiệp Chè Shan Tuyết", { kind: "enterprise" }));
    const id = String(++nextId);
    expect(await units.join(id, u.joinToken, "  Lò   Thị Mai ")).toMatchObject({ ok: true, already: false });
    expect(await units.join(id, u.joinToken, "Mai Lò")).toMatchObject({ ok: true, already: true });
    expect(await db.prisma.unitMember.findMany({ where: { unitId: u.id }, select: { displayName: true, role: true } })).toEqual([{ displayName: "Mai Lò", role: "member" }]);
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: BigInt(id) } })).toMatchObject({ role: "resident" });
    expect(await units.mine(id)).toEqual([{ id: u.id, name: "Doanh nghiệp Chè Shan Tuyết", provinceCode: p.province, communeCode: p.c1, kind: "enterprise", role: "member" }]);
    expect(await units.leave(id, u.id)).toMatchObject({ ok: true, left: true });
    expect(await units.leave(id, u.id)).toMatchObject({ ok: true, left: false });
    expect(await units.mine(id)).toEqual([]);
  });

  it("heads: officers appoint members (at most the limit), a head cannot remove another head, an officer can; a head may step down", async () => {
    const p = await place();
    const o = officer(p.province);
    const u = await create(o, input(p.c1, "Đồn Biên phòng Thủ Trưởng"));
    const first = await joined(u.joinToken, true);
    const second = await joined(u.joinToken, false, "Thủ trưởng Hai");
    const outsider = String(++nextId);
    expect(await units.addHead(o, u.id, outsider)).toMatchObject({ ok: false, reason: "not_member" });
    expect(await units.addHead(o, u.id, first)).toMatchObject({ ok: true, changed: true, name: `Lò Văn ${first}` });
    expect(await units.addHead(o, u.id, first)).toMatchObject({ ok: true, changed: false });
    expect(await units.addHead(o, u.id, second)).toMatchObject({ ok: true, changed: true, name: "Thủ trưởng Hai" });
    // A head is not an officer: heads appoint no one.
    const headActor: UnitActor = { role: "resident", scope: {}, id: second };
    const third = await joined(u.joinToken, false);
    expect(await units.addHead(headActor, u.id, third)).toMatchObject({ ok: false, reason: "forbidden" });
    // The second head removing the first: refused, as a head and as a member.
    expect(await units.removeHead(headActor, u.id, first)).toMatchObject({ ok: false, reason: "head_removing_head" });
    expect(await units.removeMember(headActor, u.id, first)).toMatchObject({ ok: false, reason: "head_removing_head" });
    expect(await db.prisma.unitMember.findUniqueOrThrow({ where: { unitId_userId: { unitId: u.id, userId: BigInt(first) } } })).toMatchObject({ role: "head" });
    // A head removes a plain member; an officer removes a head.
    expect(await units.removeMember(headActor, u.id, third)).toMatchObject({ ok: true, removed: true });
    expect(await units.removeHead(o, u.id, first)).toMatchObject({ ok: true, changed: true });
    expect(await units.removeHead(headActor, u.id, second)).toMatchObject({ ok: true, changed: true });
    expect(await db.prisma.unitMember.count({ where: { unitId: u.id, role: "head" } })).toBe(0);
    // The limit.
    const many = [];
    for (let i = 0; i <= UNIT_LIMITS.headsMax; i++) many.push(await joined(u.joinToken, false));
    for (const m of many.slice(0, UNIT_LIMITS.headsMax)) expect((await units.addHead(o, u.id, m)).ok).toBe(true);
    expect(await units.addHead(o, u.id, many.at(-1)!)).toMatchObject({ ok: false, reason: "heads_full", errors: [{ params: { max: UNIT_LIMITS.headsMax } }] });
    // Another province's officer and a plain member: refused.
    expect(await units.removeMember(officer(p.elsewhere.provinceCode), u.id, many[0]!)).toMatchObject({ ok: false, reason: "out_of_scope" });
    expect(await units.removeMember({ role: "resident", scope: {}, id: many.at(-1)! }, u.id, many[0]!)).toMatchObject({ ok: false, reason: "forbidden" });
  });

  it("shows the unregistered members' names to the unit's heads only; officers get the counts", async () => {
    const p = await place();
    const o = officer(p.province);
    const u = await create(o, input(p.c1, "Trường THPT Chưa Đăng Ký", { kind: "school", headcount: 40 }));
    const head = await joined(u.joinToken, true);
    await joined(u.joinToken, true);
    await joined(u.joinToken, false, "Vàng A Páo");
    await joined(u.joinToken, false, "Giàng Thị Dính");
    await units.addHead(o, u.id, head);
    expect(await units.unregistered({ role: "resident", scope: {}, id: head }, u.id)).toMatchObject({ ok: true, total: 2, names: [{ name: "Giàng Thị Dính" }, { name: "Vàng A Páo" }] });
    expect(await units.unregistered(o, u.id)).toMatchObject({ ok: false, reason: "heads_only" });
    expect(await units.unregistered(admin(), u.id)).toMatchObject({ ok: false, reason: "heads_only" });
    expect(await units.unregistered(person(), u.id)).toMatchObject({ ok: false, reason: "forbidden" });
    const view = await units.get(o, u.id);
    expect(view).toMatchObject({ ok: true, counts: { members: 4, registered: 2, heads: 1 }, manage: true, head: false });
    // Officers choosing a head see names, not who registered; heads see both.
    const forOfficer = await units.members(o, u.id);
    expect(forOfficer.ok && forOfficer.items.every((m) => m.registered === undefined)).toBe(true);
    const forHead = await units.members({ role: "resident", scope: {}, id: head }, u.id);
    expect(forHead.ok && forHead.items.filter((m) => m.registered === false).map((m) => m.name).sort()).toEqual(["Giàng Thị Dính", "Vàng A Páo"]);
  });
});

describe("counts", () => {
  it("lists the scope in tree order with members, registered and heads per unit; a commune officer sees their commune only", async () => {
    const p = await place();
    const o = officer(p.province);
    const command = await create(o, input(p.c1, "Bộ Chỉ huy Quân sự tỉnh", { kind: "military_unit", headcount: 500 }));
    const regiment = await create(o, input(p.c2, "Trung đoàn 1", { kind: "military_unit", parentId: command.id, headcount: 300 }));
    const company = await create(o, input(p.c2, "Đại đội A", { kind: "military_unit", parentId: regiment.id, headcount: 100 }));
    const alone = await create(o, input(p.c1, "Ấp Độc Lập", { kind: "residential_group", headcount: 50 }));
    await joined(company.joinToken, true);
    await joined(company.joinToken, false);
    await joined(regiment.joinToken, true);
    const list = await units.list(o);
    expect(list.ok && list.items.map((i) => [i.name, i.depth, i.members, i.registered])).toEqual([
      ["Ấp Độc Lập", 0, 0, 0],
      ["Bộ Chỉ huy Quân sự tỉnh", 0, 0, 0],
      ["Trung đoàn 1", 1, 1, 1],
      ["Đại đội A", 2, 2, 1],
    ]);
    expect(alone.id).toBeGreaterThan(0);
    // In c2 only: the regiment's parent is outside the list, so it starts the tree.
    const local = await units.list(officer(p.province, p.c2));
    expect(local.ok && local.items.map((i) => [i.name, i.depth])).toEqual([["Trung đoàn 1", 0], ["Đại đội A", 1]]);
    expect(await units.list(person())).toMatchObject({ ok: false, reason: "forbidden" });
    const paged = await units.list(o, { page: 1, pageSize: 3 });
    expect(paged).toMatchObject({ ok: true, page: 1, pages: 2, total: 4, items: [{ name: "Đại đội A" }] });
  });

  it("rolls counts up the tree in one query: a province command sees its posts", async () => {
    const p = await place();
    const o = officer(p.province);
    const command = await create(o, input(p.c1, "Bộ Chỉ huy BĐBP tỉnh", { kind: "military_unit", headcount: 20 }));
    const postA = await create(o, input(p.c1, "Đồn A", { parentId: command.id, headcount: 30 }));
    const postB = await create(o, input(p.c2, "Đồn B", { parentId: command.id, headcount: 40 }));
    const team = await create(o, input(p.c2, "Tổ công tác B1", { parentId: postB.id, headcount: 5 }));
    const gone = await create(o, input(p.c2, "Tổ đã giải thể", { parentId: postB.id, headcount: 99 }));
    await joined(command.joinToken, true);
    for (let i = 0; i < 3; i++) await joined(postA.joinToken, true);
    await joined(postA.joinToken, false);
    await joined(postB.joinToken, true);
    await joined(team.joinToken, true);
    await joined(team.joinToken, false);
    await joined(gone.joinToken, true);
    await units.remove(o, gone.id);
    const r = await units.tree(o, command.id);
    expect(r.ok && r.nodes.map((n) => [n.name, n.depth, n.headcount, n.members, n.registered, n.totalHeadcount, n.totalMembers, n.totalRegistered])).toEqual([
      ["Bộ Chỉ huy BĐBP tỉnh", 0, 20, 1, 1, 95, 8, 6],
      ["Đồn A", 1, 30, 4, 3, 30, 4, 3],
      ["Đồn B", 1, 40, 1, 1, 45, 3, 2],
      ["Tổ công tác B1", 2, 5, 2, 1, 5, 2, 1],
    ]);
    expect(await units.tree(officer(p.elsewhere.provinceCode), command.id)).toMatchObject({ ok: false, reason: "out_of_scope" });
  });
});

describe("registration's unit name and personal data", () => {
  it("matches a free-text unit name to the commune's unit, else the province's only one", async () => {
    const p = await place();
    const o = officer(p.province);
    const here = await create(o, input(p.c1, "Đồn Biên phòng Săm Pun"));
    const there = await create(o, input(p.c2, "Đồn Biên phòng Săm Pun"));
    const only = await create(o, input(p.c2, "Công an huyện cũ Mèo Vạc", { kind: "police_unit" }));
    expect(await units.matchByName(p.province, p.c1, "don bien phong sam pun")).toMatchObject({ id: here.id });
    expect(await units.matchByName(p.province, p.c2, "ĐỒN BIÊN PHÒNG SĂM PUN")).toMatchObject({ id: there.id });
    expect(await units.matchByName(p.province, p.c1, "Công an huyện cũ Mèo Vạc")).toMatchObject({ id: only.id });
    // Two in the province and none in the commune: no guess.
    const elsewhere = (await db.prisma.commune.findMany({ where: { provinceCode: p.province }, orderBy: { code: "asc" }, skip: 2, take: 1 }))[0]!;
    expect(await units.matchByName(p.province, elsewhere.code, "Đồn Biên phòng Săm Pun")).toBeUndefined();
    expect(await units.matchByName(p.elsewhere.provinceCode, p.elsewhere.code, "Đồn Biên phòng Săm Pun")).toBeUndefined();
    expect(await units.matchByName(p.province, p.c1, "…")).toBeUndefined();
    const id = String(++nextId);
    expect(await units.joinMatched(id, { provinceCode: p.province, communeCode: p.c1, name: "Đồn biên phòng Săm Pun" }, "Hoa")).toMatchObject({ ok: true, unit: { id: here.id } });
  });

  it("exports the person's units, role and Telegram name; erasure deletes the memberships and keeps the units they created without them", async () => {
    const p = await place();
    const o = officer(p.province);
    const u = await create(o, input(p.c1, "Cơ quan Dữ Liệu", { kind: "agency" }));
    const id = await joined(u.joinToken, false, "Hà Dữ Liệu");
    await units.addHead(o, u.id, id);
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of units.dataParts()) registry.register(part);
    expect(await registry.exportAll(id)).toEqual({
      unit_memberships: { memberships: [{ unitId: u.id, unit: "Cơ quan Dữ Liệu", role: "head", displayName: "Hà Dữ Liệu", joinedAt: NOW.toISOString() }], unitsCreated: [] },
    });
    expect(await registry.exportAll(o.id)).toMatchObject({ unit_memberships: { memberships: [], unitsCreated: [{ id: u.id, name: "Cơ quan Dữ Liệu" }] } });
    expect(await registry.held(id)).toEqual(["units:personal_data"]);
    expect(await registry.erase(id, NOW)).toEqual({ erased: ["units:personal_data"] });
    expect(await registry.erase(o.id, NOW)).toEqual({ erased: ["units:personal_data"] });
    expect(await db.prisma.unitMember.count({ where: { unitId: u.id } })).toBe(0);
    expect(await db.prisma.unit.findUniqueOrThrow({ where: { id: u.id } })).toMatchObject({ createdById: null, name: "Cơ quan Dữ Liệu" });
    expect(await registry.exportAll(id)).toEqual({ unit_memberships: null });
  });
});
