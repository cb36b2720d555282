import { Composer } from "grammy";
import type { BotContext } from "../context.js";

/** /cancel leaves any flow at any step; mounted before the conversations so it is never consumed. */
export const cancelFeature = new Composer<BotContext>();

cancelFeature.chatType("private").command("cancel", async (ctx) => {
  const active = Object.keys(ctx.conversation.active()).length > 0;
  await ctx.conversation.exitAll();
  await ctx.reply(ctx.t(active ? "common:cancel.done" : "common:cancel.nothing"), { reply_markup: { remove_keyboard: true } });
});
