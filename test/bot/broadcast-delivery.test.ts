import type { InlineKeyboardMarkup, Message } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { useHarness } from "../support/harness.js";
import { callbackQuery, photoMessage, textMessage } from "../support/telegram/index.js";

// The whole path: an officer composes, the engine (BullMQ on the test Redis, the ledger) sends
// through the fake Bot API, recipients see the message and its mute button, the officer sees the
// progress edited in place and a final report.
const ADMIN = 9_400_001;
const clock = new ManualClock(new Date("2026-12-19T01:00:00Z").getTime());
const h = useHarness({ adminIds: [String(ADMIN)], now: clock.now });
let engine: TestEngine;
beforeAll(() => {
  engine = TestEngine.start({
    db: h.db, fake: h.fake, now: clock.now, kinds: h.deps.deliveryKinds, queues: h.queues, prefix: h.queuePrefix,
  });
});
afterAll(() => engine.stop());

let nextId = 9_400_100;
let nextProvince = 11;

async function freshPlace() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, communes };
}

/** A registered person who has started the bot (Telegram lets the bot write to them). */
async function citizen(province: string, commune: string, name: string, locale?: string): Promise<number> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), locale } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `BD-${id}`, fullName: name, birthYear: 1985, provinceCode: province, communeCode: commune, affiliation: "resident", goals: ["law"], registeredAt: new Date() },
  });
  h.fake.registerChat(id);
  return id;
}

async function officer(scope: { province: string; commune?: string }) {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: scope.province, scopeCommuneCode: scope.commune ?? null } });
  h.fake.registerChat(id);
  return h.user(id);
}

/** /broadcast as an officer writes it: the body, the text, the audience as it is, then "send now". */
async function compose(o: ReturnType<typeof h.user>, body: string, text: string, send = "Gửi ngay"): Promise<void> {
  await o.send("/broadcast");
  await o.press(body);
  await o.send(text);
  await o.press("Tiếp tục");
  await o.press(send);
}

const received = (chat: number) => h.fake.sent(chat).filter((c) => c.method === "sendMessage" || c.method === "sendPhoto").map((c) => c.result as Message);
const lastBroadcast = (authorId: number) => h.db.prisma.broadcast.findFirstOrThrow({ where: { authorId: BigInt(authorId) }, orderBy: { id: "desc" } });

