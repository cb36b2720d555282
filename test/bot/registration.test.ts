import { describe, expect, it } from "vitest";
import { CONSENT_VERSION } from "../../src/domain/privacy/consent.js";
import { useHarness } from "../support/harness.js";
import { fillRegistration, register, startAt } from "../support/flows.js";

const year = new Date().getUTCFullYear();
const h = useHarness();
const today = () => {
  const p = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric" }).format(new Date());
  return p; // dd/mm/yyyy
};

describe("learning-citizen registration", () => {
  it("walks a resident from /start to the learning card, editing each answered question in place", async () => {
    const u = h.user(1001);
    const greeting = await u.send("/start");
    expect(greeting).toEqual(["Xin chào Hoa! Tôi là trợ lý Khuyến học – Xây dựng xã hội học tập. Bạn có thể:\n• đăng ký Công dân học tập và nhận thẻ ngay trong Telegram.\n• trả lời câu hỏi tìm hiểu pháp luật về biên giới, biển đảo (/quiz) và nhận một câu hỏi mỗi ngày.\n• tìm buổi học ở trung tâm học tập cộng đồng gần bạn, đăng ký chỗ và được nhắc lịch (/sessions).\n• xem các đợt học bổng ở tỉnh bạn và toàn quốc, kiểm tra điều kiện và được nhắc hạn nộp hồ sơ (/scholarships).\n• liên kết người trong nhà thành Gia đình học tập bằng một link mời (/family)."]);
    expect(u.buttons()).toEqual(["📝 Đăng ký Công dân học tập"]);

    const consent = await u.press("Đăng ký Công dân học tập");
    expect(consent[0]).toMatch(/^Trước khi đăng ký \(Nghị định 13\/2023\/NĐ-CP\):\n• .+\n• .+\n• .+\n\nBạn có đồng ý không\?$/);
    expect(consent[0]!.length).toBeLessThan(400);
    expect(u.buttons()).toEqual(["✅ Đồng ý", "Không đồng ý", "📄 Đọc đầy đủ"]);
    expect((await u.press("Đọc đầy đủ"))[0]).toMatch(/^Dữ liệu cá nhân của bạn/);

    expect(await u.press("Đồng ý")).toEqual([
      "✅ Bạn đã đồng ý với thông báo về dữ liệu cá nhân.",
      "Bước 1/7. Họ và tên của bạn là gì? Gõ đủ họ và tên, ví dụ: Nguyễn Thị Hoa.",
    ]);
    expect(u.buttons()).toEqual(["↩️ Quay lại"]);
    expect(await u.send("  nguyễn  thị HOA ")).toEqual(["Bước 2/7. Bạn sinh năm nào? (4 chữ số, ví dụ: 1985)"]);
    // The answered question keeps its text but loses its Back button.
    const nameQuestion = h.fake.sent(1001).map((c) => h.fake.getMessage(1001, (c.result as { message_id: number }).message_id)!).find((m) => m.text?.startsWith("Bước 1/7"));
    expect(nameQuestion?.reply_markup).toBeUndefined();

    expect((await u.send("1985"))[0]).toMatch(/^Bước 3\/7/);
    expect(u.buttons()).toHaveLength(35); // 34 provinces and Back
    expect(u.buttons()).toContain("TP. Hồ Chí Minh");
    expect(await u.send("TUYÊN QUANG")).toEqual([
      "✅ Tỉnh/thành: Tuyên Quang",
      "Bước 4/7. Bạn ở xã/phường/đặc khu nào của Tỉnh Tuyên Quang? Gõ tên (không cần dấu).",
    ]);
    // The 34-button keyboard does not stay on screen.
    expect(h.fake.getMessage(1001, h.fake.sent(1001).map((c) => (c.result as { message_id: number }).message_id).find((id) => h.fake.getMessage(1001, id)?.text === "✅ Tỉnh/thành: Tuyên Quang")!)?.reply_markup).toBeUndefined();
    expect(await u.send("lung cu")).toEqual(["Tìm thấy 1 nơi. Chọn đúng nơi của bạn:"]);
    expect(u.buttons()).toEqual(["Xã Lũng Cú", "Không có trong danh sách"]);
    expect(await u.press("Xã Lũng Cú")).toEqual(["✅ Xã/phường: Xã Lũng Cú", "Bước 5/7. Bạn là:"]);
    expect((await u.press("Bộ đội Biên phòng"))[1]).toMatch(/Tên đơn vị biên phòng/);
    expect((await u.send("Đồn Biên phòng Lũng Cú"))[0]).toMatch(/^Bước 6\/7/);
    await u.press("Pháp luật");
    await u.press("Ngoại ngữ");
    expect(u.buttons().filter((b) => b.startsWith("✅"))).toEqual(["✅ Pháp luật, kiến thức công dân", "✅ Ngoại ngữ"]);
    await u.press("Ngoại ngữ"); // toggles off
    await u.press("Kỹ năng số");
    expect(await u.press("Xong")).toEqual([
      "✅ Mục tiêu học tập: Pháp luật, kiến thức công dân, Kỹ năng số",
      "Bước 7/7. Bạn có muốn chia sẻ số điện thoại để nhận thông báo không? (không bắt buộc)",
    ]);
    const summary = await u.shareContact("84912345678");
    expect(summary).toEqual([
      "✅ Đã ghi nhận số điện thoại.",
      "Kiểm tra lại thông tin\nHọ tên: nguyễn thị HOA\nNăm sinh: 1985\nNơi ở: Xã Lũng Cú, Tuyên Quang\nĐối tượng: Cán bộ, chiến sĩ Bộ đội Biên phòng — Đồn Biên phòng Lũng Cú\nMục tiêu học tập: Pháp luật, kiến thức công dân, Kỹ năng số\nĐiện thoại: +84912345678",
    ]);
    const card = await u.press("Xác nhận");
    expect(card[0]).toContain("Chúc mừng! Bạn đã là Công dân học tập.");
    expect(card[0]).toMatch(new RegExp(`Số: CDHT-08-${year}-\\d{6}`));
    expect(card[0]).toContain("Nơi ở: Xã Lũng Cú, Tuyên Quang");
    expect(card[0]).toContain(`Ngày đăng ký: ${today()}`);

    const row = await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1001n } });
    expect(row).toMatchObject({
      fullName: "nguyễn thị HOA", birthYear: 1985, provinceCode: "08", communeCode: "00715", affiliation: "border_guard",
      unitName: "Đồn Biên phòng Lũng Cú", goals: ["law", "digital"], phone: "+84912345678", guardianConsent: false,
    });
    expect(card[0]).toContain(row.registrationNumber);
    const consentRow = await h.db.prisma.consent.findFirstOrThrow({ where: { userId: 1001n } });
    expect(consentRow.version).toBe(CONSENT_VERSION);
    expect(Date.now() - consentRow.givenAt.getTime()).toBeLessThan(60_000);
    // The conversation is over: its state is gone from Redis.
    expect(await h.deps.conversations.read("1001")).toBeUndefined();
  });

  it("speaks English to English clients, with English place names", async () => {
    const en = h.user(1002, { language_code: "en" });
    expect((await en.send("/start"))[0]).toMatch(/^Hello Hoa!/);
    await en.press("Register");
    expect(en.buttons()).toEqual(["✅ Agree", "Don't agree", "📄 Read in full"]);
    await en.press("Agree");
    await en.send("Jane Nguyen");
    await en.send("1990");
    expect(en.buttons()).toContain("Ho Chi Minh City");
    expect((await en.send("hai phong"))[0]).toBe("✅ Province/city: Hai Phong City");
    await en.send("cat hai");
    expect(await en.press("Cát Hải")).toEqual(["✅ Commune/ward: Cát Hải Special Zone", "Step 5/7. You are:"]);
    await en.press("Resident");
    await en.press("Digital");
    await en.press("Done");
    expect((await en.send("skip")).at(-1)).toContain("Place: Cát Hải Special Zone, Hai Phong City");
  });

  it("switches to English after /language, mid-flow", async () => {
    const vi = h.user(1003);
    await vi.send("/start");
    await vi.press("Đăng ký");
    await vi.send("/language");
    expect(await vi.press("English")).toContain("Switched to English.");
    expect((await vi.send("/help"))[0]).toMatch(/\/me/);
    expect(await vi.send("Tôi đồng ý")).toEqual(["Please tap one of the buttons above."]);
  });

  it("numbers registrations in the same province one after another", async () => {
    const a = await register(h.user(1004));
    const b = await register(h.user(1014));
    const n = (card: string[]) => Number(/CDHT-08-\d{4}-(\d{6})/.exec(card[0]!)![1]);
    expect(n(b)).toBe(n(a) + 1);
    expect((await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1004n } })).phone).toBeNull();
  });

  it("lets the person fix a field from the summary, and come back with Back", async () => {
    const u = h.user(1005);
    await fillRegistration(u);
    expect(await u.press("Sửa")).toEqual(["Bạn muốn sửa thông tin nào?"]);
    expect((await u.press("Quay lại"))[0]).toMatch(/^Kiểm tra lại thông tin/);
    await u.press("Sửa");
    await u.press("Nơi ở");
    await u.send("ha noi");
    await u.send("ba dinh");
    await u.press("Phường Ba Đình");
    expect(u.replies().at(-1)).toContain("Nơi ở: Phường Ba Đình, TP. Hà Nội");
    const card = await u.press("Xác nhận");
    expect(card[0]).toMatch(new RegExp(`CDHT-01-${year}-\\d{6}`));
    expect((await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1005n } })).communeCode).toBe("00004");
  });

  it("goes back one question at every step, keeping what was answered", async () => {
    const u = h.user(1015);
    await startAt(u, "name");
    expect((await u.press("Quay lại"))[0]).toMatch(/^Trước khi đăng ký/);
    await u.press("Đồng ý");
    await u.send("Trần Văn Bình");
    expect((await u.press("Quay lại"))[0]).toMatch(/^Bước 1\/7/);
    await u.send("Trần Văn An");
    await u.send("1980");
    // At the commune: change province, then back again to the year.
    await u.press("Hải Phòng");
    expect((await u.press("Đổi tỉnh/thành"))[0]).toMatch(/^Bước 3\/7/);
    expect((await u.press("Quay lại"))[0]).toMatch(/^Bước 2\/7/);
    await u.send("1981");
    await u.press("Cà Mau");
    await u.send("bac lieu");
    await u.press("Bạc Liêu");
    await u.press("Công an");
    expect((await u.press("Quay lại"))[0]).toMatch(/^Bước 5\/7/);
    await u.press("Người dân");
    expect((await u.press("Quay lại"))[0]).toMatch(/^Bước 5\/7/);
    await u.press("Người dân");
    await u.press("Nghề");
    await u.press("Xong");
    // The phone step uses a reply keyboard: Back is one of its buttons.
    expect(await u.send("↩️ Quay lại")).toEqual(["↩️ Quay lại câu trước.", expect.stringMatching(/^Bước 6\/7/)]);
    await u.press("Xong");
    const summary = await u.send("Bỏ qua");
    expect(summary.at(-1)).toContain("Họ tên: Trần Văn An\nNăm sinh: 1981\nNơi ở: Phường Bạc Liêu, Cà Mau\nĐối tượng: Người dân\nMục tiêu học tập: Nghề, kỹ thuật nông nghiệp");
    // A Back button of an earlier question no longer works.
    expect(h.unansweredCallbackQueries()).toEqual([]);
  });

  it("a child's registration waits for a guardian's consent from the guardian's own account", async () => {
    const child = h.user(1006);
    await startAt(child, "name");
    await child.send("Lò Thị Mai");
    expect(await child.send(String(year - 12))).toEqual([
      "Bạn dưới 16 tuổi: khi đăng ký xong, cha, mẹ hoặc người giám hộ cần đồng ý từ tài khoản Telegram của họ. Tôi chưa lưu gì cho đến khi họ đồng ý.",
      expect.stringMatching(/^Bước 3\/7/),
    ]);
    await child.press("Tuyên Quang");
    await child.send("lung cu");
    await child.press("Lũng Cú");
    // Affiliations that cannot apply to a child are not offered, and a forged one is refused.
    expect(child.buttons()).toEqual(["Người dân", "Hội viên khuyến học", "Cơ quan, tổ chức khác", "↩️ Quay lại"]);
    expect((await child.pressData("r:aff:police"))[0]).toMatch(/^Lựa chọn không hợp lệ/);
    await child.press("Người dân");
    await child.press("Nghề");
    await child.press("Xong");
    await child.send("Bỏ qua");
    const sent = await child.press("Xác nhận");
    expect(sent[0]).toMatch(/^Còn một bước: cha, mẹ hoặc người giám hộ của bạn cần đồng ý\. Hãy chuyển tiếp tin nhắn dưới đây cho họ\. Đường dẫn dùng được một lần, đến \d{2}:\d{2} ngày \d{2}\/\d{2}\/\d{4}\./);
    const link = /https:\/\/t\.me\/\w+\?start=(g_[A-Za-z0-9_-]+)/.exec(sent[1]!)![1]!;
    // Nothing about the child is stored until the guardian agrees.
    expect(await h.db.prisma.user.findUnique({ where: { id: 1006n } })).toBeNull();
    expect((await child.send("/deleteme"))[0]).toContain("đăng ký đang chờ cha mẹ đồng ý (chưa lưu)");
    await child.press("Giữ lại");

    // The child cannot confirm for themselves.
    expect(await child.send(`/start ${link}`)).toEqual(["Đường dẫn này dành cho cha, mẹ hoặc người giám hộ của bạn: hãy chuyển tiếp cho họ, đừng tự mở."]);
    const guardian = h.user(1016, { first_name: "Páo" });
    const review = await guardian.send(`/start ${link}`);
    expect(review[0]).toMatch(/^Xác nhận của cha, mẹ hoặc người giám hộ/);
    expect(review[0]).toContain("Họ tên: Lò Thị Mai");
    expect(await guardian.press("Tôi đồng ý")).toEqual(["✅ Anh/chị đã đồng ý.", "Họ và tên của anh/chị (người đồng ý)?"]);
    const calls = h.fake.calls.length;
    expect(await guardian.send("Lò Văn Páo")).toEqual(["Cảm ơn anh/chị. Em đã được ghi nhận là Công dân học tập, và tôi đã báo cho em."]);
    const toChild = h.fake.calls.slice(calls).find((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 1006);
    expect((toChild!.result as { text: string }).text).toMatch(/^🎉 Cha, mẹ hoặc người giám hộ của bạn \(Lò Văn Páo\) đã đồng ý\.[\s\S]*THẺ CÔNG DÂN HỌC TẬP/);
    expect(await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1006n } })).toMatchObject({ guardianConsent: true, guardianName: "Lò Văn Páo", fullName: "Lò Thị Mai" });
    // The guardian's account is not stored, and the link works once.
    expect(await h.db.prisma.user.findUnique({ where: { id: 1016n } })).toBeNull();
    expect(await h.user(1017).send(`/start ${link}`)).toEqual(["Đường dẫn xác nhận này không còn hiệu lực (đã dùng hoặc đã hết hạn). Hãy nhờ em đăng ký lại để có đường dẫn mới."]);
  });

  it("a guardian who refuses leaves nothing stored, and the child is told", async () => {
    const child = h.user(1007);
    await fillRegistration(child, { year: String(year - 10), affiliation: "Người dân" });
    const sent = await child.press("Xác nhận");
    const link = /start=(g_[A-Za-z0-9_-]+)/.exec(sent[1]!)![1]!;
    const guardian = h.user(1018);
    await guardian.send(`/start ${link}`);
    const calls = h.fake.calls.length;
    expect(await guardian.press("Không đồng ý")).toEqual(["Tôi đã ghi nhận anh/chị không đồng ý. Không có thông tin nào của em được lưu; tôi đã báo cho em."]);
    expect(h.fake.calls.slice(calls).some((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 1007 && /chưa đồng ý/.test((c.result as { text: string }).text))).toBe(true);
    expect(await h.db.prisma.user.findUnique({ where: { id: 1007n } })).toBeNull();
    expect(await h.deps.services.guardianRequests.ofChild("1007")).toBeUndefined();
  });

  it("an unconfirmed request expires", async () => {
    const requests = h.deps.services.guardianRequests;
    const past = new Date(Date.now() - (requests.ttlHours + 1) * 3600_000);
    const draft = { consentVersion: "v", consentAt: past.toISOString(), fullName: "Lò Thị Mai", birthYear: year - 12, provinceCode: "08", communeCode: "00715", affiliation: "resident" as const, goals: ["law" as const] };
    const { token } = await requests.create("1019", draft, "vi", past);
    expect(await requests.get(token, new Date())).toBeUndefined();
    expect(await h.user(1029).send(`/start g_${token}`)).toEqual(["Đường dẫn xác nhận này không còn hiệu lực (đã dùng hoặc đã hết hạn). Hãy nhờ em đăng ký lại để có đường dẫn mới."]);
  });

  it("stores nothing when the person declines the notice", async () => {
    const u = h.user(1008);
    await u.send("/start");
    await u.press("Đăng ký");
    expect((await u.press("Không đồng ý"))[0]).toMatch(/không lưu bất kỳ thông tin nào/);
    expect(await h.db.prisma.user.findUnique({ where: { id: 1008n } })).toBeNull();
    expect(await h.db.prisma.consent.count({ where: { userId: 1008n } })).toBe(0);
    expect(await h.deps.conversations.read("1008")).toBeUndefined();
  });

  it("shows the card with /me and refuses a second registration", async () => {
    const u = h.user(1009);
    await register(u);
    expect((await u.send("/me"))[0]).toMatch(/THẺ CÔNG DÂN HỌC TẬP\nSố: CDHT-08-\d{4}-\d{6}\nHọ tên: Nguyễn Thị Hoa/);
    const again = await u.send("/start");
    expect(again[0]).toMatch(/^Xin chào.*\n\nBạn đã là Công dân học tập\. Gõ \/me để xem thẻ, \/edit để sửa thông tin\.$/s);
    expect(u.buttons()).toEqual([]);
    expect((await h.user(1099).send("/me"))[0]).toBe("Bạn chưa đăng ký Công dân học tập.");
  });

  it("changes one field with /edit, without step numbers, and keeps the registration number", async () => {
    const u = h.user(1010);
    const card = await register(u);
    const number = /CDHT-\d{2}-\d{4}-\d{6}/.exec(card[0]!)![0];
    await u.send("/edit");
    expect(await u.press("Họ tên")).toEqual(["✅ Đang sửa: Họ tên", "Họ và tên của bạn là gì? Gõ đủ họ và tên, ví dụ: Nguyễn Thị Hoa."]);
    const r = await u.send("Trần Văn Nam");
    expect(r[0]).toMatch(/^Đã cập nhật\./);
    expect(r[0]).toContain("Họ tên: Trần Văn Nam");
    expect(r[0]).toContain(number);
    expect((await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1010n } })).fullName).toBe("Trần Văn Nam");
  });

  it("keeps the 'other' goal's text on /edit and lists it last", async () => {
    const u = h.user(1011);
    await startAt(u, "name");
    await u.send("Nguyễn Thị Hoa");
    await u.send("1985");
    await u.press("Tuyên Quang");
    await u.send("lung cu");
    await u.press("Lũng Cú");
    await u.press("Người dân");
    await u.press("Khác");
    expect((await u.press("Xong"))[1]).toBe("Mục tiêu khác của bạn là gì? (viết ngắn gọn)");
    await u.send("Trồng cà phê");
    await u.send("Bỏ qua");
    await u.press("Xác nhận");
    await u.send("/edit");
    await u.press("Mục tiêu học tập");
    await u.press("Pháp luật");
    const r = await u.press("Xong");
    expect(r[0]).toBe("✅ Mục tiêu học tập: Pháp luật, kiến thức công dân, Khác: Trồng cà phê");
    expect(r[1]).toContain("Mục tiêu học tập: Pháp luật, kiến thức công dân, Khác: Trồng cà phê");
    expect(await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 1011n } })).toMatchObject({ goals: ["law", "other"], otherGoal: "Trồng cà phê" });
  });
});

