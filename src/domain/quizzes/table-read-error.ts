/* Why a spreadsheet file could not be read as a table: shared by the CSV and XLSX readers. */

/** What a reader may hold in memory: data rows wanted (the header and blank rows aside). */
export interface ReadLimits {
  maxRows: number;
}

export type TableProblem =
  | { kind: "not_utf8" }
  | { kind: "csv_unclosed_quote"; row: number }
  /** An Excel 97–2003 workbook, or a password-protected one (both are OLE2 compound files). */
  | { kind: "xls_binary" }
  /** Not a workbook at all, or a damaged one. */
  | { kind: "xlsx_unreadable" }
  /** More rows, columns, merged cells or unpacked bytes than a question list can need. */
  | { kind: "xlsx_too_large"; maxRows: number; maxColumns: number };

export class TableReadError extends Error {
  constructor(readonly problem: TableProblem) {
    super(`table unreadable: ${problem.kind}`);
    this.name = "TableReadError";
  }
}
