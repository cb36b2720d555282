import { Composer, InlineKeyboard } from "grammy";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { EDIT_PROFILE } from "../conversations/edit-profile.js";
import { formatCard } from "../format/card.js";
import { fieldKeyboard } from "../keyboards/registration.js";

/** /me shows the learning card; /edit changes one field of it. */
export const profileFeature = new Composer<BotContext>();

function registerButton(ctx: BotContext): InlineKeyboard {
  return new InlineKeyboard().text(ctx.t("common:start.register_button"), cb.register.pack("start"));
}

profileFeature.command("me", async (ctx) => {
  const card = await ctx.deps.services.citizens.getCard(String(ctx.from!.id));
  if (!card) {
    await ctx.reply(ctx.t("registration:not_registered"), { parse_mode: "HTML", reply_markup: registerButton(ctx) });
    return;
  }
  await ctx.reply(formatCard(ctx.t, card, ctx.locale), { parse_mode: "HTML" });
});

profileFeature.command("edit", async (ctx) => {
  if (!(await ctx.deps.services.citizens.isRegistered(String(ctx.from!.id)))) {
    await ctx.reply(ctx.t("registration:not_registered"), { parse_mode: "HTML", reply_markup: registerButton(ctx) });
    return;
  }
  await ctx.reply(ctx.t("registration:edit.which_field"), { parse_mode: "HTML", reply_markup: fieldKeyboard(ctx.t, cb.editField) });
});

profileFeature.callbackQuery(cb.editField.pattern, async (ctx) => {
  const field = cb.editField.unpack(ctx.callbackQuery.data);
  if (!field) {
    await ctx.answerCallbackQuery({ text: ctx.t("common:errors.invalid_button") });
    return;
  }
  await ctx.answerCallbackQuery();
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"), { parse_mode: "HTML" });
    return;
  }
  if (!(await ctx.deps.services.citizens.isRegistered(String(ctx.from.id)))) {
    await ctx.reply(ctx.t("registration:not_registered"), { parse_mode: "HTML", reply_markup: registerButton(ctx) });
    return;
  }
  await ctx.conversation.enter(EDIT_PROFILE, field);
});
