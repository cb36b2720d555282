import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Workbook } from "exceljs";
import type { DeliveryCounts, DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import { NominationService, type Actor, type NominationInput } from "../../src/domain/scholarships/nominations.js";
import { NOMINATION_RETENTION_DAYS, NOMINATION_STATUS_KIND, addDays, nominationsCloseAt, vnDayAt } from "../../src/domain/scholarships/model.js";
import type { Database } from "../../src/infra/database.js";
import { createLogger } from "../../src/logger.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";
import { makeRound } from "../support/scholarships.js";

// Nominations against a real database: every refusal of create, the duplicate under two creates
// at once, who sees what (the nominator, the round's officers, nobody else), status notices as
// ledger rows, counts by commune, the CSV and XLSX exports, /mydata and /deleteme, and the purge
// after the retention period with a moved clock.

// Sunday 6 December 2026, 08:00 in Vietnam.
const NOW = new Date("2026-12-06T01:00:00.000Z");
const DAY = 86_400_000;
const clock = new ManualClock(NOW.getTime());
let db: Database;
let service: NominationService;
const released: Array<{ kind: string; ref: string }> = [];

beforeAll(async () => {
  db = await openTestDatabase();
  const ledger = new Ledger(db.prisma);
  // The ledger is the record; the queue is not under test here: releases are only noted.
  const deliveries: DeliveryScheduler = {
    release: async (kind, ref) => void released.push({ kind, ref }),
    schedule: (kind, ref, chats, due) => ledger.insert(kind, ref, chats, due),
    reschedule: (kind, ref, due) => ledger.reschedule(kind, ref, due),
    cancel: (kind, ref, reason) => ledger.cancel(kind, ref, reason ?? "cancelled"),
    counts: (kind, ref): Promise<DeliveryCounts> => ledger.counts(kind, ref),
  };
  service = new NominationService({ prisma: db.prisma, deliveries, now: clock.now, logger: createLogger("silent") });
});
afterAll(() => db.close());
beforeEach(() => clock.set(NOW));

let nextId = 9_700_100;
let placeIndex = 11;

interface Place {
  province: string;
  commune: string;
  otherCommune: string;
  otherProvince: string;
  otherProvinceCommune: string;
}

/** A province with two communes, and another province: each test its own. */
async function place(): Promise<Place> {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[placeIndex++ % provinces.length]!;
  const q = provinces[placeIndex++ % provinces.length]!;
  const communes = await db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  const other = await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: q.code }, orderBy: { code: "asc" } });
  return { province: p.code, commune: communes[0]!.code, otherCommune: communes[1]!.code, otherProvince: q.code, otherProvinceCommune: other.code };
}

async function person(role: "resident" | "member" | "officer" | "admin", scope: { provinceCode?: string; communeCode?: string } = {}): Promise<Actor> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id), role, scopeProvinceCode: scope.provinceCode ?? null, scopeCommuneCode: scope.communeCode ?? null } });
  return { id: String(id), role, scope };
}

/** A resident who registered as a learning citizen (their name is the guardian's name). */
async function registeredParent(p: Place, fullName: string): Promise<Actor> {
  const a = await person("resident");
  await db.prisma.learningCitizen.create({
    data: { userId: BigInt(a.id), registrationNumber: `CDHT-${p.province}-2026-${a.id.slice(-6)}`, fullName, birthYear: 1985, provinceCode: p.province, communeCode: p.commune, affiliation: "resident", goals: ["law"], registeredAt: NOW },
  });
  return a;
}

function input(communeCode: string, over: Partial<NominationInput> = {}): NominationInput {
  return {
    relationship: "member", studentName: "Nguyễn Thị Lan", birthYear: 2014, school: "Trường THCS Lê Lợi", schoolLevel: "lower_secondary", grade: 6,
    communeCode, circumstances: [], guardianName: "Nguyễn Văn Bình", consent: true, ...over,
  };
}

async function nominated(actor: Actor, roundId: number, communeCode: string, over: Partial<NominationInput> = {}) {
  const r = await service.create(actor, roundId, input(communeCode, over));
  if (!r.ok) throw new Error(`not nominated: ${JSON.stringify(r.errors)}`);
  return r.nomination;
}

