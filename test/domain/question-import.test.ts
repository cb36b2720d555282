import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toCsv } from "../../src/domain/broadcasts/csv.js";
import { QUIZ_LIMITS } from "../../src/domain/quizzes/question-bank.js";
import {
  IMPORT_COLUMNS, IMPORT_LIMITS, importedQuestionId, importFileKind, importTemplateRows, importTemplateXlsx, parseQuestionFile, parseQuestionTable,
  QuestionImportService, type ImportQuestion,
} from "../../src/domain/quizzes/question-import.js";
import { readCsvTable } from "../../src/domain/quizzes/table-readers.js";
import type { Access } from "../../src/domain/users/user-service.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

// One database per file; every test uses its own question texts and officer ids, so each passes alone.
let db: Database;
let service: QuestionImportService;
beforeAll(async () => {
  db = await openTestDatabase();
  service = new QuestionImportService(db.prisma);
});
afterAll(() => db.close());

const HEADER = ["topic", "difficulty", "question_vi", "question_en", "option1_vi", "option2_vi", "option3_vi", "option1_en", "option2_en", "option3_en", "correct", "explanation_vi", "explanation_en", "source_vi", "source_en", "fact_id"];

/** A valid row; `tag` makes its content (and so its id) unique to a test. */
function row(tag: string, change: Record<string, string> = {}): Record<string, string> {
  return {
    topic: "sea", difficulty: "2",
    question_vi: `Lãnh hải rộng bao nhiêu hải lý? (${tag})`, question_en: `How wide is the territorial sea? (${tag})`,
    option1_vi: "12 hải lý", option2_vi: "24 hải lý", option3_vi: "200 hải lý",
    option1_en: "12 nautical miles", option2_en: "24 nautical miles", option3_en: "200 nautical miles",
    correct: "1", explanation_vi: "Lãnh hải rộng 12 hải lý tính từ đường cơ sở.", explanation_en: "12 nautical miles from the baseline.",
    source_vi: "Luật Biển Việt Nam 2012, Điều 11", source_en: "Law of the Sea of Vietnam 2012, Article 11", fact_id: "",
    ...change,
  };
}

const csvOf = (rows: Array<Record<string, string>>, header = HEADER) => Buffer.from(toCsv([header, ...rows.map((r) => header.map((c) => r[c] ?? ""))]), "utf8");
/** A workbook whose first sheet holds `cells` (row by row, from A1); `shape` edits the sheet first. */
async function xlsxOf(cells: ExcelJS.CellValue[][], shape: (sheet: ExcelJS.Worksheet, book: ExcelJS.Workbook) => void = () => {}): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet("Câu hỏi");
  cells.forEach((r, i) => r.forEach((v, j) => { if (v !== "") sheet.getCell(i + 1, j + 1).value = v; }));
  shape(sheet, book);
  return Buffer.from(await book.xlsx.writeBuffer());
}
const tableOf = (rows: Array<Record<string, string>>, header = HEADER) => [header, ...rows.map((r) => header.map((c) => r[c] ?? ""))];

const officer = (id: number, provinceCode: string): { telegramId: string; access: Access } => ({ telegramId: String(id), access: { role: "officer", scope: { provinceCode } } });
const admin = (id: number): { telegramId: string; access: Access } => ({ telegramId: String(id), access: { role: "admin", scope: {} } });
const idsOf = async (tag: string) => (await db.prisma.quizQuestion.findMany({ where: { question: { path: ["en"], string_contains: tag } }, orderBy: { id: "asc" } }));

