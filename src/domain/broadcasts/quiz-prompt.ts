/*
 * Quiz prompts: a broadcast whose recipients get native quiz polls (one to five questions) instead
 * of a message. Each recipient gets a round of the quiz engine (kind "prompt", no timer, open until
 * the officer's close time); the first poll goes out through the delivery engine like any broadcast,
 * the next ones follow the answers (the quiz feature). The officer reads the answers per commune and
 * per unit from one aggregate query, and gets a summary at the close time.
 */
import { z } from "zod";
import type { Broadcast } from "../../generated/prisma/client.js";
import { escapeHtml, type Locale, type TFunction } from "../../i18n.js";
import type { ClaimedDelivery, DeliveryEnv, RenderOutcome, SentDelivery } from "../delivery/types.js";
import { communeLabel } from "../geo/labels.js";
import { QUIZ_LIMITS, TOPICS } from "../quizzes/question-bank.js";
import { pollMessage, type Lang, type QuestionRow } from "../quizzes/quiz-rounds.js";
import { unitKeySql } from "./audience.js";
import type { BroadcastDeps } from "./broadcast-service.js";
import { formatCount, formatVnDateTime } from "./format.js";

/** Delivery kind of the summary the author gets at the close time (ref: the broadcast id). */
export const QUIZ_PROMPT_SUMMARY = "quiz_prompt_summary";
export const QUIZ_MAX_QUESTIONS = 5;
export const QUIZ_INTRO_MAX = 150;
/** A prompt stays open at least this long and at most this long. */
export const QUIZ_MIN_OPEN_MS = 10 * 60_000;
export const QUIZ_MAX_OPEN_MS = 30 * 24 * 3600_000;
/** The summary waits out the engine's grace for answers that arrive just after the close. */
export const SUMMARY_DELAY_MS = 5_000;
/** Lines per breakdown (communes, units) in one message; the rest are counted. */
const BREAKDOWN_LINES = 15;
const PREVIEW_CHARS = 90;

/** What a quiz prompt adds to a broadcast draft: the questions and when answers stop counting. */
export const quizDraftSchema = z
  .object({
    questionIds: z.array(z.string().min(1).max(64)).min(1).max(QUIZ_MAX_QUESTIONS),
    /** An absolute close time (ISO), or hours after the prompt goes out. */
    closesAt: z.string().datetime().optional(),
    closeHours: z.number().int().min(1).max(24 * 30).optional(),
  })
  .refine((q) => (q.closesAt === undefined) !== (q.closeHours === undefined), { message: "closesAt or closeHours" })
  .refine((q) => new Set(q.questionIds).size === q.questionIds.length, { message: "questions repeat" });
export type QuizDraft = z.infer<typeof quizDraftSchema>;

/** The questions a quiz prompt may use: the bank's and the province's imports, never retired ones. */
export interface QuestionSource {
  questionsById(ids: readonly string[]): Promise<Map<string, QuestionRow>>;
}

const lang = (l: Locale | string | null): Lang => (l === "en" ? "en" : "vi");
const ts = (d: Date) => d.toISOString().replace("Z", "");

