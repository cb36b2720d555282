import { Composer, InlineKeyboard } from "grammy";
import type { BotContext } from "../context.js";

/**
 * Groups: the bot serves people in private, so a command addressed to it (or to no bot in
 * particular) gets a pointer to the private chat; commands for other bots are not ours.
 */
export const groupFeature = new Composer<BotContext>();

groupFeature.chatType(["group", "supergroup"]).on("message::bot_command", async (ctx) => {
  const text = ctx.message.text ?? "";
  const entity = (ctx.message.entities ?? []).find((e) => e.type === "bot_command" && e.offset === 0);
  if (!entity) return;
  const target = text.slice(entity.offset + 1, entity.offset + entity.length).split("@")[1];
  if (target && target.toLowerCase() !== ctx.me.username.toLowerCase()) return;
  await ctx.reply(ctx.t("common:errors.private_only"), {
    reply_parameters: { message_id: ctx.message.message_id, allow_sending_without_reply: true },
    reply_markup: new InlineKeyboard().url(ctx.t("common:open_private_chat"), `https://t.me/${ctx.me.username}`),
  });
});
