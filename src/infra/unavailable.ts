/**
 * Whether an error means "storage is unreachable for now" (Redis or the database down,
 * restarting, or too slow), as opposed to a bug or bad data. The bot's error boundary answers
 * such errors with "try again in a moment"; retrying later is the right advice only for these.
 */
export function isStorageUnavailable(err: unknown): boolean {
  return walk(err, 0);
}

/** Socket-level failures: the server is down, restarting or unreachable. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH",
  "ENOTFOUND", "EAI_AGAIN", "ENOTCONN",
]);

/** Prisma: can't reach (P1001), timed out (P1002, P1008), server closed the connection (P1017), pool exhausted (P2024). */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);

/** Driver-adapter error kinds (@prisma/adapter-pg) that mean the server is away. */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

/**
 * PostgreSQL SQLSTATEs: connection exceptions (class 08), the server shutting down or starting
 * (57P01–57P03), too many connections (53300).
 */
const SQLSTATE = /^(08...|57P0[123]|53300)$/;

const MESSAGES = [
  /^Connection is closed\.?$/, // ioredis, after quit or while reconnecting
  /^Stream isn't writeable/, // ioredis, offline queue disabled
  /^Command timed out$/, // ioredis commandTimeout
  /^Reached the max retries per request limit/, // ioredis MaxRetriesPerRequestError
  /^Connection terminated( unexpectedly| due to connection timeout)?$/, // pg
  /^timeout exceeded when trying to connect$/, // pg-pool
  /^Client has encountered a connection error and is not queryable$/, // pg
  /^Can't reach database server/, // Prisma
  /^Cannot use a pool after calling end on the pool$/, // pg-pool, a query racing shutdown
  /^PGlite is closed$/, // the embedded database itself, under its wire (pglite-wire.ts)
];

function walk(err: unknown, depth: number): boolean {
  if (depth > 5 || typeof err !== "object" || err === null) return false;
  const e = err as {
    name?: unknown; code?: unknown; errorCode?: unknown; syscall?: unknown; message?: unknown; kind?: unknown;
    cause?: unknown; errors?: unknown; meta?: { driverAdapterError?: unknown };
  };
  if (e.name === "MaxRetriesPerRequestError") return true;
  if (typeof e.code === "string") {
    // ENOENT is "file not found" in general; only a connect() to a missing unix socket counts.
    if (SOCKET_CODES.has(e.code) || (e.code === "ENOENT" && e.syscall === "connect")) return true;
    if (PRISMA_CODES.has(e.code) || SQLSTATE.test(e.code)) return true;
  }
  if (typeof e.errorCode === "string" && PRISMA_CODES.has(e.errorCode)) return true; // PrismaClientInitializationError
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.message === "string" && MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (e.meta?.driverAdapterError && walk(e.meta.driverAdapterError, depth + 1)) return true;
  if (e.cause !== undefined && walk(e.cause, depth + 1)) return true;
  // AggregateError: a connect to "localhost" tries ::1 and 127.0.0.1, and reports both.
  if (Array.isArray(e.errors) && e.errors.some((x) => walk(x, depth + 1))) return true;
  return false;
}
