import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/infra/database.js";
import { DeliveryKinds } from "../../src/domain/delivery/types.js";
import { openTestDatabase } from "../support/database.js";
import { eventually, ManualClock, noteKind, TestEngine } from "../support/delivery.js";
import { FakeTelegram } from "../support/telegram/index.js";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(() => db.close());

let engine: TestEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

/** A fresh fake Telegram, clock and engine with the "note" kind; chats are registered as people who started the bot. */
function setUp(chats: number[], opts: { at?: string; rate?: number } = {}) {
  const fake = new FakeTelegram();
  for (const c of chats) fake.registerChat(c);
  const clock = new ManualClock(new Date(opts.at ?? "2026-12-19T01:00:00Z").getTime());
  const kinds = new DeliveryKinds();
  const note = noteKind();
  kinds.register(note);
  engine = TestEngine.start({ db, fake, now: clock.now, kinds, ratePerSecond: opts.rate });
  return { fake, clock, note, engine };
}

const sentTo = (fake: FakeTelegram, chat: number) => fake.sent(chat).filter((c) => c.method === "sendMessage").map((c) => (c.result as { text: string }).text);
const rows = (refId: string) => db.prisma.delivery.findMany({ where: { refId }, orderBy: { chatId: "asc" } });

describe("delivery engine", () => {
  it("sends every row once and records Telegram's message ids", async () => {
    const { fake, clock, note, engine } = setUp([8001, 8002, 8003]);
    await db.prisma.user.create({ data: { id: 8002n, locale: "en" } });
    expect(await engine.deliveries.schedule("note", "e1", [8001, 8002, 8003], clock.now())).toBe(3);
    await eventually(async () => (await engine.ledger.counts("note", "e1")).sent === 3, "3 sent");
    expect(sentTo(fake, 8001)).toEqual(["note e1 (vi)"]);
    expect(sentTo(fake, 8002)).toEqual(["note e1 (en)"]);
    const stored = await rows("e1");
    for (const r of stored) {
      const msg = fake.sent(Number(r.chatId)).at(-1)!.result as { message_id: number };
      expect(r).toMatchObject({ state: "sent", attempts: 1, ambiguous: false, telegramMessageId: msg.message_id });
    }
    await eventually(() => note.recorded.includes("e1"), "onRecorded called");
  });

  it("schedules the same thing twice as once", async () => {
    const { fake, clock, engine } = setUp([8011]);
    await engine.deliveries.schedule("note", "e2", [8011], clock.now());
    expect(await engine.deliveries.schedule("note", "e2", [8011], clock.now())).toBe(0);
    await eventually(async () => (await engine.ledger.counts("note", "e2")).sent === 1, "sent");
    await new Promise((r) => setTimeout(r, 300));
    expect(sentTo(fake, 8011)).toHaveLength(1);
  });

  it("marks a person who blocked the bot unreachable, fails a missing chat with Telegram's reason, and skips the unreachable later", async () => {
    const { fake, clock, engine } = setUp([8021, 8022]);
    await db.prisma.user.createMany({ data: [{ id: 8021n }, { id: 8022n }, { id: 8023n }] });
    fake.blockChat(8021);
    await engine.deliveries.schedule("note", "e3", [8021, 8022, 8023], clock.now());
    await eventually(async () => !(await engine.ledger.hasOpen("note", "e3")), "all recorded");
    expect((await rows("e3")).map((r) => [Number(r.chatId), r.state, r.error])).toEqual([
      [8021, "blocked", "Forbidden: bot was blocked by the user"],
      [8022, "sent", null],
      [8023, "failed", "Bad Request: chat not found"],
    ]);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: 8021n } })).unreachableSince).not.toBeNull();
    const calls = fake.calls.length;
    await engine.deliveries.schedule("note", "e3b", [8021], clock.now());
    await eventually(async () => !(await engine.ledger.hasOpen("note", "e3b")), "recorded");
    expect((await rows("e3b"))[0]).toMatchObject({ state: "blocked", error: "unreachable: blocked the bot earlier" });
    expect(fake.calls.slice(calls).filter((c) => c.method === "sendMessage")).toEqual([]);
  });

  it("pauses every send for exactly retry_after on a 429, then delivers all without ambiguity", async () => {
    const { fake, clock, engine } = setUp([8031, 8032, 8033]);
    fake.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 1", parameters: { retry_after: 1 } });
    const at: Array<{ ok: boolean; t: number; chat: number }> = [];
    const off = fake.on((e) => {
      if (e.type === "call" && e.call.method === "sendMessage") at.push({ ok: e.call.ok, t: Date.now(), chat: Number(e.call.payload.chat_id) });
    });
    await engine.deliveries.schedule("note", "e4", [8031, 8032, 8033], clock.now());
    await eventually(async () => (await engine.ledger.counts("note", "e4")).sent === 3, "3 sent");
    off();
    const refused = at.find((c) => !c.ok)!;
    const sent = at.filter((c) => c.ok);
    expect(sent).toHaveLength(3);
    // The refused message went again only after the whole retry_after; nothing else started
    // during the pause (requests already on their way when the 429 came back may land at once).
    expect(sent.find((c) => c.chat === refused.chat)!.t - refused.t).toBeGreaterThanOrEqual(990);
    for (const c of sent) expect(c.t - refused.t < 50 || c.t - refused.t >= 990).toBe(true);
    const stored = await rows("e4");
    expect(stored.every((r) => r.state === "sent" && !r.ambiguous)).toBe(true);
    for (const chat of [8031, 8032, 8033]) expect(sentTo(fake, chat)).toEqual(["note e4 (vi)"]);
  });

  it("retries a 5xx with backoff and records the send once", async () => {
    const { fake, clock, engine } = setUp([8041]);
    fake.failNext("sendMessage", { error_code: 502, description: "Bad Gateway" });
    await engine.deliveries.schedule("note", "e5", [8041], clock.now());
    await eventually(async () => (await engine.ledger.counts("note", "e5")).sent === 1, "sent after retry");
    expect((await rows("e5"))[0]).toMatchObject({ state: "sent", attempts: 2, ambiguous: false });
    expect(sentTo(fake, 8041)).toHaveLength(1);
  });

  it("keeps a later send until its time, moves it, cancels it, and sends what is due when the clock gets there", async () => {
    const { fake, clock, engine } = setUp([8051, 8052]);
    const due = new Date("2026-12-20T01:00:00Z");
    await engine.deliveries.schedule("note", "e6", [8051], due);
    await engine.deliveries.schedule("note", "e6x", [8052], due);
    await new Promise((r) => setTimeout(r, 500));
    expect(sentTo(fake, 8051)).toEqual([]);
    const later = new Date("2026-12-20T02:00:00Z");
    expect(await engine.deliveries.reschedule("note", "e6", later)).toBe(1);
    expect(await engine.deliveries.cancel("note", "e6x", "session cancelled")).toBe(1);
    clock.set(due);
    await engine.deliveries.promoteDue();
    await new Promise((r) => setTimeout(r, 500));
    expect(sentTo(fake, 8051)).toEqual([]);
    clock.set(later);
    await engine.deliveries.promoteDue();
    await eventually(async () => (await engine.ledger.counts("note", "e6")).sent === 1, "sent at the new time");
    expect(sentTo(fake, 8052)).toEqual([]);
    expect((await rows("e6x"))[0]).toMatchObject({ state: "cancelled", error: "session cancelled" });
  });

  it("sends at most one message a second to one private chat", async () => {
    const { fake, clock, engine } = setUp([8061]);
    for (const ref of ["p1", "p2", "p3"]) await engine.deliveries.schedule("note", ref, [8061], clock.now());
    await eventually(() => sentTo(fake, 8061).length === 3, "3 messages", 10_000);
    const times = fake.calls.filter((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 8061).map((c) => (c.result as { date: number }).date);
    expect(times).toHaveLength(3);
    // Telegram's dates are whole seconds: three sends a second apart span at least two of them.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(2);
  });

  it("sends a row again after a crash between Telegram and the ledger, and counts it ambiguous", async () => {
    const { fake, clock, engine } = setUp([8071, 8072]);
    await engine.ledger.insert("note", "e8", [8071, 8072], clock.now());
    // A process claimed 8071 and died before recording: the row is left "sending".
    const [first] = await engine.ledger.openRows("note", "e8", "0", 1);
    await engine.ledger.claim([first!.id]);
    expect(await engine.deliveries.resumeOpen()).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await engine.ledger.counts("note", "e8")).sent === 2, "both sent");
    expect(await engine.ledger.counts("note", "e8")).toMatchObject({ sent: 2, ambiguous: 1 });
    expect(sentTo(fake, 8071)).toHaveLength(1);
  });
});
