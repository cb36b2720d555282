import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import {
  ChecklistFileError, DEFAULT_CHECKLIST_FILE, LEARNING_UNIT_DECISION_KIND, LearningUnitChecklist, LearningUnits, learningUnitDecisionKind, parseChecklist,
  type LearningActor,
} from "../../src/domain/units/learning-units.js";
import { newToken, unitNameKey } from "../../src/domain/units/model.js";
import { createI18n } from "../../src/i18n.js";
import type { Database } from "../../src/infra/database.js";
import { createLogger } from "../../src/logger.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";

// Learning units against a real database: who may start, send and decide, the status and dates
// on the unit, the heads' notices as ledger rows rendered in each head's language, the checklist
// file's validation, /mydata and /deleteme for the deciding officer.

// Tuesday 1 December 2026, 10:00 in Vietnam.
const NOW = new Date("2026-12-01T03:00:00.000Z");
const clock = new ManualClock(NOW.getTime());
let db: Database;
let service: LearningUnits;
const released: Array<{ kind: string; ref: string }> = [];

beforeAll(async () => {
  db = await openTestDatabase();
  const deliveries: Pick<DeliveryScheduler, "release"> = { release: async (kind, ref) => void released.push({ kind, ref }) };
  service = new LearningUnits({ prisma: db.prisma, deliveries, checklist: new LearningUnitChecklist(), now: clock.now });
});
afterAll(() => db.close());
beforeEach(() => clock.set(NOW));

let nextId = 7_400_000;
let nextUnit = 0;

async function person(role: "resident" | "officer" | "admin" = "resident", scope: { provinceCode?: string; communeCode?: string } = {}, locale?: string): Promise<LearningActor> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id), role, locale: locale ?? null, scopeProvinceCode: scope.provinceCode ?? null, scopeCommuneCode: scope.communeCode ?? null } });
  return { id: String(id), role, scope };
}

async function citizen(p: LearningActor, communeCode: string, provinceCode: string): Promise<void> {
  await db.prisma.learningCitizen.create({
    data: { userId: BigInt(p.id), registrationNumber: `CDHT-T-${p.id}`, fullName: "Nguyễn Văn A", birthYear: 1990, provinceCode, communeCode, affiliation: "resident", registeredAt: NOW },
  });
}

/** A unit of the first commune of province 01 (or the given one) with a head, plus members of whom `citizens` registered. */
async function unitWithHead(opts: { communeIndex?: number; headcount?: number; members?: number; citizens?: number; headLocale?: string } = {}) {
  const communes = await db.prisma.commune.findMany({ where: { provinceCode: "01" }, orderBy: { code: "asc" }, take: 3 });
  const commune = communes[opts.communeIndex ?? 0]!;
  const name = `Trường Học-Tập-${++nextUnit}`;
  const unit = await db.prisma.unit.create({
    data: { name, nameKey: unitNameKey(name), kind: "school", body: "other", provinceCode: "01", communeCode: commune.code, headcount: opts.headcount ?? 10, joinToken: newToken() },
  });
  const head = await person("resident", {}, opts.headLocale);
  await db.prisma.unitMember.create({ data: { unitId: unit.id, userId: BigInt(head.id), role: "head", displayName: "Trưởng", joinedAt: NOW } });
  for (let i = 0; i < (opts.members ?? 0); i++) {
    const m = await person();
    await db.prisma.unitMember.create({ data: { unitId: unit.id, userId: BigInt(m.id), displayName: `Người ${i}`, joinedAt: NOW } });
    if (i < (opts.citizens ?? 0)) await citizen(m, commune.code, "01");
  }
  return { unit, head, commune };
}

const textOf = (o: unknown) => (o as { payload: { text: string } }).payload.text;
const decisionRows = (unitId: number) => db.prisma.delivery.findMany({ where: { kind: LEARNING_UNIT_DECISION_KIND, refId: { startsWith: `lud.${unitId}.` } }, orderBy: { id: "asc" } });

