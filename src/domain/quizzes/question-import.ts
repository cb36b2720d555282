/*
 * Officers' own quiz questions, imported from a spreadsheet (CSV or XLSX). Every row is checked against the same Telegram quiz-poll limits as
 * the bank, in both languages; one bad row and nothing is imported. Ids hash the province and the
 * content, so the same file twice adds nothing. Questions are retired, never deleted: rounds and
 * answers keep pointing at them.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";
import type { Access } from "../users/user-service.js";
import { QUIZ_LIMITS, TOPICS } from "./question-bank.js";
import { sniffedKind, TABLE_READERS, TableReadError, type ImportFileKind, type TableProblem } from "./table-readers.js";

export { importFileKind, type ImportFileKind } from "./table-readers.js";

export const IMPORT_LIMITS = {
  /** Far above 500 rows of text; a bigger file is not a question list. */
  maxBytes: 1024 * 1024,
  /** Data rows per file (the header and blank rows do not count). */
  maxRows: 500,
  sourceMax: 300,
} as const;

const LANGS = ["vi", "en"] as const;
type Lang = (typeof LANGS)[number];
const optionColumns = (lang: Lang) => Array.from({ length: QUIZ_LIMITS.optionsMax }, (_, i) => `option${i + 1}_${lang}`);

/** The header row, in this order in the template; option3…option10 may be left out. */
export const IMPORT_COLUMNS = [
  "topic", "difficulty",
  "question_vi", "question_en",
  ...optionColumns("vi"), ...optionColumns("en"),
  "correct",
  "explanation_vi", "explanation_en",
  "source_vi", "source_en",
  "fact_id",
] as const;
const OPTIONAL_COLUMNS = new Set(["fact_id", ...LANGS.flatMap((l) => optionColumns(l).slice(QUIZ_LIMITS.optionsMin))]);
const REQUIRED_COLUMNS = IMPORT_COLUMNS.filter((c) => !OPTIONAL_COLUMNS.has(c));

export type FileProblem =
  | TableProblem
  | { kind: "too_big"; maxBytes: number }
  | { kind: "empty" }
  | { kind: "bad_header"; missing: string[]; unknown: string[]; duplicate: string[] }
  | { kind: "too_many_rows"; max: number; found: number };

export type RowReason =
  | "required"
  | "too_long"
  | "too_many_line_feeds"
  | "unknown_topic"
  | "bad_difficulty"
  | "not_a_number"
  | "correct_out_of_range"
  | "option_gap"
  | "too_few_options"
  | "options_count_differs"
  | "duplicate_option"
  | "bad_fact_id"
  | "duplicate_row";

/** One thing wrong in one cell: `row` as a spreadsheet numbers it (the header is row 1). */
export interface RowProblem {
  row: number;
  column: string;
  reason: RowReason;
  /** The limit broken (characters, options, line feeds), or the other row/option it repeats. */
  limit?: number;
  /** What was found (its length, its number). */
  found?: number;
}

export interface ImportQuestion {
  topic: string;
  difficulty: 1 | 2 | 3;
  factId: string | null;
  question: Record<Lang, string>;
  options: Record<Lang, string[]>;
  /** 0-based, like the bank. */
  correct: number;
  explanation: Record<Lang, string>;
  source: Record<Lang, string>;
}

export type ParseResult =
  | { ok: true; questions: Array<ImportQuestion & { row: number }> }
  | { ok: false; file: FileProblem; rows?: undefined }
  | { ok: false; file?: undefined; rows: RowProblem[] };

export interface ParseOptions {
  /** Topic keys a question may have (default: the bank's topics, so the picker can find it). */
  topics?: readonly string[];
  maxRows?: number;
}

const normaliseHeader = (s: string) => s.replace(/^\uFEFF/, "").trim().toLowerCase().replace(/[\s-]+/g, "_");
/** NFC: text typed on some systems arrives decomposed, which would double its length and its id. */
const normaliseCell = (s: string | undefined) => (s ?? "").normalize("NFC").replace(/\r\n?/g, "\n").trim();
const optionKey = (s: string) => s.toLocaleLowerCase("vi");
const lineFeeds = (s: string) => (s.match(/\n/g) ?? []).length;

