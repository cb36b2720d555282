// Proves the fake Telegram is strict where Telegram is strict (and lenient
// where Telegram is lenient), in-process and over real HTTP.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { Bot, GrammyError, InputFile, webhookCallback } from "grammy";
import type { Message, Update } from "grammy/types";
import { afterEach, describe, expect, it } from "vitest";
import {
  FakeTelegram,
  UnsupportedByFakeError,
  callbackQuery,
  command,
  createFakeFetch,
  makeUser,
  startFakeBotApiServer,
  textMessage,
  type ApiResponse,
  type FakeBotApiServer,
} from "./support/telegram/index.js";

const user = makeUser(5550001, { first_name: "Lan", language_code: "vi" });

function fakeWithChat(): FakeTelegram {
  const fake = new FakeTelegram();
  fake.registerChat(user.id);
  return fake;
}

function send(fake: FakeTelegram, payload: Record<string, unknown>): ApiResponse {
  return fake.call("sendMessage", { chat_id: user.id, ...payload });
}

function expectRejected(response: ApiResponse, description: string, errorCode = 400): void {
  expect(response).toEqual({ ok: false, error_code: errorCode, description });
}

const parseError = (detail: string) => `Bad Request: can't parse entities: ${detail}`;

function inProcessBot(fake: FakeTelegram): Bot {
  return new Bot(fake.token, { botInfo: fake.botInfo, client: { fetch: createFakeFetch(fake) } });
}

describe("HTML parse_mode follows Telegram's parser", () => {
  const html = (text: string) => send(fakeWithChat(), { text, parse_mode: "HTML" });

  it("rejects broken markup with Telegram's wording and byte offsets", () => {
    expectRejected(html("<b>chưa đóng"), parseError('Can\'t find end tag corresponding to start tag "b"'));
    expectRejected(html("<div>x</div>"), parseError('Unsupported start tag "div" at byte offset 0'));
    expectRejected(html("<b><i>test</b></i>"), parseError('Unmatched end tag at byte offset 10, expected "</i>", found "</b>"'));
    expectRejected(html('<a href=x/>y</a>'), parseError("Unexpected end of name token at byte offset 8"));
    expectRejected(html("1 < 2"), parseError('Unsupported start tag "" at byte offset 2'));
    expectRejected(html("x</b>"), parseError("Unexpected end tag at byte offset 1"));
    expectRejected(html("<span>x</span>"), parseError('Tag "span" must have class "tg-spoiler" at byte offset 0'));
  });

  it("counts offsets in UTF-8 bytes, not characters", () => {
    const prefix = "Khuyến học ";
    expect(Buffer.byteLength(prefix)).toBeGreaterThan(prefix.length);
    expectRejected(html(`${prefix}<br>`), parseError(`Unsupported start tag "br" at byte offset ${Buffer.byteLength(prefix)}`));
  });

  it("accepts what Telegram accepts, including a bare & and unknown named entities", () => {
    const response = html('Tom & Jerry&nbsp;<b>đậm</b> <a href="https://example.com/?a=1&amp;b=2">link</a> &lt;3 &#x1F600;');
    expect(response.ok).toBe(true);
    const message = (response as { result: Message }).result;
    expect(message.text).toBe("Tom & Jerry&nbsp;đậm link <3 😀");
    expect(message.entities).toEqual([
      { type: "bold", offset: 17, length: 3 },
      { type: "text_link", offset: 21, length: 4, url: "https://example.com/?a=1&b=2" },
    ]);
  });

  it("supports spoilers, expandable blockquotes and pre with a language", () => {
    const response = html(
      '<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span><blockquote expandable>c</blockquote><pre><code class="language-ts">d</code></pre>',
    );
    expect((response as { result: Message }).result.entities).toEqual([
      { type: "spoiler", offset: 0, length: 1 },
      { type: "spoiler", offset: 1, length: 1 },
      { type: "expandable_blockquote", offset: 2, length: 1 },
      { type: "pre", offset: 3, length: 1, language: "ts" },
    ]);
  });

  it("refuses MarkdownV2 as unsupported by the fake instead of guessing", () => {
    expect(() => send(fakeWithChat(), { text: "*đậm*", parse_mode: "MarkdownV2" })).toThrow(UnsupportedByFakeError);
    expectRejected(send(fakeWithChat(), { text: "x", parse_mode: "Markdown3" }), "Bad Request: unsupported parse_mode");
  });
});

