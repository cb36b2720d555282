import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the delivery queue holds right now; read at scrape time, never pushed. */
export interface QueueProbe {
  waiting: number;
  delayed: number;
  active: number;
  /** How long the oldest item that is already due has been waiting (0 when none is). */
  oldestDueAgeSeconds: number;
}

/**
 * The process's Prometheus metrics. Labels are closed sets of words (outcomes, kinds, states):
 * never a chat, a person or a text, so /metrics reveals no personal data and stays small.
 */
export interface Metrics {
  registry: Registry;
  /** khb_updates_total{outcome="handled"|"failed"} */
  updates: Counter<"outcome">;
  /** khb_sends_total{kind="broadcast",outcome="sent"|"blocked"|"failed"|"retried"|"cancelled"|"ambiguous"} */
  sends: Counter<"kind" | "outcome">;
  /** khb_telegram_429_total */
  rateLimited: Counter;
  /** khb_send_paused_seconds_total: the sum of retry_after pauses */
  pausedSeconds: Counter;
  /** khb_delivery_lateness_seconds: sent time − due time */
  lateness: Histogram;
  /** Queue depth gauges (khb_queue_jobs{state=…}, khb_queue_oldest_due_age_seconds) read this at scrape time. */
  setQueueProbe(probe: () => Promise<QueueProbe>): void;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** A scrape waits at most this long for the queue probe; past it the queue gauges say "unknown". */
  probeTimeoutMs?: number;
  /** Told when the queue probe fails or times out (the scrape still answers). */
  onProbeError?: (err: unknown) => void;
}

export const LATENESS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** A registry of its own (never prom-client's global one): tests and benches build many. */
export function createMetrics({ probeTimeoutMs = 2_000, onProbeError }: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "khb_" });

  const updates = new Counter({
    name: "khb_updates_total",
    help: "Telegram updates by outcome (failed: the person got an apology or the update threw)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const sends = new Counter({
    name: "khb_sends_total",
    help: "Messages the bot sent on its own initiative, by kind and outcome",
    labelNames: ["kind", "outcome"] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: "khb_telegram_429_total",
    help: "Bot API answers 429 Too Many Requests",
    registers: [registry],
  });
  const pausedSeconds = new Counter({
    name: "khb_send_paused_seconds_total",
    help: "Seconds all sending was paused for retry_after",
    registers: [registry],
  });
  const lateness = new Histogram({
    name: "khb_delivery_lateness_seconds",
    help: "Time from when a message was due to when Telegram accepted it",
    buckets: LATENESS_BUCKETS,
    registers: [registry],
  });

  let probe: (() => Promise<QueueProbe>) | undefined;
  // Both queue gauges collect in the same tick of a scrape: they share one probe call.
  let inflight: Promise<QueueProbe | undefined> | undefined;
  const readProbe = (): Promise<QueueProbe | undefined> => {
    if (!probe) return Promise.resolve(undefined);
    const current = probe;
    inflight ??= withTimeout(current(), probeTimeoutMs)
      .catch((err: unknown) => {
        onProbeError?.(err);
        return undefined;
      })
      .finally(() => (inflight = undefined));
    return inflight;
  };

  const jobs: Gauge<"state"> = new Gauge({
    name: "khb_queue_jobs",
    help: "Delivery jobs in the queue by state",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const p = await readProbe();
      // Unknown is left out rather than shown as a stale or zero depth.
      jobs.reset();
      if (!p) return;
      jobs.set({ state: "waiting" }, p.waiting);
      jobs.set({ state: "delayed" }, p.delayed);
      jobs.set({ state: "active" }, p.active);
    },
  });
  const oldestDue: Gauge = new Gauge({
    name: "khb_queue_oldest_due_age_seconds",
    help: "How long the oldest due delivery has been waiting to be sent",
    registers: [registry],
    async collect() {
      const p = await readProbe();
      // An unlabelled gauge cannot be left out: NaN says "unknown" in Prometheus's own terms.
      oldestDue.set(p ? p.oldestDueAgeSeconds : Number.NaN);
    },
  });

  return {
    registry,
    updates,
    sends,
    rateLimited,
    pausedSeconds,
    lateness,
    setQueueProbe: (fn) => void (probe = fn),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue probe timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
