import { Composer, InlineKeyboard, InputFile } from "grammy";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { onButton } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";

/** Decree 13/2023/NĐ-CP rights: read the notice, get a copy of one's data, erase it. */
export const privacyFeature = new Composer<BotContext>();
const dm = privacyFeature.chatType("private");

dm.command("privacy", (ctx) => ctx.reply(ctx.t("privacy:notice_full")));
privacyFeature.use(onButton(cb.privacyNotice, (ctx) => ctx.reply(ctx.t("privacy:notice_full"))));

dm.command("mydata", async (ctx) => {
  const id = String(ctx.from.id);
  const parts = await ctx.deps.services.privacy.exportAll(id);
  const json = JSON.stringify({ exported_at: ctx.deps.now().toISOString(), telegram_user_id: id, ...parts }, null, 2);
  await ctx.replyWithDocument(new InputFile(Buffer.from(json, "utf8"), `khuyenhoc-mydata-${id}.json`), { caption: ctx.t("privacy:mydata.caption") });
});

const list = (ctx: BotContext, labels: string[]) => labels.map((l) => `• ${ctx.t(l)}`).join("\n");

dm.command("deleteme", async (ctx) => {
  const held = await ctx.deps.services.privacy.held(String(ctx.from.id));
  if (held.length === 0) {
    await ctx.reply(ctx.t("privacy:delete.nothing"));
    return;
  }
  const kb = new InlineKeyboard().text(ctx.t("privacy:delete.confirm"), cb.deleteMe.pack("yes")).text(ctx.t("privacy:delete.keep"), cb.deleteMe.pack("no"));
  await ctx.reply(ctx.t("privacy:delete.ask", { list: list(ctx, held), interpolation: { escapeValue: false } }), { reply_markup: kb });
});

privacyFeature.use(
  onButton(cb.deleteMe, async (ctx, answer) => {
    await ctx.answerCallbackQuery();
    if (answer === "no") {
      await editOrReply(ctx, ctx.t("privacy:delete.kept"));
      return;
    }
    const id = String(ctx.from.id);
    // A flow in progress holds answers too: end it, then erase everything, its state included.
    await ctx.conversation.exitAll();
    const { erased } = await ctx.deps.services.privacy.erase(id, ctx.deps.now());
    // The session plugin would write the session back after this handler: leave it empty.
    ctx.session = undefined as never;
    const text = erased.length === 0
      ? ctx.t("privacy:delete.nothing")
      : ctx.t("privacy:delete.done", { list: list(ctx, erased), interpolation: { escapeValue: false } });
    await editOrReply(ctx, text);
  }),
);
