/*
 * XLSX files as rows of text cells (the first visible worksheet), read with exceljs. A 1 MB file
 * can unpack to a gigabyte, or name a merged range or a row a million cells away; exceljs would
 * inflate and build all of it. So the zip is first walked here with a hard cap on every entry's
 * inflated bytes (zlib's maxOutputLength: sizes the archive declares are not trusted), merged
 * areas are counted, and exceljs then parses with row and column caps and without the parts that
 * expand ranges cell by cell (data validations) or are not needed (drawings, styles of columns…).
 */
import { inflateRawSync } from "node:zlib";
import type { Cell, CellValue, Workbook } from "exceljs";
import { TableReadError, type ReadLimits } from "./table-read-error.js";

export const XLSX_LIMITS = {
  /** Columns read; the template has 30. With the rows, ~32,000 cells: about 20 MB of heap in exceljs. */
  maxColumns: 40,
  /** Sheet rows beyond the data rows wanted: the header, a title, blank or formatted rows. */
  spareRows: 300,
  /** All entries together, inflated: a 500-row question list in both languages is well under 5 MB. */
  maxUnzippedBytes: 12 * 1024 * 1024,
  maxEntries: 500,
  /** Cells covered by merged ranges (exceljs creates each), and ranges (it compares each pair), over every sheet. */
  maxMergedCells: 20_000,
  maxMerges: 2_000,
  /** Shared strings and cell styles: each becomes an object; tiny ones pack millions into a few MB. */
  maxSharedStrings: 100_000,
  maxStyles: 65_000,
} as const;

/** Worksheet parts exceljs need not build: some expand whole-column ranges address by address. */
const IGNORED_SHEET_PARTS = [
  "cols", "dataValidations", "conditionalFormatting", "extLst", "hyperlinks", "drawing", "picture", "tableParts",
  "autoFilter", "rowBreaks", "sheetProtection", "pageSetup", "headerFooter", "printOptions", "pageMargins",
];

const unreadable = () => new TableReadError({ kind: "xlsx_unreadable" });

/** Reads the first visible worksheet; throws TableReadError (never exceljs's own errors). */
export async function readXlsxTable(bytes: Uint8Array, limits: ReadLimits): Promise<string[][]> {
  const maxRows = limits.maxRows + XLSX_LIMITS.spareRows;
  const tooLarge = () => new TableReadError({ kind: "xlsx_too_large", maxRows: limits.maxRows, maxColumns: XLSX_LIMITS.maxColumns });
  checkArchive(bytes, tooLarge);
  // Loaded on first use: exceljs is large, and most of the bot's processes never read a workbook.
  const { default: ExcelJS } = await import("exceljs");
  const workbook: Workbook = new ExcelJS.Workbook();
  try {
    // exceljs's maxRows/maxCols count <row> and <c> elements, so a sheet cannot outgrow them while parsing.
    await workbook.xlsx.load(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as never, {
      maxRows, maxCols: XLSX_LIMITS.maxColumns, ignoreNodes: IGNORED_SHEET_PARTS,
    } as never);
  } catch (e) {
    if (e instanceof Error && /^Max \w+ count/.test(e.message)) throw tooLarge();
    throw unreadable();
  }
  const sheet = workbook.worksheets.find((w) => w.state === "visible") ?? workbook.worksheets[0];
  if (!sheet) return [];
  const table: string[][] = [];
  let failed = false;
  sheet.eachRow((row, rowNumber) => {
    // Row numbers, not <row> elements, size the table: one cell at row 1,000,000 is refused too.
    if (failed || rowNumber > maxRows) {
      failed = true;
      return;
    }
    const cells: string[] = [];
    row.eachCell((cell, column) => {
      if (column > XLSX_LIMITS.maxColumns) failed = true;
      else cells[column - 1] = cellText(cell);
    });
    table[rowNumber - 1] = Array.from(cells, (c) => c ?? "");
  });
  if (failed) throw tooLarge();
  return Array.from(table, (r) => r ?? []);
}

/**
 * What the person sees in a cell, as text. A merged range's value belongs to the cells below its
 * top-left one (a topic merged down over five rows is those rows' topic), not to the cells to its
 * right: text spread over two columns fills the first, and the second reads as empty.
 */
export function cellText(cell: Cell): string {
  const master = cell.isMerged ? cell.master : cell;
  if (master !== cell && master.col !== cell.col) return "";
  return valueText(master.value, master.numFmt);
}

function valueText(value: CellValue | undefined, numFmt: string | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number") return numberText(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (value instanceof Date) return dateText(value, numFmt);
  if ("richText" in value) return value.richText.map((r) => r.text).join("");
  // Formulas (plain or shared) show their last computed result; one never computed shows nothing.
  if ("formula" in value || "sharedFormula" in value) return valueText((value as { result?: CellValue }).result ?? null, numFmt);
  if ("error" in value) return value.error;
  if ("text" in value) return valueText(value.text as CellValue, numFmt);
  return "";
}

/** Up to 15 significant digits, as Excel shows them: 0.1 + 0.2 is "0.3", 2 is "2" (not "2.00"). */
function numberText(n: number): string {
  return Number.isFinite(n) ? String(Number(n.toPrecision(15))) : "";
}

/**
 * A date cell ("3/3" typed in Excel becomes 3 March) as day/month[/year][ h:mm], the parts its
 * format shows, day first as in Vietnam. Excel dates carry no time zone: exceljs gives them as UTC.
 */
