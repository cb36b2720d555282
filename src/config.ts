import { z } from "zod";

const DEFAULT_API_ROOT = "https://api.telegram.org";

/** Parses "1", "true", "yes", "on" (and their opposites) instead of casting. */
const booleanFromEnv = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(["1", "0", "true", "false", "yes", "no", "on", "off"]))
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

const idList = z
  .string()
  .trim()
  .transform((s, ctx) => {
    if (s === "") return [] as string[];
    const ids = s.split(/[\s,]+/).filter(Boolean);
    for (const id of ids) {
      if (!/^\d{1,20}$/.test(id)) {
        ctx.addIssue({ code: "custom", message: `"${id}" is not a numeric Telegram user id` });
        return z.NEVER;
      }
    }
    return ids;
  });

/** A TCP port; polling mode may also say "off" (no /healthz, no /metrics), webhook mode needs one. */
function httpPort(allowOff: boolean) {
  return z.string().transform((v, ctx) => {
    const s = v.trim().toLowerCase();
    if (allowOff && s === "off") return null;
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > 65535) {
      ctx.addIssue({ code: "custom", message: allowOff ? 'must be a port from 1 to 65535, or "off"' : "must be a port from 1 to 65535 (webhook mode needs one)" });
      return z.NEVER;
    }
    return n;
  });
}

/** What the migrate script needs: where the database is (no token, no mode). */
const storage = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional(),
  DATA_DIR: z.string().min(1).default("./data"),
});

const common = storage.extend({
  BOT_TOKEN: z
    .string({ message: "is required" })
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, "does not look like a token from @BotFather (digits:letters)"),
  BOT_API_ROOT: z.url().default(DEFAULT_API_ROOT),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be a redis:// URL").optional(),
  REDIS_SERVER_BIN: z.string().min(1).default("redis-server"),
  ADMIN_TELEGRAM_IDS: idList.default([]),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  AUTO_MIGRATE: booleanFromEnv.default(true),
  INVITE_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(72),
  // One full collection after this many seconds without an update (0: never; see quiet-collection.ts).
  QUIET_GC_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  // The delivery engine (src/jobs): Telegram's bulk limit, paid broadcasting, where jobs live.
  SEND_RATE_PER_SECOND: z.coerce.number().int().min(1).max(30).default(30),
  PAID_BROADCAST: booleanFromEnv.default(false),
  PAID_RATE_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(1000),
  EMBEDDED_WORKER: booleanFromEnv.default(true),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must be 1–32 characters of A–Z, a–z, 0–9, _ and -").default("khb-bull"),
  BROADCAST_APPROVAL_THRESHOLD: z.coerce.number().int().min(1).default(1000),
  // Criteria kept as data, replaceable by a province's own (a mounted file in Docker).
  LEARNING_UNIT_CHECKLIST_FILE: z.string().min(1).optional(),
  LEARNING_FAMILY_CRITERIA_FILE: z.string().min(1).optional(),
  // Loopback unless told otherwise: a reverse proxy on the host terminates TLS (compose sets 0.0.0.0 inside its network).
  HTTP_HOST: z.string().default("127.0.0.1"),
});

const polling = common.extend({
  BOT_MODE: z.literal("polling").default("polling"),
  HTTP_PORT: httpPort(true).default(8080),
});

const webhook = common.extend({
  BOT_MODE: z.literal("webhook"),
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }),
  WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,256}$/, "must be 16–256 characters of A–Z, a–z, 0–9, _ and -"),
  HTTP_PORT: httpPort(false).pipe(z.number()).default(8080),
});

export const configSchema = z.discriminatedUnion("BOT_MODE", [webhook, polling]);

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  botToken: string;
  botApiRoot: string;
  databaseUrl?: string;
  dataDir: string;
  redisUrl?: string;
  redisServerBin: string;
  adminIds: ReadonlySet<string>;
  logLevel: RawConfig["LOG_LEVEL"];
  autoMigrate: boolean;
  inviteTtlHours: number;
  /** Seconds without an update before one full garbage collection; 0 turns it off. */
  quietGcSeconds: number;
  delivery: DeliveryConfig;
  queuePrefix: string;
  /** Run the delivery workers inside the bot process (default); `npm run worker` runs them apart. */
  embeddedWorker: boolean;
  /** Broadcasts to more people than this (or to a whole province or more) need a second officer. */
  approvalThreshold: number;
  /** Files replacing the default learning-unit checklist and learning-family criteria. */
  criteriaFiles: { learningUnitChecklist?: string; learningFamilyCriteria?: string };
  /** Where /healthz and /metrics are served (the webhook too in webhook mode); null: HTTP_PORT=off in polling mode. */
  http: { host: string; port: number } | null;
  mode:
    | { kind: "polling" }
    | { kind: "webhook"; url: string; secret: string; host: string; port: number };
}

export interface DeliveryConfig {
  /** Messages per second across every worker of every process. */
  ratePerSecond: number;
  /** Sends carry allow_paid_broadcast (Telegram charges Stars above the free rate). */
  paidBroadcast: boolean;
}

export class ConfigError extends Error {}

/** An empty value (`DATABASE_URL=` in .env) means "not set", as in most tools; a bad one names the variable. */
function parseEnv<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv): T {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const result = schema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`);
    throw new ConfigError(lines.join("\n"));
  }
  return result.data;
}

export interface StorageConfig {
  databaseUrl?: string;
  dataDir: string;
}

/** The migrate script's settings: the same variables as the bot's, read the same way. */
export function parseStorageConfig(env: NodeJS.ProcessEnv): StorageConfig {
  const c = parseEnv(storage, env);
  return { databaseUrl: c.DATABASE_URL, dataDir: c.DATA_DIR };
}

/** Validates the environment once; a bad value names the variable. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const c = parseEnv(configSchema, env);
  return {
    botToken: c.BOT_TOKEN,
    botApiRoot: c.BOT_API_ROOT.replace(/\/+$/, ""),
    databaseUrl: c.DATABASE_URL,
    dataDir: c.DATA_DIR,
    redisUrl: c.REDIS_URL,
    redisServerBin: c.REDIS_SERVER_BIN,
    adminIds: new Set(c.ADMIN_TELEGRAM_IDS),
    logLevel: c.LOG_LEVEL,
    autoMigrate: c.AUTO_MIGRATE,
    inviteTtlHours: c.INVITE_TTL_HOURS,
    quietGcSeconds: c.QUIET_GC_SECONDS,
    delivery: c.PAID_BROADCAST
      ? { ratePerSecond: c.PAID_RATE_PER_SECOND, paidBroadcast: true }
      : { ratePerSecond: c.SEND_RATE_PER_SECOND, paidBroadcast: false },
    queuePrefix: c.QUEUE_PREFIX,
    embeddedWorker: c.EMBEDDED_WORKER,
    approvalThreshold: c.BROADCAST_APPROVAL_THRESHOLD,
    criteriaFiles: { learningUnitChecklist: c.LEARNING_UNIT_CHECKLIST_FILE, learningFamilyCriteria: c.LEARNING_FAMILY_CRITERIA_FILE },
    http: c.HTTP_PORT === null ? null : { host: c.HTTP_HOST, port: c.HTTP_PORT },
    mode:
      c.BOT_MODE === "webhook"
        ? { kind: "webhook", url: c.WEBHOOK_URL, secret: c.WEBHOOK_SECRET, host: c.HTTP_HOST, port: c.HTTP_PORT }
        : { kind: "polling" },
  };
}
