import { Composer, InlineKeyboard, InputFile } from "grammy";
import { formatCount, formatPercent, UNIT_LIMITS } from "../../domain/units/model.js";
import { unitJoinLink, unitQrPng, type UnitFailure, type UnitView } from "../../domain/units/units.js";
import type { Access } from "../../domain/users/user-service.js";
import { escapeHtml } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { UNIT_EDIT_FIELDS, UNIT_EDIT_FLOW, type UnitEditField } from "../flows/unit-edit.js";
import { UNIT_NEW_FLOW } from "../flows/unit-new.js";
import {
  NS, currentActor, failureText, kindLabel, placeLabel, raw, short, unitCardKeyboard, unitCardText,
} from "../flows/unit-steps.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { describeScope } from "./scope.js";
import { associationMemberButton } from "./programmes.js";
import { unitUnregisteredButton } from "./targets.js";

/**
 * Units (issue 11): officers' /unit_new and /units (a unit's card: edit, join link and QR poster,
 * new link, heads, members, the units under it, delete); everyone's /myunits and the join link
 * t.me/<bot>?start=u_<token>; the registration's "join unit X?". Every command and button reads
 * role, scope and headship again on the server: a forged unit id changes nothing.
 */
export const unitsFeature = new Composer<BotContext>();
const dm = unitsFeature.chatType("private");

const PAGE_SIZE = 8;
/** Unregistered names shown in one message; the rest are counted. */
const NAMES_SHOWN = 60;

/** The Telegram name a member is listed by until they register. */
const telegramName = (ctx: BotContext) => [ctx.from?.first_name, ctx.from?.last_name].filter(Boolean).join(" ");
const busy = (ctx: BotContext) => Object.keys(ctx.conversation.active()).length > 0;

/** Officers with a province (or commune) and admins; anyone else is refused, an officer without a scope told why. */
async function managerAccess(ctx: BotContext): Promise<Access | undefined> {
  const access = await requireRole(ctx, "officer");
  if (!access) return undefined;
  if (access.role === "officer" && !access.scope.provinceCode) {
    await ctx.reply(ctx.t(`${NS}:errors.no_scope`));
    return undefined;
  }
  return access;
}

dm.command("unit_new", async (ctx) => {
  if (!(await managerAccess(ctx))) return;
  if (busy(ctx)) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  await ctx.conversation.enter(UNIT_NEW_FLOW);
});

dm.command("units", async (ctx) => {
  const access = await managerAccess(ctx);
  if (!access) return;
  const screen = await listScreen(ctx, access, 0);
  await ctx.reply(screen.text, { reply_markup: screen.keyboard });
});

dm.command("myunits", async (ctx) => {
  const screen = await myUnitsScreen(ctx);
  await ctx.reply(screen.text, { reply_markup: screen.keyboard });
});

async function listScreen(ctx: BotContext, access: Access, page: number): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const keyboard = new InlineKeyboard();
  const r = await ctx.deps.services.units.list(access, { page, pageSize: PAGE_SIZE });
  if (!r.ok) return { text: failureText(ctx.t, r), keyboard };
  const scope = await describeScope(ctx, access.role === "admin" ? {} : { provinceCode: access.scope.provinceCode, communeCode: access.scope.communeCode });
  if (r.total === 0) return { text: ctx.t(`${NS}:list.empty`, { scope, ...raw }), keyboard };
  const first = r.page * PAGE_SIZE;
  const lines = r.items.map((u, i) => ctx.t(`${NS}:list.line`, {
    n: first + i + 1, indent: u.depth > 0 ? `${"   ".repeat(u.depth - 1)}↳ ` : "", name: u.name, kind: kindLabel(ctx.t, u.kind),
    registered: formatCount(u.registered, ctx.locale), headcount: formatCount(u.headcount, ctx.locale), members: formatCount(u.members, ctx.locale),
    percent: formatPercent(u.registered, u.headcount, ctx.locale),
  }));
  r.items.forEach((u, i) => {
    keyboard.text(`🏢 ${first + i + 1}`, cb.unit.pack(`v.${u.id}`));
    if (i % 4 === 3) keyboard.row();
  });
  if (r.pages > 1) {
    keyboard.row();
    if (r.page > 0) keyboard.text(ctx.t(`${NS}:list.previous`), cb.unit.pack(`l.${r.page - 1}`));
    if (r.page < r.pages - 1) keyboard.text(ctx.t(`${NS}:list.next`), cb.unit.pack(`l.${r.page + 1}`));
  }
  const title = ctx.t(`${NS}:list.title`, { scope, total: r.total, page: r.page + 1, pages: r.pages, ...raw });
  return { text: [title, "", ...lines, "", ctx.t(`${NS}:list.hint`)].join("\n"), keyboard };
}

