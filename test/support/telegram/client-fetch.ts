// An in-process `fetch` for grammY: `new Bot(token, { client: { fetch: createFakeFetch(fake) } })`.
//
// What grammY 1.46 (Node build) actually passes, and why each matters here:
// - url: `${apiRoot}/bot${token}/${method}` (or `/bot${token}/test/${method}`
//   in the test environment); only the path is used, so any apiRoot works.
// - init: `{ compress, agent, duplex: "half", signal, method: "POST", headers, body }`.
//   `agent`/`compress` are node-fetch options; they are ignored.
// - headers: a plain object with lower-case keys.
// - body: a JSON string, or for uploads a Node `stream.Readable` (built with
//   `Readable.from` over an async generator) — iterated with `for await`.
// - signal: an `abort-controller` polyfill AbortSignal, *not* a native one,
//   so it cannot be handed to undici; it is only listened to.
// grammY then calls `res.json()` and never looks at the status code, but the
// status is still set like Telegram's for code that does.

import { fileDownload } from "./files.js";
import { longPollFor, type AbortSignalLike } from "./long-poll.js";
import type { FakeTelegram } from "./rules.js";
import { BodyParseError, dispatchApiRequest, notFound, parseBotApiPath, parseRequestBody, type ApiHttpResult } from "./transport.js";

export function createFakeFetch(fake: FakeTelegram): typeof fetch {
  longPollFor(fake); // share long polling with any HTTP server on the same fake
  const fakeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const signal = (init?.signal ?? undefined) as AbortSignalLike | undefined;
    throwIfAborted(signal);
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const download = fileDownload(fake, url.pathname);
    if (download !== undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      return new Response(new Uint8Array(download.body), { status: download.status, headers: { "content-type": download.contentType } });
    }
    const result = await handle(fake, url, init, signal);
    // Always yield a macrotask: an all-microtask fake would let a polling loop
    // (getUpdates answering instantly) starve timers and I/O forever.
    await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(signal);
    return new Response(JSON.stringify(result.body), {
      status: result.status,
      headers: { "content-type": "application/json" },
    });
  };
  return fakeFetch as typeof fetch;
}

async function handle(
  fake: FakeTelegram,
  url: URL,
  init: RequestInit | undefined,
  signal: AbortSignalLike | undefined,
): Promise<ApiHttpResult> {
  const route = parseBotApiPath(url.pathname);
  if (route === undefined) return notFound();
  let payload: Record<string, unknown>;
  try {
    const body = await readBody(init?.body);
    payload = { ...Object.fromEntries(url.searchParams), ...parseRequestBody(contentTypeOf(init?.headers, init?.body), body) };
  } catch (error) {
    if (!(error instanceof BodyParseError)) throw error;
    return { status: 400, body: { ok: false, error_code: 400, description: `Bad Request: ${error.message}` } };
  }
  return dispatchApiRequest(fake, route, payload, signal);
}

function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted === true) throw new DOMException("The operation was aborted.", "AbortError");
}

function contentTypeOf(headers: RequestInit["headers"], body: unknown): string | undefined {
  if (body instanceof URLSearchParams) return "application/x-www-form-urlencoded";
  if (headers === undefined) return undefined;
  if (headers instanceof Headers) return headers.get("content-type") ?? undefined;
  const entries: Array<readonly [string, string | readonly string[]]> = Array.isArray(headers)
    ? headers.map(([name, value]) => [name ?? "", value ?? ""] as const)
    : Object.entries(headers);
  const value = entries.find(([name]) => name.toLowerCase() === "content-type")?.[1];
  return typeof value === "string" ? value : value?.join(", ");
}

/** Collects any body grammY (or a test) may pass into one Buffer. */
async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  if (body instanceof Blob) return Buffer.from(await body.arrayBuffer());
  if (body instanceof FormData) throw new BodyParseError("FormData bodies are not supported by the fake fetch");
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
  if (body instanceof ReadableStream) return Buffer.from(await new Response(body).arrayBuffer());
  throw new BodyParseError(`unsupported request body type ${Object.prototype.toString.call(body)}`);
}
