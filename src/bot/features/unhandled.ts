import { Composer } from "grammy";
import type { BotContext } from "../context.js";

/** Mounted last: whatever nothing else handled gets a helpful answer, never silence. */
export const unhandledFeature = new Composer<BotContext>();

// Stale buttons (an old message, a finished flow) and forged data.
unhandledFeature.on("callback_query", (ctx) =>
  ctx.answerCallbackQuery({ text: ctx.t("common:errors.stale_button"), show_alert: false }),
);

unhandledFeature.on("edited_message", (ctx) => ctx.reply(ctx.t("common:errors.edited_ignored"), { parse_mode: "HTML" }));

unhandledFeature.on("message::bot_command", (ctx) => ctx.reply(ctx.t("common:errors.unknown_command"), { parse_mode: "HTML" }));

unhandledFeature.on("message:text", (ctx) => ctx.reply(ctx.t("common:errors.free_text"), { parse_mode: "HTML" }));

unhandledFeature.on("message", (ctx) => ctx.reply(ctx.t("common:errors.unsupported_message"), { parse_mode: "HTML" }));
