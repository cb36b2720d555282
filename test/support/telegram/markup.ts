// Validation of `reply_markup` with Telegram's error wording (recorded from the
// live Bot API where known).

import type { InlineKeyboardButton, InlineKeyboardMarkup } from "grammy/types";
import { badRequest, isRecord } from "./params.js";

/** What a message keeps: only inline keyboards are echoed back in Message.reply_markup. */
export interface ValidatedMarkup {
  kind: "none" | "inline" | "reply" | "remove" | "force_reply";
  inline?: InlineKeyboardMarkup;
}

const MAX_BUTTONS = 100;
const MAX_CALLBACK_DATA_BYTES = 64;

/**
 * Telegram reads the first action field it finds, in this order, and ignores
 * the others; an empty callback_data counts as absent.
 */
const INLINE_ACTIONS = [
  "url", "callback_data", "web_app", "login_url", "switch_inline_query",
  "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
  "callback_game", "pay",
] as const;

export function validateReplyMarkup(markup: unknown): ValidatedMarkup {
  if (markup === undefined) return { kind: "none" };
  if (!isRecord(markup)) throw badRequest("can't parse reply keyboard markup JSON object");
  if (markup.inline_keyboard !== undefined) return { kind: "inline", inline: validateInlineKeyboard(markup) };
  if (markup.keyboard !== undefined) {
    validateReplyKeyboard(markup);
    return { kind: "reply" };
  }
  if (markup.remove_keyboard !== undefined) {
    requireBooleanFields(markup, ["remove_keyboard", "selective"]);
    return { kind: "remove" };
  }
  if (markup.force_reply !== undefined) {
    requireBooleanFields(markup, ["force_reply", "selective"]);
    return { kind: "force_reply" };
  }
  // Telegram treats an object without any known markup field as "no markup".
  return { kind: "none" };
}

/** Top-level markup fields say `field "x"`, fields inside a button `Field "x"` (Telegram's wording). */
function requireBooleanFields(
  object: Record<string, unknown>,
  fields: string[],
  errorFor: (message: string) => Error = (message) => badRequest(message.replace(/^Field/, "field")),
): void {
  for (const field of fields) {
    const value = object[field];
    if (value !== undefined && typeof value !== "boolean") throw errorFor(`Field "${field}" must be of type Boolean`);
  }
}

function validateInlineKeyboard(markup: Record<string, unknown>): InlineKeyboardMarkup {
  const rows = markup.inline_keyboard;
  if (!Array.isArray(rows)) throw badRequest('field "inline_keyboard" must be of type Array');
  let count = 0;
  for (const row of rows) {
    if (!Array.isArray(row)) throw badRequest('field "inline_keyboard" must be of type Array');
    for (const button of row) {
      validateInlineButton(button);
      count++;
    }
  }
  if (count > MAX_BUTTONS) throw badRequest("REPLY_MARKUP_TOO_LONG");
  return { inline_keyboard: rows as InlineKeyboardButton[][] };
}

const inlineError = (message: string) => badRequest(`can't parse inline keyboard button: ${message}`);

function validateButtonText(button: Record<string, unknown>, errorFor: (message: string) => Error): void {
  if (button.text === undefined) throw errorFor('Can\'t find field "text"');
  if (typeof button.text !== "string") throw errorFor('Field "text" must be of type String');
  if (button.text.trim() === "") throw badRequest("BUTTON_TEXT_INVALID");
}

function validateInlineButton(button: unknown): void {
  if (!isRecord(button)) throw inlineError("InlineKeyboardButton must be an Object");
  validateButtonText(button, inlineError);
  const action = INLINE_ACTIONS.find((field) =>
    field === "callback_data" ? button[field] !== undefined && button[field] !== "" : button[field] !== undefined,
  );
  if (action === undefined) throw inlineError("Text buttons are unallowed in the inline keyboard");
  validateInlineAction(action, button[action]);
}

