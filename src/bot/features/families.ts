import { Composer, InlineKeyboard } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { Failure, MyGroup } from "../../domain/units/families.js";
import { UNIT_LIMITS } from "../../domain/units/model.js";
import type { TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext, ConvContext } from "../context.js";
import { FAMILY_NEW_FLOW } from "../flows/family-new.js";
import { REGISTRATION } from "../flows/registration.js";
import { criteriaLines, familyCardText, familyText, joinResultText } from "../format/family.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { registerButton } from "./start.js";

/**
 * Learning families (Gia đình học tập, issue 11): /family shows the person's family (members,
 * status, criteria) or how to create or join one; the owner invites by a link, declares whether
 * the children attend school, removes members; anyone leaves. The invite deep link f_<token> joins
 * (registering first when needed). Every button asks the service again, which reads membership
 * and ownership from the database: a stale or forged button changes nothing and says why.
 */
export const familiesFeature = new Composer<BotContext>();
const dm = familiesFeature.chatType("private");
const NS = "families";
const raw = { interpolation: { escapeValue: false } } as const;
const LABEL_MAX = 40;
const short = (s: string) => (s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s);

type Ctx = BotContext | ConvContext;

/** A family's invite link, as Telegram opens it. */
export function familyLink(ctx: Ctx, token: string): string {
  return `https://t.me/${ctx.me.username}?start=f_${token}`;
}

/** The family's screen and its buttons (the owner's, or a member's). */
export function familyScreen(ctx: Ctx, g: MyGroup): { text: string; markup: InlineKeyboardMarkup } {
  const me = String(ctx.from!.id);
  const families = ctx.deps.services.families;
  const kb = new InlineKeyboard();
  const id = g.groupId;
  if (g.role === "owner") {
    kb.text(ctx.t(`${NS}:buttons.invite`), cb.family.pack(`inv.${id}`)).row();
    kb.text(ctx.t(`${NS}:buttons.kids`), cb.family.pack(`kids.${id}`)).row();
    if (g.members.length > 1) kb.text(ctx.t(`${NS}:buttons.remove`), cb.family.pack(`rm.${id}`)).row();
    kb.text(ctx.t(`${NS}:buttons.rotate`), cb.family.pack(`rot.${id}`));
  }
  kb.text(ctx.t(`${NS}:buttons.leave`), cb.family.pack(`leave.${id}`));
  return { text: familyText(ctx.t, ctx.locale, families.criteria, g, me), markup: { inline_keyboard: kb.inline_keyboard } };
}

/** Without a family: what a family is, the criteria, and the create button. */
function noFamilyScreen(ctx: Ctx): { text: string; markup: InlineKeyboardMarkup } {
  const criteria = criteriaLines(ctx.t, ctx.locale, ctx.deps.services.families.criteria);
  return {
    text: ctx.t(`${NS}:none.text`, { criteria, ...raw }),
    markup: { inline_keyboard: new InlineKeyboard().text(ctx.t(`${NS}:none.create_button`), cb.family.pack("new")).inline_keyboard },
  };
}

dm.command("family", async (ctx) => {
  const id = String(ctx.from.id);
  const family = await ctx.deps.services.families.mine(id);
  if (family) {
    const screen = familyScreen(ctx, family);
    await ctx.reply(screen.text, { reply_markup: screen.markup });
    return;
  }
  if (!(await ctx.deps.services.citizens.isRegistered(id))) {
    await ctx.reply(ctx.t(`${NS}:not_registered`), { reply_markup: registerButton(ctx) });
    return;
  }
  const screen = noFamilyScreen(ctx);
  await ctx.reply(screen.text, { reply_markup: screen.markup });
});

/**
 * /start f_<token>: a registered person joins at once; someone not registered is told which family
 * the link is for, registers, and joins right after the card is saved (see the registration flow).
 */
export async function startFamilyJoin(ctx: BotContext, token: string): Promise<void> {
  const id = String(ctx.from!.id);
  const families = ctx.deps.services.families;
  if (await ctx.deps.services.citizens.isRegistered(id)) {
    const r = await families.join(id, token);
    await ctx.reply(joinResultText(ctx.t, r));
    if (r.ok || r.reason === "already_here") await showMine(ctx);
    return;
  }
  const peek = await families.peek(token);
  if (!peek.ok || peek.full) {
    await ctx.reply(joinResultText(ctx.t, peek.ok ? { ok: false, reason: "full", family: peek.name } : peek));
    return;
  }
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  await ctx.reply(ctx.t(`${NS}:join.register_first`, { name: peek.name }));
  await ctx.conversation.enter(REGISTRATION, { familyToken: token });
}

async function showMine(ctx: BotContext): Promise<void> {
  const family = await ctx.deps.services.families.mine(String(ctx.from!.id));
  if (!family) return;
  const screen = familyScreen(ctx, family);
  await ctx.reply(screen.text, { reply_markup: screen.markup });
}

