// Telegram's `parse_mode: "HTML"` parser, re-implemented from the behaviour of
// TDLib's `parse_html` (td/telegram/MessageEntity.cpp), which is what the Bot
// API server runs. It works on UTF-8 bytes because Telegram reports error
// positions as *byte* offsets, and it measures entities in UTF-16 code units
// because that is how the Bot API counts offsets and lengths.
//
// Deliberately faithful quirks (tests must not be stricter than production):
// - a bare `&` or an unknown named entity such as `&nbsp;` is kept literally;
// - entities may omit the trailing `;` (`&lt` works);
// - an end tag may be empty (`</>`) and closes the innermost open tag;
// - unknown attributes are ignored, and `<a>` without a usable URL yields no
//   entity instead of an error.

export interface ParsedEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
}

export interface ParsedText {
  text: string;
  entities: ParsedEntity[];
}

/** The text after "Bad Request: can't parse entities: ". */
export class HtmlParseError extends Error {
  override name = "HtmlParseError";
}

const SUPPORTED_TAGS = new Set([
  "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
  "tg-spoiler", "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
]);

const SIMPLE_ENTITY_TYPES: Record<string, string> = {
  b: "bold", strong: "bold",
  i: "italic", em: "italic",
  u: "underline", ins: "underline",
  s: "strikethrough", strike: "strikethrough", del: "strikethrough",
  "tg-spoiler": "spoiler", span: "spoiler",
};

const NAMED_ENTITIES: Record<string, number> = { lt: 0x3c, gt: 0x3e, amp: 0x26, quot: 0x22 };

interface OpenTag {
  tag: string;
  argument: string;
  utf16Offset: number;
  resultByteOffset: number;
}

const CH = (s: string): number => s.charCodeAt(0);
const LT = CH("<"), GT = CH(">"), AMP = CH("&"), SLASH = CH("/"), EQ = CH("=");
const SEMI = CH(";"), HASH = CH("#"), DQUOTE = CH('"'), SQUOTE = CH("'");

const isSpace = (c: number): boolean =>
  c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
const isHexDigit = (c: number): boolean =>
  isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** Bytes of the input plus a cursor; reading past the end yields 0 like TDLib's C strings. */
class Cursor {
  pos = 0;
  constructor(readonly bytes: Buffer) {}
  at(index: number = this.pos): number {
    return index < this.bytes.length ? (this.bytes[index] ?? 0) : 0;
  }
  ascii(from: number, to: number): string {
    return this.bytes.subarray(from, to).toString("latin1");
  }
  utf8(from: number, to: number): string {
    return this.bytes.subarray(from, to).toString("utf8");
  }
  skipSpaces(): void {
    while (this.at() !== 0 && isSpace(this.at())) this.pos++;
  }
}

/** Output text as UTF-8 bytes, tracking its length in UTF-16 code units. */
class Output {
  readonly bytes: number[] = [];
  utf16Length = 0;
  pushByte(byte: number): void {
    this.bytes.push(byte);
    // Count a code unit per UTF-8 lead byte; 4-byte sequences are surrogate pairs.
    if ((byte & 0xc0) !== 0x80) this.utf16Length += byte >= 0xf0 ? 2 : 1;
  }
  pushCodePoint(codePoint: number): void {
    for (const byte of encodeCodePoint(codePoint)) this.pushByte(byte);
  }
  text(from = 0): string {
    return Buffer.from(this.bytes.slice(from)).toString("utf8");
  }
}

/** Encodes a code point as UTF-8 without rejecting lone surrogates (checked later, like TDLib). */
function encodeCodePoint(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
}

/**
 * Decodes `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&#NNN;` or `&#xHH;` at the cursor.
 * Returns 0 (cursor untouched) when the text there is not such an entity.
 */
function decodeHtmlEntity(cur: Cursor): number {
  const start = cur.pos;
  let end = start + 1;
  let codePoint = 0;
  if (cur.at(end) === HASH) {
    end++;
    const hex = cur.at(end) === CH("x");
    if (hex) end++;
    while (hex ? isHexDigit(cur.at(end)) : isDigit(cur.at(end))) {
      codePoint = codePoint * (hex ? 16 : 10) + parseInt(String.fromCharCode(cur.at(end)), 16);
      end++;
      if (codePoint > 0x10ffff) codePoint = 0x110000; // keep the number bounded; rejected below
    }
    if (codePoint === 0 || codePoint >= 0x10ffff || end - start >= 10) return 0;
  } else {
    while (isAlpha(cur.at(end))) end++;
    codePoint = NAMED_ENTITIES[cur.ascii(start + 1, end)] ?? 0;
    if (codePoint === 0) return 0;
  }
  cur.pos = cur.at(end) === SEMI ? end + 1 : end;
  return codePoint;
}