describe("reading CSV", () => {
  it("reads quotes, doubled quotes, line breaks in cells, CRLF, a BOM and a semicolon delimiter", () => {
    const text = '\uFEFFa;b;c\r\n"x;1";"say ""hi""";"two\nlines"\r\nplain;;end\n';
    expect(readCsvTable(Buffer.from(text, "utf8"))).toEqual([["a", "b", "c"], ["x;1", 'say "hi"', "two\nlines"], ["plain", "", "end"]]);
  });

  it("refuses a file that is not UTF-8 text and an unclosed quote, naming the row", () => {
    expect(() => readCsvTable(Buffer.from([0x74, 0x6f, 0x70, 0x69, 0x63, 0x0a, 0xe0, 0x20]))).toThrow(expect.objectContaining({ problem: { kind: "not_utf8" } }));
    expect(() => readCsvTable(Buffer.from('a,b\n1,2\n"3,4\n5,6\n'))).toThrow(expect.objectContaining({ problem: { kind: "csv_unclosed_quote", row: 3 } }));
  });

  it("tells CSV and XLSX from the name first (Windows calls .csv a ms-excel file), then the type", () => {
    expect(importFileKind("cau-hoi.CSV", "application/vnd.ms-excel")).toBe("csv");
    expect(importFileKind("bo de.xlsx", "application/octet-stream")).toBe("xlsx");
    expect(importFileKind("cu.XLS", "application/vnd.ms-excel")).toBe("xls");
    expect(importFileKind(undefined, "text/csv")).toBe("csv");
    for (const name of ["notes.pdf", "sheet.ods", "questions.txt"]) expect(importFileKind(name, "text/csv"), name).toBeUndefined();
  });
});

