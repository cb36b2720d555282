import { Composer } from "grammy";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { EDIT_PROFILE } from "../flows/edit-profile.js";
import { formatCard } from "../format/card.js";
import { onButton } from "../helpers/buttons.js";
import { fieldKeyboard } from "../keyboards/registration.js";
import { hoursCardLine } from "./sessions.js";
import { familyCardLine } from "./families.js";
import { registerButton } from "./start.js";

/** /me shows the learning card; /edit changes one field of it. */
export const profileFeature = new Composer<BotContext>();
const dm = profileFeature.chatType("private");

dm.command("me", async (ctx) => {
  const card = await ctx.deps.services.citizens.getCard(String(ctx.from.id));
  if (!card) {
    await ctx.reply(ctx.t("registration:not_registered"), { reply_markup: registerButton(ctx) });
    return;
  }
  // Learning activity recorded by other features: quiz rounds and answers.
  const quiz = await ctx.deps.services.quizRounds.stats(ctx.from.id);
  const answered = quiz.topics.reduce((n, t) => n + t.total, 0);
  const right = quiz.topics.reduce((n, t) => n + t.right, 0);
  const activity = answered > 0 ? `\n${ctx.t("quiz:card_line", { rounds: quiz.rounds, pct: Math.round((100 * right) / answered) })}` : "";
  const hours = await hoursCardLine(ctx);
  const family = await familyCardLine(ctx);
  await ctx.reply(formatCard(ctx.t, card, ctx.locale) + activity + (hours ? `\n${hours}` : "") + (family ? `\n${family}` : ""));
});

dm.command("edit", async (ctx) => {
  if (!(await ctx.deps.services.citizens.isRegistered(String(ctx.from.id)))) {
    await ctx.reply(ctx.t("registration:not_registered"), { reply_markup: registerButton(ctx) });
    return;
  }
  await ctx.reply(ctx.t("registration:edit.which_field"), { reply_markup: fieldKeyboard(ctx.t, cb.editField) });
});

profileFeature.use(
  onButton(cb.editField, async (ctx, field) => {
    await ctx.answerCallbackQuery();
    if (Object.keys(ctx.conversation.active()).length > 0) {
      await ctx.reply(ctx.t("common:errors.finish_flow_first"));
      return;
    }
    if (!(await ctx.deps.services.citizens.isRegistered(String(ctx.from.id)))) {
      await ctx.reply(ctx.t("registration:not_registered"), { reply_markup: registerButton(ctx) });
      return;
    }
    // The field picker has done its job: show the choice instead of the buttons.
    await ctx.editMessageText(ctx.t("common:flow.echo", { label: ctx.t("registration:edit.editing"), value: ctx.t(`registration:fields.${field}`) })).catch(() => undefined);
    await ctx.conversation.enter(EDIT_PROFILE, field);
  }),
);
