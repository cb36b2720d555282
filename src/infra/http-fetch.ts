/**
 * The `fetch` the bot's Bot API clients use: node's own http/https over a keep-alive agent.
 *
 * grammY on Node defaults to node-fetch 2, which builds WHATWG Request, Headers and Body objects
 * around node's http client on every call. Measured on loopback with a Bot API–sized answer
 * (2026-11-29, 2 cores): node-fetch 356 µs of CPU a call, undici's `request` 190 µs,
 * Node's global fetch 628 µs, node's http client 82 µs (client and server together). A bot makes
 * two or three calls per update, so this was a fifth of its CPU under `bench:updates`.
 *
 * It does what grammY and the file download need, no more: a JSON string or a stream as the body
 * (uploads are a `Readable`), an AbortSignal (grammY's is the `abort-controller` polyfill, so only
 * `aborted` and the "abort" event are used), and a response with `ok`, `status`, `json()`,
 * `text()` and `arrayBuffer()`. Compressed answers are decompressed; none are asked for.
 */
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";

interface SignalLike {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | Readable | AsyncIterable<Uint8Array> | null;
  signal?: SignalLike | null;
  /** grammY passes its keep-alive agent for the API root; used when it fits the URL's protocol. */
  agent?: http.Agent;
}

export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

const defaultAgents = {
  "http:": new http.Agent({ keepAlive: true, scheduling: "lifo" }),
  "https:": new https.Agent({ keepAlive: true, scheduling: "lifo" }),
};

function abortError(): Error {
  const error = new Error("The operation was aborted.");
  error.name = "AbortError";
  return error;
}

function decoded(res: http.IncomingMessage): Readable {
  switch (res.headers["content-encoding"]) {
    case "gzip":
    case "x-gzip":
      return res.pipe(zlib.createGunzip());
    case "deflate":
      return res.pipe(zlib.createInflate());
    case "br":
      return res.pipe(zlib.createBrotliDecompress());
    default:
      return res;
  }
}

/** A fetch for grammY's `client.fetch` (and the file download), over node's http and https. */
export function httpFetch(input: string | URL, init: FetchInit = {}): Promise<FetchResponse> {
  const url = typeof input === "string" ? new URL(input) : input;
  const protocol = url.protocol as "http:" | "https:";
  if (protocol !== "http:" && protocol !== "https:") return Promise.reject(new TypeError(`httpFetch: unsupported protocol ${url.protocol}`));
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortError());
  const fits = init.agent !== undefined && (init.agent instanceof https.Agent) === (protocol === "https:");
  const agent = fits ? init.agent : defaultAgents[protocol];
  const body = init.body ?? undefined;
  const headers: Record<string, string | number> = { ...init.headers };
  if (typeof body === "string") headers["content-length"] = Buffer.byteLength(body);
  else if (body instanceof Uint8Array) headers["content-length"] = body.byteLength;

  return new Promise<FetchResponse>((resolve, reject) => {
    const request = (protocol === "https:" ? https : http).request(url, { method: init.method ?? "GET", headers, agent });
    let settled = false;
    const onAbort = () => request.destroy(abortError());
    signal?.addEventListener("abort", onAbort, { once: true });
    const finish = (error?: Error, response?: FetchResponse) => {
      signal?.removeEventListener("abort", onAbort);
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(response!);
    };
    request.on("error", (error) => finish(error));
    request.on("response", (res) => {
      const chunks: Buffer[] = [];
      const stream = decoded(res);
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (error) => finish(error));
      stream.on("end", () => {
        const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        const text = () => bytes.toString("utf8");
        finish(undefined, {
          ok: status >= 200 && status < 300,
          status,
          headers: { get: (name) => { const v = res.headers[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v; } },
          json: async () => JSON.parse(text()) as unknown,
          text: async () => text(),
          arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
        });
      });
    });
    if (body === undefined || typeof body === "string" || body instanceof Uint8Array) request.end(body);
    else pipeline(body instanceof Readable ? body : Readable.from(body), request).catch((error: Error) => request.destroy(error));
  });
}

/** `httpFetch` typed as grammY's `client.fetch` option expects. */
export const botApiFetch = httpFetch as unknown as typeof fetch;
