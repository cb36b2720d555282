/**
 * Broadcast texts: Telegram HTML checked the way Telegram's own parser (TDLib's parse_html) reads
 * it, personal variables, and the length limits after filling them.
 *
 * A small strict validator rather than an HTML tokenizer from npm: htmlparser2 and parse5 are
 * forgiving by design (they close tags implicitly, repair misnesting, accept a bare "<"), which is
 * exactly what must be refused here; Telegram's parser is a strict 200-line loop, mirrored below.
 */

export const VARIABLES = ["name", "commune", "province"] as const;
export type VariableName = (typeof VARIABLES)[number];
export type VariableValues = Record<VariableName, string>;

/** Telegram's limits, counted in UTF-16 units after parsing. */
export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
/** A long value assumed for each variable when the length is checked at compose time. */
export const VARIABLE_ALLOWANCE = 60;

const SUPPORTED = new Set(["a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "tg-emoji", "code", "pre", "blockquote"]);
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

export type HtmlProblem =
  /** `<p>`, `<br>`, `< 5`: Telegram knows only its own tags; a bare "<" must be written &lt;. */
  | { reason: "unsupported_tag"; offset: number; tag: string }
  /** `<span>` without class="tg-spoiler". */
  | { reason: "span_class"; offset: number; tag: string }
  /** `<b` with no `>` before the end. */
  | { reason: "unclosed_start_tag"; offset: number; tag: string }
  /** `</i>` while `<b>` is the innermost open tag, or a closing tag with nothing open. */
  | { reason: "unexpected_end_tag"; offset: number; tag: string; expected?: string }
  /** `<b>` never closed. */
  | { reason: "missing_end_tag"; offset: number; tag: string };

export type HtmlParse = { ok: true; text: string } | { ok: false; problem: HtmlProblem };

const isSpace = (c: string | undefined) => c === " " || c === "\n" || c === "\t" || c === "\r";

/** Decodes an entity at `i` (which holds "&"): [text, next index], or undefined to keep "&" literally. */
function entityAt(src: string, i: number): [string, number] | undefined {
  const m = /^&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|([a-zA-Z]+));?/.exec(src.slice(i, i + 12));
  if (!m) return undefined;
  if (m[3] !== undefined) {
    const named = NAMED[m[3]];
    return named === undefined ? undefined : [named, i + m[0].length];
  }
  const cp = m[1] !== undefined ? Number(m[1]) : parseInt(m[2]!, 16);
  if (cp === 0 || cp >= 0x10ffff) return undefined;
  return [String.fromCodePoint(cp), i + m[0].length];
}

/**
 * Parses Telegram HTML; returns the plain text recipients will read, or the first problem with
 * its position (1-based character offset in the source) and the tag it concerns.
 */
export function parseTelegramHtml(src: string): HtmlParse {
  const open: Array<{ tag: string; offset: number }> = [];
  let out = "";
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === "&") {
      const e = entityAt(src, i);
      if (e) {
        out += e[0];
        i = e[1];
      } else {
        out += "&";
        i++;
      }
      continue;
    }
    if (ch !== "<") {
      out += ch;
      i++;
      continue;
    }
    const at = i + 1;
    const close = src.indexOf(">", i);
    if (src[i + 1] === "/") {
      if (close < 0) return { ok: false, problem: { reason: "unclosed_start_tag", offset: at, tag: src.slice(i + 2, i + 12).split(/\s/)[0] ?? "" } };
      const tag = src.slice(i + 2, close).trim().toLowerCase();
      const top = open.pop();
      // "</>" closes the innermost tag, as Telegram allows.
      if (!top || (tag !== "" && tag !== top.tag)) return { ok: false, problem: { reason: "unexpected_end_tag", offset: at, tag, expected: top?.tag } };
      i = close + 1;
      continue;
    }
    let j = i + 1;
    while (j < src.length && !isSpace(src[j]) && src[j] !== ">") j++;
    const tag = src.slice(i + 1, j).toLowerCase();
    if (!SUPPORTED.has(tag)) return { ok: false, problem: { reason: "unsupported_tag", offset: at, tag } };
    if (close < 0) return { ok: false, problem: { reason: "unclosed_start_tag", offset: at, tag } };
    const attrs = readAttributes(src.slice(j, close));
    if (attrs === undefined) return { ok: false, problem: { reason: "unclosed_start_tag", offset: at, tag } };
    if (tag === "span" && attrs.get("class") !== "tg-spoiler") return { ok: false, problem: { reason: "span_class", offset: at, tag } };
    open.push({ tag, offset: at });
    i = close + 1;
  }
  const unclosed = open.at(-1);
  if (unclosed) return { ok: false, problem: { reason: "missing_end_tag", offset: unclosed.offset, tag: unclosed.tag } };
  return { ok: true, text: out };
}

/** `href="…" expandable class=x`: names to values; undefined when a quote is left open. */
function readAttributes(s: string): Map<string, string> | undefined {
  const attrs = new Map<string, string>();
  const re = /\s*([^\s=>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/gy;
  let end = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null && m[0] !== "") {
    attrs.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? m[4] ?? "");
    end = re.lastIndex;
  }
  return s.slice(end).trim() === "" ? attrs : undefined;
}

const VARIABLE = /\{([^{}\n]{0,40})\}/g;

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Variable names used in a text that the bot does not know (in order, once each). */
export function unknownVariables(text: string): string[] {
  const unknown = new Set<string>();
  for (const m of text.matchAll(VARIABLE)) if (!(VARIABLES as readonly string[]).includes(m[1]!)) unknown.add(m[1]!);
  return [...unknown];
}

/** Fills {name}, {commune}, {province} with the recipient's values, HTML-escaped. */
export function fillVariables(text: string, values: VariableValues): string {
  return text.replace(VARIABLE, (whole, name: string) => ((VARIABLES as readonly string[]).includes(name) ? escapeHtml(values[name as VariableName]) : whole));
}

export type TextCheck =
  | { ok: true; length: number }
  | { ok: false; key: string; params: Record<string, string | number> };

export interface TextCheckOptions {
  /** A photo or document is attached: the text is its caption. */
  media: boolean;
  /** Characters the bot adds before the text (the sender line). */
  reserve: number;
}

/**
 * What the composer is told when a text cannot go out: unknown variables first, then broken HTML
 * (where it breaks), then the length with every variable filled with a long value.
 */
export function checkBroadcastText(text: string, opts: TextCheckOptions): TextCheck {
  const unknown = unknownVariables(text);
  if (unknown.length > 0) return { ok: false, key: "broadcast:errors.unknown_variable", params: { name: `{${unknown[0]}}`, known: VARIABLES.map((v) => `{${v}}`).join(", ") } };
  const parsed = parseTelegramHtml(text);
  if (!parsed.ok) {
    const p = parsed.problem;
    return { ok: false, key: `broadcast:errors.html_${p.reason}`, params: { offset: p.offset, tag: p.tag, expected: "expected" in p && p.expected ? p.expected : "" } };
  }
  if (parsed.text.trim() === "") return { ok: false, key: "broadcast:errors.empty", params: {} };
  const long = "X".repeat(VARIABLE_ALLOWANCE);
  const filled = parseTelegramHtml(fillVariables(text, { name: long, commune: long, province: long }));
  const length = filled.ok ? filled.text.length : parsed.text.length;
  const limit = (opts.media ? CAPTION_LIMIT : TEXT_LIMIT) - opts.reserve;
  if (length > limit) return { ok: false, key: opts.media ? "broadcast:errors.caption_too_long" : "broadcast:errors.too_long", params: { length, limit } };
  return { ok: true, length };
}
