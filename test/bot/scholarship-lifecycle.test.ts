import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { ScholarshipReminders } from "../../src/domain/scholarships/reminders.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";

// A scholarship round's whole life through every part at once: the officer's service and buttons,
// the resident's card and "Remind me", the reminder tick and the real delivery engine sending to
// the strict fake Telegram under a moved clock, an extension moving the reminders, a status change
// reaching the nominator, and a cancellation that stops the reminders still ahead.

// Tuesday 1 December 2026, 10:00 in Vietnam.
const clock = new ManualClock(fromVnWallTime(2026, 12, 1, 10, 0).getTime());
const h = useHarness({ now: clock.now });
let engine: TestEngine;
let reminders: ScholarshipReminders;
beforeAll(() => {
  engine = TestEngine.start({ db: h.db, fake: h.fake, now: clock.now, kinds: h.deps.deliveryKinds, queues: h.queues, prefix: h.queuePrefix });
  reminders = new ScholarshipReminders({ prisma: h.db.prisma, deliveries: h.deps.deliveries, now: clock.now });
});
afterAll(() => engine.stop());

let nextId = 9_960_000;
const PROVINCE = "31";

async function officer(): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: PROVINCE } });
  h.fake.registerChat(id);
  return h.user(id);
}

async function resident(role: "resident" | "member" = "resident"): Promise<TestUser> {
  const id = ++nextId;
  const commune = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: PROVINCE }, orderBy: { code: "asc" } });
  await h.db.prisma.user.create({ data: { id: BigInt(id), role } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `LC-${id}`, fullName: `Phạm Thị ${id}`, birthYear: 1983, provinceCode: PROVINCE, communeCode: commune.code, affiliation: "resident", goals: [], registeredAt: clock.now() },
  });
  h.fake.registerChat(id);
  return h.user(id);
}

/** Texts of the reminders and notices this chat received (the engine's messages about the round, not replies). */
function received(u: TestUser): string[] {
  return h.fake.sent(u.id).filter((c) => c.method === "sendMessage").map((c) => String(c.payload.text))
    .filter((t) => /học bổng <b>Hoa Phượng Đỏ<\/b>|^📬/.test(t));
}

async function at(day: number, hour: number): Promise<void> {
  clock.set(fromVnWallTime(2026, 12, day, hour, 0));
  await reminders.tick();
}

describe("a scholarship round's life", () => {
  it("reminds a subscriber on the opening day and before the deadline, follows an extension, tells a nominator of a status, and stops at cancellation", async () => {
    const o = await officer();
    const actor = { id: String(o.id), ...(await h.deps.services.users.access(String(o.id))) };
    const created = await h.deps.services.scholarshipRounds.create(actor, {
      programme: "Hoa Phượng Đỏ", year: 2026, organiserBody: "association", provinceCode: PROVINCE,
      eligibility: "Học sinh THCS vượt khó học tốt.", rules: { levels: ["lower_secondary"] },
      awardValueVnd: 2_000_000, awardCount: 30, opensOn: "2026-12-03", deadlineOn: "2026-12-20", awardOn: "2027-01-10",
      howToApply: "Nộp hồ sơ tại Hội Khuyến học phường.", contact: "Hội Khuyến học TP. Hải Phòng",
    });
    if (!created.ok) throw new Error(JSON.stringify(created));
    const id = created.round.id;

    // The resident finds it (upcoming, opens in 2 days) and asks to be reminded.
    const r = await resident();
    const card = (await r.send("/scholarships")).join("\n");
    expect(card).toContain("Hoa Phượng Đỏ 2026");
    expect(card).toMatch(/mở sau 2 ngày/i);
    await r.press("Nhắc tôi");
    expect(await h.db.prisma.scholarshipSubscription.count({ where: { roundId: id, userId: BigInt(r.id) } })).toBe(1);

    // 3 December, 8:00: the round opens.
    await at(3, 8);
    await eventually(() => received(r).some((t) => t.includes("mở nhận hồ sơ hôm nay")), "the opening reminder");
    expect(received(r)).toHaveLength(1);
    expect(received(r)[0]).toContain("Hạn nộp: hết ngày 20/12/2026");

    // A member nominates a student; the officer shortlists them with the nomination's button.
    const m = await resident("member");
    const commune = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: PROVINCE }, orderBy: { code: "asc" } });
    const nominated = await h.deps.services.nominations.create({ id: String(m.id), ...(await h.deps.services.users.access(String(m.id))) }, id, {
      relationship: "member", studentName: "Vũ Minh Khang", birthYear: 2013, school: "Trường THCS Hồng Bàng", schoolLevel: "lower_secondary", grade: 7,
      communeCode: commune.code, circumstances: [], guardianName: "Vũ Văn Hải", consent: true,
    });
    if (!nominated.ok) throw new Error(JSON.stringify(nominated));
    await o.pressData(cb.nominationAdmin.pack(`st.${nominated.nomination.id}.shortlisted`));
    await eventually(() => received(m).some((t) => t.includes("đã vào danh sách xét chọn")), "the status notice");
    expect(received(m).find((t) => t.includes("danh sách xét chọn"))).toContain("Vũ Minh Khang");

    // 13 December, 8:00: seven days left.
    await at(13, 8);
    await eventually(() => received(r).some((t) => t.includes("còn 7 ngày")), "the 7-day reminder");

    // The officer extends the deadline to 27 December: subscriber and nominator are told.
    const extended = await h.deps.services.scholarshipRounds.extend(actor, id, "2026-12-27");
    expect(extended.ok).toBe(true);
    await eventually(() => received(r).some((t) => t.includes("đã gia hạn")) && received(m).some((t) => t.includes("đã gia hạn")), "the extension notices");
    expect(received(r).find((t) => t.includes("đã gia hạn"))).toContain("27/12/2026");

    // 19 December was the old "1 day left": nothing now. 20 December is 7 days before the new deadline.
    await at(19, 8);
    await at(20, 8);
    await eventually(() => received(r).filter((t) => t.includes("còn 7 ngày")).length === 2, "the 7-day reminder of the new deadline");
    expect(received(r).filter((t) => t.includes("còn 1 ngày"))).toEqual([]);
    expect(received(r).filter((t) => t.includes("còn 7 ngày"))[1]).toContain("27/12/2026");

    // The officer cancels through the round's buttons; nobody is reminded on 26 December.
    await o.pressData(cb.roundAdmin.pack(`cancel.${id}`));
    await o.pressData(cb.roundAdmin.pack(`cancelok.${id}`));
    expect((await h.db.prisma.scholarshipRound.findUniqueOrThrow({ where: { id } })).state).toBe("cancelled");
    await eventually(() => received(r).some((t) => t.includes("đã bị hủy")) && received(m).some((t) => t.includes("đã bị hủy")), "the cancellation notices");
    await at(26, 8);
    // The engine gets a moment to send anything wrongly queued before the count is taken.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Opening, 7 days, extended, 7 days before the new deadline, cancelled.
    expect(received(r)).toHaveLength(5);
    expect(received(r).filter((t) => t.includes("còn 1 ngày"))).toEqual([]);
    expect(h.unansweredCallbackQueries()).toEqual([]);
    expect(h.logged()).toEqual([]);
  });
});
