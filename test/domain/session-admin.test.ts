import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryCounts, DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import { SESSION_NOTICE_KIND, SESSION_REMINDER_KIND, reminderRef } from "../../src/domain/sessions/model.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import { SessionAdmin, parseDurationText, sessionAuthorDataParts, type Actor, type CreateInput } from "../../src/domain/sessions/session-admin.js";
import { SessionSignups } from "../../src/domain/sessions/signups.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";

// The officers' side of sessions against a real database: validation, role and scope on every
// method, capacity and the waiting list under the session lock, moving and cancelling (notices
// queued as ledger rows, stale reminders cancelled), the check-in token and the attendance CSV.

// Sunday 6 December 2026, 08:00 in Vietnam.
const NOW = new Date("2026-12-06T01:00:00.000Z");
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const clock = new ManualClock(NOW.getTime());
let db: Database;
let admin: SessionAdmin;
let signups: SessionSignups;
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
  signups = new SessionSignups(db.prisma, deliveries, clock.now);
  admin = new SessionAdmin({ prisma: db.prisma, deliveries, signups, now: clock.now });
});
afterAll(() => db.close());

let nextId = 9_600_100;

interface Place {
  province: string;
  commune: string;
  otherCommune: string;
  otherProvince: string;
  otherProvinceCommune: string;
}

let placeIndex = 5;
/** A province with two communes, and another province: each test its own, so lists stay its own. */
async function place(): Promise<Place> {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[placeIndex++ % provinces.length]!;
  const q = provinces[placeIndex++ % provinces.length]!;
  const communes = await db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  const other = await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: q.code }, orderBy: { code: "asc" } });
  return { province: p.code, commune: communes[0]!.code, otherCommune: communes[1]!.code, otherProvince: q.code, otherProvinceCommune: other.code };
}

async function centre(province: string, commune: string, name = `TTHTCĐ ${++nextId}`): Promise<number> {
  const c = await db.prisma.learningCenter.create({ data: { provinceCode: province, communeCode: commune, name, address: "Thôn 1", lat: 21, lon: 105 } });
  return c.id;
}

const officer = (province: string, commune?: string): Actor => ({ id: String(++nextId), role: "officer", scope: { provinceCode: province, communeCode: commune } });
const adminActor = (): Actor => ({ id: String(++nextId), role: "admin", scope: {} });
const resident = (): Actor => ({ id: String(++nextId), role: "resident", scope: {} });

async function citizen(province: string, commune: string, fullName = `Nguyễn Văn ${nextId + 1}`): Promise<string> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id) } });
  await db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `CDHT-${province}-2026-${String(id).slice(-6)}`, fullName, birthYear: 1990, provinceCode: province, communeCode: commune, affiliation: "resident", goals: ["law"], registeredAt: NOW },
  });
  return String(id);
}

function input(centerId: number, over: Partial<CreateInput> = {}): CreateInput {
  return {
    centerId, title: "Tuyên truyền Luật Biên phòng", topic: "law", startsAt: new Date(NOW.getTime() + 3 * DAY).toISOString(),
    durationMin: 90, capacity: 30, speaker: "Đồn Biên phòng Cát Bà", organiserBody: "border_guard", description: null, ...over,
  };
}

async function created(actor: Actor, centerId: number, over: Partial<CreateInput> = {}) {
  const r = await admin.create(actor, input(centerId, over));
  if (!r.ok) throw new Error(`not created: ${JSON.stringify(r.errors)}`);
  return r.session;
}

const noticeRows = (sessionId: number, event: string) =>
  db.prisma.delivery.findMany({ where: { kind: SESSION_NOTICE_KIND, refId: { startsWith: `sn.${sessionId}.${event}.` } }, orderBy: { chatId: "asc" } });

