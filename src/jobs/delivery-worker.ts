import { DelayedError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { GrammyError, HttpError, type Api } from "grammy";
import type { ClaimedRow, Ledger, RowOutcome } from "../domain/delivery/ledger.js";
import type { DeliveryEnv, DeliveryKind, DeliveryKinds, RenderOutcome } from "../domain/delivery/types.js";
import type { Logger } from "../logger.js";
import { Batcher } from "./batcher.js";
import { ChatPacer, GlobalRate } from "./chat-pacer.js";
import {
  RELEASE_QUEUE, SEND_ATTEMPTS, SEND_QUEUE, sendJobId, type DeliveryQueues, type ReleaseJobData, type SendJobData,
} from "./queues.js";

/** What the worker reports (prom-client counters behind it; see src/infra/metrics.ts). */
export interface DeliveryObserver {
  outcome(kind: string, outcome: "sent" | "blocked" | "failed" | "retried" | "cancelled" | "ambiguous"): void;
  rateLimited(retryAfterSeconds: number): void;
  lateness(seconds: number): void;
}

export interface DeliveryWorkerOptions {
  ledger: Ledger;
  kinds: DeliveryKinds;
  queues: DeliveryQueues;
  /** A connection for BullMQ workers (maxRetriesPerRequest: null; see createQueueRedis). */
  connection: ConnectionOptions & { defineCommand?: unknown };
  prefix: string;
  /** Sends go through this Api (no auto-retry: 429s pause the whole queue instead). */
  api: Api;
  logger: Logger;
  now: () => Date;
  ratePerSecond: number;
  paidBroadcast: boolean;
  observer?: DeliveryObserver;
  /** Jobs in flight per process; default from the rate. */
  concurrency?: number;
  /** BullMQ lock of an active job: a killed process's jobs run again after about this (+ the check interval). */
  lockDurationMs?: number;
}

/** Rows the release job adds to the send queue per round trip. */
const RELEASE_PAGE = 1_000;
/** A claimed row due later than this (it was moved) waits in the delayed set again. */
const EARLY_TOLERANCE_MS = 1_000;
/** onRecorded per (kind, ref) and process at most this often (and always after the last record). */
const NOTIFY_EVERY_MS = 1_000;

type Sent = { ok: true; messageId: number } | { ok: false; error: unknown };

/**
 * The delivery worker: releases due rows into the send queue, and sends each row at Telegram's
 * limits — a global rate shared by every worker of every process (BullMQ's limiter), one message a
 * second per private chat and twenty a minute per group (ChatPacer), a pause of exactly
 * retry_after for everyone on a 429. The ledger decides what is sent: a row is claimed before the
 * call and recorded after it, in batches.
 */
export class DeliveryWorker {
  private readonly releaseWorker: Worker<ReleaseJobData>;
  private readonly sendWorker: Worker<SendJobData>;
  private readonly pacer: ChatPacer;
  private readonly rate: GlobalRate;
  private readonly claims: Batcher<string, ClaimedRow | undefined>;
  private readonly records: Batcher<RowOutcome, undefined>;
  private readonly unreachable: Batcher<number, undefined>;
  private readonly notifier: RecordedNotifier;
  private readonly env: DeliveryEnv;
  /** One render call per kind for the rows claimed together. */
  /** Until when a 429 paused this process's sends (other processes wait on BullMQ's limiter key). */
  private pausedUntil = 0;
  private readonly renders = new Map<string, Batcher<ClaimedRow, RenderOutcome>>();

  constructor(private readonly o: DeliveryWorkerOptions) {
    const { ledger } = o;
    this.env = {
      call: (method, payload) => (o.api.raw as unknown as Record<string, (p: unknown) => Promise<unknown>>)[method]!(payload),
      now: o.now,
    };
    this.pacer = new ChatPacer(o.connection as never, o.prefix);
    this.rate = new GlobalRate(o.connection as never, o.prefix, o.ratePerSecond);
    this.claims = new Batcher(async (ids) => {
      const rows = new Map((await ledger.claim(ids)).map((r) => [r.id, r]));
      return ids.map((id) => rows.get(id));
    });
    this.records = new Batcher(async (outcomes) => {
      await ledger.record(outcomes);
      return outcomes.map(() => undefined);
    });
    this.unreachable = new Batcher(async (chatIds) => {
      await ledger.markUnreachable(chatIds, o.now());
      return chatIds.map(() => undefined);
    });
    this.notifier = new RecordedNotifier(o.kinds, this.env, o.logger);

    const rate = o.ratePerSecond;
    // The exact rate is GlobalRate's sliding window; BullMQ's limiter (fixed windows) only keeps
    // jobs from piling up in the workers, and carries the 429 pause to every process.
    const limiter = { max: Math.ceil(rate * 1.2), duration: 1_000 };
    const lockDuration = o.lockDurationMs ?? 10_000;
    const common = { connection: o.connection, prefix: o.prefix, lockDuration, stalledInterval: Math.max(1_000, lockDuration / 2), maxStalledCount: 10 };
    this.releaseWorker = new Worker<ReleaseJobData>(RELEASE_QUEUE, (job) => this.release(job), { ...common, concurrency: 4 });
    this.sendWorker = new Worker<SendJobData>(SEND_QUEUE, (job, token) => this.send(job, token), {
      ...common,
      // Enough jobs in flight to keep the rate busy, few enough that a crash leaves few rows
      // "sending" (each counted ambiguous after the restart).
      concurrency: o.concurrency ?? Math.min(200, Math.max(6, Math.ceil(rate / 5))),
      limiter,
    });
    for (const w of [this.releaseWorker, this.sendWorker]) {
      w.on("error", (err) => o.logger.warn({ err }, "delivery worker error"));
    }
    this.sendWorker.on("failed", (job, err) => o.logger.warn({ err, job: job?.id }, "send job failed"));
  }

  /** Stops taking jobs, lets the ones in flight finish and be recorded, then runs the last notifications. */
  async close(): Promise<void> {
    await Promise.all([this.releaseWorker.close(), this.sendWorker.close()]);
    await this.notifier.flush();
  }

  private async release(job: Job<ReleaseJobData>): Promise<number> {
    const { kind, refId } = job.data;
    const priority = this.o.kinds.get(kind)?.priority ?? 5;
    let after = "0";
    let added = 0;
    for (;;) {
      const rows = await this.o.ledger.openRows(kind, refId, after, RELEASE_PAGE);
      if (rows.length === 0) break;
      await this.o.queues.send.addBulk(
        rows.map((r) => ({ name: kind, data: { id: r.id, chatId: r.chatId }, opts: { jobId: sendJobId(r.id), priority } })),
      );
      added += rows.length;
      after = rows.at(-1)!.id;
    }
    this.o.logger.debug({ kind, refId, added }, "released deliveries");
    return added;
  }

  private async send(job: Job<SendJobData>, token: string | undefined): Promise<string> {
    const { id, chatId } = job.data;
    const wait = await this.pacer.take(chatId);
    if (wait > 0) return this.postpone(job, token, Date.now() + wait);

    const row = await this.claims.push(id);
    if (!row) return "not open";
    const now = this.o.now();
    if (row.dueAt.getTime() > now.getTime() + EARLY_TOLERANCE_MS) {
      await this.records.push({ id, state: "queued" });
      return this.postpone(job, token, Date.now() + (row.dueAt.getTime() - now.getTime()));
    }
    if (row.unreachable) return this.finish(row, { id, state: "blocked", error: "unreachable: blocked the bot earlier" });
    const kind = this.o.kinds.get(row.kind);
    if (!kind) return this.finish(row, { id, state: "failed", error: `unknown delivery kind ${row.kind}` });

    const rendered = await this.renderer(kind).push(row);
    if ("skip" in rendered) return this.finish(row, { id, state: "cancelled", error: rendered.skip });

    await this.rate.take();
    if (Date.now() < this.pausedUntil) {
      // A 429 arrived while this job was on its way: it waits the pause out like the rest.
      await this.records.push({ id, state: "queued" });
      throw Worker.RateLimitError();
    }
    const result = await this.call(rendered, row.chatId);
    if (result.ok) {
      this.o.observer?.lateness(Math.max(0, (this.o.now().getTime() - row.dueAt.getTime()) / 1000));
      if (row.ambiguous) this.o.observer?.outcome(row.kind, "ambiguous");
      return this.finish(row, { id, state: "sent", messageId: result.messageId, sentAt: this.o.now() });
    }
    const err = result.error;
    if (err instanceof GrammyError) {
      if (err.error_code === 429) {
        const retryAfter = err.parameters.retry_after ?? 1;
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + retryAfter * 1000);
        await this.records.push({ id, state: "queued" });
        this.o.observer?.rateLimited(retryAfter);
        this.o.logger.info({ retryAfter }, "telegram asked to slow down: every sender pauses");
        await this.o.queues.send.rateLimit(retryAfter * 1000);
        throw Worker.RateLimitError();
      }
      if (err.error_code === 403) {
        if (row.chatId > 0) await this.unreachable.push(row.chatId);
        return this.finish(row, { id, state: "blocked", error: err.description });
      }
      if (err.error_code < 500) return this.finish(row, { id, state: "failed", error: err.description });
      // 5xx: Telegram did not take it; try again with backoff unless this was the last attempt.
      if (job.attemptsMade + 1 >= SEND_ATTEMPTS) return this.finish(row, { id, state: "failed", error: err.description });
      await this.records.push({ id, state: "queued" });
      this.o.observer?.outcome(row.kind, "retried");
      throw err;
    }
    // A network error: Telegram may or may not have taken it. The row stays "sending", so the
    // retry (or the recovery after a crash) counts it as ambiguous.
    if (job.attemptsMade + 1 >= SEND_ATTEMPTS) {
      return this.finish(row, { id, state: "failed", error: err instanceof Error ? err.message : String(err) });
    }
    this.o.observer?.outcome(row.kind, "retried");
    throw err instanceof Error ? err : new Error(String(err));
  }

  private renderer(kind: DeliveryKind): Batcher<ClaimedRow, RenderOutcome> {
    let batcher = this.renders.get(kind.kind);
    if (!batcher) {
      batcher = new Batcher(async (rows) => {
        const out = await kind.render(rows, this.env);
        return rows.map((r) => out.get(r.id) ?? { skip: "nothing to send" });
      });
      this.renders.set(kind.kind, batcher);
    }
    return batcher;
  }

  private async call(message: Exclude<RenderOutcome, { skip: string }>, chatId: number): Promise<Sent> {
    const payload: Record<string, unknown> = { ...message.payload, chat_id: chatId };
    if (this.o.paidBroadcast) payload.allow_paid_broadcast = true;
    try {
      const sent = (await this.env.call(message.method, payload)) as { message_id: number };
      return { ok: true, messageId: sent.message_id };
    } catch (error) {
      if (error instanceof GrammyError || error instanceof HttpError) return { ok: false, error };
      return { ok: false, error };
    }
  }

  private async finish(row: ClaimedRow, outcome: RowOutcome): Promise<string> {
    await this.records.push(outcome);
    if (outcome.state !== "queued") this.o.observer?.outcome(row.kind, outcome.state === "sent" ? "sent" : outcome.state);
    this.notifier.recorded(row.kind, row.refId);
    return outcome.state;
  }

  private async postpone(job: Job<SendJobData>, token: string | undefined, at: number): Promise<never> {
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }
}

