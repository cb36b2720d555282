import type { QuizRound } from "../../generated/prisma/client.js";
import type { TFunction } from "../../i18n.js";
import { toCsv } from "../broadcasts/csv.js";
import { escapeHtml } from "../broadcasts/text.js";
import { communeLabel } from "../geo/labels.js";
import type { RankRow } from "./contests.js";
import { formatDuration } from "./format.js";
import { initialsOf } from "./leaderboards.js";
import type { Lang } from "./quiz-rounds.js";

const raw = { interpolation: { escapeValue: false } } as const;

/** The full name only for people who chose to show it (quiz_profiles.show_name); initials otherwise. */
export function displayName(row: Pick<RankRow, "fullName" | "showName">): string {
  const name = row.fullName ?? "";
  return row.showName && name ? name : initialsOf(name) || "—";
}

/** "12,5" in Vietnamese, "12.5" in English; whole numbers grouped the local way. */
export function formatNumber(n: number, lang: Lang): string {
  return new Intl.NumberFormat(lang === "en" ? "en-US" : "vi-VN", { maximumFractionDigits: 6 }).format(n);
}

/** The end of an attempt (HTML): every question done, now the number to guess. */
export function tiebreakPromptText(t: TFunction, round: QuizRound, title: string, question: string): string {
  return t("contest:tiebreak.ask", { total: round.questionIds.length, title: escapeHtml(title), question: escapeHtml(question), ...raw });
}

/** One line of a ranking (HTML). */
export function rankLine(t: TFunction, row: RankRow, total: number, lang: Lang): string {
  const place = row.communeName ? ` (${escapeHtml(communeLabel({ name: row.communeName, type: row.communeType ?? "" }, lang))})` : "";
  return t("contest:ranking.line", {
    rank: row.rank,
    name: escapeHtml(displayName(row)),
    place,
    score: row.score,
    total,
    time: formatDuration(t, row.elapsedMs),
    guess: row.tiebreakGuess === null ? "—" : formatNumber(row.tiebreakGuess, lang),
    ...raw,
  });
}

/** The officer's export: one row per person (their best attempt), headers in the officer's language. */
export function contestCsv(t: TFunction, rows: readonly RankRow[], lang: Lang): string {
  const header = ["rank", "name", "commune", "score", "time_s", "tiebreak", "attempts"].map((k) => t(`contest:csv.${k}`));
  return toCsv([
    header,
    ...rows.map((r) => [
      r.rank,
      displayName(r),
      r.communeName ? communeLabel({ name: r.communeName, type: r.communeType ?? "" }, lang) : "",
      r.score,
      // Seconds with a decimal point in both languages: spreadsheets read it as a number.
      (r.elapsedMs / 1000).toFixed(1),
      // A number, not a string: a negative guess must not be taken for a formula and quoted.
      r.tiebreakGuess,
      r.attempts,
    ]),
  ]);
}

/** Characters XML 1.0 cannot hold: one in a name would make the whole workbook unreadable. */
const xmlSafe = (s: string) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "");

/**
 * The same export as a workbook: the header bold and frozen, columns sized, rank, score, time (in
 * seconds, one decimal shown) and the guess stored as numbers, so they sort and sum as such. Cells
 * are typed values, never formulas: a name starting with "=" stays text.
 */
export async function contestXlsx(t: TFunction, rows: readonly RankRow[], lang: Lang): Promise<Buffer> {
  const { default: ExcelJS } = await import("exceljs");
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet(xmlSafe(t("contest:xlsx.sheet")).slice(0, 31), { views: [{ state: "frozen", ySplit: 1 }] });
  const widths = { rank: 8, name: 28, commune: 28, score: 14, time_s: 16, tiebreak: 16, attempts: 10 } as const;
  sheet.columns = Object.entries(widths).map(([key, width]) => ({ key, width, header: t(`contest:csv.${key}`) }));
  sheet.getColumn("time_s").numFmt = "0.0";
  for (const r of rows) {
    sheet.addRow({
      rank: r.rank,
      name: xmlSafe(displayName(r)),
      commune: r.communeName ? xmlSafe(communeLabel({ name: r.communeName, type: r.communeType ?? "" }, lang)) : "",
      score: r.score,
      time_s: r.elapsedMs / 1000,
      tiebreak: r.tiebreakGuess ?? null,
      attempts: r.attempts,
    });
  }
  sheet.getRow(1).font = { bold: true };
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: Object.keys(widths).length } };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
