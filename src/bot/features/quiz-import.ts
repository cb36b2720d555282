import { Composer, InlineKeyboard, InputFile } from "grammy";
import type { Document } from "grammy/types";
import { toCsv } from "../../domain/broadcasts/csv.js";
import { TOPICS, QUIZ_LIMITS } from "../../domain/quizzes/question-bank.js";
import {
  IMPORT_LIMITS, importFileKind, importProvince, importTemplateRows, importTemplateXlsx,
  type FileProblem, type QuestionPage, type QuizQuestionSummary, type RowProblem,
} from "../../domain/quizzes/question-import.js";
import { roleAtLeast, type Access } from "../../domain/users/user-service.js";
import { escapeHtml } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { onButton } from "../helpers/buttons.js";
import type { FileDownloader } from "../helpers/download-file.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { describeScope } from "./scope.js";

/** After /quizimport, the next spreadsheet within this time is taken as the import. */
const WAIT_FOR_FILE_MS = 30 * 60_000;
const PAGE_SIZE = 5;
/** Problems listed in the reply; the rest go into an attached CSV. */
const PROBLEMS_SHOWN = 20;
const CAPTION_COMMAND = /^\/quizimport(@\w+)?(\s|$)/i;

const mb = (bytes: number) => String(Math.round((bytes / (1024 * 1024)) * 10) / 10);
const clip = (s: string, max: number) => (s.length > max ? s.slice(0, max - 1) + "…" : s);
const topicTitle = (ctx: BotContext, key: string) => TOPICS.find((t) => t.key === key)?.title[ctx.locale] ?? key;
const manager = (ctx: BotContext, access: Access) => ({ telegramId: String(ctx.from!.id), access });

/**
 * /quizimport (the format, a template, then the file) and /quizquestions (list, retire). Officers
 * import for their province, admins nationwide; every step checks the role again.
 */
export function createQuizImportFeature(download: FileDownloader): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  const privateChats = feature.chatType("private");

  privateChats.command("quizimport", async (ctx) => {
    const access = await requireRole(ctx, "officer");
    if (!access) return;
    const province = importProvince(access);
    if (province === undefined) {
      await ctx.reply(ctx.t("quiz-import:errors.no_scope"));
      return;
    }
    ctx.session.quizImportUntil = ctx.deps.now().getTime() + WAIT_FOR_FILE_MS;
    await ctx.reply(
      ctx.t("quiz-import:how.text", {
        scope: await describeScope(ctx, { provinceCode: province ?? undefined }),
        topics: TOPICS.map((t) => `• <code>${t.key}</code> – ${escapeHtml(t.title[ctx.locale])}`).join("\n"),
        rows: IMPORT_LIMITS.maxRows, size: mb(IMPORT_LIMITS.maxBytes),
        question: QUIZ_LIMITS.questionMax, option: QUIZ_LIMITS.optionMax, explanation: QUIZ_LIMITS.explanationMax,
        interpolation: { escapeValue: false },
      }),
    );
    // Both formats: Excel users fill in the .xlsx as is; the CSV suits every other spreadsheet.
    await ctx.replyWithDocument(new InputFile(await importTemplateXlsx(), "quiz-questions-template.xlsx"), { caption: ctx.t("quiz-import:how.template_caption_xlsx") });
    const template = Buffer.from("\uFEFF" + toCsv(importTemplateRows()), "utf8");
    await ctx.replyWithDocument(new InputFile(template, "quiz-questions-template.csv"), { caption: ctx.t("quiz-import:how.template_caption") });
  });

  privateChats.on("message:document", async (ctx, next) => {
    const doc = ctx.message.document;
    const asked = CAPTION_COMMAND.test(ctx.message.caption ?? "") || (ctx.session.quizImportUntil ?? 0) > ctx.deps.now().getTime();
    if (!asked) {
      // A spreadsheet from an officer who forgot the command: say how, instead of "unsupported".
      if (importFileKind(doc.file_name, doc.mime_type) && roleAtLeast((await ctx.deps.services.users.access(String(ctx.from.id))).role, "officer")) {
        await ctx.reply(ctx.t("quiz-import:errors.send_command_first"));
        return;
      }
      return next();
    }
    const access = await requireRole(ctx, "officer");
    if (!access) return;
    await importDocument(ctx, access, doc, download);
  });

  privateChats.command("quizquestions", async (ctx) => {
    const access = await requireRole(ctx, "officer");
    if (!access) return;
    const { text, keyboard } = await listScreen(ctx, access, 0);
    await ctx.reply(text, { reply_markup: keyboard });
  });

  feature.use(
    onButton(cb.quizQuestions, async (ctx, value) => {
      const access = await requireRole(ctx, "officer");
      if (!access) return;
      const [verb, rawPage, id] = value.split(".") as ["p" | "r" | "y", string, string | undefined];
      const page = Number(rawPage);
      const service = ctx.deps.services.quizImport;
      if (verb === "p") {
        await ctx.answerCallbackQuery();
        const { text, keyboard } = await listScreen(ctx, access, page);
        await editOrReply(ctx, text, keyboard);
        return;
      }
      const result = verb === "r" ? await service.find(id!, manager(ctx, access)) : await service.retire(id!, manager(ctx, access), ctx.deps.now());
      if (!result.ok) {
        if (result.reason === "forbidden") ctx.logger.warn({ question: id, user: ctx.from.id }, "refused to retire a question outside the officer's scope");
        await ctx.answerCallbackQuery({ text: ctx.t(`quiz-import:retire.${result.reason}`), show_alert: true });
        // A stale list (retired or gone meanwhile) is brought up to date.
        if (result.reason !== "forbidden") {
          const { text, keyboard } = await listScreen(ctx, access, page);
          await editOrReply(ctx, text, keyboard);
        }
        return;
      }
      if (verb === "r") {
        await ctx.answerCallbackQuery();
        const keyboard = new InlineKeyboard()
          .text(ctx.t("quiz-import:retire.confirm"), cb.quizQuestions.pack(`y.${page}.${result.question.id}`))
          .text(ctx.t("quiz-import:retire.back"), cb.quizQuestions.pack(`p.${page}`));
        await editOrReply(ctx, confirmText(ctx, result.question), keyboard);
        return;
      }
      ctx.logger.info({ question: result.question.id, user: ctx.from.id }, "retired a quiz question");
      await ctx.answerCallbackQuery({ text: ctx.t("quiz-import:retire.done_toast") });
      const { text, keyboard } = await listScreen(ctx, access, page);
      const done = ctx.t("quiz-import:retire.done", { question: clip(result.question.question[ctx.locale], 120) });
      await editOrReply(ctx, `${done}\n\n${text}`, keyboard);
    }),
  );
  return feature;
}

