import { beforeAll, describe, expect, it } from "vitest";
import type { UnitInput } from "../../src/domain/units/units.js";
import { register } from "../support/flows.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { UploadedFile } from "../support/telegram/params.js";

const h = useHarness();
const FORBIDDEN = "Bạn không có quyền thực hiện thao tác này.";
const OUT_OF_SCOPE = "Đơn vị này không thuộc địa bàn của bạn.";
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let nextId = 9_700_000;
let nextProvince = 3;

// The place lists load once per process: loaded here, the first test's updates do not wait for them.
beforeAll(async () => {
  await h.deps.services.geo.listProvinces();
  await h.deps.services.geo.getCommune("00004");
});

/** A province of its own per test (lists count the whole scope), two of its communes and a commune elsewhere. */
async function place() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const [c1, c2] = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  const elsewhere = await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode: { not: p.code } }, orderBy: { code: "desc" } });
  return { province: p, c1: c1!, c2: c2!, elsewhere };
}
async function officer(provinceCode: string, communeCode?: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: provinceCode, scopeCommuneCode: communeCode ?? null } });
  return h.user(id);
}
async function unit(o: TestUser, input: UnitInput) {
  const r = await h.deps.services.units.create({ ...(await h.deps.services.users.access(String(o.id))), id: String(o.id) }, input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.unit;
}
/** A person who joined through the service (registered: with a learning card too). */
async function member(token: string, name: string, registered: boolean): Promise<TestUser> {
  const id = ++nextId;
  if (registered) {
    await h.db.prisma.user.create({ data: { id: BigInt(id) } });
    await h.db.prisma.learningCitizen.create({
      data: { userId: BigInt(id), registrationNumber: `BU-${id}`, fullName: name, birthYear: 1995, provinceCode: "01", communeCode: "00004", affiliation: "border_guard", goals: [], registeredAt: new Date() },
    });
  }
  const r = await h.deps.services.units.join(String(id), token, name);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return h.user(id, { first_name: name });
}
const label = (c: { type: string; name: string }) => `${c.type === "phường" ? "Phường" : c.type === "đặc khu" ? "Đặc khu" : "Xã"} ${c.name}`;

function photos(chat: number) {
  return h.fake.sent(chat).filter((c) => c.method === "sendPhoto");
}

describe("/unit_new", () => {
  it("creates a unit through the conversation: commune, name, kind, parent, a bad headcount re-asked, Back, summary", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const command = await unit(o, { communeCode: p.c1.code, name: "Bộ Chỉ huy Bộ đội Biên phòng tỉnh", kind: "military_unit", headcount: 200 });
    const start = await o.send("/unit_new");
    expect(start[0]).toMatch(/^🏢 Thêm đơn vị ở /);
    expect(start[1]).toMatch(/^🏢 Đơn vị ở đâu\?/);
    await o.send(p.c2.name);
    await o.press(`p:com:${p.c2.code}`);
    expect(h.fake.lastText(o.id)).toContain("Tên đơn vị?");
    // Back from the name goes to the commune (the first step).
    await o.press("Quay lại");
    expect(h.fake.lastText(o.id)).toMatch(/Đơn vị ở đâu\?/);
    await o.send(p.c2.name);
    await o.press(`p:com:${p.c2.code}`);
    expect(await o.send("x")).toEqual(["Tên đơn vị dài 2–120 ký tự. Gõ lại tên."]);
    expect((await o.send("  Đồn Biên phòng   Cửa khẩu "))[0]).toBe("✅ Tên đơn vị: Đồn Biên phòng Cửa khẩu");
    expect(o.buttons()).toEqual(["🪖 Đơn vị quân đội", "👮 Đơn vị công an", "🛂 Đồn biên phòng", "🏫 Trường học", "🏛 Cơ quan", "🏭 Doanh nghiệp", "🏘 Thôn, tổ dân phố", "↩️ Quay lại"]);
    expect((await o.press("Đồn biên phòng"))[0]).toBe("✅ Loại đơn vị: 🛂 Đồn biên phòng");
    expect(h.fake.lastText(o.id)).toContain("trực thuộc đơn vị nào? (1 đơn vị trong địa bàn · trang 1/1)");
    expect(o.buttons()).toEqual(["Bộ Chỉ huy Bộ đội Biên phòng tỉnh", "➖ Không trực thuộc", "↩️ Quay lại"]);
    // A forged parent id (another province's unit, not offered) is refused, its name not shown, the question stays.
    const foreign = await h.deps.services.units.create({ role: "admin", scope: {}, id: String(++nextId) }, { communeCode: p.elsewhere.code, name: "Đơn vị tỉnh khác", kind: "agency", headcount: 5 });
    expect(await o.pressData(`unp:${foreign.ok ? foreign.unit.id : 0}`)).toEqual(["Lựa chọn không hợp lệ. Vui lòng chọn lại."]);
    expect((await o.press("Bộ Chỉ huy Bộ đội Biên phòng tỉnh"))[0]).toBe("✅ Đơn vị cấp trên: Bộ Chỉ huy Bộ đội Biên phòng tỉnh");
    expect(await o.send("không biết")).toEqual(["Quân số là một số nguyên từ 1 đến 1.000.000. Gõ lại, ví dụ 120."]);
    expect(await o.send("0")).toEqual(["Quân số là một số nguyên từ 1 đến 1.000.000. Gõ lại, ví dụ 120."]);
    expect((await o.send("1.200 người"))[0]).toBe("✅ Quân số: 1.200");
    const summary = h.fake.lastText(o.id)!;
    expect(summary).toBe(`Kiểm tra lại trước khi lưu:\n\n🏢 Đồn Biên phòng Cửa khẩu\n🛂 Đồn biên phòng · khối Bộ đội Biên phòng\n📍 ${label(p.c2)}, ${p.province.name.replace(/^Thành phố /, "TP. ")}\n⬆️ Trực thuộc: Bộ Chỉ huy Bộ đội Biên phòng tỉnh\n👥 Quân số: 1.200 người`);
    // Back from the summary asks the headcount again.
    await o.press("Quay lại");
    expect(h.fake.lastText(o.id)).toContain("Quân số của đơn vị");
    await o.send("1200");
    const done = await o.press("unc:yes");
    const row = await h.db.prisma.unit.findFirstOrThrow({ where: { name: "Đồn Biên phòng Cửa khẩu", communeCode: p.c2.code } });
    expect(done).toContain(`✅ Đã thêm đơn vị «Đồn Biên phòng Cửa khẩu» (số ${row.id}). Gửi đường dẫn hoặc mã QR để mọi người tham gia; xem tất cả: /units`);
    expect(row).toMatchObject({ kind: "border_post", body: "border_guard", provinceCode: p.province.code, parentId: command.id, headcount: 1200, createdById: BigInt(o.id) });
    expect(h.logged()).toEqual([]);
  });

  it("asks the name again for a duplicate in the commune; a commune officer is not asked the commune; residents are refused", async () => {
    const p = await place();
    const o = await officer(p.province.code, p.c1.code);
    const existing = await unit(o, { communeCode: p.c1.code, name: "Trường THCS Thống Nhất", kind: "school", headcount: 300 });
    const start = await o.send("/unit_new");
    expect(start[1]).toBe(`Đơn vị thuộc ${label(p.c1)}, ${p.province.name.replace(/^Thành phố /, "TP. ")}.`);
    expect(start.at(-1)).toContain("Tên đơn vị?");
    expect(o.buttons()).toEqual([]);
    await o.send("truong thcs thong nhat");
    await o.press("Trường học");
    // The scope's only unit is offered as a parent; none is chosen.
    await o.press("Không trực thuộc");
    await o.send("250");
    const refused = await o.press("unc:yes");
    expect(refused).toContain(`❌ Chưa lưu được đơn vị:\nXã/phường này đã có đơn vị tên «Trường THCS Thống Nhất» (số ${existing.id}). Hãy đặt tên khác, hoặc mở đơn vị đó trong /units.`);
    expect(refused.at(-1)).toContain("Tên đơn vị?");
    await o.send("Trường THCS Thống Nhất 2");
    await o.press("Trường học");
    await o.press("Không trực thuộc");
    await o.send("250");
    expect((await o.press("unc:yes")).join("\n")).toContain("✅ Đã thêm đơn vị «Trường THCS Thống Nhất 2»");
    expect(await h.db.prisma.unit.count({ where: { communeCode: p.c1.code, name: { startsWith: "Trường THCS Thống Nhất" } } })).toBe(2);

    const resident = h.user(++nextId);
    expect(await resident.send("/unit_new")).toEqual([FORBIDDEN]);
    expect(await resident.send("/units")).toEqual([FORBIDDEN]);
  });
});