const statusRows = (nominationId: number) =>
  db.prisma.delivery.findMany({ where: { kind: NOMINATION_STATUS_KIND, refId: { startsWith: `shs.${nominationId}.` } }, orderBy: { id: "asc" } });

describe("nominating a student", () => {
  it("stores a nomination with only the circumstances the round asks about, the consent time and the parent's registered name", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province, rules: { levels: ["lower_secondary"], circumstances: ["poor", "orphan"] } });
    const parent = await registeredParent(p, "Trần Thị Mai");
    const r = await service.create(parent, round.id, input(p.commune, { relationship: "parent", circumstances: ["orphan"], guardianName: null }));
    expect(r.ok).toBe(true);
    const row = await db.prisma.nomination.findFirstOrThrow({ where: { nominatorId: BigInt(parent.id) } });
    expect(row).toMatchObject({
      roundId: round.id, relationship: "parent", studentName: "Nguyễn Thị Lan", birthYear: 2014, schoolLevel: "lower_secondary", grade: 6,
      provinceCode: p.province, communeCode: p.commune, circumstances: ["orphan"], guardianName: "Trần Thị Mai", status: "received", studentKey: "nguyenthilan.2014",
    });
    expect(row.guardianConsentAt.toISOString()).toBe(NOW.toISOString());
  });

  it("lets a resident who never registered nominate their own child, with the guardian's name typed (their user row is made)", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province });
    const stranger: Actor = { id: String(++nextId), role: "resident", scope: {} };
    const r = await service.create(stranger, round.id, input(p.commune, { relationship: "parent", guardianName: "Lò Văn Páo" }));
    expect(r.ok && r.nomination.guardianName).toBe("Lò Văn Páo");
    expect(await db.prisma.user.count({ where: { id: BigInt(stranger.id) } })).toBe(1);
    // Without a registered or typed name there is no guardian.
    const again = await service.create(stranger, round.id, input(p.commune, { relationship: "parent", studentName: "Lò Thị Dua", guardianName: null }));
    expect(again).toMatchObject({ ok: false, reason: "invalid", errors: [{ key: "nominations:errors.guardian_name" }] });
  });

  it("refuses a missing, cancelled, upcoming or closed round with the reason and the dates", async () => {
    const p = await place();
    const member = await person("member");
    expect(await service.create(member, 987_654_321, input(p.commune))).toMatchObject({ ok: false, reason: "not_found", errors: [{ key: "nominations:errors.round_not_found" }] });
    const cancelled = await makeRound(db.prisma, NOW, { provinceCode: p.province, state: "cancelled" });
    expect(await service.create(member, cancelled.id, input(p.commune))).toMatchObject({ ok: false, reason: "cancelled" });
    const upcoming = await makeRound(db.prisma, NOW, { provinceCode: p.province, opensIn: 3 });
    expect(await service.create(member, upcoming.id, input(p.commune))).toMatchObject({ ok: false, reason: "not_open", errors: [{ key: "nominations:errors.not_open", params: { opens: "09/12/2026" } }] });
    const closedEarly = await makeRound(db.prisma, NOW, { provinceCode: p.province, state: "closed" });
    expect(await service.create(member, closedEarly.id, input(p.commune))).toMatchObject({ ok: false, reason: "closed" });

    const open = await makeRound(db.prisma, NOW, { provinceCode: p.province, deadlineIn: 1 });
    // 23:59 on the deadline day in Vietnam still counts; midnight does not.
    clock.set(new Date(nominationsCloseAt(open.deadlineOn).getTime() - 60_000));
    expect((await service.create(member, open.id, input(p.commune, { studentName: "Đinh Văn Tú" }))).ok).toBe(true);
    clock.set(nominationsCloseAt(open.deadlineOn));
    expect(await service.create(member, open.id, input(p.commune))).toMatchObject({ ok: false, reason: "closed", errors: [{ key: "nominations:errors.closed", params: { deadline: "07/12/2026" } }] });
    expect(await db.prisma.nomination.count({ where: { nominatorId: BigInt(member.id) } })).toBe(1);
  });

  it("lets a resident nominate only as a parent, and members not as officers", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province });
    const resident = await person("resident");
    expect(await service.create(resident, round.id, input(p.commune, { relationship: "member" }))).toMatchObject({ ok: false, reason: "relationship" });
    const member = await person("member");
    expect(await service.create(member, round.id, input(p.commune, { relationship: "officer" }))).toMatchObject({ ok: false, reason: "relationship" });
    const officer = await person("officer", { provinceCode: p.province, communeCode: p.commune });
    expect((await service.create(officer, round.id, input(p.commune, { relationship: "officer" }))).ok).toBe(true);
  });

  it("refuses a nomination whose rules are clearly not met, naming the rule", async () => {
    const p = await place();
    const member = await person("member");
    const round = await makeRound(db.prisma, NOW, {
      provinceCode: p.province, rules: { levels: ["lower_secondary", "upper_secondary"], gradeMin: 8, gradeMax: 12, communeCodes: [p.commune], circumstances: ["poor", "near_poor"] },
    });
    const ok = { grade: 9, circumstances: ["near_poor" as const] };
    expect(await service.create(member, round.id, input(p.commune, { ...ok, grade: 7 }))).toMatchObject({
      ok: false, reason: "rules_not_met", errors: [{ key: "nominations:errors.rules_not_met" }, { key: "nominations:errors.rule_grade", params: { min: 8, max: 12 } }],
    });
    expect(await service.create(member, round.id, input(p.commune, { ...ok, schoolLevel: "primary", grade: 5 }))).toMatchObject({
      reason: "rules_not_met", errors: [{}, { key: "nominations:errors.rule_level" }],
    });
    expect(await service.create(member, round.id, input(p.otherCommune, ok))).toMatchObject({ reason: "rules_not_met", errors: [{}, { key: "nominations:errors.rule_place" }] });
    expect(await service.create(member, round.id, input(p.otherProvinceCommune, ok))).toMatchObject({ reason: "rules_not_met", errors: [{}, { key: "nominations:errors.rule_place" }] });
    expect(await service.create(member, round.id, input(p.commune, { ...ok, circumstances: [] }))).toMatchObject({
      reason: "rules_not_met", errors: [{}, { key: "nominations:errors.rule_circumstances" }],
    });
    // "All of" names each circumstance missing.
    const all = await makeRound(db.prisma, NOW, { provinceCode: p.province, rules: { circumstances: ["poor", "border_commune"], circumstancesMode: "all" } });
    expect(await service.create(member, all.id, input(p.commune, { circumstances: ["poor"] }))).toMatchObject({
      reason: "rules_not_met", errors: [{}, { key: "nominations:errors.rule_border_commune" }],
    });
    expect((await service.create(member, round.id, input(p.commune, ok))).ok).toBe(true);
  });

  it("refuses bad input: birth year, grade outside its level, a circumstance the round does not ask, no consent", async () => {
    const p = await place();
    const member = await person("member");
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province, rules: { circumstances: ["poor"] } });
    const refused = async (over: Partial<NominationInput>) => service.create(member, round.id, input(p.commune, { circumstances: ["poor"], ...over }));
    expect(await refused({ birthYear: 2025 })).toMatchObject({ reason: "invalid", errors: [{ key: "nominations:errors.birth_year" }] });
    expect(await refused({ birthYear: 1990 })).toMatchObject({ reason: "invalid", errors: [{ key: "nominations:errors.birth_year" }] });
    expect(await refused({ schoolLevel: "primary", grade: 7 })).toMatchObject({ reason: "invalid", errors: [{ key: "nominations:errors.grade" }] });
    expect(await refused({ schoolLevel: "university", grade: 12 })).toMatchObject({ reason: "invalid", errors: [{ key: "nominations:errors.grade" }] });
    expect(await refused({ studentName: "Lan" })).toMatchObject({ reason: "invalid", errors: [{ key: "nominations:errors.student_name" }] });
    expect(await refused({ circumstances: ["poor", "orphan"] })).toMatchObject({ reason: "invalid", errors: [{ key: "nominations:errors.circumstance" }] });
    expect(await refused({ consent: false })).toMatchObject({ reason: "no_consent", errors: [{ key: "nominations:errors.no_consent" }] });
    expect(await db.prisma.nomination.count({ where: { roundId: round.id } })).toBe(0);
    const uni = await refused({ schoolLevel: "university", grade: null, birthYear: 2006, school: "Đại học Hải Phòng" });
    expect(uni.ok && uni.nomination.grade).toBeNull();
  });

  it("refuses the same student twice in a round, however the name is typed, but not in another round", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province });
    const other = await makeRound(db.prisma, NOW, { provinceCode: p.province });
    const a = await person("member");
    const b = await person("member");
    await nominated(a, round.id, p.commune, { studentName: "Nguyễn Thị Lan" });
    expect(await service.create(b, round.id, input(p.commune, { studentName: "nguyen thi  LAN" }))).toMatchObject({
      ok: false, reason: "duplicate", errors: [{ key: "nominations:errors.duplicate", params: { name: "nguyen thi LAN", year: 2014 } }],
    });
    expect((await service.create(b, round.id, input(p.commune, { studentName: "Nguyễn Thị Lan", birthYear: 2013, grade: 7 }))).ok).toBe(true);
    expect((await service.create(b, other.id, input(p.commune))).ok).toBe(true);
  });

  it("keeps one nomination when two people nominate the same student at the same moment", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province });
    const people = await Promise.all([person("member"), person("member"), person("member")]);
    const results = await Promise.all(people.map((x) => service.create(x, round.id, input(p.commune, { studentName: "Hoàng Văn Nam" }))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(["duplicate", "duplicate"]);
    expect(await db.prisma.nomination.count({ where: { roundId: round.id } })).toBe(1);
  });
});

