import { GrammyError, HttpError, type Context } from "grammy";
import { localeFromTelegram, type TFunction } from "../../i18n.js";
import { isStorageUnavailable } from "../../infra/unavailable.js";
import type { Deps } from "../context.js";
import { markUpdateFailed } from "../middlewares/metrics.js";

export type FailureKind = "storage" | "blocked" | "telegram" | "network" | "internal";

/** What went wrong, for the log and for what the person is told. */
export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof GrammyError) return err.error_code === 403 ? "blocked" : "telegram";
  if (err instanceof HttpError) return "network";
  return isStorageUnavailable(err) ? "storage" : "internal";
}

/** Redis or the database away: logged once per minute, not once per update. */
const OUTAGE_LOG_INTERVAL_MS = 60_000;

type FailingContext = Context & { deps: Deps; logger: Deps["logger"]; t?: TFunction };

/**
 * Contains a failed update: logged with the update, and the person always gets an answer — "try
 * again in a moment" while storage is away, an apology otherwise — unless they blocked the bot,
 * which is an expected outcome: they are marked unreachable instead.
 */
export async function reportFailure(ctx: FailingContext, err: unknown): Promise<void> {
  const kind = classifyFailure(err);
  const deps = ctx.deps;
  if (kind === "blocked") {
    ctx.logger.info({ update_id: ctx.update.update_id, description: (err as GrammyError).description }, "the person blocked the bot");
    if (ctx.from) await deps.services.users.markUnreachable(String(ctx.from.id), deps.now()).catch(() => undefined);
    return;
  }
  markUpdateFailed(ctx);
  if (kind === "storage") {
    const now = Date.now();
    if (!deps.outage.loggedAt || now - deps.outage.loggedAt > OUTAGE_LOG_INTERVAL_MS) {
      deps.outage.loggedAt = now;
      ctx.logger.warn({ err, update_id: ctx.update.update_id }, "storage unavailable: telling people to try again");
    }
  } else {
    ctx.logger.error({ err, kind, update_id: ctx.update.update_id }, "update failed");
  }
  // The session may be what failed: then there is no translator on the context yet.
  const t = ctx.t ?? deps.i18n.t(localeFromTelegram(ctx.from?.language_code));
  const [short, long] = kind === "storage" ? ["common:errors.try_again_short", "common:errors.try_again"] : ["common:errors.internal_short", "common:errors.internal"];
  try {
    if (ctx.callbackQuery && !deps.answered.has(ctx.callbackQuery.id)) await ctx.answerCallbackQuery({ text: t(short) });
    if (ctx.chat?.type === "private") await ctx.reply(t(long));
  } catch (replyError) {
    ctx.logger.warn({ err: replyError }, "could not tell the person about a failed update");
  }
}