describe("/units and a unit's card", () => {
  it("lists units in tree order with counts, opens a card, edits the headcount (refused below the registered), sends the QR poster as a PNG", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const command = await unit(o, { communeCode: p.c1.code, name: "Bộ Chỉ huy Quân sự tỉnh", kind: "military_unit", headcount: 10 });
    const post = await unit(o, { communeCode: p.c2.code, name: "Ban Chỉ huy Quân sự xã", kind: "military_unit", headcount: 8, parentId: command.id });
    const head = await member(post.joinToken, "Lò Văn Thủ", true);
    await member(post.joinToken, "Hà Văn Hai", true);
    await member(post.joinToken, "Vàng A Páo", false);
    await h.deps.services.units.addHead({ ...(await h.deps.services.users.access(String(o.id))), id: String(o.id) }, post.id, String(head.id));

    const list = (await o.send("/units")).join("\n");
    expect(list).toContain(": 2 đơn vị (trang 1/1)");
    expect(list).toContain("1. <b>Bộ Chỉ huy Quân sự tỉnh</b>".replace(/<\/?b>/g, ""));
    expect(list).toContain("2. ↳ Ban Chỉ huy Quân sự xã · 🪖 Đơn vị quân đội\n      Đã đăng ký 2/8 (25%) · 3 đã tham gia");
    expect(o.buttons()).toEqual(["🏢 1", "🏢 2"]);
    const card = (await o.press("🏢 2")).join("\n");
    expect(card).toContain("🏢 Ban Chỉ huy Quân sự xã (số");
    expect(card).toContain("⬆️ Trực thuộc: Bộ Chỉ huy Quân sự tỉnh");
    expect(card).toContain("🙋 Đã tham gia: 3 · Đã đăng ký Công dân học tập: 2 (25% quân số)");
    expect(card).toContain("👤 Người phụ trách: Lò Văn Thủ");
    expect(card).toContain("🎓 Đơn vị học tập: chưa đăng ký");
    expect(o.buttons()).toEqual(["✏️ Sửa", "🔳 Đường dẫn và mã QR", "🔄 Đường dẫn mới", "👤 Người phụ trách", "🙋 Thành viên", "🗑 Xóa đơn vị", "📋 Danh sách"]);

    // Edit the headcount: below the 2 registered is refused, then 2 is fine.
    await o.press("✏️ Sửa");
    await o.press("✏️ Quân số");
    expect(h.fake.lastText(o.id)).toBe("Quân số mới? (hiện tại: 8 người)");
    expect((await o.send("1")).join("\n")).toContain("Đơn vị đã có 2 người đăng ký Công dân học tập, nên quân số không thể ít hơn 2 (bạn nhập 1).");
    expect((await h.db.prisma.unit.findUniqueOrThrow({ where: { id: post.id } })).headcount).toBe(8);
    await o.pressData(`un:f.${post.id}.headcount`);
    const saved = (await o.send("2")).join("\n");
    expect(saved).toContain("✅ Đã lưu thay đổi.");
    expect(saved).toContain("(100% quân số)");

    // The members screen: counts for the officer, not the names.
    const members = (await o.pressData(`un:m.${post.id}`)).join("\n");
    expect(members).toContain("⏳ Đã tham gia nhưng chưa đăng ký: 1");
    expect(members).toContain("🔒 Tên người chưa đăng ký chỉ người phụ trách đơn vị xem được");
    expect(members).not.toContain("Vàng A Páo");

    // The tree from the command: counts rolled up.
    const tree = (await o.pressData(`un:t.${command.id}`)).join("\n");
    expect(tree).toContain("Bộ Chỉ huy Quân sự tỉnh: đã đăng ký 2/12 (16,7%) · 3 đã tham gia");
    expect(tree).toContain("↳ Ban Chỉ huy Quân sự xã: đã đăng ký 2/2 (100%) · 3 đã tham gia");

    // The QR poster: a PNG with the unit's name and link in the caption.
    await o.pressData(`un:q.${post.id}`);
    const [photo] = photos(o.id);
    const ref = String(photo!.payload.photo);
    const file = (ref.startsWith("attach://") ? photo!.payload[ref.slice("attach://".length)] : photo!.payload.photo) as UploadedFile;
    expect(file).toBeInstanceOf(UploadedFile);
    expect(file.content.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const caption = (photo!.result as { caption: string }).caption;
    expect(caption).toContain("Ban Chỉ huy Quân sự xã");
    expect(caption).toContain(`https://t.me/${h.fake.botInfo.username}?start=u_${post.joinToken}`);
    expect(h.logged()).toEqual([]);
  });

  it("a new link stops the old one; delete asks first and then its link refuses", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const u = await unit(o, { communeCode: p.c1.code, name: "Công an xã Đổi Đường Dẫn", kind: "police_unit", headcount: 30 });
    expect((await o.pressData(`un:r.${u.id}`)).join("\n")).toContain("Tạo đường dẫn mới cho «Công an xã Đổi Đường Dẫn»?");
    const rotated = await o.press("🔄 Tạo đường dẫn mới");
    expect(rotated).toContain("✅ Đã tạo đường dẫn mới. Mã QR mới ở dưới; đường dẫn cũ không còn dùng được.");
    const fresh = (await h.db.prisma.unit.findUniqueOrThrow({ where: { id: u.id } })).joinToken;
    expect(fresh).not.toBe(u.joinToken);
    const person = h.user(++nextId);
    expect(await person.send(`/start u_${u.joinToken}`)).toEqual(["Đường dẫn này không còn dùng được (đơn vị có thể đã đổi đường dẫn mới). Hãy xin người phụ trách đơn vị đường dẫn hoặc mã QR mới."]);

    expect((await o.pressData(`un:d.${u.id}`)).join("\n")).toContain("Xóa đơn vị «Công an xã Đổi Đường Dẫn»?");
    expect(await o.press("🗑 Xóa đơn vị")).toContain("✅ Đã xóa đơn vị «Công an xã Đổi Đường Dẫn».");
    expect(await person.send(`/start u_${fresh}`)).toEqual(["Đơn vị «Công an xã Đổi Đường Dẫn» đã bị xóa nên không nhận thêm thành viên."]);
    expect((await o.send("/units")).join("\n")).not.toContain("Công an xã Đổi Đường Dẫn");
    expect(await o.pressData(`un:v.${u.id}`)).toEqual(["[answer] Không tìm thấy đơn vị này (có thể đã bị xóa)."]);
  });

  it("refuses forged unit ids of another province and head-only actions to officers, changing nothing", async () => {
    const p = await place();
    const owner = await officer(p.province.code);
    const u = await unit(owner, { communeCode: p.c1.code, name: "Trường Tiểu học Giả Mạo", kind: "school", headcount: 100 });
    const m = await member(u.joinToken, "Mùa A Sinh", false);
    const other = await officer(p.elsewhere.provinceCode);
    for (const data of [`un:v.${u.id}`, `un:e.${u.id}`, `un:f.${u.id}.name`, `un:q.${u.id}`, `un:ro.${u.id}`, `un:do.${u.id}`, `un:hp.${u.id}.${m.id}`, `un:mo.${u.id}.${m.id}`, `un:t.${u.id}`]) {
      expect(await other.pressData(data), data).toEqual([`[answer] ${OUT_OF_SCOPE}`]);
    }
    // A neighbour commune's officer of the same province is refused too.
    const neighbour = await officer(p.province.code, p.c2.code);
    expect(await neighbour.pressData(`un:do.${u.id}`)).toEqual([`[answer] ${OUT_OF_SCOPE}`]);
    // Residents: refused outright; malformed data is refused before anything runs.
    const resident = h.user(++nextId);
    expect(await resident.pressData(`un:ro.${u.id}`)).toEqual([`[answer] ${FORBIDDEN}`]);
    expect(await resident.pressData("un:v.abc")).toEqual(["[answer] Nút không hợp lệ."]);
    // The owner officer is not a head: the unregistered names stay with the heads.
    expect(await owner.pressData(`un:ml.${u.id}.0`)).toEqual(["[answer] Chỉ người phụ trách đơn vị xem được danh sách này."]);
    const row = await h.db.prisma.unit.findUniqueOrThrow({ where: { id: u.id } });
    expect([row.name, row.joinToken, row.deletedAt]).toEqual(["Trường Tiểu học Giả Mạo", u.joinToken, null]);
    expect(await h.db.prisma.unitMember.count({ where: { unitId: u.id } })).toBe(1);
    expect(h.logged(40).some((l) => l.msg === "refused a unit outside the officer's scope")).toBe(true);
  });
});

