import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "../../src/infra/redis.js";
import { BotProcess, botEnv, ChatUser, stopAllBotProcesses } from "../support/bot-process.js";
import { createEmptyDatabase } from "../support/database.js";
import { makeUser, startFakeBotApiServer, type FakeBotApiServer } from "../support/telegram/index.js";

let server: FakeBotApiServer;
const dirs: string[] = [];
const databases: Array<{ drop(): Promise<void> }> = [];
const orphans: number[] = [];

beforeAll(async () => {
  server = await startFakeBotApiServer();
});
afterAll(async () => {
  await stopAllBotProcesses();
  for (const pid of orphans) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // stopped, as it should be
    }
  }
  await server.close();
  for (const d of databases) await d.drop();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function fresh(): Promise<{ dataDir: string; env: Record<string, string | undefined> }> {
  const dataDir = path.join(mkdtempSync(path.join(tmpdir(), "khb-life-")), "data");
  dirs.push(path.dirname(dataDir));
  const db = await createEmptyDatabase();
  databases.push(db);
  return { dataDir, env: botEnv(server, { DATA_DIR: dataDir, DATABASE_URL: db.url, REDIS_URL: undefined }) };
}

/** pids of the redis-servers working in `dir` (redis-server chdirs to its --dir). */
function redisServersOn(dir: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        if (/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) return false;
        const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]!.split(" ")[0]!;
        return argv0.includes("redis-server") && readlinkSync(`/proc/${pid}/cwd`) === dir;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Any process (watchdog included) whose command line names `dir`. */
function processesNaming(dir: string): string[] {
  return spawnSync("ps", ["-eo", "pid,stat,args"], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.includes(dir) && !/ Z/.test(l.slice(0, 14)));
}

async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe("the private redis-server's life", () => {
  it("reachable by the bot's user only: a 0700 socket, no TCP port, files 0600", async () => {
    const { dataDir, env } = await fresh();
    const bot = BotProcess.start(env);
    await bot.waitForOutput(/"msg":"bot started"/);
    const redisDir = path.join(dataDir, "redis");
    expect(mode(dataDir)).toBe("700");
    expect(mode(redisDir)).toBe("700");
    expect(mode(path.join(redisDir, "redis.sock"))).toBe("700");
    for (const f of readdirSync(path.join(redisDir, "appendonlydir"))) expect(mode(path.join(redisDir, "appendonlydir", f))).toBe("600");
    expect(mode(path.join(redisDir, "redis.pid"))).toBe("600");
    const redis = new Redis({ path: path.join(redisDir, "redis.sock") });
    try {
      expect(await redis.config("GET", "port")).toEqual(["port", "0"]);
    } finally {
      redis.disconnect();
    }
    expect(await bot.stop()).toBe(0);
    expect(redisServersOn(redisDir)).toEqual([]);
  });

  it("a SIGKILLed bot leaves no redis-server behind, and a restart continues a registration", async () => {
    const { dataDir, env } = await fresh();
    const redisDir = path.join(dataDir, "redis");
    const first = BotProcess.start(env);
    await first.waitForOutput(/"msg":"bot started"/);
    expect(redisServersOn(redisDir)).toHaveLength(1);

    const u = new ChatUser(server, makeUser(5101, { first_name: "Lan" }));
    await u.say("/start", /Bạn có thể:/);
    await u.press("Đăng ký", /Bạn có đồng ý không\?/);
    await u.press("Đồng ý", /^Bước 1\/7/);
    await u.say("Nguyễn Thị Lan", /^Bước 2\/7/);
    await new Promise((r) => setTimeout(r, 1200)); // appendfsync everysec: the step is on disk

    first.child.kill("SIGKILL");
    await first.exited();
    expect(await eventually(() => redisServersOn(redisDir).length === 0, 5000)).toBe(true);
    expect(await eventually(() => processesNaming(redisDir).length === 0, 5000)).toBe(true);

    const second = BotProcess.start(env);
    await second.waitForOutput(/"msg":"bot started"/);
    expect(redisServersOn(redisDir)).toHaveLength(1);
    await u.say("1992", /^Bước 3\/7/);
    expect(await second.stop()).toBe(0);
    expect(redisServersOn(redisDir)).toEqual([]);
  });

  it.each([
    ["left by a killed bot (pidfile, unix socket)", (dir: string) => ["--port", "0", "--unixsocket", path.join(dir, "redis.sock"), "--pidfile", path.join(dir, "redis.pid")]],
    ["started without a pidfile (an older version, or by hand)", (_dir: string) => ["--port", "0", "--bind", "127.0.0.1", "--unixsocket", path.join(tmpdir(), `khb-old-${process.pid}.sock`)]],
  ])("an orphan redis-server %s is stopped first: one server, the data kept", async (_label, listen) => {
    const { dataDir, env } = await fresh();
    const redisDir = path.join(dataDir, "redis");
    mkdirSync(redisDir, { recursive: true });
    const args = listen(redisDir);
    // --daemonize yes: the starter exits, the server is re-parented to init, as an orphan is.
    const started = spawnSync("redis-server", [...args, "--dir", redisDir, "--appendonly", "yes", "--save", "", "--daemonize", "yes", "--logfile", "/dev/null"], { encoding: "utf8" });
    expect(started.status).toBe(0);
    const sock = args[args.indexOf("--unixsocket") + 1]!;
    expect(await eventually(() => redisServersOn(redisDir).length === 1, 5000)).toBe(true);
    const orphan = redisServersOn(redisDir)[0]!;
    orphans.push(orphan);
    const client = new Redis({ path: sock });
    await client.set("written-by", "the orphan");
    client.disconnect();

    const bot = BotProcess.start(env);
    await bot.waitForOutput(/"msg":"bot started"/);
    const now = redisServersOn(redisDir);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(orphan);
    // The orphan flushed its AOF when stopped; the bot's server loaded it.
    const mine = new Redis({ path: path.join(redisDir, "redis.sock") });
    try {
      expect(await mine.get("written-by")).toBe("the orphan");
    } finally {
      mine.disconnect();
    }
    expect(await bot.stop()).toBe(0);
    expect(redisServersOn(redisDir)).toEqual([]);
  });
});
