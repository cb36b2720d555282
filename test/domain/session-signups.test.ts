import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import type { DeliveryCounts, DeliveryScheduler } from "../../src/domain/delivery/types.js";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import { SESSION_NOTICE_KIND } from "../../src/domain/sessions/model.js";
import { SessionSignups } from "../../src/domain/sessions/signups.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";

// Friday 18 December 2026, 10:00 in Vietnam.
const NOW = new Date("2026-12-18T03:00:00.000Z");
const clock = new ManualClock(NOW.getTime());
let db: Database;
let signups: SessionSignups;
const released: string[] = [];

beforeAll(async () => {
  db = await openTestDatabase();
  const ledger = new Ledger(db.prisma);
  const deliveries: DeliveryScheduler = {
    release: async (_kind, ref) => {
      released.push(ref);
    },
    schedule: (kind, ref, chats, due) => ledger.insert(kind, ref, chats, due),
    reschedule: (kind, ref, due) => ledger.reschedule(kind, ref, due),
    cancel: (kind, ref, reason) => ledger.cancel(kind, ref, reason ?? "cancelled"),
    counts: (kind, ref): Promise<DeliveryCounts> => ledger.counts(kind, ref),
  };
  signups = new SessionSignups(db.prisma, deliveries, clock.now);
});
afterAll(() => db.close());

let nextId = 9_810_000;

async function people(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => ++nextId);
  await db.prisma.user.createMany({ data: ids.map((id) => ({ id: BigInt(id) })) });
  return ids.map(String);
}

async function session(opts: { capacity: number; startsInMin?: number; durationMin?: number }): Promise<{ id: number; token: string; startsAt: Date }> {
  clock.set(NOW);
  const commune = await db.prisma.commune.findFirstOrThrow({ orderBy: { code: "asc" } });
  const center = await db.prisma.learningCenter.create({
    data: { provinceCode: commune.provinceCode, communeCode: commune.code, name: `TTHTCĐ thử ${++nextId}`, address: "Nhà văn hoá", lat: commune.lat, lon: commune.lon },
  });
  const token = randomBytes(18).toString("base64url");
  const startsAt = new Date(NOW.getTime() + (opts.startsInMin ?? 3 * 24 * 60) * 60_000);
  const s = await db.prisma.learningSession.create({
    data: { centerId: center.id, title: "Tìm hiểu Luật Biên phòng", topic: "law", startsAt, durationMin: opts.durationMin ?? 90, capacity: opts.capacity, checkinToken: token },
  });
  return { id: s.id, token, startsAt };
}

/** What the session row says against what its sign-ups say: they must always agree. */
async function seats(sessionId: number): Promise<{ confirmed: number; waiting: number; counters: { confirmed: number; waiting: number } }> {
  const rows = await db.prisma.sessionSignup.groupBy({ by: ["status"], where: { sessionId }, _count: true });
  const s = await db.prisma.learningSession.findUniqueOrThrow({ where: { id: sessionId } });
  const n = (st: string) => rows.find((r) => r.status === st)?._count ?? 0;
  return { confirmed: n("confirmed"), waiting: n("waiting"), counters: { confirmed: s.confirmedCount, waiting: s.waitingCount } };
}

