import type { User } from "grammy/types";
import { beforeAll, describe, expect, it } from "vitest";
import { useHarness, type TestUser } from "../support/harness.js";
import type { NewUpdate } from "../support/telegram/index.js";
import { nextDate, nextMessageId } from "../support/telegram/sequence.js";

const ADMIN = 9_500_001;
const h = useHarness({ adminIds: [String(ADMIN)] });
const FORBIDDEN = "Bạn không có quyền thực hiện thao tác này.";
const OUT_OF_SCOPE = "Trung tâm này không thuộc địa bàn của bạn: bạn không thể sửa.";

let nextId = 9_500_100;

// The place lists load once per process; loaded here, the first test's updates do not wait for them
// while their Redis commands run against the 800 ms command timeout on a busy machine.
beforeAll(async () => {
  await h.deps.services.geo.listProvinces();
  await h.deps.services.geo.getCommune("00004");
});

/** A location shared in the chat (📎 → Location), as Telegram sends it. */
function locationMessage(from: User, latitude: number, longitude: number): NewUpdate {
  const chat = { id: from.id, type: "private" as const, first_name: from.first_name };
  return { message: { message_id: nextMessageId(from.id), date: nextDate(), chat, from, location: { latitude, longitude } } } as unknown as NewUpdate;
}
const shareLocation = (u: TestUser, lat: number, lon: number) => u.sendUpdate(locationMessage(u.tg, lat, lon));

async function officer(provinceCode: string, communeCode?: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: provinceCode, scopeCommuneCode: communeCode ?? null } });
  return h.user(id);
}
async function communes(provinceCode: string, take = 2) {
  return h.db.prisma.commune.findMany({ where: { provinceCode }, orderBy: { code: "asc" }, take });
}
async function otherProvince(than: string): Promise<string> {
  return (await h.db.prisma.province.findFirstOrThrow({ where: { code: { not: than } }, orderBy: { code: "desc" } })).code;
}
async function centre(communeCode: string, name: string): Promise<number> {
  const c = await h.db.prisma.commune.findUniqueOrThrow({ where: { code: communeCode } });
  return (await h.db.prisma.learningCenter.create({ data: { provinceCode: c.provinceCode, communeCode, name, address: "Thôn 1", lat: 21, lon: 105.5 } })).id;
}
const csv = (...lines: string[]) => lines.join("\r\n") + "\r\n";
const HEADER = "commune_code,name,address,lat,lon";

