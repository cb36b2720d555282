import { randomBytes } from "node:crypto";
import { Api } from "grammy";
import { inject } from "vitest";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import { DeliveryKinds, type DeliveryKind } from "../../src/domain/delivery/types.js";
import { createQueueRedis } from "../../src/infra/queue-redis.js";
import type { Database } from "../../src/infra/database.js";
import { Deliveries } from "../../src/jobs/delivery-scheduler.js";
import { DeliveryWorker, type DeliveryObserver } from "../../src/jobs/delivery-worker.js";
import { openQueues, type DeliveryQueues } from "../../src/jobs/queues.js";
import { createLogger } from "../../src/logger.js";
import type { Redis } from "../../src/infra/redis.js";
import { createFakeFetch, DEFAULT_BOT_TOKEN, type FakeTelegram } from "./telegram/index.js";

/** A clock tests move by hand; the engine reads time only through it. */
export class ManualClock {
  constructor(private ms: number) {}
  now = (): Date => new Date(this.ms);
  set(at: Date): void {
    this.ms = at.getTime();
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function fakeApi(fake: FakeTelegram): Api {
  return new Api(DEFAULT_BOT_TOKEN, { fetch: createFakeFetch(fake), apiRoot: "http://fake-telegram.invalid" });
}

export interface EngineOptions {
  db: Database;
  fake: FakeTelegram;
  now: () => Date;
  kinds?: DeliveryKinds;
  queues?: DeliveryQueues;
  prefix?: string;
  ratePerSecond?: number;
  paidBroadcast?: boolean;
  observer?: DeliveryObserver;
  lockDurationMs?: number;
}

/** The real delivery engine (ledger, BullMQ on the test Redis under its own prefix, worker) against the fake Bot API. */
export class TestEngine {
  private constructor(
    readonly ledger: Ledger,
    readonly kinds: DeliveryKinds,
    readonly queues: DeliveryQueues,
    readonly deliveries: Deliveries,
    readonly worker: DeliveryWorker,
    private readonly workerRedis: Redis,
    private readonly ownsQueues: boolean,
  ) {}

  static start(o: EngineOptions): TestEngine {
    const prefix = o.prefix ?? `t-${randomBytes(5).toString("hex")}`;
    const ledger = new Ledger(o.db.prisma);
    const kinds = o.kinds ?? new DeliveryKinds();
    const queues = o.queues ?? openQueues(createQueueRedis(inject("redisUrl"), "queue"), prefix);
    const workerRedis = createQueueRedis(inject("redisUrl"), "worker");
    const worker = new DeliveryWorker({
      ledger, kinds, queues, connection: workerRedis, prefix, api: fakeApi(o.fake),
      logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"), now: o.now,
      ratePerSecond: o.ratePerSecond ?? 30, paidBroadcast: o.paidBroadcast ?? false, observer: o.observer,
      lockDurationMs: o.lockDurationMs,
    });
    return new TestEngine(ledger, kinds, queues, new Deliveries(ledger, queues, o.now), worker, workerRedis, !o.queues);
  }

  async stop(): Promise<void> {
    await this.worker.close();
    if (this.ownsQueues) await this.queues.close();
    this.workerRedis.disconnect();
  }
}

/** A delivery kind for engine tests: a plain text naming its ref. */
export function noteKind(kind = "note", priority?: number): DeliveryKind & { recorded: string[] } {
  const recorded: string[] = [];
  return {
    kind,
    priority,
    recorded,
    render: async (rows) => new Map(rows.map((r) => [r.id, { method: "sendMessage" as const, payload: { text: `note ${r.refId} (${r.locale ?? "vi"})` } }])),
    onRecorded: async (refIds) => void recorded.push(...refIds),
  };
}

/** Waits until `check` holds (engine work is asynchronous); fails with `what` after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting: ${what}`);
}