describe("text limits are counted after entity parsing", () => {
  it("accepts <b> + 4096 characters + </b> and rejects 4097", () => {
    const fake = fakeWithChat();
    expect(send(fake, { text: `<b>${"x".repeat(4096)}</b>`, parse_mode: "HTML" }).ok).toBe(true);
    expectRejected(send(fake, { text: `<b>${"x".repeat(4097)}</b>`, parse_mode: "HTML" }), "Bad Request: message is too long");
    // An entity counts as the one character it stands for.
    expect(send(fake, { text: `${"x".repeat(4095)}&lt;`, parse_mode: "HTML" }).ok).toBe(true);
  });

  it("rejects empty and whitespace-only text like Telegram", () => {
    const fake = fakeWithChat();
    expectRejected(send(fake, { text: "" }), "Bad Request: message text is empty");
    expectRejected(send(fake, { text: " \n " }), "Bad Request: text must be non-empty");
    expectRejected(send(fake, { text: "<b> </b>", parse_mode: "HTML" }), "Bad Request: text must be non-empty");
  });

  it("needs a chat_id and a chat the bot knows", () => {
    const fake = new FakeTelegram();
    expectRejected(fake.call("sendMessage", { text: "chào" }), "Bad Request: chat_id is empty");
    expectRejected(fake.call("sendMessage", { chat_id: 42, text: "chào" }), "Bad Request: chat not found");
    fake.enqueueUpdate(textMessage(makeUser(42), "xin chào"));
    expect(fake.call("sendMessage", { chat_id: "42", text: "chào" }).ok).toBe(true);
    fake.blockChat(42);
    expectRejected(fake.call("sendMessage", { chat_id: 42, text: "chào" }), "Forbidden: bot was blocked by the user", 403);
  });
});

