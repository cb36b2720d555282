import { Composer, InlineKeyboard } from "grammy";
import { cb } from "../callback-data/callback-data.js";
import { GREETING_LINES, setChatMenu } from "../commands.js";
import type { BotContext } from "../context.js";
import { GUARDIAN_CONSENT, GUARDIAN_PAYLOAD } from "../flows/guardian-consent.js";
import { REGISTRATION } from "../flows/registration.js";
import { onButton } from "../helpers/buttons.js";
import { describeScope } from "./scope.js";
import { CHECKIN_PAYLOAD, SESSION_PAYLOAD, sendSessionCard, startCheckIn } from "./sessions.js";
import { SCHOLARSHIP_PAYLOAD, openRoundCard } from "./scholarships.js";
import { startFamilyJoin } from "./families.js";
import { FAMILY_INVITE_PAYLOAD, UNIT_JOIN_PAYLOAD } from "../../domain/units/model.js";
import { openUnitJoin } from "./units.js";

export const startFeature = new Composer<BotContext>();
const dm = startFeature.chatType("private");

const INVITE_PAYLOAD = /^inv_([A-Za-z0-9_-]{16,43})$/;

export function registerButton(ctx: BotContext): InlineKeyboard {
  return new InlineKeyboard().text(ctx.t("common:start.register_button"), cb.register.pack("start"));
}

dm.command("start", async (ctx) => {
  const payload = ctx.match.trim();
  const invite = INVITE_PAYLOAD.exec(payload);
  if (invite) return redeemInvite(ctx, invite[1]!);
  const guardian = GUARDIAN_PAYLOAD.exec(payload);
  if (guardian) {
    if (Object.keys(ctx.conversation.active()).length > 0) {
      await ctx.reply(ctx.t("common:errors.finish_flow_first"));
      return;
    }
    return ctx.conversation.enter(GUARDIAN_CONSENT, guardian[1]!);
  }
  const session = SESSION_PAYLOAD.exec(payload);
  if (session) return sendSessionCard(ctx, Number(session[1]));
  const round = SCHOLARSHIP_PAYLOAD.exec(payload);
  if (round) return openRoundCard(ctx, Number(round[1]));
  const checkin = CHECKIN_PAYLOAD.exec(payload);
  if (checkin) return startCheckIn(ctx, checkin[1]!);
  const family = FAMILY_INVITE_PAYLOAD.exec(payload);
  if (family) return startFamilyJoin(ctx, family[1]!);
  const unitJoin = UNIT_JOIN_PAYLOAD.exec(payload);
  if (unitJoin) return openUnitJoin(ctx, unitJoin[1]!);
  if (payload !== "") ctx.logger.info({ payloadLength: payload.length }, "unknown /start payload");
  const id = String(ctx.from.id);
  if (ctx.deps.services.users.isBootstrapAdmin(id)) {
    await setChatMenu(ctx.api, ctx.deps.i18n, ctx.chat.id, "admin").catch((err: unknown) => ctx.logger.warn({ err }, "could not set the admin menu"));
  }
  if (ctx.conversation.active(REGISTRATION) > 0) {
    await ctx.reply(ctx.t("registration:in_progress"));
    return;
  }
  const registered = await ctx.deps.services.citizens.isRegistered(id);
  const lines = [ctx.t("common:start.greeting", { name: ctx.from.first_name }), ...GREETING_LINES.map((k) => `• ${ctx.t(k)}`)];
  if (registered) lines.push("", ctx.t("registration:already_registered"));
  await ctx.reply(lines.join("\n"), { reply_markup: registered ? undefined : registerButton(ctx) });
});

startFeature.use(onButton(cb.register, (ctx) => startRegistration(ctx)));

/** /register and the "Register" button: one registration per person, one flow at a time. */
dm.command("register", (ctx) => startRegistration(ctx));

async function startRegistration(ctx: BotContext): Promise<void> {
  if (ctx.callbackQuery) {
    await ctx.answerCallbackQuery();
    // The greeting's button has done its job: take it away.
    await ctx.editMessageReplyMarkup().catch(() => undefined);
  }
  if (ctx.conversation.active(REGISTRATION) > 0) {
    await ctx.reply(ctx.t("registration:in_progress"));
    return;
  }
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  if (await ctx.deps.services.citizens.isRegistered(String(ctx.from!.id))) {
    await ctx.reply(ctx.t("registration:already_registered"));
    return;
  }
  await ctx.conversation.enter(REGISTRATION);
}

async function redeemInvite(ctx: BotContext, token: string): Promise<void> {
  const from = ctx.from!;
  const result = await ctx.deps.services.users.redeemInvite(String(from.id), token, ctx.deps.now(), {
    name: [from.first_name, from.last_name].filter(Boolean).join(" "),
    username: from.username,
  });
  if (result.status !== "granted") {
    await ctx.reply(ctx.t(`admin:invite.redeem_${result.status}`));
    return;
  }
  await setChatMenu(ctx.api, ctx.deps.i18n, ctx.chat!.id, "officer").catch((err: unknown) => ctx.logger.warn({ err }, "could not set the officer menu"));
  const registered = await ctx.deps.services.citizens.isRegistered(String(from.id));
  await ctx.reply(ctx.t("admin:invite.redeem_granted", { scope: await describeScope(ctx, result.scope), interpolation: { escapeValue: false } }), {
    reply_markup: registered ? undefined : registerButton(ctx),
  });
}