describe("validating questions", () => {
  it("turns a good file into questions with 0-based answers, NFC text and optional columns left out", async () => {
    const decomposed = "Lãnh hải".normalize("NFD");
    const header = HEADER.filter((c) => !["option3_vi", "option3_en", "fact_id"].includes(c));
    const result = await parseQuestionFile(csvOf([row("good-a", { question_vi: `${decomposed}? (good-a)`, correct: "2", difficulty: "" })], header), "csv");
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.questions).toEqual([{
      row: 2, topic: "sea", difficulty: 1, factId: null,
      question: { vi: "Lãnh hải? (good-a)", en: "How wide is the territorial sea? (good-a)" },
      options: { vi: ["12 hải lý", "24 hải lý"], en: ["12 nautical miles", "24 nautical miles"] },
      correct: 1,
      explanation: { vi: "Lãnh hải rộng 12 hải lý tính từ đường cơ sở.", en: "12 nautical miles from the baseline." },
      source: { vi: "Luật Biển Việt Nam 2012, Điều 11", en: "Law of the Sea of Vietnam 2012, Article 11" },
    }]);
    expect(result.questions[0]!.question.vi.length).toBe("Lãnh hải? (good-a)".length);
  });

  it("lists every problem of every row, with its spreadsheet row, column and the limit broken", () => {
    const long = (n: number) => "x".repeat(n);
    const rows = [
      row("ok-1"),
      row("bad-2", { question_en: long(QUIZ_LIMITS.questionMax + 1), topic: "astronomy" }),
      row("bad-3", { option2_vi: "", option1_en: long(101) }),
      row("bad-4", { correct: "4", difficulty: "5", fact_id: "b-13" }),
      row("bad-5", { correct: "first", explanation_vi: "a\nb\nc\nd", source_en: "" }),
      row("bad-6", { option2_vi: "12 HẢI LÝ", option3_en: "" }),
      row("ok-1"),
    ];
    const result = parseQuestionTable(readCsvTable(csvOf(rows)));
    expect(result).toEqual({ ok: false, rows: [
      { row: 3, column: "topic", reason: "unknown_topic" },
      { row: 3, column: "question_en", reason: "too_long", limit: 300, found: 301 },
      { row: 4, column: "option2_vi", reason: "option_gap" },
      { row: 4, column: "option1_en", reason: "too_long", limit: 100, found: 101 },
      { row: 5, column: "difficulty", reason: "bad_difficulty" },
      { row: 5, column: "fact_id", reason: "bad_fact_id" },
      { row: 5, column: "correct", reason: "correct_out_of_range", limit: 3, found: 4 },
      { row: 6, column: "explanation_vi", reason: "too_many_line_feeds", limit: 2, found: 3 },
      { row: 6, column: "source_en", reason: "required" },
      { row: 6, column: "correct", reason: "not_a_number" },
      { row: 7, column: "option2_vi", reason: "duplicate_option", limit: 1 },
      { row: 7, column: "option3_en", reason: "options_count_differs", limit: 3, found: 2 },
      { row: 8, column: "question_vi", reason: "duplicate_row", limit: 2 },
    ] });
  });

  it("needs two options in each language and a number for the answer", () => {
    const result = parseQuestionTable(readCsvTable(csvOf([row("few", { option2_en: "", option3_en: "", correct: "" })])));
    expect(result).toEqual({ ok: false, rows: [
      { row: 2, column: "option2_en", reason: "too_few_options", limit: 2 },
      { row: 2, column: "correct", reason: "required" },
    ] });
  });

  it("refuses a wrong header as a whole, naming missing, unknown and repeated columns", () => {
    const header = ["Topic", "difficulty", "queston_vi", "question_en", "option1_vi", "option2_vi", "option1_en", "option2_en", "correct", "explanation_vi", "explanation_en", "source_vi", "source_en", "correct"];
    const result = parseQuestionTable([header, header]);
    expect(result).toEqual({ ok: false, file: { kind: "bad_header", missing: ["question_vi"], unknown: ["queston_vi"], duplicate: ["correct"] } });
  });

  it("refuses empty files, header-only files, too many rows and too many bytes", async () => {
    expect(await parseQuestionFile(Buffer.alloc(0), "csv")).toEqual({ ok: false, file: { kind: "empty" } });
    expect(await parseQuestionFile(Buffer.from("\n\n,,\n"), "csv")).toEqual({ ok: false, file: { kind: "empty" } });
    expect(await parseQuestionFile(csvOf([]), "csv")).toEqual({ ok: false, file: { kind: "empty" } });
    const many = Array.from({ length: 4 }, (_, i) => row(`many-${i}`));
    expect(parseQuestionTable(readCsvTable(csvOf(many)), { maxRows: 3 })).toEqual({ ok: false, file: { kind: "too_many_rows", max: 3, found: 4 } });
    expect(await parseQuestionFile(Buffer.alloc(IMPORT_LIMITS.maxBytes + 1, 0x61), "csv")).toEqual({ ok: false, file: { kind: "too_big", maxBytes: IMPORT_LIMITS.maxBytes } });
  });

  it("accepts its own template, so officers start from a file that works", async () => {
    const [header, example] = importTemplateRows();
    expect(header).toEqual([...IMPORT_COLUMNS]);
    const result = await parseQuestionFile(Buffer.from("\uFEFF" + toCsv([header!, example!]), "utf8"), "csv");
    expect(result.ok && result.questions.map((q) => [q.topic, q.options.en.length, q.correct, q.factId])).toEqual([["border-guard-law", 4, 0, "P20"]]);
  });
});

