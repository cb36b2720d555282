import { randomBytes } from "node:crypto";
import type { Message } from "grammy/types";
import { describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { haversineKm, refreshCenterUpcoming } from "../../src/domain/sessions/model.js";
import { ManualClock } from "../support/delivery.js";
import { DEFAULTS } from "../support/flows.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { callbackQuery, locationMessage } from "../support/telegram/index.js";

// Residents and sessions through the whole stack: the nearby list (by commune and by a shared
// location, pages and topic filter edited in place), the session card (sign up, waiting list, give
// back, map, calendar file, share link), /mysessions and the learning hours, QR check-in (also for
// someone who registers first), and forged or stale buttons.

// Thursday 17 December 2026, 10:00 in Vietnam.
const clock = new ManualClock(fromVnWallTime(2026, 12, 17, 10, 0).getTime());
const h = useHarness({ now: clock.now });

let nextId = 9_820_000;
let nextProvince = 0;

/** A province of its own for each test (far from the others' centres), with two communes. */
async function freshPlace() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[(nextProvince++ * 7) % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p, communes };
}

async function citizen(provinceCode: string, communeCode: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id) } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `CT-${id}`, fullName: `Nguyễn Văn ${id}`, birthYear: 1985, provinceCode, communeCode, affiliation: "resident", goals: ["law"], registeredAt: clock.now() },
  });
  h.fake.registerChat(id);
  return h.user(id);
}

function stranger(): TestUser {
  const id = ++nextId;
  h.fake.registerChat(id);
  return h.user(id);
}

interface SessionSpec { title?: string; topic?: string; at?: Date; durationMin?: number; capacity?: number }

async function center(communeCode: string, name: string, offset = { lat: 0, lon: 0 }, sessions: SessionSpec[] = [{}]) {
  const commune = await h.db.prisma.commune.findUniqueOrThrow({ where: { code: communeCode } });
  const c = await h.db.prisma.learningCenter.create({
    data: { provinceCode: commune.provinceCode, communeCode, name, address: "Nhà văn hoá thôn 1", lat: commune.lat + offset.lat, lon: commune.lon + offset.lon },
  });
  const created = [];
  for (const s of sessions) {
    created.push(await h.db.prisma.learningSession.create({
      data: {
        centerId: c.id, title: s.title ?? "Tìm hiểu Luật Biên giới quốc gia", topic: s.topic ?? "law",
        startsAt: s.at ?? fromVnWallTime(2026, 12, 19, 8, 0), durationMin: s.durationMin ?? 90, capacity: s.capacity ?? 30,
        checkinToken: randomBytes(18).toString("base64url"), speaker: "Đồn Biên phòng", organiserBody: "border_guard",
      },
    }));
  }
  await refreshCenterUpcoming(h.db.prisma, [c.id]);
  return { center: c, sessions: created, commune };
}

const lastText = (u: TestUser) => {
  const m = h.fake.sent(u.id).at(-1)!.result as Message;
  return (h.fake.getMessage(u.id, m.message_id) ?? m).text ?? "";
};

