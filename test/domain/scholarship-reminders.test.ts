import type { PrismaClient } from "../../src/generated/prisma/client.js";
import { randomBytes } from "node:crypto";
import type { InlineKeyboardMarkup, Message } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { DeliveryKinds, type DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { nominationStatusKind, scholarshipNoticeKind, scholarshipReminderKind } from "../../src/domain/scholarships/kinds.js";
import {
  addDays, dayNumber, firstRoundReminderAt, formatDay, insertRoundNoticeRows, NOMINATION_STATUS_KIND, nominationsCloseAt, nominationStatusRef,
  roundNoticeRef, roundReminderRef, SCHOLARSHIP_NOTICE_KIND, SCHOLARSHIP_REMINDER_KIND, SCHOLARSHIPS_TOPIC, slotTime, studentKey, vnDayAt,
  type Day, type NominationStatusName,
} from "../../src/domain/scholarships/model.js";
import { planRoundSlots, ScholarshipReminders } from "../../src/domain/scholarships/reminders.js";
import { createI18n } from "../../src/i18n.js";
import type { Database } from "../../src/infra/database.js";
import { releaseJobId } from "../../src/jobs/queues.js";
import { openTestDatabase } from "../support/database.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { makeRound } from "../support/scholarships.js";
import { FakeTelegram } from "../support/telegram/index.js";

/** What the officers' service does to a round's queued reminders when its dates move or it stops. */
function cancelQueuedRoundReminders(db: Pick<PrismaClient, "$executeRawUnsafe">, roundId: number, reason: string): Promise<number> {
  return db.$executeRawUnsafe(
    `UPDATE deliveries SET state = 'cancelled', error = $2, updated_at = now() WHERE kind = $3 AND ref_id LIKE $1 AND state = 'queued'`,
    `shr.${roundId}.%`, reason, SCHOLARSHIP_REMINDER_KIND,
  );
}

// Scholarship reminders and notices through the real engine (ledger, BullMQ on the test Redis,
// worker) against the fake Bot API, with a clock moved by hand. Rounds come from makeRound;
// subscriptions and nominations are written directly (their services are other parts).
const H = 3600_000;
const D = 24 * H;
const clock = new ManualClock(Date.parse("2027-09-01T03:00:00Z"));
let db: Database;
let fake: FakeTelegram;
let engine: TestEngine;
let reminders: ScholarshipReminders;
const prefix = `t-shr-${randomBytes(4).toString("hex")}`;
const PROGRAMME = "Vì em hiếu học <2027> & bạn";

beforeAll(async () => {
  db = await openTestDatabase();
  fake = new FakeTelegram();
  const kinds = new DeliveryKinds();
  const kindDeps = {
    prisma: db.prisma,
    i18n: await createI18n(),
    cardButton: (id: number) => cb.scholarship.pack(`open.${id}`),
    unremindButton: (id: number) => cb.scholarship.pack(`unrem.${id}`),
    nominationButton: (id: number) => cb.nomination.pack(`v.${id}`),
    mute: (topic: string) => cb.muteTopic.pack(`off:${topic}`),
  };
  for (const k of [scholarshipReminderKind(kindDeps), scholarshipNoticeKind(kindDeps), nominationStatusKind(kindDeps)]) kinds.register(k);
  engine = TestEngine.start({ db, fake, now: clock.now, kinds, prefix });
  reminders = new ScholarshipReminders({ prisma: db.prisma, deliveries: engine.deliveries, now: clock.now });
});
afterAll(async () => {
  await engine?.stop();
  await db?.close();
});

/**
 * Each test lives 60 days before the previous one: rounds other tests left behind are then in the
 * clock's future and never fall due here (ticks count only this test's rounds).
 */
let epoch = Date.parse("2027-09-01T03:00:00Z");
function freshEpoch(): number {
  epoch -= 60 * D;
  clock.set(new Date(epoch));
  return epoch;
}

let nextId = 9_800_000 + Math.floor(Math.random() * 1000) * 100;
async function person(locale?: string): Promise<number> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id), locale } });
  fake.registerChat(id);
  return id;
}

async function subscribe(roundId: number, userId: number, at = clock.now()) {
  await db.prisma.scholarshipSubscription.create({ data: { roundId, userId: BigInt(userId), createdAt: at } });
}

