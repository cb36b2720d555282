import { Composer, type CallbackQueryContext } from "grammy";
import type { CallbackCodec } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";

export type ButtonContext = CallbackQueryContext<BotContext>;

/**
 * A feature's button: forged or stale data of its prefix is refused (answered, logged) before
 * the handler runs; the handler gets the value. A query the handler leaves unanswered is
 * answered by the last middleware. Private chats only: buttons elsewhere are someone else's.
 */
export function onButton<T extends string>(codec: CallbackCodec<T>, handler: (ctx: ButtonContext, value: T) => Promise<unknown>): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.chatType("private").callbackQuery(codec.pattern, async (ctx) => {
    const value = codec.unpack(ctx.callbackQuery.data);
    if (value === undefined) {
      ctx.logger.info({ prefix: codec.prefix }, "refused invalid button data");
      await ctx.answerCallbackQuery({ text: ctx.t("common:errors.invalid_button") });
      return;
    }
    await handler(ctx, value);
  });
  return composer;
}
