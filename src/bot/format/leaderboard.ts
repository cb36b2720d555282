import type { TFunction } from "../../i18n.js";

/** 🥇🥈🥉 for the first three ranks (tied people share the medal), "4." after. */
export function rankMarker(rank: number): string {
  return ["🥇", "🥈", "🥉"][rank - 1] ?? `${rank}.`;
}

/** Answer time as a clock reads it: "0:45", "12:05", "1:02:05" (rounded to the second). */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Participation as a whole percentage (2 of 3 → 67). */
export function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((100 * part) / whole);
}

export interface GroupLeaderboardRow {
  /** As it should appear (the caller decides what name a group may see); escaped here. */
  name: string;
  /** Correct answers. */
  score: number;
  /** Total answer time; less is better between equal scores. */
  ms: number;
}

/**
 * A group round's final leaderboard: by score, then less time; people equal on both share a
 * rank. `limit` rows at most (a group message stays short). Text in Telegram HTML.
 */
export function formatGroupLeaderboard(t: TFunction, rows: readonly GroupLeaderboardRow[], limit = 20): string {
  const title = t("leaderboard:group.title");
  if (rows.length === 0) return `${title}\n${t("leaderboard:group.empty")}`;
  const sorted = [...rows].sort((a, b) => b.score - a.score || a.ms - b.ms);
  const lines: string[] = [];
  let rank = 0;
  sorted.slice(0, limit).forEach((r, i) => {
    const prev = sorted[i - 1];
    if (!prev || prev.score !== r.score || prev.ms !== r.ms) rank = i + 1;
    // i18next escapes the interpolated name for HTML.
    lines.push(t("leaderboard:group.line", { rank: rankMarker(rank), name: r.name, score: r.score, time: formatDuration(r.ms) }));
  });
  if (sorted.length > limit) lines.push(t("leaderboard:group.more", { n: sorted.length - limit }));
  return `${title}\n${lines.join("\n")}`;
}