async function nominate(roundId: number, nominatorId: number, studentName: string, status: NominationStatusName = "received") {
  return db.prisma.nomination.create({
    data: {
      roundId, nominatorId: BigInt(nominatorId), relationship: "parent", studentName, birthYear: 2014, school: "Trường THCS Cát Bà",
      schoolLevel: "lower_secondary", grade: 7, provinceCode: "31", communeCode: "11737", circumstances: ["poor"],
      guardianName: "Nguyễn Thị Hoa", guardianConsentAt: clock.now(), studentKey: studentKey(studentName, 2014), status,
      statusChangedAt: status === "received" ? null : clock.now(), createdAt: clock.now(),
    },
  });
}

const yearOf = async (id: number) => (await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id } })).year;
const messages = (chat: number) => fake.sent(chat).filter((c) => c.method === "sendMessage").map((c) => c.result as Message);
const settle = () => new Promise((r) => setTimeout(r, 400));
const buttonsOf = (m: Message) =>
  (m.reply_markup as InlineKeyboardMarkup | undefined)?.inline_keyboard.map((row) => row.map((b) => [b.text, (b as { callback_data: string }).callback_data])) ?? [];
const at8 = (slot: "open" | "7d" | "1d", r: { opensOn: Day; deadlineOn: Day }) => slotTime(slot, r).at;

/** The real scheduler, except that nothing is released: rows wait in the ledger (a crash right after the commit). */
const holding = (): DeliveryScheduler => ({
  release: async () => {},
  schedule: (k, r, c, d) => engine.deliveries.schedule(k, r, c, d),
  reschedule: (k, r, d) => engine.deliveries.reschedule(k, r, d),
  cancel: (k, r, why) => engine.deliveries.cancel(k, r, why),
  counts: (k, r) => engine.deliveries.counts(k, r),
});

const rowOf = (kind: string, ref: string, chat: number) =>
  db.prisma.delivery.findUniqueOrThrow({ where: { kind_refId_chatId: { kind, refId: ref, chatId: BigInt(chat) } } });
const settled = async (kind: string, ref: string) => {
  const c = await engine.ledger.counts(kind, ref);
  return c.queued === 0 && c.sending === 0;
};

describe("scholarship reminder slots", () => {
  it("plans the latest due slot only, none once nominations closed, and no deadline slot before the opening", () => {
    const opensOn = new Date(Date.UTC(2027, 2, 10));
    const deadlineOn = new Date(Date.UTC(2027, 2, 25));
    const r = { opensOn, deadlineOn };
    const [open, week, day] = [at8("open", r), at8("7d", r), at8("1d", r)];
    // 8:00 in Vietnam is 01:00 UTC.
    expect(open.toISOString()).toBe("2027-03-10T01:00:00.000Z");
    expect(week.toISOString()).toBe("2027-03-18T01:00:00.000Z");
    expect(planRoundSlots(r, open, new Date(open.getTime() - 1))).toEqual({ next: open });
    expect(planRoundSlots(r, open, open)).toEqual({ queue: { slot: "open", at: open, aboutDay: opensOn, subscribedBefore: vnDayAt(opensOn) }, next: week });
    // After an outage past two slots: "7 days left" alone, not a stale "opens today" beside it.
    expect(planRoundSlots(r, open, new Date(week.getTime() + 5 * H))).toEqual({
      queue: { slot: "7d", at: week, aboutDay: deadlineOn, subscribedBefore: new Date(week.getTime() + 1) }, next: day,
    });
    expect(planRoundSlots(r, day, nominationsCloseAt(deadlineOn))).toEqual({ next: null });
    // Open for five days only: "7 days left" would come before the opening, so it is not used.
    const short = { opensOn, deadlineOn: addDays(opensOn, 4) };
    expect(planRoundSlots(short, firstRoundReminderAt(short, new Date(Date.UTC(2027, 2, 1)))!, new Date(Date.UTC(2027, 2, 1)))).toEqual({ next: at8("open", short) });
    expect(planRoundSlots(short, at8("open", short), at8("open", short))).toMatchObject({ queue: { slot: "open" }, next: at8("1d", short) });
  });
});

