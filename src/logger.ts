import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "khuyenhoc-bot" },
    // Never log message texts or contacts: they are personal data (Decree 13/2023/NĐ-CP).
    redact: { paths: ["*.text", "*.contact", "*.phone", "*.fullName"], censor: "[redacted]" },
  });
}
