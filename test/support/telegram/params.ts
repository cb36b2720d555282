// Reading Bot API parameters the way Telegram does, plus the error type the
// validators throw.
//
// Why the coercion: the same call arrives as typed JSON (grammY without
// files), as strings (query string, urlencoded, multipart) or with objects
// serialised as JSON strings (grammY's multipart puts `reply_markup` etc. in a
// text part). Telegram accepts all of these, so the fake must too.

import type { ResponseParameters } from "grammy/types";

export interface ApiSuccess<T = unknown> {
  ok: true;
  result: T;
  description?: string;
}

export interface ApiFailure {
  ok: false;
  error_code: number;
  description: string;
  parameters?: ResponseParameters;
}

export type ApiResponse<T = unknown> = ApiSuccess<T> | ApiFailure;

export function ok<T>(result: T, description?: string): ApiSuccess<T> {
  return description === undefined ? { ok: true, result } : { ok: true, result, description };
}

/** A rejection Telegram would send; validators throw it and `FakeTelegram.call` turns it into a response. */
export class ApiRejection extends Error {
  override name = "ApiRejection";
  constructor(
    readonly error_code: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
  }

  toResponse(): ApiFailure {
    const failure: ApiFailure = { ok: false, error_code: this.error_code, description: this.description };
    if (this.parameters !== undefined) failure.parameters = this.parameters;
    return failure;
  }
}

export const badRequest = (message: string): ApiRejection => new ApiRejection(400, `Bad Request: ${message}`);

/**
 * Thrown for things real Telegram accepts but this fake does not simulate
 * (MarkdownV2, inline messages, URLs to download, ...). It is not a Telegram
 * error on purpose: a test must not mistake "the fake can't do this" for
 * "production would reject this". Transports answer it with HTTP 501.
 */
export class UnsupportedByFakeError extends Error {
  override name = "UnsupportedByFakeError";
  constructor(what: string) {
    super(`Not implemented by FakeTelegram: ${what}`);
  }
}

/** A file that arrived as a multipart part. */
export class UploadedFile {
  constructor(
    readonly filename: string,
    /** Content type of the part; grammY always sends application/octet-stream. */
    readonly contentType: string,
    readonly content: Buffer,
  ) {}
}

/** Fields that carry JSON objects/arrays; when they arrive as strings they are decoded. */
const JSON_FIELDS = [
  "reply_markup", "entities", "caption_entities", "reply_parameters", "link_preview_options",
  "commands", "scope", "options", "allowed_updates", "menu_button", "correct_option_ids",
  "question_entities", "explanation_entities", "description_entities", "media",
];

/**
 * Decodes JSON-string fields so handlers, and tests inspecting recorded calls,
 * see one shape. A string that is not valid JSON is kept so the handler can
 * report Telegram's "can't parse ..." error.
 */
export function normalizePayload(payload: Record<string, unknown>): Record<string, unknown> {
  const normalized: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    normalized[key] = JSON_FIELDS.includes(key) && typeof value === "string" ? tryParseJson(value) : value;
  }
  return normalized;
}

function tryParseJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Typed, Telegram-lenient access to one call's parameters. */
export class Params {
  constructor(readonly raw: Record<string, unknown>) {}

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** Strings as-is, numbers and booleans stringified (Telegram reads all params as text). */
  string(key: string): string | undefined {
    const value = this.raw[key];
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return undefined;
  }

  /** Integers given as numbers or decimal strings; anything else counts as absent. */
  int(key: string): number | undefined {
    const value = this.raw[key];
    if (typeof value === "number" && Number.isInteger(value)) return value;
    if (typeof value === "string" && /^\s*-?\d+\s*$/.test(value)) return Number(value);
    return undefined;
  }

  /** Telegram's to_bool: true/"true"/"1" are true, everything else false. */
  bool(key: string): boolean {
    const value = this.raw[key];
    return value === true || value === 1 || value === "true" || value === "1" || value === "True";
  }

  /** A JSON-typed field (already decoded by normalizePayload). */
  json(key: string): unknown {
    return this.raw[key];
  }
}

/** Length in UTF-16 code units, the unit the Bot API uses for text limits and entity offsets. */
export const utf16Length = (text: string): number => text.length;
