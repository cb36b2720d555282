// What both transports share: reading `/bot<token>/<method>`, decoding the
// request body in every encoding Telegram accepts, and turning FakeTelegram's
// answer into an HTTP status + JSON body.

import { longPollFor, type AbortSignalLike } from "./long-poll.js";
import { UnsupportedByFakeError, UploadedFile } from "./params.js";
import type { ApiResponse, FakeTelegram } from "./rules.js";

export interface BotApiRoute {
  token: string;
  /** Method name as written in the URL (may be empty). */
  method: string;
}

export interface ApiHttpResult {
  status: number;
  body: ApiResponse;
}

const UNAUTHORIZED: ApiResponse = { ok: false, error_code: 401, description: "Unauthorized" };
const NOT_FOUND: ApiResponse = { ok: false, error_code: 404, description: "Not Found" };

/** Finds `/bot<token>/<method>` at the end of a path (an apiRoot may add a prefix). */
export function parseBotApiPath(pathname: string): BotApiRoute | undefined {
  const match = /\/bot([^/]+)\/(?:test\/)?([^/]*)$/.exec(pathname);
  if (match === null) return undefined;
  return { token: decodeURIComponent(match[1] ?? ""), method: decodeURIComponent(match[2] ?? "") };
}

/** Thrown for bodies Telegram could not read either. */
export class BodyParseError extends Error {
  override name = "BodyParseError";
}

/**
 * Decodes a request body into parameters: JSON, urlencoded or multipart
 * (files become UploadedFile). Unknown content types are ignored, like Telegram.
 */
export function parseRequestBody(contentType: string | undefined, body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("application/json")) return parseJsonBody(body);
  if (type.startsWith("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(body.toString("utf8")));
  }
  if (type.startsWith("multipart/form-data")) {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
    const value = boundary?.[1] ?? boundary?.[2];
    if (value === undefined) throw new BodyParseError("multipart body without boundary");
    return parseMultipart(body, value);
  }
  return {};
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new BodyParseError("can't parse JSON request body");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BodyParseError("JSON request body must be an object");
  }
  return parsed as Record<string, unknown>;
}

/**
 * A small multipart/form-data reader.
 *
 * Why not `new Response(body).formData()`: grammY 1.46 writes part headers as
 * `content-disposition:form-data;name="x";filename=report 2024.csv` — no
 * space after the colon and an *unquoted* filename that may contain spaces
 * and UTF-8. undici's parser rejects that ("Failed to parse body as
 * FormData") while Telegram accepts it, so the fake must parse it by hand.
 */
export function parseMultipart(body: Buffer, boundary: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let position = body.indexOf(delimiter);
  while (position !== -1) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString("latin1") === "--") break; // closing delimiter
    position = skipLineBreak(body, position);
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), position);
    if (next === -1) throw new BodyParseError("unterminated multipart part");
    const part = readPart(body.subarray(position, next));
    if (part !== undefined) fields[part.name] = part.value;
    position = next + 2;
  }
  return fields;
}

function skipLineBreak(body: Buffer, position: number): number {
  if (body[position] === 0x0d && body[position + 1] === 0x0a) return position + 2;
  if (body[position] === 0x0a) return position + 1;
  return position;
}

function readPart(part: Buffer): { name: string; value: string | UploadedFile } | undefined {
  const headerEnd = part.indexOf("\r\n\r\n");
  if (headerEnd === -1) throw new BodyParseError("multipart part without headers");
  const headers = new Map<string, string>();
  for (const line of part.subarray(0, headerEnd).toString("utf8").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get("content-disposition") ?? "";
  const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1] ?? /(?:^|;)\s*name=([^;]*)/i.exec(disposition)?.[1]?.trim();
  if (name === undefined) return undefined;
  const content = Buffer.from(part.subarray(headerEnd + 4));
  const filename = readFilename(disposition);
  if (filename === undefined) return { name, value: content.toString("utf8") };
  return { name, value: new UploadedFile(filename, headers.get("content-type") ?? "", content) };
}

/** `filename="quoted"` as browsers send it, or grammY's unquoted rest-of-line form. */
function readFilename(disposition: string): string | undefined {
  const quoted = /;\s*filename="([^"]*)"/i.exec(disposition);
  if (quoted !== null) return quoted[1];
  const unquoted = /;\s*filename=(.*)$/i.exec(disposition);
  return unquoted?.[1]?.trim();
}

/** Runs a routed request against the fake and maps the answer to an HTTP status. */
export async function dispatchApiRequest(
  fake: FakeTelegram,
  route: BotApiRoute,
  payload: Record<string, unknown>,
  signal?: AbortSignalLike,
): Promise<ApiHttpResult> {
  if (!fake.isAuthorized(route.token)) return { status: 401, body: UNAUTHORIZED };
  if (route.method === "") return { status: 404, body: NOT_FOUND };
  try {
    const body =
      route.method.toLowerCase() === "getupdates"
        ? await longPollFor(fake).getUpdates(payload, signal)
        : fake.call(route.method, payload);
    return { status: body.ok ? 200 : body.error_code, body };
  } catch (error) {
    if (error instanceof UnsupportedByFakeError) {
      return { status: 501, body: { ok: false, error_code: 501, description: error.message } };
    }
    throw error;
  }
}

export const notFound = (): ApiHttpResult => ({ status: 404, body: NOT_FOUND });
