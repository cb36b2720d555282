import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BotProcess, botEnv, ChatUser, stopAllBotProcesses } from "../support/bot-process.js";
import { createEmptyDatabase } from "../support/database.js";
import { makeUser, startFakeBotApiServer, type FakeBotApiServer } from "../support/telegram/index.js";

let server: FakeBotApiServer;
let dataDir: string;
let database: { url?: string; drop(): Promise<void> };

beforeAll(async () => {
  server = await startFakeBotApiServer();
  dataDir = mkdtempSync(path.join(tmpdir(), "khb-proc-"));
  database = await createEmptyDatabase();
});
afterAll(async () => {
  await stopAllBotProcesses();
  await server.close();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm start` on embedded defaults: its own redis-server under DATA_DIR, PGlite or DATABASE_URL. */
const env = () => botEnv(server, { DATA_DIR: dataDir, DATABASE_URL: database.url, REDIS_URL: undefined });

describe("the real bot process in polling mode", () => {
  it("resumes a registration from Redis after a restart between two steps", async () => {
    const first = BotProcess.start(env());
    await first.waitForOutput(/"msg":"bot started"/);
    expect(first.text()).toMatch(/started local redis-server/);
    // Command menus per language.
    expect(server.fake.getCommands({ type: "all_private_chats" }, "").map((c) => c.command)).toContain("deleteme");
    expect(server.fake.getCommands({ type: "all_private_chats" }, "en").find((c) => c.command === "me")?.description).toMatch(/card/i);

    // A second bot on the same embedded data would corrupt PGlite: it refuses to start.
    const twin = BotProcess.start({ ...env(), LOG_LEVEL: "silent" });
    expect(await twin.exited()).toBe(1);
    expect(twin.text()).toMatch(/^Another khuyenhoc-bot \(process \d+\) is already running with DATA_DIR=/);

    const u = new ChatUser(server, makeUser(5001, { first_name: "Mai" }));
    await u.say("/start", /Bạn có thể:/);
    await u.press("Đăng ký", /Bạn có đồng ý không\?/);
    await u.press("Đồng ý", /^Bước 1\/7/);
    await u.say("Hoàng Thị Mai", /^Bước 2\/7/);
    expect(await first.stop()).toBe(0);
    expect(first.text()).toMatch(/"msg":"stopped"/);

    const second = BotProcess.start(env());
    await second.waitForOutput(/"msg":"bot started"/);
    await u.say("1992", /^Bước 3\/7/);
    await u.say("tuyen quang", /^Bước 4\/7/);
    await u.say("lung cu", /Chọn đúng nơi của bạn/);
    await u.press("Lũng Cú", /^Bước 5\/7/);
    await u.press("Người dân", /^Bước 6\/7/);
    await u.press("Kỹ năng số", /^Bước 6\/7/, ["editMessageReplyMarkup"]);
    await u.press("Xong", /^Bước 7\/7/);
    const summary = await u.say("Bỏ qua", /^Kiểm tra lại thông tin/);
    expect(summary).toContain("Họ tên: Hoàng Thị Mai");
    const card = await u.press("Xác nhận", /THẺ CÔNG DÂN HỌC TẬP/);
    expect(card).toMatch(/Số: CDHT-08-\d{4}-000001/);
    expect(await second.stop()).toBe(0);
    // Nothing was handled twice across the restart (a replayed "Hoàng Thị Mai" would fail the year step).
    const texts = server.fake.sent(5001).map((c) => String((c.result as { text?: string }).text));
    expect(texts.filter((t) => /^Năm sinh cần/.test(t))).toEqual([]);
    // No Telegram call the bot made was rejected.
    expect(server.fake.calls.filter((c) => !c.ok && c.method !== "getUpdates").map((c) => `${c.method}: ${c.error}`)).toEqual([]);
  });
});
