/** Whether an error means Redis or the database cannot be reached right now (not a bug). */
export function isStorageUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === "string" ? e.code : "";
    const name = typeof e.name === "string" ? e.name : "";
    const message = typeof e.message === "string" ? e.message : "";
    if (["ECONNREFUSED", "ECONNRESET", "ENOENT", "ETIMEDOUT", "EPIPE", "P1001", "P1017"].includes(code)) return true;
    if (name === "MaxRetriesPerRequestError") return true;
    if (/Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|Can't reach database/i.test(message)) return true;
  }
  return false;
}
