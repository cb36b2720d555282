import { limit } from "@grammyjs/ratelimiter";
import type { Context, MiddlewareFn } from "grammy";
import { localeFromTelegram } from "../../i18n.js";
import type { Deps } from "../context.js";
import { sessionKey } from "../session-key.js";

/**
 * One person cannot slow everyone. Updates of a chat are handled in order, one at a time
 * (`sequentialize`), so a chat that floods fills the runner's or the webhook's in-flight slots with
 * updates waiting their turn, and everyone else waits behind them. Two guards, both before the
 * ordering, both dropping at once (a dropped update costs nothing but its callback answer):
 * - a rate per person (grammY's ratelimiter plugin): more than `limit` updates in `windowMs`
 *   are dropped, and the person is told once per window to slow down;
 * - a cap on what one chat may have queued or running at a time.
 */
export interface FloodOptions {
  limit: number;
  windowMs: number;
  maxQueuedPerChat: number;
}

export const FLOOD_DEFAULTS: FloodOptions = { limit: 20, windowMs: 5_000, maxQueuedPerChat: 8 };

type Injectable = Context & { deps: Deps };

export function floodGuard(options: FloodOptions = FLOOD_DEFAULTS): MiddlewareFn<Injectable>[] {
  return [rateLimit(options), capQueued(options.maxQueuedPerChat)];
}

function rateLimit(options: FloodOptions): MiddlewareFn<Injectable> {
  return limit<Injectable, never>({
    timeFrame: options.windowMs,
    limit: options.limit,
    keyGenerator: (ctx) => sessionKey(ctx as unknown as Context),
    onLimitExceeded: (ctx) => {
      ctx.deps.logger.info({ chat: sessionKey(ctx as unknown as Context) }, "rate limit reached: dropping this chat's updates for now");
      if (ctx.chat?.type !== "private" || !ctx.message) return;
      // The session is not read for a dropped update: the client's language decides.
      const t = ctx.deps.i18n.t(localeFromTelegram(ctx.from?.language_code));
      void ctx.reply(t("common:errors.slow_down")).catch(() => undefined);
    },
  }) as MiddlewareFn<Injectable>;
}

function capQueued(max: number): MiddlewareFn<Injectable> {
  const queued = new Map<string, number>();
  return async (ctx, next) => {
    const key = sessionKey(ctx);
    if (key === undefined) return next();
    const n = queued.get(key) ?? 0;
    if (n >= max) return;
    queued.set(key, n + 1);
    try {
      await next();
    } finally {
      const left = (queued.get(key) ?? 1) - 1;
      if (left <= 0) queued.delete(key);
      else queued.set(key, left);
    }
  };
}
