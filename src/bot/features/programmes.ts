import { Composer, InlineKeyboard } from "grammy";
import { formatVnDate } from "../../domain/units/learning-units.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { PROGRAMME_EDIT_FIELDS, PROGRAMME_EDIT_FLOW, type ProgrammeEditField } from "../flows/programme-edit.js";
import { PROGRAMME_NEW_FLOW } from "../flows/programme-new.js";
import {
  NS, currentActor, failureText, programmeCardKeyboard, programmeCardText, provinceName, raw,
} from "../flows/programme-steps.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";

/**
 * Coordination programmes (issue 11): /programme_new, /programmes (a card with its targets, ✏️
 * edit, 🔔 follow, 🗑 delete, 📊 scoreboard), and the "I am an association member" toggle of
 * /myunits. Every command and button reads role and scope again on the server.
 */
export const programmesFeature = new Composer<BotContext>();
const dm = programmesFeature.chatType("private");

const busy = (ctx: BotContext) => Object.keys(ctx.conversation.active()).length > 0;

dm.command("programme_new", async (ctx) => {
  const actor = await currentActor(ctx);
  if (actor.role !== "admin" && !(actor.role === "officer" && actor.scope.provinceCode && !actor.scope.communeCode)) {
    ctx.logger.warn({ user: ctx.from.id, role: actor.role }, "refused /programme_new");
    const key = actor.role !== "officer" ? "common:errors.forbidden" : actor.scope.provinceCode ? `${NS}:errors.read_only` : `${NS}:errors.no_scope`;
    await ctx.reply(ctx.t(key));
    return;
  }
  if (busy(ctx)) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  await ctx.conversation.enter(PROGRAMME_NEW_FLOW);
});

async function listScreen(ctx: BotContext): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  const r = await ctx.deps.services.programmes.list(await currentActor(ctx));
  if (!r.ok) return { text: failureText(ctx.t, r) };
  if (r.items.length === 0) return { text: ctx.t(`${NS}:list.empty`) };
  const kb = new InlineKeyboard();
  const lines = [ctx.t(`${NS}:list.title`, { count: r.items.length })];
  for (const [i, p] of r.items.entries()) {
    lines.push(ctx.t(`${NS}:list.line`, { n: i + 1, name: p.name, start: p.startYear, end: p.endYear, province: await provinceName(ctx, p.provinceCode) })
      + (p.following ? ` ${ctx.t(`${NS}:list.following_mark`)}` : ""));
    kb.text(`📋 ${i + 1}`, cb.programme.pack(`v.${p.id}`));
    if (i % 4 === 3) kb.row();
  }
  return { text: lines.join("\n"), keyboard: kb };
}

dm.command("programmes", async (ctx) => {
  const screen = await listScreen(ctx);
  await ctx.reply(screen.text, { reply_markup: screen.keyboard });
});