/** Calls each kind's onRecorded at most once a second per ref, and always once after the last record. */
class RecordedNotifier {
  private readonly last = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly kinds: DeliveryKinds,
    private readonly env: DeliveryEnv,
    private readonly logger: Logger,
  ) {}

  recorded(kind: string, refId: string): void {
    if (!this.kinds.get(kind)?.onRecorded) return;
    const key = `${kind}\0${refId}`;
    if (this.timers.has(key)) return;
    const since = Date.now() - (this.last.get(key) ?? 0);
    const delay = Math.max(0, NOTIFY_EVERY_MS - since);
    this.timers.set(key, setTimeout(() => this.fire(key, kind, refId), delay));
  }

  async flush(): Promise<void> {
    for (const [key, timer] of this.timers) {
      clearTimeout(timer);
      const [kind, refId] = key.split("\0") as [string, string];
      this.fire(key, kind, refId);
    }
    await Promise.all([...this.running]);
  }

  private fire(key: string, kind: string, refId: string): void {
    this.timers.delete(key);
    this.last.set(key, Date.now());
    if (this.last.size > 10_000) this.last.delete(this.last.keys().next().value!);
    const run = (async () => {
      try {
        await this.kinds.get(kind)?.onRecorded?.([refId], this.env);
      } catch (err) {
        this.logger.warn({ err, kind, refId }, "after-delivery step failed");
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }
}