describe("session sign-ups", () => {
  it("gives seats until the session is full, then places on the waiting list in order", async () => {
    const s = await session({ capacity: 2 });
    const [a, b, c, d] = await people(4);
    expect(await signups.join(a!, s.id)).toEqual({ status: "confirmed" });
    expect(await signups.join(b!, s.id)).toEqual({ status: "confirmed" });
    expect(await signups.join(c!, s.id)).toEqual({ status: "waiting", position: 1 });
    expect(await signups.join(d!, s.id)).toEqual({ status: "waiting", position: 2 });
    expect(await signups.join(a!, s.id)).toEqual({ status: "already_confirmed" });
    expect(await signups.join(d!, s.id)).toEqual({ status: "already_waiting", position: 2 });
    expect(await seats(s.id)).toEqual({ confirmed: 2, waiting: 2, counters: { confirmed: 2, waiting: 2 } });
  });

  it("promotes the first person waiting when a seat is given back, and tells them through the engine", async () => {
    const s = await session({ capacity: 1 });
    const [a, b, c] = await people(3);
    await signups.join(a!, s.id);
    await signups.join(b!, s.id);
    await signups.join(c!, s.id);
    expect(await signups.leave(a!, s.id)).toEqual({ status: "left", was: "confirmed", promoted: 1 });
    expect(await signups.statusOf(b!, s.id)).toMatchObject({ status: "confirmed" });
    expect(await signups.statusOf(c!, s.id)).toMatchObject({ status: "waiting", position: 1 });
    const notices = await db.prisma.delivery.findMany({ where: { kind: SESSION_NOTICE_KIND, refId: { startsWith: `sn.${s.id}.promoted.` } } });
    expect(notices.map((n) => String(n.chatId))).toEqual([b]);
    expect(released).toContain(notices[0]!.refId);
    // Leaving the waiting list promotes nobody.
    expect(await signups.leave(c!, s.id)).toEqual({ status: "left", was: "waiting", promoted: 0 });
    expect(await signups.leave(c!, s.id)).toEqual({ status: "not_signed_up" });
    expect(await seats(s.id)).toEqual({ confirmed: 1, waiting: 0, counters: { confirmed: 1, waiting: 0 } });
  });

  it("never overbooks when many people take the last seat at the same moment", async () => {
    const s = await session({ capacity: 1 });
    const ids = await people(6);
    const results = await Promise.all(ids.map((id) => signups.join(id, s.id)));
    expect(results.filter((r) => r.status === "confirmed")).toHaveLength(1);
    const positions = results.flatMap((r) => (r.status === "waiting" ? [r.position] : [])).sort();
    expect(positions).toEqual([1, 2, 3, 4, 5]);
    expect(await seats(s.id)).toEqual({ confirmed: 1, waiting: 5, counters: { confirmed: 1, waiting: 5 } });
  });

  it("promotes exactly two when two seats are freed at once", async () => {
    const s = await session({ capacity: 2 });
    const [a, b, c, d, e] = await people(5);
    for (const id of [a, b, c, d, e]) await signups.join(id!, s.id);
    const results = await Promise.all([signups.leave(a!, s.id), signups.leave(b!, s.id)]);
    expect(results.map((r) => r.status === "left" && r.promoted)).toEqual([1, 1]);
    expect(await signups.statusOf(c!, s.id)).toMatchObject({ status: "confirmed" });
    expect(await signups.statusOf(d!, s.id)).toMatchObject({ status: "confirmed" });
    expect(await signups.statusOf(e!, s.id)).toMatchObject({ status: "waiting", position: 1 });
    expect(await seats(s.id)).toEqual({ confirmed: 2, waiting: 1, counters: { confirmed: 2, waiting: 1 } });
  });

  it("keeps seats and waiting list consistent when a cancel and a sign-up race", async () => {
    const s = await session({ capacity: 1 });
    const [a, b] = await people(2);
    await signups.join(a!, s.id);
    const [left, joined] = await Promise.all([signups.leave(a!, s.id), signups.join(b!, s.id)]);
    expect(left.status).toBe("left");
    // Whichever went first, b ends with the seat: directly, or promoted from the waiting list.
    expect(["confirmed", "waiting"]).toContain(joined.status);
    expect(await signups.statusOf(b!, s.id)).toMatchObject({ status: "confirmed" });
    expect(await seats(s.id)).toEqual({ confirmed: 1, waiting: 0, counters: { confirmed: 1, waiting: 0 } });
  });

  it("refuses sign-ups for a cancelled or started session", async () => {
    const s = await session({ capacity: 5, startsInMin: 10 });
    const [a] = await people(1);
    clock.advance(11 * 60_000);
    expect(await signups.join(a!, s.id)).toEqual({ status: "unavailable", reason: "started" });
    const t = await session({ capacity: 5 });
    await db.prisma.learningSession.update({ where: { id: t.id }, data: { state: "cancelled" } });
    expect(await signups.join(a!, t.id)).toEqual({ status: "unavailable", reason: "cancelled" });
    expect(await signups.join(a!, 999_999_999)).toEqual({ status: "unavailable", reason: "not_found" });
  });
});