describe("creating a session", () => {
  it("lists the sessions an officer created in their /mydata, and /deleteme drops them as creator but keeps the sessions", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const me = officer(p.province);
    const s = await created(me, c, { title: "Phổ biến Luật Biên phòng Việt Nam" });
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of sessionAuthorDataParts(db.prisma)) registry.register(part);
    const exported = (await registry.exportAll(me.id)) as { learning_sessions: Array<{ id: number; title: string }> };
    expect(exported.learning_sessions).toMatchObject([{ id: s.id, title: "Phổ biến Luật Biên phòng Việt Nam" }]);
    await registry.erase(me.id, clock.now());
    const kept = await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } });
    expect(kept.createdById).toBeNull();
    expect(kept.title).toBe("Phổ biến Luật Biên phòng Việt Nam");
    expect(await registry.exportAll(me.id)).toMatchObject({ learning_sessions: null });
  });

  it("stores a valid session with an unguessable token, its first reminder time and the centre's upcoming mark", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const me = officer(p.province);
    const startsAt = new Date(NOW.getTime() + 3 * DAY);
    const s = await created(me, c, { startsAt: startsAt.toISOString() });
    expect(s.checkinToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(s.nextReminderAt?.toISOString()).toBe(new Date(startsAt.getTime() - DAY).toISOString());
    expect(s.state).toBe("scheduled");
    const centerRow = await db.prisma.learningCenter.findUniqueOrThrow({ where: { id: c } });
    expect(centerRow.upcomingUntil?.toISOString()).toBe(new Date(startsAt.getTime() + 90 * 60_000).toISOString());
    const other = await created(me, c);
    expect(other.checkinToken).not.toBe(s.checkinToken);
    const audit = await db.prisma.auditLog.findMany({ where: { actorId: BigInt(me.id), action: "session_created" } });
    expect(audit.map((a) => (a.detail as { sessionId: number }).sessionId).sort()).toEqual([s.id, other.id].sort());
  });

  it("a session starting within 24 hours gets the 1-hour reminder slot first", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const startsAt = new Date(NOW.getTime() + 5 * HOUR);
    const s = await created(officer(p.province), c, { startsAt: startsAt.toISOString() });
    expect(s.nextReminderAt?.toISOString()).toBe(new Date(startsAt.getTime() - HOUR).toISOString());
  });

  it("refuses a past start, 10 minutes, 9 hours, 0 seats, a long title and an unknown topic, with their reasons", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const me = officer(p.province);
    const cases: Array<[Partial<CreateInput>, string]> = [
      [{ startsAt: new Date(NOW.getTime() - 60_000).toISOString() }, "session-admin:errors.start_past"],
      [{ durationMin: 10 }, "session-admin:errors.duration"],
      [{ durationMin: 9 * 60 }, "session-admin:errors.duration"],
      [{ capacity: 0 }, "session-admin:errors.capacity"],
      [{ title: "x".repeat(121) }, "session-admin:errors.title_length"],
      [{ topic: "cooking" as never }, "session-admin:errors.topic"],
    ];
    for (const [over, key] of cases) {
      const r = await admin.create(me, input(c, over));
      expect(r.ok, key).toBe(false);
      if (!r.ok) expect(r.errors.map((e) => e.key)).toContain(key);
    }
    expect(await db.prisma.learningSession.count({ where: { centerId: c } })).toBe(0);
  });

  it("reads typed durations the ways people write them", () => {
    expect(parseDurationText("90 phút")).toBe(90);
    expect(parseDurationText("1h30")).toBe(90);
    expect(parseDurationText("1 giờ 30")).toBe(90);
    expect(parseDurationText("1,5 giờ")).toBe(90);
    expect(parseDurationText("2 tiếng")).toBe(120);
    expect(parseDurationText("soon")).toBeUndefined();
  });
});

