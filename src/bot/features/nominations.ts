import { Composer, InlineKeyboard, InputFile } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { Failure, NominationView } from "../../domain/scholarships/nominations.js";
import { NOMINATION_STATUSES, formatDay, vnDay, type NominationStatusName } from "../../domain/scholarships/model.js";
import type { TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { NOMINATE_FLOW } from "../flows/scholarship-flow-names.js";
import { circumstanceLabel, levelLabel, nominationActor, relationshipLabel } from "../flows/scholarship-nominate.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";

/**
 * Nominations outside the conversation: /nominate <round> (enters it), /mynominations (the
 * nominator's list, a nomination's card, withdrawal), and the officers' screens of a round's
 * nominations (list with counts, a nomination with its status buttons, counts by commune, CSV and
 * XLSX). Every button asks the domain again, which reads role, scope and ownership from the
 * database: forged or stale data gets a localised answer and shows nothing.
 */
export const nominationsFeature = new Composer<BotContext>();
const dm = nominationsFeature.chatType("private");
const NS = "nominations";
const raw = { interpolation: { escapeValue: false } } as const;
const LABEL_MAX = 32;
const short = (s: string) => (s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s);

export const STATUS_ICONS: Record<NominationStatusName, string> = { received: "📥", shortlisted: "📋", awarded: "🏆", not_selected: "➖" };
const statusLabel = (t: TFunction, s: NominationStatusName) => t(`${NS}:statuses.${s}`);

dm.command("nominate", async (ctx) => {
  const m = /^\s*#?(\d{1,9})\s*$/.exec(ctx.match);
  if (!m) {
    await ctx.reply(ctx.t(`${NS}:nominate.usage`));
    return;
  }
  if (Object.keys(ctx.conversation.active()).length > 0) {
    await ctx.reply(ctx.t("common:errors.finish_flow_first"));
    return;
  }
  await ctx.conversation.enter(NOMINATE_FLOW, { roundId: Number(m[1]) });
});

dm.command("mynominations", async (ctx) => {
  const view = await myList(ctx);
  await ctx.reply(view.text, { reply_markup: view.keyboard });
});

// ---- the nominator ---------------------------------------------------------------------------

async function myList(ctx: BotContext): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  const list = await ctx.deps.services.nominations.mine(String(ctx.from!.id));
  if (list.length === 0) return { text: ctx.t(`${NS}:mine.empty`) };
  const kb = new InlineKeyboard();
  const lines = [ctx.t(`${NS}:mine.title`, { count: list.length })];
  for (const n of list) {
    const icon = STATUS_ICONS[n.status];
    lines.push(ctx.t(`${NS}:mine.item`, { icon, student: n.studentName, programme: n.programme, year: n.roundYear, status: statusLabel(ctx.t, n.status) }));
    kb.text(ctx.t(`${NS}:mine.open_button`, { icon, id: n.id, student: short(n.studentName), ...raw }), cb.nomination.pack(`v.${n.id}`)).row();
  }
  return { text: lines.join("\n"), keyboard: kb };
}

function cardFields(t: TFunction, n: NominationView) {
  return {
    id: n.id, programme: n.programme, year: n.roundYear, student: n.studentName, birth_year: n.birthYear, school: n.school,
    level: levelLabel(t, n.schoolLevel), grade: n.grade ?? "—", commune: n.communeName, province: n.provinceName,
    circumstances: n.circumstances.length ? n.circumstances.map((c) => circumstanceLabel(t, c)).join(", ") : t(`${NS}:labels.none`),
    guardian: n.guardianName, relationship: relationshipLabel(t, n.relationship), date: formatDay(vnDay(n.createdAt)),
    consent_date: formatDay(vnDay(n.guardianConsentAt)), icon: STATUS_ICONS[n.status], status: statusLabel(t, n.status),
  };
}

/** A refusal on the button itself (someone else's, withdrawn, forged): nothing is shown. */
async function refuse(ctx: ButtonContext, r: Failure, what: string): Promise<void> {
  if (r.reason === "forbidden") ctx.logger.warn({ what, user: ctx.from.id }, "refused a nomination outside the caller's scope");
  await ctx.answerCallbackQuery({ text: r.errors.map((e) => ctx.t(e.key, { ...e.params, ...raw })).join("\n").slice(0, 200), show_alert: true });
}

