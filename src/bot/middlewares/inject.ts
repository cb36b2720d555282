import type { Context, MiddlewareFn } from "grammy";
import { localeFromTelegram, type Locale, type TFunction } from "../../i18n.js";
import type { Deps, SessionData } from "../context.js";
import { sessionKey } from "../session-key.js";
import { apiPlugins } from "./api.js";

type Injectable = Context & { deps: Deps; logger: Deps["logger"]; t: TFunction; locale: Locale };

/** First middleware: dependencies and a logger bound to the update (dependency injection). */
export function injectDeps(deps: Deps): MiddlewareFn<Injectable> {
  return (ctx, next) => {
    ctx.deps = deps;
    lazyLogger(ctx, deps);
    return next();
  };
}

/** A child logger bound to the update, made only when something logs (most updates never do). */
function lazyLogger(ctx: Injectable, deps: Deps): void {
  let logger: Deps["logger"] | undefined;
  Object.defineProperty(ctx, "logger", {
    get: () => (logger ??= deps.logger.child({ update_id: ctx.update.update_id })),
    set: (l: Deps["logger"]) => (logger = l),
    configurable: true,
  });
}

/**
 * Locale per update: the saved /language choice, else Telegram's language_code, else vi.
 * Remembered for the contexts that conversations build while handling this same update.
 */
export function i18nMiddleware(): MiddlewareFn<Injectable & { session: SessionData }> {
  return (ctx, next) => {
    // Updates without a person or chat (a channel's poll answer) have no session to read.
    const saved = sessionKey(ctx) === undefined ? undefined : ctx.session.locale;
    const locale = saved ?? localeFromTelegram(ctx.from?.language_code);
    ctx.locale = locale;
    ctx.t = ctx.deps.i18n.t(locale);
    if (ctx.from) ctx.deps.localeMemo.set(ctx.from.id, locale);
    return next();
  };
}

/** Plugins for contexts created inside conversations (they see no session and no bot.api plugins). */
export function conversationPlugins(deps: Deps): MiddlewareFn<Injectable>[] {
  return [
    (ctx, next) => {
      ctx.deps = deps;
      // Conversations rebuild a context for every earlier update on each replay.
      lazyLogger(ctx, deps);
      const locale = (ctx.from && deps.localeMemo.get(ctx.from.id)) ?? localeFromTelegram(ctx.from?.language_code);
      ctx.locale = locale;
      ctx.t = deps.i18n.t(locale);
      ctx.api.config.use(...apiPlugins(deps.answered));
      return next();
    },
  ];
}

/**
 * Every callback query gets an answer (a button left spinning looks broken): whatever handled
 * the update, or failed to, one that is still unanswered at the end is answered here.
 */
export function answerEveryQuery(): MiddlewareFn<Injectable> {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const query = ctx.callbackQuery;
      if (query && !ctx.deps.answered.take(query.id)) {
        await ctx.api.answerCallbackQuery(query.id).catch((err: unknown) => ctx.logger.debug({ err }, "could not answer a callback query"));
      }
    }
  };
}