describe("the nominator's own nominations", () => {
  it("lists, shows and withdraws only the nominator's own; withdrawing deletes the row and its queued notice", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province, programme: "Nâng bước em tới trường" });
    const me = await person("member");
    const someone = await person("member");
    const mine = await nominated(me, round.id, p.commune, { studentName: "Vàng Thị Mỷ" });
    const theirs = await nominated(someone, round.id, p.commune, { studentName: "Giàng A Páo" });
    expect(await service.mine(me.id)).toMatchObject([{ id: mine.id, programme: "Nâng bước em tới trường", studentName: "Vàng Thị Mỷ", status: "received" }]);
    expect(await service.view(me.id, mine.id)).toMatchObject({ ok: true, nomination: { studentName: "Vàng Thị Mỷ", communeCode: p.commune } });
    expect(await service.view(me.id, theirs.id)).toMatchObject({ ok: false, reason: "not_found" });
    expect(await service.withdraw(me.id, theirs.id)).toMatchObject({ ok: false, reason: "not_found" });

    const officer = await person("officer", { provinceCode: p.province });
    await service.setStatus(officer, mine.id, "shortlisted");
    expect((await statusRows(mine.id)).map((r) => r.state)).toEqual(["queued"]);
    expect(await service.withdraw(me.id, mine.id)).toMatchObject({ ok: true, studentName: "Vàng Thị Mỷ" });
    expect(await db.prisma.nomination.findUnique({ where: { id: mine.id } })).toBeNull();
    expect((await statusRows(mine.id)).map((r) => [r.state, r.error])).toEqual([["cancelled", "nomination withdrawn"]]);
    expect(await service.withdraw(me.id, mine.id)).toMatchObject({ ok: false, reason: "not_found" });
    expect(await db.prisma.nomination.count({ where: { id: theirs.id } })).toBe(1);
  });
});