const difficultySchema = z.enum(["1", "2", "3"]).transform((d) => Number(d) as 1 | 2 | 3);
const factIdSchema = z.string().regex(/^[A-Z]\d{1,2}$/);

/** Reads a file's bytes as a question table; the file's kind comes from importFileKind. */
export async function parseQuestionFile(bytes: Uint8Array, kind: ImportFileKind, options: ParseOptions = {}): Promise<ParseResult> {
  if (bytes.byteLength > IMPORT_LIMITS.maxBytes) return { ok: false, file: { kind: "too_big", maxBytes: IMPORT_LIMITS.maxBytes } };
  if (bytes.byteLength === 0) return { ok: false, file: { kind: "empty" } };
  const reader = TABLE_READERS[sniffedKind(bytes, kind)];
  if (!reader) return { ok: false, file: { kind: "xls_binary" } };
  try {
    return parseQuestionTable(await reader(bytes, { maxRows: options.maxRows ?? IMPORT_LIMITS.maxRows }), options);
  } catch (e) {
    if (e instanceof TableReadError) return { ok: false, file: e.problem };
    throw e;
  }
}

/** Validates a table (header row first): every problem of every row, or the questions. */
export function parseQuestionTable(table: readonly (readonly string[])[], options: ParseOptions = {}): ParseResult {
  const topics = new Set(options.topics ?? TOPICS.map((t) => t.key));
  const maxRows = options.maxRows ?? IMPORT_LIMITS.maxRows;
  const isBlank = (r: readonly string[]) => r.every((c) => normaliseCell(c) === "");
  const headerIndex = table.findIndex((r) => !isBlank(r));
  if (headerIndex === -1) return { ok: false, file: { kind: "empty" } };

  const header = table[headerIndex]!.map(normaliseHeader);
  const known = new Set<string>(IMPORT_COLUMNS);
  const named = header.filter((h) => h !== "");
  const duplicate = [...new Set(named.filter((h, i) => named.indexOf(h) !== i))];
  const unknown = named.filter((h) => !known.has(h));
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length || unknown.length || duplicate.length) return { ok: false, file: { kind: "bad_header", missing, unknown, duplicate } };

  const dataRows = table.map((cells, i) => ({ cells, row: i + 1 })).slice(headerIndex + 1).filter((r) => !isBlank(r.cells));
  if (dataRows.length === 0) return { ok: false, file: { kind: "empty" } };
  if (dataRows.length > maxRows) return { ok: false, file: { kind: "too_many_rows", max: maxRows, found: dataRows.length } };

  const problems: RowProblem[] = [];
  const questions: Array<ImportQuestion & { row: number }> = [];
  const seen = new Map<string, number>();
  for (const { cells, row } of dataRows) {
    const get = (column: string) => {
      const i = header.indexOf(column);
      return i === -1 ? "" : normaliseCell(cells[i]);
    };
    const rowProblems: RowProblem[] = [];
    const problem = (column: string, reason: RowReason, extra: { limit?: number; found?: number } = {}) => rowProblems.push({ row, column, reason, ...extra });
    const text = (column: string, max: number, required = true) => {
      const value = get(column);
      if (required && value === "") problem(column, "required");
      else if (value.length > max) problem(column, "too_long", { limit: max, found: value.length });
      return value;
    };

    const topic = get("topic").toLowerCase();
    if (topic === "") problem("topic", "required");
    else if (!topics.has(topic)) problem("topic", "unknown_topic");
    const rawDifficulty = get("difficulty");
    const difficulty = difficultySchema.safeParse(rawDifficulty === "" ? "1" : rawDifficulty);
    if (!difficulty.success) problem("difficulty", "bad_difficulty");
    const rawFact = get("fact_id").toUpperCase();
    if (rawFact !== "" && !factIdSchema.safeParse(rawFact).success) problem("fact_id", "bad_fact_id");

    const question = { vi: "", en: "" };
    const opts: Record<Lang, string[]> = { vi: [], en: [] };
    const explanation = { vi: "", en: "" };
    const source = { vi: "", en: "" };
    for (const lang of LANGS) {
      question[lang] = text(`question_${lang}`, QUIZ_LIMITS.questionMax);
      explanation[lang] = text(`explanation_${lang}`, QUIZ_LIMITS.explanationMax, false);
      if (lineFeeds(explanation[lang]) > QUIZ_LIMITS.explanationLineFeedsMax) {
        problem(`explanation_${lang}`, "too_many_line_feeds", { limit: QUIZ_LIMITS.explanationLineFeedsMax, found: lineFeeds(explanation[lang]) });
      }
      source[lang] = text(`source_${lang}`, IMPORT_LIMITS.sourceMax);
      opts[lang] = readOptions(lang, get, problem);
    }
    const count = opts.vi.length;
    if (opts.vi.length >= QUIZ_LIMITS.optionsMin && opts.en.length >= QUIZ_LIMITS.optionsMin && opts.en.length !== count) {
      // Pointed at the first option the shorter language lacks.
      problem(`option${Math.min(count, opts.en.length) + 1}_${count > opts.en.length ? "en" : "vi"}`, "options_count_differs", { limit: count, found: opts.en.length });
    }
    const rawCorrect = get("correct");
    const correct = Number(rawCorrect);
    if (rawCorrect === "") problem("correct", "required");
    else if (!/^\d+$/.test(rawCorrect)) problem("correct", "not_a_number");
    else if (count >= QUIZ_LIMITS.optionsMin && (correct < 1 || correct > count)) problem("correct", "correct_out_of_range", { limit: count, found: correct });

    if (rowProblems.length > 0) {
      problems.push(...rowProblems);
      continue;
    }
    const q: ImportQuestion = {
      topic, difficulty: difficulty.data!, factId: rawFact || null, question, options: opts, correct: correct - 1, explanation, source,
    };
    const key = contentKey(q);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ row, column: "question_vi", reason: "duplicate_row", limit: first });
      continue;
    }
    seen.set(key, row);
    questions.push({ ...q, row });
  }
  return problems.length > 0 ? { ok: false, rows: problems } : { ok: true, questions };
}

