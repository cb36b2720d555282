import { randomBytes } from "node:crypto";
import type { InlineKeyboardMarkup, Message } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { DeliveryKinds, type DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { sessionNoticeKind, sessionReminderKind } from "../../src/domain/sessions/kinds.js";
import {
  firstReminderAt, formatSessionTime, insertNoticeRows, noticeRef, reminderRef, SESSION_NOTICE_KIND, SESSION_REMINDER_KIND, SESSIONS_TOPIC,
} from "../../src/domain/sessions/model.js";
import { cancelQueuedReminders, planSlots, SessionReminders } from "../../src/domain/sessions/reminders.js";
import { createI18n } from "../../src/i18n.js";
import type { Database } from "../../src/infra/database.js";
import { releaseJobId } from "../../src/jobs/queues.js";
import { openTestDatabase } from "../support/database.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { FakeTelegram } from "../support/telegram/index.js";

// Reminders through the real engine (ledger, BullMQ on the test Redis, worker) against the fake
// Bot API; the clock every part reads is moved by hand. Sessions, centres and sign-ups are
// written directly (the sign-up service is another part).
const H = 3600_000;
const clock = new ManualClock(Date.parse("2027-06-01T00:00:00Z"));
let db: Database;
let fake: FakeTelegram;
let engine: TestEngine;
let reminders: SessionReminders;
let commune: { code: string; provinceCode: string };
const prefix = `t-sr-${randomBytes(4).toString("hex")}`;

beforeAll(async () => {
  db = await openTestDatabase();
  fake = new FakeTelegram();
  const kinds = new DeliveryKinds();
  const kindDeps = {
    prisma: db.prisma,
    i18n: await createI18n(),
    cardButton: (id: number) => cb.session.pack(`open.${id}`),
    leaveButton: (id: number) => cb.session.pack(`leave.${id}`),
    mapButton: (id: number) => cb.session.pack(`map.${id}`),
    mute: (topic: string) => cb.muteTopic.pack(`off:${topic}`),
  };
  kinds.register(sessionReminderKind(kindDeps));
  kinds.register(sessionNoticeKind(kindDeps));
  engine = TestEngine.start({ db, fake, now: clock.now, kinds, prefix });
  reminders = new SessionReminders({ prisma: db.prisma, deliveries: engine.deliveries, now: clock.now });
  commune = await db.prisma.commune.findFirstOrThrow({ orderBy: { code: "asc" }, select: { code: true, provinceCode: true } });
});
afterAll(async () => {
  await engine?.stop();
  await db?.close();
});

/**
 * Each test lives 30 days before the previous one: sessions other tests left behind are then in
 * the clock's future and never fall due here (ticks count only this test's sessions).
 */
let epoch = Date.parse("2027-06-01T00:00:00Z");
function freshEpoch(): number {
  epoch -= 30 * 24 * H;
  clock.set(new Date(epoch));
  return epoch;
}

let nextId = 9_700_000 + Math.floor(Math.random() * 1000) * 100;
async function person(locale?: string): Promise<number> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id), locale } });
  fake.registerChat(id);
  return id;
}

async function session(startsAt: Date, title = "Luật Biên phòng & bạn <2027>") {
  const center = await db.prisma.learningCenter.create({
    data: { provinceCode: commune.provinceCode, communeCode: commune.code, name: `TTHTCĐ ${randomBytes(4).toString("hex")}`, address: "Thôn 3, xã Cát Bà", lat: 20.72, lon: 107.05 },
  });
  return db.prisma.learningSession.create({
    data: {
      centerId: center.id, title, topic: "law", startsAt, durationMin: 90, capacity: 50,
      checkinToken: randomBytes(16).toString("hex"), nextReminderAt: firstReminderAt(startsAt, clock.now()),
    },
    include: { center: true },
  });
}

