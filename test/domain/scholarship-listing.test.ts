import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PersonalDataRegistry } from "../../src/domain/privacy/registry.js";
import { ScholarshipListing } from "../../src/domain/scholarships/listing.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";
import { makeRound } from "../support/scholarships.js";

// The rounds a resident sees (their province's and nationwide ones, open first by deadline, then
// upcoming by opening day), "remind me", and the subscriptions as personal data.

// Thursday 17 December 2026, 10:00 in Vietnam.
const NOW = fromVnWallTime(2026, 12, 17, 10, 0);
const clock = new ManualClock(NOW.getTime());
let db: Database;
let listing: ScholarshipListing;

beforeAll(async () => {
  db = await openTestDatabase();
  listing = new ScholarshipListing({ prisma: db.prisma, now: clock.now });
});
afterAll(() => db.close());

let nextId = 9_830_000;
let nextProvince = 0;

/** A province of its own per test, so provincial rounds of other tests never show. */
async function freshProvince(): Promise<{ code: string; communeCode: string }> {
  const provinces = await db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[(nextProvince++ * 5 + 3) % provinces.length]!;
  const commune = await db.prisma.commune.findFirstOrThrow({ where: { provinceCode: p.code }, orderBy: { code: "asc" } });
  return { code: p.code, communeCode: commune.code };
}

async function resident(provinceCode: string, communeCode: string): Promise<string> {
  const id = ++nextId;
  await db.prisma.user.create({ data: { id: BigInt(id) } });
  await db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `SL-${id}`, fullName: `Trần Văn ${id}`, birthYear: 1980, provinceCode, communeCode, affiliation: "resident", goals: [], registeredAt: NOW },
  });
  return String(id);
}

/** Every listed round, page by page (one per page, as the bot shows them). */
async function allPages(userId: string, provinceCode?: string): Promise<Array<{ id: number; phase: string; subscribed: boolean }>> {
  const out = [];
  for (let page = 0; page < 100; page++) {
    const r = await listing.relevant(userId, { page, pageSize: 1, ...(provinceCode ? { provinceCode } : {}) });
    if (r.items.length === 0) break;
    out.push(...r.items.map((i) => ({ id: i.id, phase: i.phase, subscribed: i.subscribed })));
  }
  return out;
}

