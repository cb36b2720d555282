import { describe, expect, it } from "vitest";
import { useHarness } from "../support/harness.js";
import { register, startAt } from "../support/flows.js";
import { contactMessage, textMessage } from "../support/telegram/index.js";

const h = useHarness();

describe("personal data (Decree 13/2023/NĐ-CP)", () => {
  it("/mydata sends a JSON file with everything stored about the person", async () => {
    const u = h.user(3001);
    await register(u, { phone: "share" });
    await u.send("/language");
    await u.press("Tiếng Việt");
    const r = await u.send("/mydata");
    expect(r).toEqual(["Đây là toàn bộ dữ liệu tôi đang lưu về bạn."]);
    const doc = h.fake.lastDocument(3001)!;
    expect(doc.file_name).toBe("khuyenhoc-mydata-3001.json");
    const data = JSON.parse(doc.content.toString("utf8"));
    expect(data).toMatchObject({
      telegram_user_id: "3001",
      user: { role: "resident", locale: "vi" },
      learning_citizen: { fullName: "Nguyễn Thị Hoa", birthYear: 1985, communeCode: "00715", provinceCode: "08", phone: "+84912345678", goals: ["law", "digital"] },
      consents: [{ kind: "personal_data" }],
      bot_session: { locale: "vi" },
      unfinished_flow: null,
    });
  });

  it("/deleteme lists what is kept and asks first; keeping changes nothing", async () => {
    const u = h.user(3002);
    await register(u);
    expect(await u.send("/deleteme")).toEqual([
      "Tôi đang lưu về bạn:\n• thẻ Công dân học tập và thông tin đăng ký\n• sự đồng ý về dữ liệu cá nhân\n• tài khoản (vai trò, ngôn ngữ)\n\nBạn muốn xóa toàn bộ? Việc này không thể hoàn tác.",
    ]);
    expect(u.buttons()).toEqual(["🗑 Xóa dữ liệu", "Giữ lại"]);
    expect(await u.press("Giữ lại")).toEqual(["Đã giữ nguyên dữ liệu của bạn."]);
    expect(await h.db.prisma.learningCitizen.count({ where: { userId: 3002n } })).toBe(1);
  });

  it("/deleteme erases the person from the database and Redis", async () => {
    const u = h.user(3003);
    await register(u, { phone: "share" });
    await u.send("/language");
    await u.press("Tiếng Việt");
    const audits = await h.db.prisma.auditLog.count({ where: { action: "personal_data_erased" } });
    await u.send("/deleteme");
    const done = await u.press("Xóa dữ liệu");
    expect(done[0]).toMatch(/^Đã xóa:\n• thẻ Công dân học tập và thông tin đăng ký\n.*• lựa chọn ngôn ngữ\n\nCảm ơn bạn/s);
    expect(await h.db.prisma.user.findUnique({ where: { id: 3003n } })).toBeNull();
    expect(await h.db.prisma.learningCitizen.findUnique({ where: { userId: 3003n } })).toBeNull();
    expect(await h.db.prisma.consent.count({ where: { userId: 3003n } })).toBe(0);
    // No row anywhere still holds the phone or the id.
    const dump = JSON.stringify(
      await Promise.all([h.db.prisma.user.findMany(), h.db.prisma.learningCitizen.findMany(), h.db.prisma.consent.findMany(), h.db.prisma.auditLog.findMany(), h.db.prisma.officerInvite.findMany()]),
      (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
    );
    expect(dump).not.toContain("3003");
    expect(await h.redis.exists("khb:session:3003", "khb:conv:3003")).toBe(0);
    expect(await h.db.prisma.auditLog.count({ where: { action: "personal_data_erased" } })).toBe(audits + 1);
    expect((await u.send("/me"))[0]).toBe("Bạn chưa đăng ký Công dân học tập.");
  });

  it("/deleteme with nothing stored says so at once, and writes no audit row", async () => {
    const audits = await h.db.prisma.auditLog.count({ where: { action: "personal_data_erased" } });
    const u = h.user(3004);
    expect(await u.send("/deleteme")).toEqual(["Tôi không lưu dữ liệu cá nhân nào của bạn, nên không có gì để xóa."]);
    expect(u.buttons()).toEqual([]);
    // A stale confirmation button pressed by a stranger erases nothing and is not audited.
    expect(await u.pressData("del:yes")).toEqual(["Tôi không lưu dữ liệu cá nhân nào của bạn, nên không có gì để xóa."]);
    expect(await h.db.prisma.auditLog.count({ where: { action: "personal_data_erased" } })).toBe(audits);
  });

  it("/deleteme during a registration says the unfinished answers are dropped", async () => {
    const u = h.user(3005);
    await startAt(u, "name");
    await u.send("Nguyễn Văn Ba");
    expect((await u.send("/deleteme"))[0]).toContain("• câu trả lời của việc đang làm dở (chưa lưu)");
    expect((await u.press("Xóa dữ liệu"))[0]).toMatch(/^Đã xóa:\n• câu trả lời của việc đang làm dở \(chưa lưu\)/);
    expect(await h.deps.conversations.read("3005")).toBeUndefined();
    expect((await u.send("1990"))[0]).toMatch(/Tôi chưa hiểu/);
  });

  it("a flow stores only what its steps read: no neighbour's contact, no forwarded sender", async () => {
    const u = h.user(3010);
    await startAt(u, "name");
    await u.send("Nguyễn Văn Tư");
    await u.send("1970");
    await u.press("Tuyên Quang");
    await u.send("lung cu");
    await u.press("Lũng Cú");
    await u.press("Người dân");
    await u.press("Pháp luật");
    await u.press("Xong");
    // A neighbour's contact is refused as not the person's own, and a forwarded message is not an answer.
    expect((await u.sendUpdate(contactMessage(u.tg, { phone_number: "84977000111", user_id: 999_111, first_name: "Hàng Xóm" })))[0]).toMatch(/^Đây không phải số của bạn/);
    const forwarded = textMessage(u.tg, "tin chuyển tiếp");
    (forwarded.message as unknown as Record<string, unknown>).forward_origin = { type: "user", date: 1, sender_user: { id: 999_222, is_bot: false, first_name: "Người Gửi", username: "nguoigui_bi_mat" } };
    await u.sendUpdate(forwarded);
    const stored = JSON.stringify(await h.deps.conversations.read("3010"));
    await u.send("/mydata");
    const exported = h.fake.lastDocument(3010)!.content.toString("utf8");
    expect(exported).toContain("Nguyễn Văn Tư");
    for (const trace of ["84977000111", "Hàng Xóm", "Người Gửi", "nguoigui_bi_mat", "999222"]) {
      expect(stored).not.toContain(trace);
      expect(exported).not.toContain(trace);
    }
    // Unfinished flows are kept for a week, not a month.
    const ttl = await h.redis.ttl(`${h.deps.conversations.prefix}3010`);
    expect(ttl).toBeGreaterThan(6 * 24 * 3600);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600);
  });

  it("/mydata includes the answers of an unfinished registration", async () => {
    const u = h.user(3006);
    await startAt(u, "name");
    await u.send("Đinh Thị Lan");
    await u.send("/mydata");
    const data = JSON.parse(h.fake.lastDocument(3006)!.content.toString("utf8"));
    expect(data.learning_citizen).toBeNull();
    expect(JSON.stringify(data.unfinished_flow)).toContain("Đinh Thị Lan");
  });

  it("/privacy and the consent's 'read in full' show the full notice, with the erasure bound", async () => {
    const text = (await h.user(3007).send("/privacy"))[0]!;
    expect(text).toMatch(/^Dữ liệu cá nhân của bạn \(Nghị định 13\/2023\/NĐ-CP\)/);
    expect(text).toContain("trong vòng một giờ");
    expect((await h.user(3008, { language_code: "en" }).send("/privacy"))[0]).toContain("within an hour");
  });
});