/** Telegram polls are plain text: the sender line (built for HTML messages) loses its escapes. */
export function unescapeHtml(s: string): string {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** Topics with active questions for this province, with their titles and counts. */
export async function quizTopics(d: BroadcastDeps, provinceCode: string | null, locale: Locale): Promise<Array<{ key: string; title: string; count: number }>> {
  const rows = await d.prisma.$queryRawUnsafe<Array<{ topic: string; n: number }>>(
    `SELECT topic, count(*)::int AS n FROM quiz_questions
      WHERE retired_at IS NULL AND (province_code IS NULL OR province_code = $1) GROUP BY topic ORDER BY topic`,
    provinceCode,
  );
  const titles = new Map(TOPICS.map((t) => [t.key, t.title[lang(locale)]]));
  return rows.map((r) => ({ key: r.topic, title: titles.get(r.topic) ?? r.topic, count: r.n }));
}

/** A topic's active questions for this province, with a one-line preview each (plain text). */
export async function topicQuestions(d: BroadcastDeps, topic: string, provinceCode: string | null, locale: Locale): Promise<Array<{ id: string; preview: string }>> {
  const rows = await d.prisma.$queryRawUnsafe<Array<{ id: string; question: { vi: string; en: string } }>>(
    `SELECT id, question FROM quiz_questions
      WHERE retired_at IS NULL AND topic = $1 AND (province_code IS NULL OR province_code = $2) ORDER BY id LIMIT 100`,
    topic, provinceCode,
  );
  return rows.map((r) => ({ id: r.id, preview: cut(r.question[lang(locale)] ?? r.question.vi, PREVIEW_CHARS) }));
}

/** Which of these ids are active questions this province may use (one query). */
export async function usableQuestions(d: BroadcastDeps, ids: readonly string[], provinceCode: string | null): Promise<Set<string>> {
  const rows = await d.prisma.$queryRawUnsafe<Array<{ id: string }>>(
    `SELECT id FROM quiz_questions WHERE id = ANY($1::text[]) AND retired_at IS NULL AND (province_code IS NULL OR province_code = $2)`,
    [...ids], provinceCode,
  );
  return new Set(rows.map((r) => r.id));
}

/** The intro recipients read above the first question (the default one in their language). */
export function introOf(t: TFunction, b: Pick<Broadcast, "text">): string {
  return b.text.trim() || unescapeHtml(t("quiz-prompt:default_intro"));
}

/**
 * The poll's question: the sender line and the intro above the first question when it all fits
 * in Telegram's 300 characters; else the sender line and the question; else the question alone.
 * (Polls have no caption and one message per recipient is the rule.)
 */
export function promptQuestion(sender: string, intro: string, question: string): string {
  for (const text of [`${sender}\n${intro}\n\n${question}`, `${sender}\n\n${question}`]) {
    if (text.length <= QUIZ_LIMITS.questionMax) return text;
  }
  return question;
}

/**
 * The first poll of every recipient's round: rounds are created for the batch in one statement
 * (a recipient who already has one for this broadcast keeps it, so a retry or a crash never makes
 * a second), and the shuffles wait in memory for `onSent`, which records the polls Telegram took.
 */
export class PromptRenderer {
  /** Ledger row id → the round its poll belongs to and the option order it was sent with. */
  private readonly pending = new Map<string, { roundId: string; perm: number[] }>();

  constructor(private readonly d: BroadcastDeps) {}

  async render(b: Broadcast, rows: readonly ClaimedDelivery[], sender: (locale: Locale) => Promise<string>, env: DeliveryEnv, out: Map<string, RenderOutcome>, reply_markup: (locale: Locale) => Record<string, unknown>): Promise<void> {
    const now = env.now();
    if (!b.quizClosesAt || b.quizClosesAt.getTime() <= now.getTime()) {
      for (const r of rows) out.set(r.id, { skip: "quiz closed" });
      return;
    }
    if (rows.length === 0) return;
    const questions = await this.d.quizRounds.questionsById(b.quizQuestionIds);
    const first = questions.get(b.quizQuestionIds[0]!);
    if (!first) {
      for (const r of rows) out.set(r.id, { skip: "quiz question missing" });
      return;
    }
    const rounds = await this.d.prisma.$queryRawUnsafe<Array<{ id: bigint; chat_id: bigint; locale: string }>>(
      `WITH x AS (SELECT * FROM unnest($2::bigint[], $3::text[]) AS x(chat_id, locale)),
       old AS (
         SELECT r.id, r.chat_id, r.locale, (r.state = 'active' AND r.current = 0 AND r.poll_id IS NULL) AS reusable
           FROM quiz_rounds r WHERE r.broadcast_id = $1 AND r.chat_id = ANY($2::bigint[])
       ), ins AS (
         INSERT INTO quiz_rounds (kind, user_id, chat_id, topic, question_ids, locale, open_period, broadcast_id, started_at, closes_at, perm, current, state, score, elapsed_ms)
         SELECT 'prompt'::"QuizRoundKind", x.chat_id, x.chat_id, 'prompt', $4::text[], x.locale, 0, $1, $5::timestamp, $6::timestamp, '{}'::int[], 0, 'active'::"QuizRoundState", 0, 0
           FROM x WHERE NOT EXISTS (SELECT 1 FROM old WHERE old.chat_id = x.chat_id)
         RETURNING id, chat_id, locale
       )
       SELECT id, chat_id, locale FROM ins
       UNION ALL
       SELECT id, chat_id, locale FROM old WHERE reusable`,
      b.id, rows.map((r) => String(r.chatId)), rows.map((r) => lang(r.locale)), b.quizQuestionIds, ts(now), ts(b.quizClosesAt),
    );
    const byChat = new Map(rounds.map((r) => [Number(r.chat_id), r]));
    const total = b.quizQuestionIds.length;
    for (const row of rows) {
      const round = byChat.get(row.chatId);
      if (!round) {
        // Their first poll went out before (the round moved on or was recorded): never twice.
        out.set(row.id, { skip: "quiz already sent" });
        continue;
      }
      const locale = lang(round.locale);
      const poll = pollMessage(first, 0, total, locale, 0);
      const intro = introOf(this.d.i18n.t(locale), b);
      const question = promptQuestion(await sender(locale), intro, String(poll.payload.question));
      this.remember(row.id, { roundId: String(round.id), perm: poll.perm });
      out.set(row.id, { method: "sendPoll", payload: { ...poll.payload, question, reply_markup: reply_markup(locale) } });
    }
  }

  /** Telegram took these polls: each round's poll id, message and shuffle, in one statement. */
  async onSent(sent: readonly SentDelivery[], env: DeliveryEnv): Promise<void> {
    const ids: string[] = [];
    const polls: string[] = [];
    const messages: number[] = [];
    const perms: string[] = [];
    for (const s of sent) {
      const p = this.pending.get(s.row.id);
      this.pending.delete(s.row.id);
      if (!p || !s.result.poll?.id) continue;
      ids.push(p.roundId);
      polls.push(s.result.poll.id);
      messages.push(s.result.message_id);
      perms.push(`{${p.perm.join(",")}}`);
    }
    if (ids.length === 0) return;
    await this.d.prisma.$executeRawUnsafe(
      `UPDATE quiz_rounds r
          SET poll_id = x.poll_id, poll_message_id = x.message_id, perm = x.perm::int[], poll_sent_at = $5::timestamp
         FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[]) AS x(id, poll_id, message_id, perm)
        WHERE r.id = x.id AND r.current = 0 AND r.state = 'active'`,
      ids, polls, messages, perms, ts(env.now()),
    );
  }

  private remember(rowId: string, p: { roundId: string; perm: number[] }): void {
    this.pending.set(rowId, p);
    // Rows that failed or were skipped after render never reach onSent: the map stays bounded.
    if (this.pending.size > 20_000) this.pending.delete(this.pending.keys().next().value!);
  }
}

export interface FigureLine {
  key: string | null;
  label: string | null;
  sent: number;
  answered: number;
  answers: number;
  correct: number;
}

export interface QuizFigures {
  total: FigureLine;
  communes: FigureLine[];
  units: FigureLine[];
}

/**
 * Sent, answered, answers and right answers of a quiz prompt, in total, per commune and per unit
 * (learning_citizens as they are now), in one aggregate query.
 */
export async function quizFigures(d: BroadcastDeps, broadcastId: number): Promise<QuizFigures> {
  const params: unknown[] = [broadcastId];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const rows = await d.prisma.$queryRawUnsafe<Array<{ gc: number; gu: number; commune_code: string | null; unit_key: string | null; unit_name: string | null; sent: number; answered: number; answers: number; correct: number }>>(
    `WITH r AS (
       SELECT c.commune_code, ${unitKeySql("c.unit_name", p)} AS unit_key, c.unit_name, a.n, a.ok
         FROM quiz_rounds r
         LEFT JOIN learning_citizens c ON c.user_id = r.user_id
         LEFT JOIN LATERAL (
           SELECT count(*)::int AS n, count(*) FILTER (WHERE qa.correct)::int AS ok
             FROM quiz_answers qa WHERE qa.round_id = r.id AND qa.chosen IS NOT NULL
         ) a ON true
        WHERE r.broadcast_id = $1 AND r.kind = 'prompt' AND r.poll_sent_at IS NOT NULL
     )
     SELECT GROUPING(commune_code)::int AS gc, GROUPING(unit_key)::int AS gu, commune_code, unit_key, min(btrim(unit_name)) AS unit_name,
            count(*)::int AS sent, count(*) FILTER (WHERE n > 0)::int AS answered,
            coalesce(sum(n), 0)::int AS answers, coalesce(sum(ok), 0)::int AS correct
       FROM r GROUP BY GROUPING SETS ((), (commune_code), (unit_key))`,
    ...params,
  );
  const line = (r: (typeof rows)[number], key: string | null, label: string | null): FigureLine => ({ key, label, sent: r.sent, answered: r.answered, answers: r.answers, correct: r.correct });
  const bySent = (a: FigureLine, b: FigureLine) => b.sent - a.sent || (a.label ?? "").localeCompare(b.label ?? "");
  const total = rows.find((r) => r.gc === 1 && r.gu === 1);
  return {
    total: total ? line(total, null, null) : { key: null, label: null, sent: 0, answered: 0, answers: 0, correct: 0 },
    communes: rows.filter((r) => r.gc === 0).map((r) => line(r, r.commune_code, null)).sort(bySent),
    units: rows.filter((r) => r.gu === 0).map((r) => line(r, r.unit_key || null, r.unit_key ? r.unit_name : null)).sort(bySent),
  };
}

const percent = (part: number, whole: number) => (whole > 0 ? `${Math.round((part * 100) / whole)}%` : "–");

/** The figures as the officer reads them (HTML). */
export async function figuresText(d: BroadcastDeps, b: Broadcast, f: QuizFigures, locale: Locale, final: boolean): Promise<string> {
  const t = d.i18n.t(locale);
  const n = (x: number) => formatCount(x, locale);
  const lines: string[] = [];
  if (f.total.sent === 0) lines.push(t("quiz-prompt:results.none_yet"));
  else {
    lines.push(t("quiz-prompt:results.totals", {
      sent: n(f.total.sent), answered: n(f.total.answered), rate: percent(f.total.answered, f.total.sent),
      correct: n(f.total.correct), answers: n(f.total.answers), accuracy: percent(f.total.correct, f.total.answers),
    }));
    const breakdown = async (title: string, items: FigureLine[], label: (l: FigureLine) => Promise<string>) => {
      lines.push("", t(title));
      for (const l of items.slice(0, BREAKDOWN_LINES)) {
        lines.push(t("quiz-prompt:results.line", {
          name: await label(l), sent: n(l.sent), answered: n(l.answered), rate: percent(l.answered, l.sent), accuracy: percent(l.correct, l.answers),
          interpolation: { escapeValue: false },
        }));
      }
      if (items.length > BREAKDOWN_LINES) lines.push(t("quiz-prompt:results.more", { count: items.length - BREAKDOWN_LINES }));
    };
    await breakdown("quiz-prompt:results.by_commune", f.communes, async (l) => {
      const commune = l.key ? await d.geo.getCommune(l.key) : undefined;
      return escapeHtml(commune ? communeLabel(commune, locale) : t("quiz-prompt:results.unknown_commune"));
    });
    await breakdown("quiz-prompt:results.by_unit", f.units, async (l) => (l.label ? escapeHtml(l.label) : t("quiz-prompt:results.no_unit")));
  }
  if (b.quizClosesAt) lines.push("", t(final || b.quizClosesAt.getTime() <= d.now().getTime() ? "quiz-prompt:results.closed" : "quiz-prompt:results.closes", { when: formatVnDateTime(b.quizClosesAt, locale) }));
  return lines.join("\n");
}

/** The status an officer refreshes: the delivery progress line and the answers so far. */
export async function resultsText(d: BroadcastDeps, b: Broadcast, locale: Locale, progress: string): Promise<string> {
  const t = d.i18n.t(locale);
  const figures = await figuresText(d, b, await quizFigures(d, b.id), locale, false);
  return `${progress}\n\n${t("quiz-prompt:results.title", { id: b.id, at: formatVnDateTime(d.now(), locale), interpolation: { escapeValue: false } })}\n${figures}`;
}

/** The final figures to the author at the close time. */
export async function summaryMessage(d: BroadcastDeps, b: Broadcast, locale: Locale): Promise<{ method: "sendMessage"; payload: Record<string, unknown> }> {
  const t = d.i18n.t(locale);
  const figures = await figuresText(d, b, await quizFigures(d, b.id), locale, true);
  return { method: "sendMessage", payload: { text: `${t("quiz-prompt:results.title_final", { id: b.id })}\n${figures}`, parse_mode: "HTML" } };
}

/** For previews and approvers: the questions with their options, the right one marked (HTML). */
export async function questionsOverview(d: BroadcastDeps, ids: readonly string[], locale: Locale): Promise<string> {
  const questions = await d.quizRounds.questionsById(ids);
  const l = lang(locale);
  return ids
    .map((id, i) => {
      const q = questions.get(id);
      if (!q) return `${i + 1}. ?`;
      // Cut so that five questions of ten options still fit one message.
      const options = q.options[l].map((o, k) => `   ${k === q.correct ? "✓" : "·"} ${escapeHtml(cut(o, 50))}`);
      return [`<b>${i + 1}.</b> ${escapeHtml(cut(q.question[l], 160))}`, ...options].join("\n");
    })
    .join("\n");
}
