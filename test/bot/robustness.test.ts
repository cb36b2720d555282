import { describe, expect, it } from "vitest";
import { useHarness } from "../support/harness.js";
import { register } from "../support/flows.js";
import { editedMessage, photoMessage, stickerMessage } from "../support/telegram/index.js";

const h = useHarness();

describe("unexpected input outside any flow gets a helpful answer", () => {
  it.each([
    ["a sticker", () => stickerMessage(h.user(7001).tg), "Tôi chỉ đọc được chữ và nút bấm. Gõ /help để xem các lệnh."],
    ["a photo", () => photoMessage(h.user(7001).tg, "ảnh"), "Tôi chỉ đọc được chữ và nút bấm. Gõ /help để xem các lệnh."],
    ["an edited message", () => editedMessage(h.user(7001).tg, "sửa"), "Tôi không đọc tin nhắn đã sửa. Vui lòng gửi lại thành tin nhắn mới."],
  ])("%s", async (_name, make, answer) => {
    expect(await h.user(7001).sendUpdate(make())).toEqual([answer]);
  });

  it("free text and unknown commands", async () => {
    const u = h.user(7002);
    expect(await u.send("xin chào")).toEqual(["Tôi chưa hiểu. Gõ /start để đăng ký, /me để xem thẻ hoặc /help để xem các lệnh."]);
    expect(await u.send("/dangky")).toEqual(["Tôi chưa hiểu lệnh này. Gõ /help để xem các lệnh có thể dùng."]);
    expect(await h.user(7003, { language_code: "en" }).send("/what")).toEqual([expect.stringMatching(/\/help/)]);
  });

  it.each(["zzz", "r:prov:01", "lang:xx", "del:maybe", "edit:role", "x".repeat(64)])("a stale or forged button %j", async (data) => {
    const r = await h.user(7004).pressData(data);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatch(/^\[answer\] (Nút này đã hết hiệu lực|Nút không hợp lệ)/);
  });
});

describe("Telegram failures are contained", () => {
  it("a rejected call gets the person an apology, and the bot keeps working", async () => {
    const u = h.user(7101);
    h.fake.failNext("sendMessage", { error_code: 400, description: "Bad Request: chat not found" });
    const r = await u.send("/help");
    expect(r).toEqual(["Xin lỗi, đã có lỗi ở phía chúng tôi. Bạn vui lòng thử lại sau ít phút; thông tin đã lưu không bị mất."]);
    expect((await u.send("/help"))[0]).toMatch(/^Các lệnh/);
  });

  it("a 429 is retried after retry_after, and the answer arrives", async () => {
    const u = h.user(7102);
    h.fake.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 1", parameters: { retry_after: 1 } });
    const started = Date.now();
    const r = await u.send("/help");
    expect(r).toEqual([expect.stringMatching(/^Các lệnh/)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("a failure inside the registration does not lose the answers given so far", async () => {
    const u = h.user(7103);
    await u.send("/start");
    await u.press("Đồng ý");
    await u.send("Nguyễn Thị Hoa");
    h.fake.failNext("sendMessage", { error_code: 400, description: "Bad Request: chat not found" });
    expect((await u.send("1990"))[0]).toMatch(/^Xin lỗi, đã có lỗi/);
    // The failed step is asked again; the earlier answers are kept.
    expect((await u.send("1990"))[0]).toMatch(/^Bước 3\/7/);
  });
});

describe("language and personal data", () => {
  it("a registered person's /language choice is saved with their data", async () => {
    const u = h.user(7201);
    await register(u);
    await u.send("/language");
    await u.press("English");
    expect((await h.db.prisma.user.findUniqueOrThrow({ where: { id: 7201n } })).locale).toBe("en");
    expect((await u.send("/me"))[0]).toMatch(/LEARNING CITIZEN|Learning citizen/i);
  });

  it("/mydata includes the answers of an unfinished registration", async () => {
    const u = h.user(7202);
    await u.send("/start");
    await u.press("Đồng ý");
    await u.send("Đinh Thị Lan");
    await u.send("/mydata");
    const data = JSON.parse(h.fake.lastDocument(7202)!.content.toString("utf8"));
    expect(data.learning_citizen).toBeNull();
    expect(JSON.stringify(data.unfinished_flow_state)).toContain("Đinh Thị Lan");
  });
});
