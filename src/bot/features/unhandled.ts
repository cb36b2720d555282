import { Composer } from "grammy";
import type { BotContext } from "../context.js";

/** Mounted last: whatever nothing else handled gets a helpful answer, never silence. */
export const unhandledFeature = new Composer<BotContext>();

// Stale buttons (an old message, a finished flow) and forged data, in any chat or inline message.
unhandledFeature.on("callback_query", (ctx) => ctx.answerCallbackQuery({ text: ctx.t("common:errors.stale_button") }));

const dm = unhandledFeature.chatType("private");
dm.on("edited_message", (ctx) => ctx.reply(ctx.t("common:errors.edited_ignored")));
dm.on("message::bot_command", (ctx) => ctx.reply(ctx.t("common:errors.unknown_command")));
dm.on("message:text", (ctx) => ctx.reply(ctx.t("common:errors.free_text")));
dm.on("message", (ctx) => ctx.reply(ctx.t("common:errors.unsupported_message")));
// Everything else (service updates, poll answers with no open round, group chatter) needs no answer.