describe("the round's officers", () => {
  it("shows a round's nominations to its officers and admins only; others and forged ids see nothing", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province });
    const n = await nominated(await person("member"), round.id, p.commune);
    const mine = await person("officer", { provinceCode: p.province });
    const admin = await person("admin");
    const elsewhere = await person("officer", { provinceCode: p.otherProvince });
    const communeOfficer = await person("officer", { provinceCode: p.province, communeCode: p.commune });
    const member = await person("member");

    expect(await service.listForRound(mine, round.id, 0)).toMatchObject({ ok: true, total: 1, items: [{ id: n.id, studentName: "Nguyễn Thị Lan" }], byStatus: { received: 1 } });
    expect((await service.viewAsOfficer(admin, n.id)).ok).toBe(true);
    for (const who of [elsewhere, communeOfficer, member]) {
      expect(await service.listForRound(who, round.id, 0)).toMatchObject({ ok: false, reason: "forbidden" });
      expect(await service.viewAsOfficer(who, n.id)).toMatchObject({ ok: false, reason: "forbidden" });
      expect(await service.setStatus(who, n.id, "awarded")).toMatchObject({ ok: false, reason: "forbidden" });
      expect(await service.countsByCommune(who, round.id)).toMatchObject({ ok: false, reason: "forbidden" });
      expect(await service.exportCsv(who, round.id)).toMatchObject({ ok: false, reason: "forbidden" });
      expect(await service.exportXlsx(who, round.id)).toMatchObject({ ok: false, reason: "forbidden" });
    }
    expect(await service.viewAsOfficer(mine, 987_654_321)).toMatchObject({ ok: false, reason: "not_found" });
    expect(await service.setStatus(mine, 987_654_321, "awarded")).toMatchObject({ ok: false, reason: "not_found" });
    expect(await service.listForRound(mine, 987_654_321, 0)).toMatchObject({ ok: false, reason: "not_found" });
    // A nationwide round is run by admins only.
    const national = await makeRound(db.prisma, NOW, { provinceCode: null });
    const far = await nominated(await person("member"), national.id, p.otherProvinceCommune);
    expect(await service.viewAsOfficer(mine, far.id)).toMatchObject({ ok: false, reason: "forbidden" });
    expect((await service.viewAsOfficer(admin, far.id)).ok).toBe(true);
    expect(await db.prisma.nomination.findUniqueOrThrow({ where: { id: n.id } })).toMatchObject({ status: "received" });
  });

  it("queues exactly one notice row for the nominator per status change, none when unchanged, released after the commit", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province });
    const nominator = await person("member");
    const n = await nominated(nominator, round.id, p.commune);
    const officer = await person("officer", { provinceCode: p.province });
    released.length = 0;

    expect(await service.setStatus(officer, n.id, "shortlisted")).toMatchObject({ ok: true, changed: true, nomination: { status: "shortlisted" } });
    const minute = Math.floor(NOW.getTime() / 60_000);
    let rows = await statusRows(n.id);
    expect(rows.map((r) => [r.refId, String(r.chatId), r.state])).toEqual([[`shs.${n.id}.shortlisted.${minute}`, nominator.id, "queued"]]);
    expect(released).toEqual([{ kind: NOMINATION_STATUS_KIND, ref: `shs.${n.id}.shortlisted.${minute}` }]);

    // Pressed again: nothing changes, nothing is queued.
    expect(await service.setStatus(officer, n.id, "shortlisted")).toMatchObject({ ok: true, changed: false });
    expect(await statusRows(n.id)).toHaveLength(1);
    expect(released).toHaveLength(1);

    clock.advance(5 * 60_000);
    expect(await service.setStatus(officer, n.id, "awarded")).toMatchObject({ ok: true, changed: true });
    rows = await statusRows(n.id);
    expect(rows.map((r) => r.refId)).toEqual([`shs.${n.id}.shortlisted.${minute}`, `shs.${n.id}.awarded.${minute + 5}`]);
    expect(await db.prisma.nomination.findUniqueOrThrow({ where: { id: n.id } })).toMatchObject({ status: "awarded", statusChangedAt: clock.now() });
    expect(await service.setStatus(officer, n.id, "won" as never)).toMatchObject({ ok: false, reason: "invalid" });
    const audits = await db.prisma.auditLog.findMany({ where: { actorId: BigInt(officer.id), action: "nomination_status_set" } });
    expect(audits).toHaveLength(2);
  });

  it("counts nominations by commune in one list, most first", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province });
    const member = await person("member");
    await nominated(member, round.id, p.commune, { studentName: "Lê Văn An" });
    await nominated(member, round.id, p.otherCommune, { studentName: "Lê Văn Bình" });
    await nominated(member, round.id, p.otherCommune, { studentName: "Lê Văn Cường" });
    const officer = await person("officer", { provinceCode: p.province });
    const names = await db.prisma.commune.findMany({ where: { code: { in: [p.commune, p.otherCommune] } } });
    const label = (code: string) => {
      const c = names.find((x) => x.code === code)!;
      return `${c.type.charAt(0).toUpperCase()}${c.type.slice(1)} ${c.name}`;
    };
    expect(await service.countsByCommune(officer, round.id)).toMatchObject({
      ok: true, total: 3,
      communes: [{ communeCode: p.otherCommune, communeName: label(p.otherCommune), count: 2 }, { communeCode: p.commune, communeName: label(p.commune), count: 1 }],
    });
  });

  it("exports the nominations as CSV and as an XLSX whose cells hold each nomination and the counts by commune; each export audited", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province, rules: { circumstances: ["poor", "orphan"] } });
    const member = await person("member");
    await nominated(member, round.id, p.commune, { studentName: "Phạm Thị Hà", circumstances: ["poor", "orphan"] });
    clock.advance(DAY);
    await nominated(member, round.id, p.otherCommune, { studentName: "Phạm Văn Hùng", schoolLevel: "upper_secondary", grade: 10, birthYear: 2010, school: "Trường THPT Ngô Quyền", circumstances: ["poor"] });
    const officer = await person("officer", { provinceCode: p.province });
    const communes = await db.prisma.commune.findMany({ where: { code: { in: [p.commune, p.otherCommune] } } });
    const province = await db.prisma.province.findUniqueOrThrow({ where: { code: p.province } });
    const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
    const label = (code: string) => communes.find((c) => c.code === code)!;
    const first = label(p.commune);
    const second = label(p.otherCommune);

    const csv = await service.exportCsv(officer, round.id);
    expect(csv.ok).toBe(true);
    if (!csv.ok) return;
    const lines = csv.csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe("Học sinh,Năm sinh,Trường,Cấp học,Lớp,Xã/phường,Tỉnh/thành,Hoàn cảnh,Phụ huynh/người giám hộ,Người đề cử là,Trạng thái,Ngày đề cử");
    expect(lines).toHaveLength(3);
    expect(lines).toContain(`Phạm Thị Hà,2014,Trường THCS Lê Lợi,THCS,6,${cap(first.type)} ${first.name},${province.name},Hộ nghèo; Mồ côi,Nguyễn Văn Bình,Hội viên,Đã tiếp nhận,06/12/2026`);
    expect(lines).toContain(`Phạm Văn Hùng,2010,Trường THPT Ngô Quyền,THPT,10,${cap(second.type)} ${second.name},${province.name},Hộ nghèo,Nguyễn Văn Bình,Hội viên,Đã tiếp nhận,07/12/2026`);

    const x = await service.exportXlsx(officer, round.id);
    expect(x.ok).toBe(true);
    if (!x.ok) return;
    const { default: ExcelJS } = await import("exceljs");
    const book: Workbook = new ExcelJS.Workbook();
    await book.xlsx.load(x.xlsx as never);
    expect(book.worksheets.map((s) => s.name)).toEqual(["Đề cử", "Theo xã"]);
    const sheet = book.getWorksheet("Đề cử")!;
    expect(sheet.getRow(1).getCell(1).value).toBe("Học sinh");
    expect(sheet.getRow(1).getCell(12).value).toBe("Ngày đề cử");
    const byName = new Map<string, unknown[]>();
    for (let i = 2; i <= sheet.rowCount; i++) {
      const row = sheet.getRow(i);
      byName.set(String(row.getCell(1).value), Array.from({ length: 12 }, (_, j) => row.getCell(j + 1).value));
    }
    expect(byName.size).toBe(2);
    expect(byName.get("Phạm Văn Hùng")).toEqual([
      "Phạm Văn Hùng", 2010, "Trường THPT Ngô Quyền", "THPT", 10, `${cap(second.type)} ${second.name}`, province.name, "Hộ nghèo", "Nguyễn Văn Bình", "Hội viên", "Đã tiếp nhận", "07/12/2026",
    ]);
    const counts = book.getWorksheet("Theo xã")!;
    const countRows = Array.from({ length: counts.rowCount }, (_, i) => [counts.getRow(i + 1).getCell(1).value, counts.getRow(i + 1).getCell(2).value]);
    expect(countRows[0]).toEqual(["Xã/phường", "Số đề cử"]);
    expect(countRows.slice(1, 3)).toEqual(expect.arrayContaining([[`${cap(first.type)} ${first.name}`, 1], [`${cap(second.type)} ${second.name}`, 1]]));
    expect(countRows.at(-1)).toEqual(["Tổng cộng", 2]);

    const audits = await db.prisma.auditLog.findMany({ where: { actorId: BigInt(officer.id), action: "nominations_exported" }, orderBy: { id: "asc" } });
    expect(audits.map((a) => a.detail)).toEqual([{ roundId: round.id, format: "csv", rows: 2 }, { roundId: round.id, format: "xlsx", rows: 2 }]);
  });
});