describe("QR check-in", () => {
  it("opens 30 minutes before the start, records once, and closes at the end", async () => {
    const s = await session({ capacity: 5, startsInMin: 120, durationMin: 60 });
    const [a, walkIn] = await people(2);
    await signups.join(a!, s.id);
    clock.set(new Date(s.startsAt.getTime() - 30 * 60_000 - 1));
    expect(await signups.checkIn(a!, s.token)).toMatchObject({ status: "outside", ended: false, opensAt: new Date(s.startsAt.getTime() - 30 * 60_000) });
    clock.advance(1);
    expect(await signups.checkIn(a!, s.token)).toMatchObject({ status: "checked_in", walkIn: false });
    clock.advance(60_000);
    expect(await signups.checkIn(a!, s.token)).toMatchObject({ status: "already", at: new Date(s.startsAt.getTime() - 30 * 60_000) });
    clock.set(new Date(s.startsAt.getTime() + 60 * 60_000));
    expect(await signups.checkIn(walkIn!, s.token)).toMatchObject({ status: "checked_in", walkIn: true });
    clock.advance(1);
    const [late] = await people(1);
    expect(await signups.checkIn(late!, s.token)).toMatchObject({ status: "outside", ended: true });
    expect(await signups.checkIn(late!, "forged-token-AAAAAAAAAAAA")).toEqual({ status: "not_found" });
    const attended = await db.prisma.sessionSignup.count({ where: { sessionId: s.id, attendedAt: { not: null } } });
    expect(attended).toBe(2);
  });

  it("adds the attended sessions' durations to the year's learning hours", async () => {
    const [a] = await people(1);
    const first = await session({ capacity: 5, startsInMin: 60, durationMin: 90 });
    const second = await session({ capacity: 5, startsInMin: 300, durationMin: 60 });
    const skipped = await session({ capacity: 5, startsInMin: 600, durationMin: 120 });
    for (const s of [first, second, skipped]) await signups.join(a!, s.id);
    clock.set(first.startsAt);
    await signups.checkIn(a!, first.token);
    clock.set(second.startsAt);
    await signups.checkIn(a!, second.token);
    expect(await signups.hours(a!, 2026)).toEqual({ hours: 2.5, sessions: 2 });
    expect(await signups.hours(a!, 2027)).toEqual({ hours: 0, sessions: 0 });
    clock.set(new Date(skipped.startsAt.getTime() + 3 * 3600_000));
    const mine = await signups.mine(a!);
    expect(mine.upcoming).toHaveLength(0);
    expect(mine.past.map((m) => [m.id, m.attendedAt !== null])).toEqual([[skipped.id, false], [second.id, true], [first.id, true]]);
  });
});

describe("session sign-ups as personal data", () => {
  it("exports a person's sign-ups, and erasing them frees the seat for the next person waiting", async () => {
    const s = await session({ capacity: 1 });
    const [a, b] = await people(2);
    await signups.join(a!, s.id);
    await signups.join(b!, s.id);
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of signups.dataParts()) registry.register(part);
    const exported = (await registry.exportAll(a!)) as { session_signups: Array<{ status: string; session: { title: string } }> };
    expect(exported.session_signups).toMatchObject([{ status: "confirmed", session: { title: "Tìm hiểu Luật Biên phòng" } }]);
    await registry.erase(a!, clock.now());
    expect(await db.prisma.sessionSignup.count({ where: { userId: BigInt(a!) } })).toBe(0);
    expect(await signups.statusOf(b!, s.id)).toMatchObject({ status: "confirmed" });
    expect(await seats(s.id)).toEqual({ confirmed: 1, waiting: 0, counters: { confirmed: 1, waiting: 0 } });
  });
});
