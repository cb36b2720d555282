import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BotProcess, botEnv, stopAllBotProcesses } from "../support/bot-process.js";
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

describe("the embedded database is prepared in a process of its own", () => {
  /** Live processes preparing the PGlite database in `dir` (zombies excluded). */
  const preparing = (dir: string) =>
    spawnSync("ps", ["-eo", "stat=,args="], { encoding: "utf8" }).stdout.split("\n")
      .filter((line) => line.includes("prepare-pglite") && line.includes(dir) && !line.trimStart().startsWith("Z"));

  it("a first start creates and migrates it in a child that is gone once the bot runs; a restart finds nothing to do", async () => {
    const server = await startFakeBotApiServer();
    try {
      const dir = tmp();
      const env = botEnv(server, { DATA_DIR: dir });
      const first = BotProcess.start(env);
      await first.waitForOutput(/"msg":"bot started"/);
      const ready = JSON.parse(first.text().split("\n").find((l) => l.includes('"msg":"database ready"'))!) as { applied: string[]; adminUnits: string; quizBank: string };
      expect(ready.applied).toEqual(readdirSync(path.resolve("prisma/migrations"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort());
      expect([ready.adminUnits, ready.quizBank]).toEqual(["loaded", "loaded"]);
      expect(preparing(dir)).toEqual([]);
      await first.stop();

      const second = BotProcess.start(env);
      await second.waitForOutput(/"msg":"bot started"/);
      expect(second.text()).toMatch(/"applied":\[\],"adminUnits":"unchanged","quizBank":"unchanged"/);
      await second.stop();
    } finally {
      await server.close();
    }
  });

  it("a bot killed while it prepares leaves no preparing process behind, and starts again", async () => {
    const server = await startFakeBotApiServer();
    try {
      const dir = tmp();
      const env = botEnv(server, { DATA_DIR: dir });
      const bot = BotProcess.start(env);
      const deadline = Date.now() + 60_000;
      // Killed once the child has begun writing the cluster: mid-way, not before it started.
      while (preparing(dir).length === 0 || !existsSync(path.join(dir, "pglite.creating", "base"))) {
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 20));
      }
      await bot.kill();
      // Gone within moments, not once it would have finished (that takes seconds).
      const gone = Date.now() + 3_000;
      while (preparing(dir).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(preparing(dir)).toEqual([]);

      const again = BotProcess.start(env);
      await again.waitForOutput(/"msg":"bot started"/);
      expect(again.text()).toMatch(/"msg":"database ready"/);
      await again.stop();
    } finally {
      await server.close();
    }
  });
});
