import { Composer } from "grammy";
import { helpText } from "../commands.js";
import type { BotContext } from "../context.js";

export const helpFeature = new Composer<BotContext>();

/** /help lists what the caller can do; officer and admin sections only for those roles. */
helpFeature.chatType("private").command("help", async (ctx) => {
  const { role } = await ctx.deps.services.users.access(String(ctx.from.id));
  await ctx.reply(helpText(ctx.t, role));
});
