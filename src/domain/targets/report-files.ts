/**
 * The yearly report as files: an XLSX workbook (one sheet per section: a header row, one row per
 * commune, a bold total row whose cells are the sums, as SUM formulas carrying their values) and a
 * one-page PDF summary (the programme, the place, the year, each target with its figure and gap,
 * the year's headline numbers). Labels follow the caller's language (locales report.json). The PDF
 * embeds Be Vietnam Pro (a TrueType subset with its Unicode map): diacritics render everywhere and
 * the text can be searched and copied.
 */
import { createRequire } from "node:module";
import { communeLabel, placeLabel, provinceLabel } from "../geo/labels.js";
import type { Locale, TFunction } from "../../i18n.js";
import { vnParts } from "../time/vietnam-time.js";
import { formatPercent } from "../units/model.js";
import { METRIC_COUNTS } from "./model.js";
import type { ReportColumn, ReportSectionKey, ReportTable, YearlyReport } from "./report.js";

const NS = "report";
const FONT_REGULAR = "@expo-google-fonts/be-vietnam-pro/400Regular/BeVietnamPro_400Regular.ttf";
const FONT_BOLD = "@expo-google-fonts/be-vietnam-pro/700Bold/BeVietnamPro_700Bold.ttf";
const FORMATS = { count: "#,##0", hours: "#,##0.0", percent: "0.0%" } as const;

/** Sheet names Excel accepts: at most 31 characters, none of : \ / ? * [ ]. */
function sheetName(text: string): string {
  return text.replace(/[:\\/?*[\]]/g, "-").slice(0, 31);
}

const two = (n: number) => String(n).padStart(2, "0");
function dateText(at: Date): string {
  const p = vnParts(at);
  return `${two(p.day)}/${two(p.month)}/${p.year} ${two(p.hour)}:${two(p.minute)}`;
}

/** "Tỉnh Sơn La" / "Xã Mường Bú, Sơn La": what the report covers. */
export function reportPlace(report: YearlyReport, locale: Locale): string {
  if (report.scope.kind === "commune") {
    const code = report.scope.communeCode;
    const commune = report.communes.find((c) => c.code === code);
    return commune ? placeLabel(commune, report.province, locale) : code;
  }
  return provinceLabel(report.province, locale, "full");
}

/** File names without diacritics or spaces: bao-cao-2026-ct3-01.xlsx. */
export function reportFileName(report: YearlyReport, ext: "xlsx" | "pdf"): string {
  const where = report.scope.kind === "commune" ? report.scope.communeCode : report.province.code;
  return `bao-cao-${report.year}-ct${report.programme.id}-${where}.${ext}`;
}

function rowLabel(report: YearlyReport, t: TFunction, locale: Locale, code: string): string {
  if (code === "") return t(`${NS}:province_level`);
  const c = report.communes.find((x) => x.code === code);
  return c ? communeLabel(c, locale) : code;
}

type Sheet = import("exceljs").Worksheet;
type Cell = import("exceljs").Cell;

/** A table's header, one row per key, and the bold total; returns the row after it. */
function writeTable(sheet: Sheet, startRow: number, firstHeader: string, table: ReportTable, label: (code: string) => string, t: TFunction, extra: { header: string[]; cells: (code: string) => Array<string | number | null> } = { header: [], cells: () => [] }): number {
  const offset = 1 + extra.header.length;
  const header = sheet.getRow(startRow);
  header.values = [firstHeader, ...extra.header, ...table.columns.map((c) => t(`${NS}:columns.${c.key}`))];
  header.font = { bold: true };
  header.alignment = { wrapText: true, vertical: "middle" };
  table.rows.forEach((r, i) => {
    const row = sheet.getRow(startRow + 1 + i);
    row.values = [label(r.code), ...extra.cells(r.code)];
    table.columns.forEach((c, j) => setNumber(row.getCell(offset + 1 + j), c, r.values[c.key]!));
  });
  const totalRow = sheet.getRow(startRow + 1 + table.rows.length);
  totalRow.getCell(1).value = t(`${NS}:total`);
  table.columns.forEach((c, j) => {
    const cell = totalRow.getCell(offset + 1 + j);
    const value = table.total[c.key]!;
    const col = cell.address.replace(/\d+$/, "");
    // Counts and hours stay live sums of the rows above (with their value cached for readers that do not calculate).
    if (c.kind !== "percent" && table.rows.length > 0) {
      cell.value = { formula: `SUM(${col}${startRow + 1}:${col}${startRow + table.rows.length})`, result: value };
      cell.numFmt = FORMATS[c.kind];
    } else setNumber(cell, c, value);
  });
  totalRow.font = { bold: true };
  return startRow + 2 + table.rows.length;
}