/** A refused press: the reasons in an alert (the service logged a scope refusal). */
async function refuse(ctx: ButtonContext, r: UnitFailure): Promise<void> {
  await ctx.answerCallbackQuery({ text: failureText(ctx.t, r).slice(0, 200), show_alert: true });
}

/** The unit behind a button for this caller (an officer of its place or one of its heads), or refused. */
async function viewFor(ctx: ButtonContext, id: number, need: "manage" | "any" = "any"): Promise<UnitView | undefined> {
  const r = await ctx.deps.services.units.get(await currentActor(ctx), id);
  if (!r.ok) {
    await refuse(ctx, r);
    return undefined;
  }
  if (need === "manage" && !r.manage) {
    ctx.logger.warn({ unit: id, user: ctx.from.id }, "refused an officer's unit action to a head");
    await ctx.answerCallbackQuery({ text: ctx.t("common:errors.forbidden"), show_alert: true });
    return undefined;
  }
  return r;
}

async function cardText(ctx: BotContext, view: UnitView): Promise<string> {
  const u = view.unit;
  return unitCardText(ctx.t, ctx.locale, {
    id: u.id, name: u.name, kind: u.kind, body: u.body, headcount: u.headcount, place: await placeLabel(ctx, u.communeCode, u.provinceCode),
    parent: view.parent?.name ?? null, counts: view.counts, heads: view.heads.map((h) => h.name), learningStatus: u.learningStatus,
  });
}

async function showCard(ctx: ButtonContext, view: UnitView): Promise<void> {
  await editOrReply(ctx, await cardText(ctx, view), unitCardKeyboard(ctx.t, view.unit.id, { manage: view.manage, head: view.head, children: view.children }));
}

