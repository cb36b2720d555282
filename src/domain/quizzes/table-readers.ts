/*
 * Spreadsheet files as rows of text cells, whatever the format. CSV is read here; XLSX needs a
 * workbook library (exceljs) that the project does not depend on yet: until it is added,
 * `TABLE_READERS.xlsx` is absent and an XLSX file gets a clear "save it as CSV" answer.
 */

export type ImportFileKind = "csv" | "xlsx";

/** Rows of cells as the person typed them (no trimming); throws TableReadError. Async allowed (exceljs loads workbooks so). */
export type TableReader = (bytes: Uint8Array) => string[][] | Promise<string[][]>;

export type TableProblem = { kind: "not_utf8" } | { kind: "csv_unclosed_quote"; row: number } | { kind: "xlsx_unavailable" };

export class TableReadError extends Error {
  constructor(readonly problem: TableProblem) {
    super(`table unreadable: ${problem.kind}`);
    this.name = "TableReadError";
  }
}

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

/** XLSX joins here once exceljs is a dependency (first worksheet, cell text, same shape as CSV). */
export const TABLE_READERS: Partial<Record<ImportFileKind, TableReader>> = { csv: readCsvTable };

/**
 * The kind of a file an officer sent, from its name first (Windows labels .csv files
 * "application/vnd.ms-excel"), then its MIME type; undefined for anything else (.xls, .ods, .pdf…).
 */
export function importFileKind(fileName: string | undefined, mimeType: string | undefined): ImportFileKind | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName ?? "")?.[1]?.toLowerCase();
  if (ext === "csv") return "csv";
  if (ext === "xlsx") return "xlsx";
  if (ext !== undefined) return undefined;
  if (mimeType === "text/csv") return "csv";
  if (mimeType === "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") return "xlsx";
  return undefined;
}