describe("finding sessions", () => {
  it("/sessions lists the centres nearest the person's commune first, with distances, and a location button", async () => {
    const { communes } = await freshPlace();
    const home = communes[0]!;
    const near = await center(home.code, "TTHTCĐ gần nhà");
    const far = await center(home.code, "TTHTCĐ xa hơn", { lat: 0.05, lon: 0 });
    const u = await citizen(home.provinceCode, home.code);
    const replies = await u.send("/sessions");
    expect(replies[0]).toContain("Gần tôi");
    const keyboard = h.fake.sent(u.id).at(-2)!.payload.reply_markup as { keyboard: Array<Array<{ text: string; request_location?: boolean }>> };
    expect(keyboard.keyboard[0]![0]).toMatchObject({ text: "📍 Gần tôi", request_location: true });
    const list = replies[1]!;
    expect(list.indexOf("TTHTCĐ gần nhà")).toBeGreaterThan(-1);
    expect(list.indexOf("TTHTCĐ gần nhà")).toBeLessThan(list.indexOf("TTHTCĐ xa hơn"));
    const km = haversineKm(home.lat, home.lon, far.center.lat, far.center.lon).toFixed(1).replace(".", ",");
    expect(list).toContain(`TTHTCĐ xa hơn</b> · ${km} km`.replace(/<\/?b>/g, ""));
    expect(list).toContain("8:00 thứ Bảy, 19/12/2026");
    expect(u.buttons().some((b) => b.includes("Tìm hiểu Luật Biên giới quốc gia"))).toBe(true);
    expect(near.sessions).toHaveLength(1);
  });

  it("a shared location lists nearby centres; Next and the topic filter edit the same message", async () => {
    const { communes } = await freshPlace();
    const home = communes[0]!;
    for (let i = 0; i < 4; i++) await center(home.code, `Trung tâm số ${i + 1}`, { lat: 0.01 * i, lon: 0 }, [{ topic: i === 3 ? "health" : "law", title: i === 3 ? "Chăm sóc sức khoẻ người cao tuổi" : "Luật Biên phòng" }]);
    const u = stranger();
    const replies = await u.sendUpdate(locationMessage(u.tg, home.lat, home.lon));
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/Trung tâm số 1[\s\S]*Trung tâm số 2[\s\S]*Trung tâm số 3/);
    expect(replies[0]).not.toContain("Trung tâm số 4");
    const listMessage = h.fake.sent(u.id).at(-1)!.result as Message;
    const next = await u.press("Sau ▶️");
    expect(next.join("\n")).toContain("Trung tâm số 4");
    expect(h.fake.getMessage(u.id, listMessage.message_id)!.text).toContain("trang 2");
    expect(h.fake.sent(u.id).at(-1)!.result).toMatchObject({ message_id: listMessage.message_id });
    await u.press("🏷 Chủ đề");
    await u.press("Sức khoẻ");
    const filtered = h.fake.getMessage(u.id, listMessage.message_id)!.text!;
    expect(filtered).toContain("Chăm sóc sức khoẻ người cao tuổi");
    expect(filtered).not.toContain("Luật Biên phòng");
  });

  it("refuses a location outside Vietnam and a forged list button", async () => {
    const u = stranger();
    const replies = await u.sendUpdate(locationMessage(u.tg, 48.8566, 2.3522));
    expect(replies.join("\n")).toContain("ngoài Việt Nam");
    const forged = await u.pressData("nb:g48.8566,2.3522|all|0");
    expect(forged.join("\n")).toContain("Nút không hợp lệ");
  });
});

