import { describe, expect, it } from "vitest";
import { useHarness } from "../support/harness.js";
import { register, startAt } from "../support/flows.js";
import type { AddressInfo } from "node:net";
import { createWebhookServer } from "../../src/server/webhook.js";
import { callbackQuery, editedMessage, photoMessage, pollAnswer, stickerMessage } from "../support/telegram/index.js";

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

  it.each(["zzz", "p:prov:01", "lang:xx", "del:maybe", "edit:role", "f:back:go", "x".repeat(64)])("a stale or forged button %j", async (data) => {
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
    await startAt(u, "name");
    await u.send("Nguyễn Thị Hoa");
    h.fake.failNext("sendMessage", { error_code: 400, description: "Bad Request: chat not found" });
    expect((await u.send("1990"))[0]).toMatch(/^Xin lỗi, đã có lỗi/);
    // The failed step is asked again; the earlier answers are kept.
    expect((await u.send("1990"))[0]).toMatch(/^Bước 3\/7/);
  });

  it("a button whose step fails is still answered, the person is told, and the flow goes on", async () => {
    const u = h.user(7104);
    await u.send("/start");
    await u.press("Đăng ký");
    // "Read in full" shows the notice: Telegram refuses that message, so the step fails.
    h.fake.failNext("sendMessage", { error_code: 400, description: "Bad Request: message is too long" });
    const r = await u.press("📄 Đọc đầy đủ");
    expect(r).toEqual(["Xin lỗi, đã có lỗi ở phía chúng tôi. Bạn vui lòng thử lại sau ít phút; thông tin đã lưu không bị mất."]);
    expect(h.unansweredCallbackQueries()).toEqual([]);
    expect((await u.press("Đồng ý")).at(-1)).toMatch(/^Bước 1\/7/);
  });

  it("a press Telegram will not let us answer (too old) still counts, and is only a warning", async () => {
    const u = h.user(7106);
    await u.send("/start");
    await u.press("Đăng ký");
    h.fake.failNext("answerCallbackQuery", { error_code: 400, description: "Bad Request: query is too old and response timeout expired or query ID is invalid" });
    expect((await u.press("Đồng ý")).at(-1)).toMatch(/^Bước 1\/7/);
    expect(h.logged(50)).toEqual([]);
    expect(h.logged(40).map((l) => l.msg)).toContain("a call beside the flow failed (button answer or tidying edit)");
    // The answer is tried once more at the end of the update.
    expect(h.unansweredCallbackQueries()).toEqual([]);
  });

  it("a person who blocked the bot is marked unreachable, logged at info, and not apologised to", async () => {
    const u = h.user(7105);
    await register(u);
    h.fake.failNext("sendMessage", { error_code: 403, description: "Forbidden: bot was blocked by the user" });
    expect(await u.send("/help")).toEqual([]);
    expect((await h.db.prisma.user.findUniqueOrThrow({ where: { id: 7105n } })).unreachableSince).toBeInstanceOf(Date);
    expect(h.logged(40)).toEqual([]);
  });
});

describe("updates that are not messages", () => {
  it("a poll answer (no chat) for a poll the bot does not know is handled without an error, with a word to the voter", async () => {
    const u = h.user(7301);
    const before = h.fake.calls.length;
    await h.handle(pollAnswer(u.tg, "5000000001", [0]));
    expect(h.logged(40)).toEqual([]);
    const sent = h.fake.calls.slice(before).filter((c) => c.method === "sendMessage");
    expect(sent.map((c) => [c.payload.chat_id, c.payload.text])).toEqual([[7301, "Câu hỏi đó đã đóng nên câu trả lời không được tính. Gõ /quiz để làm lượt mới."]]);
  });

  it("blocking the bot mid-registration is not an answer; coming back continues the flow", async () => {
    const u = h.user(7302);
    await register(h.user(7302)).catch(() => undefined);
    const v = h.user(7303);
    await startAt(v, "name");
    const member = (status: "kicked" | "member") => ({
      my_chat_member: {
        chat: { id: v.id, type: "private" as const, first_name: v.tg.first_name }, from: v.tg, date: Math.floor(Date.now() / 1000),
        old_chat_member: { user: { ...h.fake.botInfo }, status: status === "kicked" ? "member" : "kicked" },
        new_chat_member: { user: { ...h.fake.botInfo }, status, ...(status === "kicked" ? { until_date: 0 } : {}) },
      },
    });
    expect(await v.sendUpdate(member("kicked") as never)).toEqual([]);
    expect(h.logged(40)).toEqual([]);
    await v.sendUpdate(member("member") as never);
    expect((await v.send("Vũ Thị Hằng"))[0]).toMatch(/^Bước 2\/7/);
    // A registered person blocking the bot is remembered until they come back.
    await u.sendUpdate({ ...member("kicked"), my_chat_member: { ...member("kicked").my_chat_member, chat: { id: u.id, type: "private", first_name: "Hoa" }, from: u.tg } } as never);
    expect((await h.db.prisma.user.findUniqueOrThrow({ where: { id: 7302n } })).unreachableSince).toBeInstanceOf(Date);
    await u.sendUpdate({ ...member("member"), my_chat_member: { ...member("member").my_chat_member, chat: { id: u.id, type: "private", first_name: "Hoa" }, from: u.tg } } as never);
    expect((await h.db.prisma.user.findUniqueOrThrow({ where: { id: 7302n } })).unreachableSince).toBeNull();
  });

  it("buttons pressed in a group or on an inline message are answered", async () => {
    const u = h.user(7304);
    h.fake.registerChat(-100777, { type: "supergroup", title: "Đồn Biên phòng" } as never);
    const group = { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: -100777, type: "supergroup" as const, title: "Đồn Biên phòng" }, text: "x" };
    await u.sendUpdate(callbackQuery(u.tg, "reg:start", group as never));
    const inline = callbackQuery(u.tg, "reg:start");
    delete (inline.callback_query as { message?: unknown }).message;
    (inline.callback_query as { inline_message_id?: string }).inline_message_id = "AAAAAQ";
    await u.sendUpdate(inline);
    expect(h.unansweredCallbackQueries()).toEqual([]);
    expect(h.logged(50)).toEqual([]);
  });
});

describe("the webhook endpoint", () => {
  it("answers 400 to a body that is not JSON, without an error line", async () => {
    const server = createWebhookServer(h.bot, "s".repeat(32), h.deps.logger, async () => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/telegram/webhook`, {
        method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "s".repeat(32) }, body: "{not json",
      });
      expect(res.status).toBe(400);
      expect(h.logged(50)).toEqual([]);
      // A body over 1 MB is refused before it is read.
      const big = await fetch(`http://127.0.0.1:${port}/telegram/webhook`, {
        method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "s".repeat(32) }, body: "x".repeat(1024 * 1024 + 1),
      });
      expect(big.status).toBe(413);
      expect(server.headersTimeout).toBeLessThanOrEqual(5_000);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
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
});
