import { Composer, InlineKeyboard } from "grammy";
import { AFFILIATIONS } from "../../domain/citizens/inputs.js";
import type { Access } from "../../domain/users/user-service.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { communeLabel } from "../format/card.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { describeScope } from "./scope.js";

/** /unit: an officer follows learning-citizen registrations in their scope. */
export const officerFeature = new Composer<BotContext>();

async function statsText(ctx: BotContext, access: Access): Promise<string> {
  const now = ctx.deps.now();
  const stats = await ctx.deps.services.citizens.stats(access.role === "admin" && !access.scope.provinceCode ? {} : access.scope, now.getUTCFullYear());
  const lines = AFFILIATIONS.map((a) => ctx.t("officer:stats.line", { label: ctx.t(`registration:affiliation.${a}`), count: stats.byAffiliation[a] ?? 0 }));
  if (stats.topCommunes.length > 0) {
    lines.push("", ctx.t("officer:stats.top_communes"));
    for (const c of stats.topCommunes) {
      const commune = await ctx.deps.services.geo.getCommune(c.communeCode);
      const label = commune ? communeLabel(ctx.t, commune.type, commune.name) : c.communeCode;
      lines.push(ctx.t("officer:stats.line", { label, count: c.count }));
    }
  }
  return ctx.t("officer:stats.text", {
    scope: await describeScope(ctx, access.scope),
    total: stats.total,
    thisYear: stats.thisYear,
    year: now.getUTCFullYear(),
    lines: lines.join("\n"),
    interpolation: { escapeValue: false },
  });
}

const refresh = (ctx: BotContext) => new InlineKeyboard().text(ctx.t("officer:stats.refresh"), cb.officerStats.pack("stats"));

officerFeature.command("unit", async (ctx) => {
  const access = await requireRole(ctx, "officer");
  if (!access) return;
  await ctx.reply(await statsText(ctx, access), { parse_mode: "HTML", reply_markup: refresh(ctx) });
});

officerFeature.callbackQuery(cb.officerStats.pattern, async (ctx) => {
  const access = await requireRole(ctx, "officer");
  if (!access) return;
  await ctx.answerCallbackQuery();
  await editOrReply(ctx, await statsText(ctx, access), refresh(ctx));
});