async function showCard(ctx: ButtonContext, id: number, note?: string): Promise<void> {
  const r = await ctx.deps.services.programmes.get(await currentActor(ctx), id);
  if (!r.ok) {
    await ctx.answerCallbackQuery({ text: failureText(ctx.t, r).slice(0, 200), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery(note ? { text: note } : undefined);
  const text = programmeCardText(ctx.t, { ...r.programme, province: await provinceName(ctx, r.programme.provinceCode), followers: r.followers, following: r.following });
  await editOrReply(ctx, text, programmeCardKeyboard(ctx.t, id, { manage: r.manage, following: r.following }));
}

programmesFeature.use(onButton(cb.programme, async (ctx, value) => {
  if (value === "l") {
    await ctx.answerCallbackQuery();
    const screen = await listScreen(ctx);
    await editOrReply(ctx, screen.text, screen.keyboard);
    return;
  }
  const [action, rawId, arg] = value.split(".") as [string, string, string | undefined];
  const id = Number(rawId);
  const actor = await currentActor(ctx);
  if (action === "v") return showCard(ctx, id);
  if (action === "fo" || action === "uf") {
    const r = await ctx.deps.services.programmes.follow(actor, id, action === "fo");
    if (!r.ok) {
      await ctx.answerCallbackQuery({ text: failureText(ctx.t, r).slice(0, 200), show_alert: true });
      return;
    }
    return showCard(ctx, id, ctx.t(r.following ? `${NS}:card.followed` : `${NS}:card.unfollowed`));
  }
  // Everything below changes the programme: managers only, checked again by the service.
  const card = await ctx.deps.services.programmes.get(actor, id);
  if (!card.ok || !card.manage) {
    const text = card.ok ? ctx.t(`${NS}:errors.read_only`) : failureText(ctx.t, card);
    ctx.logger.warn({ programme: id, user: ctx.from.id, action }, "refused a programme change");
    await ctx.answerCallbackQuery({ text: text.slice(0, 200), show_alert: true });
    return;
  }
  if (action === "e") {
    await ctx.answerCallbackQuery();
    const kb = new InlineKeyboard();
    for (const f of PROGRAMME_EDIT_FIELDS) kb.text(ctx.t(`${NS}:edit.field_${f}`), cb.programme.pack(`f.${id}.${f}`)).row();
    kb.text(ctx.t(`${NS}:card.back`), cb.programme.pack(`v.${id}`));
    await editOrReply(ctx, ctx.t(`${NS}:edit.which`, { name: card.programme.name }), kb);
    return;
  }
  if (action === "f") {
    await ctx.answerCallbackQuery();
    if (busy(ctx)) {
      await ctx.reply(ctx.t("common:errors.finish_flow_first"));
      return;
    }
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.conversation.enter(PROGRAMME_EDIT_FLOW, id, arg as ProgrammeEditField);
    return;
  }
  if (action === "d") {
    await ctx.answerCallbackQuery();
    await editOrReply(ctx, ctx.t(`${NS}:delete.ask`, { name: card.programme.name }), new InlineKeyboard()
      .text(ctx.t(`${NS}:delete.yes`), cb.programme.pack(`do.${id}`)).text(ctx.t(`${NS}:delete.no`), cb.programme.pack(`v.${id}`)));
    return;
  }
  const r = await ctx.deps.services.programmes.remove(actor, id);
  await ctx.answerCallbackQuery();
  await editOrReply(ctx, r.ok ? ctx.t(`${NS}:delete.done`, { name: r.programme.name }) : failureText(ctx.t, r));
}));

// ── /myunits: "I am a member of the Study Promotion Association" ──────────────────────────────

/** The toggle's button for /myunits (the units feature shows it; this feature answers it). */
export async function associationMemberButton(ctx: BotContext): Promise<{ text: string; data: string }> {
  const since = await ctx.deps.services.associationMembership.since(String(ctx.from!.id));
  return { text: ctx.t(since ? `${NS}:member.button_on` : `${NS}:member.button_off`), data: cb.associationMember.pack("ask") };
}

programmesFeature.use(onButton(cb.associationMember, async (ctx, value) => {
  await ctx.answerCallbackQuery();
  const me = String(ctx.from.id);
  const membership = ctx.deps.services.associationMembership;
  if (value === "ask") {
    const since = await membership.since(me);
    const kb = new InlineKeyboard()
      .text(ctx.t(since ? `${NS}:member.clear` : `${NS}:member.set`), cb.associationMember.pack(since ? "off" : "on"))
      .text(ctx.t(`${NS}:member.keep`), cb.myUnits.pack("l"));
    await editOrReply(ctx, since ? ctx.t(`${NS}:member.ask_clear`, { date: formatVnDate(since) }) : ctx.t(`${NS}:member.ask_set`), kb);
    return;
  }
  const ok = await membership.set(me, value === "on");
  const back = new InlineKeyboard().text(ctx.t(`${NS}:member.to_units`), cb.myUnits.pack("l"));
  await editOrReply(ctx, ctx.t(!ok ? `${NS}:member.unknown` : value === "on" ? `${NS}:member.done_set` : `${NS}:member.done_clear`, raw), back);
}));
