import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { webhookCallback, type Bot } from "grammy";
import type { Update } from "grammy/types";
import type { BotContext } from "../bot/context.js";
import type { HealthCheck } from "../infra/health.js";
import type { Metrics } from "../infra/metrics.js";
import type { Logger } from "../logger.js";
import { limitSlowClients, serveStatus } from "./status.js";

export const WEBHOOK_PATH = "/telegram/webhook";
/** Telegram's updates are a few kilobytes; anything near a megabyte is not Telegram. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Updates handled at once: Telegram's default max_connections (set with the webhook). Telegram
 * never opens more; a burst beyond it (a proxy, a load test) waits here, before it touches Redis or
 * the database, instead of piling onto them and timing out.
 */
export const WEBHOOK_MAX_CONNECTIONS = 40;

/** First come, first served: at most `limit` holders at once. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Webhook endpoint: the secret token header is checked (grammY answers 401 otherwise), plus
 * /healthz for the orchestrator (503 when Redis or the database does not answer) and, given
 * metrics, /metrics for Prometheus. The bot must be initialised (bot.init) before serving.
 */
export function createWebhookServer(bot: Bot<BotContext>, secret: string, logger: Logger, health: HealthCheck, metrics?: Metrics): Server {
  const handle = webhookCallback(bot, parsedBody, { secretToken: secret, onTimeout: "return", timeoutMilliseconds: 9_000 });
  const gate = new Gate(WEBHOOK_MAX_CONNECTIONS);
  const server = createServer((req, res) => {
    if (serveStatus(req, res, { health, metrics, logger })) return;
    const url = (req.url ?? "/").split("?")[0];
    // Behind a proxy that keeps its prefix the path is "/prefix/telegram/webhook".
    if (req.method === "POST" && url?.endsWith(WEBHOOK_PATH)) {
      // Checked here in constant time and before the body is read; grammY checks it again.
      if (!hasSecret(req, secret)) {
        res.writeHead(401).end();
        return;
      }
      readUpdate(req).then(
        (update) => {
          if (update === "too_large") return void res.writeHead(413, { connection: "close" }).end(() => req.destroy());
          // A body that is not JSON is the sender's fault (400): Telegram would resend a 500 forever.
          if (update === "not_json") {
            logger.warn("webhook body is not JSON");
            return void res.writeHead(400).end();
          }
          gate.run(() => Promise.resolve(handle(req, res, update))).catch((err: unknown) => {
            logger.error({ err }, "webhook update failed");
            if (!res.headersSent) res.writeHead(500).end();
          });
        },
        () => res.destroy(),
      );
      return;
    }
    res.writeHead(404).end();
  });
  limitSlowClients(server);
  return server;
}

/** The shape grammY's webhookCallback expects of a framework adapter (not exported by grammY). */
interface ReqResHandler {
  update: Update;
  header?: string;
  end: () => void;
  respond: (json: string) => unknown;
  unauthorized: () => unknown;
}

/** grammY's adapter for Node's http, given the body we already read (bounded) and parsed. */
function parsedBody(req: IncomingMessage, res: ServerResponse, update: Update): ReqResHandler {
  const header = req.headers["x-telegram-bot-api-secret-token"];
  return {
    update,
    header: Array.isArray(header) ? header[0] : header,
    end: () => res.end(),
    respond: (json) => res.writeHead(200, { "content-type": "application/json" }).end(json),
    unauthorized: () => res.writeHead(401).end(),
  };
}

/** The body as an update; refused past MAX_BODY_BYTES (declared or received) without reading on. */
function readUpdate(req: IncomingMessage): Promise<Update | "too_large" | "not_json"> {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return Promise.resolve("too_large");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.pause();
        resolve("too_large");
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Update);
      } catch {
        resolve("not_json");
      }
    });
    req.once("error", reject);
  });
}

function hasSecret(req: IncomingMessage, secret: string): boolean {
  const given = Buffer.from(String(req.headers["x-telegram-bot-api-secret-token"] ?? ""));
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
