import { Composer, InlineKeyboard, InputFile } from "grammy";
import type { Failure, SessionListItem, SessionView } from "../../domain/sessions/session-admin.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { SESSION_EDIT_FLOW } from "../flows/session-edit.js";
import { SESSION_NEW_FLOW } from "../flows/session-new.js";
import { bodyLabel, currentActor, formatDuration, sendCheckinQr, sessionTime, topicLabel } from "../flows/session-steps.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";

/**
 * Officers' sessions: /session_new (the conversation), /sessions_admin (sessions in the caller's
 * scope, upcoming or past, a page at a time), and per session: figures, edit, move, cancel, the
 * check-in QR (and a new one), the attendance list as CSV. Role and scope are read from the
 * database on every command and button: a forged button for another province's session is refused.
 */
export const sessionAdminFeature = new Composer<BotContext>();
const dm = sessionAdminFeature.chatType("private");
const NS = "session-admin";
const LABEL_TITLE_MAX = 36;
const short = (s: string) => (s.length > LABEL_TITLE_MAX ? `${s.slice(0, LABEL_TITLE_MAX - 1)}…` : s);

dm.command("session_new", async (ctx) => {
  if (!(await requireRole(ctx, "officer"))) return;
  await ctx.conversation.enter(SESSION_NEW_FLOW);
});

dm.command("sessions_admin", async (ctx) => {
  if (!(await requireRole(ctx, "officer"))) return;
  const screen = await listScreen(ctx, true, 0);
  await ctx.reply(screen.text, { reply_markup: screen.keyboard });
});

async function listScreen(ctx: BotContext, upcoming: boolean, page: number): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  const r = await ctx.deps.services.sessionAdmin.listInScope(await currentActor(ctx), { upcoming, page });
  if (!r.ok) return { text: ctx.t(r.errors[0]!.key) };
  const kb = new InlineKeyboard();
  const switchButton = () =>
    upcoming ? kb.text(ctx.t(`${NS}:list.past_button`), cb.sessionAdminList.pack("p.0")) : kb.text(ctx.t(`${NS}:list.upcoming_button`), cb.sessionAdminList.pack("u.0"));
  if (r.total === 0) {
    switchButton();
    return { text: ctx.t(upcoming ? `${NS}:list.empty_upcoming` : `${NS}:list.empty_past`), keyboard: kb };
  }
  const lines = [ctx.t(upcoming ? `${NS}:list.title_upcoming` : `${NS}:list.title_past`, { total: r.total, page: r.page + 1, pages: r.pages })];
  for (const s of r.items) {
    lines.push("", itemLine(ctx, s));
    // Button labels are plain text: no HTML escaping.
    kb.text(ctx.t(`${NS}:list.open_button`, { id: s.id, title: short(s.title), interpolation: { escapeValue: false } }), cb.sessionAdmin.pack(`menu.${s.id}`)).row();
  }
  const view = upcoming ? "u" : "p";
  if (r.page > 0) kb.text("◀️", cb.sessionAdminList.pack(`${view}.${r.page - 1}`));
  if (r.page < r.pages - 1) kb.text("▶️", cb.sessionAdminList.pack(`${view}.${r.page + 1}`));
  kb.row();
  switchButton();
  return { text: lines.join("\n"), keyboard: kb };
}

function itemLine(ctx: BotContext, s: SessionListItem): string {
  return ctx.t(`${NS}:list.item`, {
    id: s.id, title: s.title, time: sessionTime(s.startsAt, ctx.locale), center: s.centerName, confirmed: s.confirmed, capacity: s.capacity, waiting: s.waiting,
    state: s.state === "cancelled" ? ctx.t(`${NS}:menu.state_cancelled`) : "",
  });
}

