import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { BotProcess, botEnv, ChatUser, stopAllBotProcesses } from "../support/bot-process.js";
import { createEmptyDatabase } from "../support/database.js";
import { freePort } from "../support/ports.js";
import { makeUser, startFakeBotApiServer, type FakeBotApiServer } from "../support/telegram/index.js";

let server: FakeBotApiServer;
let dataDir: string;
let database: { url?: string; drop(): Promise<void> };
let bot: BotProcess;
let port: number;
const SECRET = "khuyen-hoc-webhook-secret-2026";

beforeAll(async () => {
  server = await startFakeBotApiServer({ webhook: { attempts: 5 } });
  dataDir = mkdtempSync(path.join(tmpdir(), "khb-wh-"));
  database = await createEmptyDatabase();
  port = await freePort();
  bot = BotProcess.start(
    botEnv(server, {
      BOT_MODE: "webhook", WEBHOOK_URL: `http://127.0.0.1:${port}/khuyenhoc/`, WEBHOOK_SECRET: SECRET, HTTP_HOST: "127.0.0.1", HTTP_PORT: String(port),
      DATA_DIR: dataDir, DATABASE_URL: database.url, REDIS_URL: `${inject("redisUrl")}/7`,
    }),
  );
  await bot.waitForOutput(/"msg":"bot started"/);
});
afterAll(async () => {
  await stopAllBotProcesses();
  await bot.stop();
  await server.close();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the real bot process in webhook mode", () => {
  it("registers its webhook with the secret and the update types it handles", () => {
    expect(server.fake.webhook).toMatchObject({ url: `http://127.0.0.1:${port}/khuyenhoc/telegram/webhook`, secret_token: SECRET });
    const set = server.fake.calls.find((c) => c.method === "setWebhook")!;
    expect(set.payload.allowed_updates).toEqual(["message", "edited_message", "callback_query", "my_chat_member", "poll_answer"]);
  });

  it("answers updates Telegram delivers with the secret header", async () => {
    const u = new ChatUser(server, makeUser(6001, { language_code: "en" }));
    expect(await u.say("/start", /^Hello/)).toContain("learning citizen");
    expect(await u.press("Register", /Do you agree\?/)).toContain("Decree 13/2023/NĐ-CP");
    // The empty-chat screen explains the bot, in both languages.
    expect(server.fake.getDescription("")).toMatch(/^Trợ lý của phong trào Khuyến học/);
    expect(server.fake.getDescription("en", "short_description")).toMatch(/learning citizen/);
    expect(server.fake.getDescription("vi", "short_description")).toMatch(/Công dân học tập/);
    const delivery = await server.waitForDelivery((d) => d.status !== null);
    expect(delivery).toMatchObject({ status: 200, secret_sent: true });
  });

  it("refuses requests without the right secret and serves /healthz", async () => {
    const url = `http://127.0.0.1:${port}/telegram/webhook`;
    const body = JSON.stringify({ update_id: 999, message: { message_id: 1, date: 0, chat: { id: 6002, type: "private" }, from: { id: 6002, is_bot: false, first_name: "X" }, text: "/start" } });
    const wrong = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "wrong" } });
    expect(wrong.status).toBe(401);
    const none = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(none.status).toBe(401);
    expect(server.fake.calls.some((c) => Number(c.payload.chat_id) === 6002)).toBe(false);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(await health.json()).toEqual({ ok: true });
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^khb_updates_total\{outcome="handled"\} [1-9]/m);
    expect(metrics).toMatch(/^khb_queue_jobs\{state="waiting"\} 0/m);
    // No person reaches the metrics: no label carries their id (values are byte counts and may hold any digits).
    const labels = metrics.split("\n").map((line) => /\{([^}]*)\}/.exec(line)?.[1] ?? "").join(" ");
    expect(labels).toContain("outcome=");
    expect(labels).not.toMatch(/6001|chat|user/);
  });
});
