import { GrammyError, type Context } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";

/**
 * Edits the message a button belongs to; when it cannot be edited (too old, deleted, unchanged)
 * the person still gets the answer as a new message.
 */
export async function editOrReply(ctx: Context, text: string, markup?: InlineKeyboardMarkup): Promise<void> {
  try {
    await ctx.editMessageText(text, { reply_markup: markup });
  } catch (e) {
    if (!(e instanceof GrammyError) || e.error_code !== 400) throw e;
    if (e.description.includes("message is not modified")) return;
    await ctx.reply(text, { reply_markup: markup });
  }
}