describe("/center_new", () => {
  it("creates a centre from a location shared in the chat: commune of the officer's province, name, address, summary, confirm", async () => {
    const [c1] = await communes("01");
    const o = await officer("01");
    const start = await o.send("/center_new");
    expect(start[0]).toBe("🏫 Thêm trung tâm học tập cộng đồng ở Thành phố Hà Nội. Gõ /cancel để dừng bất cứ lúc nào.");
    expect(start[1]).toMatch(/^🏫 Trung tâm ở đâu\? .*Thành phố Hà Nội/);
    await o.send(c1!.name);
    await o.press(`p:com:${c1!.code}`);
    expect(h.fake.lastText(o.id)).toContain("Tên trung tâm?");
    expect((await o.send("  Trung tâm HTCĐ   Vị-trí-chia-sẻ "))[0]).toBe("✅ Tên: Trung tâm HTCĐ Vị-trí-chia-sẻ");
    expect((await o.send("Thôn Đoài"))[0]).toBe("✅ Địa chỉ: Thôn Đoài");
    expect(h.fake.lastText(o.id)).toContain("📍 Vị trí của trung tâm");
    const located = await shareLocation(o, 21.02851, 105.85421);
    expect(located).toContain("✅ Vị trí: 21.02851, 105.85421");
    expect(located.at(-1)).toBe(`Kiểm tra lại trước khi lưu:\n\n🏫 Trung tâm HTCĐ Vị-trí-chia-sẻ\n🏘 ${c1!.type === "phường" ? "Phường" : "Xã"} ${c1!.name}, TP. Hà Nội\n📍 Thôn Đoài\n🌐 21.02851, 105.85421`);
    const done = await o.press("cen:yes");
    const row = await h.db.prisma.learningCenter.findFirstOrThrow({ where: { name: "Trung tâm HTCĐ Vị-trí-chia-sẻ" } });
    expect(done).toContain(`✅ Đã thêm trung tâm «Trung tâm HTCĐ Vị-trí-chia-sẻ» (số ${row.id}). Xem và sửa: /centers`);
    expect([row.communeCode, row.provinceCode, row.address, row.lat, row.lon, row.createdById]).toEqual([c1!.code, "01", "Thôn Đoài", 21.02851, 105.85421, BigInt(o.id)]);
  });

  it("takes typed coordinates after refusing a location outside Vietnam, unreadable text and swapped numbers; a commune officer is not asked the commune", async () => {
    const [, c2] = await communes("01");
    const o = await officer("01", c2!.code);
    const start = await o.send("/center_new");
    expect(start[1]).toContain(`Trung tâm thuộc ${c2!.type === "phường" ? "Phường" : "Xã"} ${c2!.name}`);
    expect(start.at(-1)).toContain("Tên trung tâm?");
    await o.send("TTHTCĐ Tọa-độ-gõ");
    await o.send("Số 2 đường Làng");
    expect(await shareLocation(o, 48.8566, 2.3522)).toEqual(["Vị trí 48.8566, 2.3522 nằm ngoài lãnh thổ Việt Nam nên không nhận. Hãy gửi vị trí của trung tâm."]);
    expect((await o.send("gần chợ"))[0]).toMatch(/^Tôi chưa đọc được tọa độ/);
    expect((await o.send("105.8542, 21.0285"))[0]).toMatch(/^Có vẻ vĩ độ và kinh độ bị đảo ngược/);
    const typed = await o.send("https://www.google.com/maps/place/UBND/@21.0301,105.8467,17z");
    expect(typed[0]).toBe("✅ Vị trí: 21.0301, 105.8467");
    await o.press("cen:yes");
    const row = await h.db.prisma.learningCenter.findFirstOrThrow({ where: { name: "TTHTCĐ Tọa-độ-gõ" } });
    expect([row.communeCode, row.lat, row.lon]).toEqual([c2!.code, 21.0301, 105.8467]);
    expect(await h.db.prisma.learningCenter.count({ where: { lat: 48.8566 } })).toBe(0);
  });

  it("says a centre of the same name exists in the commune and asks the name again", async () => {
    const [c1] = await communes("01");
    const o = await officer("01", c1!.code);
    const existing = await centre(c1!.code, "TTHTCĐ Đã-có");
    await o.send("/center_new");
    await o.send("TTHTCĐ Đã-có");
    await o.send("Thôn");
    await o.send("21.03, 105.85");
    const refused = await o.press("cen:yes");
    expect(refused[0]).toContain(`đã có trung tâm tên «TTHTCĐ Đã-có» (số ${existing})`);
    expect(refused.at(-1)).toContain("Tên trung tâm?");
    await o.send("TTHTCĐ Đã-có 2");
    await o.send("Thôn");
    await o.send("21.03, 105.85");
    expect((await o.press("cen:yes")).at(-1)).toContain("✅ Đã thêm trung tâm «TTHTCĐ Đã-có 2»");
    expect(await h.db.prisma.learningCenter.count({ where: { communeCode: c1!.code, name: { startsWith: "TTHTCĐ Đã-có" } } })).toBe(2);
  });
});

describe("role and scope", () => {
  it("refuses residents on every command, caption and button", async () => {
    const [c1] = await communes("01");
    const id = await centre(c1!.code, "TTHTCĐ Người-dân");
    const u = h.user(++nextId);
    expect(await u.send("/centers")).toEqual([FORBIDDEN]);
    expect(await u.send("/center_new")).toEqual([FORBIDDEN]);
    expect(await u.send("/importcenters")).toEqual([FORBIDDEN]);
    expect(await u.sendDocument(csv(HEADER, `${c1!.code},TTHTCĐ Người-dân-2,Thôn,21,105.5`), "c.csv", { caption: "/importcenters" })).toEqual([FORBIDDEN]);
    expect(await u.pressData(`ce:e.${id}`)).toEqual([`[answer] ${FORBIDDEN}`]);
    expect(await u.pressData(`ce:f.${id}.name`)).toEqual([`[answer] ${FORBIDDEN}`]);
    expect(await u.pressData("ce:p.0")).toEqual([`[answer] ${FORBIDDEN}`]);
    expect(await h.db.prisma.learningCenter.findMany({ where: { name: { startsWith: "TTHTCĐ Người-dân" } }, select: { name: true } })).toEqual([{ name: "TTHTCĐ Người-dân" }]);
  });

  it("does not show or let an officer of another province edit a centre, even with forged buttons", async () => {
    const [c1] = await communes("01");
    const id = await centre(c1!.code, "TTHTCĐ Tỉnh-khác");
    const o = await officer(await otherProvince("01"));
    expect((await o.send("/centers")).join("\n")).not.toContain("TTHTCĐ Tỉnh-khác");
    expect(await o.pressData(`ce:e.${id}`)).toEqual([`[answer] ${OUT_OF_SCOPE}`]);
    expect(await o.pressData(`ce:f.${id}.name`)).toEqual([`[answer] ${OUT_OF_SCOPE}`]);
    // No edit was started: the next text is not taken as the centre's new name.
    expect(await o.send("Tên chiếm quyền")).not.toContain("✅ Đã lưu thay đổi.");
    expect((await h.db.prisma.learningCenter.findUniqueOrThrow({ where: { id } })).name).toBe("TTHTCĐ Tỉnh-khác");
    expect(h.logged(40).some((l) => l.msg === "refused a centre outside the officer's scope")).toBe(true);
    // A commune officer of the same province is refused a neighbour commune's centre too.
    const [, c2] = await communes("01");
    const neighbour = await officer("01", c2!.code);
    expect(await neighbour.pressData(`ce:f.${id}.address`)).toEqual([`[answer] ${OUT_OF_SCOPE}`]);
  });

  it("re-checks the scope when the edit is saved: an officer moved to another province meanwhile saves nothing", async () => {
    const [c1] = await communes("01");
    const id = await centre(c1!.code, "TTHTCĐ Đổi-địa-bàn");
    const o = await officer("01");
    await o.pressData(`ce:f.${id}.address`);
    expect(h.fake.lastText(o.id)).toContain("Địa chỉ mới?");
    await h.db.prisma.user.update({ where: { id: BigInt(o.id) }, data: { scopeProvinceCode: await otherProvince("01") } });
    expect(await o.send("Địa chỉ chiếm quyền")).toContain(OUT_OF_SCOPE);
    expect((await h.db.prisma.learningCenter.findUniqueOrThrow({ where: { id } })).address).toBe("Thôn 1");
  });
});

