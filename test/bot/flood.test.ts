import { describe, expect, it } from "vitest";
import { FLOOD_DEFAULTS } from "../../src/bot/middlewares/flood.js";
import { useHarness } from "../support/harness.js";
import { callbackQuery, command, textMessage } from "../support/telegram/index.js";

const h = useHarness({ flood: FLOOD_DEFAULTS });

describe("one person cannot slow everyone", () => {
  it("a chat sending 1,500 messages at once is cut to its limit, told once to slow down, and another person is answered", async () => {
    const flooder = h.user(9001);
    const other = h.user(9002);
    const before = h.fake.calls.length;
    // Everything arrives at once, as from a runner with many updates in flight.
    const flood = Array.from({ length: 1_500 }, (_, i) => h.handle(textMessage(flooder.tg, `spam ${i}`)));
    const help = h.handle(command(other.tg, "/help"));
    await Promise.all([...flood, help]);

    const toFlooder = h.fake.calls.slice(before).filter((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 9001).map((c) => (c.result as { text: string }).text);
    // At most what the queue cap lets through, and one "slow down" notice, not 1,500 answers.
    expect(toFlooder.length).toBeLessThanOrEqual(FLOOD_DEFAULTS.maxQueuedPerChat + 1);
    expect(toFlooder.filter((t) => t.startsWith("Bạn gửi nhanh quá"))).toHaveLength(1);
    const toOther = h.fake.calls.slice(before).filter((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 9002);
    expect(toOther).toHaveLength(1);
    expect((toOther[0]!.result as { text: string }).text).toMatch(/^Các lệnh/);
    // The other person's answer did not wait for the flood: it came before most of it was dropped.
    const helpIndex = h.fake.calls.indexOf(toOther[0]!);
    const flooderAnswers = h.fake.calls.slice(before).filter((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 9001);
    expect(flooderAnswers.filter((c) => h.fake.calls.indexOf(c) < helpIndex).length).toBeLessThanOrEqual(FLOOD_DEFAULTS.maxQueuedPerChat + 1);
  });

  it("dropped button presses are still answered, and the person is served again after the window", async () => {
    const u = h.user(9003);
    await u.send("/start");
    const greeting = h.fake.sent(9003).at(-1)!.result as never;
    const presses = Array.from({ length: 60 }, () => h.handle(callbackQuery(u.tg, "lang:vi", greeting)));
    await Promise.all(presses);
    expect(h.unansweredCallbackQueries()).toEqual([]);
    await new Promise((r) => setTimeout(r, FLOOD_DEFAULTS.windowMs + 200));
    expect((await u.send("/help"))[0]).toMatch(/^Các lệnh/);
  }, 20_000);
});
