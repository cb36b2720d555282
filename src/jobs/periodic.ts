import type { Logger } from "../logger.js";

/** Work a worker process repeats (quiz time-outs, daily questions): safe to run in every process at once. */
export interface PeriodicTask {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

/** Runs each task every `everyMs`, never two runs of one task at once; stop() waits for the running ones. */
export class PeriodicRunner {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(tasks: readonly PeriodicTask[], private readonly logger: Logger) {
    for (const task of tasks) {
      let busy = false;
      const timer = setInterval(() => {
        if (busy || this.stopped) return;
        busy = true;
        const run = task
          .run()
          .catch((err: unknown) => this.logger.warn({ err, task: task.name }, "periodic task failed; it runs again at its next tick"))
          .finally(() => {
            busy = false;
            this.running.delete(run);
          });
        this.running.add(run);
      }, task.everyMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.running]);
  }
}

/** The tasks features register (in createDeps); the worker runs them. */
export class PeriodicTasks {
  private readonly tasks: PeriodicTask[] = [];
  register(task: PeriodicTask): void {
    this.tasks.push(task);
  }
  list(): readonly PeriodicTask[] {
    return this.tasks;
  }
}