describe("reading XLSX", () => {
  it("imports a workbook exactly as the same CSV: numbers, rich text, formulas, dates, merged cells, NFC", async () => {
    const rows = [row("xl-a", { correct: "2", option3_vi: "3/3" }), row("xl-b", { difficulty: "3" }), row("xl-c", { topic: "sea", option3_vi: "" , option3_en: "" })];
    const csv = await parseQuestionFile(csvOf(rows), "csv");
    expect(csv.ok).toBe(true);
    const col = (name: string) => HEADER.indexOf(name) + 1;
    const xlsx = await xlsxOf(tableOf(rows), (sheet) => {
      // What people's sheets hold: numbers typed as numbers, bold words, a computed answer, a date.
      sheet.getCell(2, col("correct")).value = { formula: "1+1", result: 2 };
      sheet.getCell(3, col("correct")).value = 1;
      sheet.getCell(3, col("difficulty")).value = 3;
      sheet.getCell(2, col("difficulty")).value = 2;
      sheet.getCell(2, col("question_en")).value = { richText: [{ text: "How wide is the ", font: { bold: true } }, { text: "territorial sea? (xl-a)" }] };
      sheet.getCell(2, col("question_vi")).value = "  Lãnh hải rộng bao nhiêu hải lý? (xl-a) ".normalize("NFD");
      sheet.getCell(2, col("option3_vi")).value = new Date(Date.UTC(2026, 2, 3));
      sheet.getCell(2, col("option3_vi")).numFmt = "d/m";
      // One topic written once and merged down over the three rows.
      sheet.getCell(3, col("topic")).value = null;
      sheet.getCell(4, col("topic")).value = null;
      sheet.mergeCells(2, col("topic"), 4, col("topic"));
    });
    const read = await parseQuestionFile(xlsx, "xlsx");
    expect(read).toEqual(csv);
    expect(read.ok && read.questions.map((q) => [q.row, q.correct, q.difficulty, q.options.vi[2]])).toEqual([[2, 1, 2, "3/3"], [3, 0, 3, "200 hải lý"], [4, 0, 2, undefined]]);
  });

  it("reports a bad row by the number the spreadsheet shows, blank rows included", async () => {
    const bad = row("xl-bad", { option1_en: "" });
    const table = [HEADER, tableOf([row("xl-ok")])[1]!, [], [], HEADER.map((c) => bad[c] ?? "")];
    const read = await parseQuestionFile(await xlsxOf(table), "xlsx");
    expect(read).toEqual({ ok: false, rows: [{ row: 5, column: "option1_en", reason: "option_gap" }] });
    // Text spread over two columns belongs to the first: the second reads as empty, and says so.
    const spread = await xlsxOf(tableOf([row("xl-spread", { question_en: "" })]), (sheet) => sheet.mergeCells(2, 3, 2, 4));
    expect(await parseQuestionFile(spread, "xlsx")).toEqual({ ok: false, rows: [{ row: 2, column: "question_en", reason: "required" }] });
  });

  it("refuses damaged workbooks and old or locked .xls files clearly, and reads an .xlsx named .xls", async () => {
    const good = await xlsxOf(tableOf([row("xl-named")]));
    for (const bytes of [Buffer.from("PK\u0003\u0004 not really a zip"), good.subarray(0, good.length / 2), Buffer.from("topic,difficulty\n")]) {
      expect(await parseQuestionFile(bytes, "xlsx")).toEqual({ ok: false, file: { kind: "xlsx_unreadable" } });
    }
    const ole2 = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);
    expect(await parseQuestionFile(ole2, "xls")).toEqual({ ok: false, file: { kind: "xls_binary" } });
    expect(await parseQuestionFile(ole2, "xlsx")).toEqual({ ok: false, file: { kind: "xls_binary" } });
    expect(await parseQuestionFile(good, "xls")).toMatchObject({ ok: true, questions: [{ row: 2 }] });
  });

  it("refuses sheets that unpack or spread far beyond a question list, without building them", async () => {
    const tooLarge = { ok: false, file: { kind: "xlsx_too_large", maxRows: IMPORT_LIMITS.maxRows, maxColumns: 40 } };
    const base = tableOf([row("xl-huge")]);
    // 30 MB of text packs into a few dozen KB: the zip bomb.
    const bomb = await xlsxOf(base, (sheet) => { sheet.getCell("A5").value = "a".repeat(30 * 1024 * 1024); });
    expect(bomb.length).toBeLessThan(IMPORT_LIMITS.maxBytes);
    expect(await parseQuestionFile(bomb, "xlsx")).toEqual(tooLarge);
    expect(await parseQuestionFile(await xlsxOf(base, (sheet) => { sheet.getCell(200_000, 1).value = "far down"; }), "xlsx")).toEqual(tooLarge);
    expect(await parseQuestionFile(await xlsxOf(base, (sheet) => { sheet.getCell(2, 500).value = "far right"; }), "xlsx")).toEqual(tooLarge);
    expect(await parseQuestionFile(await xlsxOf(base, (sheet) => sheet.mergeCells("A10:Z2000")), "xlsx")).toEqual(tooLarge);
    // Data rows past maxRows are counted as for CSV.
    const many = tableOf(Array.from({ length: 4 }, (_, i) => row(`xl-many-${i}`)));
    expect(await parseQuestionFile(await xlsxOf(many), "xlsx", { maxRows: 3 })).toEqual({ ok: false, file: { kind: "too_many_rows", max: 3, found: 4 } });
  });

  it("offers a workbook template that imports as is", async () => {
    const result = await parseQuestionFile(await importTemplateXlsx(), "xlsx");
    expect(result.ok && result.questions.map((q) => [q.topic, q.options.vi, q.correct, q.factId])).toEqual([["border-guard-law", ["3/3", "22/12", "19/8", "28/3"], 0, "P20"]]);
  });
});

