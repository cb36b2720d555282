import { Composer, InputFile } from "grammy";
import type { Document } from "grammy/types";
import { toCsv } from "../../domain/broadcasts/csv.js";
import { importFileKind } from "../../domain/quizzes/table-readers.js";
import { UNIT_BODIES, UNIT_KINDS, UNIT_LIMITS } from "../../domain/units/model.js";
import { describeUnitFileProblem, describeUnitImport, UNIT_IMPORT_LIMITS, UnitImportService, unitRowReasonText, unitTemplateRows, type UnitRowProblem } from "../../domain/units/unit-import.js";
import type { Access } from "../../domain/users/user-service.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import type { FileDownloader } from "../helpers/download-file.js";
import { describeScope } from "./scope.js";

/** After /importunits, the next spreadsheet within this time is taken as the import. */
const WAIT_FOR_FILE_MS = 30 * 60_000;
/** Problems listed in the reply; the rest go into an attached CSV. */
const PROBLEMS_SHOWN = 20;
const CAPTION_COMMAND = /^\/importunits(@\w+)?(\s|$)/i;
/** Other imports' captions: a file captioned for them is theirs, whatever was asked last. */
const OTHER_CAPTIONS = /^\/(importcenters|quizimport)(@\w+)?(\s|$)/i;
const raw = { interpolation: { escapeValue: false } } as const;
const mb = (bytes: number) => String(Math.round((bytes / (1024 * 1024)) * 10) / 10);

/**
 * /importunits: units from a CSV or XLSX file, for admins and province officers (a commune officer
 * is told why not). Mounted before the centre and quiz imports: an uncaptioned file is this
 * import's only when /importunits came after /importcenters and /quizimport.
 */
export function createUnitImportFeature(download: FileDownloader): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  const privateChats = feature.chatType("private");

  privateChats.command("importunits", async (ctx) => {
    const access = await importerAccess(ctx);
    if (!access) return;
    ctx.session.unitImportUntil = ctx.deps.now().getTime() + WAIT_FOR_FILE_MS;
    const scope = await describeScope(ctx, access.role === "admin" ? {} : { provinceCode: access.scope.provinceCode });
    await ctx.reply(ctx.t("unit-import:how", {
      scope, rows: UNIT_IMPORT_LIMITS.maxRows, size: mb(UNIT_IMPORT_LIMITS.maxBytes), min: UNIT_LIMITS.nameMin, max: UNIT_LIMITS.nameMax, depth: UNIT_LIMITS.depthMax,
      kinds: UNIT_KINDS.map((k) => ctx.t(`unit-import:kinds.${k}`)).join(", "), bodies: UNIT_BODIES.map((b) => ctx.t(`unit-import:bodies.${b}`)).join(", "), ...raw,
    }));
    const example = await ctx.deps.services.centers.exampleCommune(access);
    if (example) {
      const template = Buffer.from("\uFEFF" + toCsv(unitTemplateRows(example)), "utf8");
      await ctx.replyWithDocument(new InputFile(template, "units-template.csv"), { caption: ctx.t("unit-import:template_caption") });
    }
  });

  privateChats.on("message:document", async (ctx, next) => {
    const caption = ctx.message.caption ?? "";
    const until = ctx.session.unitImportUntil ?? 0;
    const latest = Math.max(ctx.session.centerImportUntil ?? 0, ctx.session.quizImportUntil ?? 0);
    const asked = CAPTION_COMMAND.test(caption) || (until > ctx.deps.now().getTime() && until > latest && !OTHER_CAPTIONS.test(caption));
    if (!asked) return next();
    const access = await importerAccess(ctx);
    if (!access) return;
    await importDocument(ctx, access, ctx.message.document, download);
  });
  return feature;
}

/** Admins and province officers; anyone else is refused (a commune officer told why). */
async function importerAccess(ctx: BotContext): Promise<Access | undefined> {
  const access = await requireRole(ctx, "officer");
  if (!access) return undefined;
  if (!UnitImportService.mayImport(access)) {
    await ctx.reply(ctx.t("unit-import:errors.forbidden"));
    return undefined;
  }
  return access;
}

async function importDocument(ctx: BotContext, access: Access, doc: Document, download: FileDownloader): Promise<void> {
  const kind = importFileKind(doc.file_name, doc.mime_type);
  if (!kind) {
    await ctx.reply(ctx.t("unit-import:wrong_type", { name: doc.file_name ?? "?" }));
    return;
  }
  if ((doc.file_size ?? 0) > UNIT_IMPORT_LIMITS.maxBytes) {
    await ctx.reply(describeUnitFileProblem(ctx.t, { kind: "too_big", maxBytes: UNIT_IMPORT_LIMITS.maxBytes }));
    return;
  }
  let bytes: Uint8Array;
  try {
    bytes = await download(ctx, doc.file_id);
  } catch (err) {
    ctx.logger.warn({ err }, "could not download a unit import file");
    await ctx.reply(ctx.t("unit-import:download_failed"));
    return;
  }
  const result = await ctx.deps.services.unitImport.importFile(bytes, kind, { ...access, id: String(ctx.from!.id) });
  if (result.ok) ctx.logger.info({ created: result.created, updated: result.updated, unchanged: result.unchanged, user: ctx.from!.id }, "imported units");
  const { text, more } = describeUnitImport(ctx.t, result, PROBLEMS_SHOWN);
  await ctx.reply(text);
  if (more > 0 && !result.ok && result.rows) await replyProblemList(ctx, result.rows);
}

async function replyProblemList(ctx: BotContext, problems: UnitRowProblem[]): Promise<void> {
  const csv = toCsv([
    [ctx.t("unit-import:csv_row"), ctx.t("unit-import:csv_column"), ctx.t("unit-import:csv_reason")],
    ...problems.map((p) => [p.row, p.column, unitRowReasonText(ctx.t, p)]),
  ]);
  await ctx.replyWithDocument(new InputFile(Buffer.from("\uFEFF" + csv, "utf8"), "units-problems.csv"), { caption: ctx.t("unit-import:problems_file") });
}