/** Reads an attribute value: a quoted string (entities decoded) or a lowercased name token. */
function readAttributeValue(cur: Cursor): string {
  const quote = cur.at();
  if (quote !== DQUOTE && quote !== SQUOTE) {
    const tokenStart = cur.pos;
    while (isAlnum(cur.at()) || cur.at() === CH(".") || cur.at() === CH("-")) cur.pos++;
    if (!isSpace(cur.at()) && cur.at() !== GT) {
      throw new HtmlParseError(`Unexpected end of name token at byte offset ${tokenStart}`);
    }
    return cur.ascii(tokenStart, cur.pos).toLowerCase();
  }
  cur.pos++;
  const value = new Output();
  while (cur.at() !== quote && cur.at() !== 0) {
    if (cur.at() === AMP) {
      const cp = decodeHtmlEntity(cur);
      if (cp !== 0) {
        value.pushCodePoint(cp);
        continue;
      }
    }
    value.pushByte(cur.at());
    cur.pos++;
  }
  if (cur.at() === quote) cur.pos++;
  return value.text();
}

/** Maps a recognised attribute to the tag's argument (URL, language, spoiler class, ...). */
function attributeArgument(tag: string, name: string, value: string, current: string): string {
  if (tag === "a" && name === "href") return value;
  if (tag === "tg-emoji" && name === "emoji-id") return value;
  if (tag === "code" && name === "class" && value.startsWith("language-")) return value.slice(9);
  if (tag === "span" && name === "class" && value.startsWith("tg-")) return value.slice(3);
  if (tag === "blockquote" && name === "expandable") return "1";
  return current;
}

