import { describe, expect, it } from "vitest";
import { useHarness } from "../support/harness.js";

const ADMIN = 9_300_001;
const h = useHarness({ adminIds: [String(ADMIN)] });

let nextId = 9_300_100;
let nextProvince = 5;

async function freshPlace(): Promise<{ province: string; provinceName: string; communes: Array<{ code: string; name: string }> }> {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, provinceName: p.name, communes };
}

async function citizen(province: string, commune: string, o: { role?: "resident" | "member"; unreachable?: boolean } = {}): Promise<number> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: o.role ?? "resident", unreachableSince: o.unreachable ? new Date() : null } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `BT-${id}`, fullName: `Người ${id}`, birthYear: 1980, provinceCode: province, communeCode: commune, affiliation: "resident", goals: ["law"], registeredAt: new Date() },
  });
  return id;
}

async function officer(scope: { province: string; commune?: string }) {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: scope.province, scopeCommuneCode: scope.commune ?? null } });
  return h.user(id);
}

const lastBroadcast = (authorId: number) => h.db.prisma.broadcast.findFirstOrThrow({ where: { authorId: BigInt(authorId) }, orderBy: { id: "desc" } });

describe("/broadcast", () => {
  it("refuses residents politely, and forged broadcast buttons too", async () => {
    const u = h.user(++nextId);
    expect(await u.send("/broadcast")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    expect(await u.send("/broadcasts")).toEqual(["Bạn không có quyền thực hiện thao tác này."]);
    expect(await u.pressData("bca:a.1")).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await u.pressData("bcx:1")).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(await u.pressData("bca:x.1; DROP")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(h.logged(40).some((l) => l.msg === "refused an action above the caller's role")).toBe(true);
  });

  it("a commune officer composes, sees the count change with the filters, previews and sends now", async () => {
    const { province, communes: [a, b] } = await freshPlace();
    await citizen(province, a!.code);
    await citizen(province, a!.code, { role: "member" });
    await citizen(province, a!.code, { unreachable: true });
    await citizen(province, b!.code);
    const o = await officer({ province, commune: a!.code });

    expect((await o.send("/broadcast"))[0]).toBe("📢 Bạn gửi thông báo với danh nghĩa cơ quan nào?");
    await o.press("Bộ đội Biên phòng");
    expect(await o.send("Chào {ten}")).toEqual(["Không có biến {ten}. Chỉ dùng được: {name}, {commune}, {province}. Vui lòng gửi lại nội dung."]);
    expect(await o.send("Chào <b>{name}</i>")).toEqual(["Định dạng lỗi ở ký tự thứ 15: thẻ đóng «/i» không khớp (đang chờ «/b»)."]);
    const screen = await o.send("Chào <b>{name}</b>, họp lúc 8h.");
    expect(screen[0]).toBe("✅ Đã nhận nội dung (24 ký tự).");
    expect(screen[1]).toContain(`📍 Địa bàn: `);
    expect(screen[1]).toContain(a!.name);
    expect(screen[1]).toContain("Số người nhận hiện tại: 2");
    // The commune officer's place is fixed: no province or commune buttons.
    expect(o.buttons()).not.toContain("📍 Chọn tỉnh/thành");
    expect(o.buttons()).not.toContain("🏘 Chọn xã/phường");
    const toggled = await o.press("Hội viên");
    expect(toggled[0]).toContain("👤 Vai trò: Hội viên");
    expect(toggled[0]).toContain("Số người nhận hiện tại: 1");
    // A forged place change is refused server-side.
    expect(await o.pressData("bc:aud:prov")).toContain("Bạn chỉ gửi được cho người trong địa bàn mình phụ trách.");
    expect(h.logged(40).some((l) => l.msg === "refused an audience change outside the officer's scope")).toBe(true);

    const preview = await o.press("Tiếp tục");
    expect(preview[0]).toMatch(/^📢 Bộ đội Biên phòng · .+\n\nChào Nguyễn Văn An, họp lúc 8h\.$/);
    expect(preview[0]).toContain(a!.name);
    expect(preview[1]).toContain("Bản xem trước");
    expect(preview[2]).toBe("Gửi thông báo cho 1 người?");
    const done = await o.press("Gửi ngay");
    const bc = await lastBroadcast(o.id);
    expect(done.at(-1)).toBe(`📤 Đã bắt đầu gửi thông báo #${bc.id} tới 1 người. Tin này sẽ cập nhật tiến độ.`);
    expect(bc).toMatchObject({ state: "sending", needsApproval: false, recipientCount: 1, senderBody: "border_guard", progressChatId: BigInt(o.id) });
    expect(bc.audience).toEqual({ provinceCode: province, communeCode: a!.code, roles: ["member"] });
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast", refId: String(bc.id), state: "queued" } })).toBe(1);
    expect(o.buttons()).toEqual(["⛔ Dừng gửi"]);
  });

  it("schedules '20/12 8:00' in Vietnam's time and refuses a past time", async () => {
    const { province, communes: [a] } = await freshPlace();
    await citizen(province, a!.code);
    const o = await officer({ province, commune: a!.code });
    await o.send("/broadcast");
    await o.press("Công an");
    await o.send("Nhắc lịch học");
    await o.press("Tiếp tục");
    await o.press("Hẹn giờ");
    expect(await o.send("1/1/2020 8:00")).toEqual([expect.stringMatching(/đã qua|quá khứ/)]);
    const done = await o.send("20/12 8:00");
    const bc = await lastBroadcast(o.id);
    expect(done.at(-1)).toMatch(new RegExp(`^🕗 Thông báo #${bc.id} sẽ gửi lúc 08:00 ngày 20/12/\\d{4} tới 1 người\\.`));
    expect(bc.state).toBe("scheduled");
    const rows = await h.db.prisma.delivery.findMany({ where: { kind: "broadcast", refId: String(bc.id) } });
    expect(rows.map((r) => r.dueAt.toISOString().slice(4))).toEqual(["-12-20T01:00:00.000Z"]);
  });

  it("a whole province waits for approval: the author cannot approve, an outsider cannot, the admin can", async () => {
    const { province, communes: [a] } = await freshPlace();
    const other = await freshPlace();
    await citizen(province, a!.code);
    await citizen(province, a!.code);
    const author = await officer({ province });
    const outsider = await officer({ province: other.province });
    await author.send("/broadcast");
    await author.press("Hội Khuyến học");
    const screen = await author.send("Khai giảng lớp tin học");
    expect(screen[1]).toContain("Số người nhận hiện tại: 2");
    await author.press("Tiếp tục");
    const done = await author.press("Gửi ngay");
    const bc = await lastBroadcast(author.id);
    expect(done.at(-1)).toMatch(new RegExp(`^⏳ Thông báo #${bc.id} \\(2 người\\) cần được một người khác duyệt`));
    expect(done.at(-1)).toContain("Đã gửi yêu cầu tới 1 người.");
    expect(bc.state).toBe("pending_approval");
    expect((await h.db.prisma.delivery.findMany({ where: { kind: "broadcast_approval", refId: String(bc.id) } })).map((r) => Number(r.chatId))).toEqual([ADMIN]);

    expect(await author.pressData(`bca:a.${bc.id}`)).toEqual(["[answer] Bạn không thể tự duyệt thông báo của mình: cần một cán bộ khác hoặc quản trị viên."]);
    expect(await outsider.pressData(`bca:a.${bc.id}`)).toEqual(["[answer] Thông báo này ngoài địa bàn bạn phụ trách, bạn không thể duyệt."]);
    expect(h.logged(40).filter((l) => l.msg === "refused a broadcast approval")).toHaveLength(2);
    const admin = h.user(ADMIN);
    expect(await admin.pressData(`bca:a.${bc.id}`)).toEqual([`✅ Bạn đã duyệt thông báo #${bc.id}. Thông báo sẽ được gửi.`]);
    expect(await admin.pressData(`bca:r.${bc.id}`)).toEqual(["[answer] Thông báo này đã được xử lý rồi."]);
    expect((await lastBroadcast(author.id)).state).toBe("sending");
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast", refId: String(bc.id), state: "queued" } })).toBe(2);
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast_notice", refId: `${bc.id}-approved`, chatId: BigInt(author.id) } })).toBe(1);
  });
});

describe("/broadcasts", () => {
  it("lists the caller's broadcasts with counts, stops one, and refuses other officers' ids", async () => {
    const { province, communes: [a] } = await freshPlace();
    await citizen(province, a!.code);
    await citizen(province, a!.code);
    const o = await officer({ province, commune: a!.code });
    const created = await h.deps.services.broadcasts.create(String(o.id), { senderBody: "police", audience: { provinceCode: province, communeCode: a!.code }, text: "Một", scheduledAt: new Date(Date.now() + 86_400_000).toISOString() });
    const id = (created as { id: number }).id;

    const list = await o.send("/broadcasts");
    expect(list[0]).toContain("Thông báo gần đây của bạn");
    expect(list[0]).toMatch(new RegExp(`#${id} · đã hẹn giờ · .+\\n   2 người · ✓ 0 · ✗ 0 · ⏳ 2`));
    expect(o.buttons()).toEqual([`⛔ Dừng #${id}`]);

    const stranger = await officer({ province });
    const other = await officer({ province: (await freshPlace()).province });
    expect(await other.pressData(`bcx:${id}`)).toEqual(["[answer] Bạn không có quyền thực hiện thao tác này."]);
    expect(h.logged(40).some((l) => l.msg === "refused to cancel a broadcast of someone else")).toBe(true);
    expect(await o.pressData("bcx:999999999")).toEqual(["[answer] Không tìm thấy thông báo này."]);
    expect((await h.db.prisma.broadcast.findUniqueOrThrow({ where: { id } })).state).toBe("scheduled");
    expect(await stranger.send("/broadcasts")).toEqual(["Bạn chưa gửi thông báo nào. Gõ /broadcast để soạn."]);

    expect(await o.press(`Dừng #${id}`)).toEqual([`⛔ Đã dừng thông báo #${id}: 2 tin chưa gửi đã được hủy.`]);
    expect((await h.db.prisma.broadcast.findUniqueOrThrow({ where: { id } })).state).toBe("cancelled");
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast", refId: String(id), state: "cancelled" } })).toBe(2);
    expect(await o.pressData(`bcx:${id}`)).toEqual(["[answer] Thông báo này đã kết thúc, không dừng được nữa."]);
    expect((await o.send("/broadcasts"))[0]).toContain(`#${id} · đã dừng`);
  });
});
