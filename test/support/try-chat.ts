// `npm run try`: chat with the real bot in a terminal, with no Telegram at all.
// Starts the project's strict fake Bot API on 127.0.0.1, runs `src/main.ts`
// against it (its own DATA_DIR, default ./data/try), and plays one person:
// typed lines become messages and commands, numbers press buttons.
//
//   npm run try -- [--fresh] [--lang vi|en] [--data-dir DIR] [--admin]
//
// Input lines are handled one at a time: each waits until the bot has gone
// quiet (no Bot API call for QUIET_MS), so piped input gives the same
// transcript every time.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { parseArgs } from "node:util";
import type { InlineKeyboardButton, KeyboardButton, Message, MessageEntity, ReplyKeyboardMarkup } from "grammy/types";
import {
  callbackQuery, command, contactMessage, DEFAULT_BOT_TOKEN, makeUser, startFakeBotApiServer, textMessage,
  type FakeBotApiServer, type NewUpdate, type RecordedCall,
} from "./telegram/index.js";
import { buttonNumber, dim, indentLines, renderButtonRows, renderEntities, safeFileName } from "./try/chat-view.js";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
/** Marks a directory this script made, so --fresh never wipes anything else. */
const MARKER = ".try-chat";
const USER_ID = 900_000_001;
const FAKE_PHONE = "+84912345678";
const QUIET_MS = Number(process.env.TRY_QUIET_MS ?? 300);
/** A bot that says nothing at all gets this long before the next line is read. */
const FIRST_REPLY_MS = 5_000;
const STARTUP_MS = 180_000;
const STOP_MS = 30_000;

const USAGE = "npm run try -- [--fresh] [--lang vi|en] [--data-dir DIR] [--admin]";

interface Options {
  fresh: boolean;
  lang: "vi" | "en";
  dataDir: string;
  admin: boolean;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      fresh: { type: "boolean", default: false },
      lang: { type: "string", default: "vi" },
      "data-dir": { type: "string" },
      admin: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      `${USAGE}\n  --fresh     start with empty data (wipes the try data directory)\n` +
        "  --lang      the person's Telegram language (vi or en; default vi)\n" +
        "  --data-dir  where the bot keeps its data and log (default ./data/try)\n" +
        "  --admin     make the person a bot admin (ADMIN_TELEGRAM_IDS)\n",
    );
    process.exit(0);
  }
  if (values.lang !== "vi" && values.lang !== "en") fail(`--lang must be vi or en, not "${values.lang}"`);
  const dataDir = path.resolve(values["data-dir"] ?? path.join(ROOT, "data", "try"));
  // The bot's own default: a try session must never write into real data.
  if (dataDir === path.join(ROOT, "data")) fail(`${shown(dataDir)} is the bot's own data directory; pick another --data-dir`);
  return { fresh: values.fresh, lang: values.lang, dataDir, admin: values.admin };
}

function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(2);
}

