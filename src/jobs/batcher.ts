/**
 * Coalesces calls made in the same turn of the event loop into one batch call (one SQL statement
 * for every job a worker is running), then hands each caller its own result.
 */
export class Batcher<I, O> {
  private pending: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  /** A batch is running (tracked for `oneAtATime` only). */
  private running = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
    /** 0: the same turn of the event loop; more: wait this long for others (fewer, larger statements). */
    private readonly delayMs = 0,
    /**
     * One batch at a time: calls made while a batch runs wait for it to end and go together in the
     * next. For a database that runs one statement at a time anyway (the embedded PGlite): the
     * batches grow with the load, and a call that finds it idle waits for nothing.
     */
    private readonly oneAtATime = false,
  ) {}

  push(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.oneAtATime && this.running) return;
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.delayMs > 0) setTimeout(() => this.flush(), this.delayMs);
    else setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.oneAtATime && this.running) return;
    const batch = this.pending.slice(0, this.maxBatch);
    this.pending = this.pending.slice(batch.length);
    if (batch.length === 0) return;
    if (this.pending.length > 0 && !this.oneAtATime) this.schedule();
    if (this.oneAtATime) this.running = true;
    this.run(batch.map((b) => b.item))
      .then(
        (out) => batch.forEach((b, i) => b.resolve(out[i] as O)),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      )
      .finally(() => {
        if (!this.oneAtATime) return;
        this.running = false;
        // What gathered meanwhile goes at once: it has waited one batch already.
        if (this.pending.length > 0) this.flush();
      });
  }
}
