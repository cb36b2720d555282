import { Composer, InlineKeyboard } from "grammy";
import { cb } from "../callback-data/callback-data.js";
import { setChatMenu } from "../commands.js";
import type { BotContext } from "../context.js";
import { REGISTRATION } from "../conversations/registration.js";
import { describeScope } from "./scope.js";

export const startFeature = new Composer<BotContext>();

const INVITE_PAYLOAD = /^inv_([A-Za-z0-9_-]{16,43})$/;

startFeature.command("start", async (ctx) => {
  const payload = ctx.match.trim();
  const invite = INVITE_PAYLOAD.exec(payload);
  if (invite) return redeemInvite(ctx, invite[1]!);
  if (payload !== "") ctx.logger.info({ payloadLength: payload.length }, "unknown /start payload");
  if (ctx.deps.services.users.isBootstrapAdmin(String(ctx.from!.id))) {
    await setChatMenu(ctx.api, ctx.deps.i18n, ctx.chat.id, "admin").catch((err: unknown) => ctx.logger.warn({ err }, "could not set the admin menu"));
  }
  await ctx.reply(ctx.t("common:start.greeting", { name: ctx.from?.first_name ?? "" }), { parse_mode: "HTML" });
  return startRegistration(ctx);
});

startFeature.callbackQuery(cb.register.pattern, async (ctx) => {
  await ctx.answerCallbackQuery();
  return startRegistration(ctx);
});

/** /register and the "Register" button: one registration per person, one flow at a time. */
startFeature.command("register", (ctx) => startRegistration(ctx));

async function startRegistration(ctx: BotContext): Promise<void> {
  if (ctx.conversation.active(REGISTRATION) > 0) {
    await ctx.reply(ctx.t("registration:in_progress"), { parse_mode: "HTML" });
    return;
  }
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"), { parse_mode: "HTML" });
    return;
  }
  if (await ctx.deps.services.citizens.isRegistered(String(ctx.from!.id))) {
    await ctx.reply(ctx.t("registration:already_registered"), { parse_mode: "HTML" });
    return;
  }
  await ctx.conversation.enter(REGISTRATION);
}

async function redeemInvite(ctx: BotContext, token: string): Promise<void> {
  const result = await ctx.deps.services.users.redeemInvite(String(ctx.from!.id), token, ctx.deps.now());
  if (result.status !== "granted") {
    await ctx.reply(ctx.t(`admin:invite.redeem_${result.status}`), { parse_mode: "HTML" });
    return;
  }
  await setChatMenu(ctx.api, ctx.deps.i18n, ctx.chat!.id, "officer").catch((err: unknown) => ctx.logger.warn({ err }, "could not set the officer menu"));
  const scope = await describeScope(ctx, result.scope);
  await ctx.reply(ctx.t("admin:invite.redeem_granted", { scope }), {
    parse_mode: "HTML",
    reply_markup: (await ctx.deps.services.citizens.isRegistered(String(ctx.from!.id)))
      ? undefined
      : new InlineKeyboard().text(ctx.t("common:start.register_button"), cb.register.pack("start")),
  });
}