describe("a broadcast delivered", () => {
  it("reaches each recipient once with their name, the sender and a mute button; the officer sees progress and a report", async () => {
    const { province, communes: [a] } = await freshPlace();
    const lan = await citizen(province, a!.code, "Lò Văn Lan");
    const mai = await citizen(province, a!.code, "Mai Thị Hoa", "en");
    const blocked = await citizen(province, a!.code, "Giàng A Páo");
    h.fake.blockChat(blocked);
    const o = await officer({ province, commune: a!.code });

    await o.send("/broadcast");
    await o.press("Bộ đội Biên phòng");
    await o.sendUpdate(photoMessage(o.tg, "Kính gửi <b>{name}</b>: mời dự buổi tuyên truyền Luật Biên phòng."));
    await o.press("Tiếp tục");
    await o.press("Gửi ngay");
    const bc = await lastBroadcast(o.id);
    expect(bc).toMatchObject({ mediaKind: "photo", recipientCount: 3 });

    await eventually(async () => (await h.db.prisma.broadcast.findUniqueOrThrow({ where: { id: bc.id } })).state === "done", "broadcast done");
    const [toLan] = received(lan);
    expect(received(lan)).toHaveLength(1);
    expect(toLan!.caption).toMatch(/^📢 Bộ đội Biên phòng · .+\n\nKính gửi Lò Văn Lan: mời dự buổi tuyên truyền Luật Biên phòng\.$/);
    expect(toLan!.photo?.length).toBeGreaterThan(0);
    expect((toLan!.reply_markup as InlineKeyboardMarkup).inline_keyboard.flat().map((b) => b.text)).toEqual(["🔕 Tắt thông báo từ Bộ đội Biên phòng"]);
    expect(received(mai)[0]!.caption).toMatch(/^📢 Border Guard · .+\n\nKính gửi Mai Thị Hoa:/);
    expect(received(blocked)).toEqual([]);
    expect((await h.db.prisma.user.findUniqueOrThrow({ where: { id: BigInt(blocked) } })).unreachableSince).not.toBeNull();

    // The progress message was edited in place to the final figures, and a report followed.
    const finalProgress = `✅ Đã gửi xong thông báo #${bc.id}\n3 / 3 · ✓ 2 · ✗ 1`;
    await eventually(() => h.fake.getMessage(o.id, bc.progressMessageId!)!.text === finalProgress, "progress edited to the final figures");
    await eventually(() => (received(o.id).at(-1)?.text ?? "").startsWith("📊"), "report to the officer");
    expect(received(o.id).at(-1)!.text).toBe(
      `📊 Báo cáo thông báo #${bc.id}\nTổng số người nhận: 3\n✓ Đã gửi: 2\n🚫 Không liên lạc được (đã chặn bot): 1\n✗ Lỗi: 0\n⛔ Đã hủy: 0\n❔ Không chắc chắn (có thể nhận 2 lần): 0`,
    );
    expect(await engine.ledger.counts("broadcast", String(bc.id))).toMatchObject({ sent: 2, blocked: 1, queued: 0, sending: 0 });

    // Lan mutes the border guard from the message itself; the next broadcast skips her.
    const lanUser = h.user(lan);
    const answered = await lanUser.sendUpdate(callbackQuery(lanUser.tg, ((toLan!.reply_markup as InlineKeyboardMarkup).inline_keyboard[0]![0] as { callback_data: string }).callback_data, toLan!));
    expect(answered.join(" ")).toMatch(/Đã tắt thông báo từ Bộ đội Biên phòng/);
    await compose(o, "Bộ đội Biên phòng", "Lần hai");
    const second = await lastBroadcast(o.id);
    expect(second.recipientCount).toBe(1);
    await eventually(async () => (await h.db.prisma.broadcast.findUniqueOrThrow({ where: { id: second.id } })).state === "done", "second done");
    expect(received(lan)).toHaveLength(1);
    expect(received(mai)).toHaveLength(2);
  });

  it("a scheduled broadcast waits for its time on the engine's clock, then goes", async () => {
    const { province, communes: [a] } = await freshPlace();
    const p = await citizen(province, a!.code, "Sùng Thị Mỷ");
    const o = await officer({ province, commune: a!.code });
    await o.send("/broadcast");
    await o.press("Công an");
    await o.send("Nhắc lịch học {name}");
    await o.press("Tiếp tục");
    await o.press("Hẹn giờ");
    await o.send("20/12 8:00");
    const bc = await lastBroadcast(o.id);
    expect(bc.state).toBe("scheduled");
    await new Promise((r) => setTimeout(r, 500));
    expect(received(p)).toEqual([]);
    clock.set(new Date("2026-12-20T01:00:00Z"));
    await h.deps.deliveries.promoteDue();
    await eventually(() => received(p).length === 1, "sent at 8:00 Vietnam time");
    expect(received(p)[0]!.text).toContain("Nhắc lịch học Sùng Thị Mỷ");
  });

  it("a province-wide broadcast goes only after another officer approves it from the request the engine delivered", async () => {
    const { province, communes: [a] } = await freshPlace();
    const p = await citizen(province, a!.code, "Hầu A Lử");
    const author = await officer({ province });
    h.fake.registerChat(ADMIN);
    await compose(author, "Hội Khuyến học", "Khai giảng lớp tin học");
    const bc = await lastBroadcast(author.id);
    expect(bc.state).toBe("pending_approval");
    await eventually(() => received(ADMIN).some((m) => (m.text ?? "").includes(`#${bc.id}`)), "approval request delivered");
    await new Promise((r) => setTimeout(r, 300));
    expect(received(p)).toEqual([]);
    const admin = h.user(ADMIN);
    await admin.press("Duyệt");
    await eventually(() => received(p).length === 1, "sent after approval");
    await eventually(() => received(author.id).some((m) => /duyệt/i.test(m.text ?? "")), "author told");
  });

  it("an officer's /mydata lists the broadcasts they wrote, and /deleteme keeps the announcement without its author", async () => {
    const { province, communes: [a] } = await freshPlace();
    const p = await citizen(province, a!.code, "Vàng Thị Dung");
    const o = await officer({ province, commune: a!.code });
    await compose(o, "Công an", "Họp tổ dân phố tối nay");
    const bc = await lastBroadcast(o.id);
    await eventually(() => received(p).length === 1, "delivered");

    await o.send("/mydata");
    const mine = JSON.parse(h.fake.lastDocument(o.id)!.content.toString("utf8")) as { broadcasts: Array<{ id: number; text: string; role: string }> };
    expect(mine.broadcasts).toEqual([expect.objectContaining({ id: bc.id, text: "Họp tổ dân phố tối nay", role: "author" })]);
    const theirs = h.user(p);
    await theirs.send("/mydata");
    const data = JSON.parse(h.fake.lastDocument(p)!.content.toString("utf8")) as { deliveries: Array<{ kind: string; ref: string; state: string }> };
    expect(data.deliveries).toEqual([expect.objectContaining({ kind: "broadcast", ref: String(bc.id), state: "sent" })]);

    // The engine's report to the author may land in the same moment: look at every reply.
    expect((await o.send("/deleteme")).join("\n")).toContain("các thông báo bạn đã soạn hoặc duyệt");
    await o.press("Xóa");
    const kept = await h.db.prisma.broadcast.findUniqueOrThrow({ where: { id: bc.id } });
    expect(kept).toMatchObject({ authorId: null, progressChatId: null, text: "Họp tổ dân phố tối nay", state: "done" });
  });

  it("keeps the formatting an officer applies in the Telegram app, and a '<' in plain words is just a character", async () => {
    const { province, communes: [a] } = await freshPlace();
    const p = await citizen(province, a!.code, "Lý Thị Sen");
    const o = await officer({ province, commune: a!.code });
    await o.send("/broadcast");
    await o.press("Hội Khuyến học");
    const text = "Lớp tin học cho trẻ < 15 tuổi, {name} nhớ đăng ký";
    await o.sendUpdate(textMessage(o.tg, text, { entities: [{ type: "bold", offset: 0, length: 11 }, { type: "text_link", offset: text.indexOf("nhớ đăng"), length: "nhớ đăng".length, url: "https://example.vn/dang-ky?a=1&b=2" }] }));
    await o.press("Tiếp tục");
    await o.press("Gửi ngay");
    const bc = await lastBroadcast(o.id);
    expect(bc.text).toBe('<b>Lớp tin học</b> cho trẻ &lt; 15 tuổi, {name} <a href="https://example.vn/dang-ky?a=1&b=2">nhớ đăng</a> ký');
    await eventually(() => received(p).length === 1, "delivered");
    const m = received(p)[0]!;
    expect(m.text).toContain("Lớp tin học cho trẻ < 15 tuổi, Lý Thị Sen nhớ đăng ký");
    expect(m.entities?.map((e) => e.type)).toEqual(expect.arrayContaining(["bold", "text_link"]));
  });
});