/** The learning card's family line ("" when the person is in no family). */
export async function familyCardLine(ctx: BotContext): Promise<string> {
  const family = await ctx.deps.services.families.statusOf(String(ctx.from!.id));
  return family ? familyCardText(ctx.t, family) : "";
}

// ---- buttons ------------------------------------------------------------------------------------

function failureText(t: TFunction, f: Failure): string {
  switch (f.reason) {
    case "already_member":
      // Answers to buttons are plain text: nothing to escape.
      return t(`${NS}:errors.already_member`, { name: f.family ?? "", ...raw });
    case "not_registered":
    case "no_family":
    case "not_owner":
    case "not_a_member":
    case "self":
    case "stale":
      return t(`${NS}:errors.${f.reason}`);
    default:
      return t("common:errors.invalid_button");
  }
}

/** A refusal answered on the button itself (≤ 200 characters); nothing changes on screen. */
async function refuse(ctx: ButtonContext, f: Failure): Promise<void> {
  if (f.reason === "not_owner") ctx.logger.info({ user: ctx.from.id }, "refused a family owner's button from a member");
  await ctx.answerCallbackQuery({ text: failureText(ctx.t, f).slice(0, 200), show_alert: true });
}

/**
 * The person's family, checked against the button's: gone → no_family, another → stale, and for
 * the owner's buttons, not the owner → not_owner.
 */
async function current(ctx: ButtonContext, groupId: number, ownerOnly: boolean): Promise<MyGroup | undefined> {
  const g = await ctx.deps.services.families.mine(String(ctx.from.id));
  if (!g) return void (await refuse(ctx, { ok: false, reason: "no_family" }));
  if (g.groupId !== groupId) return void (await refuse(ctx, { ok: false, reason: "stale" }));
  if (ownerOnly && g.role !== "owner") return void (await refuse(ctx, { ok: false, reason: "not_owner" }));
  return g;
}

const back = (ctx: ButtonContext, id: number) => [{ text: ctx.t(`${NS}:buttons.back`), callback_data: cb.family.pack(`view.${id}`) }];

async function redraw(ctx: ButtonContext, g: MyGroup): Promise<void> {
  const screen = familyScreen(ctx, g);
  await editOrReply(ctx, screen.text, screen.markup);
}

/** The invite link as text (to copy) and as a share button (to pick the chat to send it to). */
async function sendInvite(ctx: ButtonContext, name: string, token: string): Promise<void> {
  const link = familyLink(ctx, token);
  const share = `https://t.me/share/url?url=${encodeURIComponent(link)}&text=${encodeURIComponent(ctx.t(`${NS}:invite.share_text`, { name, interpolation: { escapeValue: false } }))}`;
  await ctx.reply(ctx.t(`${NS}:invite.text`, { name, link, max: UNIT_LIMITS.familyMembersMax }), {
    reply_markup: new InlineKeyboard().url(ctx.t(`${NS}:buttons.share`), share),
    link_preview_options: { is_disabled: true },
  });
}

