// The fake Telegram's sending limits (429 with retry_after), unreachable chats,
// sendPhoto and the send statistics a delivery benchmark reads. Time comes
// from an injected clock, so every window is stepped exactly, never slept.

import { deflateSync } from "node:zlib";
import { Bot, GrammyError, InputFile } from "grammy";
import type { Message } from "grammy/types";
import { afterEach, describe, expect, it } from "vitest";
import {
  FakeTelegram,
  UnsupportedByFakeError,
  UploadedFile,
  createFakeFetch,
  makeUser,
  photoMessage,
  startFakeBotApiServer,
  type ApiResponse,
  type FakeBotApiServer,
  type SendLimits,
} from "./support/telegram/index.js";

const START = 1_750_000_000_000;

/** A fake with a hand-moved clock and `count` private chats 1001, 1002, … registered. */
function clockedFake(limits: SendLimits | undefined, count = 0): { fake: FakeTelegram; clock: { now: number } } {
  const clock = { now: START };
  const fake = new FakeTelegram({ clock: () => clock.now, limits });
  for (let i = 1; i <= count; i++) fake.registerChat(1000 + i);
  return { fake, clock };
}

const send = (fake: FakeTelegram, chatId: number, extra: Record<string, unknown> = {}): ApiResponse =>
  fake.call("sendMessage", { chat_id: chatId, text: `Thông báo cho ${chatId}`, ...extra });

const tooManyRequests = (seconds: number) => ({
  ok: false,
  error_code: 429,
  description: `Too Many Requests: retry after ${seconds}`,
  parameters: { retry_after: seconds },
});

function messageOf(response: ApiResponse): Message {
  if (!response.ok) throw new Error(`expected success, got ${response.description}`);
  return response.result as Message;
}

