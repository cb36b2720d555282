import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BotProcess, stopAllBotProcesses } from "../support/bot-process.js";
import { DEFAULT_BOT_TOKEN, startFakeBotApiServer } from "../support/telegram/index.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), "khb-start-"));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await stopAllBotProcesses();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe("start-up without what the bot needs", () => {
  it("without BOT_TOKEN prints one line on getting one from @BotFather and exits non-zero", async () => {
    const p = BotProcess.start({ DATA_DIR: tmp() });
    expect(await p.exited()).toBe(1);
    const lines = p.text().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/BOT_TOKEN is not set.*@BotFather/);
  });

  it("without redis-server and REDIS_URL prints how to install it and exits non-zero", async () => {
    const p = BotProcess.start({ BOT_TOKEN: DEFAULT_BOT_TOKEN, DATA_DIR: tmp(), REDIS_SERVER_BIN: "/nonexistent/redis-server" });
    expect(await p.exited()).toBe(1);
    const lines = p.text().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/redis-server is not installed.*apt-get install redis-server.*REDIS_URL/);
  });

  it("with a token Telegram refuses says so, exits non-zero and leaves no redis-server behind", async () => {
    const server = await startFakeBotApiServer();
    try {
      const dir = tmp();
      const p = BotProcess.start({ BOT_TOKEN: "123456:ThisIsNotTheTokenTelegramKnows_0000", BOT_API_ROOT: server.url, DATA_DIR: dir, LOG_LEVEL: "silent" });
      expect(await p.exited()).toBe(1);
      expect(p.text().trim()).toBe("Telegram refused BOT_TOKEN (401 Unauthorized): check the token from @BotFather.");
      // The private redis-server was stopped: nothing listens on its AOF directory any more.
      const ps = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
      expect(ps).not.toContain(path.join(dir, "redis"));
    } finally {
      await server.close();
    }
  });

  it("names a bad setting and exits non-zero", async () => {
    const p = BotProcess.start({ BOT_TOKEN: DEFAULT_BOT_TOKEN, DATA_DIR: tmp(), BOT_MODE: "webhook" });
    expect(await p.exited()).toBe(1);
    expect(p.text()).toMatch(/Invalid configuration:\n.*WEBHOOK_URL/);
  });
});