function validateInlineAction(action: (typeof INLINE_ACTIONS)[number], value: unknown): void {
  switch (action) {
    case "callback_data": {
      if (typeof value !== "string") throw inlineError('Field "callback_data" must be of type String');
      // The limit is in bytes: 22 Vietnamese letters with diacritics already take 64.
      if (Buffer.byteLength(value, "utf8") > MAX_CALLBACK_DATA_BYTES) throw badRequest("BUTTON_DATA_INVALID");
      return;
    }
    case "url": {
      if (typeof value !== "string") throw inlineError('Field "url" must be of type String');
      const problem = checkButtonUrl(value);
      if (problem !== undefined) throw badRequest(`inline keyboard button URL '${value}' is invalid: ${problem}`);
      return;
    }
    case "web_app":
      validateWebAppUrl(value, "inline keyboard button");
      return;
    case "copy_text": {
      const text = isRecord(value) ? value.text : undefined;
      if (typeof text !== "string" || text.length === 0 || text.length > 256) throw badRequest("BUTTON_COPY_TEXT_INVALID");
      return;
    }
    case "callback_game":
    case "pay":
      // Only valid in game/invoice messages, which this fake never sends.
      throw badRequest("BUTTON_TYPE_INVALID");
    default:
      return;
  }
}

function validateWebAppUrl(webApp: unknown, where: string): void {
  const url = isRecord(webApp) ? webApp.url : undefined;
  if (typeof url !== "string") throw badRequest(`can't parse ${where}: Can't find field "url"`);
  if (!/^https:\/\/[^\s/?#]+/i.test(url)) {
    throw badRequest(`${where} Web App URL '${url}' is invalid: Only HTTPS links are allowed`);
  }
}

/** Returns Telegram's complaint about a button URL, or undefined when acceptable. */
export function checkButtonUrl(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // Telegram accepts scheme-less host names such as "example.com/page".
    return /^[^\s/?#:]+\.[a-z]{2,}([/?#:][^\s]*)?$/i.test(url) ? undefined : "Wrong HTTP URL";
  }
  if (!["http", "https", "tg", "ton"].includes(scheme)) return "Unsupported URL protocol";
  if (scheme === "tg" || scheme === "ton") return undefined;
  try {
    return new URL(url).hostname === "" ? "URL host is empty" : undefined;
  } catch {
    return "Wrong HTTP URL";
  }
}

const keyboardError = (message: string) => badRequest(`can't parse keyboard button: ${message}`);

function validateReplyKeyboard(markup: Record<string, unknown>): void {
  const rows = markup.keyboard;
  if (!Array.isArray(rows)) throw badRequest('field "keyboard" must be of type Array');
  requireBooleanFields(markup, ["resize_keyboard", "one_time_keyboard", "is_persistent", "selective"]);
  let count = 0;
  for (const row of rows) {
    if (!Array.isArray(row)) throw badRequest('field "keyboard" must be of type Array');
    for (const button of row) {
      validateKeyboardButton(button);
      count++;
    }
  }
  if (count > MAX_BUTTONS) throw badRequest("REPLY_MARKUP_TOO_LONG");
}

function validateKeyboardButton(button: unknown): void {
  if (typeof button === "string") {
    if (button.trim() === "") throw badRequest("BUTTON_TEXT_INVALID");
    return;
  }
  if (!isRecord(button)) throw keyboardError("KeyboardButton must be a String or an Object");
  validateButtonText(button, keyboardError);
  requireBooleanFields(button, ["request_contact", "request_location"], keyboardError);
  if (button.web_app !== undefined) validateWebAppUrl(button.web_app, "keyboard button");
  for (const field of ["request_users", "request_chat"]) {
    const request = button[field];
    if (request !== undefined && !(isRecord(request) && typeof request.request_id === "number")) {
      throw keyboardError('Can\'t find field "request_id"');
    }
  }
}

/** Structural equality used for "message is not modified". */
export function sameMarkup(a: InlineKeyboardMarkup | undefined, b: InlineKeyboardMarkup | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
