import type { DeliveryScheduler } from "./types.js";

/**
 * Refs whose ledger rows are committed but not yet released to the engine (Redis failed right
 * after the commit): kept in memory and retried at the next tick of whoever queued them. A
 * restart loses nothing either: the engine releases every open ref at start.
 */
export class PendingReleases {
  private readonly pending = new Map<string, Date>();

  constructor(private readonly deliveries: DeliveryScheduler, private readonly kind: string) {}

  add(ref: string, at: Date): void {
    this.pending.set(ref, at);
  }

  /** Releases what is pending; a failure leaves the rest for the next call. */
  async flush(): Promise<void> {
    const pending = [...this.pending];
    // A handful at once: a burst of a thousand refs is a thousand small Redis round trips.
    for (let i = 0; i < pending.length; i += 32) {
      await Promise.all(pending.slice(i, i + 32).map(async ([ref, at]) => {
        await this.deliveries.release(this.kind, ref, at);
        this.pending.delete(ref);
      }));
    }
  }
}