describe("sending limits are off unless switched on", () => {
  it("accepts bursts to one chat and to many chats without limits", () => {
    const { fake } = clockedFake(undefined, 100);
    expect(fake.limits).toBeUndefined();
    for (let i = 1; i <= 100; i++) expect(send(fake, 1000 + i).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(send(fake, 1001).ok).toBe(true);
    expect(fake.sendStats()).toMatchObject({ accepted: 105, rateLimited: 0 });
  });

  it("fills unset limits with Telegram's values and can switch them off again", () => {
    const { fake } = clockedFake({ globalPerSecond: 50 });
    expect(fake.limits).toEqual({
      globalPerSecond: 50,
      perChatPerSecond: 1,
      perGroupPerMinute: 20,
      paidGlobalPerSecond: 1000,
      retryAfterSeconds: "computed",
    });
    fake.setLimits(undefined);
    expect(fake.limits).toBeUndefined();
  });
});

describe("global rate", () => {
  it("answers the 31st send within a second with 429 and retry_after, and accepts once the window frees", () => {
    const { fake, clock } = clockedFake({ globalPerSecond: 30 }, 40);
    for (let i = 1; i <= 30; i++) {
      clock.now = START + i * 10; // 30 sends spread over 300 ms
      expect(send(fake, 1000 + i).ok).toBe(true);
    }
    clock.now = START + 900;
    expect(send(fake, 1031)).toEqual(tooManyRequests(1));
    // The first send (at +10 ms) leaves the window at +1010 ms, not a moment earlier.
    clock.now = START + 1009;
    expect(send(fake, 1031).ok).toBe(false);
    clock.now = START + 1010;
    expect(send(fake, 1031).ok).toBe(true);
    expect(send(fake, 1032).ok).toBe(false); // the +20 ms send is still inside
    expect(fake.sendStats()).toMatchObject({ accepted: 31, rateLimited: 3 });
  });

  it("answers a fixed retry_after when configured", () => {
    const { fake } = clockedFake({ globalPerSecond: 1, retryAfterSeconds: 7 }, 2);
    expect(send(fake, 1001).ok).toBe(true);
    expect(send(fake, 1002)).toEqual(tooManyRequests(7));
  });

  it("does not limit edits or callback answers, and a rejected call uses no budget", () => {
    const { fake } = clockedFake({ globalPerSecond: 1 }, 2);
    const sent = messageOf(send(fake, 1001));
    expect(fake.call("editMessageText", { chat_id: 1001, message_id: sent.message_id, text: "Đã sửa" }).ok).toBe(true);
    fake.registerCallbackQuery("q1");
    expect(fake.call("answerCallbackQuery", { callback_query_id: "q1" }).ok).toBe(true);
    // Invalid input is refused for what it is, not with a 429.
    expect(send(fake, 1002, { text: "<b>hỏng", parse_mode: "HTML" })).toMatchObject({ error_code: 400 });
    expect(send(fake, 1002).ok).toBe(false);
    expect(fake.sendStats().rateLimited).toBe(1);
  });
});

describe("per-chat limits", () => {
  it("allows one message per second to a private chat, while other chats go on", () => {
    const { fake, clock } = clockedFake({}, 2);
    expect(send(fake, 1001).ok).toBe(true);
    clock.now += 999;
    expect(send(fake, 1001)).toEqual(tooManyRequests(1));
    expect(send(fake, 1002).ok).toBe(true);
    clock.now += 1;
    expect(send(fake, 1001).ok).toBe(true);
    expect(fake.sendStats().perChat).toEqual(new Map([[1001, 2], [1002, 1]]));
  });

  it("allows 20 messages per minute to a group and says how long to wait for the 21st", () => {
    const { fake, clock } = clockedFake({});
    const group = -1001234567890;
    fake.registerChat(group, { type: "supergroup", title: "Chi hội Khuyến học Tân Lập" });
    for (let i = 0; i < 20; i++) {
      clock.now = START + i * 1000; // 1/s is fine for a group, the minute is what counts
      expect(send(fake, group).ok).toBe(true);
    }
    clock.now = START + 20_000;
    expect(send(fake, group)).toEqual(tooManyRequests(40));
    clock.now = START + 59_999;
    expect(send(fake, group)).toEqual(tooManyRequests(1));
    clock.now = START + 60_000;
    expect(send(fake, group).ok).toBe(true);
  });

  it("counts every send method against the same windows", () => {
    const { fake } = clockedFake({}, 1);
    expect(send(fake, 1001).ok).toBe(true);
    const poll = fake.call("sendPoll", { chat_id: 1001, question: "Đi họp không?", options: ["Có", "Không"] });
    expect(poll).toEqual(tooManyRequests(1));
  });
});

describe("paid broadcasts", () => {
  it("lifts the global rate to 1,000/s for calls with allow_paid_broadcast, and no further", () => {
    const { fake, clock } = clockedFake({}, 1001);
    for (let i = 1; i <= 30; i++) expect(send(fake, 1000 + i).ok).toBe(true);
    expect(send(fake, 1031)).toEqual(tooManyRequests(1));
    for (let i = 31; i <= 1000; i++) expect(send(fake, 1000 + i, { allow_paid_broadcast: true }).ok).toBe(true);
    clock.now += 500;
    expect(send(fake, 1001 + 1000, { allow_paid_broadcast: true })).toEqual(tooManyRequests(1));
    clock.now += 500;
    expect(send(fake, 1001 + 1000, { allow_paid_broadcast: true }).ok).toBe(true);
    expect(fake.sendStats()).toMatchObject({ accepted: 1001, paidAccepted: 971, rateLimited: 2 });
    // Paying does not lift the per-chat limit.
    expect(send(fake, 1001 + 1000, { allow_paid_broadcast: "true" })).toMatchObject({ error_code: 429 });
  });

  it("makes an unpaid send wait until the window holds fewer sends than the unpaid limit", () => {
    const { fake, clock } = clockedFake({ globalPerSecond: 2 }, 6);
    for (let i = 0; i < 5; i++) {
      clock.now = START + i * 100;
      expect(send(fake, 1001 + i, { allow_paid_broadcast: true }).ok).toBe(true);
    }
    // Five sends in the window, two allowed: the fourth (at +300 ms) must leave, at +1300 ms.
    clock.now = START + 500;
    expect(send(fake, 1006)).toEqual(tooManyRequests(1));
    clock.now = START + 1299;
    expect(send(fake, 1006)).toEqual(tooManyRequests(1));
    clock.now = START + 1300;
    expect(send(fake, 1006).ok).toBe(true);
  });
});

describe("unreachable chats", () => {
  it("answers Telegram's 400 and 403 shapes", () => {
    const { fake } = clockedFake(undefined, 3);
    expect(send(fake, 999_999)).toEqual({ ok: false, error_code: 400, description: "Bad Request: chat not found" });
    fake.blockChat(1001);
    expect(send(fake, 1001)).toEqual({ ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" });
    fake.deactivateChat(1002);
    expect(send(fake, 1002)).toEqual({ ok: false, error_code: 403, description: "Forbidden: user is deactivated" });
    const group = -1009876543210;
    fake.registerChat(group, { type: "supergroup", title: "Đồn Biên phòng" });
    fake.blockChat(group);
    expect(send(fake, group)).toEqual({ ok: false, error_code: 403, description: "Forbidden: bot was kicked from the supergroup chat" });
    expect(send(fake, 1003).ok).toBe(true);

    fake.unblockChat(1001);
    fake.unblockChat(1002);
    expect(send(fake, 1001).ok).toBe(true);
    expect(send(fake, 1002).ok).toBe(true);
    expect(fake.sendStats().rejected).toEqual(
      new Map([
        ["Bad Request: chat not found", 1],
        ["Forbidden: bot was blocked by the user", 1],
        ["Forbidden: user is deactivated", 1],
        ["Forbidden: bot was kicked from the supergroup chat", 1],
      ]),
    );
  });

  it("refuses a blocked chat with 403 even when it is also over its rate", () => {
    const { fake } = clockedFake({}, 1);
    expect(send(fake, 1001).ok).toBe(true);
    fake.blockChat(1001);
    expect(send(fake, 1001)).toMatchObject({ error_code: 403 });
  });
});

// ------------------------------------------------------------------ photos

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
/** A real greyscale PNG of the given size. */
function png(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(0, 9); // greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter byte per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("sendPhoto", () => {
  const lan = makeUser(5550101, { first_name: "Lan" });
  const bot = (fake: FakeTelegram) => new Bot(fake.token, { botInfo: fake.botInfo, client: { fetch: createFakeFetch(fake) } });

  it("uploads a photo, answers Telegram's sizes and re-sends it by file_id", async () => {
    const fake = new FakeTelegram();
    fake.registerChat(lan.id);
    const api = bot(fake).api;
    const first = await api.sendPhoto(lan.id, new InputFile(png(1600, 1200), "lop-hoc.png"), {
      caption: "<b>Lớp học</b> tối nay",
      parse_mode: "HTML",
      reply_markup: { inline_keyboard: [[{ text: "🔕 Tắt", callback_data: "mute:association" }]] },
    });
    expect(first.photo.map(({ width, height }) => [width, height])).toEqual([[90, 68], [320, 240], [800, 600], [1280, 960]]);
    expect(first.caption).toBe("Lớp học tối nay");
    expect(first.caption_entities).toEqual([{ type: "bold", offset: 0, length: 7 }]);
    expect(first.reply_markup?.inline_keyboard[0]?.[0]?.text).toBe("🔕 Tắt");

    const again = await api.sendPhoto(lan.id, first.photo.at(-1)!.file_id);
    expect(again.photo).toEqual(first.photo);
    expect(fake.lastText(lan.id)).toBe("Lớp học tối nay");
    expect(fake.duplicateSends()).toEqual([]); // different captions: not the same message twice
  });

  it("limits the caption to 1,024 characters after HTML parsing", () => {
    const fake = new FakeTelegram();
    fake.registerChat(lan.id);
    const uploaded = messageOf(fake.call("sendPhoto", { chat_id: lan.id, photo: upload(png(10, 10)) }));
    const photo = uploaded.photo!.at(-1)!.file_id;
    const withCaption = (caption: string) => fake.call("sendPhoto", { chat_id: lan.id, photo, caption, parse_mode: "HTML" });
    expect(withCaption(`<b>${"x".repeat(1024)}</b>`).ok).toBe(true);
    expect(withCaption(`<b>${"x".repeat(1025)}</b>`)).toEqual({ ok: false, error_code: 400, description: "Bad Request: message caption is too long" });
    expect(withCaption("<b>chưa đóng")).toMatchObject({ error_code: 400, description: expect.stringContaining("can't parse entities") });
  });

  it("validates reply markup like sendMessage", () => {
    const fake = new FakeTelegram();
    fake.registerChat(lan.id);
    const markup = { inline_keyboard: [[{ text: "Quá dài", callback_data: "đ".repeat(33) }]] };
    const response = fake.call("sendPhoto", { chat_id: lan.id, photo: upload(png(10, 10)), reply_markup: markup });
    expect(response).toEqual({ ok: false, error_code: 400, description: "Bad Request: BUTTON_DATA_INVALID" });
  });

  it("refuses what Telegram cannot use as a photo", () => {
    const fake = new FakeTelegram();
    fake.registerChat(lan.id);
    const photo = (value: unknown) => fake.call("sendPhoto", { chat_id: lan.id, photo: value });
    expect(photo(upload(Buffer.from("không phải ảnh")))).toMatchObject({ description: "Bad Request: IMAGE_PROCESS_FAILED" });
    expect(photo(upload(png(2100, 100)))).toMatchObject({ description: "Bad Request: PHOTO_INVALID_DIMENSIONS" });
    expect(photo("AgACAgIAAxkDAAIunknown")).toMatchObject({ description: "Bad Request: wrong file identifier/HTTP URL specified" });
    expect(photo(undefined)).toMatchObject({ description: "Bad Request: there is no photo in the request" });
    const document = messageOf(fake.call("sendDocument", { chat_id: lan.id, document: upload(Buffer.from("a,b\n"), "a.csv") }));
    expect(photo(document.document!.file_id)).toMatchObject({ description: "Bad Request: type of file mismatch" });
    expect(() => photo("https://example.com/a.png")).toThrow(UnsupportedByFakeError);
  });

  it("re-sends a photo an officer sent to the bot, by the file_id from the update", () => {
    const fake = new FakeTelegram();
    const update = fake.enqueueUpdate(photoMessage(lan, "Ảnh thông báo"));
    fake.registerChat(5550102);
    const fileId = update.message!.photo!.at(-1)!.file_id;
    const sent = messageOf(fake.call("sendPhoto", { chat_id: 5550102, photo: fileId, caption: "Thông báo" }));
    expect(sent.photo).toEqual(update.message!.photo);
  });
});

/** A multipart file as the transports hand it to FakeTelegram.call (grammY's content type). */
function upload(content: Buffer, filename = "photo.png"): UploadedFile {
  return new UploadedFile(filename, "application/octet-stream", content);
}

describe("send statistics for benchmarks", () => {
  it("lists accepted sends with clock times and finds chats that got the same message twice", () => {
    const { fake, clock } = clockedFake(undefined, 3);
    for (const chat of [1001, 1002, 1003]) {
      clock.now += 100;
      send(fake, chat, { text: "Họp chi hội 8h sáng mai" });
    }
    clock.now += 100;
    send(fake, 1002, { text: "Họp chi hội 8h sáng mai" }); // a re-send after a crash
    send(fake, 1003, { text: "Khác" });
    const stats = fake.sendStats();
    expect(stats).toMatchObject({ accepted: 5, firstAcceptedAt: START + 100, lastAcceptedAt: START + 400 });
    expect(fake.acceptedSends(1002).map((s) => [s.text, s.at])).toEqual([
      ["Họp chi hội 8h sáng mai", START + 200],
      ["Họp chi hội 8h sáng mai", START + 400],
    ]);
    expect(fake.duplicateSends()).toEqual([{ chat_id: 1002, method: "sendMessage", text: "Họp chi hội 8h sáng mai", count: 2 }]);
    fake.resetSendStats();
    expect(fake.sendStats()).toMatchObject({ accepted: 0, rateLimited: 0, firstAcceptedAt: undefined });
  });

  it("keeps no call log with recordCalls: false, while statistics and waitForCall still work", async () => {
    const fake = new FakeTelegram({ recordCalls: false });
    fake.registerChat(1001);
    const waiting = fake.waitForCall((call) => call.method === "sendMessage" && call.ok, 1000);
    for (let i = 0; i < 50; i++) fake.call("sendMessage", { chat_id: 1001, text: `tin ${i}` });
    await expect(waiting).resolves.toMatchObject({ ok: true });
    expect(fake.calls).toHaveLength(0);
    expect(fake.sendStats().accepted).toBe(50);
  });
});

describe("limits over real HTTP", () => {
  let server: FakeBotApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("answers HTTP 429 with retry_after, which grammY surfaces in GrammyError.parameters", async () => {
    server = await startFakeBotApiServer({ limits: { perChatPerSecond: 1 }, recordCalls: false });
    server.fake.registerChat(1001);
    const url = `${server.url}/bot${server.fake.token}/sendMessage`;
    const post = () =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ chat_id: 1001, text: "chào" }) });
    expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual(tooManyRequests(1));

    const bot = new Bot(server.fake.token, { botInfo: server.fake.botInfo, client: { apiRoot: server.url } });
    const error = await bot.api.sendMessage(1001, "chào").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).parameters.retry_after).toBe(1);
    expect(server.fake.sendStats()).toMatchObject({ accepted: 1, rateLimited: 2 });
  });
});