/** option1…option10 of one language: contiguous from option1, at least two, distinct, each ≤ 100. */
function readOptions(lang: Lang, get: (c: string) => string, problem: (c: string, r: RowReason, e?: { limit?: number; found?: number }) => void): string[] {
  const cells = optionColumns(lang).map((column) => ({ column, value: get(column) }));
  const lastFilled = cells.findLastIndex((c) => c.value !== "");
  const used = cells.slice(0, lastFilled + 1);
  const seen = new Map<string, number>();
  used.forEach(({ column, value }, i) => {
    if (value === "") return problem(column, "option_gap");
    if (value.length > QUIZ_LIMITS.optionMax) problem(column, "too_long", { limit: QUIZ_LIMITS.optionMax, found: value.length });
    const first = seen.get(optionKey(value));
    if (first !== undefined) problem(column, "duplicate_option", { limit: first + 1 });
    else seen.set(optionKey(value), i);
  });
  if (used.length < QUIZ_LIMITS.optionsMin) problem(`option${used.length + 1}_${lang}`, "too_few_options", { limit: QUIZ_LIMITS.optionsMin });
  return used.map((c) => c.value);
}

/** The content that makes a question what it is, in a fixed order: any edit makes a new question. */
function contentKey(q: ImportQuestion): string {
  return JSON.stringify([q.topic, q.difficulty, q.factId, q.question.vi, q.question.en, q.options.vi, q.options.en, q.correct, q.explanation.vi, q.explanation.en, q.source.vi, q.source.en]);
}

/** "imp-" + 16 hex of sha256(province or "all", content): one file imported twice adds nothing. */
export function importedQuestionId(provinceCode: string | null, q: ImportQuestion): string {
  return "imp-" + createHash("sha256").update(`${provinceCode ?? "all"}\n${contentKey(q)}`).digest("hex").slice(0, 16);
}

export type ImportOutcome =
  | { ok: true; added: number; alreadyThere: number; retiredAmongThem: number; provinceCode: string | null }
  | { ok: false; reason: "no_scope" }
  | (ParseResult & { ok: false });

export interface QuizQuestionSummary {
  id: string;
  topic: string;
  origin: "bank" | "import";
  provinceCode: string | null;
  question: Record<Lang, string>;
  options: Record<Lang, string[]>;
  correct: number;
  createdAt: Date;
}