describe("learning units", () => {
  it("lets a head start and send the self-assessment with the learning-citizen share measured, records the status and date, and refuses a second sending", async () => {
    const { unit, head } = await unitWithHead({ headcount: 8, members: 6, citizens: 3 });
    const started = await service.start(head, unit.id);
    expect(started).toMatchObject({ ok: true, measured: { citizens: 3, headcount: 8 }, checklist: { version: "2026.1" } });
    if (!started.ok) throw new Error("not started");
    // 3 of 8 is 37.5%: under the 80% target, so the computed item is not met; the others start unticked.
    expect(started.answers).toEqual({ staff_learning_citizens: false, self_assessment: false, digital_skills: false, lifelong_learning_programme: false, emulation_movement: false, lifelong_learning_week: false });

    // A computed item sent as met is measured again on the server.
    const sent = await service.submit(head, unit.id, { staff_learning_citizens: true, self_assessment: true, digital_skills: true });
    expect(sent).toMatchObject({ ok: true, unit: { status: "pending", requestedAt: NOW, decidedAt: null } });
    const stored = await db.prisma.unit.findUniqueOrThrow({ where: { id: unit.id } });
    expect(stored.learningStatus).toBe("pending");
    expect(stored.learningRequestedAt).toEqual(NOW);
    expect(stored.learningAssessment).toEqual({
      checklistVersion: "2026.1",
      answers: { staff_learning_citizens: false, self_assessment: true, digital_skills: true, lifelong_learning_programme: false, emulation_movement: false, lifelong_learning_week: false },
      measured: { citizens: 3, headcount: 8 },
    });
    expect(await service.submit(head, unit.id, {})).toMatchObject({ ok: false, reason: "pending" });
    expect(await service.start(head, unit.id)).toMatchObject({ ok: false, reason: "pending", unit: { name: unit.name } });
    expect(await service.status(unit.id)).toMatchObject({ status: "pending", requestedAt: NOW, decidedAt: null, returnReason: null });
  });

  it("measures the share as met once enough members registered", async () => {
    const { unit, head } = await unitWithHead({ headcount: 5, members: 4, citizens: 4 });
    const started = await service.start(head, unit.id);
    expect(started).toMatchObject({ ok: true, measured: { citizens: 4, headcount: 5 }, answers: { staff_learning_citizens: true } });
  });

  it("lets only the unit's heads and officers of its place start or send; refuses unknown items and deleted units", async () => {
    const { unit, head, commune } = await unitWithHead({ communeIndex: 1 });
    const member = await person();
    await db.prisma.unitMember.create({ data: { unitId: unit.id, userId: BigInt(member.id), displayName: "Thành viên", joinedAt: NOW } });
    const otherProvince = await person("officer", { provinceCode: "79" });
    const neighbourCommune = await person("officer", { provinceCode: "01", communeCode: "00004" === commune.code ? "00008" : "00004" });
    for (const who of [member, otherProvince, neighbourCommune]) {
      expect(await service.start(who, unit.id)).toEqual({ ok: false, reason: "forbidden", unit: undefined });
      expect(await service.submit(who, unit.id, {})).toMatchObject({ ok: false, reason: "forbidden" });
    }
    expect(await service.start(await person("officer", { provinceCode: "01", communeCode: commune.code }), unit.id)).toMatchObject({ ok: true });
    expect(await service.start(await person("admin"), unit.id)).toMatchObject({ ok: true });
    expect(await service.submit(head, unit.id, { made_up_item: true })).toMatchObject({ ok: false, reason: "checklist_changed" });
    expect(await service.start(head, 999_999_999)).toMatchObject({ ok: false, reason: "not_found" });
    await db.prisma.unit.update({ where: { id: unit.id }, data: { deletedAt: NOW } });
    expect(await service.start(head, unit.id)).toMatchObject({ ok: false, reason: "not_found" });
    expect((await db.prisma.unit.findUniqueOrThrow({ where: { id: unit.id } })).learningStatus).toBe("none");
  });

  it("lists the units waiting in the officer's place, oldest first, with what was ticked and the share", async () => {
    const a = await unitWithHead({ communeIndex: 2, headcount: 4, members: 2, citizens: 1 });
    const b = await unitWithHead({ communeIndex: 2, headcount: 10 });
    await service.submit(a.head, a.unit.id, { self_assessment: true });
    clock.advance(60_000);
    await service.submit(b.head, b.unit.id, {});
    const officer = await person("officer", { provinceCode: "01", communeCode: a.commune.code });
    const list = await service.pending(officer, 0);
    if (!list.ok) throw new Error("refused");
    const mine = list.items.filter((u) => u.id === a.unit.id || u.id === b.unit.id);
    expect(mine).toEqual([
      { id: a.unit.id, name: a.unit.name, provinceCode: "01", communeCode: a.commune.code, headcount: 4, citizens: 1, requestedAt: NOW, ticked: 1, answered: 6 },
      { id: b.unit.id, name: b.unit.name, provinceCode: "01", communeCode: a.commune.code, headcount: 10, citizens: 0, requestedAt: new Date(NOW.getTime() + 60_000), ticked: 0, answered: 6 },
    ]);
    expect(list.items.every((u) => u.communeCode === a.commune.code)).toBe(true);
    const elsewhere = await service.pending(await person("officer", { provinceCode: "79" }), 0);
    expect(elsewhere.ok && elsewhere.items.some((u) => u.id === a.unit.id)).toBe(false);
    expect(await service.pending(await person(), 0)).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await service.pending(await person("officer"), 0)).toMatchObject({ ok: false, reason: "no_scope" });
  });

  it("approves or returns only by an officer of the place, a return needing a reason of 5–500 characters; records who and when, queues and renders the heads' notices", async () => {
    const { unit, head } = await unitWithHead({ headLocale: "en" });
    const secondHead = await person("resident", {}, "vi");
    await db.prisma.unitMember.create({ data: { unitId: unit.id, userId: BigInt(secondHead.id), role: "head", displayName: "Phó", joinedAt: NOW } });
    await service.submit(head, unit.id, { self_assessment: true });
    const officer = await person("officer", { provinceCode: "01" });

    expect(await service.decide(await person("officer", { provinceCode: "79" }), unit.id, "approve")).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await service.decide(head, unit.id, "approve")).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await service.decide(officer, unit.id, "return")).toMatchObject({ ok: false, reason: "reason_length" });
    expect(await service.decide(officer, unit.id, "return", "  sửa \n ")).toMatchObject({ ok: false, reason: "reason_length" });
    expect(await service.decide(officer, unit.id, "return", "x".repeat(501))).toMatchObject({ ok: false, reason: "reason_length" });
    expect(await decisionRows(unit.id)).toEqual([]);

    clock.advance(3_600_000);
    released.length = 0;
    const returned = await service.decide(officer, unit.id, "return", "Thiếu minh chứng <Tuần lễ học tập>");
    expect(returned).toMatchObject({ ok: true, notified: 2, unit: { status: "returned", returnReason: "Thiếu minh chứng <Tuần lễ học tập>", decidedAt: clock.now() } });
    const row = await db.prisma.unit.findUniqueOrThrow({ where: { id: unit.id } });
    expect([row.learningDecidedById, row.learningDecidedAt]).toEqual([BigInt(officer.id), clock.now()]);
    const stamp = Math.floor(clock.now().getTime() / 1000);
    const rows = await decisionRows(unit.id);
    expect(rows.map((r) => [r.refId, String(r.chatId), r.state]).sort()).toEqual([[`lud.${unit.id}.r.${stamp}`, head.id, "queued"], [`lud.${unit.id}.r.${stamp}`, secondHead.id, "queued"]].sort());
    expect(released).toEqual([{ kind: LEARNING_UNIT_DECISION_KIND, ref: `lud.${unit.id}.r.${stamp}` }]);
    expect(await service.decide(officer, unit.id, "approve")).toMatchObject({ ok: false, reason: "not_pending" });

    // The notices, rendered the way the worker claims them: one query for the batch, each head's language.
    const kind = learningUnitDecisionKind({ prisma: db.prisma, i18n: await createI18n() });
    const claimed = rows.map((r) => ({ id: String(r.id), kind: r.kind, refId: r.refId, chatId: Number(r.chatId), locale: String(r.chatId) === head.id ? "en" : "vi", attempts: 0 }));
    const rendered = await kind.render(claimed, { call: async () => undefined, now: clock.now });
    const texts = claimed.map((c) => textOf(rendered.get(c.id)));
    const date = "01/12/2026";
    expect(texts[claimed.findIndex((c) => String(c.chatId) === head.id)]).toBe(
      `↩️ The «Learning Unit» self-assessment of <b>${unit.name}</b> was returned on ${date}.\nReason: Thiếu minh chứng &lt;Tuần lễ học tập&gt;\nFix it and send it again: /learning_unit`);
    expect(texts[claimed.findIndex((c) => String(c.chatId) === secondHead.id)]).toContain(`của <b>${unit.name}</b> được trả lại ngày ${date}.\nLý do: Thiếu minh chứng &lt;Tuần lễ học tập&gt;`);

    // Sent again and approved: the returned notice (not yet sent) is now stale and skipped.
    expect(await service.start(head, unit.id)).toMatchObject({ ok: true, answers: { self_assessment: true }, unit: { status: "returned", returnReason: "Thiếu minh chứng <Tuần lễ học tập>" } });
    clock.advance(60_000);
    expect(await service.submit(head, unit.id, { self_assessment: true, lifelong_learning_week: true })).toMatchObject({ ok: true, unit: { status: "pending", decidedAt: null, returnReason: null } });
    clock.advance(60_000);
    expect(await service.decide(officer, unit.id, "approve")).toMatchObject({ ok: true, notified: 2, unit: { status: "approved", returnReason: null } });
    expect(await service.status(unit.id)).toMatchObject({ status: "approved", decidedAt: clock.now(), requestedAt: new Date(NOW.getTime() + 3_660_000) });
    const stale = await kind.render(claimed.slice(0, 1), { call: async () => undefined, now: clock.now });
    expect(stale.get(claimed[0]!.id)).toEqual({ skip: "decided again" });
    const approvedRows = (await decisionRows(unit.id)).filter((r) => r.refId.includes(".a."));
    const approved = await kind.render(approvedRows.map((r) => ({ id: String(r.id), kind: r.kind, refId: r.refId, chatId: Number(r.chatId), locale: null, attempts: 0 })), { call: async () => undefined, now: clock.now });
    expect([...approved.values()].map(textOf)).toEqual([
      `🎉 <b>${unit.name}</b> đã được duyệt đăng ký «Đơn vị học tập» ngày ${date}.`, `🎉 <b>${unit.name}</b> đã được duyệt đăng ký «Đơn vị học tập» ngày ${date}.`,
    ]);
    expect(await service.start(head, unit.id)).toMatchObject({ ok: false, reason: "approved" });
    // A head removed meanwhile is not told.
    await db.prisma.unitMember.delete({ where: { unitId_userId: { unitId: unit.id, userId: BigInt(secondHead.id) } } });
    const gone = await kind.render(approvedRows.map((r) => ({ id: String(r.id), kind: r.kind, refId: r.refId, chatId: Number(r.chatId), locale: null, attempts: 0 })), { call: async () => undefined, now: clock.now });
    expect([...gone.values()].filter((o) => "skip" in o)).toEqual([{ skip: "no longer a head" }]);
  });

  it("exports the deciding officer's decisions on /mydata and keeps the decisions without the id on /deleteme", async () => {
    const { unit, head } = await unitWithHead();
    await service.submit(head, unit.id, {});
    const officer = await person("admin");
    await service.decide(officer, unit.id, "approve");
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of service.dataParts()) registry.register(part);
    expect((await registry.exportAll(officer.id)).learning_unit_decisions).toEqual([{ unitId: unit.id, unit: unit.name, status: "approved", decidedAt: NOW.toISOString(), returnReason: null }]);
    expect(await registry.held(officer.id)).toEqual(["learning-units:personal_data"]);
    expect(await registry.erase(officer.id, NOW)).toEqual({ erased: ["learning-units:personal_data"] });
    expect(await db.prisma.unit.findUniqueOrThrow({ where: { id: unit.id } })).toMatchObject({ learningStatus: "approved", learningDecidedAt: NOW, learningDecidedById: null });
  });
});