unitsFeature.use(onButton(cb.unit, async (ctx, value) => {
  const [action, first, arg] = value.split(".") as [string, string, string | undefined];
  if (action === "l") {
    const access = await requireRole(ctx, "officer");
    if (!access) return;
    await ctx.answerCallbackQuery();
    const screen = await listScreen(ctx, access, Number(first));
    await editOrReply(ctx, screen.text, screen.keyboard);
    return;
  }
  const id = Number(first);
  switch (action) {
    case "v": {
      const view = await viewFor(ctx, id);
      if (!view) return;
      await ctx.answerCallbackQuery();
      return showCard(ctx, view);
    }
    case "e": {
      const view = await viewFor(ctx, id, "manage");
      if (!view) return;
      await ctx.answerCallbackQuery();
      const kb = new InlineKeyboard();
      UNIT_EDIT_FIELDS.forEach((f, i) => {
        kb.text(ctx.t(`${NS}:edit.fields.${f}`), cb.unit.pack(`f.${id}.${f}`));
        if (i % 2 === 1) kb.row();
      });
      kb.row().text(ctx.t(`${NS}:card.back`), cb.unit.pack(`v.${id}`));
      await editOrReply(ctx, ctx.t(`${NS}:edit.which_field`, { name: view.unit.name }), kb);
      return;
    }
    case "f": {
      const view = await viewFor(ctx, id, "manage");
      if (!view) return;
      if (busy(ctx)) {
        await ctx.answerCallbackQuery({ text: ctx.t("common:errors.finish_flow_first"), show_alert: true });
        return;
      }
      await ctx.answerCallbackQuery();
      await ctx.editMessageReplyMarkup().catch(() => undefined);
      await ctx.conversation.enter(UNIT_EDIT_FLOW, id, arg as UnitEditField);
      return;
    }
    case "q": {
      const view = await viewFor(ctx, id);
      if (!view) return;
      await ctx.answerCallbackQuery();
      return sendPoster(ctx, view.unit, view.manage);
    }
    case "r": {
      const view = await viewFor(ctx, id, "manage");
      if (!view) return;
      await ctx.answerCallbackQuery();
      await ctx.reply(ctx.t(`${NS}:rotate.ask`, { name: view.unit.name }), { reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:rotate.yes`), cb.unit.pack(`ro.${id}`)) });
      return;
    }
    case "ro": {
      const r = await ctx.deps.services.units.rotateToken(await currentActor(ctx), id);
      if (!r.ok) return refuse(ctx, r);
      await ctx.answerCallbackQuery();
      await ctx.editMessageReplyMarkup().catch(() => undefined);
      await ctx.reply(ctx.t(`${NS}:rotate.rotated`));
      return sendPoster(ctx, r.unit, true);
    }
    case "d": {
      const view = await viewFor(ctx, id, "manage");
      if (!view) return;
      await ctx.answerCallbackQuery();
      await ctx.reply(ctx.t(`${NS}:delete.ask`, { name: view.unit.name, members: view.counts.members }), {
        reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:delete.yes`), cb.unit.pack(`do.${id}`)).text(ctx.t(`${NS}:delete.no`), cb.unit.pack(`v.${id}`)),
      });
      return;
    }
    case "do": {
      const r = await ctx.deps.services.units.remove(await currentActor(ctx), id);
      if (!r.ok) return refuse(ctx, r);
      await ctx.answerCallbackQuery();
      await editOrReply(ctx, ctx.t(`${NS}:delete.deleted`, { name: r.unit.name }));
      return;
    }
    case "h":
      return headsScreen(ctx, id);
    case "ha":
      return headPicker(ctx, id, Number(arg));
    case "hp": {
      const r = await ctx.deps.services.units.addHead(await currentActor(ctx), id, arg!);
      if (!r.ok) return refuse(ctx, r);
      await ctx.answerCallbackQuery({ text: ctx.t(r.changed ? `${NS}:heads.added` : `${NS}:heads.already`, { person: r.name, interpolation: { escapeValue: false } }) });
      return headsScreen(ctx, id, true);
    }
    case "hr": {
      const r = await ctx.deps.services.units.removeHead(await currentActor(ctx), id, arg!);
      if (!r.ok) return refuse(ctx, r);
      await ctx.answerCallbackQuery({ text: ctx.t(r.changed ? `${NS}:heads.removed` : `${NS}:heads.not_head`, { person: r.name, interpolation: { escapeValue: false } }) });
      return headsScreen(ctx, id, true);
    }
    case "m":
      return membersScreen(ctx, id);
    case "ml":
      return memberList(ctx, id, Number(arg));
    case "mr": {
      const view = await viewFor(ctx, id);
      if (!view) return;
      const r = await ctx.deps.services.units.memberOf(await currentActor(ctx), id, arg!);
      await ctx.answerCallbackQuery();
      if (!r.ok || !r.member) {
        await ctx.reply(ctx.t(`${NS}:members.already_gone`));
        return;
      }
      await ctx.reply(ctx.t(`${NS}:members.remove_ask`, { person: r.member.name, name: view.unit.name }), {
        reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:members.remove_yes`), cb.unit.pack(`mo.${id}.${arg}`)),
      });
      return;
    }
    case "mo": {
      const r = await ctx.deps.services.units.removeMember(await currentActor(ctx), id, arg!);
      if (!r.ok) return refuse(ctx, r);
      await ctx.answerCallbackQuery();
      await ctx.editMessageReplyMarkup().catch(() => undefined);
      await ctx.reply(r.removed ? ctx.t(`${NS}:members.removed`, { person: r.name ?? "" }) : ctx.t(`${NS}:members.already_gone`));
      return;
    }
    case "t":
      return treeScreen(ctx, id);
  }
}));

/** The join poster: the QR code as a PNG, the unit's name and link in the caption. */
async function sendPoster(ctx: BotContext, unit: { id: number; name: string; joinToken: string }, manage: boolean): Promise<void> {
  const link = unitJoinLink(ctx.me.username, unit.joinToken);
  const png = await unitQrPng(link);
  await ctx.replyWithPhoto(new InputFile(png, `unit-${unit.id}-join.png`), {
    caption: ctx.t(`${NS}:qr.caption`, { name: unit.name, link }),
    reply_markup: manage ? new InlineKeyboard().text(ctx.t(`${NS}:card.rotate_button`), cb.unit.pack(`r.${unit.id}`)) : undefined,
  });
}

async function headsScreen(ctx: ButtonContext, id: number, answered = false): Promise<void> {
  const r = await ctx.deps.services.units.get(await currentActor(ctx), id);
  if (!r.ok || !r.manage) {
    if (!answered) await (r.ok ? ctx.answerCallbackQuery({ text: ctx.t("common:errors.forbidden"), show_alert: true }) : refuse(ctx, r));
    return;
  }
  if (!answered) await ctx.answerCallbackQuery();
  const kb = new InlineKeyboard();
  for (const h of r.heads) kb.text(ctx.t(`${NS}:heads.remove_button`, { person: short(h.name), interpolation: { escapeValue: false } }), cb.unit.pack(`hr.${id}.${h.userId}`)).row();
  if (r.heads.length < UNIT_LIMITS.headsMax) kb.text(ctx.t(`${NS}:heads.add_button`), cb.unit.pack(`ha.${id}.0`)).row();
  kb.text(ctx.t(`${NS}:card.back`), cb.unit.pack(`v.${id}`));
  const lines = r.heads.length ? r.heads.map((h) => `• ${escapeHtml(h.name)}`) : [ctx.t(`${NS}:heads.none`)];
  await editOrReply(ctx, [ctx.t(`${NS}:heads.title`, { name: r.unit.name, count: r.heads.length, max: UNIT_LIMITS.headsMax }), ...lines, "", ctx.t(`${NS}:heads.hint`)].join("\n"), kb);
}

/** Officers pick a head among the members (names only: who registered stays with the heads). */
async function headPicker(ctx: ButtonContext, id: number, page: number): Promise<void> {
  const view = await viewFor(ctx, id, "manage");
  if (!view) return;
  const r = await ctx.deps.services.units.members(await currentActor(ctx), id, { page });
  if (!r.ok) return refuse(ctx, r);
  await ctx.answerCallbackQuery();
  const kb = new InlineKeyboard();
  const candidates = r.items.filter((m) => m.role !== "head");
  for (const m of candidates) kb.text(short(m.name), cb.unit.pack(`hp.${id}.${m.userId}`)).row();
  if (r.pages > 1) {
    if (r.page > 0) kb.text("◀️", cb.unit.pack(`ha.${id}.${r.page - 1}`));
    if (r.page < r.pages - 1) kb.text("▶️", cb.unit.pack(`ha.${id}.${r.page + 1}`));
    kb.row();
  }
  kb.text(ctx.t(`${NS}:card.back`), cb.unit.pack(`h.${id}`));
  const text = r.total === view.counts.heads
    ? ctx.t(`${NS}:heads.pick_empty`)
    : ctx.t(`${NS}:heads.pick_title`, { name: view.unit.name, page: r.page + 1, pages: r.pages });
  await editOrReply(ctx, text, kb);
}

/** Counts for everyone who may open the card; the unregistered names for the unit's heads only. */
async function membersScreen(ctx: ButtonContext, id: number): Promise<void> {
  const view = await viewFor(ctx, id);
  if (!view) return;
  await ctx.answerCallbackQuery();
  const c = view.counts;
  const lines = [ctx.t(`${NS}:members.text`, {
    name: view.unit.name, headcount: formatCount(view.unit.headcount, ctx.locale), members: formatCount(c.members, ctx.locale),
    registered: formatCount(c.registered, ctx.locale), percent: formatPercent(c.registered, view.unit.headcount, ctx.locale),
    unregistered: formatCount(c.members - c.registered, ctx.locale),
  })];
  const kb = new InlineKeyboard();
  if (view.head) {
    const r = await ctx.deps.services.units.unregistered(await currentActor(ctx), id);
    if (r.ok && r.total > 0) {
      lines.push("", ctx.t(`${NS}:members.unregistered_title`, { count: r.total }));
      for (const p of r.names.slice(0, NAMES_SHOWN)) lines.push(`• ${escapeHtml(p.name)}`);
      if (r.total > NAMES_SHOWN) lines.push(ctx.t(`${NS}:members.unregistered_more`, { count: r.total - NAMES_SHOWN }));
    } else if (r.ok && c.members > 0) lines.push("", ctx.t(`${NS}:members.all_registered`));
    if (c.members > 0) kb.text(ctx.t(`${NS}:members.list_button`), cb.unit.pack(`ml.${id}.0`)).row();
  } else {
    lines.push("", ctx.t(`${NS}:members.officer_note`));
  }
  kb.text(ctx.t(`${NS}:card.back`), cb.unit.pack(`v.${id}`));
  await editOrReply(ctx, lines.join("\n"), kb);
}

/** The unit's heads: every member by name, who registered, and a button to remove each (not another head). */
async function memberList(ctx: ButtonContext, id: number, page: number): Promise<void> {
  const view = await viewFor(ctx, id);
  if (!view) return;
  if (!view.head) {
    ctx.logger.warn({ unit: id, user: ctx.from.id }, "refused a unit's member list to someone not its head");
    await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:errors.heads_only`), show_alert: true });
    return;
  }
  const r = await ctx.deps.services.units.members(await currentActor(ctx), id, { page });
  if (!r.ok) return refuse(ctx, r);
  await ctx.answerCallbackQuery();
  const me = String(ctx.from.id);
  const first = r.page * 8;
  const lines = r.items.map((m, i) => ctx.t(`${NS}:members.line`, {
    n: first + i + 1, name: m.name,
    mark: m.role === "head" ? ctx.t(`${NS}:members.head_mark`) : m.registered === false ? ctx.t(`${NS}:members.unregistered_mark`) : "",
  }));
  const kb = new InlineKeyboard();
  let shown = 0;
  r.items.forEach((m, i) => {
    if (m.role === "head" || m.userId === me) return;
    kb.text(ctx.t(`${NS}:members.remove_button`, { n: first + i + 1 }), cb.unit.pack(`mr.${id}.${m.userId}`));
    if (++shown % 4 === 0) kb.row();
  });
  kb.row();
  if (r.pages > 1) {
    if (r.page > 0) kb.text("◀️", cb.unit.pack(`ml.${id}.${r.page - 1}`));
    if (r.page < r.pages - 1) kb.text("▶️", cb.unit.pack(`ml.${id}.${r.page + 1}`));
    kb.row();
  }
  kb.text(ctx.t(`${NS}:card.back`), cb.unit.pack(`m.${id}`));
  await editOrReply(ctx, [ctx.t(`${NS}:members.list_title`, { name: view.unit.name, page: r.page + 1, pages: r.pages }), "", ...lines].join("\n"), kb);
}

