import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { webhookCallback, type Bot } from "grammy";
import type { BotContext } from "../bot/context.js";
import type { HealthCheck } from "../infra/health.js";
import type { Logger } from "../logger.js";

export const WEBHOOK_PATH = "/telegram/webhook";
/** Telegram's updates are a few kilobytes; anything near a megabyte is not Telegram. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Webhook endpoint: the secret token header is checked (grammY answers 401 otherwise), plus
 * /healthz for the orchestrator (503 when Redis or the database does not answer). The bot must be
 * initialised (bot.init) before serving.
 */
export function createWebhookServer(bot: Bot<BotContext>, secret: string, logger: Logger, health: HealthCheck): Server {
  const handle = webhookCallback(bot, "http", { secretToken: secret, onTimeout: "return", timeoutMilliseconds: 9_000 });
  const server = createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && url === "/healthz") {
      health().then(
        () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'),
        (err: unknown) => {
          logger.warn({ err }, "health check failed");
          res.writeHead(503, { "content-type": "application/json" }).end('{"ok":false}');
        },
      );
      return;
    }
    // Behind a proxy that keeps its prefix the path is "/prefix/telegram/webhook".
    if (req.method === "POST" && url?.endsWith(WEBHOOK_PATH)) {
      // Checked here in constant time and before the body is read; grammY checks it again.
      if (!hasSecret(req, secret)) {
        res.writeHead(401).end();
        return;
      }
      // Refused before reading: a declared size over the limit, or a body that grows past it.
      if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
        res.writeHead(413, { connection: "close" }).end();
        req.destroy();
        return;
      }
      let received = 0;
      req.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_BODY_BYTES && !res.headersSent) {
          res.writeHead(413, { connection: "close" }).end();
          req.destroy();
        }
      });
      handle(req, res).catch((err: unknown) => {
        // A body that is not JSON is the sender's fault (400), and Telegram would not resend it.
        if (err instanceof SyntaxError) {
          logger.warn("webhook body is not JSON");
          if (!res.headersSent) res.writeHead(400).end();
          return;
        }
        logger.error({ err }, "webhook update failed");
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  // Slow clients must not hold connections open: headers within 5 s, a whole request within 15 s.
  server.headersTimeout = 5_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

function hasSecret(req: IncomingMessage, secret: string): boolean {
  const given = Buffer.from(String(req.headers["x-telegram-bot-api-secret-token"] ?? ""));
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
