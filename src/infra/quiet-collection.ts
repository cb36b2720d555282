import v8 from "node:v8";
import vm from "node:vm";

/**
 * One full garbage collection once the bot has gone quiet, so that an idle bot gives back what a
 * busy spell (or start-up) grew.
 *
 * V8 grows the young generation while the bot starts or is busy (up to two 8 MB semi-spaces) and
 * keeps it until a collection finds the allocation rate low. Its memory reducer looks for such a
 * moment on its own, 8 s after a collection and again every 8 s; on 2026-11-29 it had not done so
 * 30 s after one start in three (a first start, with the database prepared in a child process),
 * and the idle bot then stayed 15 MB larger. This does the same collection at a known time: once,
 * `quietMs` after the last update, and not again before the next update. The collection takes
 * 10–40 ms, when nobody is waiting.
 *
 * The collector is V8's own `gc`, taken from a fresh context (as jest's leak detector does): the
 * `--expose-gc` flag is on only for that line, so no `gc` global is ever visible to the bot or its
 * dependencies.
 */
export interface QuietCollection {
  /** An update came in: the bot is busy again. */
  touch(): void;
  stop(): void;
}

export interface QuietCollectionOptions {
  /** Quiet time before the collection. */
  quietMs: number;
  /** How often the quiet time is checked. */
  checkMs?: number;
  /** The collection itself (tests pass a spy); defaults to V8's full collection. */
  collect?: () => void;
}

/** V8's full collection, or undefined if this runtime does not allow it. */
export function fullCollection(): (() => void) | undefined {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as unknown;
    return typeof gc === "function" ? () => void (gc as () => void)() : undefined;
  } catch {
    return undefined;
  } finally {
    v8.setFlagsFromString("--no-expose-gc");
  }
}

/** Starts watching; the process counts as busy from now (start-up is work too). */
export function collectWhenQuiet(options: QuietCollectionOptions): QuietCollection {
  const collect = options.collect ?? fullCollection();
  let last = Date.now();
  let pending = true;
  const timer = setInterval(() => {
    if (!pending || Date.now() - last < options.quietMs) return;
    pending = false;
    collect?.();
  }, options.checkMs ?? Math.max(100, Math.floor(options.quietMs / 5)));
  timer.unref();
  return {
    touch() {
      last = Date.now();
      pending = true;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
