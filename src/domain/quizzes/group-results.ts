import type { PrismaClient, QuizRound } from "../../generated/prisma/client.js";
import type { TFunction } from "../../i18n.js";
import { escapeHtml } from "../broadcasts/text.js";
import { displayName } from "./leaderboards.js";

const raw = { interpolation: { escapeValue: false } } as const;

/**
 * A group round's leaderboard (HTML): one aggregate query over its answers, ranked by correct
 * answers then total time; names only for people who chose to show them.
 */
export async function groupResultsText(prisma: PrismaClient, t: TFunction, round: QuizRound, top = 10): Promise<string> {
  const rows = await prisma.$queryRawUnsafe<Array<{ user_id: bigint; score: number; ms: number; full_name: string | null; show_name: boolean | null; tg_name: string | null }>>(
    `SELECT a.user_id, count(*) FILTER (WHERE a.correct)::int AS score, sum(a.ms)::int AS ms,
            c.full_name, p.show_name, u.telegram_name AS tg_name
       FROM quiz_answers a
       LEFT JOIN learning_citizens c ON c.user_id = a.user_id
       LEFT JOIN quiz_profiles p ON p.user_id = a.user_id
       LEFT JOIN users u ON u.telegram_id = a.user_id
      WHERE a.round_id = $1
      GROUP BY a.user_id, c.full_name, p.show_name, u.telegram_name
      ORDER BY score DESC, ms ASC, a.user_id
      LIMIT $2`,
    round.id, top,
  );
  const lines = [t("quiz:group_results_title", { total: round.questionIds.length })];
  if (rows.length === 0) lines.push(t("quiz:group_results_empty"));
  const medals = ["🥇", "🥈", "🥉"];
  rows.forEach((r, i) => {
    // Someone who never wrote to the bot has no name stored here, and gets none.
    const shown = !(r.full_name ?? r.tg_name) ? t("quiz:anonymous") : displayName({ fullName: r.full_name, showName: r.show_name === true, telegramName: r.tg_name }).name;
    lines.push(t("quiz:group_results_line", { rank: medals[i] ?? `${i + 1}.`, name: escapeHtml(shown), score: r.score, total: round.questionIds.length, seconds: Math.round(r.ms / 1000), ...raw }));
  });
  return lines.join("\n");
}
