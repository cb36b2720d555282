import { describe, expect, it } from "vitest";
import { useHarness } from "../support/harness.js";
import { register } from "../support/flows.js";

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
    });
  });

  it("/deleteme asks first, and keeping changes nothing", async () => {
    const u = h.user(3001);
    await u.send("/deleteme");
    expect(u.buttons()).toEqual(["🗑 Xoá dữ liệu", "Giữ lại"]);
    expect(await u.press("Giữ lại")).toEqual(["Đã giữ nguyên dữ liệu của bạn."]);
    expect(await h.db.prisma.learningCitizen.count({ where: { userId: 3001n } })).toBe(1);
  });

  it("/deleteme erases the person from the database and Redis", async () => {
    const u = h.user(3001);
    await u.send("/deleteme");
    expect(await u.press("Xoá dữ liệu")).toEqual(["Đã xoá toàn bộ dữ liệu cá nhân của bạn. Cảm ơn bạn đã đồng hành cùng phong trào khuyến học."]);
    expect(await h.db.prisma.user.findUnique({ where: { id: 3001n } })).toBeNull();
    expect(await h.db.prisma.learningCitizen.findUnique({ where: { userId: 3001n } })).toBeNull();
    expect(await h.db.prisma.consent.count({ where: { userId: 3001n } })).toBe(0);
    // No row anywhere still holds the name, the phone or the id.
    const dump = JSON.stringify(
      await Promise.all([h.db.prisma.user.findMany(), h.db.prisma.learningCitizen.findMany(), h.db.prisma.consent.findMany(), h.db.prisma.auditLog.findMany(), h.db.prisma.officerInvite.findMany()]),
      (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
    );
    expect(dump).not.toContain("+84912345678");
    expect(dump).not.toContain("3001");
    expect(await h.redis.exists("khb:session:3001", "khb:conv:3001")).toBe(0);
    expect(await h.db.prisma.auditLog.count({ where: { action: "personal_data_erased" } })).toBe(1);
    expect((await u.send("/me"))[0]).toBe("Bạn chưa đăng ký Công dân học tập.");
  });

  it("/deleteme during a registration ends it and keeps nothing", async () => {
    const u = h.user(3002);
    await u.send("/start");
    await u.press("Đồng ý");
    await u.send("Nguyễn Văn Ba");
    await u.send("/deleteme");
    expect(await u.press("Xoá dữ liệu")).toEqual(["Tôi không lưu dữ liệu cá nhân nào của bạn, nên không có gì để xoá."]);
    expect(await h.deps.conversations.read("3002")).toBeUndefined();
    expect((await u.send("1990"))[0]).toMatch(/Tôi chưa hiểu/);
  });

  it("/privacy shows the full notice", async () => {
    expect((await h.user(3003).send("/privacy"))[0]).toMatch(/Dữ liệu cá nhân của bạn.*Nghị định 13\/2023\/NĐ-CP/s);
  });
});