describe("heads", () => {
  it("an officer appoints heads among members; a head sees the unregistered names, removes a member, and cannot remove the first head", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const u = await unit(o, { communeCode: p.c1.code, name: "Đồn Biên phòng Thủ Trưởng", kind: "border_post", headcount: 50 });
    const first = await member(u.joinToken, "Thào Văn Một", true);
    const second = await member(u.joinToken, "Sùng Văn Hai", true);
    const plain = await member(u.joinToken, "Giàng Thị Ba", false);
    await member(u.joinToken, "Lầu A Bốn", false);

    await o.pressData(`un:h.${u.id}`);
    expect(h.fake.lastText(o.id)).toContain("👤 Người phụ trách đơn vị «Đồn Biên phòng Thủ Trưởng» (0/5)");
    await o.press("➕ Thêm người phụ trách");
    expect(o.buttons()).toEqual(["Giàng Thị Ba", "Lầu A Bốn", "Sùng Văn Hai", "Thào Văn Một", "↩️ Quay lại"]);
    expect(await o.press("Thào Văn Một")).toContain("[answer] ✅ Thào Văn Một là người phụ trách đơn vị.");
    await o.press("➕ Thêm người phụ trách");
    await o.press("Sùng Văn Hai");
    expect(h.fake.lastText(o.id)).toContain("(2/5)\n• Thào Văn Một\n• Sùng Văn Hai");

    // The second head: /myunits → manage → members: the names of those not registered.
    await second.send("/myunits");
    expect(second.buttons()).toEqual(["🏢 Quản lý 1", "🚪 Rời 1", "👤 Chưa đăng ký · 1", "🎗 Tôi là hội viên Hội Khuyến học"]);
    await second.press("Quản lý 1");
    const members = (await second.press("🙋 Thành viên")).join("\n");
    expect(members).toContain("⏳ Chưa đăng ký Công dân học tập (2 người, tên Telegram):\n• Giàng Thị Ba\n• Lầu A Bốn");
    await second.press("📋 Danh sách thành viên");
    expect(h.fake.lastText(second.id)).toContain("1. Sùng Văn Hai (người phụ trách)\n2. Thào Văn Một (người phụ trách)\n3. Giàng Thị Ba – chưa đăng ký\n4. Lầu A Bốn – chưa đăng ký");
    // Only plain members get a remove button.
    expect(second.buttons()).toEqual(["✖️ 3", "✖️ 4", "↩️ Quay lại"]);
    await second.press("✖️ 3");
    expect(await second.press("✖️ Xóa khỏi đơn vị")).toContain("✅ Đã xóa Giàng Thị Ba khỏi đơn vị.");
    expect(await h.db.prisma.unitMember.count({ where: { unitId: u.id, userId: BigInt(plain.id) } })).toBe(0);

    // A second head removing the first: refused, however the button is forged.
    const refusal = "[answer] Người phụ trách không thể cho một người phụ trách khác thôi việc hay xóa họ khỏi đơn vị. Việc này do cán bộ quản lý địa bàn làm.";
    expect(await second.pressData(`un:mo.${u.id}.${first.id}`)).toEqual([refusal]);
    expect(await second.pressData(`un:hr.${u.id}.${first.id}`)).toEqual([refusal]);
    // …and officers' actions are not a head's.
    expect(await second.pressData(`un:hp.${u.id}.${plain.id}`)).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await second.pressData(`un:do.${u.id}`)).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await h.db.prisma.unitMember.findUniqueOrThrow({ where: { unitId_userId: { unitId: u.id, userId: BigInt(first.id) } } })).toMatchObject({ role: "head" });
    expect(await h.db.prisma.unit.count({ where: { id: u.id, deletedAt: null } })).toBe(1);
    // The officer may take a head's role back.
    await o.pressData(`un:h.${u.id}`);
    expect(await o.press("✖️ Thào Văn Một")).toContain("[answer] ✅ Thào Văn Một thôi phụ trách đơn vị.");
    expect(h.logged(40).some((l) => l.msg === "refused a unit head removing another head")).toBe(true);
  });
});