describe("importing", () => {
  it("stores every row for the officer's province, and the same file twice adds nothing", async () => {
    const file = csvOf([row("twice-1"), row("twice-2", { topic: "national-borders" })]);
    const first = await service.importFile(file, "csv", officer(8_100_001, "01"));
    expect(first).toEqual({ ok: true, added: 2, alreadyThere: 0, retiredAmongThem: 0, provinceCode: "01" });
    const again = await service.importFile(file, "csv", officer(8_100_001, "01"));
    expect(again).toEqual({ ok: true, added: 0, alreadyThere: 2, retiredAmongThem: 0, provinceCode: "01" });
    const stored = [...(await idsOf("(twice-1)")), ...(await idsOf("(twice-2)"))];
    expect(stored).toHaveLength(2);
    for (const q of stored) {
      expect(q).toMatchObject({ origin: "import", provinceCode: "01", importedById: 8_100_001n, retiredAt: null });
      expect(q.id).toMatch(/^imp-[0-9a-f]{16}$/);
    }
    expect(stored[0]!.options).toEqual({ vi: ["12 hải lý", "24 hải lý", "200 hải lý"], en: ["12 nautical miles", "24 nautical miles", "200 nautical miles"] });
  });

  it("keeps one province's copy apart from another's and from an admin's nationwide one", async () => {
    const file = csvOf([row("provinces")]);
    await service.importFile(file, "csv", officer(8_100_011, "02"));
    await service.importFile(file, "csv", officer(8_100_012, "04"));
    const nationwide = await service.importFile(file, "csv", admin(8_100_013));
    expect(nationwide).toMatchObject({ ok: true, added: 1, provinceCode: null });
    expect((await idsOf("(provinces)")).map((q) => q.provinceCode).sort()).toEqual(["02", "04", null]);
  });

  it("imports nothing when a single row is wrong", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(`half-${i}`));
    rows[29] = row("half-29", { option1_en: "" });
    const result = await service.importFile(csvOf(rows), "csv", officer(8_100_021, "06"));
    expect(result).toEqual({ ok: false, rows: [{ row: 31, column: "option1_en", reason: "option_gap" }] });
    expect(await db.prisma.quizQuestion.count({ where: { importedById: 8_100_021n } })).toBe(0);
  });

  it("refuses an officer without a province; ids depend on the province and the content only", async () => {
    expect(await service.importFile(csvOf([row("noscope")]), "csv", { telegramId: "8100031", access: { role: "officer", scope: {} } })).toEqual({ ok: false, reason: "no_scope" });
    const parsed = parseQuestionTable(readCsvTable(csvOf([row("same")])));
    const q = (parsed.ok ? parsed.questions[0] : undefined) as ImportQuestion;
    expect(importedQuestionId("08", q)).toBe(importedQuestionId("08", { ...q }));
    expect(importedQuestionId("08", q)).not.toBe(importedQuestionId("10", q));
    expect(importedQuestionId("08", q)).not.toBe(importedQuestionId("08", { ...q, correct: 1 }));
  });
});

