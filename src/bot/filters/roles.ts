import type { Role } from "../../domain/users/user-service.js";
import { roleAtLeast, type Access } from "../../domain/users/user-service.js";
import type { BotContext } from "../context.js";

/**
 * Server-side role check for every officer/admin action, commands and buttons alike: buttons are
 * not permissions, and callback data can be forged. Reads the current role from the database.
 * Answers the refusal itself and returns undefined when the caller may not act.
 */
export async function requireRole(ctx: BotContext, needed: Role): Promise<Access | undefined> {
  const from = ctx.from;
  if (!from) return undefined;
  const access = await ctx.deps.services.users.access(String(from.id));
  if (roleAtLeast(access.role, needed)) return access;
  ctx.logger.warn({ user: from.id, needed, role: access.role }, "refused an action above the caller's role");
  const text = ctx.t("common:errors.forbidden");
  if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text, show_alert: true });
  else await ctx.reply(text);
  return undefined;
}
