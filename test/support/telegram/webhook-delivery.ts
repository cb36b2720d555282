// Pushes queued updates to the webhook the bot registered, the way Telegram
// does: a JSON POST per update, in order, one at a time, with the
// X-Telegram-Bot-Api-Secret-Token header when a secret was set. A non-2xx
// answer (or a network error) is retried a few times with a short backoff,
// then the update is dropped and the failure shows up in getWebhookInfo.
// If the bot answers with a method in the response body ("webhook reply"),
// that call is executed, as Telegram does.

import http from "node:http";
import https from "node:https";
import type { Update } from "grammy/types";
import { isRecord } from "./params.js";
import type { FakeTelegram } from "./rules.js";

export interface WebhookDelivery {
  update_id: number;
  url: string;
  /** 1-based attempt number for this update. */
  attempt: number;
  /** HTTP status of the bot's answer, or null when the request failed. */
  status: number | null;
  /** Network error or non-2xx summary. */
  error?: string;
  /** Whether the X-Telegram-Bot-Api-Secret-Token header was sent. */
  secret_sent: boolean;
}

export interface WebhookDeliveryOptions {
  /** Attempts per update before giving up (default 3). */
  attempts?: number;
  /** Backoff before retry n is n * backoffMs (default 50 ms). */
  backoffMs?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
}

export class WebhookDeliverer {
  readonly deliveries: WebhookDelivery[] = [];
  private running = false;
  private stopped = false;
  private readonly inFlight = new Set<AbortController>();
  private readonly listeners = new Set<(delivery: WebhookDelivery) => void>();
  private readonly unsubscribe: () => void;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly requestTimeoutMs: number;

  constructor(
    private readonly fake: FakeTelegram,
    options: WebhookDeliveryOptions = {},
  ) {
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 50;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.unsubscribe = fake.on((event) => {
      if (event.type === "update" || event.type === "webhook") this.kick();
    });
    this.kick();
  }

  /** Resolves with the first delivery (past or future) matching `predicate`. */
  waitForDelivery(predicate: (delivery: WebhookDelivery) => boolean, timeoutMs = 5000): Promise<WebhookDelivery> {
    const earlier = this.deliveries.find(predicate);
    if (earlier !== undefined) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`No matching webhook delivery within ${timeoutMs} ms (${this.deliveries.length} so far)`));
      }, timeoutMs);
      const listener = (delivery: WebhookDelivery) => {
        if (!predicate(delivery)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(delivery);
      };
      this.listeners.add(listener);
    });
  }

  /** Stops delivering and aborts the request in flight. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const controller of this.inFlight) controller.abort();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
    });
  }

  /** Delivers until the queue is empty or the webhook is removed. */
  private async drain(): Promise<void> {
    for (;;) {
      const webhook = this.fake.webhook;
      const update = webhook === undefined ? undefined : this.fake.nextWebhookUpdate();
      if (this.stopped || webhook === undefined || update === undefined) return;
      await this.deliverWithRetries(webhook.url, webhook.secret_token, update);
      if (this.stopped) return;
      // Delivered or given up: either way Telegram moves on to the next update.
      this.fake.acknowledgeUpdate(update.update_id);
    }
  }

  private async deliverWithRetries(url: string, secret: string | undefined, update: Update): Promise<void> {
    for (let attempt = 1; attempt <= this.attempts && !this.stopped; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs * (attempt - 1));
      const delivery = await this.post(url, secret, update, attempt);
      if (this.stopped) return;
      this.record(delivery);
      if (delivery.error === undefined) return;
      this.fake.noteWebhookError(delivery.error);
    }
  }

  private async post(url: string, secret: string | undefined, update: Update, attempt: number): Promise<WebhookDelivery> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const base = { update_id: update.update_id, url, attempt, secret_sent: secret !== undefined };
    try {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (secret !== undefined) headers["x-telegram-bot-api-secret-token"] = secret;
      const response = await postJson(url, headers, JSON.stringify(update), controller.signal, this.requestTimeoutMs);
      if (response.status >= 200 && response.status < 300) {
        this.runWebhookReply(response.contentType, response.body);
        return { ...base, status: response.status };
      }
      return { ...base, status: response.status, error: `Wrong response from the webhook: ${response.status} ${response.statusText}` };
    } catch (error) {
      return { ...base, status: null, error: describeRequestError(error) };
    } finally {
      this.inFlight.delete(controller);
    }
  }

  /** Telegram executes a method the bot returns in its webhook response body. */
  private runWebhookReply(contentType: string | undefined, text: string): void {
    if (text === "" || !(contentType ?? "").includes("application/json")) return;
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(reply) || typeof reply.method !== "string") return;
    const { method, ...payload } = reply;
    try {
      this.fake.call(method, payload);
    } catch {
      // Unsupported methods are recorded by the fake; a webhook reply has no caller to throw to.
    }
  }

  private record(delivery: WebhookDelivery): void {
    this.deliveries.push(delivery);
    for (const listener of [...this.listeners]) listener(delivery);
  }
}

interface PlainResponse {
  status: number;
  statusText: string;
  contentType: string | undefined;
  body: string;
}

/**
 * One POST on a fresh connection (`agent: false`). Why not global fetch:
 * undici would keep pooled keep-alive sockets to the bot's webhook server
 * alive after the test, which can hold the process or leak between tests.
 */
function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === "https:" ? https : http).request(
      target,
      { method: "POST", agent: false, signal, timeout: timeoutMs, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? "",
            contentType: response.headers["content-type"],
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("timeout", () => request.destroy(new Error("Read timeout expired")));
    request.on("error", reject);
    request.end(body);
  });
}

/** Telegram-like wording for getWebhookInfo.last_error_message. */
function describeRequestError(error: unknown): string {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "ECONNREFUSED") return "Connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "Failed to resolve host: Name or service not known";
  if (error instanceof Error && error.message === "Read timeout expired") return "Read timeout expired";
  return error instanceof Error ? error.message : String(error);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