async function signUp(sessionId: number, userId: number, status: "confirmed" | "waiting", at = clock.now()) {
  await db.prisma.sessionSignup.create({
    data: { sessionId, userId: BigInt(userId), status, signedUpAt: at, confirmedAt: status === "confirmed" ? at : null },
  });
}

const messages = (chat: number) => fake.sent(chat).filter((c) => c.method === "sendMessage").map((c) => c.result as Message);
const settle = () => new Promise((r) => setTimeout(r, 400));

/** The real scheduler, except that nothing is released: rows wait in the ledger (a crash right after the commit). */
const holding = (): DeliveryScheduler => ({
  release: async () => {},
  schedule: (k, r, c, d) => engine.deliveries.schedule(k, r, c, d),
  reschedule: (k, r, d) => engine.deliveries.reschedule(k, r, d),
  cancel: (k, r, why) => engine.deliveries.cancel(k, r, why),
  counts: (k, r) => engine.deliveries.counts(k, r),
});

const rowOf = (ref: string, chat: number) =>
  db.prisma.delivery.findUniqueOrThrow({ where: { kind_refId_chatId: { kind: SESSION_REMINDER_KIND, refId: ref, chatId: BigInt(chat) } } });

describe("session reminders", () => {
  it("plans the latest due slot only, and none once the session started", () => {
    const start = new Date("2027-01-10T01:00:00Z");
    const day = new Date(start.getTime() - 24 * H);
    const hour = new Date(start.getTime() - H);
    expect(planSlots(start, day, new Date(day.getTime() - 1))).toEqual({ next: day });
    expect(planSlots(start, day, day)).toEqual({ queue: { slot: "24h", at: day }, next: hour });
    // After an outage past both slots, one reminder (the 1-hour one), not two.
    expect(planSlots(start, day, new Date(start.getTime() - 10 * 60_000))).toEqual({ queue: { slot: "1h", at: hour }, next: null });
    expect(planSlots(start, day, new Date(start.getTime() + 1))).toEqual({ next: null });
  });

  it("sends nothing before 24 h, one at 24 h, one at 1 h and none after, with the session's details and buttons", async () => {
    const t0 = freshEpoch();
    const start = new Date(t0 + 3 * 24 * H);
    const s = await session(start);
    const lan = await person();
    const mai = await person("en");
    await signUp(s.id, lan, "confirmed");
    await signUp(s.id, mai, "confirmed");

    expect(await reminders.tick()).toBe(0);
    clock.set(new Date(start.getTime() - 24 * H - 3_000));
    expect(await reminders.tick()).toBe(0);
    await settle();
    expect(messages(lan)).toEqual([]);

    clock.set(new Date(start.getTime() - 24 * H));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(lan).length === 1 && messages(mai).length === 1, "24-hour reminders");
    const [first] = messages(lan);
    expect(first!.text).toBe(
      `⏰ Nhắc lịch: Luật Biên phòng & bạn <2027> bắt đầu lúc ${formatSessionTime(start, "vi")} (còn 24 giờ)\n🏫 ${s.center.name}\n📍 Thôn 3, xã Cát Bà`,
    );
    expect(first!.entities?.some((e) => e.type === "bold" && e.length === "Luật Biên phòng & bạn <2027>".length)).toBe(true);
    const buttons = (first!.reply_markup as InlineKeyboardMarkup).inline_keyboard.map((row) => row.map((b) => [b.text, (b as { callback_data: string }).callback_data]));
    expect(buttons).toEqual([
      [["📋 Xem buổi học", `ses:open.${s.id}`], ["🗺 Bản đồ", `ses:map.${s.id}`]],
      [["❌ Hủy chỗ của tôi", `ses:leave.${s.id}`]],
      [["🔕 Tắt nhắc lịch buổi học", `mute:off:${SESSIONS_TOPIC}`]],
    ]);
    expect(messages(mai)[0]!.text).toMatch(/^⏰ Reminder: Luật Biên phòng & bạn <2027> starts at (.+) \(in 24 hours\)\n/);
    expect(messages(mai)[0]!.text).toContain(formatSessionTime(start, "en"));

    // Ticks later the same day add nothing.
    clock.advance(10 * 60_000);
    expect(await reminders.tick()).toBe(0);
    clock.set(new Date(start.getTime() - H - 3_000));
    expect(await reminders.tick()).toBe(0);
    await settle();
    expect(messages(lan)).toHaveLength(1);

    // A tick just before the slot queues it for the slot's exact time (the look-ahead).
    clock.set(new Date(start.getTime() - H - 1_500));
    expect(await reminders.tick()).toBe(1);
    expect((await rowOf(reminderRef(s.id, "1h", start), lan)).dueAt).toEqual(new Date(start.getTime() - H));
    clock.set(new Date(start.getTime() - H));
    await eventually(() => messages(lan).length === 2, "1-hour reminder");
    expect(messages(lan)[1]!.text).toContain("(còn 1 giờ)");
    expect(messages(mai)).toHaveLength(2);

    clock.set(new Date(start.getTime() + H));
    expect(await reminders.tick()).toBe(0);
    await settle();
    expect(messages(lan)).toHaveLength(2);
    expect((await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } })).nextReminderAt).toBeNull();
  });

  it("reminds confirmed attendees only: not the waiting list, nor who left, muted or blocked the bot", async () => {
    const t0 = freshEpoch();
    const start = new Date(t0 + 2 * 24 * H);
    const s = await session(start, "Kỹ năng số");
    const [stays, waits, leaves, mutedBefore, mutesAfter, blocked] = [await person(), await person(), await person(), await person(), await person(), await person()];
    for (const p of [stays, leaves, mutedBefore, mutesAfter, blocked]) await signUp(s.id, p, "confirmed");
    await signUp(s.id, waits, "waiting");
    await db.prisma.topicMute.create({ data: { userId: BigInt(mutedBefore), topic: SESSIONS_TOPIC } });
    await db.prisma.user.update({ where: { id: BigInt(blocked) }, data: { unreachableSince: clock.now() } });

    clock.set(new Date(start.getTime() - 24 * H));
    const held = new SessionReminders({ prisma: db.prisma, deliveries: holding(), now: clock.now });
    expect(await held.tick()).toBe(1);
    const ref = reminderRef(s.id, "24h", start);
    const queued = await db.prisma.delivery.findMany({ where: { kind: SESSION_REMINDER_KIND, refId: ref }, select: { chatId: true } });
    expect(queued.map((r) => Number(r.chatId)).sort()).toEqual([stays, leaves, mutesAfter].sort());

    // Between the queueing and the send: one gives the seat back, one mutes session reminders.
    await db.prisma.sessionSignup.delete({ where: { sessionId_userId: { sessionId: s.id, userId: BigInt(leaves) } } });
    await db.prisma.topicMute.create({ data: { userId: BigInt(mutesAfter), topic: SESSIONS_TOPIC } });
    await engine.deliveries.release(SESSION_REMINDER_KIND, ref, clock.now());

    await eventually(async () => (await engine.ledger.counts(SESSION_REMINDER_KIND, ref)).queued === 0 && (await engine.ledger.counts(SESSION_REMINDER_KIND, ref)).sending === 0, "all rows settled");
    expect(messages(stays)).toHaveLength(1);
    for (const p of [waits, leaves, mutedBefore, mutesAfter, blocked]) expect(messages(p), `chat ${p}`).toEqual([]);
    expect(await rowOf(ref, leaves)).toMatchObject({ state: "cancelled", error: "not signed up" });
    expect(await rowOf(ref, mutesAfter)).toMatchObject({ state: "cancelled", error: "muted" });
  });

  it("someone confirmed after the 24-hour slot passed gets only the 1-hour reminder", async () => {
    const t0 = freshEpoch();
    const start = new Date(t0 + 2 * 24 * H);
    const s = await session(start, "Sơ cứu ban đầu");
    const early = await person();
    const late = await person();
    await signUp(s.id, early, "confirmed");
    // The worker was down at the 24-hour slot; a seat was taken after it, before the late tick.
    await signUp(s.id, late, "confirmed", new Date(start.getTime() - 23 * H));
    clock.set(new Date(start.getTime() - 23 * H + 60_000));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(early).length === 1, "24-hour reminder to the early one");
    await settle();
    expect(messages(late)).toEqual([]);

    clock.set(new Date(start.getTime() - H));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(early).length === 2 && messages(late).length === 1, "1-hour reminders to both");
    expect(messages(late)[0]!.text).toContain("(còn 1 giờ)");
  });

  it("a moved session is reminded at its new time, never at the old one", async () => {
    const t0 = freshEpoch();
    const oldStart = new Date(t0 + 3 * 24 * H);
    const newStart = new Date(oldStart.getTime() + 2 * 24 * H + 30 * 60_000);
    const s = await session(oldStart, "Kỹ thuật trồng lúa");
    const p = await person();
    await signUp(s.id, p, "confirmed");

    clock.set(new Date(oldStart.getTime() - 24 * H));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(p).length === 1, "24-hour reminder for the old time");
    expect(messages(p)[0]!.text).toContain(formatSessionTime(oldStart, "vi"));

    // The old 1-hour reminder got queued (its release still on its way) when the officer moved it.
    clock.set(new Date(oldStart.getTime() - H));
    const held = new SessionReminders({ prisma: db.prisma, deliveries: holding(), now: clock.now });
    expect(await held.tick()).toBe(1);
    const oldRef = reminderRef(s.id, "1h", oldStart);
    await db.prisma.learningSession.update({ where: { id: s.id }, data: { startsAt: newStart, nextReminderAt: firstReminderAt(newStart, clock.now()) } });
    // Even had the officer's cancel missed it, the render sees the ref's start is not the session's.
    await engine.deliveries.release(SESSION_REMINDER_KIND, oldRef, clock.now());
    await eventually(async () => (await rowOf(oldRef, p)).state === "cancelled", "old-time reminder skipped");
    expect((await rowOf(oldRef, p)).error).toBe("session moved");

    clock.set(new Date(oldStart.getTime() + H));
    expect(await reminders.tick()).toBe(0);
    clock.set(new Date(newStart.getTime() - 24 * H));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(p).length === 2, "24-hour reminder for the new time");
    clock.set(new Date(newStart.getTime() - H));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(p).length === 3, "1-hour reminder for the new time");
    for (const m of messages(p).slice(1)) expect(m.text).toContain(formatSessionTime(newStart, "vi"));
    expect(messages(p)[2]!.text).toContain("(còn 1 giờ)");
  });

  it("a cancelled session sends none: its queued reminders and their pending release are cancelled", async () => {
    const t0 = freshEpoch();
    const start = new Date(t0 + 3 * 24 * H);
    const s = await session(start, "Phòng chống ma túy");
    const p = await person();
    await signUp(s.id, p, "confirmed");
    clock.set(new Date(start.getTime() - 24 * H));
    const held = new SessionReminders({ prisma: db.prisma, deliveries: holding(), now: clock.now });
    expect(await held.tick()).toBe(1);
    const ref = reminderRef(s.id, "24h", start);
    // A release waiting in the delayed set, as one scheduled a minute ahead would be.
    await engine.deliveries.release(SESSION_REMINDER_KIND, ref, new Date(clock.now().getTime() + 60_000));
    expect(await engine.queues.release.getJob(releaseJobId(SESSION_REMINDER_KIND, ref))).toBeDefined();

    await db.prisma.learningSession.update({ where: { id: s.id }, data: { state: "cancelled", cancelledAt: clock.now() } });
    expect(await cancelQueuedReminders(db.prisma, s.id, "session cancelled")).toBe(1);
    expect(await rowOf(ref, p)).toMatchObject({ state: "cancelled", error: "session cancelled" });
    expect(await cancelQueuedReminders(db.prisma, s.id, "session cancelled")).toBe(0);
    // The release job left behind finds no queued row: nothing is sent.
    const before = messages(p).length;
    await engine.deliveries.release(SESSION_REMINDER_KIND, ref, clock.now());
    await new Promise((r) => setTimeout(r, 500));
    expect(messages(p)).toHaveLength(before);
    expect(await rowOf(ref, p)).toMatchObject({ state: "cancelled" });

    // The officer's update left next_reminder_at set: the tick queues nothing and clears it.
    clock.set(new Date(start.getTime() - H));
    expect(await reminders.tick()).toBe(0);
    expect((await db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } })).nextReminderAt).toBeNull();

    // A row queued before the cancel whose release was already under way is skipped at send time.
    const other = await session(new Date(clock.now().getTime() + 2 * H), "Bình đẳng giới");
    await signUp(other.id, p, "confirmed");
    const otherRef = reminderRef(other.id, "1h", other.startsAt);
    await engine.ledger.insert(SESSION_REMINDER_KIND, otherRef, [p], clock.now());
    await db.prisma.learningSession.update({ where: { id: other.id }, data: { state: "cancelled", nextReminderAt: null } });
    await engine.deliveries.release(SESSION_REMINDER_KIND, otherRef, clock.now());
    await eventually(async () => (await rowOf(otherRef, p)).state === "cancelled", "cancelled session's row skipped");
    expect((await rowOf(otherRef, p)).error).toBe("session cancelled");
    await settle();
    expect(messages(p)).toEqual([]);
  });

  it("never sends twice: a crash after the commit, a second process and a re-run tick", async () => {
    const t0 = freshEpoch();
    const start = new Date(t0 + 3 * 24 * H);
    const s = await session(start, "Học tập suốt đời");
    const p = await person();
    const q = await person();
    await signUp(s.id, p, "confirmed");
    await signUp(s.id, q, "confirmed");
    clock.set(new Date(start.getTime() - 24 * H));

    // Two processes tick at once: one of them queues the slot.
    const other = new SessionReminders({ prisma: db.prisma, deliveries: holding(), now: clock.now });
    const [a, b] = await Promise.all([reminders.tick(), other.tick()]);
    expect(a + b).toBe(1);
    const ref = reminderRef(s.id, "24h", start);
    // Had the holding one won, its rows wait for a restart: a new worker on the same queues resumes what the ledger has open.
    const restarted = TestEngine.start({ db, fake, now: clock.now, kinds: engine.kinds, queues: engine.queues, prefix });
    try {
      await restarted.deliveries.resumeOpen();
      await eventually(() => messages(p).length === 1 && messages(q).length === 1, "reminders after the restart");
      // The slot is found due again (as if the advance had been lost): the ledger refuses a second row.
      await db.prisma.learningSession.update({ where: { id: s.id }, data: { nextReminderAt: new Date(start.getTime() - 24 * H) } });
      const again = new SessionReminders({ prisma: db.prisma, deliveries: restarted.deliveries, now: clock.now });
      expect(await again.tick()).toBe(0);
      await restarted.deliveries.resumeOpen();
      await settle();
      expect(messages(p)).toHaveLength(1);
      expect(messages(q)).toHaveLength(1);
      expect(await engine.ledger.counts(SESSION_REMINDER_KIND, ref)).toMatchObject({ sent: 2, total: 2, ambiguous: 0 });
    } finally {
      await restarted.stop();
    }
  });

  it("tells people a session was cancelled, moved, or that they got a seat, with the right buttons", async () => {
    const t0 = freshEpoch();
    const s = await session(new Date(t0 + 5 * 24 * H), "Pháp luật <giao thông>");
    const [seated, waiting, left] = [await person(), await person("en"), await person()];
    await signUp(s.id, seated, "confirmed");
    await signUp(s.id, waiting, "waiting");
    await signUp(s.id, left, "confirmed");
    const movedTo = new Date(t0 + 6 * 24 * H);
    await db.prisma.learningSession.update({ where: { id: s.id }, data: { startsAt: movedTo } });
    const moved = noticeRef(s.id, "moved", Math.floor(t0 / 60_000));
    expect(await insertNoticeRows(db.prisma, s.id, moved, clock.now())).toBe(3);
    // One of them leaves before the notice goes out: it no longer concerns them.
    await db.prisma.sessionSignup.delete({ where: { sessionId_userId: { sessionId: s.id, userId: BigInt(left) } } });
    await engine.deliveries.release(SESSION_NOTICE_KIND, moved, clock.now());
    await eventually(() => messages(seated).length === 1 && messages(waiting).length === 1, "moved notices");
    expect(messages(seated)[0]!.text).toBe(
      `🕘 Buổi Pháp luật <giao thông> đã đổi giờ sang ${formatSessionTime(movedTo, "vi")}\n🏫 ${s.center.name}\n📍 Thôn 3, xã Cát Bà\nNếu không đến được, bạn hãy hủy chỗ để nhường cho người khác.`,
    );
    expect((messages(seated)[0]!.reply_markup as InlineKeyboardMarkup).inline_keyboard.flat().map((b) => b.text)).toEqual(["📋 Xem buổi học", "❌ Hủy chỗ của tôi"]);
    expect(messages(waiting)[0]!.text).toContain(`has moved to ${formatSessionTime(movedTo, "en")}`);
    expect((messages(waiting)[0]!.reply_markup as InlineKeyboardMarkup).inline_keyboard.flat().map((b) => b.text)).toEqual(["📋 View the session"]);

    // The waiting one is promoted: a seat, and the button to give it back.
    await db.prisma.sessionSignup.update({ where: { sessionId_userId: { sessionId: s.id, userId: BigInt(waiting) } }, data: { status: "confirmed", confirmedAt: clock.now() } });
    const promoted = noticeRef(s.id, "promoted", 7);
    await engine.deliveries.schedule(SESSION_NOTICE_KIND, promoted, [waiting], clock.now());
    await eventually(() => messages(waiting).length === 2, "promoted notice");
    expect(messages(waiting)[1]!.text).toMatch(/^🎉 You have a seat at Pháp luật <giao thông>,/);
    expect((messages(waiting)[1]!.reply_markup as InlineKeyboardMarkup).inline_keyboard[0]!.map((b) => [b.text, (b as { callback_data: string }).callback_data]))
      .toEqual([["↩️ Give my seat back", `ses:leave.${s.id}`], ["📋 View the session", `ses:open.${s.id}`]]);

    // Cancelled: sent even to someone who muted session reminders.
    await db.prisma.topicMute.create({ data: { userId: BigInt(seated), topic: SESSIONS_TOPIC } });
    await db.prisma.learningSession.update({ where: { id: s.id }, data: { state: "cancelled", cancelledAt: clock.now() } });
    const cancelled = noticeRef(s.id, "cancelled", Math.floor(t0 / 60_000));
    expect(await insertNoticeRows(db.prisma, s.id, cancelled, clock.now())).toBe(2);
    await engine.deliveries.release(SESSION_NOTICE_KIND, cancelled, clock.now());
    await eventually(() => messages(seated).length === 2 && messages(waiting).length === 3, "cancelled notices");
    expect(messages(seated)[1]!.text).toBe(`❌ Buổi Pháp luật <giao thông> lúc ${formatSessionTime(movedTo, "vi")} tại ${s.center.name} đã bị hủy. Xin lỗi bạn vì sự thay đổi này.`);
    expect(messages(left)).toEqual([]);
    expect(await db.prisma.delivery.findUniqueOrThrow({ where: { kind_refId_chatId: { kind: SESSION_NOTICE_KIND, refId: moved, chatId: BigInt(left) } } }))
      .toMatchObject({ state: "cancelled", error: "not signed up" });
  });
});
