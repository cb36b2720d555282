import type { QuizRound } from "../../generated/prisma/client.js";
import { DEFAULT_LOCALE, isLocale, type I18n } from "../../i18n.js";
import type { ClaimedDelivery, DeliveryKind, RenderOutcome, SentDelivery } from "../delivery/types.js";
import { QUIZ_DAILY, vnDay } from "./daily.js";
import { summaryText } from "./format.js";
import { QUIZ_END, QUIZ_POLL, type Lang, type PollMessage, type QuizRounds } from "./quiz-rounds.js";
import { QUIZ_LIMITS } from "./question-bank.js";

export interface QuizKindDeps {
  rounds: QuizRounds;
  i18n: I18n;
  /** Callback data of the mute button for a topic (the settings feature handles it). */
  mute: (topic: string) => string;
  /** How a group round's end is announced (the leaderboard); default: score lines. */
  groupResults?: (round: QuizRound, lang: Lang) => Promise<string>;
  /** contest hook: how a contest attempt's end is told (the tie-break question; "" = the summary). */
  contestEnd?: (round: QuizRound, lang: Lang) => Promise<string>;
}

const langOf = (l: string | null | undefined): Lang => (isLocale(l) ? l : DEFAULT_LOCALE) as Lang;

/** Remembers what was rendered for a row until Telegram's answer arrives (same process, moments later). */
class Pending {
  private readonly byRow = new Map<string, { roundId: bigint; idx: number; perm: number[] }>();
  set(rowId: string, v: { roundId: bigint; idx: number; perm: number[] }) {
    if (this.byRow.size > 50_000) this.byRow.delete(this.byRow.keys().next().value!);
    this.byRow.set(rowId, v);
  }
  take(rowId: string) {
    const v = this.byRow.get(rowId);
    this.byRow.delete(rowId);
    return v;
  }
}

async function markAll(d: QuizKindDeps, pending: Pending, sent: readonly SentDelivery[]): Promise<void> {
  for (const s of sent) {
    const p = pending.take(s.row.id);
    const pollId = s.result.poll?.id;
    if (p && pollId) await d.rounds.markSent(p.roundId, p.idx, pollId, s.result.message_id, p.perm);
  }
}

/** "quiz_poll" (ref "<round>.<idx>"): the next question of a round whose last poll timed out. */
export function quizPollKind(d: QuizKindDeps): DeliveryKind {
  const pending = new Pending();
  return {
    kind: QUIZ_POLL,
    priority: 1,
    async render(rows) {
      const out = new Map<string, RenderOutcome>();
      const refs = rows.map((r) => ({ row: r, m: /^(\d{1,18})\.(\d{1,3})$/.exec(r.refId) }));
      const ids = [...new Set(refs.flatMap((x) => (x.m ? [BigInt(x.m[1]!)] : [])))];
      const rounds = new Map((await d.rounds.many(ids)).map((r) => [r.id, r]));
      for (const { row, m } of refs) {
        const round = m ? rounds.get(BigInt(m[1]!)) : undefined;
        const idx = m ? Number(m[2]) : -1;
        if (!round || round.state !== "active") out.set(row.id, { skip: "round over" });
        else if (round.current !== idx || round.pollId !== null) out.set(row.id, { skip: "already asked" });
        else {
          const poll = await d.rounds.currentPoll(round);
          if (!poll) out.set(row.id, { skip: "question missing" });
          else {
            pending.set(row.id, { roundId: round.id, idx, perm: poll.perm });
            out.set(row.id, { method: "sendPoll", payload: poll.payload });
          }
        }
      }
      return out;
    },
    onSent: (sent) => markAll(d, pending, sent),
  };
}

/** "quiz_end" (ref "<round>"): the score of a round that ended on a time-out, or a group's results. */
export function quizEndKind(d: QuizKindDeps): DeliveryKind {
  return {
    kind: QUIZ_END,
    priority: 1,
    async render(rows) {
      const out = new Map<string, RenderOutcome>();
      for (const row of rows) {
        const round = /^\d{1,18}$/.test(row.refId) ? await d.rounds.get(BigInt(row.refId)) : null;
        if (!round || round.state !== "finished") {
          out.set(row.id, { skip: "round not finished" });
          continue;
        }
        const lang = langOf(round.locale);
        if (round.kind === "group") {
          const text = d.groupResults ? await d.groupResults(round, lang) : "";
          out.set(row.id, text ? { method: "sendMessage", payload: { text, parse_mode: "HTML" } } : { skip: "no results" });
          continue;
        }
        // contest hook (src/domain/quizzes/contests.ts): the tie-break question instead of the summary.
        const contestText = round.kind === "contest" && d.contestEnd ? await d.contestEnd(round, lang) : "";
        if (contestText) {
          out.set(row.id, { method: "sendMessage", payload: { text: contestText, parse_mode: "HTML" } });
          continue;
        }
        const summary = await d.rounds.summary(round.id);
        if (!summary) out.set(row.id, { skip: "round missing" });
        else out.set(row.id, { method: "sendMessage", payload: { text: summaryText(d.i18n.t(lang), summary, lang), parse_mode: "HTML", link_preview_options: { is_disabled: true } } });
      }
      return out;
    },
  };
}

/** "quiz_daily" (ref = the Vietnamese day): each subscriber's daily question, with its mute button. */
export function quizDailyKind(d: QuizKindDeps): DeliveryKind {
  const pending = new Pending();
  return {
    kind: QUIZ_DAILY,
    priority: 3,
    async render(rows: readonly ClaimedDelivery[]) {
      const out = new Map<string, RenderOutcome>();
      const day = rows[0]?.refId ?? "";
      const start = /^\d{4}-\d\d-\d\d$/.test(day) ? vnDay(new Date(`${day}T12:00:00+07:00`)).start : undefined;
      const rounds = start ? await d.rounds.dailyRounds(rows.map((r) => r.chatId), start) : new Map<number, QuizRound>();
      for (const row of rows) {
        const round = row.refId === day ? rounds.get(row.chatId) : undefined;
        if (!round) {
          out.set(row.id, { skip: "no daily question" });
          continue;
        }
        const poll: PollMessage | null = await d.rounds.currentPoll(round);
        if (!poll) {
          out.set(row.id, { skip: "question missing" });
          continue;
        }
        const t = d.i18n.t(langOf(round.locale));
        const labelled = `${t("quiz:daily_prefix")} ${String(poll.payload.question)}`;
        if (labelled.length <= QUIZ_LIMITS.questionMax) poll.payload.question = labelled;
        pending.set(row.id, { roundId: round.id, idx: 0, perm: poll.perm });
        out.set(row.id, {
          method: "sendPoll",
          payload: { ...poll.payload, reply_markup: { inline_keyboard: [[{ text: t("quiz:daily_mute_button"), callback_data: d.mute(QUIZ_DAILY) }]] } },
        });
      }
      return out;
    },
    onSent: (sent) => markAll(d, pending, sent),
  };
}
