import type { TFunction } from "../../i18n.js";
import { escapeHtml } from "../broadcasts/text.js";
import type { Lang, RoundSummary } from "./quiz-rounds.js";

const raw = { interpolation: { escapeValue: false } } as const;
const QUESTION_PREVIEW = 120;

/** "2 phút 5 giây" / "45 seconds". */
export function formatDuration(t: TFunction, ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? t("quiz:duration_min", { m: Math.floor(s / 60), s: s % 60 }) : t("quiz:duration_sec", { s });
}

function preview(text: string): string {
  return text.length > QUESTION_PREVIEW ? `${text.slice(0, QUESTION_PREVIEW - 1)}…` : text;
}

/** The end of a round (HTML): score, time, and each missed question with its right answer and source. */
export function summaryText(t: TFunction, s: RoundSummary, lang: Lang): string {
  const lines = [t("quiz:summary_title", { score: s.score, total: s.total, time: formatDuration(t, s.elapsedMs), ...raw })];
  if (s.missed.length === 0 && s.score === s.total) lines.push(t("quiz:summary_perfect"));
  if (s.missed.length) {
    lines.push("", t("quiz:summary_missed"));
    for (const m of s.missed) {
      const q = m.question;
      lines.push(
        t("quiz:summary_item", {
          n: m.idx + 1,
          question: escapeHtml(preview(q.question[lang])),
          answer: escapeHtml(q.options[lang][q.correct] ?? ""),
          source: escapeHtml(q.source[lang]),
          timeout: m.chosen === null ? ` ${t("quiz:timed_out")}` : "",
          ...raw,
        }),
      );
    }
  }
  lines.push("", t(s.round.kind === "daily" ? "quiz:daily_footer" : "quiz:summary_footer"));
  return lines.join("\n");
}
