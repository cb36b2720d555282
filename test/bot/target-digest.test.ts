import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestRef, isoWeekOf, TARGET_DIGEST_KIND, TargetDigest } from "../../src/domain/targets/digest.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";

// The weekly targets digest through the whole stack: the tick at Monday 8:00 Vietnam time, the
// real delivery engine sending to the strict fake Telegram, the figures of the scoreboard with the
// change since last week's snapshot, officers and participating heads only, each in their
// language, once (a second tick, a restart), a head who switched it off in /settings skipped,
// and a week whose Monday the bot missed still sent that week, never in a later one.

// Monday 30 November 2026, 20:00 in Vietnam: last week's snapshot is taken then.
const clock = new ManualClock(fromVnWallTime(2026, 11, 30, 20, 0).getTime());
const h = useHarness({ now: clock.now });
let engine: TestEngine;
beforeAll(() => {
  engine = TestEngine.start({ db: h.db, fake: h.fake, now: clock.now, kinds: h.deps.deliveryKinds, queues: h.queues, prefix: h.queuePrefix });
});
afterAll(() => engine.stop());

let nextId = 9_980_000;
let unitSeq = 0;
const PROVINCE = "31";
const OTHER_PROVINCE = "01";

async function person(opts: { locale?: string; role?: "resident" | "officer"; unreachable?: boolean } = {}): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({
    data: { id: BigInt(id), role: opts.role ?? "resident", locale: opts.locale ?? null, unreachableSince: opts.unreachable ? clock.now() : null, scopeProvinceCode: opts.role === "officer" ? PROVINCE : null },
  });
  h.fake.registerChat(id);
  return h.user(id);
}

async function register(u: TestUser, province = PROVINCE): Promise<void> {
  const commune = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: province }, orderBy: { code: "asc" } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(u.id), registrationNumber: `TD-${u.id}`, fullName: `Đinh Văn ${u.id}`, birthYear: 1992, provinceCode: province, communeCode: commune.code, affiliation: "border_guard", goals: [], registeredAt: clock.now() },
  });
}

async function unit(name: string, opts: { body?: string; province?: string; headcount: number }): Promise<number> {
  const n = ++unitSeq;
  const province = opts.province ?? PROVINCE;
  const commune = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: province }, orderBy: { code: "asc" } });
  const u = await h.db.prisma.unit.create({
    data: {
      name, nameKey: `td ${n} ${name.toLowerCase()}`, kind: "border_post", body: opts.body ?? "border_guard", provinceCode: province, communeCode: commune.code,
      headcount: opts.headcount, joinToken: `td-token-${String(n).padStart(16, "0")}`,
    },
  });
  return u.id;
}

async function join(unitId: number, u: TestUser, role: "member" | "head" = "member"): Promise<void> {
  await h.db.prisma.unitMember.create({ data: { unitId, userId: BigInt(u.id), role, displayName: `Người ${u.id}`, joinedAt: clock.now() } });
}

async function programme(name: string, opts: { deleted?: boolean; officers: TestUser[] }): Promise<number> {
  const p = await h.db.prisma.programme.create({
    data: {
      name, provinceCode: PROVINCE, bodies: ["border_guard", "police"], startYear: 2024, endYear: 2030, deletedAt: opts.deleted ? clock.now() : null,
      // Learning citizens: 80% for the period; members: a target for 2027 only (none applies in 2026).
      targets: { create: [{ metric: "learning_citizens", year: 0, percent: 80 }, { metric: "members", year: 2027, percent: 60 }] },
      officers: { create: opts.officers.map((o) => ({ userId: BigInt(o.id), addedAt: clock.now() })) },
    },
  });
  return p.id;
}

