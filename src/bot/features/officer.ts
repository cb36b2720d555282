import { Composer, InlineKeyboard } from "grammy";
import { AFFILIATIONS } from "../../domain/citizens/inputs.js";
import { communeLabel } from "../../domain/geo/labels.js";
import type { Access } from "../../domain/users/user-service.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { onButton } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { describeScope } from "./scope.js";

/** /unit: an officer follows learning-citizen registrations in their scope. */
export const officerFeature = new Composer<BotContext>();

/** Counts of 1–4 can point at a person in a small commune: shown as "< 5". */
const SMALL = 5;
const count = (ctx: BotContext, n: number) => (n > 0 && n < SMALL ? ctx.t("officer:stats.few", { n: SMALL }) : String(n));

async function statsText(ctx: BotContext, access: Access): Promise<string> {
  const now = ctx.deps.now();
  const stats = await ctx.deps.services.citizens.stats(access.role === "admin" && !access.scope.provinceCode ? {} : access.scope, now.getUTCFullYear());
  // Rows of zeros say nothing: only affiliations with registrations are listed.
  const lines = AFFILIATIONS.filter((a) => (stats.byAffiliation[a] ?? 0) > 0).map((a) =>
    ctx.t("officer:stats.line", { label: ctx.t(`registration:affiliation.${a}`), count: count(ctx, stats.byAffiliation[a]!) }),
  );
  if (stats.topCommunes.length > 0) {
    lines.push("", ctx.t("officer:stats.top_communes"));
    for (const c of stats.topCommunes) {
      const commune = await ctx.deps.services.geo.getCommune(c.communeCode);
      lines.push(ctx.t("officer:stats.line", { label: commune ? communeLabel(commune, ctx.locale) : c.communeCode, count: count(ctx, c.count) }));
    }
  }
  return ctx.t(stats.total === 0 ? "officer:stats.empty" : "officer:stats.text", {
    scope: await describeScope(ctx, access.scope),
    total: count(ctx, stats.total),
    thisYear: count(ctx, stats.thisYear),
    year: now.getUTCFullYear(),
    lines: lines.join("\n"),
    interpolation: { escapeValue: false },
  });
}

const refresh = (ctx: BotContext) => new InlineKeyboard().text(ctx.t("officer:stats.refresh"), cb.officerStats.pack("stats"));

officerFeature.chatType("private").command("unit", async (ctx) => {
  const access = await requireRole(ctx, "officer");
  if (!access) return;
  await ctx.reply(await statsText(ctx, access), { reply_markup: refresh(ctx) });
});

officerFeature.use(
  onButton(cb.officerStats, async (ctx) => {
    const access = await requireRole(ctx, "officer");
    if (!access) return;
    await ctx.answerCallbackQuery();
    await editOrReply(ctx, await statsText(ctx, access), refresh(ctx));
  }),
);