describe("scholarship reminders", () => {
  it("reminds at 8:00 on the opening day (people subscribed before it opened), 7 days and 1 day before the deadline, in both languages", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now(), { programme: PROGRAMME, opensIn: 3, deadlineIn: 12 });
    const year = await yearOf(r.id);
    const [lan, mai, late] = [await person(), await person("en"), await person()];
    await subscribe(r.id, lan);
    await subscribe(r.id, mai);

    expect(await reminders.tick()).toBe(0);
    clock.set(new Date(at8("open", r).getTime() - 3_000));
    expect(await reminders.tick()).toBe(0);
    // Subscribed on the opening day itself, before 8:00: the round was already open, no "opens today".
    clock.set(vnDayAt(r.opensOn, 7));
    await subscribe(r.id, late);
    await settle();
    expect(messages(lan)).toEqual([]);

    clock.set(at8("open", r));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(lan).length === 1 && messages(mai).length === 1, "opening reminders");
    const deadline = formatDay(r.deadlineOn);
    expect(messages(lan)[0]!.text).toBe(
      `📣 Đợt học bổng ${PROGRAMME} năm ${year} mở nhận hồ sơ hôm nay. Hạn nộp: hết ngày ${deadline}.\n💰 Mỗi suất 2.000.000 đồng · 20 suất`,
    );
    expect(messages(lan)[0]!.entities?.some((e) => e.type === "bold" && e.length === PROGRAMME.length)).toBe(true);
    expect(buttonsOf(messages(lan)[0]!)).toEqual([
      [["📋 Xem đợt học bổng", `sch:open.${r.id}`]],
      [["✋ Thôi nhắc đợt này", `sch:unrem.${r.id}`]],
      [["🔕 Tắt nhắc học bổng", `mute:off:${SCHOLARSHIPS_TOPIC}`]],
    ]);
    expect(messages(mai)[0]!.text).toBe(
      `📣 ${PROGRAMME} ${year} scholarships open for nominations today. Deadline: end of ${deadline}.\n💰 2,000,000 VND per award · 20 awards`,
    );
    expect(buttonsOf(messages(mai)[0]!).flat().map((b) => b[0])).toEqual(["📋 View the round", "✋ Stop reminding me of this round", "🔕 Turn off scholarship reminders"]);

    // Another tick, and a fresh instance (a restarted process), queue nothing more.
    clock.advance(10 * 60_000);
    expect(await reminders.tick()).toBe(0);
    expect(await new ScholarshipReminders({ prisma: db.prisma, deliveries: engine.deliveries, now: clock.now }).tick()).toBe(0);
    await settle();
    expect(messages(late)).toEqual([]);
    expect(messages(lan)).toHaveLength(1);

    clock.set(at8("7d", r));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => [lan, mai, late].every((p) => messages(p).length === (p === late ? 1 : 2)), "7-day reminders");
    expect(messages(late)[0]!.text).toBe(
      `⏰ Đợt học bổng ${PROGRAMME} năm ${year}: còn 7 ngày đến hạn nộp hồ sơ (hết ngày ${deadline}).\n💰 Mỗi suất 2.000.000 đồng · 20 suất`,
    );
    expect(messages(mai)[1]!.text).toContain("7 days left to nominate (deadline: end of");

    clock.set(at8("1d", r));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(lan).length === 3 && messages(mai).length === 3 && messages(late).length === 2, "1-day reminders");
    expect(messages(lan)[2]!.text).toContain(`còn 1 ngày đến hạn nộp hồ sơ (hết ngày ${deadline})`);
    expect(messages(mai)[2]!.text).toContain("1 day left to nominate");
    expect((await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } })).nextReminderAt).toBeNull();

    clock.set(new Date(nominationsCloseAt(r.deadlineOn).getTime() + H));
    expect(await reminders.tick()).toBe(0);
    await settle();
    expect(messages(lan)).toHaveLength(3);
  });

  it("reminds subscribers only: not who unsubscribed, muted or blocked the bot, before or after the queueing", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now(), { awardValueVnd: null });
    const [stays, leaves, mutedBefore, mutesAfter, blocked, never] = [await person(), await person(), await person(), await person(), await person(), await person()];
    for (const p of [stays, leaves, mutedBefore, mutesAfter, blocked]) await subscribe(r.id, p);
    await db.prisma.topicMute.create({ data: { userId: BigInt(mutedBefore), topic: SCHOLARSHIPS_TOPIC } });
    await db.prisma.user.update({ where: { id: BigInt(blocked) }, data: { unreachableSince: clock.now() } });

    clock.set(at8("7d", r));
    const held = new ScholarshipReminders({ prisma: db.prisma, deliveries: holding(), now: clock.now });
    expect(await held.tick()).toBe(1);
    const ref = roundReminderRef(r.id, "7d", r.deadlineOn);
    const queued = await db.prisma.delivery.findMany({ where: { kind: SCHOLARSHIP_REMINDER_KIND, refId: ref }, select: { chatId: true } });
    expect(queued.map((q) => Number(q.chatId)).sort()).toEqual([stays, leaves, mutesAfter].sort());

    // Between the queueing and the send: one presses "stop reminding me", one mutes scholarship reminders.
    await db.prisma.scholarshipSubscription.delete({ where: { roundId_userId: { roundId: r.id, userId: BigInt(leaves) } } });
    await db.prisma.topicMute.create({ data: { userId: BigInt(mutesAfter), topic: SCHOLARSHIPS_TOPIC } });
    await engine.deliveries.release(SCHOLARSHIP_REMINDER_KIND, ref, clock.now());
    await eventually(() => settled(SCHOLARSHIP_REMINDER_KIND, ref), "all rows settled");
    expect(messages(stays)).toHaveLength(1);
    // No award value given: no money line.
    expect(messages(stays)[0]!.text).toBe(`⏰ Đợt học bổng Vì em hiếu học năm ${await yearOf(r.id)}: còn 7 ngày đến hạn nộp hồ sơ (hết ngày ${formatDay(r.deadlineOn)}).`);
    for (const p of [leaves, mutedBefore, mutesAfter, blocked, never]) expect(messages(p), `chat ${p}`).toEqual([]);
    expect(await rowOf(SCHOLARSHIP_REMINDER_KIND, ref, leaves)).toMatchObject({ state: "cancelled", error: "unsubscribed" });
    expect(await rowOf(SCHOLARSHIP_REMINDER_KIND, ref, mutesAfter)).toMatchObject({ state: "cancelled", error: "muted" });
  });

  it("never sends twice: two processes at once, a crash after the commit and a restart, a re-run slot", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now());
    const [p, q] = [await person(), await person()];
    await subscribe(r.id, p);
    await subscribe(r.id, q);
    clock.set(at8("7d", r));

    const other = new ScholarshipReminders({ prisma: db.prisma, deliveries: holding(), now: clock.now });
    const [a, b] = await Promise.all([reminders.tick(), other.tick()]);
    expect(a + b).toBe(1);
    const ref = roundReminderRef(r.id, "7d", r.deadlineOn);
    // Had the holding one won, its rows wait for a restart: a new worker on the same queues resumes what the ledger has open.
    const restarted = TestEngine.start({ db, fake, now: clock.now, kinds: engine.kinds, queues: engine.queues, prefix });
    try {
      await restarted.deliveries.resumeOpen();
      await eventually(() => messages(p).length === 1 && messages(q).length === 1, "reminders after the restart");
      // The slot is found due again (as if the advance had been lost): the ledger refuses a second row.
      await db.prisma.scholarshipRound.update({ where: { id: r.id }, data: { nextReminderAt: at8("7d", r) } });
      const again = new ScholarshipReminders({ prisma: db.prisma, deliveries: restarted.deliveries, now: clock.now });
      expect(await again.tick()).toBe(0);
      await restarted.deliveries.resumeOpen();
      await settle();
      expect(messages(p)).toHaveLength(1);
      expect(messages(q)).toHaveLength(1);
      expect(await engine.ledger.counts(SCHOLARSHIP_REMINDER_KIND, ref)).toMatchObject({ sent: 2, total: 2, ambiguous: 0 });
    } finally {
      await restarted.stop();
    }
  });

  it("a moved deadline is reminded for the new date only; reminders of the old date are cancelled or skipped", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now(), { deadlineIn: 10 });
    const p = await person();
    await subscribe(r.id, p);

    // The 7-day reminder of the old deadline is queued (its release on its way) when the officer extends by ten days.
    clock.set(at8("7d", r));
    const held = new ScholarshipReminders({ prisma: db.prisma, deliveries: holding(), now: clock.now });
    expect(await held.tick()).toBe(1);
    const oldRef = roundReminderRef(r.id, "7d", r.deadlineOn);
    const moved = { opensOn: r.opensOn, deadlineOn: addDays(r.deadlineOn, 10) };
    clock.advance(H);
    await db.prisma.scholarshipRound.update({ where: { id: r.id }, data: { deadlineOn: moved.deadlineOn, nextReminderAt: firstRoundReminderAt(moved, clock.now()) } });
    expect(await cancelQueuedRoundReminders(db.prisma, r.id, "dates changed")).toBe(1);
    await engine.deliveries.release(SCHOLARSHIP_REMINDER_KIND, oldRef, clock.now());
    // A row of the old date committed just after the officer's cancel (a racing tick) is skipped at send time.
    const oldDayRef = roundReminderRef(r.id, "1d", r.deadlineOn);
    await engine.ledger.insert(SCHOLARSHIP_REMINDER_KIND, oldDayRef, [p], clock.now());
    await engine.deliveries.release(SCHOLARSHIP_REMINDER_KIND, oldDayRef, clock.now());
    await eventually(async () => (await rowOf(SCHOLARSHIP_REMINDER_KIND, oldDayRef, p)).state === "cancelled", "old-date reminder skipped");
    expect(await rowOf(SCHOLARSHIP_REMINDER_KIND, oldDayRef, p)).toMatchObject({ error: "dates changed" });
    expect(await rowOf(SCHOLARSHIP_REMINDER_KIND, oldRef, p)).toMatchObject({ state: "cancelled", error: "dates changed" });

    clock.set(at8("1d", r));
    expect(await reminders.tick()).toBe(0);
    await settle();
    expect(messages(p)).toEqual([]);

    clock.set(at8("7d", moved));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(p).length === 1, "7-day reminder of the new deadline");
    clock.set(at8("1d", moved));
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(p).length === 2, "1-day reminder of the new deadline");
    expect(messages(p)[0]!.text).toContain(`còn 7 ngày đến hạn nộp hồ sơ (hết ngày ${formatDay(moved.deadlineOn)})`);
    expect(messages(p)[1]!.text).toContain(`còn 1 ngày đến hạn nộp hồ sơ (hết ngày ${formatDay(moved.deadlineOn)})`);
    for (const m of messages(p)) expect(m.text).not.toContain(formatDay(r.deadlineOn));
  });

  it("a cancelled or closed round sends none: queued reminders and their pending release are cancelled, late ones skipped", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now());
    const p = await person();
    await subscribe(r.id, p);
    clock.set(at8("7d", r));
    const held = new ScholarshipReminders({ prisma: db.prisma, deliveries: holding(), now: clock.now });
    expect(await held.tick()).toBe(1);
    const ref = roundReminderRef(r.id, "7d", r.deadlineOn);
    // A release waiting in the delayed set, as one scheduled a minute ahead would be.
    await engine.deliveries.release(SCHOLARSHIP_REMINDER_KIND, ref, new Date(clock.now().getTime() + 60_000));
    expect(await engine.queues.release.getJob(releaseJobId(SCHOLARSHIP_REMINDER_KIND, ref))).toBeDefined();

    await db.prisma.scholarshipRound.update({ where: { id: r.id }, data: { state: "cancelled", cancelledAt: clock.now() } });
    expect(await cancelQueuedRoundReminders(db.prisma, r.id, "round cancelled")).toBe(1);
    expect(await cancelQueuedRoundReminders(db.prisma, r.id, "round cancelled")).toBe(0);
    await engine.deliveries.release(SCHOLARSHIP_REMINDER_KIND, ref, clock.now());
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(messages(p)).toEqual([]);
    expect(await rowOf(SCHOLARSHIP_REMINDER_KIND, ref, p)).toMatchObject({ state: "cancelled", error: "round cancelled" });

    // The officer's update left next_reminder_at set: the tick queues nothing and clears it.
    clock.set(at8("1d", r));
    expect(await reminders.tick()).toBe(0);
    expect((await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } })).nextReminderAt).toBeNull();

    // Rows already on their way when a round was cancelled or closed are skipped at send time.
    const cancelled = await makeRound(db.prisma, clock.now(), { state: "cancelled" });
    const closed = await makeRound(db.prisma, clock.now(), { state: "closed" });
    for (const x of [cancelled, closed]) {
      await subscribe(x.id, p);
      const xRef = roundReminderRef(x.id, "7d", x.deadlineOn);
      await engine.ledger.insert(SCHOLARSHIP_REMINDER_KIND, xRef, [p], clock.now());
      await engine.deliveries.release(SCHOLARSHIP_REMINDER_KIND, xRef, clock.now());
      await eventually(async () => (await rowOf(SCHOLARSHIP_REMINDER_KIND, xRef, p)).state === "cancelled", "late row skipped");
    }
    expect((await rowOf(SCHOLARSHIP_REMINDER_KIND, roundReminderRef(cancelled.id, "7d", cancelled.deadlineOn), p)).error).toBe("round cancelled");
    expect((await rowOf(SCHOLARSHIP_REMINDER_KIND, roundReminderRef(closed.id, "7d", closed.deadlineOn), p)).error).toBe("round closed");
    await settle();
    expect(messages(p)).toEqual([]);
  });

  it("after an outage sends the latest slot only, and nothing once nominations have closed", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now(), { opensIn: 2, deadlineIn: 12 });
    const gone = await makeRound(db.prisma, clock.now(), { opensIn: 1, deadlineIn: 4 });
    const p = await person("en");
    await subscribe(r.id, p);
    await subscribe(gone.id, p);

    // The worker comes back the morning after the second round's deadline, past the first round's opening and its 7-day slot.
    clock.set(new Date(at8("7d", r).getTime() + 2 * D + H));
    expect(clock.now().getTime()).toBeGreaterThan(nominationsCloseAt(gone.deadlineOn).getTime());
    expect(await reminders.tick()).toBe(1);
    await eventually(() => messages(p).length === 1, "the 7-day reminder");
    await settle();
    expect(messages(p)).toHaveLength(1);
    expect(messages(p)[0]!.text).toContain("7 days left to nominate");
    expect(await db.prisma.delivery.count({ where: { kind: SCHOLARSHIP_REMINDER_KIND, refId: roundReminderRef(r.id, "open", r.opensOn) } })).toBe(0);
    expect(await db.prisma.delivery.count({ where: { kind: SCHOLARSHIP_REMINDER_KIND, refId: { startsWith: `shr.${gone.id}.` } } })).toBe(0);
    expect((await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: r.id } })).nextReminderAt).toEqual(at8("1d", r));
    expect((await db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id: gone.id } })).nextReminderAt).toBeNull();

    // A row queued before the outage and sent after the deadline passed is skipped.
    const staleRef = roundReminderRef(gone.id, "1d", gone.deadlineOn);
    await engine.ledger.insert(SCHOLARSHIP_REMINDER_KIND, staleRef, [p], clock.now());
    await engine.deliveries.release(SCHOLARSHIP_REMINDER_KIND, staleRef, clock.now());
    await eventually(async () => (await rowOf(SCHOLARSHIP_REMINDER_KIND, staleRef, p)).state === "cancelled", "stale row skipped");
    expect((await rowOf(SCHOLARSHIP_REMINDER_KIND, staleRef, p)).error).toBe("nominations closed");
  });
});