/** The digests this chat received. */
function digests(u: TestUser): string[] {
  return h.fake.sent(u.id).filter((c) => c.method === "sendMessage").map((c) => String(c.payload.text))
    .filter((t) => t.startsWith("📊 <b>Bản tin chỉ tiêu") || t.startsWith("📊 <b>Targets digest"));
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

describe("weekly targets digest", () => {
  it("reaches the programme's officers and participating heads on Monday at 8:00, in their language, with the figures and the week's change, once", async () => {
    const officerVi = await person({ role: "officer" });
    const officerEn = await person({ role: "officer", locale: "en" });
    const officerOfDeleted = await person({ role: "officer" });
    const name = "Chương trình phối hợp Hội Khuyến học và Bộ đội Biên phòng tỉnh 2024–2030";
    await programme(name, { officers: [officerVi, officerEn] });
    await programme("Chương trình đã xóa", { deleted: true, officers: [officerOfDeleted] });

    // Đồn A: 10 people, a head and four members who joined, one registered by last Monday.
    const a = await unit("Đồn Biên phòng Cửa khẩu A Pa Chải", { headcount: 10 });
    const head = await person();
    await join(a, head, "head");
    const members = [await person(), await person(), await person(), await person()];
    for (const m of members) await join(a, m);
    await register(members[0]!);
    // A police unit with nobody yet; a third unit whose heads switched it off or blocked the bot.
    await unit("Công an xã Sín Thầu", { body: "police", headcount: 5 });
    const e = await unit("Đồn Biên phòng Leng Su Sìn", { headcount: 5 });
    const mutedHead = await person();
    const goneHead = await person({ unreachable: true });
    await join(e, mutedHead, "head");
    await join(e, goneHead, "head");
    // Heads who are not in the programme: a unit of a body it does not bring together, another province.
    const associationHead = await person();
    await join(await unit("Chi hội Khuyến học thôn Nậm Pồ", { body: "association", headcount: 5 }), associationHead, "head");
    const farHead = await person();
    await join(await unit("Đồn Biên phòng Hà Nội", { province: OTHER_PROVINCE, headcount: 5 }), farHead, "head");

    // The muted head switches the digest off in /settings.
    const settings = (await mutedHead.send("/settings")).join("\n");
    expect(settings).toContain("Bản tin chỉ tiêu hằng tuần");
    await mutedHead.press("Tắt bản tin chỉ tiêu hằng tuần");
    expect(await h.db.prisma.topicMute.count({ where: { userId: BigInt(mutedHead.id), topic: "target_digest" } })).toBe(1);

    // Last week's figures, then two more registrations during the week.
    await h.deps.services.targetSnapshots.take();
    clock.set(fromVnWallTime(2026, 12, 3, 10, 0));
    await register(members[1]!);
    await register(members[2]!);

    const digest = h.deps.services.targetDigest;
    clock.set(fromVnWallTime(2026, 12, 7, 7, 59));
    expect(await digest.tick()).toBe(0);
    clock.set(fromVnWallTime(2026, 12, 7, 8, 0));
    expect(await digest.tick()).toBe(3);
    await eventually(() => digests(officerVi).length === 1 && digests(officerEn).length === 1 && digests(head).length === 1, "the three digests");

    const vi = digests(officerVi)[0]!;
    expect(vi).toContain("Bản tin chỉ tiêu tuần 50</b> (07/12–13/12/2026)");
    expect(vi).toContain(`<b>${name}</b>`);
    // Units A, the police unit and E: 20 people, 3 registered; 80% is 16, so 13 to go; 2 more than last Monday.
    expect(vi).toContain("• Công dân học tập: 3/20 người (15%) · chỉ tiêu 80% · còn 13 người · tuần qua +2 người");
    expect(vi).toContain("• Hội viên khuyến học: 0/20 người (0%) · tuần qua không đổi");
    expect(vi).toContain("• Đơn vị học tập: 0/3 đơn vị (0%) · tuần qua không đổi");
    expect(vi).toContain("/targets");
    expect(vi).not.toContain("Gia đình học tập"); // no family in the province: no line
    const en = digests(officerEn)[0]!;
    expect(en).toContain("Targets digest, week 50</b> (07/12–13/12/2026)");
    expect(en).toContain("• Learning citizens: 3/20 people (15%) · target 80% · 13 people to go · this week +2 people");

    const unitDigest = digests(head)[0]!;
    expect(unitDigest).toContain("🏢 <b>Đồn Biên phòng Cửa khẩu A Pa Chải</b>");
    expect(unitDigest).toContain("• Công dân học tập: 3/10 người (30%) · chỉ tiêu 80% · còn 5 người · tuần qua +2 người");
    // The head and one member joined without registering.
    expect(unitDigest).toContain("👥 2 thành viên của đơn vị chưa đăng ký Công dân học tập.");
    expect(unitDigest).not.toContain("Công an xã Sín Thầu");
    const mute = h.fake.sent(head.id).find((c) => String(c.payload.text) === unitDigest)!.payload.reply_markup as { inline_keyboard: Array<Array<{ text: string }>> };
    expect(mute.inline_keyboard.flat().map((b) => b.text)).toEqual(["🔕 Tắt bản tin chỉ tiêu hằng tuần"]);

    // A second tick, and a restarted process's first tick: nothing new.
    clock.set(fromVnWallTime(2026, 12, 7, 8, 5));
    expect(await digest.tick()).toBe(0);
    const restarted = new TargetDigest({ prisma: h.db.prisma, deliveries: h.deps.deliveries, now: clock.now });
    expect(await restarted.tick()).toBe(0);
    await settle();
    for (const u of [officerVi, officerEn, head]) expect(digests(u)).toHaveLength(1);
    for (const u of [officerOfDeleted, mutedHead, goneHead, associationHead, farHead, ...members]) expect(digests(u)).toEqual([]);
    const week = isoWeekOf("2026-12-07");
    expect(week.label).toBe("2026-W50");
    expect(await h.deps.deliveries.counts(TARGET_DIGEST_KIND, digestRef(week))).toMatchObject({ total: 3, sent: 3 });
    expect(h.logged()).toEqual([]);
  });

  it("is sent later in the week when no process ran on Monday, and never for a week that is over", async () => {
    const officer = await person({ role: "officer" });
    await programme("Chương trình phối hợp tuần vắng", { officers: [officer] });
    const digest = new TargetDigest({ prisma: h.db.prisma, deliveries: h.deps.deliveries, now: clock.now });
    // Thursday of week 51: Monday's 8:00 passed with nobody running.
    clock.set(fromVnWallTime(2026, 12, 17, 15, 0));
    expect(await digest.tick()).toBeGreaterThanOrEqual(1);
    await eventually(() => digests(officer).some((t) => t.includes("tuần 51")), "week 51's digest on Thursday");
    // Monday of week 52 before 8:00: not yet, and week 51 is not sent again.
    clock.set(fromVnWallTime(2026, 12, 21, 7, 0));
    expect(await digest.tick()).toBe(0);
    await settle();
    expect(digests(officer)).toHaveLength(1);
    clock.set(fromVnWallTime(2026, 12, 21, 8, 30));
    expect(await digest.tick()).toBeGreaterThanOrEqual(1);
    await eventually(() => digests(officer).some((t) => t.includes("tuần 52")), "week 52's digest");
    expect(digests(officer).map((t) => /tuần (\d+)/.exec(t)?.[1])).toEqual(["51", "52"]);
  });
});