describe("the session card", () => {
  it("signs up, shows seats, puts the next person on the waiting list, and gives the seat back", async () => {
    const { communes } = await freshPlace();
    const home = communes[0]!;
    const { sessions } = await center(home.code, "TTHTCĐ phường", undefined, [{ capacity: 1, title: "Kỹ năng số cho người cao tuổi", topic: "digital" }]);
    const id = sessions[0]!.id;
    const a = await citizen(home.provinceCode, home.code);
    const b = await citizen(home.provinceCode, home.code);
    const card = await a.send(`/start s_${id}`);
    expect(card[0]).toContain("Kỹ năng số cho người cao tuổi");
    expect(card[0]).toContain("còn 1/1 chỗ");
    expect(card[0]).toContain("Bộ đội Biên phòng");
    const joined = await a.press("✅ Đăng ký");
    expect(joined[0]).toContain("[answer] ✅ Đã đăng ký");
    expect(lastText(a)).toContain("Bạn đã đăng ký");
    await b.send(`/start s_${id}`);
    expect(b.buttons()).toContain("⏳ Vào danh sách chờ");
    const waiting = await b.press("⏳ Vào danh sách chờ");
    expect(waiting[0]).toContain("vị trí số 1");
    await a.press("❌ Huỷ đăng ký");
    const seats = await h.db.prisma.sessionSignup.findMany({ where: { sessionId: id }, orderBy: { userId: "asc" } });
    expect(seats.map((s) => [Number(s.userId), s.status])).toEqual([[b.id, "confirmed"]]);
    // b took the seat back at once: the session is full again for a.
    expect(a.buttons()).toContain("⏳ Vào danh sách chờ");
  });

  it("gives the last seat to one of several people pressing at the same moment, the others wait in order", async () => {
    const { communes } = await freshPlace();
    const home = communes[0]!;
    const { sessions } = await center(home.code, "TTHTCĐ chỗ cuối", undefined, [{ capacity: 1 }]);
    const id = sessions[0]!.id;
    const people = await Promise.all([1, 2, 3, 4].map(() => citizen(home.provinceCode, home.code)));
    for (const u of people) await u.send(`/start s_${id}`);
    const cards = people.map((u) => h.fake.sent(u.id).at(-1)!.result as Message);
    await Promise.all(people.map((u, i) => h.handle(callbackQuery(u.tg, cb.session.pack(`join.${id}`), cards[i]))));
    const answers = h.fake.calls.filter((c) => c.method === "answerCallbackQuery").slice(-4).map((c) => String(c.payload.text));
    expect(answers.filter((a) => a.includes("Đã đăng ký"))).toHaveLength(1);
    expect(answers.filter((a) => a.includes("danh sách chờ")).map((a) => /vị trí số (\d)/.exec(a)![1]).sort()).toEqual(["1", "2", "3"]);
    const session = await h.db.prisma.learningSession.findUniqueOrThrow({ where: { id } });
    expect([session.confirmedCount, session.waitingCount]).toEqual([1, 3]);
    expect(await h.db.prisma.sessionSignup.count({ where: { sessionId: id, status: "confirmed" } })).toBe(1);
  });

  it("asks someone not registered to register before signing up", async () => {
    const { communes } = await freshPlace();
    const { sessions } = await center(communes[0]!.code, "TTHTCĐ xã");
    const u = stranger();
    await u.send(`/start s_${sessions[0]!.id}`);
    const r = await u.press("✅ Đăng ký");
    expect(r.join("\n")).toContain("Công dân học tập");
    expect(await h.db.prisma.sessionSignup.count({ where: { sessionId: sessions[0]!.id } })).toBe(0);
  });

  it("sends the map as a venue and a calendar file in Vietnam's time", async () => {
    const { communes } = await freshPlace();
    const { sessions, center: c } = await center(communes[0]!.code, "TTHTCĐ Lũng Cú", undefined, [{ at: fromVnWallTime(2026, 12, 19, 8, 0), durationMin: 90 }]);
    const u = stranger();
    await u.send(`/start s_${sessions[0]!.id}`);
    await u.press("🗺 Bản đồ");
    const venue = h.fake.sent(u.id).at(-1)!;
    expect(venue.method).toBe("sendVenue");
    expect(venue.payload).toMatchObject({ latitude: c.lat, longitude: c.lon, title: "TTHTCĐ Lũng Cú" });
    await u.press("📅 Thêm vào lịch");
    const doc = h.fake.lastDocument(u.id)!;
    expect(doc.file_name).toBe(`buoi-hoc-${sessions[0]!.id}.ics`);
    const ics = doc.content.toString("utf8");
    // 8:00 in Vietnam is 01:00 UTC; 90 minutes.
    expect(ics).toContain("DTSTART:20261219T010000Z");
    expect(ics).toMatch(/DURATION:PT1H30M/);
    expect(ics).toContain("SUMMARY:Tìm hiểu Luật Biên giới quốc gia");
    expect(ics).toContain(`session-${sessions[0]!.id}@khuyenhoc-bot`);
    const share = (h.fake.sent(u.id).find((c) => c.method === "sendMessage" && String(c.payload.text).includes("Tìm hiểu"))!.payload.reply_markup as { inline_keyboard: Array<Array<{ url?: string }>> })
      .inline_keyboard.flat().find((b) => b.url)!.url!;
    expect(decodeURIComponent(share)).toContain(`?start=s_${sessions[0]!.id}`);
  });

  it("answers stale and forged card buttons", async () => {
    const { communes } = await freshPlace();
    const { sessions } = await center(communes[0]!.code, "TTHTCĐ huỷ");
    const u = await citizen(communes[0]!.provinceCode, communes[0]!.code);
    await u.send(`/start s_${sessions[0]!.id}`);
    await h.db.prisma.learningSession.update({ where: { id: sessions[0]!.id }, data: { state: "cancelled" } });
    const stale = await u.press("✅ Đăng ký");
    expect(stale.join("\n")).toContain("đã bị huỷ");
    expect(lastText(u)).toContain("đã bị huỷ");
    expect(u.buttons()).not.toContain("✅ Đăng ký");
    expect((await u.pressData(cb.session.pack("join.999999999"))).join("\n")).toContain("Không tìm thấy buổi học");
    expect((await u.pressData("ses:join.abc")).join("\n")).toContain("Nút không hợp lệ");
  });
});

