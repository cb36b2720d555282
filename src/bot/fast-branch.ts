import { Composer, type Context, type Middleware, type MiddlewareFn } from "grammy";

/**
 * grammY's `Composer.branch`, which every `on`, `command`, `callbackQuery`, `chatType` and `filter`
 * goes through, is written as `lazy(ctx => predicate ? yes : no)`; `lazy` builds a new Composer
 * (an array, a map, a reduce and their closures) for every update at every handler the update
 * passes. An update walks past a few hundred handlers before the one it is for, so this was about
 * half of everything the bot allocated under load (a sampling allocation profile of `bench:quiz`:
 * 100 KB an update; grammY 1.46, grammyjs/grammY#765 proposed the same change without data).
 *
 * This `branch` does what grammY's does, through public API only: the predicate is asked for
 * every update (sync or async), the chosen side runs with the same `next`, and a Composer given
 * as a side is read when the update arrives, so handlers registered on it later still run. The
 * sides are composed once, when the branch is registered.
 *
 * It must be installed before any feature registers a handler: main.ts and bot/index.ts import
 * this module first. Handlers registered before it still work (with grammY's own branch).
 */
type Side<C extends Context> = Middleware<C> | Middleware<C>[];
type Predicate<C extends Context> = (ctx: C) => boolean | Promise<boolean>;

function flatten<C extends Context>(mw: Side<C>): MiddlewareFn<C> {
  if (Array.isArray(mw)) return flatten(new Composer<C>(...mw));
  return typeof mw === "function" ? mw : (ctx, next) => mw.middleware()(ctx, next);
}

function branch<C extends Context>(this: Composer<C>, predicate: Predicate<C>, trueMiddleware: Side<C>, falseMiddleware: Side<C>): Composer<C> {
  const yes = flatten(trueMiddleware);
  const no = flatten(falseMiddleware);
  return this.use((ctx, next) => {
    const ok = predicate(ctx);
    if (typeof ok === "boolean") return ok ? yes(ctx, next) : no(ctx, next);
    return Promise.resolve(ok).then((v) => (v ? yes(ctx, next) : no(ctx, next)));
  });
}

/** Replaces `Composer.prototype.branch` (once; later calls do nothing). */
export function installFastBranch(): void {
  const proto = Composer.prototype as unknown as { branch: unknown };
  if (proto.branch !== branch) proto.branch = branch;
}

/** True once installFastBranch has run (for the tests). */
export function fastBranchInstalled(): boolean {
  return (Composer.prototype as unknown as { branch: unknown }).branch === branch;
}

installFastBranch();
