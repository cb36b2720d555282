import { Composer, InlineKeyboard, InputFile } from "grammy";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { editOrReply } from "../helpers/edit-or-reply.js";

/** Decree 13/2023/NĐ-CP rights: read the notice, get a copy of one's data, erase it. */
export const privacyFeature = new Composer<BotContext>();

privacyFeature.command("privacy", (ctx) => ctx.reply(ctx.t("privacy:notice_full"), { parse_mode: "HTML" }));

privacyFeature.command("mydata", async (ctx) => {
  const id = String(ctx.from!.id);
  const data = await ctx.deps.services.privacy.exportData(id);
  const session = await ctx.deps.sessions.read(id);
  // An unfinished flow holds the answers typed so far: they are personal data too.
  const unfinished = await ctx.deps.conversations.read(id);
  const json = JSON.stringify(
    { exported_at: ctx.deps.now().toISOString(), ...data, bot_session: session ?? null, unfinished_flow_state: unfinished ?? null },
    null,
    2,
  );
  await ctx.replyWithDocument(new InputFile(Buffer.from(json, "utf8"), `khuyenhoc-mydata-${id}.json`), {
    caption: ctx.t("privacy:mydata.caption"),
    parse_mode: "HTML",
  });
});

privacyFeature.command("deleteme", async (ctx) => {
  const kb = new InlineKeyboard()
    .text(ctx.t("privacy:delete.confirm"), cb.deleteMe.pack("yes"))
    .text(ctx.t("privacy:delete.keep"), cb.deleteMe.pack("no"));
  await ctx.reply(ctx.t("privacy:delete.ask"), { parse_mode: "HTML", reply_markup: kb });
});

privacyFeature.callbackQuery(cb.deleteMe.pattern, async (ctx) => {
  const answer = cb.deleteMe.unpack(ctx.callbackQuery.data);
  await ctx.answerCallbackQuery(answer ? undefined : { text: ctx.t("common:errors.invalid_button") });
  if (answer !== "yes") {
    if (answer === "no") await editOrReply(ctx, ctx.t("privacy:delete.kept"));
    return;
  }
  const id = String(ctx.from.id);
  // Flows in progress hold answers too: end them before erasing.
  await ctx.conversation.exitAll();
  const existed = await ctx.deps.services.privacy.erase(id, ctx.deps.now());
  await ctx.deps.conversations.delete(id);
  await ctx.deps.sessions.delete(id);
  ctx.deps.localeMemo.delete(ctx.from.id);
  // The session plugin would write the session back after this handler: leave it empty.
  ctx.session = undefined as never;
  await editOrReply(ctx, ctx.t(existed ? "privacy:delete.done" : "privacy:delete.nothing"));
});
