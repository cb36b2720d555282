import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../src/generated/prisma/client.js";
import { TargetFigures } from "../../src/domain/targets/figures.js";
import { addDays, TargetSnapshots, vnDay } from "../../src/domain/targets/snapshots.js";
import { LearningGroups } from "../../src/domain/units/families.js";
import type { Database } from "../../src/infra/database.js";
import { createLogger } from "../../src/logger.js";
import { ManualClock } from "../support/delivery.js";
import { openTestDatabase } from "../support/database.js";

// Daily snapshots of the programmes' figures: what the progress line and the digest's
// week-on-week change read. The day is Vietnam's calendar day, a second take the same day
// overwrites it, every live programme is written with one statement, and the series ends with
// today's live figure.

const clock = new ManualClock(Date.parse("2026-12-06T03:00:00.000Z"));
let db: Database;
let figures: TargetFigures;
let snapshots: TargetSnapshots;
/** $executeRawUnsafe calls made by the snapshots (the upserts). */
let executes = 0;

beforeAll(async () => {
  db = await openTestDatabase();
  const families = new LearningGroups({ prisma: db.prisma, now: clock.now, logger: createLogger("silent") });
  figures = new TargetFigures({ prisma: db.prisma, families });
  const counting = new Proxy(db.prisma, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop === "$executeRawUnsafe") {
        return (...args: unknown[]) => {
          executes++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as PrismaClient;
  snapshots = new TargetSnapshots({ prisma: counting, figures, now: clock.now });
});
afterAll(() => db.close());

let nextId = 9_970_000;
let provinceIndex = 21;
let unitSeq = 0;

async function province(): Promise<{ code: string; communes: string[] }> {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[provinceIndex++ % provinces.length]!;
  const communes = await db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { code: p.code, communes: communes.map((c) => c.code) };
}

async function programme(at: { code: string }, opts: { deleted?: boolean } = {}): Promise<number> {
  const p = await db.prisma.programme.create({
    data: {
      name: `Chương trình phối hợp ${at.code}`, provinceCode: at.code, bodies: ["border_guard"], startYear: 2024, endYear: 2030,
      deletedAt: opts.deleted ? clock.now() : null, targets: { create: [{ metric: "learning_citizens", year: 0, percent: 80 }] },
    },
  });
  return p.id;
}

async function unit(at: { code: string }, commune: string, headcount: number): Promise<number> {
  const n = ++unitSeq;
  const u = await db.prisma.unit.create({
    data: {
      name: `Đồn Biên phòng ${n}`, nameKey: `ts ${n}`, kind: "border_post", body: "border_guard", provinceCode: at.code, communeCode: commune,
      headcount, joinToken: `ts-token-${String(n).padStart(16, "0")}`,
    },
  });
  return u.id;
}

/** `count` people join the unit, `registered` of them as learning citizens. */
async function people(unitId: number, at: { code: string; communes: string[] }, count: number, registered: number): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const id = BigInt(++nextId);
    ids.push(id);
    await db.prisma.user.create({ data: { id } });
    await db.prisma.unitMember.create({ data: { unitId, userId: id, displayName: `Người ${id}`, joinedAt: clock.now() } });
    if (i < registered) await register(id, at);
  }
  return ids;
}

async function register(id: bigint, at: { code: string; communes: string[] }): Promise<void> {
  await db.prisma.learningCitizen.create({
    data: { userId: id, registrationNumber: `TS-${id}`, fullName: `Lò Văn ${id}`, birthYear: 1995, provinceCode: at.code, communeCode: at.communes[0]!, affiliation: "border_guard", goals: [], registeredAt: clock.now() },
  });
}

async function rows(programmeId: number) {
  const list = await db.prisma.targetSnapshot.findMany({ where: { programmeId }, orderBy: [{ day: "asc" }, { scope: "asc" }, { metric: "asc" }] });
  return list.map((r) => ({ day: r.day.toISOString().slice(0, 10), scope: r.scope, metric: r.metric, part: r.part, whole: r.whole }));
}

