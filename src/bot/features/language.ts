import { Composer, InlineKeyboard } from "grammy";
import { LOCALES } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { onButton } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";

export const languageFeature = new Composer<BotContext>();

languageFeature.chatType("private").command("language", async (ctx) => {
  const kb = new InlineKeyboard();
  for (const l of LOCALES) kb.text(ctx.t(`common:language.name_${l}`), cb.language.pack(l));
  await ctx.reply(ctx.t("common:language.choose"), { reply_markup: kb });
});

languageFeature.use(
  onButton(cb.language, async (ctx, locale) => {
    await ctx.answerCallbackQuery();
    ctx.session.locale = locale;
    ctx.locale = locale;
    ctx.t = ctx.deps.i18n.t(locale);
    ctx.deps.localeMemo.set(ctx.from.id, locale);
    await ctx.deps.services.users.saveLocale(String(ctx.from.id), locale);
    await editOrReply(ctx, ctx.t("common:language.changed"));
  }),
);