function setNumber(cell: Cell, c: ReportColumn, value: number): void {
  cell.value = Number.isFinite(value) ? value : null;
  cell.numFmt = FORMATS[c.kind];
}

/** The workbook: one sheet per section, in REPORT_SECTIONS order. */
export async function reportXlsx(report: YearlyReport, t: TFunction, locale: Locale): Promise<Buffer> {
  // Loaded on first use: exceljs is large, and most processes never write a workbook.
  const { default: ExcelJS } = await import("exceljs");
  const book = new ExcelJS.Workbook();
  book.created = report.at;
  book.title = t(`${NS}:file_title`, { programme: report.programme.name, place: reportPlace(report, locale), year: report.year, interpolation: { escapeValue: false } });
  const commune = t(`${NS}:columns.commune`);
  const label = (code: string) => rowLabel(report, t, locale, code);
  const add = (key: ReportSectionKey) => {
    const sheet = book.addWorksheet(sheetName(t(`${NS}:sheets.${key}`)), { views: [{ state: "frozen", ySplit: 1 }] });
    sheet.getColumn(1).width = 32;
    for (let i = 2; i <= 16; i++) sheet.getColumn(i).width = 15;
    return sheet;
  };

  // (a) Targets: the communes' figures and their total, then each target with its figure and gap.
  const targets = add("targets");
  let next = writeTable(targets, 1, commune, report.tables.targets, label, t);
  const head = targets.getRow(next + 1);
  head.values = [t(`${NS}:columns.metric`), t(`${NS}:columns.part`), t(`${NS}:columns.whole`), t(`${NS}:columns.share`), t(`${NS}:columns.target`), t(`${NS}:columns.gap`)];
  head.font = { bold: true };
  report.totals.forEach((m, i) => {
    const row = targets.getRow(next + 2 + i);
    row.values = [t(`${NS}:metrics.${m.metric}`), m.part, m.whole];
    setNumber(row.getCell(4), { key: "share", kind: "percent", part: "", whole: "" }, m.whole > 0 ? m.part / m.whole : Number.NaN);
    row.getCell(5).value = m.target === undefined ? null : m.target / 100;
    row.getCell(5).numFmt = "0%";
    row.getCell(6).value = m.gap ?? null;
  });
  targets.getRow(next + 3 + report.totals.length).getCell(1).value = t(`${NS}:as_of`, { at: dateText(report.at) });

  writeTable(add("registrations"), 1, commune, report.tables.registrations, label, t);
  writeTable(add("members_units"), 1, commune, report.tables.members_units, label, t);

  // (c) by unit: the scoreboard's own unit rows (a unit's people count there, not in the units under it).
  const units = add("units");
  const unitTable: ReportTable = {
    columns: [
      { key: "headcount", kind: "count" }, { key: "members", kind: "count" }, { key: "registered", kind: "count" },
      { key: "registered_share", kind: "percent", part: "registered", whole: "headcount" }, { key: "association_members", kind: "count" },
      { key: "members_share", kind: "percent", part: "association_members", whole: "headcount" }, { key: "learning_unit", kind: "count" },
    ],
    rows: report.units.map((u) => ({
      code: String(u.id),
      values: {
        headcount: u.headcount, members: u.members, registered: u.registered, registered_share: u.headcount > 0 ? u.registered / u.headcount : Number.NaN,
        association_members: u.associationMembers, members_share: u.headcount > 0 ? u.associationMembers / u.headcount : Number.NaN, learning_unit: u.learningUnit ? 1 : 0,
      },
    })),
    total: {},
  };
  for (const c of unitTable.columns) if (c.kind === "count") unitTable.total[c.key] = unitTable.rows.reduce((n, r) => n + r.values[c.key]!, 0);
  unitTable.total.registered_share = unitTable.total.headcount! > 0 ? unitTable.total.registered! / unitTable.total.headcount! : Number.NaN;
  unitTable.total.members_share = unitTable.total.headcount! > 0 ? unitTable.total.association_members! / unitTable.total.headcount! : Number.NaN;
  const unitById = new Map(report.units.map((u) => [String(u.id), u]));
  writeTable(units, 1, t(`${NS}:columns.unit`), unitTable, (id) => unitById.get(id)?.name ?? id, t, {
    header: [commune],
    cells: (id) => [label(unitById.get(id)?.communeCode ?? "")],
  });
  units.getColumn(2).width = 26;

  writeTable(add("families"), 1, commune, report.tables.families, label, t);
  writeTable(add("sessions"), 1, commune, report.tables.sessions, label, t);
  writeTable(add("quizzes"), 1, commune, report.tables.quizzes, label, t);

  // (g) Scholarships by commune, then by round (the same awards, counted per round).
  const scholarships = add("scholarships");
  next = writeTable(scholarships, 1, commune, report.tables.scholarships, label, t);
  const rounds: ReportTable = {
    columns: [{ key: "nominations", kind: "count" }, { key: "awards", kind: "count" }],
    rows: report.rounds.map((r) => ({ code: String(r.id), values: { nominations: r.nominations, awards: r.awards } })),
    total: { nominations: report.rounds.reduce((n, r) => n + r.nominations, 0), awards: report.rounds.reduce((n, r) => n + r.awards, 0) },
  };
  const roundById = new Map(report.rounds.map((r) => [String(r.id), r]));
  writeTable(scholarships, next + 1, t(`${NS}:columns.round`), rounds, (id) => {
    const r = roundById.get(id);
    return r ? `${r.programme} ${r.year}` : id;
  }, t, {
    header: [t(`${NS}:columns.deadline`)],
    cells: (id) => {
      const d = roundById.get(id)?.deadline;
      return [d ? `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}` : null];
    },
  });

  writeTable(add("broadcasts"), 1, t(`${NS}:columns.sender`), report.tables.broadcasts, label, t);
  return Buffer.from(await book.xlsx.writeBuffer());
}

