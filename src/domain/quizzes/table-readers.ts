/*
 * Spreadsheet files as rows of text cells, whatever the format: CSV here, XLSX in ./xlsx-reader.ts
 * (exceljs, loaded only when an XLSX file arrives). Old binary .xls files have no reader: they get
 * a clear "save as .xlsx or CSV" answer.
 */
import { TableReadError, type ReadLimits } from "./table-read-error.js";
import { readXlsxTable } from "./xlsx-reader.js";

export { TableReadError, type ReadLimits, type TableProblem } from "./table-read-error.js";

export type ImportFileKind = "csv" | "xlsx" | "xls";

/**
 * Rows of cells as the person sees them (no trimming), row i being the sheet's row i + 1; throws
 * TableReadError. Async allowed (exceljs loads workbooks so).
 */
export type TableReader = (bytes: Uint8Array, limits: ReadLimits) => string[][] | Promise<string[][]>;

const DELIMITERS = [",", ";", "\t"] as const;

/**
 * RFC 4180 CSV in UTF-8 (a byte-order mark is dropped): quoted cells may hold delimiters, quotes
 * doubled and line breaks; CRLF, LF and CR all end a row. The delimiter is the one the header row
 * uses most, because a spreadsheet set to a European or Vietnamese locale may save ";".
 * A few lines instead of a dependency, as for the CSV writer in ../broadcasts/csv.ts.
 */
export function readCsvTable(bytes: Uint8Array): string[][] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new TableReadError({ kind: "not_utf8" });
  }
  if (text.includes("\u0000")) throw new TableReadError({ kind: "not_utf8" });
  const delimiter = guessDelimiter(text);
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  let quoteStartRow = 0;
  let i = 0;
  const endRow = () => {
    row.push(cell);
    rows.push(row);
    row = [];
    cell = "";
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        cell += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && cell === "") {
      quoted = true;
      quoteStartRow = rows.length + 1;
    } else if (ch === delimiter) {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" || ch === "\n") {
      endRow();
      if (ch === "\r" && text[i + 1] === "\n") i++;
    } else {
      // A quote inside an unquoted cell is kept as typed, as spreadsheets do.
      cell += ch;
    }
    i++;
  }
  if (quoted) throw new TableReadError({ kind: "csv_unclosed_quote", row: quoteStartRow });
  if (cell !== "" || row.length > 0) endRow();
  return rows;
}

function guessDelimiter(text: string): string {
  const end = text.search(/[\r\n]/);
  const header = (end === -1 ? text : text.slice(0, end)).replace(/"[^"]*"/g, "");
  let best: string = ",";
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const count = header.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

/** No reader for "xls": parseQuestionFile answers it with xls_binary. */
export const TABLE_READERS: Partial<Record<ImportFileKind, TableReader>> = { csv: readCsvTable, xlsx: readXlsxTable };

/**
 * The kind of a file an officer sent, from its name first (Windows labels .csv files
 * "application/vnd.ms-excel"), then its MIME type; undefined for anything else (.ods, .pdf…).
 */
export function importFileKind(fileName: string | undefined, mimeType: string | undefined): ImportFileKind | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName ?? "")?.[1]?.toLowerCase();
  if (ext === "csv") return "csv";
  if (ext === "xlsx") return "xlsx";
  if (ext === "xls") return "xls";
  if (ext !== undefined) return undefined;
  if (mimeType === "text/csv") return "csv";
  if (mimeType === "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") return "xlsx";
  return undefined;
}

/**
 * The kind the bytes show, when the name says a spreadsheet: a zip is an XLSX whatever its name
 * (.xls renamed from .xlsx), an OLE2 file an old or password-protected workbook (.xlsx or .xls).
 */
export function sniffedKind(bytes: Uint8Array, named: ImportFileKind): ImportFileKind {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (named === "csv") return named;
  if (starts(0x50, 0x4b, 0x03, 0x04)) return "xlsx";
  if (starts(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)) return "xls";
  return named;
}
