// Turning `text` + `parse_mode`/`entities` into what Telegram stores, with the
// checks Telegram applies on the way. Limits are counted on the *result*
// (after entity parsing and trimming), which is why `<b>` + 4096 chars +
// `</b>` is accepted.

import type { MessageEntity } from "grammy/types";
import { HtmlParseError, parseTelegramHtml } from "./html-parser.js";
import { badRequest, isRecord, UnsupportedByFakeError } from "./params.js";

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

const ENTITY_TYPES = new Set([
  "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
  "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote", "code", "pre",
  "text_link", "text_mention", "custom_emoji", "date_time",
]);

/**
 * Applies parse_mode (or validates explicit entities) and trims surrounding
 * whitespace like Telegram. Throws ApiRejection / UnsupportedByFakeError.
 */
export function formatText(text: string, parseMode: unknown, entities: unknown): FormattedText {
  const mode = typeof parseMode === "string" ? parseMode.toLowerCase() : "";
  let formatted: FormattedText;
  if (mode === "html") {
    formatted = parseHtml(text);
  } else if (mode === "markdownv2" || mode === "markdown") {
    throw new UnsupportedByFakeError(`parse_mode "${String(parseMode)}" (use HTML or entities in tests)`);
  } else if (mode !== "") {
    throw badRequest("unsupported parse_mode");
  } else {
    formatted = { text, entities: entities === undefined ? [] : validateEntities(entities, text) };
  }
  return trimFormattedText(formatted);
}

function parseHtml(html: string): FormattedText {
  try {
    const parsed = parseTelegramHtml(html);
    return { text: parsed.text, entities: parsed.entities as MessageEntity[] };
  } catch (error) {
    if (error instanceof HtmlParseError) throw badRequest(`can't parse entities: ${error.message}`);
    throw error;
  }
}

/** The checks Telegram makes on a client-supplied `entities` array. */
function validateEntities(entities: unknown, text: string): MessageEntity[] {
  if (!Array.isArray(entities)) throw badRequest("can't parse entities JSON object");
  const length = text.length;
  return entities.map((entity: unknown) => {
    if (!isRecord(entity)) throw badRequest("can't parse MessageEntity: MessageEntity must be an Object");
    const { type, offset, length: size } = entity;
    if (typeof type !== "string" || !ENTITY_TYPES.has(type)) {
      throw badRequest("can't parse MessageEntity: Unsupported type specified");
    }
    if (typeof offset !== "number" || !Number.isInteger(offset)) throw badRequest('can\'t parse MessageEntity: Field "offset" must be a valid Number');
    if (typeof size !== "number" || !Number.isInteger(size)) throw badRequest('can\'t parse MessageEntity: Field "length" must be a valid Number');
    if (offset < 0) throw badRequest(`receive an entity with incorrect offset ${offset}`);
    if (offset > length) throw badRequest(`entity begins after the end of the text at UTF-16 offset ${offset}`);
    if (offset + size > length) {
      throw badRequest(`entity beginning at UTF-16 offset ${offset} ends after the end of the text at UTF-16 offset ${offset + size}`);
    }
    if (type === "text_link" && typeof entity.url !== "string") throw badRequest('can\'t parse MessageEntity: Can\'t find field "url"');
    if (type === "text_mention" && !isRecord(entity.user)) throw badRequest('can\'t parse MessageEntity: Can\'t find field "user"');
    if (type === "custom_emoji" && typeof entity.custom_emoji_id !== "string") {
      throw badRequest('can\'t parse MessageEntity: Can\'t find field "custom_emoji_id"');
    }
    return entity as unknown as MessageEntity;
  });
}

const TRIMMED = /[ \t\n\r\v\f]/;

/** Strips leading/trailing whitespace and clips entities to what remains, as Telegram does. */
function trimFormattedText({ text, entities }: FormattedText): FormattedText {
  let start = 0;
  let end = text.length;
  while (start < end && TRIMMED.test(text[start] ?? "")) start++;
  while (end > start && TRIMMED.test(text[end - 1] ?? "")) end--;
  if (start === 0 && end === text.length) return { text, entities };
  const clipped = entities.flatMap((entity) => {
    const from = Math.max(entity.offset, start);
    const to = Math.min(entity.offset + entity.length, end);
    return to > from ? [{ ...entity, offset: from - start, length: to - from }] : [];
  });
  return { text: text.slice(start, end), entities: clipped };
}
