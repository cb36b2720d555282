import type { Job } from "bullmq";
import { checkKey, type Ledger } from "../domain/delivery/ledger.js";
import type { DeliveryCounts, DeliveryScheduler } from "../domain/delivery/types.js";
import { releaseJobId, type DeliveryQueues, type ReleaseJobData } from "./queues.js";

/**
 * The features' side of the delivery engine: rows go into the ledger, and one delayed release job
 * per (kind, ref) makes them go at their time. Time comes from the injected clock.
 */
export class Deliveries implements DeliveryScheduler {
  constructor(
    private readonly ledger: Ledger,
    readonly queues: DeliveryQueues,
    private readonly now: () => Date,
  ) {}

  async release(kind: string, refId: string, dueAt: Date): Promise<void> {
    checkKey(kind, refId);
    const delay = Math.max(0, dueAt.getTime() - this.now().getTime());
    const id = releaseJobId(kind, refId);
    const existing = (await this.queues.release.getJob(id)) as Job<ReleaseJobData> | undefined;
    if (existing) {
      const state = await existing.getState();
      if (state === "delayed") {
        await existing.changeDelay(delay);
        return;
      }
      if (state === "waiting" || state === "active" || state === "prioritized" || state === "waiting-children") return;
      // Completed or failed and kept: replace it.
      await existing.remove().catch(() => {});
    }
    await this.queues.release.add("release", { kind, refId }, { jobId: id, delay });
  }

  async schedule(kind: string, refId: string, chatIds: readonly number[], dueAt: Date): Promise<number> {
    const added = await this.ledger.insert(kind, refId, chatIds, dueAt);
    await this.release(kind, refId, dueAt);
    return added;
  }

  async reschedule(kind: string, refId: string, dueAt: Date): Promise<number> {
    const moved = await this.ledger.reschedule(kind, refId, dueAt);
    if (moved > 0) await this.release(kind, refId, dueAt);
    return moved;
  }

  async cancel(kind: string, refId: string, reason = "cancelled"): Promise<number> {
    checkKey(kind, refId);
    const cancelled = await this.ledger.cancel(kind, refId, reason);
    await (await this.queues.release.getJob(releaseJobId(kind, refId)))?.remove().catch(() => {});
    // Rows already released wait in send jobs: those skip them (a claim finds them cancelled).
    return cancelled;
  }

  counts(kind: string, refId: string): Promise<DeliveryCounts> {
    return this.ledger.counts(kind, refId);
  }

  /** Moves due releases forward after the clock moved (tests) or a restart: what is due goes now. */
  async promoteDue(): Promise<void> {
    const now = this.now();
    for (const ref of await this.ledger.openRefs()) {
      if (ref.dueAt.getTime() <= now.getTime()) await this.release(ref.kind, ref.refId, ref.dueAt);
    }
  }

  /** After a restart: every (kind, ref) the ledger says is still open gets its release job back. */
  async resumeOpen(): Promise<number> {
    const refs = await this.ledger.openRefs();
    for (const ref of refs) await this.release(ref.kind, ref.refId, ref.dueAt);
    return refs.length;
  }
}