describe("/centers", () => {
  it("lists the officer's centres a page at a time and edits a field from the card", async () => {
    const province = await otherProvince("01");
    const [c1] = await communes(province);
    const o = await officer(province, c1!.code);
    for (let i = 0; i < 9; i++) await centre(c1!.code, `TTHTCĐ Trang-${i}`);
    const list = await o.send("/centers");
    expect(list[0]).toMatch(/^🏫 Trung tâm học tập cộng đồng – .+: 9 trung tâm \(trang 1\/2\)/);
    expect(list[0]).toContain("1. TTHTCĐ Trang-0 – ");
    expect(list[0]).not.toContain("TTHTCĐ Trang-8");
    expect(o.buttons()).toEqual(["✏️ 1", "✏️ 2", "✏️ 3", "✏️ 4", "✏️ 5", "✏️ 6", "✏️ 7", "✏️ 8", "Trang sau ▶️"]);
    const page2 = await o.press("Trang sau ▶️");
    expect(page2[0]).toContain("(trang 2/2)");
    expect(page2[0]).toContain("9. TTHTCĐ Trang-8");
    const card = await o.press("✏️ 9");
    expect(card[0]).toMatch(/^🏫 TTHTCĐ Trang-8\n🏘 .+\n📍 Thôn 1\n🌐 21, 105.5\n\nChọn mục cần sửa:$/);
    expect(await o.press("✏️ Tên")).toEqual(["Tên mới của trung tâm? (hiện tại: TTHTCĐ Trang-8; tối đa 120 ký tự)"]);
    const saved = await o.send("TTHTCĐ Trang-8 (đã sửa)");
    expect(saved.at(-1)).toMatch(/^✅ Đã lưu thay đổi\.\n\n🏫 TTHTCĐ Trang-8 \(đã sửa\)\n/);
    await o.press("✏️ Vị trí");
    expect(await shareLocation(o, 35.68, 139.69)).toEqual(["Vị trí 35.68, 139.69 nằm ngoài lãnh thổ Việt Nam nên không nhận. Hãy gửi vị trí của trung tâm."]);
    await shareLocation(o, 22.1, 105.3);
    const row = await h.db.prisma.learningCenter.findFirstOrThrow({ where: { communeCode: c1!.code, name: "TTHTCĐ Trang-8 (đã sửa)" } });
    expect([row.lat, row.lon]).toEqual([22.1, 105.3]);
  });
});

