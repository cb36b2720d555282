import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { HealthCheck } from "../infra/health.js";
import type { Metrics } from "../infra/metrics.js";
import type { Logger } from "../logger.js";

export interface StatusDeps {
  health: HealthCheck;
  metrics?: Metrics;
  logger: Logger;
}

const STATUS_PATHS = new Set(["/healthz", "/metrics"]);

/**
 * GET /healthz (200, or 503 when Redis or the database does not answer) and GET /metrics
 * (Prometheus text). Returns false for any other path, so the caller can route it.
 */
export function serveStatus(req: IncomingMessage, res: ServerResponse, deps: StatusDeps): boolean {
  const url = (req.url ?? "/").split("?")[0]!;
  if (!STATUS_PATHS.has(url) || (url === "/metrics" && !deps.metrics)) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return true;
  }
  if (url === "/healthz") {
    deps.health().then(
      () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'),
      (err: unknown) => {
        deps.logger.warn({ err }, "health check failed");
        res.writeHead(503, { "content-type": "application/json" }).end('{"ok":false}');
      },
    );
    return true;
  }
  deps.metrics!.render().then(
    ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
    (err: unknown) => {
      deps.logger.warn({ err }, "metrics could not be rendered");
      res.writeHead(500).end();
    },
  );
  return true;
}

/**
 * Polling mode's HTTP server: only /healthz and /metrics (the webhook server serves the same two
 * beside the webhook). Other paths 404, other methods 405.
 */
export function createStatusServer(deps: StatusDeps & { metrics: Metrics }): Server {
  const server = createServer((req, res) => {
    if (!serveStatus(req, res, deps)) res.writeHead(404).end();
  });
  limitSlowClients(server);
  return server;
}

/** Slow clients must not hold connections open: headers within 5 s, a whole request within 15 s. */
export function limitSlowClients(server: Server): void {
  server.headersTimeout = 5_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
}

export class HttpListenError extends Error {
  constructor(readonly host: string, readonly port: number, readonly code: string | undefined) {
    super(
      code === "EADDRINUSE"
        ? `HTTP_PORT ${port} on ${host} is already in use: set HTTP_PORT to a free port (or HTTP_PORT=off in polling mode)`
        : `cannot listen on ${host}:${port} (${code ?? "unknown error"}): check HTTP_HOST and HTTP_PORT`,
    );
  }
}

/** server.listen as a promise that fails (instead of an unhandled 'error' event) when the port is taken. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new HttpListenError(host, port, err.code));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Stops taking connections and ends idle keep-alive ones, so shutdown does not wait for them. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
