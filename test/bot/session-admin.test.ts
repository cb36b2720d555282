import { describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";
import { SESSION_NOTICE_KIND } from "../../src/domain/sessions/model.js";
import { SessionSignups } from "../../src/domain/sessions/signups.js";
import { vnParts } from "../../src/domain/time/vietnam-time.js";
import { ManualClock } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { UploadedFile } from "../support/telegram/params.js";

// The officers' session features through the real bot (handleUpdate, the strict fake Bot API):
// /session_new end to end, the check-in QR photo and its rotation, /sessions_admin with its
// per-session buttons (edit, move, cancel, CSV), and forged buttons for another province's session.

const DAY = 24 * 3600_000;
// Typed dates are checked against the real clock inside conversations and against this one when
// stored: both read "now".
const clock = new ManualClock(Date.now());
const ADMIN = 9_900_001;
const h = useHarness({ now: clock.now, adminIds: [String(ADMIN)] });
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let nextId = 9_900_100;
let nextProvince = 7;

async function freshPlace() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const q = provinces[nextProvince++ % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, commune: communes[0]!.code, otherCommune: communes[1]!.code, otherProvince: q.code };
}

async function officer(province: string, commune?: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: province, scopeCommuneCode: commune ?? null } });
  h.fake.registerChat(id);
  return h.user(id);
}

async function citizen(province: string, commune: string, fullName: string): Promise<string> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id) } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `CDHT-${province}-2026-${String(id).slice(-6)}`, fullName, birthYear: 1988, provinceCode: province, communeCode: commune, affiliation: "resident", goals: ["law"], registeredAt: clock.now() },
  });
  h.fake.registerChat(id);
  return String(id);
}

async function centre(province: string, commune: string, name: string): Promise<number> {
  return (await h.db.prisma.learningCenter.create({ data: { provinceCode: province, communeCode: commune, name, address: "Thôn Đông", lat: 21, lon: 105.8 } })).id;
}