describe("a nominator's personal data", () => {
  it("exports the person's nominations in /mydata, and /deleteme erases them (and nobody else's)", async () => {
    const p = await place();
    const round = await makeRound(db.prisma, NOW, { provinceCode: p.province, programme: "Học không bao giờ cùng" });
    const me = await person("member");
    const other = await person("member");
    const n = await nominated(me, round.id, p.commune, { studentName: "Quàng Thị Xuân" });
    await nominated(other, round.id, p.commune, { studentName: "Quàng Văn Đông" });
    const officer = await person("officer", { provinceCode: p.province });
    await service.setStatus(officer, n.id, "shortlisted");
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of service.dataParts()) registry.register(part);

    expect(await registry.held(me.id)).toEqual(["nominations:personal_data"]);
    const exported = (await registry.exportAll(me.id)) as { nominations: Array<Record<string, unknown>> };
    expect(exported.nominations).toMatchObject([{ id: n.id, studentName: "Quàng Thị Xuân", birthYear: 2014, guardianName: "Nguyễn Văn Bình", status: "shortlisted", round: { id: round.id, programme: "Học không bao giờ cùng" } }]);

    expect(await registry.erase(me.id, clock.now())).toEqual({ erased: ["nominations:personal_data"] });
    expect(await db.prisma.nomination.count({ where: { nominatorId: BigInt(me.id) } })).toBe(0);
    expect(await registry.exportAll(me.id)).toEqual({ nominations: null });
    expect((await statusRows(n.id)).map((r) => r.state)).toEqual(["cancelled"]);
    expect(await db.prisma.nomination.count({ where: { nominatorId: BigInt(other.id) } })).toBe(1);
  });
});

