import type { InlineKeyboardMarkup, Message } from "grammy/types";
import { describe, expect, it } from "vitest";
import { muteKeyboard } from "../../src/bot/keyboards/topic-mute.js";
import type { Locale } from "../../src/i18n.js";
import { register, startAt } from "../support/flows.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { privateChat } from "../support/telegram/index.js";

const h = useHarness();

const SETTINGS_VI = [
  "Thông báo bạn nhận\n✅ đang nhận · 🔕 đã tắt. Bấm nút bên dưới để đổi.",
  "",
  "✅ Thông báo từ Hội Khuyến học",
  "✅ Thông báo từ Bộ Chỉ huy Quân sự",
  "✅ Thông báo từ Công an",
  "✅ Thông báo từ Bộ đội Biên phòng",
  "✅ Thông báo từ cơ quan, tổ chức khác",
  "",
  "✅ Câu hỏi mỗi ngày",
  "",
  "✅ Nhắc lịch buổi học",
  "",
  "✅ Nhắc học bổng",
  "",
  "✅ Bản tin chỉ tiêu hằng tuần",
  "",
  "✅ Lời nhắc đăng ký từ đơn vị",
].join("\n");

const mutedOf = async (id: number) => (await h.db.prisma.topicMute.findMany({ where: { userId: BigInt(id) }, orderBy: { topic: "asc" } })).map((m) => m.topic);

/** A message the bot started on a topic (as a broadcast would be), carrying the mute button. */
async function announce(u: TestUser, topic: string, locale: Locale = "vi"): Promise<Message> {
  h.fake.registerChat(u.id, privateChat(u.tg));
  const t = h.deps.i18n.t(locale);
  return h.bot.api.sendMessage(u.id, "<b>Hội Khuyến học tỉnh Tuyên Quang</b>\nLớp tin học miễn phí tối thứ Bảy.", {
    parse_mode: "HTML",
    reply_markup: muteKeyboard(t, h.deps.services.topics.require(topic)),
  });
}

const buttonsOf = (u: TestUser, m: Message) => (h.fake.getMessage(u.id, m.message_id)?.reply_markup as InlineKeyboardMarkup | undefined)?.inline_keyboard.flat() ?? [];
const keyboardOf = (u: TestUser, m: Message) => buttonsOf(u, m).map((b) => b.text);

/** Presses a button of one given message (not necessarily the newest), as it is now. */
async function pressOn(u: TestUser, m: Message, label: string): Promise<string[]> {
  const button = buttonsOf(u, m).find((b) => b.text.includes(label));
  if (!button || !("callback_data" in button)) throw new Error(`no button "${label}" on message ${m.message_id}`);
  return u.pressData(button.callback_data!, h.fake.getMessage(u.id, m.message_id));
}

