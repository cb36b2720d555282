import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const dirs: string[] = [];
const sessions: TrySession[] = [];

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.kill()));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function tmp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "khb-try-"));
  dirs.push(dir);
  return dir;
}

/** `npm run try` as a person would start it, with stdin piped instead of a terminal. */
class TrySession {
  private out = "";
  private readonly exit: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (b: Buffer) => (this.out += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (this.out += b.toString()));
    this.exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    sessions.push(this);
  }

  static start(args: string[]): TrySession {
    // Own process group, so a failed test can stop npx, tsx and the script together.
    const child = spawn("npx", ["tsx", "test/support/try-chat.ts", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], detached: true });
    return new TrySession(child);
  }

  get output(): string {
    return this.out;
  }

  /** Waits until the output after `from` matches; returns the match. */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.out.slice(from));
      if (match !== null) return match;
      if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) before ${pattern}:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Types a line; returns where the answer starts in the output. */
  type(line: string): number {
    const mark = this.out.length;
    this.child.stdin!.write(`${line}\n`);
    return mark;
  }

  exited(): Promise<number | null> {
    return this.exit;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null) process.kill(-this.child.pid!, "SIGTERM");
    await this.exit;
  }
}

/** Processes whose working directory is `dir`: redis-server runs inside its --dir. */
function processesIn(dir: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`) === dir;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const BUTTON_ROW = /^ {3}\[1\] (.+?)(?:  \[2\] .*)?$/m;

// The script always runs the bot on embedded PGlite: one database lane is enough.
describe.skipIf(process.env.TEST_DB_LANE === "postgres")("npm run try: the bot in a terminal, without Telegram", () => {
  it("shows the bot's messages with numbered buttons, presses them by number, saves /mydata and stops cleanly on /quit", async () => {
    const dir = tmp();
    const s = TrySession.start(["--fresh", "--data-dir", dir]);
    await s.waitFor(/Type to the bot; numbers press buttons; \/quit to stop/, 0, 120_000);
    // The bot's own log goes to a file whose path is shown, not to the terminal.
    expect(s.output).toContain(`its log: ${path.join(dir, "bot.log")}`);
    // The bot may print its prompt before its "started" line reaches the file: wait for the line.
    await vi.waitFor(() => expect(readFileSync(path.join(dir, "bot.log"), "utf8")).toMatch(/"msg":"bot started"/), { timeout: 10_000, interval: 100 });
    expect(s.output).not.toMatch(/"level":/);
    // It started its own redis-server inside the try data directory.
    expect(processesIn(path.join(dir, "redis"))).toHaveLength(1);

    let at = s.type("/start");
    const buttons = await s.waitFor(BUTTON_ROW, at);
    expect(s.output.slice(at)).toMatch(/^🤖 \S/m);

    at = s.type("1");
    // The press names button 1 as it was printed, and the bot answers it.
    await s.waitFor(new RegExp(`^→ ${escape(buttons[1]!)}\\n(?:✎ .*\\n)*🤖 \\S`, "m"), at);

    at = s.type("/mydata");
    const file = await s.waitFor(/\[(khuyenhoc-mydata-\d+\.json), (\d+) bytes\] saved as (\S+)/, at);
    const saved = path.resolve(ROOT, file[3]!);
    expect(path.dirname(saved)).toBe(path.join(dir, "files"));
    expect(statSync(saved).size).toBe(Number(file[2]));
    expect(JSON.parse(readFileSync(saved, "utf8"))).toHaveProperty("exported_at");

    s.type("/quit");
    expect(await s.exited()).toBe(0);
    expect(s.output).toMatch(/Stopping the bot…\n$/);
    expect(readFileSync(path.join(dir, "bot.log"), "utf8")).toMatch(/"msg":"stopped"/);
    expect(processesIn(path.join(dir, "redis"))).toEqual([]);
    expect(existsSync(path.join(dir, ".lock"))).toBe(false);
  }, 180_000);

  it("reads piped lines one at a time, each after the bot has answered the one before", async () => {
    const dir = tmp();
    const s = TrySession.start(["--fresh", "--data-dir", dir, "--lang", "en"]);
    // All input at once: "1" must still press the button /start's answer brings.
    s.child.stdin!.end("/start\n1\n/quit\n");
    expect(await s.exited()).toBe(0);
    const out = s.output;
    const start = out.indexOf("> /start");
    const press = out.indexOf("> 1\n");
    const quit = out.indexOf("> /quit");
    expect(start).toBeGreaterThan(-1);
    expect(press).toBeGreaterThan(start);
    expect(quit).toBeGreaterThan(press);
    expect(out.slice(start, press)).toMatch(BUTTON_ROW);
    expect(out.slice(press, quit)).toMatch(/^→ .+\n(?:✎ .*\n)*🤖 \S/m);
    expect(processesIn(path.join(dir, "redis"))).toEqual([]);
  }, 180_000);

  it("--fresh refuses to wipe a directory it did not make", async () => {
    const dir = tmp();
    const precious = path.join(dir, "precious");
    mkdirSync(precious);
    writeFileSync(path.join(precious, "keep.txt"), "data\n");
    const s = TrySession.start(["--fresh", "--data-dir", precious]);
    s.child.stdin!.end();
    expect(await s.exited()).toBe(2);
    expect(s.output).toMatch(/was not made by npm run try; not wiping it/);
    expect(readFileSync(path.join(precious, "keep.txt"), "utf8")).toBe("data\n");
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