sessionAdminFeature.use(
  onButton(cb.sessionAdminList, async (ctx, value) => {
    if (!(await requireRole(ctx, "officer"))) return;
    await ctx.answerCallbackQuery();
    const [view, page] = value.split(".");
    const screen = await listScreen(ctx, view === "u", Number(page));
    await ctx.editMessageText(screen.text, { reply_markup: screen.keyboard }).catch(() => ctx.reply(screen.text, { reply_markup: screen.keyboard }));
  }),
  onButton(cb.sessionAdmin, async (ctx, value) => {
    if (!(await requireRole(ctx, "officer"))) return;
    const [action, raw] = value.split(".") as [string, string];
    const id = Number(raw);
    switch (action) {
      case "menu":
        return showMenu(ctx, id);
      case "stats":
        return showStats(ctx, id);
      case "edit":
        return showEditMenu(ctx, id);
      case "move":
        return enterEdit(ctx, id, "start", false);
      case "cancel":
        return askCancel(ctx, id);
      case "cancelok":
        return doCancel(ctx, id);
      case "qr":
        return sendQr(ctx, id);
      case "rotate":
        return askRotate(ctx, id);
      case "rotateok":
        return doRotate(ctx, id);
      case "csv":
        return sendCsv(ctx, id);
    }
  }),
  onButton(cb.sessionAdminEdit, async (ctx, value) => {
    if (!(await requireRole(ctx, "officer"))) return;
    const [field, raw] = value.split(".") as [string, string];
    await enterEdit(ctx, Number(raw), field, true);
  }),
);

/** One field's question (a conversation), once the session is the caller's to manage. */
async function enterEdit(ctx: ButtonContext, id: number, field: string, fromFieldMenu: boolean): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  await ctx.answerCallbackQuery();
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  // The field menu has done its job; the session's own menu stays usable.
  if (fromFieldMenu) {
    await ctx.editMessageText(ctx.t("common:flow.echo", { label: ctx.t(`${NS}:edit.editing`, { id }), value: ctx.t(`${NS}:edit.fields.${field}`) })).catch(() => undefined);
  }
  await ctx.conversation.enter(SESSION_EDIT_FLOW, view.session.id, field);
}

/** The session behind a button, or a refusal shown to the officer (someone else's, forged, gone). */
async function managed(ctx: ButtonContext, id: number): Promise<SessionView | undefined> {
  const r = await ctx.deps.services.sessionAdmin.get(await currentActor(ctx), id);
  if (r.ok) return r;
  await refuse(ctx, r, id);
  return undefined;
}

async function refuse(ctx: ButtonContext, r: Failure, id: number): Promise<void> {
  if (r.reason === "forbidden") ctx.logger.warn({ session: id, user: ctx.from.id }, "refused a session outside the caller's scope");
  await ctx.answerCallbackQuery({ text: r.errors.map((e) => ctx.t(e.key, e.params)).join("\n").slice(0, 200), show_alert: true });
}

function menuText(ctx: BotContext, { session: s, center }: SessionView): string {
  return ctx.t(`${NS}:menu.text`, {
    id: s.id, title: s.title, state: s.state === "cancelled" ? ctx.t(`${NS}:menu.state_cancelled`) : "", topic: topicLabel(ctx.t, s.topic),
    time: sessionTime(s.startsAt, ctx.locale), duration: formatDuration(ctx.t, s.durationMin), center: center.name, address: center.address,
    speaker: s.speaker ?? ctx.t(`${NS}:new.none`), body: bodyLabel(ctx.t, s.organiserBody), confirmed: s.confirmedCount, capacity: s.capacity, waiting: s.waitingCount,
  });
}

async function showMenu(ctx: ButtonContext, id: number): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  await ctx.answerCallbackQuery();
  const now = ctx.deps.now().getTime();
  const s = view.session;
  const ended = s.startsAt.getTime() + s.durationMin * 60_000 <= now;
  const kb = new InlineKeyboard().text(ctx.t(`${NS}:menu.stats_button`), cb.sessionAdmin.pack(`stats.${id}`)).text(ctx.t(`${NS}:menu.csv_button`), cb.sessionAdmin.pack(`csv.${id}`)).row();
  if (s.state === "scheduled" && !ended) {
    kb.text(ctx.t(`${NS}:menu.edit_button`), cb.sessionAdmin.pack(`edit.${id}`)).text(ctx.t(`${NS}:menu.move_button`), cb.sessionAdmin.pack(`move.${id}`)).row();
    kb.text(ctx.t(`${NS}:menu.qr_button`), cb.sessionAdmin.pack(`qr.${id}`)).text(ctx.t(`${NS}:menu.cancel_button`), cb.sessionAdmin.pack(`cancel.${id}`));
  }
  await ctx.reply(menuText(ctx, view), { reply_markup: kb });
}