describe("check-in and learning hours", () => {
  it("checks a registered person in by QR link once, and counts the hours on /mysessions and /me", async () => {
    const { communes } = await freshPlace();
    const home = communes[0]!;
    const at = fromVnWallTime(2026, 12, 17, 14, 0);
    const { sessions } = await center(home.code, "TTHTCĐ điểm danh", undefined, [{ at, durationMin: 90, title: "Phòng chống buôn lậu qua biên giới" }]);
    const token = sessions[0]!.checkinToken;
    const u = await citizen(home.provinceCode, home.code);
    clock.set(new Date(at.getTime() - 31 * 60_000));
    expect((await u.send(`/start ci_${token}`)).join("\n")).toContain("Điểm danh mở từ 13:30 thứ Năm, 17/12/2026");
    clock.set(new Date(at.getTime() + 10 * 60_000));
    expect((await u.send(`/start ci_${token}`)).join("\n")).toContain("✅ Đã điểm danh");
    expect((await u.send(`/start ci_${token}`)).join("\n")).toContain("Bạn đã điểm danh buổi");
    expect((await u.send("/start ci_AAAAAAAAAAAAAAAAAAAAAAAA")).join("\n")).toContain("Mã điểm danh không hợp lệ");
    clock.set(new Date(at.getTime() + 3 * 3600_000));
    const mine = (await u.send("/mysessions")).join("\n");
    expect(mine).toContain("Phòng chống buôn lậu qua biên giới");
    expect(mine).toContain("✅ đã điểm danh");
    expect(mine).toContain("Giờ học năm 2026: 1,5 giờ (1 buổi");
    expect((await u.send("/me")).join("\n")).toContain("Giờ học năm 2026: 1,5 giờ (1 buổi)");
    const exported = await u.send("/mydata");
    expect(exported.length).toBeGreaterThan(0);
    const data = JSON.parse(h.fake.lastDocument(u.id)!.content.toString("utf8")) as { session_signups: unknown[] };
    expect(data.session_signups).toHaveLength(1);
  });

  it("offers registration to someone not registered, then completes the check-in", async () => {
    const { communes } = await freshPlace();
    const at = fromVnWallTime(2026, 12, 18, 19, 0);
    const { sessions } = await center(communes[0]!.code, "TTHTCĐ đăng ký mới", undefined, [{ at }]);
    const u = stranger();
    clock.set(at);
    const first = await u.send(`/start ci_${sessions[0]!.checkinToken}`);
    expect(first.join("\n")).toContain("cần đăng ký Công dân học tập");
    expect(await h.db.prisma.sessionSignup.count({ where: { userId: BigInt(u.id) } })).toBe(0);
    await u.press("Đồng ý");
    await u.send(DEFAULTS.name);
    await u.send(DEFAULTS.year);
    await u.press(DEFAULTS.province);
    await u.send(DEFAULTS.communeQuery);
    await u.press(DEFAULTS.commune);
    await u.press(DEFAULTS.affiliation);
    for (const g of DEFAULTS.goals) await u.press(g);
    await u.press("Xong");
    await u.send("Bỏ qua");
    const done = await u.press("Xác nhận");
    expect(done.join("\n")).toContain("✅ Đã điểm danh");
    const row = await h.db.prisma.sessionSignup.findUniqueOrThrow({ where: { sessionId_userId: { sessionId: sessions[0]!.id, userId: BigInt(u.id) } } });
    expect(row).toMatchObject({ status: "walk_in" });
    expect(row.attendedAt).not.toBeNull();
  });
});