nominationsFeature.use(
  onButton(cb.nomination, async (ctx, value) => {
    const me = String(ctx.from.id);
    const services = ctx.deps.services.nominations;
    if (value === "list") {
      await ctx.answerCallbackQuery();
      const view = await myList(ctx);
      await editOrReply(ctx, view.text, view.keyboard);
      return;
    }
    const [action, rawId] = value.split(".") as [string, string];
    const id = Number(rawId);
    if (action === "wdok") {
      const r = await services.withdraw(me, id);
      if (!r.ok) return refuse(ctx, r, `nomination ${id}`);
      await ctx.answerCallbackQuery();
      await editOrReply(ctx, ctx.t(`${NS}:mine.withdrawn`, { student: r.studentName, programme: r.programme }),
        new InlineKeyboard().text(ctx.t(`${NS}:mine.list_button`), cb.nomination.pack("list")));
      return;
    }
    const r = await services.view(me, id);
    if (!r.ok) return refuse(ctx, r, `nomination ${id}`);
    await ctx.answerCallbackQuery();
    const n = r.nomination;
    if (action === "wd") {
      await editOrReply(ctx, ctx.t(`${NS}:mine.withdraw_ask`, { student: n.studentName, programme: n.programme }),
        new InlineKeyboard().text(ctx.t(`${NS}:mine.withdraw_confirm`), cb.nomination.pack(`wdok.${id}`)).text(ctx.t(`${NS}:mine.withdraw_keep`), cb.nomination.pack(`v.${id}`)));
      return;
    }
    await editOrReply(ctx, ctx.t(`${NS}:mine.card`, cardFields(ctx.t, n)),
      new InlineKeyboard().text(ctx.t(`${NS}:mine.withdraw_button`), cb.nomination.pack(`wd.${id}`)).row().text(ctx.t(`${NS}:mine.list_button`), cb.nomination.pack("list")));
  }),

  // ---- the round's officers --------------------------------------------------------------------
  onButton(cb.nominationAdmin, async (ctx, value) => {
    if (!(await requireRole(ctx, "officer"))) return;
    const [action, a, b] = value.split(".") as [string, string, string | undefined];
    const id = Number(a);
    switch (action) {
      case "l":
        return showList(ctx, id, Number(b));
      case "v":
        return showCard(ctx, id);
      case "st":
        return setStatus(ctx, id, b as NominationStatusName);
      case "by":
        return showByCommune(ctx, id);
      case "csv":
      case "xlsx":
        return sendExport(ctx, id, action);
    }
  }),
);

/**
 * Edits the screen when the button was on one of these screens; otherwise (the round's admin card,
 * another feature's message) answers with a new message and leaves that one as it was.
 */
async function show(ctx: ButtonContext, text: string, keyboard: InlineKeyboard): Promise<void> {
  const markup = ctx.callbackQuery.message && "reply_markup" in ctx.callbackQuery.message ? (ctx.callbackQuery.message.reply_markup as InlineKeyboardMarkup | undefined) : undefined;
  const ours = markup?.inline_keyboard.flat().some((btn) => "callback_data" in btn && cb.nominationAdmin.pattern.test(btn.callback_data ?? ""));
  if (ours) await editOrReply(ctx, text, keyboard);
  else await ctx.reply(text, { reply_markup: keyboard });
}

async function showList(ctx: ButtonContext, roundId: number, page: number): Promise<void> {
  const r = await ctx.deps.services.nominations.listForRound(await nominationActor(ctx), roundId, page);
  if (!r.ok) return refuse(ctx, r, `round ${roundId}`);
  await ctx.answerCallbackQuery();
  const kb = new InlineKeyboard();
  const head = { programme: r.round.programme, year: r.round.year };
  if (r.total === 0) {
    await show(ctx, ctx.t(`${NS}:admin.empty`, head), kb.text(ctx.t(`${NS}:admin.by_commune_button`), cb.nominationAdmin.pack(`by.${roundId}`)));
    return;
  }
  const lines = [ctx.t(`${NS}:admin.title`, { ...head, total: r.total, page: r.page + 1, pages: r.pages, ...r.byStatus }), ""];
  for (const n of r.items) {
    const icon = STATUS_ICONS[n.status];
    lines.push(ctx.t(`${NS}:admin.item`, { icon, id: n.id, student: n.studentName, birth_year: n.birthYear, level: n.grade ? `${levelLabel(ctx.t, n.schoolLevel)} ${n.grade}` : levelLabel(ctx.t, n.schoolLevel), commune: n.communeName }));
    kb.text(ctx.t(`${NS}:admin.open_button`, { icon, id: n.id, student: short(n.studentName), ...raw }), cb.nominationAdmin.pack(`v.${n.id}`)).row();
  }
  if (r.page > 0) kb.text("◀️", cb.nominationAdmin.pack(`l.${roundId}.${r.page - 1}`));
  if (r.page < r.pages - 1) kb.text("▶️", cb.nominationAdmin.pack(`l.${roundId}.${r.page + 1}`));
  kb.row()
    .text(ctx.t(`${NS}:admin.by_commune_button`), cb.nominationAdmin.pack(`by.${roundId}`))
    .text(ctx.t(`${NS}:admin.csv_button`), cb.nominationAdmin.pack(`csv.${roundId}`))
    .text(ctx.t(`${NS}:admin.xlsx_button`), cb.nominationAdmin.pack(`xlsx.${roundId}`));
  await show(ctx, lines.join("\n"), kb);
}