function dateText(d: Date, numFmt: string | undefined): string {
  if (Number.isNaN(d.getTime())) return "";
  const fmt = (numFmt ?? "").replace(/"[^"]*"|\[[^\]]*\]|\\./g, "").toLowerCase();
  const pad = (n: number) => String(n).padStart(2, "0");
  const hasTime = /[hs]/.test(fmt);
  const hasDate = /[dy]/.test(fmt) || !hasTime;
  const parts: string[] = [];
  if (hasDate) {
    const day = fmt.includes("dd") ? pad(d.getUTCDate()) : String(d.getUTCDate());
    const month = fmt.includes("dd") ? pad(d.getUTCMonth() + 1) : String(d.getUTCMonth() + 1);
    parts.push(fmt === "" || fmt.includes("y") ? `${day}/${month}/${d.getUTCFullYear()}` : `${day}/${month}`);
  }
  if (hasTime) {
    const seconds = fmt.includes("s") ? `:${pad(d.getUTCSeconds())}` : "";
    parts.push(`${d.getUTCHours()}:${pad(d.getUTCMinutes())}${seconds}`);
  }
  return parts.join(" ");
}

/**
 * Walks the zip's central directory and inflates every entry under one byte budget, before
 * exceljs sees it; counts what exceljs would turn into objects one by one. Throws TableReadError.
 */
function checkArchive(bytes: Uint8Array, tooLarge: () => TableReadError): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  // The end-of-central-directory record: 22 bytes and a comment of up to 64 KiB, at the very end.
  let eocd = -1;
  for (let at = bytes.byteLength - 22; at >= Math.max(0, bytes.byteLength - 22 - 0xffff); at--) {
    if (u32(at) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd === -1) throw unreadable();
  const entries = u16(eocd + 10);
  const directoryStart = u32(eocd + 16);
  if (entries > XLSX_LIMITS.maxEntries) throw tooLarge();
  let budget: number = XLSX_LIMITS.maxUnzippedBytes;
  const merged = { cells: 0, ranges: 0 };
  let at = directoryStart;
  const names = new TextDecoder();
  for (let i = 0; i < entries; i++) {
    if (at + 46 > bytes.byteLength || u32(at) !== 0x02014b50) throw unreadable();
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const compressedSize = u32(at + 20);
    const nameLength = u16(at + 28);
    const next = at + 46 + nameLength + u16(at + 30) + u16(at + 32);
    const local = u32(at + 42);
    const name = names.decode(bytes.subarray(at + 46, at + 46 + nameLength)).replace(/^\//, "");
    at = next;
    // Encrypted entries and sizes past 4 GiB (zip64) are not in any sheet a person saves.
    if (flags & 1 || compressedSize === 0xffffffff || local + 30 > bytes.byteLength || u32(local) !== 0x04034b50) throw unreadable();
    const dataStart = local + 30 + u16(local + 26) + u16(local + 28);
    if (dataStart + compressedSize > bytes.byteLength) throw unreadable();
    const data = bytes.subarray(dataStart, dataStart + compressedSize);
    let inflated: Uint8Array;
    if (method === 0) {
      inflated = data;
      if (inflated.byteLength > budget) throw tooLarge();
    } else if (method === 8) {
      try {
        inflated = inflateRawSync(data, { maxOutputLength: Math.max(1, budget) });
      } catch (e) {
        if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) throw tooLarge();
        throw unreadable();
      }
    } else {
      throw unreadable();
    }
    budget -= inflated.byteLength;
    if (budget < 0) throw tooLarge();
    if (/xl\/worksheets\/sheet\d+\.xml/.test(name)) countMerged(new TextDecoder().decode(inflated), merged);
    else if (name === "xl/sharedStrings.xml" && count(inflated, "<si") > XLSX_LIMITS.maxSharedStrings) throw tooLarge();
    else if (name === "xl/styles.xml" && count(inflated, "<xf") > XLSX_LIMITS.maxStyles) throw tooLarge();
    if (merged.cells > XLSX_LIMITS.maxMergedCells || merged.ranges > XLSX_LIMITS.maxMerges) throw tooLarge();
  }
}

/** Adds a sheet's merged ranges and the cells they cover; a range this cannot read refuses the file. */
function countMerged(xml: string, merged: { cells: number; ranges: number }): void {
  for (const m of xml.matchAll(/<mergeCell\b([^>]*)>/g)) {
    const ref = /\bref\s*=\s*["']([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?["']/.exec(m[1]!);
    if (!ref) throw unreadable();
    const [, c1, r1, c2 = c1!, r2 = r1!] = ref;
    merged.ranges++;
    merged.cells += (Math.abs(columnNumber(c2) - columnNumber(c1!)) + 1) * (Math.abs(Number(r2) - Number(r1)) + 1);
  }
}

const columnNumber = (letters: string) => [...letters].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);

/** Occurrences of an ASCII tag opening in UTF-8 bytes, without decoding them. */
function count(bytes: Uint8Array, needle: string): number {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let at = buffer.indexOf(needle); at !== -1; at = buffer.indexOf(needle, at + needle.length)) {
    // "<si>" and "<si " but not "<sip…"; "<xf " and "<xf>" (not "<xfId…" nor "<xfs").
    const after = buffer[at + needle.length];
    if (after === 0x3e || after === 0x20 || after === 0x2f) n++;
  }
  return n;
}