export interface QuestionPage {
  items: QuizQuestionSummary[];
  page: number;
  pages: number;
  total: number;
}

export type RetireResult =
  | { ok: true; question: QuizQuestionSummary }
  | { ok: false; reason: "not_found" | "already_retired" | "forbidden" };

/** Whose questions an officer manages: an admin all of them, an officer their province's imports. */
type Manager = { telegramId: string; access: Access };

/** The province an officer's imports serve; null for admins (nationwide); undefined: no province to serve. */
export function importProvince(access: Access): string | null | undefined {
  if (access.role === "admin") return null;
  if (access.role === "officer") return access.scope.provinceCode ?? undefined;
  return undefined;
}

export class QuestionImportService {
  constructor(private readonly prisma: PrismaClient) {}

  /** Parses, validates and stores a file in one statement: every row or none. The caller checked the role. */
  async importFile(bytes: Uint8Array, kind: ImportFileKind, by: Manager, options: ParseOptions = {}): Promise<ImportOutcome> {
    const provinceCode = importProvince(by.access);
    if (provinceCode === undefined) return { ok: false, reason: "no_scope" };
    const parsed = await parseQuestionFile(bytes, kind, options);
    if (!parsed.ok) return parsed;
    const rows = parsed.questions.map(({ row: _row, ...q }) => ({
      id: importedQuestionId(provinceCode, q),
      topic: q.topic,
      difficulty: q.difficulty,
      factId: q.factId,
      question: q.question,
      options: q.options,
      correct: q.correct,
      explanation: q.explanation,
      source: q.source,
      origin: "import",
      provinceCode,
      importedById: BigInt(by.telegramId),
    }));
    const existing = await this.prisma.quizQuestion.findMany({ where: { id: { in: rows.map((r) => r.id) } }, select: { retiredAt: true } });
    // One INSERT … ON CONFLICT DO NOTHING: atomic, and a concurrent import of the same file adds nothing twice.
    const { count } = await this.prisma.quizQuestion.createMany({ data: rows, skipDuplicates: true });
    return { ok: true, added: count, alreadyThere: rows.length - count, retiredAmongThem: existing.filter((e) => e.retiredAt !== null).length, provinceCode };
  }

  /** Questions the manager may retire, not yet retired: an officer's province imports, newest first; for admins everything, imports first. */
  async list(by: Manager, page: number, pageSize = 5): Promise<QuestionPage> {
    const where = this.manageable(by);
    if (!where) return { items: [], page: 0, pages: 1, total: 0 };
    const activeWhere = { ...where, retiredAt: null };
    const total = await this.prisma.quizQuestion.count({ where: activeWhere });
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const current = Math.min(Math.max(0, page), pages - 1);
    const rows = await this.prisma.quizQuestion.findMany({
      where: activeWhere,
      orderBy: [{ origin: "desc" }, { createdAt: "desc" }, { id: "asc" }],
      skip: current * pageSize,
      take: pageSize,
    });
    return { items: rows.map(summary), page: current, pages, total };
  }

  /** A question the manager may retire (retired or not), or why not. */
  async find(id: string, by: Manager): Promise<RetireResult> {
    const row = await this.prisma.quizQuestion.findUnique({ where: { id } });
    if (!row) return { ok: false, reason: "not_found" };
    if (!this.mayManage(row, by)) return { ok: false, reason: "forbidden" };
    if (row.retiredAt) return { ok: false, reason: "already_retired" };
    return { ok: true, question: summary(row) };
  }

  /** Retires once: a second press, or a question outside the manager's reach, changes nothing. */
  async retire(id: string, by: Manager, now: Date): Promise<RetireResult> {
    const found = await this.find(id, by);
    if (!found.ok) return found;
    const { count } = await this.prisma.quizQuestion.updateMany({ where: { id, retiredAt: null }, data: { retiredAt: now, retiredById: BigInt(by.telegramId) } });
    return count === 1 ? found : { ok: false, reason: "already_retired" };
  }

