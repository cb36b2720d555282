import { Composer } from "grammy";
import type { BotContext } from "../context.js";

/**
 * A person blocking the bot (or coming back) arrives as my_chat_member in their private chat:
 * remembered, so messages the bot starts skip people who cannot receive them.
 */
export const membershipFeature = new Composer<BotContext>();

membershipFeature.chatType("private").on("my_chat_member", async (ctx) => {
  const status = ctx.myChatMember.new_chat_member.status;
  const id = String(ctx.myChatMember.from.id);
  if (status === "kicked") await ctx.deps.services.users.markUnreachable(id, ctx.deps.now());
  else if (status === "member") await ctx.deps.services.users.markReachable(id);
});
