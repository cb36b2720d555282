// A real HTTP Bot API on 127.0.0.1 backed by a FakeTelegram, for running the
// actual bot process with BOT_API_ROOT=http://127.0.0.1:<port> in polling or
// webhook mode. Routes `/bot<token>/<method>` (GET or POST; query string,
// urlencoded, JSON or multipart) exactly like the in-process fetch does.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { AbortSignalLike } from "./long-poll.js";
import { fileDownload } from "./files.js";
import { longPollFor } from "./long-poll.js";
import { FakeTelegram, type FakeTelegramOptions, type RecordedCall } from "./rules.js";
import { BodyParseError, dispatchApiRequest, notFound, parseBotApiPath, parseRequestBody, type ApiHttpResult } from "./transport.js";
import { WebhookDeliverer, type WebhookDelivery, type WebhookDeliveryOptions } from "./webhook-delivery.js";

export interface FakeBotApiServerOptions extends FakeTelegramOptions {
  /** Use an existing fake (e.g. shared with an in-process bot); otherwise one is created. */
  fake?: FakeTelegram;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  webhook?: WebhookDeliveryOptions;
}

export interface FakeBotApiServer {
  /** Base URL to use as grammY's apiRoot / BOT_API_ROOT, e.g. http://127.0.0.1:43117 */
  url: string;
  port: number;
  fake: FakeTelegram;
  /** Every webhook POST attempt with its HTTP status. */
  deliveries: WebhookDelivery[];
  waitForCall(predicate: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  waitForDelivery(predicate: (delivery: WebhookDelivery) => boolean, timeoutMs?: number): Promise<WebhookDelivery>;
  /** Answers held long polls, stops webhook delivery and closes every socket. */
  close(): Promise<void>;
}

export async function startFakeBotApiServer(options: FakeBotApiServerOptions = {}): Promise<FakeBotApiServer> {
  const fake = options.fake ?? new FakeTelegram(options);
  const deliverer = new WebhookDeliverer(fake, options.webhook);
  const server = http.createServer((request, response) => {
    handleRequest(fake, request, response).catch((error: unknown) => {
      respond(response, { status: 500, body: { ok: false, error_code: 500, description: `Internal Server Error: ${String(error)}` } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= shutDown(server, fake, deliverer);
    return closed;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    fake,
    deliveries: deliverer.deliveries,
    waitForCall: (predicate, timeoutMs) => fake.waitForCall(predicate, timeoutMs),
    waitForDelivery: (predicate, timeoutMs) => deliverer.waitForDelivery(predicate, timeoutMs),
    close,
  };
}

async function handleRequest(fake: FakeTelegram, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  const download = fileDownload(fake, url.pathname);
  if (download !== undefined) {
    response.writeHead(download.status, { "content-type": download.contentType, "content-length": download.body.length });
    response.end(download.body);
    return;
  }
  const route = parseBotApiPath(url.pathname);
  const body = await readRequest(request);
  if (route === undefined) return respond(response, notFound());
  let payload: Record<string, unknown>;
  try {
    payload = { ...Object.fromEntries(url.searchParams), ...parseRequestBody(request.headers["content-type"], body) };
  } catch (error) {
    if (!(error instanceof BodyParseError)) throw error;
    return respond(response, { status: 400, body: { ok: false, error_code: 400, description: `Bad Request: ${error.message}` } });
  }
  const result = await dispatchApiRequest(fake, route, payload, disconnectSignal(response));
  respond(response, result);
}

function readRequest(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** Aborts when the client goes away (e.g. grammY's bot.stop() cancelling its long poll). */
function disconnectSignal(response: http.ServerResponse): AbortSignalLike {
  const controller = new AbortController();
  response.on("close", () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}

function respond(response: http.ServerResponse, result: ApiHttpResult): void {
  if (response.headersSent || response.destroyed) return;
  const json = JSON.stringify(result.body);
  response.writeHead(result.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(json),
  });
  response.end(json);
}

async function shutDown(server: http.Server, fake: FakeTelegram, deliverer: WebhookDeliverer): Promise<void> {
  deliverer.stop();
  longPollFor(fake).releaseHeld();
  const closing = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive sockets (grammY uses a keep-alive agent) would otherwise keep close() waiting.
  server.closeIdleConnections();
  setImmediate(() => server.closeAllConnections());
  await closing;
}