const require = createRequire(import.meta.url);

function formatNumber(n: number, locale: Locale, digits = 0): string {
  return new Intl.NumberFormat(locale === "en" ? "en-US" : "vi-VN", { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
}

/** The one-page summary. */
export async function reportPdf(report: YearlyReport, t: TFunction, locale: Locale): Promise<Buffer> {
  const { default: PDFDocument } = await import("pdfkit");
  const raw = { interpolation: { escapeValue: false } } as const;
  const place = reportPlace(report, locale);
  const title = t(`${NS}:pdf.title`, { year: report.year, ...raw });
  const doc = new PDFDocument({
    size: "A4", margin: 48,
    info: { Title: `${title} — ${report.programme.name} — ${place}`, Subject: report.programme.name, Creator: "khuyenhoc-bot", CreationDate: report.at },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on("end", () => resolve());
    doc.on("error", reject);
  });
  doc.registerFont("regular", require.resolve(FONT_REGULAR));
  doc.registerFont("bold", require.resolve(FONT_BOLD));
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;

  doc.font("bold").fontSize(18).text(title, { width });
  doc.moveDown(0.3);
  doc.font("bold").fontSize(12).text(report.programme.name, { width });
  doc.font("regular").fontSize(10.5)
    .text(t(`${NS}:pdf.place`, { place, ...raw }))
    .text(t(`${NS}:pdf.period`, { start: report.programme.startYear, end: report.programme.endYear }))
    .text(t(`${NS}:pdf.as_of`, { at: dateText(report.at) }));
  doc.moveDown(0.8);

  // The targets: figure, share, target and gap per metric.
  doc.font("bold").fontSize(13).text(t(`${NS}:pdf.targets`));
  doc.moveDown(0.3);
  const cols = [0, 0.38, 0.55, 0.68, 0.8].map((f) => left + f * width);
  const tableRow = (cells: string[], bold: boolean) => {
    const y = doc.y;
    doc.font(bold ? "bold" : "regular").fontSize(10);
    let bottom = y;
    cells.forEach((text, i) => {
      const colWidth = (i + 1 < cols.length ? cols[i + 1]! : left + width) - cols[i]! - 6;
      doc.text(text, cols[i]!, y, { width: colWidth });
      bottom = Math.max(bottom, doc.y);
    });
    doc.x = left;
    doc.y = bottom + 4;
  };
  tableRow([t(`${NS}:columns.metric`), t(`${NS}:pdf.figure`), t(`${NS}:columns.share`), t(`${NS}:columns.target`), t(`${NS}:columns.gap`)], true);
  for (const m of report.totals) {
    const gap = m.gap === undefined ? "—" : m.gap === 0 ? t(`${NS}:pdf.reached`) : t(`${NS}:gap.${METRIC_COUNTS[m.metric]}`, { count: m.gap, n: formatNumber(m.gap, locale) });
    tableRow([
      t(`${NS}:metrics.${m.metric}`), `${formatNumber(m.part, locale)} / ${formatNumber(m.whole, locale)}`, formatPercent(m.part, m.whole, locale),
      m.target === undefined ? "—" : `${m.target}%`, gap,
    ], false);
  }
  doc.moveDown(0.8);

  // The year's headline numbers.
  const tb = report.tables;
  const n = (table: ReportTable, key: string, digits = 0) => formatNumber(table.total[key] ?? 0, locale, digits);
  doc.font("bold").fontSize(13).text(t(`${NS}:pdf.year_figures`, { year: report.year }), left);
  doc.moveDown(0.3);
  doc.font("regular").fontSize(10.5);
  const lines = [
    t(`${NS}:pdf.registrations`, { in_year: n(tb.registrations, "in_year"), total: n(tb.registrations, "total") }),
    t(`${NS}:pdf.sessions`, { sessions: n(tb.sessions, "sessions"), attendance: n(tb.sessions, "attendance"), hours: n(tb.sessions, "hours", 1) }),
    t(`${NS}:pdf.quizzes`, {
      people: n(tb.quizzes, "people"), rounds: n(tb.quizzes, "rounds"), answers: n(tb.quizzes, "answers"),
      accuracy: formatPercent(tb.quizzes.total.correct ?? 0, tb.quizzes.total.answers ?? 0, locale),
    }),
    t(`${NS}:pdf.scholarships`, { rounds: formatNumber(report.rounds.length, locale), nominations: n(tb.scholarships, "nominations"), awards: n(tb.scholarships, "awards") }),
    t(`${NS}:pdf.broadcasts`, { broadcasts: n(tb.broadcasts, "broadcasts"), delivered: n(tb.broadcasts, "delivered") }),
  ];
  for (const line of lines) doc.text(`•  ${line}`, { width });
  doc.moveDown(1);
  doc.fontSize(9).fillColor("#555555").text(t(`${NS}:pdf.footer`), { width });
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