describe("/importcenters", () => {
  it("explains the format with a template that imports as is; the same file twice changes nothing", async () => {
    const province = await otherProvince("01");
    const [c1, c2] = await communes(province);
    const o = await officer(province);
    const how = await o.send("/importcenters");
    expect(how[0]).toContain("📥 Nhập trung tâm học tập cộng đồng từ tệp CSV");
    const template = h.fake.lastDocument(o.id)!;
    expect(template.file_name).toBe("learning-centres-template.csv");
    expect(template.content.toString("utf8")).toContain(`commune_code,province,commune,name,address,lat,lon\r\n${c1!.code},`);
    expect(await o.sendDocument(template.content, "mau.csv")).toEqual(["✅ Đã nhập trung tâm học tập: 1 mới, 0 cập nhật, 0 không đổi. Xem: /centers"]);

    const file = csv(HEADER, `${c1!.code},TTHTCĐ Tệp-1,Thôn 1,21.5,105.5`, `${c2!.code},TTHTCĐ Tệp-2,Thôn 2,21.6,105.6`);
    expect(await o.sendDocument(file, "trung-tam.csv", { mimeType: "application/vnd.ms-excel" })).toEqual(["✅ Đã nhập trung tâm học tập: 2 mới, 0 cập nhật, 0 không đổi. Xem: /centers"]);
    expect(await o.sendDocument(file, "trung-tam (1).csv")).toEqual(["✅ Đã nhập trung tâm học tập: 0 mới, 0 cập nhật, 2 không đổi. Xem: /centers"]);
    expect(await h.db.prisma.learningCenter.count({ where: { name: { startsWith: "TTHTCĐ Tệp-" } } })).toBe(2);
  });

  it("answers a missing column, a wrong encoding, bad coordinates and a commune outside the scope, writing nothing", async () => {
    const [c1] = await communes("01");
    const outside = (await communes(await otherProvince("01"), 1))[0]!;
    const o = await officer("01");
    // With the caption: no /importcenters needed first.
    const missing = await o.sendDocument(csv("commune_code,name,lat,lon", `${c1!.code},TTHTCĐ Lỗi-1,21,105.5`), "c.csv", { caption: "/importcenters" });
    expect(missing).toEqual(["❌ Dòng tiêu đề không khớp với tệp mẫu. Chưa nhập trung tâm nào.\nThiếu cột: «address»\nGửi /importcenters để nhận tệp mẫu."]);
    await o.send("/importcenters");
    const cp1258 = Buffer.from(csv(HEADER, `${c1!.code},Trung tâm Lỗi-2,Thôn,21,105.5`), "utf8").toString("utf8").replace("â", "\u00e2");
    expect((await o.sendDocument(Buffer.from(cp1258, "latin1"), "c.csv"))[0]).toMatch(/^❌ Tệp không ở dạng UTF-8 \(có lẽ Windows-1258, TCVN3 hay VNI/);
    expect((await o.sendDocument(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv(HEADER), "utf16le")]), "c.csv"))[0]).toMatch(/^❌ Tệp ở dạng UTF-16/);
    const rows = await o.sendDocument(csv(HEADER, `${c1!.code},TTHTCĐ Lỗi-3,Thôn,21,105.5`, `${c1!.code},TTHTCĐ Lỗi-4,Thôn,21;5,105.5`, `${c1!.code},TTHTCĐ Lỗi-5,Thôn,1.3,103.8`, `${outside.code},TTHTCĐ Lỗi-6,Thôn,21,105.5`), "c.csv");
    expect(rows).toEqual([
      "❌ Chưa nhập trung tâm nào: có 3 lỗi ở 3 dòng. Hãy sửa rồi gửi lại cả tệp.\n\n" +
        "• Dòng 3, lat: không phải số (ví dụ 21.0285)\n" +
        "• Dòng 4, lat: nằm ngoài lãnh thổ Việt Nam\n" +
        "• Dòng 5, commune_code: không thuộc địa bàn của bạn",
    ]);
    expect(await o.sendDocument("%PDF-1.4", "c.pdf")).toEqual(["«c.pdf» không phải tệp CSV. Trong Excel: Tệp → Lưu thành → CSV UTF-8, rồi gửi tệp đó."]);
    expect(await h.db.prisma.learningCenter.count({ where: { name: { contains: "Lỗi-" } } })).toBe(0);
  });

  it("sends a long list of problems as a CSV file too", async () => {
    const [c1] = await communes("01");
    const o = await officer("01");
    const lines = Array.from({ length: 25 }, (_, i) => `${c1!.code},TTHTCĐ Nhiều-${i},Thôn,,105.5`);
    const reply = await o.sendDocument(csv(HEADER, ...lines), "c.csv", { caption: "/importcenters" });
    expect(reply[0]).toContain("có 25 lỗi ở 25 dòng");
    expect(reply[0]).toContain("…và 5 lỗi khác: xem danh sách đính kèm.");
    const list = h.fake.lastDocument(o.id)!;
    expect(list.file_name).toBe("learning-centres-problems.csv");
    expect(list.content.toString("utf8")).toContain("26,lat,đang trống nhưng bắt buộc");
    expect(await h.db.prisma.learningCenter.count({ where: { name: { startsWith: "TTHTCĐ Nhiều-" } } })).toBe(0);
  });

  it("leaves a file to the quiz import when /quizimport came last", async () => {
    const o = await officer("01");
    await o.send("/importcenters");
    await o.send("/quizimport");
    const reply = await o.sendDocument(csv(HEADER, "00004,TTHTCĐ Câu-hỏi,Thôn,21,105.5"), "c.csv");
    expect(reply[0]).toContain("Dòng tiêu đề không khớp với tệp mẫu");
    expect(reply[0]).toContain("/quizimport");
  });
});
