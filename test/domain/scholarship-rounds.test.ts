import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryCounts, DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import {
  SCHOLARSHIP_NOTICE_KIND, SCHOLARSHIP_REMINDER_KIND, addDays, dayNumber, firstRoundReminderAt, roundReminderRef, vnDay, vnDayAt,
} from "../../src/domain/scholarships/model.js";
import { RoundService, dayKey, roundAuthorDataParts, type Actor, type CreateRoundInput } from "../../src/domain/scholarships/rounds.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";
import { makeRound } from "../support/scholarships.js";

// The officers' side of scholarship rounds against a real database: validation and scope on every
// method, date order, date edits keeping next_reminder_at and the queued reminders right, and
// close / extend / cancel queuing one notice per subscriber and nominator, released after commit.

// Saturday 28 November 2026, 10:00 in Vietnam.
const NOW = new Date("2026-11-28T03:00:00.000Z");
const clock = new ManualClock(NOW.getTime());
let db: Database;
let rounds: RoundService;
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
  rounds = new RoundService({ prisma: db.prisma, deliveries, now: clock.now });
});
afterAll(() => db.close());

let nextId = 9_700_100;
let provinceIndex = 3;
const today = vnDay(NOW);
const day = (n: number) => dayKey(addDays(today, n));

/** A province and another one, each test its own. */
async function provinces(): Promise<{ mine: string; other: string; commune: string }> {
  const all = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const mine = all[provinceIndex++ % all.length]!.code;
  const other = all[provinceIndex++ % all.length]!.code;
  const commune = (await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: mine } })).code;
  return { mine, other, commune };
}

const officer = (province: string, commune?: string): Actor => ({ id: String(++nextId), role: "officer", scope: { provinceCode: province, communeCode: commune } });
const adminActor = (): Actor => ({ id: String(++nextId), role: "admin", scope: {} });
const resident = (): Actor => ({ id: String(++nextId), role: "resident", scope: {} });

function input(provinceCode: string | null, over: Partial<CreateRoundInput> = {}): CreateRoundInput {
  return {
    programme: "Hoa Phượng Đỏ", year: 2026, organiserBody: "association", provinceCode,
    eligibility: "Học sinh nghèo vượt khó, học lực khá trở lên.", rules: { levels: ["lower_secondary"], circumstances: ["poor", "near_poor"] },
    awardValueVnd: 2_000_000, awardCount: 50, opensOn: day(2), deadlineOn: day(20), awardOn: day(40),
    howToApply: "Nộp hồ sơ tại Hội Khuyến học xã.", contact: "Hội Khuyến học thành phố, 0225 3 123 456", ...over,
  };
}

async function person(): Promise<bigint> {
  const id = BigInt(++nextId);
  await db.prisma.user.create({ data: { id } });
  return id;
}

async function subscribe(roundId: number, userId: bigint): Promise<void> {
  await db.prisma.scholarshipSubscription.create({ data: { roundId, userId, createdAt: NOW } });
}

async function nominate(roundId: number, nominatorId: bigint, student: string, province: string, commune: string): Promise<void> {
  await db.prisma.nomination.create({
    data: {
      roundId, nominatorId, relationship: "member", studentName: student, birthYear: 2013, school: "THCS Lê Lợi", schoolLevel: "lower_secondary", grade: 7,
      provinceCode: province, communeCode: commune, circumstances: ["poor"], guardianName: "Trần Văn Bố", guardianConsentAt: NOW,
      studentKey: `${student.toLowerCase().replace(/\s/g, "")}.2013`, createdAt: NOW,
    },
  });
}

async function queueReminder(ref: string, chatId: bigint): Promise<void> {
  await db.prisma.delivery.create({ data: { kind: SCHOLARSHIP_REMINDER_KIND, refId: ref, chatId, dueAt: new Date(NOW.getTime() + 86_400_000) } });
}

const notices = (roundId: number) =>
  db.prisma.delivery.findMany({ where: { kind: SCHOLARSHIP_NOTICE_KIND, refId: { startsWith: `shn.${roundId}.` } }, orderBy: [{ refId: "asc" }, { chatId: "asc" }] });