describe("target snapshots", () => {
  it("write today's totals, communes and units; a second take the same day overwrites, nothing doubles", async () => {
    clock.set(new Date("2026-12-06T03:00:00.000Z"));
    const at = await province();
    const id = await programme(at);
    const a = await unit(at, at.communes[0]!, 10);
    const b = await unit(at, at.communes[1]!, 4);
    const ann = await people(a, at, 3, 2);
    await people(b, at, 1, 1);
    await snapshots.take();
    const first = await rows(id);
    expect(first.filter((r) => r.metric === "learning_citizens")).toEqual([
      { day: "2026-12-06", scope: "", metric: "learning_citizens", part: 3, whole: 14 },
      { day: "2026-12-06", scope: `c${at.communes[0]}`, metric: "learning_citizens", part: 2, whole: 10 },
      { day: "2026-12-06", scope: `c${at.communes[1]}`, metric: "learning_citizens", part: 1, whole: 4 },
      { day: "2026-12-06", scope: `u${a}`, metric: "learning_citizens", part: 2, whole: 10 },
      { day: "2026-12-06", scope: `u${b}`, metric: "learning_citizens", part: 1, whole: 4 },
    ]);
    // A unit's learning-unit status is 0 of 1; families have no whole here, so no row.
    expect(first.find((r) => r.scope === `u${a}` && r.metric === "learning_units")).toMatchObject({ part: 0, whole: 1 });
    expect(first.some((r) => r.metric === "learning_families")).toBe(false);

    // Later that day someone registers: the same rows, the new figure.
    await register(ann[2]!, at);
    clock.set(new Date("2026-12-06T15:00:00.000Z"));
    await snapshots.take();
    const second = await rows(id);
    expect(second).toHaveLength(first.length);
    expect(second.find((r) => r.scope === "" && r.metric === "learning_citizens")).toMatchObject({ part: 4, whole: 14 });
  });

  it("use Vietnam's calendar day: 23:59 and 00:00 in Hà Nội are two days, whatever UTC says", async () => {
    const at = await province();
    const id = await programme(at);
    const a = await unit(at, at.communes[0]!, 5);
    const [, late] = await people(a, at, 2, 1);
    clock.set(new Date("2026-12-09T16:59:00.000Z")); // 23:59 on 9 December in Vietnam
    expect(vnDay(clock.now())).toBe("2026-12-09");
    await snapshots.take();
    await register(late!, at);
    clock.set(new Date("2026-12-09T17:00:00.000Z")); // 00:00 on 10 December in Vietnam, still the 9th in UTC
    await snapshots.take();
    const totals = (await rows(id)).filter((r) => r.scope === "" && r.metric === "learning_citizens");
    expect(totals).toEqual([
      { day: "2026-12-09", scope: "", metric: "learning_citizens", part: 1, whole: 5 },
      { day: "2026-12-10", scope: "", metric: "learning_citizens", part: 2, whole: 5 },
    ]);
  });

  it("write each live programme with one statement however many units it has, and skip deleted programmes", async () => {
    clock.set(new Date("2026-12-11T02:00:00.000Z"));
    const at = await province();
    const id = await programme(at);
    const gone = await programme(at, { deleted: true });
    for (let i = 0; i < 40; i++) await unit(at, at.communes[i % 2]!, 10 + i);
    const live = await db.prisma.programme.count({ where: { deletedAt: null } });
    executes = 0;
    const taken = await snapshots.take();
    expect(taken.programmes).toBe(live);
    expect(executes).toBe(live);
    // 40 units × 3 metrics + 2 communes × 3 + totals × 3, in that one statement.
    expect((await rows(id)).filter((r) => r.day === "2026-12-11")).toHaveLength(40 * 3 + 2 * 3 + 3);
    expect(await rows(gone)).toEqual([]);
  });

  it("give the year's series in percent, with today's live figure in place of today's snapshot", async () => {
    const at = await province();
    const id = await programme(at);
    const a = await unit(at, at.communes[0]!, 8);
    const ids = await people(a, at, 4, 1);
    // Snapshots on three days, one of them last year.
    for (const iso of ["2025-12-30T05:00:00.000Z", "2026-03-02T05:00:00.000Z"]) {
      clock.set(new Date(iso));
      await snapshots.take();
    }
    await register(ids[1]!, at);
    clock.set(new Date("2026-06-15T05:00:00.000Z"));
    await snapshots.take();
    await register(ids[2]!, at); // after today's snapshot: the live figure says 3 of 8
    const series = await snapshots.series(id, "", "learning_citizens", 2026);
    expect(series).toEqual([
      { day: "2026-03-02", value: 12.5 },
      { day: "2026-06-15", value: 37.5 },
    ]);
    const unitSeries = await snapshots.series(id, `u${a}`, "learning_citizens", 2026);
    expect(unitSeries.at(-1)).toEqual({ day: "2026-06-15", value: 37.5 });
    // Another year: snapshots only, no live point.
    expect(await snapshots.series(id, "", "learning_citizens", 2025)).toEqual([{ day: "2025-12-30", value: 12.5 }]);
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
  });
});
