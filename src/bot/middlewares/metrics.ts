import type { Context, MiddlewareFn } from "grammy";
import type { Metrics } from "../../infra/metrics.js";

/** Set on the update's context by whatever contained a failure (the person got an apology). */
const FAILED = Symbol("update failed");

/**
 * Marks this update as failed for countUpdates. Failures are mostly contained before they reach
 * it (the error boundary, keepFlowOnError), so "did next() throw" alone would count almost none.
 */
export function markUpdateFailed(ctx: object): void {
  (ctx as { [FAILED]?: boolean })[FAILED] = true;
}

/** Counts each update once, as handled or failed (threw, or was marked failed on the way). Mount it first. */
export function countUpdates<C extends Context>(metrics: Metrics): MiddlewareFn<C> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      metrics.updates.inc({ outcome: "failed" });
      throw e;
    }
    metrics.updates.inc({ outcome: (ctx as { [FAILED]?: boolean })[FAILED] ? "failed" : "handled" });
  };
}