describe("creating a round", () => {
  it("stores a province officer's round in their province, with its first reminder at 8:00 on the opening day", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    const r = await rounds.create(me, input(p.mine));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.round).toMatchObject({ programme: "Hoa Phượng Đỏ", provinceCode: p.mine, state: "active", awardValueVnd: 2_000_000n, awardCount: 50, createdById: BigInt(me.id) });
    expect(dayKey(r.round.deadlineOn)).toBe(day(20));
    expect(r.round.nextReminderAt).toEqual(vnDayAt(addDays(today, 2), 8));
    const audit = await db.prisma.auditLog.findFirst({ where: { actorId: BigInt(me.id), action: "scholarship_round_created" } });
    expect(audit?.detail).toMatchObject({ roundId: r.round.id });
  });

  it("lets an admin run a nationwide round, and refuses one to a province officer", async () => {
    const p = await provinces();
    const a = await rounds.create(adminActor(), input(null));
    expect(a.ok && a.round.provinceCode).toBeNull();
    const before = await db.prisma.scholarshipRound.count();
    expect(await rounds.create(officer(p.mine), input(null))).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await rounds.create(officer(p.mine), input(p.other))).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await rounds.create(officer(p.mine, p.commune), input(p.mine))).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await rounds.create(resident(), input(p.mine))).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await db.prisma.scholarshipRound.count()).toBe(before);
  });

  it("refuses dates out of order, a deadline already past and a year far off, each with its reason", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    expect(await rounds.create(me, input(p.mine, { opensOn: day(10), deadlineOn: day(5) }))).toMatchObject({ ok: false, reason: "deadline_before_open", errors: [{ key: "scholarship-admin:errors.deadline_before_open" }] });
    expect(await rounds.create(me, input(p.mine, { deadlineOn: day(20), awardOn: day(19) }))).toMatchObject({ ok: false, reason: "award_before_deadline" });
    expect(await rounds.create(me, input(p.mine, { opensOn: day(-30), deadlineOn: day(-1), awardOn: day(5) }))).toMatchObject({ ok: false, reason: "deadline_past" });
    expect(await rounds.create(me, input(p.mine, { awardOn: "2031-01-01" }))).toMatchObject({ ok: false, reason: "too_far" });
    expect(await rounds.create(me, input(p.mine, { programme: "ab", contact: "" }))).toMatchObject({
      ok: false, reason: "invalid", errors: [{ key: "scholarship-admin:errors.programme_length" }, { key: "scholarship-admin:errors.contact_length" }],
    });
    expect(await rounds.create(me, input(p.mine, { rules: { gradeMin: 9, gradeMax: 6 } }))).toMatchObject({ ok: false, errors: [{ key: "scholarship-admin:errors.grade_range" }] });
    expect(await rounds.create(me, input(p.mine, { year: 2040 }))).toMatchObject({ ok: false, errors: [{ key: "scholarship-admin:errors.year" }] });
    expect(await db.prisma.scholarshipRound.count({ where: { createdById: BigInt(me.id) } })).toBe(0);
  });

  it("lists the rounds an officer created in their /mydata, and /deleteme drops them as creator but keeps the rounds", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    const r = await rounds.create(me, input(p.mine, { programme: "Học không bao giờ cùng" }));
    if (!r.ok) throw new Error("not created");
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of roundAuthorDataParts(db.prisma)) registry.register(part);
    expect(await registry.exportAll(me.id)).toMatchObject({ scholarship_rounds: [{ id: r.round.id, programme: "Học không bao giờ cùng" }] });
    await registry.erase(me.id, clock.now());
    const kept = await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.round.id } });
    expect(kept).toMatchObject({ createdById: null, programme: "Học không bao giờ cùng" });
    expect(await registry.exportAll(me.id)).toMatchObject({ scholarship_rounds: null });
  });
});