describe("scholarship notices", () => {
  it("extended: to subscribers and nominators still following it, not muted, while the deadline holds", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now(), { programme: PROGRAMME, deadlineIn: 5 });
    const year = await yearOf(r.id);
    const [sub, nom, muted, leaver] = [await person(), await person("en"), await person(), await person()];
    for (const p of [sub, muted, leaver]) await subscribe(r.id, p);
    await nominate(r.id, nom, "Lò Văn Páo");
    await db.prisma.topicMute.create({ data: { userId: BigInt(muted), topic: SCHOLARSHIPS_TOPIC } });

    const extendedTo = addDays(r.deadlineOn, 10);
    await db.prisma.scholarshipRound.update({ where: { id: r.id }, data: { deadlineOn: extendedTo } });
    const ref = roundNoticeRef(r.id, "extended", dayNumber(extendedTo));
    expect(await insertRoundNoticeRows(db.prisma, r.id, ref, clock.now())).toBe(4);
    await db.prisma.scholarshipSubscription.delete({ where: { roundId_userId: { roundId: r.id, userId: BigInt(leaver) } } });
    // An older extension's notice still in the ledger names a deadline the round no longer has.
    const stale = roundNoticeRef(r.id, "extended", dayNumber(addDays(r.deadlineOn, 3)));
    expect(await insertRoundNoticeRows(db.prisma, r.id, stale, clock.now())).toBe(3);
    await engine.deliveries.release(SCHOLARSHIP_NOTICE_KIND, ref, clock.now());
    await engine.deliveries.release(SCHOLARSHIP_NOTICE_KIND, stale, clock.now());
    await eventually(async () => (await settled(SCHOLARSHIP_NOTICE_KIND, ref)) && settled(SCHOLARSHIP_NOTICE_KIND, stale), "extended notices settled");

    expect(messages(sub).map((m) => m.text)).toEqual([
      `📅 Đợt học bổng ${PROGRAMME} năm ${year} đã gia hạn: nhận hồ sơ đến hết ngày ${formatDay(extendedTo)}.`,
    ]);
    expect(buttonsOf(messages(sub)[0]!)).toEqual([
      [["📋 Xem đợt học bổng", `sch:open.${r.id}`]],
      [["✋ Thôi nhắc đợt này", `sch:unrem.${r.id}`]],
      [["🔕 Tắt nhắc học bổng", `mute:off:${SCHOLARSHIPS_TOPIC}`]],
    ]);
    // A nominator who never asked for reminders: no "stop reminding me" to press.
    expect(messages(nom).map((m) => m.text)).toEqual([
      `📅 ${PROGRAMME} ${year} scholarships have been extended: nominations are accepted until the end of ${formatDay(extendedTo)}.`,
    ]);
    expect(buttonsOf(messages(nom)[0]!)).toEqual([[["📋 View the round", `sch:open.${r.id}`]], [["🔕 Turn off scholarship reminders", `mute:off:${SCHOLARSHIPS_TOPIC}`]]]);
    expect(messages(muted)).toEqual([]);
    expect(messages(leaver)).toEqual([]);
    expect(await rowOf(SCHOLARSHIP_NOTICE_KIND, ref, muted)).toMatchObject({ state: "cancelled", error: "muted" });
    expect(await rowOf(SCHOLARSHIP_NOTICE_KIND, ref, leaver)).toMatchObject({ state: "cancelled", error: "unsubscribed" });
    expect(await rowOf(SCHOLARSHIP_NOTICE_KIND, stale, sub)).toMatchObject({ state: "cancelled", error: "deadline changed" });
  });

  it("closed and cancelled reach everyone they were queued for, muted or not, while the round is in that state", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now(), { programme: PROGRAMME });
    const year = await yearOf(r.id);
    const [sub, nom, muted] = [await person(), await person("en"), await person()];
    for (const p of [sub, muted]) await subscribe(r.id, p);
    await nominate(r.id, nom, "Lò Thị Mai");
    await db.prisma.topicMute.create({ data: { userId: BigInt(muted), topic: SCHOLARSHIPS_TOPIC } });
    // An extension announced just before the officer closed the round early.
    const extended = roundNoticeRef(r.id, "extended", dayNumber(r.deadlineOn));
    expect(await insertRoundNoticeRows(db.prisma, r.id, extended, clock.now())).toBe(3);

    await db.prisma.scholarshipRound.update({ where: { id: r.id }, data: { state: "closed", closedAt: clock.now(), nextReminderAt: null } });
    const minute = Math.floor(clock.now().getTime() / 60_000);
    const closed = roundNoticeRef(r.id, "closed", minute);
    expect(await insertRoundNoticeRows(db.prisma, r.id, closed, clock.now())).toBe(3);
    await engine.deliveries.release(SCHOLARSHIP_NOTICE_KIND, extended, clock.now());
    await engine.deliveries.release(SCHOLARSHIP_NOTICE_KIND, closed, clock.now());
    await eventually(() => [sub, nom, muted].every((p) => messages(p).length === 1), "closed notices");
    expect(messages(sub)[0]!.text).toBe(`🔒 Đợt học bổng ${PROGRAMME} năm ${year} đã dừng nhận hồ sơ.`);
    expect(buttonsOf(messages(sub)[0]!)).toEqual([[["📋 Xem đợt học bổng", `sch:open.${r.id}`]]]);
    expect(messages(nom)[0]!.text).toBe(
      `🔒 ${PROGRAMME} ${year} scholarships no longer accept nominations. The nominations you sent are still considered; awards are expected on ${formatDay(r.awardOn)}.`,
    );
    expect(messages(muted)[0]!.text).toBe(messages(sub)[0]!.text);
    await eventually(() => settled(SCHOLARSHIP_NOTICE_KIND, extended), "extended rows settled");
    expect(await rowOf(SCHOLARSHIP_NOTICE_KIND, extended, sub)).toMatchObject({ state: "cancelled", error: "round closed" });

    // A second "closed" notice still queued when the round is cancelled says nothing; the cancellation does.
    const closedAgain = roundNoticeRef(r.id, "closed", minute + 1);
    expect(await insertRoundNoticeRows(db.prisma, r.id, closedAgain, clock.now())).toBe(3);
    await db.prisma.scholarshipRound.update({ where: { id: r.id }, data: { state: "cancelled", cancelledAt: clock.now() } });
    const cancelled = roundNoticeRef(r.id, "cancelled", minute + 2);
    expect(await insertRoundNoticeRows(db.prisma, r.id, cancelled, clock.now())).toBe(3);
    await engine.deliveries.release(SCHOLARSHIP_NOTICE_KIND, closedAgain, clock.now());
    await engine.deliveries.release(SCHOLARSHIP_NOTICE_KIND, cancelled, clock.now());
    await eventually(() => [sub, nom, muted].every((p) => messages(p).length === 2), "cancelled notices");
    await eventually(() => settled(SCHOLARSHIP_NOTICE_KIND, closedAgain), "second closed settled");
    await settle();
    expect(messages(sub)[1]!.text).toBe(`❌ Đợt học bổng ${PROGRAMME} năm ${year} đã bị hủy. Xin lỗi bạn vì sự thay đổi này.`);
    expect(messages(sub)[1]!.reply_markup).toBeUndefined();
    expect(messages(nom)[1]!.text).toBe(`❌ ${PROGRAMME} ${year} scholarships have been cancelled. We are sorry for the change.`);
    expect(messages(muted)).toHaveLength(2);
    expect(await rowOf(SCHOLARSHIP_NOTICE_KIND, closedAgain, nom)).toMatchObject({ state: "cancelled", error: "not closed" });
  });

  it("a nomination's new status reaches its nominator (even with reminders muted), unless withdrawn or changed again", async () => {
    freshEpoch();
    const r = await makeRound(db.prisma, clock.now(), { programme: PROGRAMME });
    const year = await yearOf(r.id);
    const [lan, mai, stranger] = [await person(), await person("en"), await person()];
    await db.prisma.topicMute.create({ data: { userId: BigInt(lan), topic: SCHOLARSHIPS_TOPIC } });
    const an = await nominate(r.id, lan, "Nguyễn Văn <An>", "shortlisted");
    const binh = await nominate(r.id, mai, "Trần Thị Bình", "awarded");
    const minute = Math.floor(clock.now().getTime() / 60_000);

    const anRef = nominationStatusRef(an.id, "shortlisted", minute);
    const binhRef = nominationStatusRef(binh.id, "awarded", minute);
    await engine.deliveries.schedule(NOMINATION_STATUS_KIND, anRef, [lan, stranger], clock.now());
    await engine.deliveries.schedule(NOMINATION_STATUS_KIND, binhRef, [mai], clock.now());
    await eventually(() => messages(lan).length === 1 && messages(mai).length === 1, "status notices");
    expect(messages(lan)[0]!.text).toBe(`📬 Hồ sơ đề cử em Nguyễn Văn <An> (học bổng ${PROGRAMME} năm ${year}): đã vào danh sách xét chọn.`);
    expect(buttonsOf(messages(lan)[0]!)).toEqual([[["📄 Xem hồ sơ đề cử", `nom:v.${an.id}`]]]);
    expect(messages(mai)[0]!.text).toBe(`📬 Your nomination of Trần Thị Bình (${PROGRAMME} ${year} scholarships): awarded a scholarship 🎉.`);
    expect(buttonsOf(messages(mai)[0]!)).toEqual([[["📄 View the nomination", `nom:v.${binh.id}`]]]);
    // Someone else's nomination is never shown, whatever the row says.
    await eventually(() => settled(NOMINATION_STATUS_KIND, anRef), "stranger's row settled");
    expect(messages(stranger)).toEqual([]);
    expect(await rowOf(NOMINATION_STATUS_KIND, anRef, stranger)).toMatchObject({ state: "cancelled", error: "nomination gone" });

    // Changed again before the notice went out: only the newer one is sent.
    const awardedRef = nominationStatusRef(an.id, "awarded", minute + 1);
    await engine.ledger.insert(NOMINATION_STATUS_KIND, awardedRef, [lan], clock.now());
    await db.prisma.nomination.update({ where: { id: an.id }, data: { status: "not_selected", statusChangedAt: clock.now() } });
    const notSelectedRef = nominationStatusRef(an.id, "not_selected", minute + 2);
    await engine.ledger.insert(NOMINATION_STATUS_KIND, notSelectedRef, [lan], clock.now());
    await engine.deliveries.release(NOMINATION_STATUS_KIND, awardedRef, clock.now());
    await engine.deliveries.release(NOMINATION_STATUS_KIND, notSelectedRef, clock.now());
    await eventually(() => messages(lan).length === 2, "the newer status");
    await eventually(() => settled(NOMINATION_STATUS_KIND, awardedRef), "older status settled");
    expect(messages(lan)[1]!.text).toContain("): lần này chưa được chọn.");
    expect(await rowOf(NOMINATION_STATUS_KIND, awardedRef, lan)).toMatchObject({ state: "cancelled", error: "status changed" });

    // Withdrawn (the row is gone) before its notice went out.
    const received = await nominate(r.id, mai, "Trần Văn Cường");
    const receivedRef = nominationStatusRef(received.id, "received", minute);
    await engine.ledger.insert(NOMINATION_STATUS_KIND, receivedRef, [mai], clock.now());
    await db.prisma.nomination.delete({ where: { id: received.id } });
    await engine.deliveries.release(NOMINATION_STATUS_KIND, receivedRef, clock.now());
    await eventually(() => settled(NOMINATION_STATUS_KIND, receivedRef), "withdrawn row settled");
    expect(await rowOf(NOMINATION_STATUS_KIND, receivedRef, mai)).toMatchObject({ state: "cancelled", error: "nomination gone" });
    await settle();
    expect(messages(mai)).toHaveLength(1);
  });
});
