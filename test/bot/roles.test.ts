import { describe, expect, it } from "vitest";
import { useHarness } from "../support/harness.js";
import { register } from "../support/flows.js";

const ADMIN = 4000;
const h = useHarness({ adminIds: [String(ADMIN)] });

function inviteToken(text: string): string {
  const m = /start=inv_([A-Za-z0-9_-]+)/.exec(text);
  if (!m) throw new Error(`no invite link in: ${text}`);
  return m[1]!;
}

/** An officer made the way admins make them: an invite link, redeemed. */
async function makeOfficer(id: number, invite = "/invite tuyen quang 00715 | Đồn Biên phòng Lũng Cú", options = {}) {
  const token = inviteToken((await h.user(ADMIN).send(invite))[0]!);
  const officer = h.user(id, options);
  await officer.send(`/start inv_${token}`);
  return officer;
}

describe("roles are checked on the server for every officer and admin action", () => {
  it("a resident cannot use officer or admin actions, even with forged callbacks", async () => {
    const u = h.user(4101);
    await register(u);

    const before = h.fake.calls.length;
    expect(await u.pressData("off:stats")).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await u.pressData("adm:inv:01")).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await u.send("/unit")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    expect(await u.send("/invite 01")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    const sent = h.fake.calls.slice(before).filter((c) => c.method === "sendMessage");
    expect(sent).toHaveLength(2);
    expect(sent.every((c) => String(c.payload.text).includes("không có quyền"))).toBe(true);
    expect(await h.db.prisma.officerInvite.count({ where: { createdById: 4101n } })).toBe(0);
  });

  it("an admin invites an officer with a single-use, scoped link", async () => {
    const admin = h.user(ADMIN);
    await admin.send("/start");
    expect(h.fake.getCommands({ type: "chat", chat_id: ADMIN }, "").map((c) => c.command)).toEqual(expect.arrayContaining(["invite", "officers", "unit", "me"]));
    await admin.send("/cancel");
    expect((await admin.send("/invite"))[0]).toBe("Chọn tỉnh/thành cho cán bộ được mời:");
    expect(admin.buttons()).toHaveLength(34);
    expect((await admin.send("/invite 99"))[0]).toMatch(/Không tìm thấy tỉnh\/thành «99»/);
    expect((await admin.send("/invite 08 00004"))[0]).toBe("Mã xã/phường/đặc khu 00004 không thuộc Tuyên Quang.");
    const created = await admin.send("/invite tuyen quang 00715 | Đồn Biên phòng Lũng Cú");
    expect(created[0]).toMatch(/^Đã tạo lời mời cán bộ cho Xã Lũng Cú, Tuyên Quang — Đồn Biên phòng Lũng Cú\./);
    expect(created[0]).toContain("https://t.me/khuyenhoc_test_bot?start=inv_");
    const token = inviteToken(created[0]!);

    const officer = h.user(4201);
    const granted = await officer.send(`/start inv_${token}`);
    expect(granted).toEqual(["Bạn đã được cấp quyền cán bộ cho Xã Lũng Cú, Tuyên Quang — Đồn Biên phòng Lũng Cú. Gõ /unit để xem số liệu địa bàn."]);
    // The invite's expiry is written the bot's one way: "14:16 ngày 01/12/2026".
    expect(created[0]).toMatch(/hết hạn lúc \d{2}:\d{2} ngày \d{2}\/\d{2}\/\d{4}\./);
    expect(officer.buttons()).toEqual(["📝 Đăng ký Công dân học tập"]);
    // The officer's own menu now lists /unit (everyone else keeps the public menu).
    expect(h.fake.getCommands({ type: "chat", chat_id: 4201 }, "").map((c) => c.command)).toContain("unit");
    expect(h.fake.getCommands({ type: "chat", chat_id: 4201 }, "en").find((c) => c.command === "unit")?.description).toBe("Learning citizens in my area");
    expect(await h.db.prisma.user.findUniqueOrThrow({ where: { id: 4201n } })).toMatchObject({ role: "officer", scopeProvinceCode: "08", scopeCommuneCode: "00715", scopeUnit: "Đồn Biên phòng Lũng Cú" });

    expect(await h.user(4202).send(`/start inv_${token}`)).toEqual(["Lời mời này đã được dùng. Mỗi lời mời chỉ dùng được một lần."]);
    expect((await h.db.prisma.user.findUnique({ where: { id: 4202n } }))?.role ?? "resident").toBe("resident");
    expect(await h.user(4203).send("/start inv_AAAAAAAAAAAAAAAAAAAAAA")).toEqual(["Lời mời không hợp lệ. Vui lòng xin đường dẫn mới từ quản trị viên."]);

    expect((await officer.send("/help"))[0]).toContain("/unit");
    expect((await h.user(4101).send("/help"))[0]).not.toContain("/unit");
  });

  it("/unit hides empty rows and shows small counts as '< 5'", async () => {
    const officer = await makeOfficer(4210, "/invite ca mau 31825");
    expect((await officer.send("/unit"))[0]).toBe("Công dân học tập – Phường Bạc Liêu, Cà Mau\nChưa có ai đăng ký.");
    for (const id of [4211, 4212]) await register(h.user(id), { province: "Cà Mau", communeQuery: "bac lieu", commune: "Bạc Liêu" });
    const stats = (await officer.send("/unit"))[0]!;
    expect(stats).toMatch(/^Công dân học tập – Phường Bạc Liêu, Cà Mau\nTổng số đã đăng ký: dưới 5 /);
    expect(stats).toContain("• Người dân: dưới 5");
    expect(stats).not.toContain("Công an");
    expect(await officer.press("Cập nhật")).toEqual([]); // same numbers: the message is already up to date
  });

  it("an admin can pick the province on buttons", async () => {
    const admin = h.user(ADMIN);
    await admin.send("/invite");
    const r = await admin.press("Hà Nội");
    expect(r[0]).toMatch(/^Đã tạo lời mời cán bộ cho Thành phố Hà Nội\./);
    expect(await h.db.prisma.officerInvite.count({ where: { provinceCode: "01" } })).toBe(1);
  });

  it("an officer is still not an admin", async () => {
    const officer = await makeOfficer(4220);
    expect(await officer.pressData("adm:inv:01")).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await officer.send("/invite 01")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
  });

  it("an admin lists officers by name and @username and revokes one; officers cannot revoke", async () => {
    const officer = await makeOfficer(4230, undefined, { first_name: "Trung", last_name: "Tá & Co", username: "trungta_bp" });
    expect(await officer.pressData("adm:rev:4230")).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await officer.send("/officers")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);

    const admin = h.user(ADMIN);
    const list = (await admin.send("/officers"))[0]!;
    expect(list).toMatch(/^Cán bộ \(\d+\):\n/);
    expect(list).toContain("• Trung Tá & Co @trungta_bp — Xã Lũng Cú, Tuyên Quang — Đồn Biên phòng Lũng Cú");
    expect(list).not.toMatch(/• 4230\b/);
    expect(admin.buttons()).toContain("Thu hồi quyền: Trung Tá & Co");
    const revocations = await h.db.prisma.auditLog.count({ where: { action: "officer_role_revoked" } });
    const calls = h.fake.calls.length;
    expect(await admin.press("Thu hồi quyền: Trung Tá & Co")).toEqual(["[answer] Đã thu hồi quyền cán bộ của Trung Tá & Co."]);
    // The former officer is told, in their own chat.
    expect(h.fake.calls.slice(calls).some((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 4230 && /đã được quản trị viên thu hồi/.test(String(c.payload.text)))).toBe(true);
    expect(await h.db.prisma.user.findUniqueOrThrow({ where: { id: 4230n } })).toMatchObject({ role: "resident", scopeProvinceCode: null, telegramUsername: null });
    expect(h.fake.getCommands({ type: "chat", chat_id: 4230 }, "")).toEqual([]);
    expect(await officer.send("/unit")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    expect(await admin.pressData("adm:rev:4230")).toEqual(["[answer] 4230 không còn là cán bộ."]);
    expect((await admin.send("/officers"))[0]).not.toContain("Trung Tá");
    expect(await h.db.prisma.auditLog.count({ where: { action: "officer_role_revoked" } })).toBe(revocations + 1);
  });

  it("invite tokens are stored hashed, a unit name is escaped once, and an admin does not use up an invite", async () => {
    const created = (await h.user(ADMIN).send("/invite 08 00715 | AT&T Lũng Cú"))[0]!;
    const token = inviteToken(created);
    expect(JSON.stringify(await h.db.prisma.officerInvite.findMany({ select: { token: true } }))).not.toContain(token);
    // A database admin (not a bootstrap one) opening the link gains nothing and leaves it usable.
    await h.db.prisma.user.create({ data: { id: 4250n, role: "admin" } });
    expect(await h.user(4250).send(`/start inv_${token}`)).toEqual(["Bạn là quản trị viên nên không cần lời mời cán bộ."]);
    const officer = h.user(4251);
    expect(await officer.send(`/start inv_${token}`)).toEqual([expect.stringMatching(/cho Xã Lũng Cú, Tuyên Quang — AT&T Lũng Cú\. Gõ \/unit/)]);
    expect(h.fake.sent(4251).map((c) => String(c.payload.text)).join("")).toContain("AT&amp;T");
    expect(h.fake.sent(4251).map((c) => String(c.payload.text)).join("")).not.toContain("&amp;amp;");
  });

  it("a forged revoke id too long for a Telegram id is refused as invalid", async () => {
    expect(await h.user(ADMIN).pressData(`adm:rev:${"9".repeat(20)}`)).toEqual(["[answer] Nút không hợp lệ."]);
  });

  it("group chats are pointed to a private chat", async () => {
    const u = h.user(4301);
    const update = {
      message: {
        message_id: 1, date: Math.floor(Date.now() / 1000), text: "/start",
        chat: { id: -100123, type: "supergroup" as const, title: "Chi hội khuyến học" }, from: u.tg,
        entities: [{ type: "bot_command" as const, offset: 0, length: 6 }],
      },
    };
    h.fake.registerChat(-100123, { type: "supergroup", title: "Chi hội khuyến học" } as never);
    await h.handle(update as never);
    expect(h.fake.lastText(-100123)).toBe("Vui lòng nhắn riêng cho tôi để đăng ký và xem thông tin cá nhân.");
    // A command addressed to another bot is not ours: no answer.
    const before = h.fake.sent(-100123).length;
    await h.handle({ message: { ...update.message, message_id: 2, text: "/start@other_bot", entities: [{ type: "bot_command" as const, offset: 0, length: 16 }] } } as never);
    expect(h.fake.sent(-100123)).toHaveLength(before);
    // Addressed to us, it is answered.
    await h.handle({ message: { ...update.message, message_id: 3, text: "/help@khuyenhoc_test_bot", entities: [{ type: "bot_command" as const, offset: 0, length: 24 }] } } as never);
    expect(h.fake.sent(-100123)).toHaveLength(before + 1);
  });

  it("a province-wide officer also sees the communes with most registrations", async () => {
    for (const id of [4240, 4241, 4242, 4243, 4244, 4245]) await register(h.user(id), { province: "Lai Châu", communeQuery: "sin ho", commune: "Sìn Hồ" });
    const officer = await makeOfficer(4246, "/invite lai chau");
    const stats = (await officer.send("/unit"))[0]!;
    expect(stats).toMatch(/^Công dân học tập – Tỉnh Lai Châu\nTổng số đã đăng ký: 6 /);
    expect(stats).toContain("Xã/phường có nhiều người đăng ký nhất:\n• Xã Sìn Hồ: 6");
  });
});