async function importDocument(ctx: BotContext, access: Access, doc: Document, download: FileDownloader): Promise<void> {
  const kind = importFileKind(doc.file_name, doc.mime_type);
  if (!kind) {
    await ctx.reply(ctx.t("quiz-import:errors.wrong_type", { name: doc.file_name ?? "?" }));
    return;
  }
  if ((doc.file_size ?? 0) > IMPORT_LIMITS.maxBytes) {
    await ctx.reply(fileProblemText(ctx, { kind: "too_big", maxBytes: IMPORT_LIMITS.maxBytes }));
    return;
  }
  let bytes: Uint8Array;
  try {
    bytes = await download(ctx, doc.file_id);
  } catch (err) {
    ctx.logger.warn({ err }, "could not download an import file");
    await ctx.reply(ctx.t("quiz-import:errors.download_failed"));
    return;
  }
  const outcome = await ctx.deps.services.quizImport.importFile(bytes, kind, manager(ctx, access));
  if (outcome.ok) {
    ctx.logger.info({ added: outcome.added, already: outcome.alreadyThere, user: ctx.from!.id }, "imported quiz questions");
    const lines = [
      ctx.t("quiz-import:done.text", {
        added: outcome.added, already: outcome.alreadyThere,
        scope: await describeScope(ctx, { provinceCode: outcome.provinceCode ?? undefined }), interpolation: { escapeValue: false },
      }),
    ];
    if (outcome.retiredAmongThem > 0) lines.push(ctx.t("quiz-import:done.retired", { count: outcome.retiredAmongThem }));
    lines.push(ctx.t("quiz-import:done.manage"));
    await ctx.reply(lines.join("\n\n"));
    return;
  }
  if ("reason" in outcome) {
    await ctx.reply(ctx.t("quiz-import:errors.no_scope"));
    return;
  }
  if (outcome.file) {
    await ctx.reply(fileProblemText(ctx, outcome.file));
    return;
  }
  await replyRowProblems(ctx, outcome.rows);
}