/** A session stored directly through the service, as the officer. */
async function session(o: TestUser, centerId: number, over: Record<string, unknown> = {}) {
  const actor = { id: String(o.id), ...(await h.deps.services.users.access(String(o.id))) };
  const r = await h.deps.services.sessionAdmin.create(actor, {
    centerId, title: "Kỹ năng số cho người cao tuổi", topic: "digital", startsAt: new Date(clock.now().getTime() + 4 * DAY).toISOString(),
    durationMin: 60, capacity: 2, ...over,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.session;
}

const two = (n: number) => String(n).padStart(2, "0");
/** "dd/mm/yyyy 8:00" on Vietnam's calendar, `days` after the clock. */
function typedDate(days: number, time = "8:00"): string {
  const p = vnParts(new Date(clock.now().getTime() + days * DAY));
  return `${two(p.day)}/${two(p.month)}/${p.year} ${time}`;
}

function photos(chat: number) {
  return h.fake.sent(chat).filter((c) => c.method === "sendPhoto");
}

describe("officers' sessions", () => {
  it("/session_new creates a session through the conversation and sends its check-in QR as a PNG", async () => {
    const p = await freshPlace();
    const o = await officer(p.province);
    await centre(p.province, p.commune, "TTHTCĐ xã Đông Hòa");
    const c = await centre(p.province, p.otherCommune, "TTHTCĐ phường Tây Sơn");
    const elsewhere = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: p.otherProvince } });
    await centre(p.otherProvince, elsewhere.code, "Trung tâm tỉnh khác");

    const asked = (await o.send("/session_new")).join("\n");
    expect(asked).toMatch(/Buổi học mới/);
    expect(asked).toMatch(/ở trung tâm nào\? .*\(2 trung tâm · trang 1\/1\)/);
    expect(o.buttons()).toEqual(["TTHTCĐ phường Tây Sơn", "TTHTCĐ xã Đông Hòa"]);
    // Typed, without diacritics.
    expect((await o.send("tay son")).join("\n")).toMatch(/Các trung tâm khớp «tay son»/);
    expect(await o.send("Hà Giang")).toEqual(["Không có trung tâm nào trong địa bàn có tên khớp «Hà Giang». Gõ lại, hoặc bấm chọn trong danh sách."]);
    expect((await o.press("TTHTCĐ phường Tây Sơn"))[0]).toBe("✅ Trung tâm: TTHTCĐ phường Tây Sơn");

    expect(await o.send("ab")).toEqual(["Tên buổi học dài 3–120 ký tự. Gõ lại tên."]);
    await o.send("Tuyên truyền Luật Biên phòng <2026>");
    expect((await o.press("Pháp luật"))[0]).toBe("✅ Chủ đề: ⚖️ Pháp luật");
    expect(await o.send("1/1/2020 8:00")).toEqual([expect.stringMatching(/đã qua/)]);
    await o.send(typedDate(10));
    expect(o.buttons()).toEqual(["30 phút", "1 giờ", "1 giờ 30 phút", "2 giờ", "↩️ Quay lại"]);
    expect(await o.send("10 phút")).toEqual(["Thời lượng từ 15 phút đến 8 giờ. Gõ lại, ví dụ 90 phút hoặc 1h30."]);
    expect(await o.send("9 giờ")).toEqual(["Thời lượng từ 15 phút đến 8 giờ. Gõ lại, ví dụ 90 phút hoặc 1h30."]);
    expect((await o.send("1h30"))[0]).toBe("✅ Thời lượng: 1 giờ 30 phút");
    expect(await o.send("0")).toEqual(["Số chỗ là một số nguyên từ 1 đến 10.000. Gõ lại."]);
    await o.send("40");
    await o.send("Đồn Biên phòng Cát Bà");
    await o.press("Bộ đội Biên phòng");
    const summary = (await o.press("Bỏ qua")).join("\n");
    expect(summary).toContain("🏫 TTHTCĐ phường Tây Sơn\n📌 Tuyên truyền Luật Biên phòng <2026>\n📚 ⚖️ Pháp luật\n🕗 8:00 ");
    expect(summary).toContain("⏱ 1 giờ 30 phút\n👥 40 chỗ\n🎤 Đồn Biên phòng Cát Bà\n🏛 Bộ đội Biên phòng\n📝 (không có)");

    const done = (await o.press("Tạo buổi học")).join("\n");
    const s = await h.db.prisma.learningSession.findFirstOrThrow({ where: { createdById: BigInt(o.id) } });
    expect(s).toMatchObject({ centerId: c, title: "Tuyên truyền Luật Biên phòng <2026>", topic: "law", durationMin: 90, capacity: 40, speaker: "Đồn Biên phòng Cát Bà", organiserBody: "border_guard", description: null, state: "scheduled" });
    expect(vnParts(s.startsAt)).toMatchObject({ hour: 8, minute: 0 });
    expect(done).toContain(`Đã tạo buổi học #${s.id}`);

    const [photo] = photos(o.id);
    expect(photo).toBeDefined();
    // grammY uploads the file as a multipart part that the parameter points at (attach://…).
    const ref = String(photo!.payload.photo);
    const file = (ref.startsWith("attach://") ? photo!.payload[ref.slice("attach://".length)] : photo!.payload.photo) as UploadedFile;
    expect(file).toBeInstanceOf(UploadedFile);
    expect(file.content.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const caption = (photo!.result as { caption: string }).caption;
    expect(caption).toContain(`https://t.me/${h.fake.botInfo.username}?start=ci_${s.checkinToken}`);
    expect(caption).toContain("Tuyên truyền Luật Biên phòng <2026>");
    expect(caption).toMatch(/Quét được từ 07:30 đến 09:30/);
    expect(h.logged()).toEqual([]);
  });

  it("pages through many centres in the one message and picks one from the second page", async () => {
    const p = await freshPlace();
    const o = await officer(p.province, p.commune);
    for (let i = 1; i <= 9; i++) await centre(p.province, p.commune, `TTHTCĐ số ${i}`);
    // Another commune's centre is not the commune officer's to use.
    await centre(p.province, p.otherCommune, "TTHTCĐ xã bên cạnh");
    expect((await o.send("/session_new")).join("\n")).toMatch(/9 trung tâm · trang 1\/2/);
    expect(o.buttons()).toHaveLength(9);
    expect(o.buttons().at(-1)).toBe("▶️");
    expect((await o.press("▶️")).join("\n")).toMatch(/9 trung tâm · trang 2\/2/);
    expect(o.buttons()).toEqual(["TTHTCĐ số 9", "◀️"]);
    expect(await o.send("ben canh")).toEqual([expect.stringMatching(/Không có trung tâm nào trong địa bàn có tên khớp/)]);
    expect((await o.press("TTHTCĐ số 9"))[0]).toBe("✅ Trung tâm: TTHTCĐ số 9");
    await o.send("/cancel");
  });

  it("tells an officer without centres to add one first", async () => {
    const p = await freshPlace();
    const o = await officer(p.province, p.commune);
    expect(await o.send("/session_new")).toEqual([expect.stringContaining("/center_new")]);
  });

  it("rotating the QR makes a new token, sends the new code, and the old token is unknown", async () => {
    const p = await freshPlace();
    const o = await officer(p.province);
    const s = await session(o, await centre(p.province, p.commune, "TTHTCĐ xã Lũng Cú"), { startsAt: new Date(clock.now().getTime() + 10 * 60_000).toISOString() });

    const list = (await o.send("/sessions_admin")).join("\n");
    expect(list).toContain(`#${s.id} Kỹ năng số cho người cao tuổi`);
    await o.press(`#${s.id}`);
    await o.press("Mã QR");
    expect(photos(o.id)).toHaveLength(1);
    await o.press("Đổi mã (mã cũ hết hiệu lực)");
    await o.press("🔄 Đổi mã");
    const after = await h.db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } });
    expect(after.checkinToken).not.toBe(s.checkinToken);
    const shown = photos(o.id);
    expect(shown).toHaveLength(2);
    expect((shown[1]!.result as { caption: string }).caption).toContain(`start=ci_${after.checkinToken}`);

    const person = await citizen(p.province, p.commune, "Vàng Thị Mai");
    const signups = new SessionSignups(h.db.prisma, h.deps.deliveries, clock.now);
    expect((await signups.checkIn(person, s.checkinToken)).status).toBe("not_found");
    expect((await signups.checkIn(person, after.checkinToken)).status).toBe("checked_in");
  });

  it("edits seats and moves a session from the menu; cancelling twice is refused plainly; the attendance CSV arrives", async () => {
    const p = await freshPlace();
    const o = await officer(p.province, p.commune);
    const s = await session(o, await centre(p.province, p.commune, "TTHTCĐ xã Đồng Văn"), { capacity: 1 });
    const signups = new SessionSignups(h.db.prisma, h.deps.deliveries, clock.now);
    const lan = await citizen(p.province, p.commune, "Giàng Thị Lan");
    const binh = await citizen(p.province, p.commune, "Lò Văn Bình");
    await signups.join(lan, s.id);
    await signups.join(binh, s.id);

    await o.send("/sessions_admin");
    await o.press(`#${s.id}`);
    await o.press("Sửa");
    expect((await o.press("Số chỗ")).join("\n")).toMatch(/Hiện có 1 chỗ, 1 người đang giữ chỗ, 1 người chờ/);
    expect(await o.send("3")).toEqual(["✅ Số chỗ: 3", "✅ Đã lưu buổi học #" + s.id + " «Kỹ năng số cho người cao tuổi».\n👥 1 người trong danh sách chờ đã có chỗ và được báo."]);
    expect((await h.db.prisma.sessionSignup.findUniqueOrThrow({ where: { sessionId_userId: { sessionId: s.id, userId: BigInt(binh) } } })).status).toBe("confirmed");

    await o.send("/sessions_admin");
    await o.press(`#${s.id}`);
    await o.press("Dời giờ");
    await o.send(typedDate(6, "14:00"));
    expect((await o.press("✅ Dời giờ")).join("\n")).toMatch(/Đang báo giờ mới cho 2 người/);
    const moved = await h.db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } });
    expect(vnParts(moved.startsAt)).toMatchObject({ hour: 14, minute: 0 });
    expect(await h.db.prisma.delivery.count({ where: { kind: SESSION_NOTICE_KIND, refId: { startsWith: `sn.${s.id}.moved.` } } })).toBe(2);

    const csvReplies = await o.press("Điểm danh (CSV)");
    expect(csvReplies.join("\n")).toMatch(/2 người/);
    const doc = h.fake.lastDocument(o.id)!;
    const text = doc.content.toString("utf8");
    expect(text.startsWith("\uFEFFSố đăng ký,Họ và tên,Trạng thái")).toBe(true);
    expect(text).toContain("Giàng Thị Lan,Có chỗ");
    expect(text).toContain("Lò Văn Bình,Có chỗ");

    await o.send("/sessions_admin");
    await o.press(`#${s.id}`);
    expect((await o.press("Hủy buổi học")).join("\n")).toMatch(/2 người đăng ký hoặc đang chờ sẽ được báo/);
    expect((await o.press("❌ Hủy buổi học")).join("\n")).toMatch(/Đã hủy buổi học «Kỹ năng số cho người cao tuổi»\. Đang báo cho 2 người/);
    expect((await h.db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } })).state).toBe("cancelled");
    expect(await o.pressData(cb.sessionAdmin.pack(`cancelok.${s.id}`))).toEqual(["[answer] Buổi học này đã được hủy trước đó; không có gì thay đổi."]);
    expect(h.logged()).toEqual([]);
  });

  it("refuses forged buttons for another province's session, and residents altogether", async () => {
    const p = await freshPlace();
    const owner = await officer(p.province);
    const s = await session(owner, await centre(p.province, p.commune, "TTHTCĐ xã Bản Giốc"));
    const stranger = await officer(p.otherProvince);
    const neighbour = await officer(p.province, p.otherCommune);
    for (const u of [stranger, neighbour]) {
      for (const data of [
        cb.sessionAdmin.pack(`qr.${s.id}`), cb.sessionAdmin.pack(`rotateok.${s.id}`), cb.sessionAdmin.pack(`cancelok.${s.id}`),
        cb.sessionAdmin.pack(`csv.${s.id}`), cb.sessionAdmin.pack(`stats.${s.id}`), cb.sessionAdmin.pack(`move.${s.id}`), cb.sessionAdminEdit.pack(`capacity.${s.id}`),
      ]) {
        expect(await u.pressData(data)).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
      }
      expect(photos(u.id)).toEqual([]);
      expect(h.fake.lastDocument(u.id)).toBeUndefined();
    }
    // Inside /session_new, a forged centre button of another province is refused too.
    const elsewhere = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: p.otherProvince } });
    await centre(p.otherProvince, elsewhere.code, "TTHTCĐ của tỉnh kia");
    await stranger.send("/session_new");
    expect(await stranger.pressData(cb.snCenter.pack(String(s.centerId)))).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    await stranger.send("/cancel");
    expect(await h.db.prisma.learningSession.count({ where: { createdById: BigInt(stranger.id) } })).toBe(0);
    const resident = h.user(++nextId);
    h.fake.registerChat(resident.id);
    expect(await resident.pressData(cb.sessionAdmin.pack(`cancelok.${s.id}`))).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await resident.send("/session_new")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    const after = await h.db.prisma.learningSession.findUniqueOrThrow({ where: { id: s.id } });
    expect([after.state, after.checkinToken, after.capacity]).toEqual(["scheduled", s.checkinToken, s.capacity]);
  });
});