/** The unit and the units under it, each with its counts rolled up its branch. */
async function treeScreen(ctx: ButtonContext, id: number): Promise<void> {
  const r = await ctx.deps.services.units.tree(await currentActor(ctx), id);
  if (!r.ok) return refuse(ctx, r);
  await ctx.answerCallbackQuery();
  const root = r.nodes[0];
  if (!root) return;
  const lines = r.nodes.map((n) => ctx.t(`${NS}:tree.line`, {
    indent: n.depth > 0 ? `${"   ".repeat(n.depth - 1)}↳ ` : "", name: n.name,
    registered: formatCount(n.totalRegistered, ctx.locale), headcount: formatCount(n.totalHeadcount, ctx.locale),
    percent: formatPercent(n.totalRegistered, n.totalHeadcount, ctx.locale), members: formatCount(n.totalMembers, ctx.locale),
  }));
  const kb = new InlineKeyboard().text(ctx.t(`${NS}:card.back`), cb.unit.pack(`v.${id}`));
  await editOrReply(ctx, [ctx.t(`${NS}:tree.title`, { name: root.name }), "", ...lines].join("\n"), kb);
}

// ── everyone: the join link, /myunits, the registration's offer ───────────────────────────────

/** t.me/<bot>?start=u_<token>: says which unit, what joining keeps, and asks. */
export async function openUnitJoin(ctx: BotContext, token: string): Promise<void> {
  const me = String(ctx.from!.id);
  const r = await ctx.deps.services.units.peek(token, me);
  if (!r.ok) {
    await ctx.reply(failureText(ctx.t, r));
    return;
  }
  const place = await placeLabel(ctx, r.unit.communeCode, r.unit.provinceCode);
  if (r.member) {
    await ctx.reply(ctx.t(`${NS}:join.already`, { name: r.unit.name }), { reply_markup: await registerOffer(ctx) });
    return;
  }
  await ctx.reply(ctx.t(`${NS}:join.ask`, { name: escapeHtml(r.unit.name), place, telegram: escapeHtml(telegramName(ctx)), ...raw }), {
    reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:join.yes`), cb.unitJoin.pack(token)).text(ctx.t(`${NS}:join.no`), cb.unitJoin.pack("no")),
  });
}

/** The registration button for someone who has not registered (their unit counts them once they do). */
async function registerOffer(ctx: BotContext): Promise<InlineKeyboard | undefined> {
  if (await ctx.deps.services.citizens.isRegistered(String(ctx.from!.id))) return undefined;
  return new InlineKeyboard().text(ctx.t("common:start.register_button"), cb.register.pack("start"));
}

unitsFeature.use(onButton(cb.unitJoin, async (ctx, value) => {
  await ctx.answerCallbackQuery();
  if (value === "no") {
    await editOrReply(ctx, ctx.t(`${NS}:join.declined`));
    return;
  }
  const r = await ctx.deps.services.units.join(String(ctx.from.id), value, telegramName(ctx));
  if (!r.ok) {
    await editOrReply(ctx, failureText(ctx.t, r));
    return;
  }
  const register = await registerOffer(ctx);
  const text = ctx.t(r.already ? `${NS}:join.already` : `${NS}:join.joined`, { name: r.unit.name });
  await editOrReply(ctx, register ? `${text}\n\n${ctx.t(`${NS}:join.register_first`)}` : text, register);
}));

async function myUnitsScreen(ctx: BotContext): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  const mine = await ctx.deps.services.units.mine(String(ctx.from!.id));
  // Programmes part: "I am an association member" (the programmes' "members" target) for everyone.
  const member = await associationMemberButton(ctx);
  if (mine.length === 0) return { text: ctx.t(`${NS}:mine.empty`), keyboard: new InlineKeyboard().text(member.text, member.data) };
  const kb = new InlineKeyboard();
  const lines = [ctx.t(`${NS}:mine.title`)];
  for (const [i, u] of mine.entries()) {
    lines.push(ctx.t(`${NS}:mine.line`, {
      n: i + 1, name: escapeHtml(u.name), place: await placeLabel(ctx, u.communeCode, u.provinceCode), role: u.role === "head" ? ctx.t(`${NS}:mine.head_mark`) : "", ...raw,
    }));
    if (u.role === "head") kb.text(ctx.t(`${NS}:mine.manage_button`, { n: i + 1 }), cb.unit.pack(`v.${u.id}`));
    kb.text(ctx.t(`${NS}:mine.leave_button`, { n: i + 1 }), cb.myUnits.pack(`lv.${u.id}`)).row();
    if (u.role === "head") {
      const unregistered = unitUnregisteredButton(ctx.t, i + 1, u.id);
      kb.text(unregistered.text, unregistered.data).row();
    }
  }
  kb.text(member.text, member.data);
  return { text: lines.join("\n"), keyboard: kb };
}

unitsFeature.use(onButton(cb.myUnits, async (ctx, value) => {
  await ctx.answerCallbackQuery();
  if (value === "l") {
    const screen = await myUnitsScreen(ctx);
    await editOrReply(ctx, screen.text, screen.keyboard);
    return;
  }
  const [action, raw] = value.split(".") as ["lv" | "lo", string];
  const id = Number(raw);
  const me = String(ctx.from.id);
  if (action === "lv") {
    const unit = (await ctx.deps.services.units.mine(me)).find((u) => u.id === id);
    if (!unit) {
      await editOrReply(ctx, ctx.t(`${NS}:mine.not_member`));
      return;
    }
    await editOrReply(ctx, ctx.t(`${NS}:mine.leave_ask`, { name: unit.name }), new InlineKeyboard()
      .text(ctx.t(`${NS}:mine.leave_yes`), cb.myUnits.pack(`lo.${id}`)).text(ctx.t(`${NS}:mine.leave_no`), cb.myUnits.pack("l")));
    return;
  }
  const r = await ctx.deps.services.units.leave(me, id);
  await editOrReply(ctx, r.left ? ctx.t(`${NS}:mine.left`, { name: r.name ?? "" }) : ctx.t(`${NS}:mine.not_member`));
}));

/**
 * The registration's "join unit X?" (sent by unit-offer.ts once the card is saved). The unit is
 * matched again from the saved card: a forged id or a changed unit joins nothing.
 */
unitsFeature.use(onButton(cb.unitOffer, async (ctx, value) => {
  await ctx.answerCallbackQuery();
  if (value === "no") {
    await editOrReply(ctx, ctx.t(`${NS}:offer.declined`));
    return;
  }
  const me = String(ctx.from.id);
  const card = await ctx.deps.services.citizens.getCard(me);
  const match = card?.unitName ? await ctx.deps.services.units.matchByName(card.provinceCode, card.communeCode, card.unitName) : undefined;
  if (!card?.unitName || match?.id !== Number(value)) {
    if (match?.id !== Number(value)) ctx.logger.info({ user: ctx.from.id }, "a unit offer no longer matches the registered unit");
    await editOrReply(ctx, ctx.t(`${NS}:offer.gone`));
    return;
  }
  const r = await ctx.deps.services.units.joinMatched(me, { provinceCode: card.provinceCode, communeCode: card.communeCode, name: card.unitName }, telegramName(ctx));
  await editOrReply(ctx, r.ok ? ctx.t(r.already ? `${NS}:join.already` : `${NS}:join.joined`, { name: r.unit.name }) : failureText(ctx.t, r));
}));
