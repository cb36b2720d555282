import { Composer } from "grammy";
import { roleAtLeast } from "../../domain/users/user-service.js";
import type { BotContext } from "../context.js";

export const helpFeature = new Composer<BotContext>();

/** /help lists what the caller can do; officer and admin lines only for those roles. */
helpFeature.command("help", async (ctx) => {
  const { role } = await ctx.deps.services.users.access(String(ctx.from!.id));
  const parts = [ctx.t("common:help.resident")];
  if (roleAtLeast(role, "officer")) parts.push(ctx.t("common:help.officer"));
  if (roleAtLeast(role, "admin")) parts.push(ctx.t("common:help.admin"));
  await ctx.reply(parts.join("\n\n"), { parse_mode: "HTML" });
});
