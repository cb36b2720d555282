import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadDemoCenters, removeDemoCenters } from "../../src/domain/sessions/demo-centers.js";
import { firstReminderAt, haversineKm, refreshCenterUpcoming, SESSION_TOPICS, type SessionTopic } from "../../src/domain/sessions/model.js";
import { NearbySessions } from "../../src/domain/sessions/nearby.js";
import { vnParts } from "../../src/domain/time/vietnam-time.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";

let db: Database;
const clock = new ManualClock(Date.parse("2026-12-01T03:00:00.000Z"));
let nearby: NearbySessions;
let tokenSeq = 0;

beforeAll(async () => {
  db = await openTestDatabase();
  nearby = new NearbySessions(db.prisma, clock.now, db.read);
});
afterAll(() => db.close());
// Each test builds its own centres: none of another test's may be nearer.
beforeEach(async () => {
  clock.set(new Date("2026-12-01T03:00:00.000Z"));
  await db.prisma.learningCenter.deleteMany({});
});

const HOUR = 3600_000;

async function centre(lat: number, lon: number, name = `TTHTCĐ ${lat.toFixed(5)},${lon.toFixed(5)}`, communeCode = "00004"): Promise<number> {
  const c = await db.prisma.learningCenter.create({ data: { provinceCode: communeCode === "00004" ? "01" : "46", communeCode, name, address: "Thôn 1", lat, lon } });
  return c.id;
}

async function session(centerId: number, o: { in?: number; durationMin?: number; topic?: SessionTopic; cancelled?: boolean; title?: string } = {}): Promise<number> {
  const startsAt = new Date(clock.now().getTime() + (o.in ?? 24 * HOUR));
  const s = await db.prisma.learningSession.create({
    data: {
      centerId, title: o.title ?? "Phổ biến pháp luật", topic: o.topic ?? "law", startsAt, durationMin: o.durationMin ?? 90, capacity: 30,
      checkinToken: `t${++tokenSeq}-${Math.random().toString(36).slice(2)}`, state: o.cancelled ? "cancelled" : "scheduled",
      cancelledAt: o.cancelled ? clock.now() : null,
    },
  });
  await refreshCenterUpcoming(db.prisma, [centerId]);
  return s.id;
}

