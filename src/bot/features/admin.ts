import { Composer, InlineKeyboard } from "grammy";
import { z } from "zod";
import { escapeHtml } from "../../i18n.js";
import type { Scope } from "../../domain/users/user-service.js";
import { cb } from "../callback-data/callback-data.js";
import { setChatMenu } from "../commands.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { formatDateTime } from "../format/dates.js";
import { onButton } from "../helpers/buttons.js";
import { provinceKeyboard } from "../keyboards/place.js";
import { unitNameSchema } from "../../domain/citizens/inputs.js";
import { describeScope } from "./scope.js";

/**
 * /officers lists officers with a revoke button each.
 *
 * /invite: an admin creates a single-use, expiring link that makes its redeemer an officer scoped
 * to a province (optionally a commune and a unit).
 *   /invite                       → pick a province on buttons
 *   /invite <province> [commune code] [| unit name]
 */
export const adminFeature = new Composer<BotContext>();
const dm = adminFeature.chatType("private");

const inviteArgs = z.object({
  province: z.string().min(2),
  communeCode: z.string().regex(/^\d{5}$/).optional(),
  unitName: unitNameSchema.optional(),
});

dm.command("invite", async (ctx) => {
  if (!(await requireRole(ctx, "admin"))) return;
  const raw = ctx.match.trim();
  if (raw === "") {
    const provinces = await ctx.deps.services.geo.listProvinces();
    await ctx.reply(ctx.t("admin:invite.choose_province"), { reply_markup: provinceKeyboard(provinces, ctx.locale, cb.adminInvite) });
    return;
  }
  const [place = "", unit] = raw.split("|").map((s) => s.trim());
  const tokens = place.split(/\s+/);
  const last = tokens.at(-1) ?? "";
  const communeCode = /^\d{5}$/.test(last) ? last : undefined;
  const parsed = inviteArgs.safeParse({
    province: (communeCode ? tokens.slice(0, -1) : tokens).join(" "),
    communeCode,
    unitName: unit || undefined,
  });
  if (!parsed.success) {
    await ctx.reply(ctx.t("admin:invite.usage"));
    return;
  }
  const geo = ctx.deps.services.geo;
  const found = /^\d{2}$/.test(parsed.data.province)
    ? await geo.getProvince(parsed.data.province)
    : (await geo.findProvinces(parsed.data.province)).exact;
  if (!found) {
    await ctx.reply(ctx.t("admin:invite.unknown_province", { query: parsed.data.province }));
    return;
  }
  if (parsed.data.communeCode) {
    const commune = await geo.getCommune(parsed.data.communeCode);
    if (!commune || commune.provinceCode !== found.code) {
      await ctx.reply(ctx.t("admin:invite.unknown_commune", { code: parsed.data.communeCode, province: found.name }));
      return;
    }
  }
  await sendInvite(ctx, { provinceCode: found.code, communeCode: parsed.data.communeCode, unitName: parsed.data.unitName });
});

adminFeature.use(
  onButton(cb.adminInvite, async (ctx, code) => {
    if (!(await requireRole(ctx, "admin"))) return;
    const province = await ctx.deps.services.geo.getProvince(code);
    if (!province) {
      await ctx.answerCallbackQuery({ text: ctx.t("common:errors.invalid_button") });
      return;
    }
    await ctx.answerCallbackQuery();
    await sendInvite(ctx, { provinceCode: province.code });
  }),
);

async function sendInvite(ctx: BotContext, scope: Scope & { provinceCode: string }): Promise<void> {
  const { token, expiresAt } = await ctx.deps.services.users.createInvite(String(ctx.from!.id), scope, ctx.deps.inviteTtlHours, ctx.deps.now());
  const link = `https://t.me/${ctx.me.username}?start=inv_${token}`;
  await ctx.reply(
    ctx.t("admin:invite.created", {
      scope: await describeScope(ctx, scope),
      link: escapeHtml(link),
      expires: escapeHtml(formatDateTime(expiresAt, ctx.locale)),
      interpolation: { escapeValue: false },
    }),
    { link_preview_options: { is_disabled: true } },
  );
}

const OFFICERS_SHOWN = 20;

/** /officers: who holds the officer role, with a button to take it back. */
dm.command("officers", async (ctx) => {
  if (!(await requireRole(ctx, "admin"))) return;
  const { officers, total } = await ctx.deps.services.users.listOfficers(OFFICERS_SHOWN);
  if (total === 0) {
    await ctx.reply(ctx.t("admin:officers.none"));
    return;
  }
  const lines: string[] = [];
  const kb = new InlineKeyboard();
  for (const o of officers) {
    const name = o.fullName ?? o.telegramName ?? ctx.t("admin:officers.unnamed");
    const who = `${escapeHtml(name)}${o.username ? ` @${escapeHtml(o.username)}` : ""}`;
    lines.push(`• ${who} — ${await describeScope(ctx, o.scope)}`);
    kb.text(ctx.t("admin:officers.revoke", { name, interpolation: { escapeValue: false } }), cb.adminRevoke.pack(o.telegramId)).row();
  }
  const more = total > officers.length ? `\n${ctx.t("admin:officers.more", { count: total - officers.length })}` : "";
  await ctx.reply(`${ctx.t("admin:officers.title", { total })}\n${lines.join("\n")}${more}`, { reply_markup: kb });
});

adminFeature.use(
  onButton(cb.adminRevoke, async (ctx, id) => {
    if (!(await requireRole(ctx, "admin"))) return;
    const revoked = await ctx.deps.services.users.revokeOfficer(String(ctx.from.id), id, ctx.deps.now());
    await ctx.answerCallbackQuery({ text: ctx.t(revoked ? "admin:officers.revoked" : "admin:officers.not_officer", { name: revoked ? revoked.name : id, interpolation: { escapeValue: false } }) });
    if (!revoked) return;
    await afterRevocation(ctx, id);
  }),
);

async function afterRevocation(ctx: BotContext, id: string): Promise<void> {
  await setChatMenu(ctx.api, ctx.deps.i18n, Number(id), "resident").catch((err: unknown) => ctx.logger.info({ err }, "could not reset a revoked officer's menu"));
  // Tell the person; they may have blocked the bot, which must not undo the revocation.
  const locale = (await ctx.deps.services.users.savedLocale(id)) === "en" ? "en" : "vi";
  await ctx.api
    .sendMessage(Number(id), ctx.deps.i18n.t(locale)("admin:officers.you_were_revoked"))
    .catch((err: unknown) => ctx.logger.info({ err }, "could not tell a revoked officer"));
}
