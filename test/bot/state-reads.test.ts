import { Redis } from "ioredis";
import { describe, expect, inject, it } from "vitest";
import { RedisJsonStorage } from "../../src/infra/redis-storage.js";
import { startAt } from "../support/flows.js";
import { useHarness } from "../support/harness.js";
import { pollAnswer } from "../support/telegram/index.js";

// A chat's session and flow state are read in one Redis round trip per update (readStateTogether).

const h = useHarness();

/** Every command Redis ran while `fn` ran, as [command, ...args], from a MONITOR connection. */
async function commandsDuring(fn: () => Promise<unknown>): Promise<string[][]> {
  const client = new Redis(inject("redisUrl"));
  const monitor = await client.monitor();
  const seen: string[][] = [];
  monitor.on("monitor", (_time: string, args: string[]) => seen.push(args));
  try {
    await fn();
    // MONITOR lines arrive a moment after the commands.
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    monitor.disconnect();
    client.disconnect();
  }
  return seen;
}

describe("a chat's state is read in one round trip", () => {
  it("a step of a flow reads the session and the flow state with one MGET, and the flow goes on", async () => {
    const u = h.user(7801);
    await startAt(u, "name");
    const session = `${h.redisPrefix}${h.deps.sessions.key(String(u.id))}`;
    const flow = `${h.redisPrefix}${h.deps.conversations.key(String(u.id))}`;
    let replies: string[] = [];
    const commands = await commandsDuring(async () => (replies = await u.send("Lê Thị Hồng Gấm")));
    expect(replies.at(-1)).toMatch(/^Bước 2\/7/);
    const reads = commands.filter((c) => ["get", "mget"].includes(c[0]!.toLowerCase()) && c.slice(1).some((k) => k === session || k === flow));
    expect(reads).toEqual([["mget", session, flow]]);
  });

  it("a read nobody took is forgotten when the update ends; a failed MGET goes to its reader", async () => {
    const { sessions, conversations } = h.deps;
    await sessions.write("7802", { locale: "vi" });
    const forget = RedisJsonStorage.readTogether([[sessions as RedisJsonStorage<unknown>, "7802"], [conversations, "7802"]]);
    expect(await sessions.read("7802")).toEqual({ locale: "vi" });
    forget();
    // The flow state was never read in that update: the next read goes to Redis again.
    await conversations.write("7802", { written: "later" });
    expect(await conversations.read("7802")).toEqual({ written: "later" });

    const broken = new Redis(inject("redisUrl"), { lazyConnect: true, enableOfflineQueue: false });
    const lonely = new RedisJsonStorage<unknown>(broken, "x:");
    const other = new RedisJsonStorage<unknown>(broken, "y:");
    const done = RedisJsonStorage.readTogether([[lonely, "1"], [other, "1"]]);
    await expect(lonely.read("1")).rejects.toThrow();
    done(); // the other's failed read was never taken: no unhandled rejection
    broken.disconnect();
  });
});

describe("a poll answer reads no session", () => {
  it("answers of a round read neither the session nor the flow state, and the round goes on", async () => {
    const u = h.user(7803);
    h.fake.registerChat(u.id);
    await u.send("/language");
    await u.press("🇬🇧 English");
    await u.send("/quiz");
    await u.press("🎲 All topics");
    const session = `${h.redisPrefix}${h.deps.sessions.key(String(u.id))}`;
    const flow = `${h.redisPrefix}${h.deps.conversations.key(String(u.id))}`;
    const polls = () => h.fake.sent(u.id).filter((c) => c.method === "sendPoll");
    const first = polls().at(-1)!;
    expect(String(first.payload.question)).toMatch(/^1\/10\. /);
    const commands = await commandsDuring(() => u.sendUpdate(pollAnswer(u.tg, (first.result as { poll: { id: string } }).poll.id, [0])));
    // The answer counted: the second question came.
    expect(polls()).toHaveLength(2);
    expect(String(polls().at(-1)!.payload.question)).toMatch(/^2\/10\. /);
    expect(commands.filter((c) => c.slice(1).some((k) => k === session || k === flow))).toEqual([]);
  });

  it("a vote on a poll that has no round reads the person's saved language to say so", async () => {
    const u = h.user(7804, { language_code: "vi" });
    h.fake.registerChat(u.id);
    await u.send("/language");
    await u.press("🇬🇧 English");
    await u.sendUpdate(pollAnswer(u.tg, "no-such-poll", [0]));
    expect(h.fake.lastText(u.id)).toBe("That question has closed, so the answer does not count. Type /quiz for a new round.");
    const other = h.user(7805, { language_code: "vi" });
    h.fake.registerChat(other.id);
    await other.sendUpdate(pollAnswer(other.tg, "no-such-poll", [1]));
    expect(h.fake.lastText(other.id)).toBe("Câu hỏi đó đã đóng nên câu trả lời không được tính. Gõ /quiz để làm lượt mới.");
  });
});