describe("joining", () => {
  it("a registered person joins by the deep link after the consent line; a second open says they are in already", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const u = await unit(o, { communeCode: p.c1.code, name: "Đồn Biên phòng Lũng Cú <Hà Giang>", kind: "border_post", headcount: 60 });
    const person = h.user(++nextId, { first_name: "Mai", last_name: "Lò" });
    await register(person);
    const asked = await person.send(`/start u_${u.joinToken}`);
    expect(asked).toEqual([
      `🏢 Tham gia đơn vị Đồn Biên phòng Lũng Cú <Hà Giang> (${label(p.c1)}, ${p.province.name.replace(/^Thành phố /, "TP. ")})?\n\n🔒 Nếu bạn đồng ý, bot lưu việc bạn là thành viên của đơn vị và tên Telegram của bạn (Mai Lò); người phụ trách đơn vị sẽ thấy. Rời đơn vị: /myunits · xóa hết dữ liệu của bạn: /deleteme.`,
    ]);
    expect(await h.db.prisma.unitMember.count({ where: { unitId: u.id } })).toBe(0);
    expect(await person.press("✅ Tham gia")).toEqual(["✅ Bạn đã tham gia đơn vị «Đồn Biên phòng Lũng Cú <Hà Giang>». Xem các đơn vị của bạn: /myunits"]);
    expect(await h.db.prisma.unitMember.findMany({ where: { unitId: u.id }, select: { userId: true, displayName: true, role: true } })).toEqual([{ userId: BigInt(person.id), displayName: "Mai Lò", role: "member" }]);
    expect(await person.send(`/start u_${u.joinToken}`)).toEqual(["Bạn đã là thành viên của đơn vị «Đồn Biên phòng Lũng Cú <Hà Giang>»."]);
    expect(person.buttons()).toEqual([]);
  });

  it("an unregistered person who joins is offered registration; declining the join stores nothing", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const u = await unit(o, { communeCode: p.c1.code, name: "Thôn Nà Pục", kind: "residential_group", headcount: 200 });
    const decliner = h.user(++nextId);
    await decliner.send(`/start u_${u.joinToken}`);
    expect(await decliner.press("✖️ Không")).toEqual(["Không sao, bot không lưu gì. Khi cần, hãy mở lại đường dẫn của đơn vị."]);
    expect(await h.db.prisma.user.count({ where: { id: BigInt(decliner.id) } })).toBe(0);

    const person = h.user(++nextId, { first_name: "Páo" });
    await person.send(`/start u_${u.joinToken}`);
    const joined = await person.press("✅ Tham gia");
    expect(joined).toEqual(["✅ Bạn đã tham gia đơn vị «Thôn Nà Pục». Xem các đơn vị của bạn: /myunits\n\nBạn chưa đăng ký Công dân học tập. Đăng ký để đơn vị tính bạn vào kết quả phong trào:"]);
    expect(person.buttons()).toEqual(["📝 Đăng ký Công dân học tập"]);
    expect(await h.db.prisma.unitMember.findFirstOrThrow({ where: { unitId: u.id } })).toMatchObject({ userId: BigInt(person.id), displayName: "Páo" });
    // The button opens the registration.
    expect((await person.press("Đăng ký Công dân học tập")).join("\n")).toContain("Bạn có đồng ý không?");
    await person.send("/cancel");
  });

  it("/myunits lists the person's units and leaves one after a confirm", async () => {
    const p = await place();
    const o = await officer(p.province.code);
    const a = await unit(o, { communeCode: p.c1.code, name: "Doanh nghiệp Chè Tà Xùa", kind: "enterprise", headcount: 40 });
    const b = await unit(o, { communeCode: p.c2.code, name: "Trường Mầm non Hoa Ban", kind: "school", headcount: 25 });
    const person = await member(a.joinToken, "Sình", false);
    await h.deps.services.units.join(String(person.id), b.joinToken, "Sình");
    const list = (await person.send("/myunits")).join("\n");
    expect(list).toBe(`🏢 Đơn vị của bạn\n1. Doanh nghiệp Chè Tà Xùa – ${label(p.c1)}, ${p.province.name.replace(/^Thành phố /, "TP. ")}\n2. Trường Mầm non Hoa Ban – ${label(p.c2)}, ${p.province.name.replace(/^Thành phố /, "TP. ")}`);
    expect(person.buttons()).toEqual(["🚪 Rời 1", "🚪 Rời 2", "🎗 Tôi là hội viên Hội Khuyến học"]);
    expect(await person.press("🚪 Rời 1")).toEqual(["Rời đơn vị «Doanh nghiệp Chè Tà Xùa»? Người phụ trách đơn vị sẽ không còn thấy bạn trong danh sách thành viên."]);
    expect(await person.press("🚪 Rời đơn vị")).toEqual(["Bạn đã rời đơn vị «Doanh nghiệp Chè Tà Xùa»."]);
    expect(await h.deps.services.units.mine(String(person.id))).toMatchObject([{ id: b.id }]);
    // A stale Leave button: said plainly, nothing else changes.
    expect(await person.pressData(`unm:lo.${a.id}`)).toEqual(["Bạn không còn trong đơn vị này."]);
    const none = h.user(++nextId);
    expect(await none.send("/myunits")).toEqual(["Bạn chưa tham gia đơn vị nào. Hãy xin người phụ trách đơn vị đường dẫn hoặc mã QR để tham gia."]);
  });

  it("the registration's unit name offers to join the matching unit once the card is saved; a forged offer joins nothing", async () => {
    const lungCu = await h.db.prisma.commune.findFirstOrThrow({ where: { name: "Lũng Cú" } });
    const o = await officer(lungCu.provinceCode);
    const u = await unit(o, { communeCode: lungCu.code, name: `Đồn Biên phòng Lũng Cú ${nextId}`, kind: "border_post", headcount: 70 });
    const other = await unit(o, { communeCode: lungCu.code, name: `Công an xã ${nextId}`, kind: "police_unit", headcount: 20 });
    const person = h.user(++nextId, { first_name: "Chứ" });
    const card = await register(person, { affiliation: "Cán bộ, chiến sĩ Bộ đội Biên phòng", unit: u.name.toLowerCase().normalize("NFD").replace(/\p{M}/gu, "").replace(/đ/g, "d") });
    expect(card.at(-1)).toBe(`🏢 Bạn ghi đơn vị là «${u.name}». Tham gia đơn vị này trên bot để được tính vào kết quả của đơn vị?\n🔒 Bot sẽ lưu việc bạn là thành viên và tên Telegram của bạn; người phụ trách đơn vị sẽ thấy. Rời đơn vị: /myunits · xóa dữ liệu: /deleteme.`);
    expect(person.buttons()).toEqual(["✅ Tham gia", "✖️ Không"]);
    expect(await h.db.prisma.unitMember.count({ where: { userId: BigInt(person.id) } })).toBe(0);
    // A forged offer for another unit of the commune: refused, nothing stored.
    expect(await person.pressData(`uno:${other.id}`)).toEqual(["Không tìm thấy đơn vị này nữa (có thể đã đổi tên hoặc bị xóa). Hãy xin người phụ trách đơn vị đường dẫn để tham gia."]);
    expect(await h.db.prisma.unitMember.count({ where: { userId: BigInt(person.id) } })).toBe(0);
    expect(await person.press("✅ Tham gia")).toEqual([`✅ Bạn đã tham gia đơn vị «${u.name}». Xem các đơn vị của bạn: /myunits`]);
    expect(await h.db.prisma.unitMember.findFirstOrThrow({ where: { userId: BigInt(person.id) } })).toMatchObject({ unitId: u.id, displayName: "Chứ" });

    // A name that matches no unit: no offer, nothing stored.
    const nobody = h.user(++nextId);
    const plain = await register(nobody, { affiliation: "Cán bộ, chiến sĩ Bộ đội Biên phòng", unit: "Đồn Biên phòng Không Có" });
    expect(plain.join("\n")).not.toContain("Tham gia đơn vị");
    expect(await h.db.prisma.unitMember.count({ where: { userId: BigInt(nobody.id) } })).toBe(0);
  });
});
