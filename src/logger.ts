import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "khuyenhoc-bot" },
    // Never log message texts or contacts: they are personal data (Decree 13/2023/NĐ-CP).
    // A failed Bot API call carries its payload (a card holds a name): drop payloads whole.
    redact: {
      paths: ["*.text", "*.contact", "*.phone", "*.fullName", "err.payload", "*.err.payload", "payload"],
      censor: "[redacted]",
    },
  });
}