/** A deterministic scatter of n centres with one upcoming session each, around (lat, lon). */
async function scatter(n: number, lat: number, lon: number, spreadDeg: number, seed: number): Promise<Array<{ id: number; lat: number; lon: number }>> {
  let a = seed;
  const rand = () => ((a = (a * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Array<{ id: number; lat: number; lon: number }> = [];
  for (let i = 0; i < n; i++) {
    const p = { lat: lat + (rand() - 0.5) * spreadDeg, lon: lon + (rand() - 0.5) * spreadDeg };
    const id = await centre(p.lat, p.lon, `TTHTCĐ ${seed}-${i}`);
    await session(id, { topic: SESSION_TOPICS[i % SESSION_TOPICS.length] });
    // The reference uses the coordinates as stored: Prisma sends a double with 16 significant digits.
    out.push(await db.prisma.learningCenter.findUniqueOrThrow({ where: { id }, select: { id: true, lat: true, lon: true } }));
  }
  return out;
}

function reference(centres: Array<{ id: number; lat: number; lon: number }>, p: { lat: number; lon: number }) {
  return centres
    .map((c) => ({ id: c.id, distanceKm: haversineKm(p.lat, p.lon, c.lat, c.lon) }))
    .sort((x, y) => x.distanceKm - y.distanceKm || x.id - y.id);
}

describe("nearby sessions", () => {
  it("lists the nearest centres by haversine distance, ties by id, with the distances haversineKm gives", async () => {
    const centres = await scatter(120, 16.46, 107.59, 1.2, 7);
    // Two centres on the same spot: the lower id first.
    const twinA = await centre(16.5, 107.5, "TTHTCĐ twin A");
    const twinB = await centre(16.5, 107.5, "TTHTCĐ twin B");
    await session(twinA);
    await session(twinB);
    centres.push({ id: twinA, lat: 16.5, lon: 107.5 }, { id: twinB, lat: 16.5, lon: 107.5 });

    for (const p of [{ lat: 16.46, lon: 107.59 }, { lat: 16.501, lon: 107.499 }, { lat: 17.1, lon: 108.3 }, { lat: 15.9, lon: 106.9 }]) {
      const page = await nearby.nearest(p, { limit: 10 });
      const expected = reference(centres, p).slice(0, 10);
      expect(page.items.map((c) => c.id)).toEqual(expected.map((e) => e.id));
      expect(page.items.map((c) => c.distanceKm)).toEqual(expected.map((e) => e.distanceKm));
      expect(page.hasMore).toBe(true);
      for (const c of page.items) expect(c.sessions).toHaveLength(1);
    }
    const atTwins = await nearby.nearest({ lat: 16.5, lon: 107.5 }, { limit: 2 });
    expect(atTwins.items.map((c) => c.id)).toEqual([twinA, twinB]);
    expect(atTwins.items[0]!.distanceKm).toBe(0);
    expect(atTwins.items[0]).toMatchObject({ name: "TTHTCĐ twin A", address: "Thôn 1", provinceCode: "01", communeCode: "00004", lat: 16.5, lon: 107.5, demo: false });
  });

  it("widens the search to a point far from every centre, and returns what there is when there are fewer than a page", async () => {
    const centres = await scatter(15, 10.77, 106.7, 0.3, 3);
    // Hà Giang's far north, ~1,400 km away; and Tokyo, outside every box but the last.
    for (const p of [{ lat: 23.3, lon: 105.3 }, { lat: 35.68, lon: 139.69 }]) {
      const page = await nearby.nearest(p, { limit: 10 });
      const expected = reference(centres, p);
      expect(page.items.map((c) => c.id)).toEqual(expected.slice(0, 10).map((e) => e.id));
      expect(page.items[0]!.distanceKm).toBeGreaterThan(1000);
      expect(page.hasMore).toBe(true);
      const rest = await nearby.nearest(p, { limit: 10, offset: 10 });
      expect(rest.items.map((c) => c.id)).toEqual(expected.slice(10).map((e) => e.id));
      expect(rest.hasMore).toBe(false);
    }
    await db.prisma.learningCenter.deleteMany({});
    expect(await nearby.nearest({ lat: 21, lon: 105.8 }, { limit: 10 })).toEqual({ items: [], hasMore: false });
  });

  it("pages with offset and hasMore, each centre once", async () => {
    const centres = await scatter(25, 21.0, 105.8, 0.4, 11);
    const p = { lat: 21.02, lon: 105.83 };
    const pages = [];
    for (const offset of [0, 10, 20]) pages.push(await nearby.nearest(p, { limit: 10, offset }));
    expect(pages.map((pg) => pg.items.length)).toEqual([10, 10, 5]);
    expect(pages.map((pg) => pg.hasMore)).toEqual([true, true, false]);
    expect(pages.flatMap((pg) => pg.items.map((c) => c.id))).toEqual(reference(centres, p).map((e) => e.id));
    // A page that ends exactly at the last centre has nothing more.
    expect((await nearby.nearest(p, { limit: 5, offset: 20 })).hasMore).toBe(false);
    expect(await nearby.nearest(p, { limit: 10, offset: 30 })).toEqual({ items: [], hasMore: false });
  });

  it("lists only sessions not yet ended and not cancelled, the next three in order", async () => {
    const p = { lat: 21.0, lon: 105.8 };
    const cancelledOnly = await centre(21.0, 105.801, "TTHTCĐ cancelled");
    await session(cancelledOnly, { cancelled: true });
    const pastOnly = await centre(21.0, 105.802, "TTHTCĐ past");
    await session(pastOnly, { in: -3 * HOUR, durationMin: 60 });
    const ongoing = await centre(21.0, 105.803, "TTHTCĐ ongoing");
    const started = await session(ongoing, { in: -30 * 60_000, durationMin: 90, title: "Đang diễn ra" });
    const busy = await centre(21.0, 105.804, "TTHTCĐ busy");
    const later = [];
    for (const h of [96, 24, 72, 48]) later.push({ h, id: await session(busy, { in: h * HOUR, topic: "digital" }) });
    await session(busy, { in: 2 * HOUR, cancelled: true });
    await session(busy, { in: -5 * HOUR, durationMin: 60 });

    const page = await nearby.nearest(p, { limit: 10 });
    expect(page.items.map((c) => c.name)).toEqual(["TTHTCĐ ongoing", "TTHTCĐ busy"]);
    expect(page.items[0]!.sessions.map((s) => s.id)).toEqual([started]);
    expect(page.items[0]!.sessions[0]).toMatchObject({ title: "Đang diễn ra", topic: "law", durationMin: 90, capacity: 30, confirmedCount: 0, waitingCount: 0, speaker: null, organiserBody: null });
    expect(page.items[0]!.sessions[0]!.startsAt).toEqual(new Date(clock.now().getTime() - 30 * 60_000));
    const byHour = [...later].sort((a, b) => a.h - b.h);
    expect(page.items[1]!.sessions.map((s) => s.id)).toEqual(byHour.slice(0, 3).map((x) => x.id));

    // Once the ongoing session ends, its centre is no longer listed.
    clock.advance(61 * 60_000);
    expect((await nearby.nearest(p, { limit: 10 })).items.map((c) => c.name)).toEqual(["TTHTCĐ busy"]);
  });

  it("filters by topic: only centres with an upcoming session of it, and only those sessions", async () => {
    const p = { lat: 16.05, lon: 108.2 };
    const both = await centre(16.05, 108.21, "TTHTCĐ both");
    await session(both, { topic: "health", in: 30 * HOUR });
    await session(both, { topic: "law", in: 20 * HOUR });
    const lawOnly = await centre(16.05, 108.201, "TTHTCĐ law only");
    await session(lawOnly, { topic: "law" });
    const healthCancelled = await centre(16.05, 108.202, "TTHTCĐ health cancelled");
    await session(healthCancelled, { topic: "health", cancelled: true });
    await session(healthCancelled, { topic: "law" });
    const healthPast = await centre(16.05, 108.203, "TTHTCĐ health past");
    await session(healthPast, { topic: "health", in: -2 * HOUR, durationMin: 60 });
    await session(healthPast, { topic: "digital" });
    const farHealth = await centre(16.3, 108.4, "TTHTCĐ far health");
    await session(farHealth, { topic: "health" });

    const health = await nearby.nearest(p, { limit: 10, topic: "health" });
    expect(health.items.map((c) => c.name)).toEqual(["TTHTCĐ both", "TTHTCĐ far health"]);
    expect(health.items.flatMap((c) => c.sessions.map((s) => s.topic))).toEqual(["health", "health"]);
    const all = await nearby.nearest(p, { limit: 10 });
    expect(all.items.map((c) => c.name)).toEqual(["TTHTCĐ law only", "TTHTCĐ health cancelled", "TTHTCĐ health past", "TTHTCĐ both", "TTHTCĐ far health"]);
    expect(all.items[3]!.sessions.map((s) => s.topic)).toEqual(["law", "health"]);
    expect((await nearby.nearest(p, { limit: 10, topic: "literacy" })).items).toEqual([]);
  });

  it("searches from a commune's point for people who share no location", async () => {
    const centres = await scatter(30, 21.03, 105.84, 0.3, 5);
    const baDinh = (await db.prisma.commune.findUniqueOrThrow({ where: { code: "00004" } }));
    const page = await nearby.forCommune("00004", { limit: 5 });
    expect(page!.items.map((c) => c.id)).toEqual(reference(centres, baDinh).slice(0, 5).map((e) => e.id));
    expect(page).toEqual(await nearby.nearest(baDinh, { limit: 5 }));
    expect(await nearby.forCommune("99999", { limit: 5 })).toBeUndefined();
  });

  it("refuses a limit, offset, topic or point it cannot serve", async () => {
    await expect(nearby.nearest({ lat: 21, lon: 105 }, { limit: 0 })).rejects.toThrow(RangeError);
    await expect(nearby.nearest({ lat: 21, lon: 105 }, { limit: 10, offset: -1 })).rejects.toThrow(RangeError);
    await expect(nearby.nearest({ lat: 21, lon: 105 }, { limit: 10, topic: "cooking" as SessionTopic })).rejects.toThrow(RangeError);
    await expect(nearby.nearest({ lat: Number.NaN, lon: 105 }, { limit: 10 })).rejects.toThrow(RangeError);
  });
});

describe("demo centres", () => {
  it("loads one labelled centre per commune at its point with upcoming sessions, once, and removes them", async () => {
    const provinces = ["46", "11"]; // Huế, Điện Biên: small provinces keep the test quick
    const communes = await db.prisma.commune.findMany({ where: { provinceCode: { in: provinces } } });
    expect(communes.length).toBeGreaterThan(50);
    const own = await centre(16.46, 107.59, "TTHTCĐ thật", communes[0]!.code);
    await session(own);

    const first = await loadDemoCenters(db.prisma, clock.now, { provinceCodes: provinces });
    expect(first).toEqual({ centers: communes.length, sessions: communes.length * 3 });
    const demo = await db.prisma.learningCenter.findMany({ where: { demo: true }, include: { sessions: true } });
    expect(demo).toHaveLength(communes.length);
    const byCommune = new Map(communes.map((c) => [c.code, c]));
    const now = clock.now();
    const tokens = new Set<string>();
    for (const c of demo) {
      const commune = byCommune.get(c.communeCode)!;
      expect(c).toMatchObject({ provinceCode: commune.provinceCode, lat: commune.lat, lon: commune.lon, name: `TTHTCĐ ${commune.type} ${commune.name} (demo)` });
      expect(c.address).toContain("demo");
      expect(c.sessions).toHaveLength(3);
      expect(new Set(c.sessions.map((s) => s.topic)).size).toBe(3);
      const ends = c.sessions.map((s) => s.startsAt.getTime() + s.durationMin * 60_000);
      expect(c.upcomingUntil!.getTime()).toBe(Math.max(...ends));
      for (const s of c.sessions) {
        expect(s.demo).toBe(true);
        expect(SESSION_TOPICS).toContain(s.topic);
        expect(s.startsAt.getTime()).toBeGreaterThan(now.getTime());
        expect(s.startsAt.getTime()).toBeLessThan(now.getTime() + 29 * 24 * HOUR);
        expect(vnParts(s.startsAt).hour).toBeGreaterThanOrEqual(7);
        expect(vnParts(s.startsAt).hour).toBeLessThanOrEqual(19);
        expect(s.capacity).toBeGreaterThanOrEqual(20);
        expect(s.capacity).toBeLessThanOrEqual(60);
        expect(s.checkinToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
        tokens.add(s.checkinToken);
        expect(s.nextReminderAt).toEqual(firstReminderAt(s.startsAt, now));
        expect(s.description).toContain("demo");
        expect(s.speaker).toBeTruthy();
      }
    }
    expect(tokens.size).toBe(communes.length * 3);

    // Residents of Huế now find demo centres near them.
    const hue = await nearby.nearest({ lat: 16.46, lon: 107.59 }, { limit: 5 });
    expect(hue.items).toHaveLength(5);
    expect(hue.items.filter((c) => c.demo)).toHaveLength(4);

    // Twice changes nothing.
    const snapshot = await db.prisma.learningSession.findMany({ orderBy: { id: "asc" }, select: { id: true, checkinToken: true, startsAt: true } });
    clock.advance(24 * HOUR);
    expect(await loadDemoCenters(db.prisma, clock.now, { provinceCodes: provinces })).toEqual({ centers: 0, sessions: 0 });
    expect(await db.prisma.learningSession.findMany({ orderBy: { id: "asc" }, select: { id: true, checkinToken: true, startsAt: true } })).toEqual(snapshot);

    // More per commune: the extras a little apart from the point, the first one kept.
    const more = await loadDemoCenters(db.prisma, clock.now, { provinceCodes: ["11"], perCommune: 3, sessionsPerCenter: 2 });
    const dienBien = communes.filter((c) => c.provinceCode === "11").length;
    expect(more).toEqual({ centers: dienBien * 2, sessions: dienBien * 4 });
    const extra = await db.prisma.learningCenter.findFirstOrThrow({ where: { communeCode: communes.find((c) => c.provinceCode === "11")!.code, name: { contains: "điểm 3" } } });
    const point = byCommune.get(extra.communeCode)!;
    const km = haversineKm(point.lat, point.lon, extra.lat, extra.lon);
    expect(km).toBeGreaterThan(1);
    expect(km).toBeLessThan(4);

    const removed = await removeDemoCenters(db.prisma);
    expect(removed).toEqual({ centers: communes.length + dienBien * 2, sessions: communes.length * 3 + dienBien * 4 });
    expect(await db.prisma.learningCenter.count({ where: { demo: true } })).toBe(0);
    expect(await db.prisma.learningSession.count()).toBe(1);
    expect((await db.prisma.learningCenter.findUniqueOrThrow({ where: { id: own } })).upcomingUntil).not.toBeNull();
    expect(await removeDemoCenters(db.prisma)).toEqual({ centers: 0, sessions: 0 });
  });
});