describe("names and places people actually type", () => {
  it("accepts a one-word name only after the person confirms it", async () => {
    const u = h.user(1020);
    await startAt(u, "name");
    expect((await u.send("Mai"))[0]).toMatch(/^Bạn chỉ gõ một chữ: «Mai»/);
    expect((await u.press("Gõ lại"))[0]).toMatch(/^Bước 1\/7/);
    await u.send("Mai");
    expect(await u.press("Đúng, tên tôi chỉ có vậy")).toEqual(["✅ Họ tên: Mai", "Bước 2/7. Bạn sinh năm nào? (4 chữ số, ví dụ: 1985)"]);
  });

  it.each([
    ["Hanoi", "✅ Tỉnh/thành: TP. Hà Nội"],
    ["danang", "✅ Tỉnh/thành: TP. Đà Nẵng"],
    ["TP.HCM", "✅ Tỉnh/thành: TP. Hồ Chí Minh"],
    ["thanh hoa", "✅ Tỉnh/thành: Thanh Hóa"],
  ])("finds the province from %j", async (typed, echo) => {
    const u = h.user(1030 + typed.length);
    await startAt(u, "name");
    await u.send("Trần Văn Bình");
    await u.send("1980");
    expect((await u.send(typed))[0]).toBe(echo);
    await u.send("/cancel");
  });

  it("asks 'Có phải bạn ở …?' for a typo, and 'no' lets the person type again", async () => {
    const u = h.user(1040);
    await startAt(u, "name");
    await u.send("Trần Văn Bình");
    await u.send("1980");
    expect(await u.send("ha noii")).toEqual(["Có phải bạn ở Thành phố Hà Nội?"]);
    expect(u.buttons()).toEqual(["✅ Đúng, TP. Hà Nội", "✏️ Không, gõ lại"]);
    expect(await u.press("Không, gõ lại")).toEqual(["Bạn gõ lại tên tỉnh/thành nhé (không cần dấu)."]);
    await u.send("ha noii");
    expect((await u.press("Đúng, TP. Hà Nội"))[0]).toBe("✅ Tỉnh/thành: TP. Hà Nội");
    expect(await u.send("ba dihn")).toEqual(["Có phải bạn ở Phường Ba Đình?"]);
    expect((await u.press("Phường Ba Đình"))[0]).toBe("✅ Xã/phường: Phường Ba Đình");
  });
});
