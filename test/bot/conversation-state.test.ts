import { describe, expect, it } from "vitest";
import { slimConversationState } from "../../src/bot/flows/slim-state.js";
import { useHarness } from "../support/harness.js";
import { startAt, storedFlow } from "../support/flows.js";
import { REGISTRATION } from "../../src/bot/flows/registration.js";

const h = useHarness();

describe("a flow's stored state", () => {
  it("keeps of each message the bot sent only which one it was, and the flow still edits them in place", async () => {
    const u = h.user(3701);
    await startAt(u, "goals");
    const stored = await h.redis.get("khb:conv:3701");
    expect(stored).not.toBeNull();
    // The province keyboard (34 buttons), the questions' texts and the bot's profile are not kept.
    expect(stored).not.toContain("p:prov:01"); // Hà Nội, a button nobody pressed
    expect(stored).not.toContain("Bạn sống ở tỉnh");
    expect(stored).not.toContain("is_bot\":true");
    // Which messages they were is kept: every later step still edits its question in place.
    expect(stored).toContain("\"message_id\"");
    await u.press("Sức khỏe");
    expect(u.buttons()).toContain("✅ Sức khỏe, gia đình");
    const done = await u.press("Xong");
    expect(done[0]).toBe("✅ Mục tiêu học tập: Sức khỏe, gia đình");
    expect(done.join("\n")).toMatch(/số điện thoại/);
    expect((await h.redis.get("khb:conv:3701"))!.length).toBeLessThan(12_000);
  });

  it("keeps of a registration only its current question's updates, however far it has gone", async () => {
    const u = h.user(3702);
    await startAt(u, "phone");
    const stored = await storedFlow(h.redis, 3702, REGISTRATION);
    // One update: the press that brought the phone question. The earlier answers are not replayed
    // on every update; what they said is carried as the flow's collected answers.
    expect(stored.updates).toBe(1);
    expect(stored.raw).not.toContain("\"text\":\"Phạm Văn Đồng\"");
    expect(stored.args[1]).toMatchObject({ state: { i: 6, draft: { fullName: "Phạm Văn Đồng", birthYear: 1990 } } });
    expect(stored.raw.length).toBeLessThan(2_000);
    // Back crosses into the previous question's run with its choice kept; the flow ends as usual.
    await u.send("↩️ Quay lại");
    expect(u.buttons()).toContain("✅ Sức khỏe, gia đình");
    await u.press("Xong");
    await u.send("Bỏ qua");
    const card = await u.press("Xác nhận");
    expect(card.join("\n")).toContain("Phạm Văn Đồng");
    expect((await h.db.prisma.learningCitizen.findUniqueOrThrow({ where: { userId: 3702n } })).fullName).toBe("Phạm Văn Đồng");
    expect(await h.redis.get("khb:conv:3702")).toBeNull();
  });

  it("leaves a state of an unknown shape as it is, and never changes the one it is given", () => {
    expect(slimConversationState(null)).toBeNull();
    expect(slimConversationState({ version: 1 })).toEqual({ version: 1 });
    const sent = { message_id: 7, chat: { id: 1, type: "private", first_name: "Hoa" }, date: 1, text: "x", reply_markup: { inline_keyboard: [] } };
    const state = { version: [0, 2], state: { reg: [{ interrupts: [1], replay: { send: [], receive: [{ send: 0, returnValue: { ok: true, res: { ok: true, result: sent } } }, { send: 1, returnValue: { ok: true, ret: [1, 2] } }] } }] } };
    const copy = structuredClone(state);
    expect(slimConversationState(state)).toEqual({
      version: [0, 2],
      state: { reg: [{ interrupts: [1], replay: { send: [], receive: [{ send: 0, returnValue: { ok: true, res: { ok: true, result: { message_id: 7, chat: { id: 1, type: "private" }, date: 1 } } } }, { send: 1, returnValue: { ok: true, ret: [1, 2] } }] } }] },
    });
    expect(state).toEqual(copy);
  });
});