async function showStats(ctx: ButtonContext, id: number): Promise<void> {
  const r = await ctx.deps.services.sessionAdmin.stats(await currentActor(ctx), id);
  if (!r.ok) return refuse(ctx, r, id);
  await ctx.answerCallbackQuery();
  await ctx.reply(ctx.t(`${NS}:stats.text`, { id, title: r.session.title, time: sessionTime(r.session.startsAt, ctx.locale), ...r.stats }));
}

const FIELDS = ["title", "topic", "start", "duration", "capacity", "speaker", "body", "description"] as const;

async function showEditMenu(ctx: ButtonContext, id: number): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  await ctx.answerCallbackQuery();
  const kb = new InlineKeyboard();
  FIELDS.forEach((f, i) => {
    kb.text(ctx.t(`${NS}:edit.fields.${f}`), cb.sessionAdminEdit.pack(`${f}.${id}`));
    if (i % 2 === 1) kb.row();
  });
  await ctx.reply(ctx.t(`${NS}:edit.which_field`, { id, title: view.session.title }), { reply_markup: kb });
}

async function askCancel(ctx: ButtonContext, id: number): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  await ctx.answerCallbackQuery();
  const s = view.session;
  if (s.state === "cancelled") {
    await ctx.reply(ctx.t(`${NS}:errors.already_cancelled`));
    return;
  }
  await ctx.reply(ctx.t(`${NS}:cancel.ask`, { title: s.title, time: sessionTime(s.startsAt, ctx.locale), count: s.confirmedCount + s.waitingCount }), {
    reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:cancel.yes`), cb.sessionAdmin.pack(`cancelok.${id}`)),
  });
}

async function doCancel(ctx: ButtonContext, id: number): Promise<void> {
  const r = await ctx.deps.services.sessionAdmin.cancel(await currentActor(ctx), id);
  if (!r.ok) {
    // A second press: say so plainly, nothing changed.
    if (r.reason === "already_cancelled") {
      await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:errors.already_cancelled`), show_alert: true });
      return;
    }
    return refuse(ctx, r, id);
  }
  await ctx.answerCallbackQuery();
  await ctx.editMessageReplyMarkup().catch(() => undefined);
  await ctx.reply(ctx.t(`${NS}:cancel.done`, { title: r.session.title, count: r.notified }));
}

async function sendQr(ctx: ButtonContext, id: number): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  if (view.session.state === "cancelled") {
    await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:errors.cancelled`), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  await sendCheckinQr(ctx, view.session);
}

async function askRotate(ctx: ButtonContext, id: number): Promise<void> {
  const view = await managed(ctx, id);
  if (!view) return;
  await ctx.answerCallbackQuery();
  await ctx.reply(ctx.t(`${NS}:qr.rotate_ask`, { title: view.session.title }), {
    reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:qr.rotate_yes`), cb.sessionAdmin.pack(`rotateok.${id}`)),
  });
}

async function doRotate(ctx: ButtonContext, id: number): Promise<void> {
  const r = await ctx.deps.services.sessionAdmin.rotateToken(await currentActor(ctx), id);
  if (!r.ok) return refuse(ctx, r, id);
  await ctx.answerCallbackQuery();
  await ctx.editMessageReplyMarkup().catch(() => undefined);
  await ctx.reply(ctx.t(`${NS}:qr.rotated`));
  await sendCheckinQr(ctx, r.session);
}

async function sendCsv(ctx: ButtonContext, id: number): Promise<void> {
  const r = await ctx.deps.services.sessionAdmin.attendanceCsv(await currentActor(ctx), id, ctx.t);
  if (!r.ok) return refuse(ctx, r, id);
  await ctx.answerCallbackQuery();
  if (r.rows === 0) {
    await ctx.reply(ctx.t(`${NS}:csv.empty`, { title: r.session.title }));
    return;
  }
  // A byte-order mark, as the contest exports: spreadsheets then read the Vietnamese names as UTF-8.
  const file = Buffer.from("\uFEFF" + r.csv, "utf8");
  await ctx.replyWithDocument(new InputFile(file, `session-${id}-attendance.csv`), {
    caption: ctx.t(`${NS}:csv.caption`, { id, title: r.session.title, count: r.rows }),
  });
}