  private manageable(by: Manager): { origin?: string; provinceCode?: string } | undefined {
    if (by.access.role === "admin") return {};
    const province = importProvince(by.access);
    return province ? { origin: "import", provinceCode: province } : undefined;
  }

  private mayManage(row: { origin: string; provinceCode: string | null }, by: Manager): boolean {
    if (by.access.role === "admin") return true;
    const province = importProvince(by.access);
    return Boolean(province) && row.origin === "import" && row.provinceCode === province;
  }
}

function summary(row: { id: string; topic: string; origin: string; provinceCode: string | null; question: unknown; options: unknown; correct: number; createdAt: Date }): QuizQuestionSummary {
  return {
    id: row.id,
    topic: row.topic,
    origin: row.origin === "bank" ? "bank" : "import",
    provinceCode: row.provinceCode,
    question: row.question as Record<Lang, string>,
    options: row.options as Record<Lang, string[]>,
    correct: row.correct,
    createdAt: row.createdAt,
  };
}

/** A template officers fill in: the header and one example row (Excel opens UTF-8 only with the BOM). */
export function importTemplateRows(): string[][] {
  // The bank's question bp-023, as a row: a real example rather than an invented one.
  const example: Record<string, string> = {
    topic: "border-guard-law",
    difficulty: "1",
    question_vi: "Ngày Biên phòng toàn dân là ngày nào hằng năm?",
    question_en: "On which date each year is All-People's Border Defence Day?",
    option1_vi: "3/3", option2_vi: "22/12", option3_vi: "19/8", option4_vi: "28/3",
    option1_en: "3 March", option2_en: "22 December", option3_en: "19 August", option4_en: "28 March",
    correct: "1",
    explanation_vi: "Điều 23 Luật Biên phòng VN: ngày 3/3 hằng năm là Ngày truyền thống BĐBP, Ngày Biên phòng toàn dân.",
    explanation_en: "Article 23: 3 March is the Border Guard's Traditional Day and All-People's Border Defence Day.",
    source_vi: "Luật Biên phòng Việt Nam 2020 (66/2020/QH14), Điều 23",
    source_en: "Law on Vietnam Border Guard 2020 (66/2020/QH14), Article 23",
    fact_id: "P20",
  };
  return [[...IMPORT_COLUMNS], IMPORT_COLUMNS.map((c) => example[c] ?? "")];
}

/**
 * The template as a workbook: the header bold and frozen, every cell formatted as text so that
 * "3/3" or "1" typed in stays as typed (not a date, not 1.00), columns wide enough to read.
 */
export async function importTemplateXlsx(): Promise<Buffer> {
  const { default: ExcelJS } = await import("exceljs");
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet("questions", { views: [{ state: "frozen", ySplit: 1 }] });
  const [header, example] = importTemplateRows();
  sheet.columns = header!.map((key) => ({ key, width: /^(question|explanation|source)_/.test(key) ? 40 : /^option/.test(key) ? 18 : 12, style: { numFmt: "@" } }));
  sheet.addRow(header);
  sheet.addRow(example);
  sheet.getRow(1).font = { bold: true };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** Who imported or retired questions: exported on /mydata; erasure keeps the questions, drops the names. */
export function quizImportDataParts(prisma: PrismaClient): PersonalDataPart[] {
  const mine = (id: string) => ({ OR: [{ importedById: BigInt(id) }, { retiredById: BigInt(id) }] });
  return [
    {
      key: "quiz_questions",
      label: "quiz-import:personal_data",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.quizQuestion.findMany({ where: mine(id), orderBy: { createdAt: "asc" }, select: { id: true, topic: true, question: true, importedById: true, createdAt: true, retiredAt: true } });
        return toPlainJson(rows.map(({ importedById, ...r }) => ({ ...r, imported: importedById === BigInt(id) })));
      },
      exists: async (id) => (await prisma.quizQuestion.count({ where: mine(id) })) > 0,
      erase: async (id, tx) => {
        const db = tx ?? prisma;
        const a = await db.quizQuestion.updateMany({ where: { importedById: BigInt(id) }, data: { importedById: null } });
        const b = await db.quizQuestion.updateMany({ where: { retiredById: BigInt(id) }, data: { retiredById: null } });
        return a.count + b.count > 0;
      },
    },
  ];
}
