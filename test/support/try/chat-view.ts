// How `npm run try` shows a Telegram chat in a terminal: message text with its
// entities (ANSI styles when the terminal has colours), buttons numbered so a
// person can press them by typing the number. Pure functions: no I/O.

import type { InlineKeyboardButton, KeyboardButton, MessageEntity } from "grammy/types";

const STYLES: Partial<Record<MessageEntity["type"], readonly [string, string]>> = {
  bold: ["\x1b[1m", "\x1b[22m"],
  italic: ["\x1b[3m", "\x1b[23m"],
  underline: ["\x1b[4m", "\x1b[24m"],
  strikethrough: ["\x1b[9m", "\x1b[29m"],
  spoiler: ["\x1b[2m", "\x1b[22m"],
  code: ["\x1b[36m", "\x1b[39m"],
  pre: ["\x1b[36m", "\x1b[39m"],
  text_link: ["\x1b[4m", "\x1b[24m"],
};

export const dim = (text: string, color: boolean): string => (color ? `\x1b[2m${text}\x1b[22m` : text);

/**
 * Message text as Telegram shows it: entities become ANSI styles when `color`,
 * plain text otherwise; a text link keeps its address after it in brackets.
 * Offsets are UTF-16 code units, like JavaScript string indices.
 */
export function renderEntities(text: string, entities: readonly MessageEntity[] = [], color = false): string {
  const opens = new Map<number, string[]>();
  const closes = new Map<number, string[]>();
  const at = (map: Map<number, string[]>, index: number, value: string, first = false) => {
    const list = map.get(index) ?? [];
    if (first) list.unshift(value);
    else list.push(value);
    map.set(index, list);
  };
  for (const entity of entities) {
    const style = color ? STYLES[entity.type] : undefined;
    const end = entity.offset + entity.length;
    if (style !== undefined) {
      at(opens, entity.offset, style[0]);
      // Closing in reverse order of opening keeps nested styles balanced.
      at(closes, end, style[1], true);
    }
    if (entity.type === "text_link") at(closes, end, ` (${entity.url})`);
  }
  let out = "";
  for (let i = 0; i <= text.length; i++) {
    out += (closes.get(i) ?? []).join("") + (opens.get(i) ?? []).join("");
    if (i < text.length) out += text[i];
  }
  return out;
}

/** A button as the terminal offers it; `n` is what the person types to press it. */
export interface NumberedButton<B> {
  n: number;
  button: B;
}

/** Numbers buttons row by row, left to right, from 1. */
export function numberButtons<B>(rows: readonly (readonly B[])[]): NumberedButton<B>[][] {
  let n = 0;
  return rows.map((row) => row.map((button) => ({ n: ++n, button })));
}

/** `[1] ✅ Đồng ý  [2] Không đồng ý`, one line per keyboard row. */
export function renderButtonRows(rows: readonly (readonly (InlineKeyboardButton | KeyboardButton)[])[], color = false): string[] {
  // A keyboard built with a trailing .row() ends in an empty row: nothing to show.
  return numberButtons(rows.filter((row) => row.length > 0)).map((row) => row.map(({ n, button }) => `${color ? `\x1b[1m[${n}]\x1b[22m` : `[${n}]`} ${buttonLabel(button)}`).join("  "));
}

function buttonLabel(button: InlineKeyboardButton | KeyboardButton): string {
  if (typeof button === "string") return button;
  if ("url" in button && button.url !== undefined) return `${button.text} ↗`;
  if ("request_contact" in button && button.request_contact === true) return `${button.text} (shares your phone number)`;
  return button.text;
}

/** Lines of a bot message with a prefix on the first line and matching indent on the rest. */
export function indentLines(prefix: string, indent: string, lines: readonly string[]): string {
  return lines.map((line, i) => (i === 0 ? prefix : indent) + line).join("\n");
}

/** Reads "3" as button 3 when 1 ≤ n ≤ count; anything else is text to send. */
export function buttonNumber(line: string, count: number): number | undefined {
  if (!/^\d{1,3}$/.test(line)) return undefined;
  const n = Number(line);
  return n >= 1 && n <= count ? n : undefined;
}

/** Keeps a file name from leaving the directory it is saved in. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const cleaned = base.replace(/[\x00-\x1f]/g, "_").replace(/^\.+/, "_");
  return cleaned === "" ? "file" : cleaned;
}