describe("role and scope", () => {
  it("refuses a resident, an officer of another province and a commune officer at another commune's centre; admins act anywhere", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const elsewhere = await centre(p.province, p.otherCommune);
    for (const actor of [resident(), officer(p.otherProvince), officer(p.province, p.otherCommune)]) {
      const r = await admin.create(actor, input(c));
      expect(r.ok === false && r.reason).toBe("forbidden");
    }
    expect(await db.prisma.learningSession.count({ where: { centerId: c } })).toBe(0);

    const s = await created(officer(p.province, p.commune), c);
    await created(adminActor(), elsewhere);
    for (const actor of [resident(), officer(p.otherProvince), officer(p.province, p.otherCommune)]) {
      const results = [
        await admin.get(actor, s.id),
        await admin.update(actor, s.id, { title: "Đổi tên trái phép" }),
        await admin.cancel(actor, s.id),
        await admin.rotateToken(actor, s.id),
        await admin.stats(actor, s.id),
        await admin.attendanceCsv(actor, s.id),
      ];
      for (const r of results) expect(r.ok === false && r.reason).toBe("forbidden");
      const list = await admin.listInScope(actor, { upcoming: true });
      if (list.ok) expect(list.items.map((i) => i.id)).not.toContain(s.id);
    }
    const after = await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } });
    expect(after.title).toBe("Tuyên truyền Luật Biên phòng");
    expect(after.state).toBe("scheduled");
    expect(after.checkinToken).toBe(s.checkinToken);
    // The province's officer and an admin manage it.
    expect((await admin.stats(officer(p.province), s.id)).ok).toBe(true);
    expect((await admin.update(adminActor(), s.id, { title: "Luật Biên phòng Việt Nam" })).ok).toBe(true);
  });

  it("lists upcoming and past sessions of the actor's scope only", async () => {
    const p = await place();
    const mine = await centre(p.province, p.commune);
    const neighbour = await centre(p.province, p.otherCommune);
    const a = await created(officer(p.province), mine, { startsAt: new Date(NOW.getTime() + 2 * DAY).toISOString() });
    const b = await created(officer(p.province), neighbour, { startsAt: new Date(NOW.getTime() + DAY).toISOString() });
    const past = await created(officer(p.province), mine, { startsAt: new Date(NOW.getTime() + HOUR).toISOString(), durationMin: 60 });
    clock.advance(3 * HOUR);
    try {
      const province = await admin.listInScope(officer(p.province), { upcoming: true });
      expect(province.ok && province.items.map((i) => i.id)).toEqual([b.id, a.id]);
      const commune = await admin.listInScope(officer(p.province, p.commune), { upcoming: true });
      expect(commune.ok && commune.items.map((i) => i.id)).toEqual([a.id]);
      const before = await admin.listInScope(officer(p.province, p.commune), { upcoming: false });
      expect(before.ok && before.items.map((i) => i.id)).toEqual([past.id]);
      expect((await admin.listInScope(resident(), { upcoming: true })).ok).toBe(false);
    } finally {
      clock.set(NOW);
    }
  });
});

describe("seats and the waiting list", () => {
  it("raising the capacity promotes the people waiting in the order they came, and queues their notice", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const s = await created(officer(p.province), c, { capacity: 2 });
    const people = [];
    for (let i = 0; i < 5; i++) people.push(await citizen(p.province, p.commune));
    for (const u of people) await signups.join(u, s.id);
    expect((await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } })).waitingCount).toBe(3);
    released.length = 0;

    const r = await admin.update(officer(p.province), s.id, { capacity: 4 });
    expect(r.ok && r.promoted).toBe(2);
    const rows = await db.prisma.sessionSignup.findMany({ where: { sessionId: s.id }, orderBy: { seq: "asc" } });
    expect(rows.map((x) => x.status)).toEqual(["confirmed", "confirmed", "confirmed", "confirmed", "waiting"]);
    const notices = await noticeRows(s.id, "promoted");
    expect(notices.map((n) => String(n.chatId)).sort()).toEqual([people[2], people[3]].sort());
    expect(notices.every((n) => n.state === "queued")).toBe(true);
    expect(released).toEqual([{ kind: SESSION_NOTICE_KIND, ref: notices[0]!.refId }]);
    const after = await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } });
    expect([after.capacity, after.confirmedCount, after.waitingCount]).toEqual([4, 4, 1]);
  });

  it("refuses fewer seats than people holding one, saying how many", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const s = await created(officer(p.province), c, { capacity: 5 });
    for (let i = 0; i < 3; i++) await signups.join(await citizen(p.province, p.commune), s.id);
    const r = await admin.update(officer(p.province), s.id, { capacity: 2 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([{ key: "session-admin:errors.capacity_below_confirmed", params: { confirmed: 3 } }]);
    expect((await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } })).capacity).toBe(5);
    // Exactly the confirmed count is fine.
    const ok = await admin.update(officer(p.province), s.id, { capacity: 3 });
    expect(ok.ok && ok.session.capacity).toBe(3);
  });
});

