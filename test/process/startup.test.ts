import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BotProcess } from "../support/bot-process.js";
import { DEFAULT_BOT_TOKEN } from "../support/telegram/index.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), "khb-start-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

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

  it("names a bad setting and exits non-zero", async () => {
    const p = BotProcess.start({ BOT_TOKEN: DEFAULT_BOT_TOKEN, DATA_DIR: tmp(), BOT_MODE: "webhook" });
    expect(await p.exited()).toBe(1);
    expect(p.text()).toMatch(/Invalid configuration:\n.*WEBHOOK_URL/);
  });
});
