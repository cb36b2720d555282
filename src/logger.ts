import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger };

/** `destination` is for tests that read what was logged; the bot logs to stdout. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "khuyenhoc-bot" },
    // Never log message texts or contacts: they are personal data (Decree 13/2023/NĐ-CP).
    // A failed Bot API call carries its payload (a card holds a name): drop payloads whole.
    redact: {
      paths: ["*.text", "*.contact", "*.phone", "*.fullName", "err.payload", "*.err.payload", "payload"],
      censor: "[redacted]",
    },
  } satisfies LoggerOptions;
  return destination ? pino(options, destination) : pino(options);
}