describe("moving and cancelling", () => {
  it("a move tells everyone signed up or waiting, cancels the old time's queued reminders and sets the next reminder", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const me = officer(p.province);
    const oldStart = new Date(NOW.getTime() + 3 * DAY);
    const s = await created(me, c, { capacity: 1, startsAt: oldStart.toISOString() });
    const [seat, waiting] = [await citizen(p.province, p.commune), await citizen(p.province, p.commune)];
    await signups.join(seat, s.id);
    await signups.join(waiting, s.id);
    const other = await created(me, c);
    // Reminder rows as the reminders' tick would have queued them: one still queued, one sent.
    const oldRef = reminderRef(s.id, "24h", oldStart);
    await db.prisma.delivery.createMany({
      data: [
        { kind: SESSION_REMINDER_KIND, refId: oldRef, chatId: BigInt(seat), dueAt: new Date(oldStart.getTime() - DAY) },
        { kind: SESSION_REMINDER_KIND, refId: reminderRef(s.id, "1h", oldStart), chatId: BigInt(seat), dueAt: NOW, state: "sent" },
        { kind: SESSION_REMINDER_KIND, refId: reminderRef(other.id, "24h", other.startsAt), chatId: BigInt(seat), dueAt: NOW },
      ],
    });
    released.length = 0;

    const newStart = new Date(NOW.getTime() + 5 * DAY);
    const r = await admin.update(me, s.id, { startsAt: newStart.toISOString() });
    expect(r.ok && [r.moved, r.notified]).toEqual([true, 2]);
    const moved = await noticeRows(s.id, "moved");
    expect(moved.map((n) => String(n.chatId)).sort()).toEqual([seat, waiting].sort());
    expect(released).toEqual([{ kind: SESSION_NOTICE_KIND, ref: moved[0]!.refId }]);
    const reminders = await db.prisma.delivery.findMany({ where: { kind: SESSION_REMINDER_KIND, chatId: BigInt(seat) }, orderBy: { id: "asc" } });
    expect(reminders.map((x) => [x.refId, x.state])).toEqual([
      [oldRef, "cancelled"],
      [reminderRef(s.id, "1h", oldStart), "sent"],
      [reminderRef(other.id, "24h", other.startsAt), "queued"],
    ]);
    const after = await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } });
    expect(after.startsAt.toISOString()).toBe(newStart.toISOString());
    expect(after.nextReminderAt?.toISOString()).toBe(new Date(newStart.getTime() - DAY).toISOString());
    expect((await db.prisma.learningCenter.findUniqueOrThrow({ where: { id: c } })).upcomingUntil?.toISOString()).toBe(new Date(newStart.getTime() + 90 * 60_000).toISOString());

    // Back to the first time: its cancelled reminder is forgotten, so the reminders' tick can queue it again.
    clock.advance(5_000);
    const back = await admin.update(me, s.id, { startsAt: oldStart.toISOString() }).finally(() => clock.set(NOW));
    expect(back.ok && back.notified).toBe(2);
    expect(await db.prisma.delivery.count({ where: { kind: SESSION_REMINDER_KIND, refId: oldRef } })).toBe(0);
    expect(await db.prisma.delivery.findMany({ where: { kind: SESSION_REMINDER_KIND, refId: reminderRef(s.id, "1h", oldStart) } })).toMatchObject([{ state: "sent" }]);
    // Two moves are two notices, even within the same minute.
    expect(new Set((await noticeRows(s.id, "moved")).map((n) => n.refId)).size).toBe(2);

    const past = await admin.update(me, s.id, { startsAt: new Date(NOW.getTime() - HOUR).toISOString() });
    expect(past.ok === false && past.errors[0]!.key).toBe("session-admin:errors.start_past");
    // A title alone tells nobody anything.
    const renamed = await admin.update(me, s.id, { title: "Luật Biên phòng (buổi 2)" });
    expect(renamed.ok && [renamed.moved, renamed.notified]).toEqual([false, 0]);
  });

  it("cancelling sets the state, tells everyone signed up or waiting, cancels queued reminders; a second cancel changes nothing", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const me = officer(p.province, p.commune);
    const s = await created(me, c, { capacity: 1 });
    const [seat, waiting] = [await citizen(p.province, p.commune), await citizen(p.province, p.commune)];
    await signups.join(seat, s.id);
    await signups.join(waiting, s.id);
    await db.prisma.delivery.create({ data: { kind: SESSION_REMINDER_KIND, refId: reminderRef(s.id, "24h", s.startsAt), chatId: BigInt(seat), dueAt: new Date(s.startsAt.getTime() - DAY) } });
    released.length = 0;

    const r = await admin.cancel(me, s.id, "Bão số 9");
    expect(r.ok && r.notified).toBe(2);
    const after = await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } });
    expect([after.state, after.cancelledAt?.toISOString(), after.nextReminderAt]).toEqual(["cancelled", NOW.toISOString(), null]);
    const notices = await noticeRows(s.id, "cancelled");
    expect(notices.map((n) => String(n.chatId)).sort()).toEqual([seat, waiting].sort());
    expect(released).toEqual([{ kind: SESSION_NOTICE_KIND, ref: notices[0]!.refId }]);
    const reminder = await db.prisma.delivery.findFirstOrThrow({ where: { kind: SESSION_REMINDER_KIND, refId: reminderRef(s.id, "24h", s.startsAt) } });
    expect(reminder.state).toBe("cancelled");
    expect((await db.prisma.learningCenter.findUniqueOrThrow({ where: { id: c } })).upcomingUntil).toBeNull();
    const audit = await db.prisma.auditLog.findFirstOrThrow({ where: { action: "session_cancelled", actorId: BigInt(me.id) } });
    expect(audit.detail).toEqual({ sessionId: s.id, reason: "Bão số 9" });

    const again = await admin.cancel(me, s.id);
    expect(again.ok === false && again.reason).toBe("already_cancelled");
    expect(await noticeRows(s.id, "cancelled")).toHaveLength(2);
    const edit = await admin.update(me, s.id, { capacity: 10 });
    expect(edit.ok === false && edit.reason).toBe("cancelled");
  });
});