describe("retention", () => {
  it(`deletes nominations ${NOMINATION_RETENTION_DAYS} days after the award day, or after a cancellation, and keeps the others`, async () => {
    const p = await place();
    const member = await person("member");
    // Other tests' rounds award 30 days after NOW: these dates fall before and after theirs.
    const awarded = await makeRound(db.prisma, NOW, { provinceCode: p.province, awardIn: 20 });
    const later = await makeRound(db.prisma, NOW, { provinceCode: p.province, awardIn: 60 });
    const toCancel = await makeRound(db.prisma, NOW, { provinceCode: p.province, awardIn: 400 });
    const a = await nominated(member, awarded.id, p.commune, { studentName: "Mùa A Chở" });
    const b = await nominated(member, later.id, p.commune, { studentName: "Mùa A Chở" });
    const c = await nominated(member, toCancel.id, p.commune, { studentName: "Mùa A Chở" });
    await db.prisma.scholarshipRound.update({ where: { id: toCancel.id }, data: { state: "cancelled", cancelledAt: new Date(NOW.getTime() + 25 * DAY) } });
    const left = async () => (await db.prisma.nomination.findMany({ where: { id: { in: [a.id, b.id, c.id] } }, orderBy: { id: "asc" } })).map((n) => n.id);

    // The last minute of the day before: kept.
    const due = vnDayAt(addDays(awarded.awardOn, NOMINATION_RETENTION_DAYS));
    expect(await service.purgeExpired(new Date(due.getTime() - 60_000))).toBe(0);
    expect(await left()).toEqual([a.id, b.id, c.id]);
    expect(await service.purgeExpired(due)).toBe(1);
    expect(await left()).toEqual([b.id, c.id]);
    // A year after the cancellation (25 days after NOW), before the later round's award day comes round.
    expect(await service.purgeExpired(new Date(NOW.getTime() + (25 + NOMINATION_RETENTION_DAYS) * DAY - 60_000))).toBe(0);
    expect(await service.purgeExpired(new Date(NOW.getTime() + (25 + NOMINATION_RETENTION_DAYS) * DAY))).toBe(1);
    expect(await left()).toEqual([b.id]);
    expect(await service.purgeExpired(vnDayAt(addDays(later.awardOn, NOMINATION_RETENTION_DAYS)))).toBeGreaterThanOrEqual(1);
    expect(await left()).toEqual([]);
  });
});