describe("relevant rounds", () => {
  it("lists the person's province and nationwide rounds, not another province's, cancelled, closed or past ones", async () => {
    clock.set(NOW);
    const mine = await freshProvince();
    const other = await freshProvince();
    const me = await resident(mine.code, mine.communeCode);
    const own = await makeRound(db.prisma, NOW, { provinceCode: mine.code, programme: "Hoa Phượng Đỏ" });
    const nation = await makeRound(db.prisma, NOW, { provinceCode: null, programme: "Vì em hiếu học" });
    const elsewhere = await makeRound(db.prisma, NOW, { provinceCode: other.code });
    const cancelled = await makeRound(db.prisma, NOW, { provinceCode: mine.code, state: "cancelled" });
    const closedEarly = await makeRound(db.prisma, NOW, { provinceCode: mine.code, state: "closed" });
    const past = await makeRound(db.prisma, NOW, { provinceCode: mine.code, opensIn: -20, deadlineIn: -1, awardIn: 5 });
    const today = await makeRound(db.prisma, NOW, { provinceCode: mine.code, deadlineIn: 0 });
    const ids = (await allPages(me)).map((r) => r.id);
    expect(ids).toContain(own.id);
    expect(ids).toContain(nation.id);
    expect(ids).toContain(today.id);
    for (const gone of [elsewhere, cancelled, closedEarly, past]) expect(ids).not.toContain(gone.id);
    const first = await listing.relevant(me, { pageSize: 50 });
    expect(first.homeProvinceCode).toBe(mine.code);
    expect(first.total).toBe(first.items.length);
    expect(first.items.find((i) => i.id === own.id)).toMatchObject({ programme: "Hoa Phượng Đỏ", phase: "open", subscribed: false, awardValueVnd: 2_000_000n });
    // The day after the deadline, the round is gone.
    clock.set(new Date(NOW.getTime() + 24 * 3600_000));
    expect((await allPages(me)).map((r) => r.id)).not.toContain(today.id);
  });

  it("puts open rounds first by deadline, then upcoming ones by opening day, one page at a time", async () => {
    clock.set(NOW);
    const mine = await freshProvince();
    const me = await resident(mine.code, mine.communeCode);
    const later = await makeRound(db.prisma, NOW, { provinceCode: mine.code, deadlineIn: 20 });
    const soon = await makeRound(db.prisma, NOW, { provinceCode: mine.code, deadlineIn: 3 });
    const opensLate = await makeRound(db.prisma, NOW, { provinceCode: mine.code, opensIn: 9, deadlineIn: 12, awardIn: 40 });
    const opensSoon = await makeRound(db.prisma, NOW, { provinceCode: mine.code, opensIn: 2, deadlineIn: 30, awardIn: 40 });
    const listed = (await allPages(me)).filter((r) => [later, soon, opensLate, opensSoon].some((x) => x.id === r.id));
    expect(listed.map((r) => r.id)).toEqual([soon.id, later.id, opensSoon.id, opensLate.id]);
    expect(listed.map((r) => r.phase)).toEqual(["open", "open", "upcoming", "upcoming"]);
    const page = await listing.relevant(me, { page: 1, pageSize: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.total).toBeGreaterThanOrEqual(4);
  });

  it("shows someone not registered the nationwide rounds, or a province they name", async () => {
    clock.set(NOW);
    const place = await freshProvince();
    const provincial = await makeRound(db.prisma, NOW, { provinceCode: place.code });
    const nation = await makeRound(db.prisma, NOW, { provinceCode: null });
    const stranger = String(++nextId);
    const plain = await listing.relevant(stranger, { pageSize: 50 });
    expect(plain.homeProvinceCode).toBeNull();
    expect(plain.provinceCode).toBeNull();
    expect(plain.items.map((i) => i.id)).toContain(nation.id);
    expect(plain.items.map((i) => i.id)).not.toContain(provincial.id);
    const named = await listing.relevant(stranger, { pageSize: 50, provinceCode: place.code });
    expect(named.provinceCode).toBe(place.code);
    expect(named.items.map((i) => i.id)).toEqual(expect.arrayContaining([nation.id, provincial.id]));
  });

  it("gives a card for open, upcoming and closed rounds but not for cancelled or missing ones", async () => {
    clock.set(NOW);
    const mine = await freshProvince();
    const me = await resident(mine.code, mine.communeCode);
    const up = await makeRound(db.prisma, NOW, { provinceCode: mine.code, opensIn: 3 });
    const closed = await makeRound(db.prisma, NOW, { provinceCode: mine.code, state: "closed" });
    const cancelled = await makeRound(db.prisma, NOW, { provinceCode: mine.code, state: "cancelled" });
    expect((await listing.card(me, up.id))?.phase).toBe("upcoming");
    expect((await listing.card(me, closed.id))?.phase).toBe("closed");
    expect(await listing.card(me, cancelled.id)).toBeUndefined();
    expect(await listing.card(me, 999_999_999)).toBeUndefined();
  });
});

describe("remind me", () => {
  it("subscribes once however often it is pressed, and unsubscribes the same way", async () => {
    clock.set(NOW);
    const mine = await freshProvince();
    const me = await resident(mine.code, mine.communeCode);
    const round = await makeRound(db.prisma, NOW, { provinceCode: mine.code });
    expect(await listing.subscribe(me, round.id)).toEqual({ status: "subscribed" });
    expect(await listing.subscribe(me, round.id)).toEqual({ status: "already" });
    expect(await db.prisma.scholarshipSubscription.count({ where: { roundId: round.id } })).toBe(1);
    expect((await listing.card(me, round.id))?.subscribed).toBe(true);
    expect((await allPages(me)).find((r) => r.id === round.id)?.subscribed).toBe(true);
    expect(await listing.unsubscribe(me, round.id)).toEqual({ status: "unsubscribed" });
    expect(await listing.unsubscribe(me, round.id)).toEqual({ status: "not_subscribed" });
    expect(await db.prisma.scholarshipSubscription.count({ where: { roundId: round.id } })).toBe(0);
  });

  it("refuses closed, past, cancelled and missing rounds, and people the bot does not know, with the reason", async () => {
    clock.set(NOW);
    const mine = await freshProvince();
    const me = await resident(mine.code, mine.communeCode);
    const closed = await makeRound(db.prisma, NOW, { provinceCode: mine.code, state: "closed" });
    const past = await makeRound(db.prisma, NOW, { provinceCode: mine.code, opensIn: -20, deadlineIn: -1, awardIn: 5 });
    const cancelled = await makeRound(db.prisma, NOW, { provinceCode: mine.code, state: "cancelled" });
    const open = await makeRound(db.prisma, NOW, { provinceCode: mine.code });
    expect(await listing.subscribe(me, closed.id)).toEqual({ status: "refused", reason: "closed" });
    expect(await listing.subscribe(me, past.id)).toEqual({ status: "refused", reason: "closed" });
    expect(await listing.subscribe(me, cancelled.id)).toEqual({ status: "refused", reason: "cancelled" });
    expect(await listing.subscribe(me, 999_999_999)).toEqual({ status: "refused", reason: "not_found" });
    expect(await listing.subscribe(String(++nextId), open.id)).toEqual({ status: "refused", reason: "not_registered" });
    expect(await db.prisma.scholarshipSubscription.count({ where: { roundId: { in: [closed.id, past.id, cancelled.id, open.id] } } })).toBe(0);
    expect(await listing.unsubscribe(me, 999_999_999)).toEqual({ status: "refused", reason: "not_found" });
  });

  it("is in the person's exported data and erased with it", async () => {
    clock.set(NOW);
    const mine = await freshProvince();
    const me = await resident(mine.code, mine.communeCode);
    const other = await resident(mine.code, mine.communeCode);
    const round = await makeRound(db.prisma, NOW, { provinceCode: mine.code, programme: "Nâng bước em tới trường" });
    await listing.subscribe(me, round.id);
    await listing.subscribe(other, round.id);
    const registry = new PersonalDataRegistry(db.prisma);
    for (const part of listing.dataParts()) registry.register(part);
    const exported = (await registry.exportAll(me)) as { scholarship_subscriptions: Array<{ programme: string; year: number; since: string }> };
    expect(exported.scholarship_subscriptions).toEqual([{ programme: "Nâng bước em tới trường", year: 2026, deadline: "27/12/2026", since: NOW.toISOString() }]);
    expect(await registry.held(me)).toEqual(["scholarships:privacy_part"]);
    expect((await registry.erase(me, NOW)).erased).toEqual(["scholarships:privacy_part"]);
    expect(await db.prisma.scholarshipSubscription.count({ where: { userId: BigInt(me) } })).toBe(0);
    expect(await db.prisma.scholarshipSubscription.count({ where: { userId: BigInt(other) } })).toBe(1);
    expect(await registry.exportAll(me)).toEqual({ scholarship_subscriptions: null });
  });
});
