import { Composer, InlineKeyboard, InputFile } from "grammy";
import type { Document } from "grammy/types";
import { toCsv } from "../../domain/broadcasts/csv.js";
import { importFileKind } from "../../domain/quizzes/table-readers.js";
import { CENTER_IMPORT_LIMITS, centerTemplateRows, describeCenterImport, describeFileProblem, rowReasonText, type CenterRowProblem } from "../../domain/sessions/center-import.js";
import { scopeWhere } from "../../domain/sessions/centers.js";
import { SESSION_LIMITS } from "../../domain/sessions/model.js";
import type { Access } from "../../domain/users/user-service.js";
import { escapeHtml } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { CENTER_EDIT_FLOW, CENTER_NEW_FLOW, centerCardKeyboard, centerCardText, placeLabel, type CenterEditField } from "../flows/center-new.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import type { FileDownloader } from "../helpers/download-file.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { describeScope } from "./scope.js";

/** After /importcenters, the next CSV file within this time is taken as the import. */
const WAIT_FOR_FILE_MS = 30 * 60_000;
const PAGE_SIZE = 8;
/** Problems listed in the reply; the rest go into an attached CSV. */
const PROBLEMS_SHOWN = 20;
const CAPTION_COMMAND = /^\/importcenters(@\w+)?(\s|$)/i;
const QUIZ_CAPTION = /^\/quizimport(@\w+)?(\s|$)/i;
const raw = { interpolation: { escapeValue: false } } as const;
const mb = (bytes: number) => String(Math.round((bytes / (1024 * 1024)) * 10) / 10);

/** The area an officer manages, for titles ("nationwide" for admins). */
const scopeText = (ctx: BotContext, access: Access) =>
  describeScope(ctx, access.role === "admin" ? {} : { provinceCode: access.scope.provinceCode, communeCode: access.scope.communeCode });

/**
 * Officers' learning centres: /centers (the list of their scope, a card per centre with a button
 * per field), /center_new (the conversation), /importcenters (a CSV file). Every command and every
 * button re-reads the role and checks the centre's place against the scope: a forged button with
 * another commune's centre id is refused.
 */
