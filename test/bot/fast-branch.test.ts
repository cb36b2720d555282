import { Composer, Context, type MiddlewareFn } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fastBranchInstalled } from "../../src/bot/fast-branch.js";
import { useHarness } from "../support/harness.js";
import { pollAnswer } from "../support/telegram/index.js";

// grammY's branch (behind on, command, filter, chatType…) replaced by one that builds no
// Composer per update (src/bot/fast-branch.ts): the same behaviour, checked here on plain
// composers, and no per-update composer left when the real bot handles updates.

const me = { id: 1, is_bot: true, first_name: "b", username: "b" } as UserFromGetMe;
const update = (text: string): Update => ({
  update_id: 1,
  message: {
    message_id: 1, date: 0, chat: { id: 5, type: "private", first_name: "a" }, from: { id: 5, is_bot: false, first_name: "a" }, text,
    ...(text.startsWith("/") ? { entities: [{ type: "bot_command" as const, offset: 0, length: text.split(" ")[0]!.length }] } : {}),
  },
});
async function run(c: Composer<Context>, u: Update): Promise<{ ctx: Context; nextCalled: boolean }> {
  const ctx = new Context(u, {} as never, me);
  let nextCalled = false;
  await c.middleware()(ctx, async () => void (nextCalled = true));
  return { ctx, nextCalled };
}

describe("the fast branch", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is installed once the bot's modules are loaded", () => {
    expect(fastBranchInstalled()).toBe(true);
  });

  it("runs the matching side with the same next, and handlers added to a filter later run too", async () => {
    const seen: string[] = [];
    const c = new Composer<Context>();
    const dm = c.chatType("private");
    c.command("x", (ctx) => void seen.push(`x:${ctx.match}`));
    c.use((_ctx, next) => (seen.push("after"), next()));
    // Registered after the branch itself: read when the update arrives.
    dm.command("start", (ctx) => void seen.push(`start:${ctx.chat.id}`));
    dm.on("message:text", async (_ctx, next) => {
      seen.push("text");
      await next();
    });

    expect((await run(c, update("/start"))).nextCalled).toBe(false);
    expect(seen).toEqual(["start:5"]);
    seen.length = 0;
    // Not /start: the private branch passes it on, the text handler passes too, then /x.
    expect((await run(c, update("/x hi"))).nextCalled).toBe(false);
    expect(seen).toEqual(["text", "x:hi"]);
    seen.length = 0;
    expect((await run(c, update("hello"))).nextCalled).toBe(true);
    expect(seen).toEqual(["text", "after"]);
  });

  it("awaits async predicates, takes arrays of middleware, and lets errors reach the boundary", async () => {
    const seen: string[] = [];
    const c = new Composer<Context>();
    const mw = (name: string): MiddlewareFn<Context> => async (_ctx, next) => {
      seen.push(name);
      await next();
    };
    c.branch(async (ctx) => ctx.message?.text === "a", [mw("a1"), mw("a2")], [mw("b1")]);
    const caught: unknown[] = [];
    const bounded = c.errorBoundary((err) => void caught.push(err.error));
    bounded.filter(() => true, () => {
      throw new Error("boom");
    });

    await run(c, update("a"));
    expect(seen).toEqual(["a1", "a2"]);
    seen.length = 0;
    await run(c, update("b"));
    expect(seen).toEqual(["b1"]);
    expect(caught.map((e) => (e as Error).message)).toEqual(["boom", "boom"]);

    const rejecting = new Composer<Context>();
    rejecting.filter(async () => Promise.reject(new Error("predicate failed")), () => {});
    await expect(run(rejecting, update("a"))).rejects.toThrow("predicate failed");
  });
});

describe("the bot builds no composer per update", () => {
  const h = useHarness();

  /** /start, /language and a press of its first button, and a vote on a poll the bot never sent, from a new person. */
  async function visit(id: number): Promise<void> {
    const u = h.user(id);
    h.fake.registerChat(u.id);
    expect((await u.send("/start")).join("\n")).toMatch(/Xin chào/);
    await u.send("/language");
    expect(await u.press("🇻🇳 Tiếng Việt")).toEqual(["Đã chuyển sang tiếng Việt."]);
    // Told it is stale, through the quiz's own route.
    await u.sendUpdate(pollAnswer(u.tg, "no-such-poll", [0]));
    expect(h.fake.lastText(u.id)).toMatch(/^Câu hỏi đó đã đóng nên câu trả lời không được tính/);
  }

  it("commands, a button press and a poll answer reach their handlers through composers built once", async () => {
    // Every composer an update runs is asked for its middleware: those of a second visit must all
    // be ones the first visit met already (grammY's own branch makes new ones for every update).
    const asked = vi.spyOn(Composer.prototype, "middleware");
    await visit(9_640_001);
    const first = new Set(asked.mock.contexts);
    asked.mockClear();
    await visit(9_640_002);
    const fresh = asked.mock.contexts.filter((c) => !first.has(c));
    expect(asked.mock.contexts.length).toBeGreaterThan(0);
    expect(fresh).toHaveLength(0);
  });
});