describe("editing a round", () => {
  it("moves the dates: next_reminder_at recomputed, reminders of the old deadline cancelled, the opening's kept", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    const r = await makeRound(db.prisma, NOW, { provinceCode: p.mine, opensIn: 3, deadlineIn: 20, awardIn: 40 });
    const who = await person();
    const openRef = roundReminderRef(r.id, "open", r.opensOn);
    const oldRef = roundReminderRef(r.id, "7d", r.deadlineOn);
    await queueReminder(openRef, who);
    await queueReminder(oldRef, who);
    const moved = await rounds.update(me, r.id, { deadlineOn: day(15), awardOn: day(40) });
    expect(moved).toMatchObject({ ok: true, extended: false, notified: 0 });
    const row = await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } });
    expect(dayKey(row.deadlineOn)).toBe(day(15));
    expect(row.nextReminderAt).toEqual(firstRoundReminderAt({ opensOn: r.opensOn, deadlineOn: addDays(today, 15) }, NOW));
    const rows = await db.prisma.delivery.findMany({ where: { kind: SCHOLARSHIP_REMINDER_KIND, refId: { startsWith: `shr.${r.id}.` } } });
    expect(Object.fromEntries(rows.map((x) => [x.refId, x.state]))).toEqual({ [openRef]: "queued", [oldRef]: "cancelled" });
    expect(await notices(r.id)).toEqual([]);

    // Back to the first deadline: its cancelled reminder is forgotten, so the tick can queue it again.
    await rounds.update(me, r.id, { deadlineOn: day(20) });
    expect(await db.prisma.delivery.count({ where: { kind: SCHOLARSHIP_REMINDER_KIND, refId: oldRef } })).toBe(0);
  });

  it("counts a later deadline typed in an edit as an extension: subscribers are told once", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    const r = await makeRound(db.prisma, NOW, { provinceCode: p.mine });
    const fan = await person();
    await subscribe(r.id, fan);
    const later = await rounds.update(me, r.id, { deadlineOn: day(25) });
    expect(later).toMatchObject({ ok: true, extended: true, notified: 1 });
    const rows = await notices(r.id);
    expect(rows.map((x) => [x.refId, x.chatId])).toEqual([[`shn.${r.id}.extended.${dayNumber(addDays(today, 25))}`, fan]]);
    expect(released).toContainEqual({ kind: SCHOLARSHIP_NOTICE_KIND, ref: rows[0]!.refId });
  });

  it("changes other fields without touching reminders, and refuses a cancelled round or another province's officer", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    const r = await makeRound(db.prisma, NOW, { provinceCode: p.mine });
    const before = await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } });
    expect(await rounds.update(me, r.id, { awardValueVnd: 3_000_000, awardCount: null })).toMatchObject({ ok: true });
    const after = await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } });
    expect(after).toMatchObject({ awardValueVnd: 3_000_000n, awardCount: null, nextReminderAt: before.nextReminderAt });
    expect(await rounds.update(officer(p.other), r.id, { programme: "Đổi tên" })).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await rounds.update(officer(p.mine, p.commune), r.id, { programme: "Đổi tên" })).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await rounds.update(me, r.id, { provinceCode: p.other })).toMatchObject({ ok: false, reason: "forbidden" });
    expect(await rounds.update(me, 999_999_999, { programme: "Đổi tên" })).toMatchObject({ ok: false, reason: "not_found" });
    await rounds.cancel(me, r.id);
    expect(await rounds.update(me, r.id, { programme: "Đổi tên" })).toMatchObject({ ok: false, reason: "cancelled" });
    expect((await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } })).programme).toBe("Vì em hiếu học");
  });
});