describe("check-in token, figures and attendance", () => {
  it("rotating the token makes the old link unknown and the new one work", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const me = officer(p.province);
    const s = await created(me, c, { startsAt: new Date(NOW.getTime() + 10 * 60_000).toISOString() });
    const person = await citizen(p.province, p.commune);
    const r = await admin.rotateToken(me, s.id);
    expect(r.ok && r.token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    if (!r.ok) return;
    expect(r.token).not.toBe(s.checkinToken);
    expect((await signups.checkIn(person, s.checkinToken)).status).toBe("not_found");
    expect((await signups.checkIn(person, r.token)).status).toBe("checked_in");
  });

  it("counts seats, waiting, attendance and walk-ins, and exports the attendance list as CSV", async () => {
    const p = await place();
    const c = await centre(p.province, p.commune);
    const me = officer(p.province);
    const startsAt = new Date(NOW.getTime() + 20 * 60_000);
    const s = await created(me, c, { capacity: 1, startsAt: startsAt.toISOString() });
    const first = await citizen(p.province, p.commune, "Trần Thị Lan");
    const second = await citizen(p.province, p.commune, "Lê Văn Bình");
    const walkIn = await citizen(p.province, p.commune, "Phạm \"Út\" Hòa");
    await signups.join(first, s.id);
    clock.advance(60_000);
    await signups.join(second, s.id);
    clock.set(new Date(startsAt.getTime() + 5 * 60_000));
    try {
      expect((await signups.checkIn(first, s.checkinToken)).status).toBe("checked_in");
      expect((await signups.checkIn(walkIn, s.checkinToken)).status).toBe("checked_in");
    } finally {
      clock.set(NOW);
    }

    const stats = await admin.stats(me, s.id);
    expect(stats.ok && stats.stats).toEqual({ confirmed: 1, waiting: 1, attended: 2, walkIns: 1, capacity: 1 });

    const labels: Record<string, string> = {
      "session-admin:csv.registration_number": "Số đăng ký", "session-admin:csv.full_name": "Họ và tên", "session-admin:csv.status": "Trạng thái",
      "session-admin:csv.signed_up_at": "Đăng ký lúc", "session-admin:csv.attended_at": "Điểm danh lúc",
      "session-admin:csv.status_confirmed": "Có chỗ", "session-admin:csv.status_waiting": "Đang chờ", "session-admin:csv.status_walk_in": "Đến không đăng ký",
    };
    const csv = await admin.attendanceCsv(me, s.id, (k) => labels[k] ?? k);
    expect(csv.ok).toBe(true);
    if (!csv.ok) return;
    const reg = async (id: string) => (await db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: BigInt(id) } })).registrationNumber;
    // 08:00 in Vietnam is NOW; check-ins were at 08:25.
    expect(csv.csv.split("\r\n")).toEqual([
      "Số đăng ký,Họ và tên,Trạng thái,Đăng ký lúc,Điểm danh lúc",
      `${await reg(first)},Trần Thị Lan,Có chỗ,06/12/2026 08:00,06/12/2026 08:25`,
      `${await reg(walkIn)},"Phạm ""Út"" Hòa",Đến không đăng ký,06/12/2026 08:25,06/12/2026 08:25`,
      `${await reg(second)},Lê Văn Bình,Đang chờ,06/12/2026 08:01,`,
      "",
    ]);
    expect(csv.rows).toBe(3);
    const audit = await db.prisma.auditLog.findFirstOrThrow({ where: { action: "session_attendance_exported", actorId: BigInt(me.id) } });
    expect(audit.detail).toEqual({ sessionId: s.id, rows: 3 });
    expect(JSON.stringify(audit.detail)).not.toContain("Lan");
  });
});