describe("/settings", () => {
  it("lists every kind of announcement as on, with a button to turn each off", async () => {
    const u = h.user(8001);
    expect(await u.send("/settings")).toEqual([SETTINGS_VI]);
    expect(u.buttons()).toEqual([
      "🔕 Tắt thông báo từ Hội Khuyến học",
      "🔕 Tắt thông báo từ Bộ Chỉ huy Quân sự",
      "🔕 Tắt thông báo từ Công an",
      "🔕 Tắt thông báo từ Bộ đội Biên phòng",
      "🔕 Tắt thông báo từ cơ quan, tổ chức khác",
      "🔕 Tắt câu hỏi mỗi ngày",
      "🔕 Tắt nhắc lịch buổi học",
      "🔕 Tắt nhắc học bổng",
      "🔕 Tắt bản tin chỉ tiêu hằng tuần",
      "🔕 Tắt lời nhắc đăng ký từ đơn vị",
    ]);
    expect((await u.send("/help"))[0]).toContain("/settings – Bật, tắt các loại thông báo");
  });

  it("turns a topic off and on again by editing the same message, and stores each choice", async () => {
    const u = h.user(8002);
    await u.send("/settings");
    const shown = h.fake.sent(u.id).at(-1)!.result as Message;
    const off = await u.press("Tắt thông báo từ Công an");
    expect(off).toEqual([SETTINGS_VI.replace("✅ Thông báo từ Công an", "🔕 Thông báo từ Công an")]);
    // Edited in place: no new message.
    expect(u.callsSince().map((c) => c.method)).toEqual(["answerCallbackQuery", "editMessageText"]);
    expect(u.callsSince()[1]!.payload.message_id).toBe(shown.message_id);
    expect(await mutedOf(8002)).toEqual(["ann:police"]);
    expect(u.buttons()).toContain("🔔 Bật lại thông báo từ Công an");
    expect(u.buttons()).toContain("🔕 Tắt thông báo từ Hội Khuyến học");

    await u.press("Tắt thông báo từ Bộ đội Biên phòng");
    expect(await mutedOf(8002)).toEqual(["ann:border_guard", "ann:police"]);
    // A fresh /settings shows what is stored.
    expect((await u.send("/settings"))[0]).toContain("🔕 Thông báo từ Bộ đội Biên phòng\n✅ Thông báo từ cơ quan");

    const on = await u.press("Bật lại thông báo từ Công an");
    expect(on[0]).toContain("✅ Thông báo từ Công an");
    expect(await mutedOf(8002)).toEqual(["ann:border_guard"]);
  });

  it("a button pressed twice (a stale copy) asks for the same state and changes nothing more", async () => {
    const u = h.user(8003);
    await u.send("/settings");
    const shown = h.fake.sent(u.id).at(-1)!.result as Message;
    await u.pressData("set:off:ann:association", shown);
    await u.pressData("set:off:ann:association", shown);
    expect(await mutedOf(8003)).toEqual(["ann:association"]);
    expect(h.logged(40)).toEqual([]);
  });

  it("refuses forged or stale topics politely and stores nothing", async () => {
    const u = h.user(8004);
    await u.send("/settings");
    expect(await u.pressData("set:off:ann:nobody")).toEqual(["[answer] Loại thông báo này không còn nữa. Gõ /settings để xem lại."]);
    expect(await u.pressData("mute:off:quiz_weekly")).toEqual(["[answer] Loại thông báo này không còn nữa. Gõ /settings để xem lại."]);
    expect(await u.pressData("set:maybe:ann:police")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(await u.pressData("mute:off:ann:police'; DROP TABLE topic_mutes")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(await mutedOf(8004)).toEqual([]);
  });
});

describe("the mute button under an announcement", () => {
  it("mutes that kind of announcement, says where to undo it, and turns into an undo button", async () => {
    // Not registered: anyone who gets a message can mute it.
    const u = h.user(8011);
    const m = await announce(u, "ann:police");
    expect(keyboardOf(u, m)).toEqual(["🔕 Tắt thông báo từ Công an"]);
    expect(await u.press("Tắt thông báo từ Công an")).toEqual(["[answer] Đã tắt thông báo từ Công an · Bật lại trong /settings"]);
    expect(await mutedOf(8011)).toEqual(["ann:police"]);
    // The announcement itself stays; only its button changes.
    expect(h.fake.getMessage(u.id, m.message_id)?.text).toMatch(/^Hội Khuyến học tỉnh Tuyên Quang\nLớp tin học/);
    expect(keyboardOf(u, m)).toEqual(["🔔 Bật lại thông báo từ Công an"]);
    expect((await u.send("/settings"))[0]).toContain("🔕 Thông báo từ Công an");

    expect(await pressOn(u, m, "Bật lại thông báo từ Công an")).toEqual(["[answer] Đã bật lại thông báo từ Công an."]);
    expect(await mutedOf(8011)).toEqual([]);
    expect(keyboardOf(u, m)).toEqual(["🔕 Tắt thông báo từ Công an"]);
    // Muting stores only the mute: no account is made for someone who never registered.
    expect(await h.db.prisma.user.count({ where: { id: 8011n } })).toBe(0);
  });

  it("works in the middle of a registration, which carries on where it was", async () => {
    const u = h.user(8013);
    await startAt(u, "name");
    const m = await announce(u, "ann:association");
    expect(await pressOn(u, m, "Tắt thông báo từ Hội Khuyến học")).toEqual(["[answer] Đã tắt thông báo từ Hội Khuyến học · Bật lại trong /settings"]);
    expect(await mutedOf(8013)).toEqual(["ann:association"]);
    expect((await u.send("Phạm Văn Đồng"))[0]).toMatch(/^Bước 2\/7/);
  });

  it("still mutes when the announcement is gone", async () => {
    const u = h.user(8012);
    const m = await announce(u, "ann:border_guard");
    await h.bot.api.deleteMessage(u.id, m.message_id);
    expect(await u.pressData("mute:off:ann:border_guard", m)).toEqual(["[answer] Đã tắt thông báo từ Bộ đội Biên phòng · Bật lại trong /settings"]);
    expect(await mutedOf(8012)).toEqual(["ann:border_guard"]);
    expect(h.logged(40)).toEqual([]);
  });
});

describe("mutes and deliveries are personal data", () => {
  const ledger = (chatId: bigint) => [
    { kind: "broadcast", refId: "41", chatId, state: "sent" as const, dueAt: new Date("2026-12-01T01:00:00Z"), sentAt: new Date("2026-12-01T01:00:02Z"), telegramMessageId: 77, attempts: 1 },
    { kind: "broadcast", refId: "42", chatId, state: "failed" as const, dueAt: new Date("2026-12-02T01:00:00Z"), error: "Bad Request: chat not found", attempts: 3 },
  ];

  it("/mydata includes the muted topics and the ledger rows of the person's chat only", async () => {
    const u = h.user(8021);
    await u.send("/settings");
    await u.press("Tắt thông báo từ Hội Khuyến học");
    await h.db.prisma.delivery.createMany({ data: [...ledger(8021n), { kind: "broadcast", refId: "41", chatId: 8029n, state: "sent", dueAt: new Date(), sentAt: new Date() }] });
    await u.send("/mydata");
    const data = JSON.parse(h.fake.lastDocument(8021)!.content.toString("utf8"));
    expect(data.topic_mutes).toEqual([{ topic: "ann:association", mutedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);
    expect(data.deliveries).toEqual([
      { kind: "broadcast", ref: "41", state: "sent", dueAt: "2026-12-01T01:00:00.000Z", sentAt: "2026-12-01T01:00:02.000Z", error: null },
      { kind: "broadcast", ref: "42", state: "failed", dueAt: "2026-12-02T01:00:00.000Z", sentAt: null, error: "Bad Request: chat not found" },
    ]);
    expect(JSON.stringify(data)).not.toContain("8029");
  });

  it("/deleteme lists and erases them, and leaves other people's rows", async () => {
    const u = h.user(8022);
    await register(u);
    await announce(u, "ann:military_command");
    await u.press("Tắt thông báo từ Bộ Chỉ huy Quân sự");
    await h.db.prisma.delivery.createMany({ data: [...ledger(8022n), ...ledger(8028n)] });
    await h.db.prisma.topicMute.create({ data: { userId: 8028n, topic: "ann:police" } });
    const ask = (await u.send("/deleteme"))[0]!;
    expect(ask).toContain("• các loại thông báo bạn đã tắt\n• nhật ký các tin nhắn tôi đã gửi cho bạn");
    const done = (await u.press("Xóa dữ liệu"))[0]!;
    expect(done).toContain("• các loại thông báo bạn đã tắt");
    expect(done).toContain("• nhật ký các tin nhắn tôi đã gửi cho bạn");
    expect(await h.db.prisma.topicMute.count({ where: { userId: 8022n } })).toBe(0);
    expect(await h.db.prisma.delivery.count({ where: { chatId: 8022n } })).toBe(0);
    expect(await h.db.prisma.topicMute.count({ where: { userId: 8028n } })).toBe(1);
    expect(await h.db.prisma.delivery.count({ where: { chatId: 8028n } })).toBe(2);
  });

  it("someone who only muted a topic can erase that too", async () => {
    const u = h.user(8023);
    await u.send("/settings");
    await u.press("Tắt thông báo từ Công an");
    expect(await u.send("/deleteme")).toEqual(["Tôi đang lưu về bạn:\n• các loại thông báo bạn đã tắt\n\nBạn muốn xóa toàn bộ? Việc này không thể hoàn tác."]);
    await u.press("Xóa dữ liệu");
    expect(await mutedOf(8023)).toEqual([]);
  });
});

describe("in English", () => {
  it("shows /settings and answers the mute button in English", async () => {
    const u = h.user(8031, { language_code: "en" });
    const [text] = await u.send("/settings");
    expect(text).toMatch(/^Announcements you receive\n/);
    expect(text).toContain("✅ Announcements from the Police");
    expect(u.buttons()).toContain("🔕 Turn off announcements from the Border Guard");
    expect(await u.press("Turn off announcements from the Police")).toEqual([expect.stringContaining("🔕 Announcements from the Police")]);

    await announce(u, "ann:other", "en");
    expect(await u.press("Turn off announcements from other organisations")).toEqual(["[answer] Turned off announcements from other organisations · Turn them back on in /settings"]);
    expect(u.buttons()).toEqual(["🔔 Turn on announcements from other organisations"]);
    expect(await mutedOf(8031)).toEqual(["ann:other", "ann:police"]);
  });
});
