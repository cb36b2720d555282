import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { InlineKeyboardMarkup, Message, User } from "grammy/types";
import {
  callbackQuery, command, DEFAULT_BOT_TOKEN, textMessage, type FakeBotApiServer, type RecordedCall,
} from "./telegram/index.js";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

const running = new Set<BotProcess>();

/** Kills what a failed test left running (call in afterAll). */
export async function stopAllBotProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** The real `src/main.ts` in a child process, as `npm start` runs it. */
export class BotProcess {
  readonly output: string[] = [];
  private exit?: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (b: Buffer) => this.output.push(b.toString()));
    child.stderr?.on("data", (b: Buffer) => this.output.push(b.toString()));
    this.exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    running.add(this);
    void this.exit.then(() => running.delete(this));
  }

  /** `script`: src/main.ts (the bot) or src/worker.ts (`npm run worker`). */
  static start(env: Record<string, string | undefined>, script = "src/main.ts"): BotProcess {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info", ...env } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new BotProcess(child);
  }

  text(): string {
    return this.output.join("");
  }

  async waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text())) {
      if (this.child.exitCode !== null) throw new Error(`bot exited (${this.child.exitCode}) before ${pattern}:\n${this.text()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${this.text()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  exited(): Promise<number | null> {
    return this.exit!;
  }

  /** SIGKILL: no shutdown at all, as a power cut or the OOM killer would. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited();
  }

  /** SIGTERM and wait: the process must shut down cleanly on its own. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    return this.exited();
  }
}

export function botEnv(server: FakeBotApiServer, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  // No /healthz-/metrics server unless a test asks: processes running side by side would all want port 8080.
  return { BOT_TOKEN: DEFAULT_BOT_TOKEN, BOT_API_ROOT: server.url, HTTP_PORT: "off", ...extra };
}

/** A person chatting with the process through the fake server's update queue. */
export class ChatUser {
  constructor(readonly server: FakeBotApiServer, readonly tg: User) {}

  private mark(): number {
    return this.server.fake.calls.length;
  }

  private async waitForReply(since: number, expected: RegExp, methods = ["sendMessage", "editMessageText"]): Promise<RecordedCall> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const hit = this.server.fake.calls
        .slice(since)
        .find((c) => c.ok && methods.includes(c.method) && Number(c.payload.chat_id) === this.tg.id && expected.test(String((c.result as Message).text)));
      if (hit) return hit;
      if (Date.now() > deadline) {
        const seen = this.server.fake.calls.slice(since).map((c) => `${c.method} ${c.ok ? "" : c.error} ${(c.result as Message | undefined)?.text ?? ""}`);
        throw new Error(`no reply matching ${expected}; saw:\n${seen.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async say(text: string, expected: RegExp): Promise<string> {
    const since = this.mark();
    if (text.startsWith("/")) {
      const [cmd, ...rest] = text.split(" ");
      this.server.fake.enqueueUpdate(command(this.tg, cmd!, rest.join(" ")));
    } else {
      this.server.fake.enqueueUpdate(textMessage(this.tg, text));
    }
    return String(((await this.waitForReply(since, expected)).result as Message).text);
  }

  /** Presses a button; `methods` says which Bot API calls count as the answer (a toggle only edits the keyboard). */
  async press(label: string, expected: RegExp, methods?: string[]): Promise<string> {
    const since = this.mark();
    const messages = this.server.fake.sent(this.tg.id).map((c) => this.server.fake.getMessage(this.tg.id, (c.result as Message).message_id)!).reverse();
    for (const m of messages) {
      const button = (m.reply_markup as InlineKeyboardMarkup | undefined)?.inline_keyboard.flat().find((b) => b.text.includes(label));
      if (button && "callback_data" in button) {
        this.server.fake.enqueueUpdate(callbackQuery(this.tg, button.callback_data!, m));
        return String(((await this.waitForReply(since, expected, methods)).result as Message).text);
      }
    }
    throw new Error(`no button ${label}`);
  }
}