describe("closing, extending and cancelling", () => {
  it("closes early: reminders dropped, subscribers and nominators told exactly once (one who is both, once)", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    const r = await makeRound(db.prisma, NOW, { provinceCode: p.mine });
    const [fan, nominator, both] = [await person(), await person(), await person()];
    await subscribe(r.id, fan);
    await subscribe(r.id, both);
    await nominate(r.id, nominator, "Lò Thị Mai", p.mine, p.commune);
    await nominate(r.id, both, "Lò Văn Sáng", p.mine, p.commune);
    await nominate(r.id, both, "Lò Văn Tới", p.mine, p.commune);
    await queueReminder(roundReminderRef(r.id, "7d", r.deadlineOn), fan);

    const closed = await rounds.close(me, r.id);
    expect(closed).toMatchObject({ ok: true, notified: 3 });
    const row = await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } });
    expect(row).toMatchObject({ state: "closed", closedAt: NOW, nextReminderAt: null });
    expect((await notices(r.id)).map((x) => x.chatId).sort()).toEqual([fan, nominator, both].sort());
    expect(await db.prisma.delivery.findFirst({ where: { kind: SCHOLARSHIP_REMINDER_KIND, refId: { startsWith: `shr.${r.id}.` } } })).toMatchObject({ state: "cancelled" });
    // A second press changes nothing and tells nobody again.
    expect(await rounds.close(me, r.id)).toMatchObject({ ok: false, reason: "already_closed" });
    expect(await notices(r.id)).toHaveLength(3);
  });

  it("extends a closed round: reopened, reminders rescheduled, told once per new deadline", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    const r = await makeRound(db.prisma, NOW, { provinceCode: p.mine, deadlineIn: 10, awardIn: 12 });
    const fan = await person();
    await subscribe(r.id, fan);
    await rounds.close(me, r.id);
    expect(await rounds.extend(me, r.id, day(9))).toMatchObject({ ok: false, reason: "not_later" });
    expect(await rounds.extend(me, r.id, day(20))).toMatchObject({ ok: false, reason: "award_before_deadline" });
    const ext = await rounds.extend(me, r.id, day(20), day(30));
    expect(ext).toMatchObject({ ok: true, notified: 1 });
    const row = await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } });
    expect(row).toMatchObject({ state: "active", closedAt: null });
    expect([dayKey(row.deadlineOn), dayKey(row.awardOn)]).toEqual([day(20), day(30)]);
    expect(row.nextReminderAt).toEqual(vnDayAt(addDays(today, 13), 8));
    const ref = `shn.${r.id}.extended.${dayNumber(addDays(today, 20))}`;
    expect((await notices(r.id)).map((x) => x.refId)).toEqual([`shn.${r.id}.closed.${Math.floor(NOW.getTime() / 60_000)}`, ref]);
    expect(released.filter((x) => x.ref === ref)).toHaveLength(1);
    // The same deadline again is not an extension.
    expect(await rounds.extend(me, r.id, day(20))).toMatchObject({ ok: false, reason: "not_later" });
  });

  it("cancels a round: notices to everyone, queued reminders and notices dropped, nothing more allowed", async () => {
    const p = await provinces();
    const me = adminActor();
    const r = await makeRound(db.prisma, NOW, { provinceCode: p.mine });
    const [fan, nominator] = [await person(), await person()];
    await subscribe(r.id, fan);
    await nominate(r.id, nominator, "Hà Thị Lan", p.mine, p.commune);
    await queueReminder(roundReminderRef(r.id, "1d", r.deadlineOn), fan);
    await rounds.extend(me, r.id, day(15));
    const done = await rounds.cancel(me, r.id);
    expect(done).toMatchObject({ ok: true, notified: 2 });
    expect(await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } })).toMatchObject({ state: "cancelled", cancelledAt: NOW, nextReminderAt: null });
    const rows = await notices(r.id);
    expect(rows.filter((x) => x.refId.includes(".cancelled.")).map((x) => x.state)).toEqual(["queued", "queued"]);
    // The extension nobody was told of yet is no longer news.
    expect(rows.filter((x) => x.refId.includes(".extended.")).map((x) => x.state)).toEqual(["cancelled", "cancelled"]);
    expect(await db.prisma.delivery.count({ where: { kind: SCHOLARSHIP_REMINDER_KIND, refId: { startsWith: `shr.${r.id}.` }, state: "queued" } })).toBe(0);
    for (const again of [rounds.cancel(me, r.id), rounds.close(me, r.id), rounds.extend(me, r.id, day(25))]) {
      expect(await again).toMatchObject({ ok: false, reason: "cancelled" });
    }
    expect(await notices(r.id)).toHaveLength(4);
  });

  it("refuses another province's officer, a commune officer and a resident, changing nothing", async () => {
    const p = await provinces();
    const r = await makeRound(db.prisma, NOW, { provinceCode: p.mine });
    const fan = await person();
    await subscribe(r.id, fan);
    for (const actor of [officer(p.other), officer(p.mine, p.commune), resident()]) {
      expect(await rounds.close(actor, r.id)).toMatchObject({ ok: false, reason: "forbidden" });
      expect(await rounds.extend(actor, r.id, day(30))).toMatchObject({ ok: false, reason: "forbidden" });
      expect(await rounds.cancel(actor, r.id)).toMatchObject({ ok: false, reason: "forbidden" });
      expect(await rounds.get(actor, r.id)).toMatchObject({ ok: false, reason: "forbidden" });
    }
    expect(await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } })).toMatchObject({ state: "active", deadlineOn: r.deadlineOn });
    expect(await notices(r.id)).toEqual([]);
  });
});

describe("listing", () => {
  it("lists the rounds an officer manages, latest deadline first, with phase and counts", async () => {
    const p = await provinces();
    const me = officer(p.mine);
    const soon = await makeRound(db.prisma, NOW, { provinceCode: p.mine, programme: "Sớm", deadlineIn: 5 });
    const later = await makeRound(db.prisma, NOW, { provinceCode: p.mine, programme: "Muộn", opensIn: 3, deadlineIn: 30, awardIn: 40 });
    await makeRound(db.prisma, NOW, { provinceCode: p.other, programme: "Tỉnh khác" });
    const fan = await person();
    await subscribe(later.id, fan);
    await nominate(soon.id, fan, "Vừ A Dính", p.mine, p.commune);
    const r = await rounds.list(me, 0);
    if (!r.ok) throw new Error("refused");
    expect(r.items.map((x) => [x.round.programme, x.phase, x.subscribers, x.nominations])).toEqual([["Muộn", "upcoming", 1, 0], ["Sớm", "open", 0, 1]]);
    expect(await rounds.list(officer(p.mine, p.commune), 0)).toMatchObject({ ok: false, reason: "forbidden" });
  });
});