export function createCenterAdminFeature(download: FileDownloader): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  const privateChats = feature.chatType("private");

  privateChats.command("centers", async (ctx) => {
    const access = await managerAccess(ctx);
    if (!access) return;
    const { text, keyboard } = await listScreen(ctx, access, 0);
    await ctx.reply(text, { reply_markup: keyboard });
  });

  privateChats.command("center_new", async (ctx) => {
    if (!(await managerAccess(ctx))) return;
    if (Object.keys(ctx.conversation.active()).length > 0) {
      await ctx.reply(ctx.t("common:errors.finish_flow_first"));
      return;
    }
    await ctx.conversation.enter(CENTER_NEW_FLOW);
  });

  privateChats.command("importcenters", async (ctx) => {
    const access = await managerAccess(ctx);
    if (!access) return;
    ctx.session.centerImportUntil = ctx.deps.now().getTime() + WAIT_FOR_FILE_MS;
    await ctx.reply(ctx.t("centers:import.how", {
      scope: await scopeText(ctx, access), rows: CENTER_IMPORT_LIMITS.maxRows, size: mb(CENTER_IMPORT_LIMITS.maxBytes),
      name: SESSION_LIMITS.centerNameMax, address: SESSION_LIMITS.addressMax, ...raw,
    }));
    const example = await ctx.deps.services.centers.exampleCommune(access);
    if (example) {
      const template = Buffer.from("\uFEFF" + toCsv(centerTemplateRows(example)), "utf8");
      await ctx.replyWithDocument(new InputFile(template, "learning-centres-template.csv"), { caption: ctx.t("centers:import.template_caption") });
    }
  });

  privateChats.on("message:document", async (ctx, next) => {
    const caption = ctx.message.caption ?? "";
    const until = ctx.session.centerImportUntil ?? 0;
    // The later of /importcenters and /quizimport decides where an uncaptioned file goes.
    const asked = CAPTION_COMMAND.test(caption) ||
      (until > ctx.deps.now().getTime() && until > (ctx.session.quizImportUntil ?? 0) && !QUIZ_CAPTION.test(caption));
    if (!asked) return next();
    const access = await managerAccess(ctx);
    if (!access) return;
    await importDocument(ctx, access, ctx.message.document, download);
  });

  feature.use(onButton(cb.center, async (ctx, value) => {
    const access = await requireRole(ctx, "officer");
    if (!access) return;
    const [verb, first, field] = value.split(".") as ["p" | "e" | "f", string, CenterEditField | undefined];
    if (verb === "p") {
      await ctx.answerCallbackQuery();
      const { text, keyboard } = await listScreen(ctx, access, Number(first));
      await editOrReply(ctx, text, keyboard);
      return;
    }
    const id = Number(first);
    const found = await ctx.deps.services.centers.find(access, id);
    if (!found.ok) {
      if (found.reason !== "not_found") ctx.logger.warn({ center: id, user: ctx.from.id, reason: found.reason }, "refused a centre outside the officer's scope");
      const key = found.reason === "forbidden" ? "centers:errors.no_scope" : `centers:errors.${found.reason}`;
      await ctx.answerCallbackQuery({ text: ctx.t(key), show_alert: true });
      return;
    }
    if (verb === "e") {
      await ctx.answerCallbackQuery();
      await showCard(ctx, found.center);
      return;
    }
    if (Object.keys(ctx.conversation.active()).length > 0) {
      await ctx.answerCallbackQuery({ text: ctx.t("common:errors.finish_flow_first"), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery();
    await ctx.conversation.enter(CENTER_EDIT_FLOW, id, field!);
  }));
  return feature;
}

/** Officers with a province (or commune) and admins; anyone else is refused, an officer without a scope told why. */
async function managerAccess(ctx: BotContext): Promise<Access | undefined> {
  const access = await requireRole(ctx, "officer");
  if (!access) return undefined;
  if (!scopeWhere(access)) {
    await ctx.reply(ctx.t("centers:errors.no_scope"));
    return undefined;
  }
  return access;
}

async function showCard(ctx: ButtonContext, center: { id: number; name: string; address: string; lat: number; lon: number; demo: boolean; communeCode: string; provinceCode: string }): Promise<void> {
  const place = await placeLabel(ctx, center.communeCode, center.provinceCode);
  await editOrReply(ctx, `${centerCardText(ctx.t, center, place)}\n\n${ctx.t("centers:card.choose_field")}`, centerCardKeyboard(ctx.t, center.id));
}

async function listScreen(ctx: BotContext, access: Access, page: number): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const list = await ctx.deps.services.centers.listInScope(access, { page, pageSize: PAGE_SIZE });
  const keyboard = new InlineKeyboard();
  const scope = await scopeText(ctx, access);
  if (list.total === 0) return { text: ctx.t("centers:list.empty", { scope, ...raw }), keyboard };
  const first = list.page * PAGE_SIZE;
  const lines = await Promise.all(list.items.map(async (c, i) => ctx.t("centers:list.line", {
    n: first + i + 1, name: escapeHtml(c.name), address: escapeHtml(c.address), commune: await placeLabel(ctx, c.communeCode, c.provinceCode),
    demo: c.demo ? ctx.t("centers:list.demo_mark") : "", ...raw,
  })));
  list.items.forEach((c, i) => {
    keyboard.text(`✏️ ${first + i + 1}`, cb.center.pack(`e.${c.id}`));
    if (i % 4 === 3) keyboard.row();
  });
  if (list.pages > 1) {
    keyboard.row();
    if (list.page > 0) keyboard.text(ctx.t("centers:list.previous"), cb.center.pack(`p.${list.page - 1}`));
    if (list.page < list.pages - 1) keyboard.text(ctx.t("centers:list.next"), cb.center.pack(`p.${list.page + 1}`));
  }
  const title = ctx.t("centers:list.title", { scope, total: list.total, page: list.page + 1, pages: list.pages, ...raw });
  return { text: [title, "", ...lines, "", ctx.t("centers:list.hint")].join("\n"), keyboard };
}

async function importDocument(ctx: BotContext, access: Access, doc: Document, download: FileDownloader): Promise<void> {
  if (importFileKind(doc.file_name, doc.mime_type) !== "csv") {
    await ctx.reply(ctx.t("centers:import.wrong_type", { name: doc.file_name ?? "?" }));
    return;
  }
  if ((doc.file_size ?? 0) > CENTER_IMPORT_LIMITS.maxBytes) {
    await ctx.reply(describeFileProblem(ctx.t, { kind: "too_big", maxBytes: CENTER_IMPORT_LIMITS.maxBytes }));
    return;
  }
  let bytes: Uint8Array;
  try {
    bytes = await download(ctx, doc.file_id);
  } catch (err) {
    ctx.logger.warn({ err }, "could not download a centre import file");
    await ctx.reply(ctx.t("centers:import.download_failed"));
    return;
  }
  const result = await ctx.deps.services.centerImport.importFile(bytes, { ...access, id: String(ctx.from!.id) });
  if (result.ok) ctx.logger.info({ created: result.created, updated: result.updated, unchanged: result.unchanged, user: ctx.from!.id }, "imported learning centres");
  const { text, more } = describeCenterImport(ctx.t, result, PROBLEMS_SHOWN);
  await ctx.reply(text);
  if (more > 0 && !result.ok && result.rows) await replyProblemList(ctx, result.rows);
}

async function replyProblemList(ctx: BotContext, problems: CenterRowProblem[]): Promise<void> {
  const csv = toCsv([
    [ctx.t("centers:import.csv_row"), ctx.t("centers:import.csv_column"), ctx.t("centers:import.csv_reason")],
    ...problems.map((p) => [p.row, p.column, rowReasonText(ctx.t, p)]),
  ]);
  await ctx.replyWithDocument(new InputFile(Buffer.from("\uFEFF" + csv, "utf8"), "learning-centres-problems.csv"));
}