/** Parses a start tag; the cursor starts after `<` and ends on the closing `>`. */
function readStartTag(cur: Cursor, tagStart: number, out: Output): OpenTag {
  while (!isSpace(cur.at()) && cur.at() !== GT) cur.pos++;
  if (cur.at() === 0) throw new HtmlParseError(`Unclosed start tag at byte offset ${tagStart}`);

  const tag = cur.utf8(tagStart + 1, cur.pos).toLowerCase();
  if (!SUPPORTED_TAGS.has(tag)) {
    throw new HtmlParseError(`Unsupported start tag "${tag}" at byte offset ${tagStart}`);
  }

  let argument = "";
  while (cur.at() !== GT) {
    cur.skipSpaces();
    if (cur.at() === GT) break;
    const nameStart = cur.pos;
    while (!isSpace(cur.at()) && ![EQ, GT, SLASH, DQUOTE, SQUOTE].includes(cur.at())) cur.pos++;
    const name = cur.utf8(nameStart, cur.pos);
    if (name === "") {
      throw new HtmlParseError(`Empty attribute name in the tag "${tag}" at byte offset ${tagStart}`);
    }
    cur.skipSpaces();
    if (cur.at() !== EQ) {
      // A value-less attribute: only `<blockquote expandable>` means anything.
      if (cur.at() === 0) throw new HtmlParseError(`Unclosed start tag "${tag}" at byte offset ${tagStart}`);
      argument = attributeArgument(tag, name, "", argument);
      continue;
    }
    cur.pos++;
    cur.skipSpaces();
    if (cur.at() === 0) throw new HtmlParseError(`Unclosed start tag "${tag}" at byte offset ${tagStart}`);
    const value = readAttributeValue(cur);
    if (cur.at() === 0) throw new HtmlParseError(`Unclosed start tag at byte offset ${tagStart}`);
    argument = attributeArgument(tag, name, value, argument);
  }

  if (tag === "span" && argument !== "spoiler") {
    throw new HtmlParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${tagStart}`);
  }
  return { tag, argument, utf16Offset: out.utf16Length, resultByteOffset: out.bytes.length };
}

/** Parses an end tag (cursor on `/`) and returns the lowercased name, possibly empty. */
function readEndTag(cur: Cursor, tagStart: number): string {
  while (!isSpace(cur.at()) && cur.at() !== GT) cur.pos++;
  const name = cur.utf8(tagStart + 2, cur.pos).toLowerCase();
  while (isSpace(cur.at()) && cur.at() !== 0) cur.pos++;
  if (cur.at() !== GT) throw new HtmlParseError(`Unclosed end tag at byte offset ${tagStart}`);
  return name;
}

/** Accepts what Telegram turns into a text_link; anything else silently yields no entity. */
function normalizeLinkUrl(url: string): string | undefined {
  const trimmed = url.trim();
  if (trimmed === "") return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return /^[^\s/?#]+\.[^\s/?#]+/.test(trimmed) ? `http://${trimmed}` : undefined;
  return ["http", "https", "tg", "ton", "tonsite"].includes(scheme) ? trimmed : undefined;
}

function isValidCustomEmojiId(id: string): boolean {
  return /^\d{1,19}$/.test(id) && BigInt(id) > 0n && BigInt(id) <= 0x7fffffffffffffffn;
}

/** Turns a closed tag into an entity, merging `<pre><code class="language-x">` like Telegram. */
function closeTag(open: OpenTag, length: number, out: Output, entities: ParsedEntity[]): void {
  const offset = open.utf16Offset;
  const last = entities[entities.length - 1];
  const sameSpan = last !== undefined && last.offset === offset && last.length === length;
  const simple = SIMPLE_ENTITY_TYPES[open.tag];
  if (simple !== undefined) {
    entities.push({ type: simple, offset, length });
  } else if (open.tag === "a") {
    const url = normalizeLinkUrl(open.argument !== "" ? open.argument : out.text(open.resultByteOffset));
    if (url !== undefined) entities.push({ type: "text_link", offset, length, url });
  } else if (open.tag === "tg-emoji") {
    if (!isValidCustomEmojiId(open.argument)) throw new HtmlParseError("Invalid custom emoji identifier specified");
    entities.push({ type: "custom_emoji", offset, length, custom_emoji_id: open.argument });
  } else if (open.tag === "blockquote") {
    entities.push({ type: open.argument !== "" ? "expandable_blockquote" : "blockquote", offset, length });
  } else if (open.tag === "pre") {
    // <pre><code>…</code></pre> is one pre entity (with the code's language, if any).
    if (sameSpan && last.type === "code") last.type = "pre";
    else entities.push({ type: "pre", offset, length });
  } else if (open.tag === "code") {
    if (sameSpan && last.type === "pre" && open.argument !== "") last.language = open.argument;
    else entities.push(open.argument !== "" ? { type: "code", offset, length, language: open.argument } : { type: "code", offset, length });
  }
  // tg-time only formats a date in clients; it produces no entity here.
}

/**
 * Parses Telegram-flavoured HTML into plain text plus entities, or throws
 * HtmlParseError with Telegram's wording (prefix it with
 * "Bad Request: can't parse entities: " to get the API description).
 */
export function parseTelegramHtml(html: string): ParsedText {
  const cur = new Cursor(Buffer.from(html, "utf8"));
  const out = new Output();
  const entities: ParsedEntity[] = [];
  const open: OpenTag[] = [];
  let decodedSurrogate = false;

  for (; cur.pos < cur.bytes.length; cur.pos++) {
    const c = cur.at();
    if (c === AMP) {
      const cp = decodeHtmlEntity(cur);
      if (cp !== 0) {
        decodedSurrogate ||= cp >= 0xd800 && cp <= 0xdfff;
        out.pushCodePoint(cp);
        cur.pos--; // the loop increment moves onto the byte after the entity
        continue;
      }
    }
    if (c !== LT) {
      out.pushByte(c);
      continue;
    }
    const tagStart = cur.pos++;
    if (cur.at() !== SLASH) {
      open.push(readStartTag(cur, tagStart, out));
      continue;
    }
    const top = open[open.length - 1];
    if (top === undefined) throw new HtmlParseError(`Unexpected end tag at byte offset ${tagStart}`);
    const endName = readEndTag(cur, tagStart);
    if (endName !== "" && endName !== top.tag) {
      throw new HtmlParseError(
        `Unmatched end tag at byte offset ${tagStart}, expected "</${top.tag}>", found "</${endName}>"`,
      );
    }
    if (out.utf16Length > top.utf16Offset) closeTag(top, out.utf16Length - top.utf16Offset, out, entities);
    open.pop();
  }

  const unclosed = open[open.length - 1];
  if (unclosed !== undefined) {
    throw new HtmlParseError(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  }
  if (decodedSurrogate) {
    throw new HtmlParseError(
      "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units",
    );
  }
  // A language only survives on code nested in pre.
  for (const entity of entities) if (entity.type === "code") delete entity.language;
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text: out.text(), entities };
}