function fileProblemText(ctx: BotContext, problem: FileProblem): string {
  switch (problem.kind) {
    case "too_big":
      return ctx.t("quiz-import:errors.too_big", { size: mb(problem.maxBytes) });
    case "too_many_rows":
      return ctx.t("quiz-import:errors.too_many_rows", { max: problem.max, found: problem.found });
    case "csv_unclosed_quote":
      return ctx.t("quiz-import:errors.csv_unclosed_quote", { row: problem.row });
    case "xlsx_too_large":
      return ctx.t("quiz-import:errors.xlsx_too_large", { rows: problem.maxRows, columns: problem.maxColumns });
    case "bad_header": {
      const parts = [ctx.t("quiz-import:errors.bad_header")];
      const list = (names: string[]) => names.map((n) => `<code>${n}</code>`).join(", ");
      if (problem.missing.length) parts.push(ctx.t("quiz-import:errors.header_missing", { columns: list(problem.missing), interpolation: { escapeValue: false } }));
      if (problem.unknown.length) parts.push(ctx.t("quiz-import:errors.header_unknown", { columns: problem.unknown.map((n) => `«${n}»`).join(", ") }));
      if (problem.duplicate.length) parts.push(ctx.t("quiz-import:errors.header_duplicate", { columns: problem.duplicate.map((n) => `«${n}»`).join(", ") }));
      parts.push(ctx.t("quiz-import:errors.see_template"));
      return parts.join("\n");
    }
    default:
      return ctx.t(`quiz-import:errors.${problem.kind}`);
  }
}

const reasonText = (ctx: BotContext, p: RowProblem) => ctx.t(`quiz-import:reason.${p.reason}`, { limit: p.limit, found: p.found });

async function replyRowProblems(ctx: BotContext, problems: RowProblem[]): Promise<void> {
  const rows = new Set(problems.map((p) => p.row)).size;
  const lines = problems
    .slice(0, PROBLEMS_SHOWN)
    .map((p) => ctx.t("quiz-import:errors.row_line", { row: p.row, column: p.column, reason: reasonText(ctx, p) }));
  const text = [ctx.t("quiz-import:errors.rows_title", { problems: problems.length, rows }), "", ...lines];
  const more = problems.length - PROBLEMS_SHOWN;
  if (more > 0) text.push("", ctx.t("quiz-import:errors.rows_more", { count: more }));
  await ctx.reply(text.join("\n"));
  if (more > 0) {
    const csv = toCsv([
      [ctx.t("quiz-import:errors.csv_row"), ctx.t("quiz-import:errors.csv_column"), ctx.t("quiz-import:errors.csv_reason")],
      ...problems.map((p) => [p.row, p.column, reasonText(ctx, p)]),
    ]);
    await ctx.replyWithDocument(new InputFile(Buffer.from("\uFEFF" + csv, "utf8"), "quiz-import-problems.csv"));
  }
}

async function listScreen(ctx: BotContext, access: Access, page: number): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const list: QuestionPage = await ctx.deps.services.quizImport.list(manager(ctx, access), page, PAGE_SIZE);
  const keyboard = new InlineKeyboard();
  const scope = await describeScope(ctx, { provinceCode: importProvince(access) ?? undefined });
  if (list.total === 0) return { text: ctx.t("quiz-import:list.empty", { scope, interpolation: { escapeValue: false } }), keyboard };
  const first = list.page * PAGE_SIZE;
  const lines = list.items.map((q, i) =>
    ctx.t(q.origin === "bank" ? "quiz-import:list.line_bank" : "quiz-import:list.line", {
      n: first + i + 1, topic: topicTitle(ctx, q.topic), question: clip(q.question[ctx.locale], 120), id: q.id,
    }),
  );
  list.items.forEach((q, i) => keyboard.text(`🗑 ${first + i + 1}`, cb.quizQuestions.pack(`r.${list.page}.${q.id}`)));
  if (list.pages > 1) {
    keyboard.row();
    if (list.page > 0) keyboard.text(ctx.t("quiz-import:list.previous"), cb.quizQuestions.pack(`p.${list.page - 1}`));
    if (list.page < list.pages - 1) keyboard.text(ctx.t("quiz-import:list.next"), cb.quizQuestions.pack(`p.${list.page + 1}`));
  }
  const title = ctx.t("quiz-import:list.title", { scope, total: list.total, page: list.page + 1, pages: list.pages, interpolation: { escapeValue: false } });
  return { text: [title, "", ...lines, "", ctx.t("quiz-import:list.hint")].join("\n"), keyboard };
}

function confirmText(ctx: BotContext, q: QuizQuestionSummary): string {
  const options = q.options[ctx.locale].map((o, i) => ctx.t(i === q.correct ? "quiz-import:retire.option_correct" : "quiz-import:retire.option", { option: o }));
  return [ctx.t("quiz-import:retire.ask", { topic: topicTitle(ctx, q.topic), question: q.question[ctx.locale], id: q.id }), ...options].join("\n");
}