describe("learning-unit checklist file", () => {
  it("loads the shipped checklist: V/S sources only, the official criteria named, a computed share", () => {
    const checklist = parseChecklist(readFileSync(DEFAULT_CHECKLIST_FILE, "utf8"));
    expect(checklist.items.map((i) => i.id)).toEqual(["staff_learning_citizens", "self_assessment", "digital_skills", "lifelong_learning_programme", "emulation_movement", "lifelong_learning_week"]);
    for (const item of checklist.items) expect(item.source).toMatch(/facts\.md L\d+ [VS]/);
    expect(checklist.items[0]!.computed).toEqual({ measure: "staff_learning_citizens", targetPercent: 80 });
    expect(checklist.criteriaDocuments.map((d) => d.source)).toEqual(["facts.md L20 (V)", "facts.md L21 (V)"]);
    expect(checklist.note.vi).toContain("QĐ 448/QĐ-KHVN");
  });

  it("refuses a bad file naming each problem, and keeps the last good checklist when an edit breaks it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "checklist-"));
    const file = path.join(dir, "c.json");
    const good = JSON.parse(readFileSync(DEFAULT_CHECKLIST_FILE, "utf8")) as { version: string; items: Array<Record<string, unknown>> };
    const broken = { ...good, items: [...good.items, { ...good.items[1], vi: "" }, { id: "Bad Id", short: { vi: "a", en: "b" }, vi: "x", en: "y", source: "z" }] };
    writeFileSync(file, JSON.stringify(broken));
    let error: unknown;
    try {
      new LearningUnitChecklist(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChecklistFileError);
    expect((error as ChecklistFileError).issues).toEqual(expect.arrayContaining(["items.6.vi: Too small: expected string to have >=1 characters", "items: item ids must be unique", expect.stringMatching(/^items\.7\.id: /)]));
    expect(() => parseChecklist("{ not json")).toThrow(ChecklistFileError);

    writeFileSync(file, JSON.stringify(good));
    const loader = new LearningUnitChecklist(file, createLogger("silent"));
    expect(loader.current().version).toBe("2026.1");
    // An admin edits the file: the next read sees it, no restart.
    writeFileSync(file, JSON.stringify({ ...good, version: "2027.1", items: good.items.slice(0, 2) }));
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(loader.current()).toMatchObject({ version: "2027.1", items: [{ id: "staff_learning_citizens" }, { id: "self_assessment" }] });
    writeFileSync(file, "{ broken");
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    expect(loader.current().version).toBe("2027.1");
  });
});