const shown = (file: string): string => {
  const relative = path.relative(process.cwd(), file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
};

/** Creates (or with --fresh, empties) the data directory; only ever wipes one this script made. */
function prepareDataDir({ dataDir, fresh }: Options): void {
  if (fresh && existsSync(dataDir)) {
    const entries = readdirSync(dataDir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      fail(`--fresh: ${shown(dataDir)} was not made by npm run try; not wiping it`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path.join(dataDir, MARKER), "Made by npm run try (test/support/try-chat.ts); --fresh may delete this directory.\n");
}

/** Only what the bot needs: a .env in the checkout must not point it at real Redis, Postgres or Telegram. */
function botEnv(server: FakeBotApiServer, options: Options): NodeJS.ProcessEnv {
  const pass = ["PATH", "HOME", "TMPDIR", "LANG", "REDIS_SERVER_BIN"].filter((k) => process.env[k] !== undefined);
  return {
    ...Object.fromEntries(pass.map((k) => [k, process.env[k]])),
    BOT_TOKEN: DEFAULT_BOT_TOKEN,
    BOT_API_ROOT: server.url,
    BOT_MODE: "polling",
    // A chat in a terminal needs no status port; two try-outs (or a bot on 8080) would collide on it.
    HTTP_PORT: "off",
    DATA_DIR: options.dataDir,
    // Set but empty: dotenv never overrides a variable that exists, and the bot reads empty as unset.
    DATABASE_URL: "",
    REDIS_URL: "",
    ADMIN_TELEGRAM_IDS: options.admin ? String(USER_ID) : "",
    AUTO_MIGRATE: "true",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  };
}

class TryChat {
  private readonly color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  private readonly tty = process.stdin.isTTY === true;
  private readonly user;
  private rl: readline.Interface | undefined;
  private promptShown = false;
  /** The bot's messages in this chat, in sending order. */
  private readonly sentIds: number[] = [];
  private replyKeyboard: ReplyKeyboardMarkup | undefined;
  private stopping: Promise<never> | undefined;
  private readonly filesDir: string;

  constructor(
    private readonly server: FakeBotApiServer,
    private readonly bot: ChildProcess,
    private readonly options: Options,
    private readonly logFile: string,
  ) {
    this.user = makeUser(USER_ID, { first_name: "Bạn", language_code: options.lang });
    this.filesDir = path.join(options.dataDir, "files");
    server.fake.on((event) => {
      if (event.type === "call") this.show(event.call);
    });
    bot.once("exit", (code, signal) => {
      if (this.stopping !== undefined) return;
      this.print(`The bot exited (${signal ?? `exit code ${code}`}). Last lines of ${shown(logFile)}:`);
      this.print(tail(logFile, 8));
      void this.server.close().then(() => process.exit(1));
    });
  }

  print(text: string): void {
    if (this.promptShown && this.rl !== undefined) {
      // Output while the prompt waits: write above it, then draw the prompt again.
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
      process.stdout.write(`${text}\n`);
      this.rl.prompt(true);
      return;
    }
    process.stdout.write(`${text}\n`);
  }

  async waitUntilReady(): Promise<void> {
    const exited = new Promise<never>((_, reject) => this.bot.once("exit", () => reject(new Error("exited"))));
    // main.ts deletes the webhook right before it starts polling.
    const ready = this.server.waitForCall((c) => c.method === "deleteWebhook" && c.ok, STARTUP_MS);
    // Whichever loses the race must not become an unhandled rejection later.
    exited.catch(() => {});
    ready.catch(() => {});
    try {
      await Promise.race([ready, exited]);
    } catch {
      if (this.bot.exitCode === null && this.bot.signalCode === null) {
        process.stdout.write(`The bot did not start within ${STARTUP_MS / 1000} s; see ${shown(this.logFile)}.\n`);
        await this.stop(1);
      }
      // The exit handler reports an early exit.
      await new Promise(() => {});
    }
  }

  commandsLine(): string | undefined {
    const fake = this.server.fake;
    const list = [
      fake.getCommands({ type: "all_private_chats" }, this.options.lang),
      fake.getCommands({ type: "all_private_chats" }),
      fake.getCommands({ type: "default" }, this.options.lang),
      fake.getCommands(),
    ].find((commands) => commands.length > 0);
    return list === undefined ? undefined : `Commands: ${list.map((c) => `/${c.command}`).join(" ")}`;
  }

  async run(): Promise<void> {
    const rl = readline.createInterface({
      input: process.stdin,
      output: this.tty ? process.stdout : undefined,
      terminal: this.tty,
      prompt: "> ",
    });
    this.rl = rl;
    rl.on("SIGINT", () => void this.stop(0));
    this.showPrompt();
    for await (const raw of rl) {
      this.promptShown = false;
      const line = raw.trim();
      if (!this.tty) this.print(dim(`> ${raw}`, this.color));
      if (line === "/quit") break;
      if (line !== "") await this.handle(line);
      this.showPrompt();
    }
    await this.stop(0);
  }

  private showPrompt(): void {
    if (!this.tty || this.rl === undefined || this.stopping !== undefined) return;
    this.promptShown = true;
    this.rl.prompt();
  }

  private async handle(line: string): Promise<void> {
    if (line.startsWith("'")) return this.send(textMessage(this.user, line.slice(1)));
    const earlier = /^\^(\d+)$/.exec(line);
    if (earlier !== null) return this.pressEarlier(Number(earlier[1]));
    const inline = this.latestInlineKeyboard();
    if (inline !== undefined) {
      const buttons = inline.rows.flat();
      const n = buttonNumber(line, buttons.length);
      if (n !== undefined) return this.pressInline(buttons[n - 1]!, inline.message);
    } else if (this.replyKeyboard !== undefined) {
      const buttons = this.replyKeyboard.keyboard.flat();
      const n = buttonNumber(line, buttons.length);
      if (n !== undefined) return this.pressReply(buttons[n - 1]!);
    }
    if (line.startsWith("/")) {
      const [name, ...rest] = line.split(" ");
      return this.send(command(this.user, name!, rest.join(" ")));
    }
    return this.send(textMessage(this.user, line));
  }

  /** The newest bot message, if it (still) carries an inline keyboard; `searchBack` skips messages without one. */
  private latestInlineKeyboard(searchBack = false): { message: Message; rows: InlineKeyboardButton[][] } | undefined {
    for (const id of [...this.sentIds].reverse()) {
      const message = this.server.fake.getMessage(this.user.id, id);
      if (message === undefined) continue; // deleted: the one before is the newest now
      const rows = message.reply_markup?.inline_keyboard ?? [];
      if (rows.flat().length > 0) return { message, rows };
      if (!searchBack) return undefined;
    }
    return undefined;
  }

  /** `^N`: button N of an earlier message, for when the bot's last words ("use the buttons above") had none. */
  private async pressEarlier(n: number): Promise<void> {
    const inline = this.latestInlineKeyboard(true);
    const buttons = inline?.rows.flat() ?? [];
    const button = buttons[n - 1];
    if (inline === undefined || button === undefined) {
      return this.print(buttons.length === 0 ? "(no message with buttons)" : `(no button ${n}: the newest buttons are 1–${buttons.length})`);
    }
    return this.pressInline(button, inline.message);
  }

  private async pressInline(button: InlineKeyboardButton, message: Message): Promise<void> {
    this.print(dim(`→ ${button.text}`, this.color));
    if ("callback_data" in button && button.callback_data !== undefined) {
      return this.send(callbackQuery(this.user, button.callback_data, message));
    }
    if ("url" in button && button.url !== undefined) return this.print(`(opens ${button.url} — not in a terminal)`);
    this.print("(this kind of button is not simulated here)");
  }

  private async pressReply(button: KeyboardButton): Promise<void> {
    const text = typeof button === "string" ? button : button.text;
    this.print(dim(`→ ${text}`, this.color));
    // A one-time keyboard hides once used, as in the Telegram apps.
    if (this.replyKeyboard?.one_time_keyboard === true) this.replyKeyboard = undefined;
    if (typeof button !== "string" && "request_contact" in button && button.request_contact === true) {
      return this.send(contactMessage(this.user, { phone_number: FAKE_PHONE, user_id: this.user.id }));
    }
    if (typeof button !== "string" && Object.keys(button).some((k) => k.startsWith("request_"))) {
      return this.print("(this kind of button is not simulated here)");
    }
    return this.send(textMessage(this.user, text));
  }

  /** Queues the update, then waits until the bot has taken it and gone quiet. */
  private async send(update: NewUpdate): Promise<void> {
    const fake = this.server.fake;
    const since = fake.calls.length;
    const { update_id } = fake.enqueueUpdate(update);
    const taken = (c: RecordedCall) =>
      c.method === "getUpdates" && c.ok && Array.isArray(c.result) && (c.result as Array<{ update_id: number }>).some((u) => u.update_id >= update_id);
    try {
      await fake.waitForCall(taken, 30_000, { since });
    } catch {
      this.print("(the bot has not taken the message within 30 s)");
      return;
    }
    const takenAt = Date.now();
    let last = takenAt;
    let answered = false;
    const off = fake.on((event) => {
      if (event.type !== "call") return;
      last = Date.now();
      if (event.call.method !== "getUpdates") answered = true;
    });
    try {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const now = Date.now();
        if (now - last >= QUIET_MS && (answered || now - takenAt >= FIRST_REPLY_MS)) return;
      }
    } finally {
      off();
    }
  }

  /** Prints what the bot did in this chat. */
  private show(call: RecordedCall): void {
    if (call.method === "getUpdates") return;
    const chatId = call.payload.chat_id;
    const ours = chatId === undefined || Number(chatId) === this.user.id;
    if (!call.ok) {
      if (ours) this.print(`⚠ Telegram refused ${call.method}: ${call.error}`);
      return;
    }
    const message = call.result as Message;
    switch (call.method) {
      case "sendMessage":
      case "sendDocument":
      case "sendPhoto":
      case "sendPoll":
        if (!ours) return;
        if (call.method === "sendPhoto") {
          const photo = call.payload.photo;
          this.pendingPhoto = typeof photo === "string" && photo.startsWith("attach://") ? call.payload[photo.slice("attach://".length)] : photo;
        }
        this.sentIds.push(message.message_id);
        this.trackReplyKeyboard(call.payload.reply_markup);
        return this.print(this.renderMessage("🤖 ", message));
      case "editMessageText":
        if (!ours) return;
        return this.print(this.renderMessage("✎  ", message));
      case "editMessageReplyMarkup":
        if (!ours) return;
        return this.print(this.renderMessage("✎  ", message, true));
      case "deleteMessage":
        if (!ours) return;
        return this.print(dim("(the bot deleted a message)", this.color));
      case "answerCallbackQuery": {
        const text = call.payload.text;
        if (typeof text === "string" && text !== "") this.print(`${call.payload.show_alert === true ? "(alert)" : "(toast)"} ${text}`);
        return;
      }
      default:
        return;
    }
  }

  private trackReplyKeyboard(markup: unknown): void {
    if (typeof markup !== "object" || markup === null) return;
    if ("keyboard" in markup) this.replyKeyboard = markup as ReplyKeyboardMarkup;
    else if ("remove_keyboard" in markup) this.replyKeyboard = undefined;
  }

  private renderMessage(prefix: string, message: Message, keyboardOnly = false): string {
    const lines: string[] = [];
    const text = message.text ?? message.caption;
    const entities: MessageEntity[] = message.entities ?? message.caption_entities ?? [];
    if (message.document !== undefined) lines.push(this.saveDocument(message));
    if (message.photo !== undefined && prefix === "🤖 ") lines.push(this.savePhoto(message));
    if (message.poll !== undefined) {
      lines.push(`[poll] ${message.poll.question}`);
      message.poll.options.forEach((option, i) => lines.push(`  ${i + 1}. ${option.text}`));
    }
    if (keyboardOnly) lines.push(dim("(buttons changed)", this.color));
    else if (text !== undefined) lines.push(...renderEntities(text, entities, this.color).split("\n"));
    lines.push(...renderButtonRows(message.reply_markup?.inline_keyboard ?? [], this.color));
    // Reply keyboards are not part of the message: they sit under the input field until removed.
    if (message.document === undefined && this.replyKeyboard !== undefined && this.sentIds.at(-1) === message.message_id) {
      lines.push(...renderButtonRows(this.replyKeyboard.keyboard, this.color).map((row, i) => `${i === 0 ? "keyboard:" : "         "} ${row}`));
    }
    return indentLines(prefix, "   ", lines);
  }

  /** The upload of the sendPhoto being shown (the fake keeps no photo bytes after decoding them). */
  private pendingPhoto: unknown;

  private savePhoto(message: Message): string {
    const largest = message.photo!.at(-1)!;
    const upload = this.pendingPhoto as { filename?: string; content?: Buffer } | undefined;
    this.pendingPhoto = undefined;
    if (!upload || !Buffer.isBuffer(upload.content)) return `[photo ${largest.width}×${largest.height}]`;
    mkdirSync(this.filesDir, { recursive: true });
    const file = path.join(this.filesDir, safeFileName(`${message.message_id}-${upload.filename ?? "photo.png"}`));
    writeFileSync(file, upload.content);
    return `[photo ${largest.width}×${largest.height}] saved as ${shown(file)}`;
  }

  private saveDocument(message: Message): string {
    const document = message.document!;
    const name = document.file_name ?? "file";
    const stored = this.server.fake.documents.find((d) => d.chat_id === this.user.id && d.message_id === message.message_id);
    if (stored === undefined) return `[${name}, ${document.file_size ?? 0} bytes]`;
    mkdirSync(this.filesDir, { recursive: true });
    const file = path.join(this.filesDir, safeFileName(name));
    writeFileSync(file, stored.content);
    return `[${name}, ${stored.content.length} bytes] saved as ${shown(file)}`;
  }

  /** SIGTERM, wait for the bot's clean shutdown (its redis-server included), then exit. */
  stop(code: number): Promise<never> {
    this.stopping ??= (async () => {
      this.promptShown = false;
      this.rl?.close();
      // After Ctrl-D or Ctrl-C the cursor still sits behind the prompt.
      process.stdout.write(`${this.tty ? "\n" : ""}Stopping the bot…\n`);
      const exited = new Promise<number | null>((resolve) => {
        if (this.bot.exitCode !== null || this.bot.signalCode !== null) resolve(this.bot.exitCode);
        else this.bot.once("exit", (c) => resolve(c));
      });
      this.bot.kill("SIGTERM");
      const timer = setTimeout(() => {
        process.stdout.write(`The bot did not stop within ${STOP_MS / 1000} s; killing it (its redis-server may stay behind).\n`);
        this.bot.kill("SIGKILL");
      }, STOP_MS);
      const botCode = await exited;
      clearTimeout(timer);
      await this.server.close();
      if (botCode !== 0) process.stdout.write(`The bot exited with code ${botCode}; see ${shown(this.logFile)}.\n`);
      process.exit(botCode === 0 ? code : 1);
    })();
    return this.stopping;
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  prepareDataDir(options);
  const logFile = path.join(options.dataDir, "bot.log");
  const server = await startFakeBotApiServer();
  const log = openSync(logFile, "a");
  // Own process group: a Ctrl-C in the terminal reaches only this script, which then stops the bot once.
  const bot = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: botEnv(server, options),
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  const chat = new TryChat(server, bot, options, logFile);
  process.once("SIGINT", () => void chat.stop(0));
  process.once("SIGTERM", () => void chat.stop(0));
  process.stdout.write(`Starting the bot with DATA_DIR=${shown(options.dataDir)} (its log: ${shown(logFile)})…\n`);
  await chat.waitUntilReady();
  process.stdout.write(`You are "Bạn" (Telegram id ${USER_ID}, language ${options.lang}${options.admin ? ", admin" : ""}).\n`);
  const commands = chat.commandsLine();
  if (commands !== undefined) process.stdout.write(`${commands}\n`);
  process.stdout.write("Type to the bot; numbers press buttons; /quit to stop.\n" +
      `  ('12 sends the text 12; ^2 presses button 2 of the newest message with buttons; Ctrl-D also stops.)\n`);
  await chat.run();
}

void main();