familiesFeature.use(
  onButton(cb.family, async (ctx, value) => {
    const me = String(ctx.from.id);
    const families = ctx.deps.services.families;
    if (value === "new") return startCreate(ctx);
    const [action, rawId, rawMember] = value.split(".") as [string, string, string | undefined];
    const id = Number(rawId);
    switch (action) {
      case "view": {
        const g = await current(ctx, id, false);
        if (!g) return;
        await ctx.answerCallbackQuery();
        return redraw(ctx, g);
      }
      case "inv": {
        const r = await families.invite(me, { groupId: id });
        if (!r.ok) return refuse(ctx, r);
        await ctx.answerCallbackQuery();
        return sendInvite(ctx, r.name, r.token);
      }
      case "rot": {
        const g = await current(ctx, id, true);
        if (!g) return;
        await ctx.answerCallbackQuery();
        return editOrReply(ctx, ctx.t(`${NS}:invite.rotate_ask`, { name: g.name }), {
          inline_keyboard: [[
            { text: ctx.t(`${NS}:invite.rotate_confirm`), callback_data: cb.family.pack(`rotok.${id}`) },
            { text: ctx.t(`${NS}:invite.rotate_keep`), callback_data: cb.family.pack(`view.${id}`) },
          ]],
        });
      }
      case "rotok": {
        const r = await families.invite(me, { groupId: id, rotate: true });
        if (!r.ok) return refuse(ctx, r);
        await ctx.answerCallbackQuery();
        const g = await families.mine(me);
        if (g) await redraw(ctx, g);
        return sendInvite(ctx, r.name, r.token);
      }
      case "kids": {
        const g = await current(ctx, id, true);
        if (!g) return;
        await ctx.answerCallbackQuery();
        return editOrReply(ctx, ctx.t(`${NS}:kids.ask`, { name: g.name }), {
          inline_keyboard: [
            [{ text: ctx.t(`${NS}:kids.yes`), callback_data: cb.family.pack(`kidy.${id}`) }],
            [{ text: ctx.t(`${NS}:kids.no`), callback_data: cb.family.pack(`kidn.${id}`) }],
            [{ text: ctx.t(`${NS}:kids.none`), callback_data: cb.family.pack(`kidz.${id}`) }],
            back(ctx, id),
          ],
        });
      }
      case "kidy":
      case "kidn":
      case "kidz": {
        // "No school-age children" meets the criterion as "all attend school" does.
        const r = await families.setChildrenInSchool(me, action !== "kidn", { groupId: id });
        if (!r.ok) return refuse(ctx, r);
        await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:kids.saved`) });
        const g = await families.mine(me);
        return g ? redraw(ctx, g) : undefined;
      }
      case "rm": {
        const g = await current(ctx, id, true);
        if (!g) return;
        const others = g.members.filter((m) => m.userId !== me);
        if (others.length === 0) return void (await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:remove.alone`) }));
        await ctx.answerCallbackQuery();
        return editOrReply(ctx, ctx.t(`${NS}:remove.pick`, { name: g.name }), {
          inline_keyboard: [
            ...others.map((m) => [{ text: short(m.name ?? ctx.t(`${NS}:view.no_card`)), callback_data: cb.family.pack(`rmask.${id}.${m.userId}`) }]),
            back(ctx, id),
          ],
        });
      }
      case "rmask": {
        const g = await current(ctx, id, true);
        if (!g) return;
        const target = g.members.find((m) => m.userId === rawMember);
        if (!target || target.userId === me) return refuse(ctx, { ok: false, reason: target ? "self" : "not_a_member" });
        await ctx.answerCallbackQuery();
        return editOrReply(ctx, ctx.t(`${NS}:remove.ask`, { name: g.name, member: target.name ?? ctx.t(`${NS}:view.no_card`) }), {
          inline_keyboard: [[
            { text: ctx.t(`${NS}:remove.confirm`), callback_data: cb.family.pack(`rmok.${id}.${target.userId}`) },
            { text: ctx.t(`${NS}:remove.keep`), callback_data: cb.family.pack(`view.${id}`) },
          ]],
        });
      }
      case "rmok": {
        const r = await families.remove(me, rawMember!, { groupId: id });
        if (!r.ok) return refuse(ctx, r);
        await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:remove.done`, { member: r.removed.name ?? ctx.t(`${NS}:view.no_card`), ...raw }).slice(0, 200) });
        const g = await families.mine(me);
        return g ? redraw(ctx, g) : undefined;
      }
      case "leave": {
        const g = await current(ctx, id, false);
        if (!g) return;
        await ctx.answerCallbackQuery();
        const next = g.members.find((m) => m.userId !== me);
        const text = !next
          ? ctx.t(`${NS}:leave.ask_last`, { name: g.name })
          : g.role === "owner"
            ? ctx.t(`${NS}:leave.ask_owner`, { name: g.name, next: next.name ?? ctx.t(`${NS}:view.no_card`) })
            : ctx.t(`${NS}:leave.ask`, { name: g.name });
        return editOrReply(ctx, text, {
          inline_keyboard: [[
            { text: ctx.t(`${NS}:leave.confirm`), callback_data: cb.family.pack(`leaveok.${id}`) },
            { text: ctx.t(`${NS}:leave.keep`), callback_data: cb.family.pack(`view.${id}`) },
          ]],
        });
      }
      case "leaveok": {
        const r = await families.leave(me, { groupId: id });
        if (!r.ok) return refuse(ctx, r);
        await ctx.answerCallbackQuery();
        const text = r.deleted
          ? ctx.t(`${NS}:leave.done_deleted`, { name: r.name })
          : r.newOwner
            ? ctx.t(`${NS}:leave.done_owner`, { name: r.name, next: r.newOwner.name ?? ctx.t(`${NS}:view.no_card`) })
            : ctx.t(`${NS}:leave.done`, { name: r.name });
        return editOrReply(ctx, text);
      }
    }
  }),
);

/** "Create a family": registered people without a family only; the name is asked in a conversation. */
async function startCreate(ctx: ButtonContext): Promise<void> {
  const id = String(ctx.from.id);
  if (!(await ctx.deps.services.citizens.isRegistered(id))) return refuse(ctx, { ok: false, reason: "not_registered" });
  const mine = await ctx.deps.services.families.mine(id);
  if (mine) return refuse(ctx, { ok: false, reason: "already_member", family: mine.name });
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.answerCallbackQuery({ text: ctx.t("common:errors.finish_flow_first").slice(0, 200), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  // The create button has done its job.
  await ctx.editMessageReplyMarkup().catch(() => undefined);
  await ctx.conversation.enter(FAMILY_NEW_FLOW);
}