function officerCard(ctx: BotContext, n: NominationView): { text: string; keyboard: InlineKeyboard } {
  const kb = new InlineKeyboard();
  NOMINATION_STATUSES.forEach((s, i) => {
    const label = `${s === n.status ? "✅ " : ""}${STATUS_ICONS[s]} ${statusLabel(ctx.t, s)}`;
    kb.text(label, cb.nominationAdmin.pack(`st.${n.id}.${s}`));
    if (i % 2 === 1) kb.row();
  });
  kb.text(ctx.t(`${NS}:admin.list_button`), cb.nominationAdmin.pack(`l.${n.roundId}.0`));
  return { text: ctx.t(`${NS}:admin.card`, cardFields(ctx.t, n)), keyboard: kb };
}

async function showCard(ctx: ButtonContext, id: number): Promise<void> {
  const r = await ctx.deps.services.nominations.viewAsOfficer(await nominationActor(ctx), id);
  if (!r.ok) return refuse(ctx, r, `nomination ${id}`);
  await ctx.answerCallbackQuery();
  const card = officerCard(ctx, r.nomination);
  await show(ctx, card.text, card.keyboard);
}

async function setStatus(ctx: ButtonContext, id: number, status: NominationStatusName): Promise<void> {
  const r = await ctx.deps.services.nominations.setStatus(await nominationActor(ctx), id, status);
  if (!r.ok) return refuse(ctx, r, `nomination ${id}`);
  await ctx.answerCallbackQuery({ text: ctx.t(r.changed ? `${NS}:admin.status_set` : `${NS}:admin.status_unchanged`, { status: statusLabel(ctx.t, status), ...raw }) });
  if (!r.changed) return;
  const card = officerCard(ctx, r.nomination);
  await show(ctx, card.text, card.keyboard);
}

async function showByCommune(ctx: ButtonContext, roundId: number): Promise<void> {
  const r = await ctx.deps.services.nominations.countsByCommune(await nominationActor(ctx), roundId);
  if (!r.ok) return refuse(ctx, r, `round ${roundId}`);
  await ctx.answerCallbackQuery();
  const lines = [ctx.t(`${NS}:admin.by_commune_title`, { programme: r.round.programme, year: r.round.year })];
  for (const c of r.communes) lines.push(ctx.t(`${NS}:admin.by_commune_item`, { commune: c.communeName, count: c.count }));
  lines.push(ctx.t(`${NS}:admin.by_commune_total`, { total: r.total }));
  await show(ctx, lines.join("\n"), new InlineKeyboard().text(ctx.t(`${NS}:admin.list_button`), cb.nominationAdmin.pack(`l.${roundId}.0`)));
}

async function sendExport(ctx: ButtonContext, roundId: number, format: "csv" | "xlsx"): Promise<void> {
  const actor = await nominationActor(ctx);
  const services = ctx.deps.services.nominations;
  const r = format === "csv" ? await services.exportCsv(actor, roundId, ctx.t) : await services.exportXlsx(actor, roundId, ctx.t);
  if (!r.ok) return refuse(ctx, r, `round ${roundId}`);
  await ctx.answerCallbackQuery();
  if (r.rows === 0) {
    await ctx.reply(ctx.t(`${NS}:admin.export_empty`, { programme: r.round.programme }));
    return;
  }
  // A byte-order mark, as the other CSV exports: spreadsheets then read the Vietnamese names as UTF-8.
  const file = "csv" in r ? Buffer.from("\uFEFF" + r.csv, "utf8") : r.xlsx;
  await ctx.replyWithDocument(new InputFile(file, `nominations-${roundId}.${format}`), {
    caption: ctx.t(`${NS}:admin.export_caption`, { programme: r.round.programme, year: r.round.year, count: r.rows }),
  });
}