describe("retiring", () => {
  it("lets an officer retire their province's imports once, and no one else's", async () => {
    const mine = officer(8_100_041, "11");
    await service.importFile(csvOf([row("retire-a"), row("retire-b")]), "csv", mine);
    await service.importFile(csvOf([row("retire-other")]), "csv", officer(8_100_042, "12"));
    await db.prisma.quizQuestion.upsert({
      where: { id: "test-bank-retire" },
      create: { id: "test-bank-retire", topic: "sea", difficulty: 1, factId: "B1", question: { vi: "q", en: "q (retire-bank)" }, options: { vi: ["a", "b"], en: ["a", "b"] }, correct: 0, explanation: { vi: "", en: "" }, source: { vi: "s", en: "s" }, origin: "bank" },
      update: { retiredAt: null, retiredById: null },
    });
    const [a] = await idsOf("(retire-a)");
    const [other] = await idsOf("(retire-other)");
    const now = new Date("2026-12-02T03:00:00Z");

    const listed = await service.list(mine, 0, 5);
    expect(listed.items.map((q) => q.question.en)).toEqual(expect.arrayContaining([expect.stringContaining("(retire-a)"), expect.stringContaining("(retire-b)")]));
    expect(listed.items.every((q) => q.provinceCode === "11" && q.origin === "import")).toBe(true);

    expect(await service.retire(other!.id, mine, now)).toEqual({ ok: false, reason: "forbidden" });
    expect(await service.retire("test-bank-retire", mine, now)).toEqual({ ok: false, reason: "forbidden" });
    expect(await service.retire("imp-0000000000000000", mine, now)).toEqual({ ok: false, reason: "not_found" });
    expect(await service.retire(a!.id, mine, now)).toMatchObject({ ok: true, question: { id: a!.id } });
    expect(await service.retire(a!.id, mine, now)).toEqual({ ok: false, reason: "already_retired" });
    expect(await db.prisma.quizQuestion.findUniqueOrThrow({ where: { id: a!.id } })).toMatchObject({ retiredAt: now, retiredById: 8_100_041n });
    expect((await service.list(mine, 0, 5)).items.map((q) => q.id)).not.toContain(a!.id);
    expect(await db.prisma.quizQuestion.findUniqueOrThrow({ where: { id: other!.id } })).toMatchObject({ retiredAt: null });

    // An admin retires anything, bank questions included; re-importing a retired one keeps it retired.
    expect(await service.retire("test-bank-retire", admin(8_100_043), now)).toMatchObject({ ok: true });
    expect(await service.importFile(csvOf([row("retire-a")]), "csv", mine)).toMatchObject({ ok: true, added: 0, alreadyThere: 1, retiredAmongThem: 1 });
    expect(await db.prisma.quizQuestion.findUniqueOrThrow({ where: { id: a!.id } })).toMatchObject({ retiredAt: now });
  });

  it("pages the list, clamping a page past the end", async () => {
    const mine = officer(8_100_051, "14");
    await service.importFile(csvOf(Array.from({ length: 7 }, (_, i) => row(`page-${i}`))), "csv", mine);
    const last = await service.list(mine, 99, 5);
    expect({ page: last.page, pages: last.pages, total: last.total, shown: last.items.length }).toEqual({ page: 1, pages: 2, total: 7, shown: 2 });
    expect(await service.list({ telegramId: "8100052", access: { role: "officer", scope: {} } }, 0)).toEqual({ items: [], page: 0, pages: 1, total: 0 });
  });
});
