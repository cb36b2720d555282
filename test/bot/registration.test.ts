import { describe, expect, it } from "vitest";
import { CONSENT_VERSION } from "../../src/domain/privacy/consent.js";
import { useHarness } from "../support/harness.js";
import { fillRegistration, register } from "../support/flows.js";

const year = new Date().getUTCFullYear();
const h = useHarness();

describe("learning-citizen registration", () => {
  it("walks a resident from /start to the learning card and stores it", async () => {
    const u = h.user(1001);
    const greeting = await u.send("/start");
    expect(greeting[0]).toMatch(/^Xin chào Hoa!/);
    expect(greeting[0]!.split("\n")).toHaveLength(2);
    expect(greeting[1]).toContain("Nghị định 13/2023/NĐ-CP");
    expect(u.buttons()).toEqual(["✅ Đồng ý", "Không đồng ý"]);

    expect(await u.press("Đồng ý")).toEqual(["Bước 1/7. Họ và tên của bạn là gì? (ví dụ: Nguyễn Thị Hoa)"]);
    expect(await u.send("  nguyễn  thị HOA ")).toEqual(["Bước 2/7. Bạn sinh năm nào? (4 chữ số, ví dụ: 1985)"]);
    expect((await u.send("1985"))[0]).toMatch(/^Bước 3\/7/);
    expect(u.buttons()).toHaveLength(34);
    expect((await u.send("TUYÊN QUANG"))[0]).toBe("Bước 4/7. Bạn ở xã/phường/đặc khu nào của Tuyên Quang? Gõ tên (không cần dấu).");
    expect(await u.send("lung cu")).toEqual(["Tìm thấy 1 nơi. Chọn đúng nơi của bạn:"]);
    expect(u.buttons()).toEqual(["Xã Lũng Cú", "Không có trong danh sách"]);
    expect((await u.press("Xã Lũng Cú"))[0]).toBe("Bước 5/7. Bạn là:");
    expect((await u.press("Bộ đội Biên phòng"))[0]).toMatch(/Tên đơn vị biên phòng/);
    expect((await u.send("Đồn Biên phòng Lũng Cú"))[0]).toMatch(/^Bước 6\/7/);
    await u.press("Pháp luật");
    await u.press("Ngoại ngữ");
    expect(u.buttons().filter((b) => b.startsWith("✅"))).toEqual(["✅ Pháp luật, kiến thức công dân", "✅ Ngoại ngữ"]);
    await u.press("Ngoại ngữ"); // toggles off
    await u.press("Kỹ năng số");
    expect((await u.press("Xong"))[0]).toMatch(/^Bước 7\/7/);
    const summary = await u.shareContact("84912345678");
    expect(summary).toEqual([
      "Đã ghi nhận số điện thoại.",
      "Kiểm tra lại thông tin\nHọ tên: nguyễn thị HOA\nNăm sinh: 1985\nNơi ở: Xã Lũng Cú, Tuyên Quang\nĐối tượng: Cán bộ, chiến sĩ Bộ đội Biên phòng — Đồn Biên phòng Lũng Cú\nMục tiêu học tập: Pháp luật, kiến thức công dân, Kỹ năng số\nĐiện thoại: +84912345678",
    ]);
    const card = await u.press("Xác nhận");
    expect(card[0]).toContain("Chúc mừng! Bạn đã là Công dân học tập.");
    expect(card[0]).toContain(`Số: CDHT-08-${year}-000001`);
    expect(card[0]).toContain("Nơi ở: Xã Lũng Cú, Tuyên Quang");
    const today = new Intl.DateTimeFormat("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", day: "numeric", month: "numeric", year: "numeric" }).format(new Date());
    expect(card[0]).toContain(`Ngày đăng ký: ${today}`);

    const row = await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1001n } });
    expect(row).toMatchObject({
      fullName: "nguyễn thị HOA", birthYear: 1985, provinceCode: "08", communeCode: "00715", affiliation: "border_guard",
      unitName: "Đồn Biên phòng Lũng Cú", goals: ["law", "digital"], phone: "+84912345678", guardianConsent: false,
      registrationNumber: `CDHT-08-${year}-000001`,
    });
    const consent = await h.db.prisma.consent.findFirstOrThrow({ where: { userId: 1001n } });
    expect(consent.version).toBe(CONSENT_VERSION);
    expect(Date.now() - consent.givenAt.getTime()).toBeLessThan(60_000);
    // The conversation is over: its state is gone from Redis.
    expect(await h.deps.conversations.read("1001")).toBeUndefined();
  });

  it("speaks English to English clients and after /language", async () => {
    const en = h.user(1002, { language_code: "en" });
    const r = await en.send("/start");
    expect(r[0]).toMatch(/^Hello|^Hi/);
    expect(en.buttons()).toContain("✅ Agree");
    const vi = h.user(1003);
    await vi.send("/language");
    const switched = await vi.press("English");
    expect(switched).toContain("Switched to English.");
    expect((await vi.send("/help"))[0]).toMatch(/\/me/);
    expect((await vi.send("/start"))[1]).toContain("Decree 13/2023/NĐ-CP");
    await vi.send("/cancel");
  });

  it("numbers the next registration in the same province after the first", async () => {
    const u = h.user(1004);
    const card = await register(u, { phone: "skip" });
    expect(card[0]).toContain(`CDHT-08-${year}-000002`);
    expect((await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1004n } })).phone).toBeNull();
  });

  it("lets the person fix a field from the summary before saving", async () => {
    const u = h.user(1005);
    await fillRegistration(u);
    expect(await u.press("Sửa")).toEqual(["Bạn muốn sửa thông tin nào?"]);
    await u.press("Nơi ở");
    await u.send("ha noi");
    await u.send("ba dinh");
    await u.press("Phường Ba Đình");
    const summary = await u.replies();
    expect(summary.at(-1)).toContain("Nơi ở: Phường Ba Đình, Hà Nội");
    const card = await u.press("Xác nhận");
    expect(card[0]).toContain(`CDHT-01-${year}-000001`);
    expect((await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1005n } })).communeCode).toBe("00004");
  });

  it("asks anyone who may be under 16 for a guardian's consent and records it", async () => {
    const u = h.user(1006);
    await u.send("/start");
    await u.press("Đồng ý");
    await u.send("Lò Thị Mai");
    expect((await u.send(String(year - 12)))[0]).toMatch(/dưới 16 tuổi/);
    expect((await u.press("Có, đã đồng ý"))[0]).toMatch(/người giám hộ/);
    expect((await u.send("Lò Văn Páo"))[0]).toMatch(/^Bước 3\/7/);
    await u.press("Tuyên Quang");
    await u.send("lung cu");
    await u.press("Lũng Cú");
    await u.press("Người dân");
    await u.press("Nghề");
    await u.press("Xong");
    expect((await u.send("Bỏ qua")).at(-1)).toContain("(người giám hộ: Lò Văn Páo)");
    await u.press("Xác nhận");
    expect(await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1006n } })).toMatchObject({ guardianConsent: true, guardianName: "Lò Văn Páo" });
  });

  it("stops without storing anything when the guardian has not agreed", async () => {
    const u = h.user(1007);
    await u.send("/start");
    await u.press("Đồng ý");
    await u.send("Lò Thị Mai");
    await u.send(String(year - 10));
    expect((await u.press("Chưa"))[0]).toMatch(/Tôi chưa lưu thông tin nào/);
    expect(await h.db.prisma.user.findUnique({ where: { id: 1007n } })).toBeNull();
    expect((await u.send("Lò Thị Mai"))[0]).toMatch(/Tôi chưa hiểu/);
  });

  it("stores nothing when the person declines the notice", async () => {
    const u = h.user(1008);
    await u.send("/start");
    expect((await u.press("Không đồng ý"))[0]).toMatch(/không lưu bất kỳ thông tin nào/);
    expect(await h.db.prisma.user.findUnique({ where: { id: 1008n } })).toBeNull();
    expect(await h.db.prisma.consent.count({ where: { userId: 1008n } })).toBe(0);
    expect(await h.deps.conversations.read("1008")).toBeUndefined();
  });

  it("shows the card with /me and refuses a second registration", async () => {
    const u = h.user(1004);
    expect((await u.send("/me"))[0]).toMatch(/THẺ CÔNG DÂN HỌC TẬP\nSố: CDHT-08-\d{4}-000002\nHọ tên: Nguyễn Thị Hoa/);
    expect(await u.send("/start")).toEqual([expect.stringMatching(/^Xin chào/), "Bạn đã là Công dân học tập. Gõ /me để xem thẻ, /edit để sửa thông tin."]);
    expect((await h.user(1099).send("/me"))[0]).toBe("Bạn chưa đăng ký Công dân học tập.");
  });

  it("changes one field with /edit and keeps the registration number", async () => {
    const u = h.user(1004);
    await u.send("/edit");
    await u.press("Họ tên");
    const r = await u.send("Trần Văn Nam");
    expect(r[0]).toMatch(/^Đã cập nhật\./);
    expect(r[0]).toContain("Họ tên: Trần Văn Nam");
    expect(r[0]).toContain(`CDHT-08-${year}-000002`);
    expect((await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1004n } })).fullName).toBe("Trần Văn Nam");
  });
});
