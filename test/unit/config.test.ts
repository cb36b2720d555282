import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, parseStorageConfig } from "../../src/config.js";

const token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345";

describe("config", () => {
  it("defaults to polling on embedded PGlite and a local Redis", () => {
    const c = parseConfig({ BOT_TOKEN: token });
    expect(c.mode).toEqual({ kind: "polling" });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.botApiRoot).toBe("https://api.telegram.org");
    expect(c.autoMigrate).toBe(true);
  });

  it("parses admin ids, booleans and numbers instead of casting", () => {
    const c = parseConfig({ BOT_TOKEN: token, ADMIN_TELEGRAM_IDS: "111, 5000000000", AUTO_MIGRATE: "false", INVITE_TTL_HOURS: "24" });
    expect([...c.adminIds]).toEqual(["111", "5000000000"]);
    expect(c.autoMigrate).toBe(false);
    expect(c.inviteTtlHours).toBe(24);
  });

  it("reads the quiet-time collection's delay: 10 s by default, 0 turns it off, a negative one is refused", () => {
    expect(parseConfig({ BOT_TOKEN: token }).quietGcSeconds).toBe(10);
    expect(parseConfig({ BOT_TOKEN: token, QUIET_GC_SECONDS: "0" }).quietGcSeconds).toBe(0);
    expect(() => parseConfig({ BOT_TOKEN: token, QUIET_GC_SECONDS: "-1" })).toThrow(/QUIET_GC_SECONDS/);
  });

  it("treats empty values as unset and reads booleans in any case", () => {
    const c = parseConfig({ BOT_TOKEN: token, DATABASE_URL: "", REDIS_URL: " ", LOG_LEVEL: "", AUTO_MIGRATE: "FALSE", BOT_MODE: "" });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.logLevel).toBe("info");
    expect(c.autoMigrate).toBe(false);
    expect(c.mode.kind).toBe("polling");
  });

  it("names the variable that is wrong", () => {
    expect(() => parseConfig({ BOT_TOKEN: "nope" })).toThrow(/BOT_TOKEN/);
    expect(() => parseConfig({ BOT_TOKEN: token, ADMIN_TELEGRAM_IDS: "12,abc" })).toThrow(/ADMIN_TELEGRAM_IDS/);
    expect(() => parseConfig({ BOT_TOKEN: token, AUTO_MIGRATE: "maybe" })).toThrow(/AUTO_MIGRATE/);
    expect(() => parseConfig({ BOT_TOKEN: token, DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
  });

  it("requires a URL and a strong secret in webhook mode", () => {
    expect(() => parseConfig({ BOT_TOKEN: token, BOT_MODE: "webhook" })).toThrow(ConfigError);
    expect(() => parseConfig({ BOT_TOKEN: token, BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example.vn", WEBHOOK_SECRET: "short" })).toThrow(/WEBHOOK_SECRET/);
    const c = parseConfig({ BOT_TOKEN: token, BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example.vn", WEBHOOK_SECRET: "s3cret-s3cret-s3cret", HTTP_PORT: "9000" });
    expect(c.mode).toEqual({ kind: "webhook", url: "https://bot.example.vn", secret: "s3cret-s3cret-s3cret", host: "127.0.0.1", port: 9000 });
  });

  it("serves /healthz and /metrics in polling mode on HTTP_HOST:HTTP_PORT unless HTTP_PORT=off", () => {
    expect(parseConfig({ BOT_TOKEN: token }).http).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseConfig({ BOT_TOKEN: token, HTTP_HOST: "0.0.0.0", HTTP_PORT: "9100" }).http).toEqual({ host: "0.0.0.0", port: 9100 });
    expect(parseConfig({ BOT_TOKEN: token, HTTP_PORT: "Off" }).http).toBeNull();
    expect(() => parseConfig({ BOT_TOKEN: token, HTTP_PORT: "0" })).toThrow(/HTTP_PORT: must be a port from 1 to 65535, or "off"/);
    expect(() => parseConfig({ BOT_TOKEN: token, HTTP_PORT: "70000" })).toThrow(/HTTP_PORT/);
    // The webhook needs its server.
    const webhook = { BOT_TOKEN: token, BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example.vn", WEBHOOK_SECRET: "s3cret-s3cret-s3cret" };
    expect(() => parseConfig({ ...webhook, HTTP_PORT: "off" })).toThrow(/HTTP_PORT: must be a port from 1 to 65535 \(webhook mode needs one\)/);
    expect(parseConfig({ ...webhook, HTTP_PORT: "9000" }).http).toEqual({ host: "127.0.0.1", port: 9000 });
  });

  it("gives the migrate script the bot's storage settings, read the same way", () => {
    expect(parseStorageConfig({})).toEqual({ databaseUrl: undefined, dataDir: "./data" });
    expect(parseStorageConfig({ DATABASE_URL: "", DATA_DIR: "/srv/khb" })).toEqual({ databaseUrl: undefined, dataDir: "/srv/khb" });
    expect(parseStorageConfig({ DATABASE_URL: "postgresql://u@h/db" }).databaseUrl).toBe("postgresql://u@h/db");
    expect(() => parseStorageConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
  });
});