describe("reply markup", () => {
  const keyboard = (callback_data: string) => ({ inline_keyboard: [[{ text: "Chọn", callback_data }]] });

  it("limits callback_data to 64 bytes, not 64 characters", () => {
    const fake = fakeWithChat();
    const sixtyFourBytes = "ệ".repeat(21) + "a"; // 22 characters, 21 × 3 + 1 bytes
    const sixtyFiveBytes = "ệ".repeat(21) + "ab";
    expect(Buffer.byteLength(sixtyFourBytes)).toBe(64);
    expect(Buffer.byteLength(sixtyFiveBytes)).toBe(65);
    expect(send(fake, { text: "ok", reply_markup: keyboard(sixtyFourBytes) }).ok).toBe(true);
    expectRejected(send(fake, { text: "no", reply_markup: keyboard(sixtyFiveBytes) }), "Bad Request: BUTTON_DATA_INVALID");
  });

  it("reads markup sent as a JSON string, as grammY does in multipart requests", () => {
    const fake = fakeWithChat();
    const response = send(fake, { text: "x", reply_markup: JSON.stringify(keyboard("a:1")) });
    expect((response as { result: Message }).result.reply_markup).toEqual(keyboard("a:1"));
    expectRejected(send(fake, { text: "x", reply_markup: "{not json" }), "Bad Request: can't parse reply keyboard markup JSON object");
  });

  it("rejects buttons Telegram rejects", () => {
    const fake = fakeWithChat();
    const buttons = (button: Record<string, unknown>) => send(fake, { text: "x", reply_markup: { inline_keyboard: [[button]] } });
    expectRejected(buttons({ text: "A" }), "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
    expectRejected(buttons({ text: "A", callback_data: "" }), "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
    expectRejected(buttons({ callback_data: "x" }), 'Bad Request: can\'t parse inline keyboard button: Can\'t find field "text"');
    expectRejected(buttons({ text: " ", callback_data: "x" }), "Bad Request: BUTTON_TEXT_INVALID");
    expectRejected(buttons({ text: "A", url: "not-a-url" }), "Bad Request: inline keyboard button URL 'not-a-url' is invalid: Wrong HTTP URL");
    const tooMany = Array.from({ length: 101 }, (_, i) => [{ text: `${i}`, callback_data: `${i}` }]);
    expectRejected(send(fake, { text: "x", reply_markup: { inline_keyboard: tooMany } }), "Bad Request: REPLY_MARKUP_TOO_LONG");
    expectRejected(send(fake, { text: "x", reply_markup: { keyboard: [[{ text: "" }]] } }), "Bad Request: BUTTON_TEXT_INVALID");
    expect(send(fake, { text: "x", reply_markup: { keyboard: [["Gửi số", { text: "Chia sẻ", request_contact: true }]] } }).ok).toBe(true);
  });
});

describe("edits and callback queries", () => {
  it("fails to edit a message the bot never sent, or with identical content", () => {
    const fake = fakeWithChat();
    expectRejected(
      fake.call("editMessageText", { chat_id: user.id, message_id: 999, text: "mới" }),
      "Bad Request: message to edit not found",
    );
    const sent = (send(fake, { text: "<b>cũ</b>", parse_mode: "HTML" }) as { result: Message }).result;
    const edit = { chat_id: user.id, message_id: sent.message_id, text: "<b>cũ</b>", parse_mode: "HTML" };
    expectRejected(
      fake.call("editMessageText", edit),
      "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
    );
    expect(fake.call("editMessageText", { ...edit, text: "cũ" }).ok).toBe(true); // entities differ
    expect(fake.lastText(user.id)).toBe("cũ");
  });

  it("refuses to edit the user's own messages", () => {
    const fake = new FakeTelegram();
    const update = fake.enqueueUpdate(textMessage(user, "tin nhắn của tôi"));
    expectRejected(
      fake.call("editMessageText", { chat_id: user.id, message_id: update.message!.message_id, text: "sửa" }),
      "Bad Request: message can't be edited",
    );
  });

  it("answers a callback query only once, and only known ones", () => {
    const fake = new FakeTelegram();
    const update = fake.enqueueUpdate(callbackQuery(user, "menu:main"));
    const id = update.callback_query!.id;
    const tooOld = "Bad Request: query is too old and response timeout expired or query ID is invalid";
    expect(fake.call("answerCallbackQuery", { callback_query_id: id })).toEqual({ ok: true, result: true });
    expectRejected(fake.call("answerCallbackQuery", { callback_query_id: id }), tooOld);
    expectRejected(fake.call("answerCallbackQuery", { callback_query_id: "123" }), tooOld);
    fake.registerCallbackQuery("cb-2");
    expectRejected(fake.call("answerCallbackQuery", { callback_query_id: "cb-2", text: "x".repeat(201) }), "Bad Request: MESSAGE_TOO_LONG");
  });
});

describe("methods", () => {
  it("answers an unknown method with Telegram's 404 and a real but unsimulated one with a clear error", () => {
    const fake = new FakeTelegram();
    expect(fake.call("sendMessagee", {})).toEqual({ ok: false, error_code: 404, description: "Not Found" });
    expect(() => fake.call("sendVideo", { chat_id: 1 })).toThrow(/Not implemented by FakeTelegram: method sendVideo/);
    expect(fake.call("GETME").ok).toBe(true); // method names are case-insensitive
  });

  it("validates bot commands", () => {
    const fake = new FakeTelegram();
    const set = (commands: unknown) => fake.call("setMyCommands", { commands });
    expect(set([{ command: "start", description: "Bắt đầu" }])).toEqual({ ok: true, result: true });
    expect(fake.call("getMyCommands", {})).toEqual({ ok: true, result: [{ command: "start", description: "Bắt đầu" }] });
    expectRejected(set([{ command: "bad command", description: "x" }]), "Bad Request: BOT_COMMAND_INVALID");
    expectRejected(set([{ command: "Start", description: "x" }]), "Bad Request: BOT_COMMAND_INVALID");
    expectRejected(set([{ command: "", description: "x" }]), "Bad Request: command must be non-empty");
    expectRejected(set([{ command: "start", description: "" }]), "Bad Request: command description must be non-empty");
    expectRejected(set(Array.from({ length: 101 }, (_, i) => ({ command: `c${i}`, description: "x" }))), "Bad Request: BOT_COMMANDS_TOO_MUCH");
  });

  it("holds quiz polls to Telegram's limits", () => {
    const fake = fakeWithChat();
    const poll = (extra: Record<string, unknown>) => fake.call("sendPoll", { chat_id: user.id, question: "Ngày Biên phòng toàn dân?", options: [{ text: "3/3" }, { text: "19/5" }], type: "quiz", correct_option_id: 0, is_anonymous: false, ...extra });
    const ok = poll({ open_period: 30, explanation: "Ngày 3 tháng 3 hằng năm." });
    expect(ok.ok).toBe(true);
    expect((ok as { result: { poll: { id: string; type: string; is_anonymous: boolean } } }).result.poll).toMatchObject({ type: "quiz", is_anonymous: false });
    expectRejected(poll({ open_period: 4 }), "Bad Request: open_period must be between 5 and 600");
    expectRejected(poll({ open_period: 601 }), "Bad Request: open_period must be between 5 and 600");
    expectRejected(poll({ explanation: "a\nb\nc\nd" }), "Bad Request: explanation must not contain more than 2 line feeds");
    expectRejected(poll({ explanation: "x".repeat(201) }), "Bad Request: explanation is too long");
    expectRejected(poll({ options: [{ text: "3/3" }] }), "Bad Request: poll must have at least 2 options");
    expectRejected(poll({ correct_option_id: 2 }), "Bad Request: wrong correct option ID specified");
    expectRejected(poll({ question: "x".repeat(301) }), "Bad Request: poll question length must not exceed 300");
  });

  it("lets tests inject failures such as flood limits", () => {
    const fake = fakeWithChat();
    fake.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 3", parameters: { retry_after: 3 } });
    expect(send(fake, { text: "a" })).toEqual({
      ok: false,
      error_code: 429,
      description: "Too Many Requests: retry after 3",
      parameters: { retry_after: 3 },
    });
    expect(send(fake, { text: "a" }).ok).toBe(true);
  });
});

describe("getUpdates offset semantics", () => {
  it("confirms updates below the offset and respects limit and allowed_updates", () => {
    const fake = new FakeTelegram();
    const ids = ["một", "hai", "ba"].map((text) => fake.enqueueUpdate(textMessage(user, text)).update_id);
    const updates = (payload: Record<string, unknown>) => (fake.call("getUpdates", payload) as { result: Update[] }).result;
    expect(updates({}).map((u) => u.update_id)).toEqual(ids);
    expect(updates({}).map((u) => u.update_id)).toEqual(ids); // unconfirmed updates come again
    expect(updates({ offset: ids[1] }).map((u) => u.update_id)).toEqual(ids.slice(1));
    expect(updates({}).map((u) => u.update_id)).toEqual(ids.slice(1)); // the first one is gone for good
    expect(updates({ offset: 0, limit: 1 }).map((u) => u.update_id)).toEqual([ids[1]]);
    expect(updates({ offset: -1 }).map((u) => u.update_id)).toEqual([ids[2]]);
    fake.enqueueUpdate(callbackQuery(user, "x"));
    expect(updates({ allowed_updates: JSON.stringify(["callback_query"]) }).map((u) => Object.keys(u)[1])).toEqual(["callback_query"]);
  });

  it("refuses getUpdates while a webhook is set", () => {
    const fake = new FakeTelegram();
    expect(fake.call("setWebhook", { url: "https://example.com/hook", secret_token: "s3cr3t_-" })).toEqual({
      ok: true,
      result: true,
      description: "Webhook was set",
    });
    expectRejected(
      fake.call("getUpdates", {}),
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      409,
    );
    expectRejected(fake.call("setWebhook", { url: "https://example.com/hook", secret_token: "a+b" }), "Bad Request: secret token contains unallowed characters");
    expectRejected(fake.call("setWebhook", { url: "http://example.com/hook" }), "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
  });
});

describe("grammY in-process via createFakeFetch", () => {
  it("surfaces Telegram's description as a GrammyError", async () => {
    const fake = fakeWithChat();
    const bot = inProcessBot(fake);
    const error = await bot.api.sendMessage(user.id, "<b>lỗi", { parse_mode: "HTML" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).error_code).toBe(400);
    expect((error as GrammyError).description).toBe(parseError('Can\'t find end tag corresponding to start tag "b"'));
    const notFound = await bot.api.sendMessage(777, "chào").catch((e: unknown) => e);
    expect((notFound as GrammyError).description).toBe("Bad Request: chat not found");
  });

  it("uploads a document as multipart with an InputFile built from a Buffer", async () => {
    const fake = fakeWithChat();
    const bot = inProcessBot(fake);
    const csv = Buffer.from("họ tên,xã\nNguyễn Văn A,Tân Lập\n", "utf8");
    const message = await bot.api.sendDocument(user.id, new InputFile(csv, "danh sách học viên.csv"), {
      caption: "<b>Báo cáo</b> tháng 5",
      parse_mode: "HTML",
      reply_markup: { inline_keyboard: [[{ text: "Tải lại", callback_data: "report:reload" }]] },
    });
    expect(message.document).toMatchObject({ file_name: "danh sách học viên.csv", mime_type: "text/csv", file_size: csv.length });
    expect(message.caption).toBe("Báo cáo tháng 5");
    const stored = fake.lastDocument(user.id);
    expect(stored?.content.equals(csv)).toBe(true);
    expect(stored?.content.toString("utf8").split("\n")[1]).toBe("Nguyễn Văn A,Tân Lập");
    // The recorded payload shows what went over the wire: JSON fields decoded, the file as an upload.
    const call = fake.sent(user.id).at(-1);
    expect(call?.payload.reply_markup).toEqual({ inline_keyboard: [[{ text: "Tải lại", callback_data: "report:reload" }]] });
    expect(call?.payload.document).toMatch(/^attach:\/\//);
  });

  it("rejects a caption that is too long in a multipart upload", async () => {
    const fake = fakeWithChat();
    const bot = inProcessBot(fake);
    const error = await bot.api
      .sendDocument(user.id, new InputFile(Buffer.from("a"), "a.txt"), { caption: "x".repeat(1025) })
      .catch((e: unknown) => e);
    expect((error as GrammyError).description).toBe("Bad Request: message caption is too long");
  });

  it("rejects a wrong token with 401", async () => {
    const fake = new FakeTelegram();
    const bot = new Bot("1:wrong", { botInfo: fake.botInfo, client: { fetch: createFakeFetch(fake) } });
    const error = await bot.api.getMe().catch((e: unknown) => e);
    expect((error as GrammyError).error_code).toBe(401);
    expect((error as GrammyError).description).toBe("Unauthorized");
  });

  it("runs a polling bot end to end", async () => {
    const fake = new FakeTelegram();
    const bot = inProcessBot(fake);
    bot.command("start", (ctx) => ctx.reply(`Chào <b>${ctx.from?.first_name ?? ""}</b>!`, { parse_mode: "HTML" }));
    const running = bot.start({ timeout: 5 });
    fake.enqueueUpdate(command(user, "start"));
    const reply = await fake.waitForCall((call) => call.method === "sendMessage" && call.ok);
    expect((reply.result as Message).text).toBe("Chào Lan!");
    await bot.stop();
    await running;
  });
});

describe("over real HTTP", () => {
  let server: FakeBotApiServer | undefined;
  const closers: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await server?.close();
    server = undefined;
  });

  const api = async (method: string, payload: Record<string, unknown> = {}) => {
    const response = await fetch(`${server!.url}/bot${server!.fake.token}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    return { status: response.status, body: (await response.json()) as ApiResponse };
  };

  it("maps errors to HTTP status codes and answers unknown methods with 404", async () => {
    server = await startFakeBotApiServer();
    expect(await api("nope")).toEqual({ status: 404, body: { ok: false, error_code: 404, description: "Not Found" } });
    expect((await api("sendMessage", { chat_id: 1, text: "x" })).status).toBe(400);
    const wrongToken = await fetch(`${server.url}/bot1:bad/getMe`);
    expect(wrongToken.status).toBe(401);
    const query = await fetch(`${server.url}/bot${server.fake.token}/getMe?unused=1`);
    expect(((await query.json()) as { result: { username: string } }).result.username).toBe("khuyenhoc_test_bot");
  });

  it("holds getUpdates until an update arrives and lets a newer poll terminate an older one", async () => {
    server = await startFakeBotApiServer();
    const started = Date.now();
    const first = api("getUpdates", { timeout: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = api("getUpdates", { timeout: 20 });
    expect(await first).toEqual({
      status: 409,
      body: {
        ok: false,
        error_code: 409,
        description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const queued = server.fake.enqueueUpdate(textMessage(user, "dậy đi"));
    const woken = await second;
    expect(woken.status).toBe(200);
    expect((woken.body as { result: Update[] }).result.map((u) => u.update_id)).toEqual([queued.update_id]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("serves a real grammY polling bot and closes cleanly", async () => {
    server = await startFakeBotApiServer();
    const bot = new Bot(server.fake.token, { botInfo: server.fake.botInfo, client: { apiRoot: server.url } });
    bot.on("message:text", (ctx) => ctx.reply(`Bạn nói: ${ctx.msg.text}`));
    const running = bot.start({ timeout: 10 });
    server.fake.enqueueUpdate(textMessage(user, "xin chào"));
    const reply = await server.waitForCall((call) => call.method === "sendMessage" && call.ok);
    expect((reply.result as Message).text).toBe("Bạn nói: xin chào");
    await bot.stop();
    await running;
  });

  it("delivers updates to the webhook with the secret header and retries on errors", async () => {
    server = await startFakeBotApiServer();
    const fake = server.fake;
    const bot = new Bot(fake.token, { botInfo: fake.botInfo, client: { apiRoot: server.url } });
    bot.on("message:text", (ctx) => ctx.reply(`Đã nhận: ${ctx.msg.text}`));
    const handle = webhookCallback(bot, "http", { secretToken: "khuyen_hoc-123" });
    let failuresLeft = 1;
    const seenSecrets: Array<string | undefined> = [];
    const receiver = http.createServer((req, res) => {
      seenSecrets.push(req.headers["x-telegram-bot-api-secret-token"] as string | undefined);
      if (failuresLeft-- > 0) {
        res.writeHead(500).end();
        return;
      }
      void handle(req, res);
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => receiver.close(() => resolve())));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/telegram`;

    await bot.api.setWebhook(hookUrl, { secret_token: "khuyen_hoc-123" });
    const update = fake.enqueueUpdate(textMessage(user, "webhook"));
    const reply = await server.waitForCall((call) => call.method === "sendMessage" && call.ok);
    expect((reply.result as Message).text).toBe("Đã nhận: webhook");
    await server.waitForDelivery((delivery) => delivery.status === 200);
    expect(server.deliveries.map((d) => [d.update_id, d.attempt, d.status])).toEqual([
      [update.update_id, 1, 500],
      [update.update_id, 2, 200],
    ]);
    expect(seenSecrets).toEqual(["khuyen_hoc-123", "khuyen_hoc-123"]);
    const info = await bot.api.getWebhookInfo();
    expect(info).toMatchObject({ url: hookUrl, pending_update_count: 0 });
    expect(info.last_error_message).toBe("Wrong response from the webhook: 500 Internal Server Error");
  });
});
