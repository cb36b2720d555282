/*
 * Quiz rounds: a run of native Telegram quiz polls in one chat, one at a time. The round row holds
 * the poll on screen (its id, the per-person option shuffle, when it closes); answers, boxes and
 * scores are written by one statement per answer. Polls after the first go out either as the reply
 * to an answer (the bot feature) or, when the time ran out, through the delivery engine (the sweep).
 */
import { randomInt } from "node:crypto";
import type { PrismaClient, QuizRound } from "../../generated/prisma/client.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import { Batcher } from "../../jobs/batcher.js";
import { QUIZ_LIMITS } from "./question-bank.js";
import { directSql, type DirectSql } from "../direct-sql.js";

export const ROUND_SIZE = 10;
export const DEFAULT_OPEN_PERIOD = 30;
/** Telegram's open_period range. */
export const OPEN_PERIOD_MIN = 5;
export const OPEN_PERIOD_MAX = 600;
/** An answer this long after the poll closed still counts (Telegram's and our clocks differ a little). */
const LATE_GRACE_MS = 2_000;
/** A question the round moved to must be on screen by then, or the sweep sends it through the engine. */
const SEND_DEADLINE_MS = 15_000;
/** Leitner boxes 1–5: days until a question answered right comes back (box 1: the next round). */
const BOX_DAYS = [0, 1, 3, 7, 14, 30];
/** Delivery kinds of the round engine. */
export const QUIZ_POLL = "quiz_poll";
export const QUIZ_END = "quiz_end";

export type Lang = "vi" | "en";

/** The language a round speaks: the one its polls were asked in (the person's when it started). */
export function roundLang(round: Pick<QuizRound, "locale">): Lang {
  return round.locale === "en" ? "en" : "vi";
}
export type Localized<T> = { vi: T; en: T };

export interface QuestionRow {
  id: string;
  topic: string;
  difficulty: number;
  question: Localized<string>;
  options: Localized<string[]>;
  correct: number;
  explanation: Localized<string>;
  source: Localized<string>;
  provinceCode: string | null;
  retiredAt: Date | null;
}

export type RoundKind = QuizRound["kind"];

export interface StartRound {
  kind: RoundKind;
  userId: number | null;
  chatId: number;
  topic: string;
  locale: Lang;
  questionIds: string[];
  openPeriod?: number;
  contestId?: number;
  broadcastId?: number;
  /** Untimed rounds (openPeriod 0, quiz prompts): when answers stop counting. */
  closesAt?: Date;
}

/** A poll ready to send: everything but chat_id, and the shuffle it was made with. */
export interface PollMessage {
  payload: Record<string, unknown>;
  perm: number[];
}

export type AnswerOutcome =
  /** No open question has this poll id: an old poll, a second answer, a forged id. */
  | { status: "unknown" }
  /** The poll had closed. */
  | { status: "late"; round: QuizRound }
  /** This person already answered this question (group rounds: everyone answers once). */
  | { status: "duplicate"; round: QuizRound }
  | { status: "recorded"; correct: boolean; questionId: string; idx: number; round: QuizRound };

export interface RoundSummary {
  round: QuizRound;
  total: number;
  score: number;
  elapsedMs: number;
  missed: Array<{ idx: number; question: QuestionRow; chosen: number | null }>;
}

/** A uniformly random order of 0..n-1 (crypto: nobody learns the pattern of the right answers). */
export function shuffle(n: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const iso = (d: Date) => d.toISOString().replace("Z", "");

/** The sendPoll payload for question idx of a round, options in the order of perm. */
export function pollMessage(q: QuestionRow, idx: number, total: number, locale: Lang, openPeriod: number, perm = shuffle(q.options[locale].length)): PollMessage {
  const text = q.question[locale];
  const numbered = `${idx + 1}/${total}. ${text}`;
  const options = q.options[locale];
  return {
    perm,
    payload: {
      question: total > 1 && numbered.length <= QUIZ_LIMITS.questionMax ? numbered : text,
      options: perm.map((i) => ({ text: options[i] })),
      type: "quiz",
      is_anonymous: false,
      correct_option_id: perm.indexOf(q.correct),
      explanation: q.explanation[locale],
      // 0: no timer (quiz prompts stay open until the officer's close time, which the round keeps).
      ...(openPeriod > 0 ? { open_period: openPeriod } : {}),
    },
  };
}

export interface QuizRoundsDeps {
  prisma: PrismaClient;
  deliveries: DeliveryScheduler;
  now: () => Date;
  /**
   * Answers and sent polls of the same tick share a statement. With this, also one answer statement
   * and one sent-poll statement at a time, the next gathering meanwhile (PGlite).
   */
  oneBatchAtATime?: boolean;
  /** The driver, for the two statements every answer runs (see DirectSql); Prisma when absent. */
  read?: DirectSql;
}

interface SentPoll { roundId: bigint; idx: number; pollId: string; messageId: number; perm: number[]; sentAt: Date }
interface PendingAnswer { pollId: string; userId: number; option: number; at: Date }

export class QuizRounds {
  /** Question rows by id: their content never changes under an id (imports get new ids). */
  private readonly questions = new Map<string, QuestionRow>();
  private readonly answerBatch: Batcher<PendingAnswer, AnswerOutcome>;
  private readonly sentBatch: Batcher<SentPoll, boolean>;

  private readonly sql: DirectSql;

  constructor(private readonly d: QuizRoundsDeps) {
    this.sql = directSql(d.prisma, d.read);
    this.answerBatch = new Batcher((items) => this.answerMany(items), 200, 0, d.oneBatchAtATime);
    this.sentBatch = new Batcher((items) => this.markSentMany(items), 200, 0, d.oneBatchAtATime);
  }

  /** Questions by id, from memory after the first read (one query for the ones missing). */
  async questionsById(ids: readonly string[]): Promise<Map<string, QuestionRow>> {
    const missing = [...new Set(ids.filter((id) => !this.questions.has(id)))];
    if (missing.length) {
      const rows = await this.d.prisma.quizQuestion.findMany({ where: { id: { in: missing } } });
      for (const r of rows) {
        if (this.questions.size > 10_000) this.questions.delete(this.questions.keys().next().value!);
        this.questions.set(r.id, r as unknown as QuestionRow);
      }
    }
    return new Map(ids.flatMap((id) => (this.questions.has(id) ? [[id, this.questions.get(id)!] as const] : [])));
  }

  /**
   * The next questions for a person (spaced repetition): questions due again (missed ones first),
   * then ones never seen (random), then the rest by when they fall due. Retired questions never;
   * imported ones only in their province.
   */
  async pick(userId: number, topic: string, provinceCode: string | null, n = ROUND_SIZE): Promise<string[]> {
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT q.id FROM quiz_questions q
         LEFT JOIN quiz_boxes b ON b.user_id = $1 AND b.question_id = q.id
        WHERE q.retired_at IS NULL AND ($2 = 'mixed' OR q.topic = $2)
          AND (q.province_code IS NULL OR q.province_code = $3)
        ORDER BY CASE WHEN b.due_at <= $4::timestamp THEN 0 WHEN b.question_id IS NULL THEN 1 ELSE 2 END,
                 b.box, b.due_at, random()
        LIMIT $5`,
      BigInt(userId), topic, provinceCode, iso(this.d.now()), n,
    );
    return rows.map((r) => r.id);
  }

  async start(s: StartRound): Promise<QuizRound> {
    const now = this.d.now();
    return this.d.prisma.quizRound.create({
      data: {
        kind: s.kind,
        userId: s.userId === null ? null : BigInt(s.userId),
        chatId: BigInt(s.chatId),
        topic: s.topic,
        locale: s.locale,
        questionIds: s.questionIds,
        openPeriod: s.openPeriod ?? DEFAULT_OPEN_PERIOD,
        contestId: s.contestId ?? null,
        broadcastId: s.broadcastId ?? null,
        startedAt: now,
        // Its first poll is sent right after; if not, the sweep sends it through the engine.
        // Untimed rounds (openPeriod 0) close at the given time instead.
        closesAt: s.closesAt ?? new Date(now.getTime() + SEND_DEADLINE_MS),
      },
    });
  }

  /** The active round of this kind family in a chat (solo and contest rounds: one at a time). */
  async activeIn(chatId: number, kinds: RoundKind[] = ["solo", "contest"]): Promise<QuizRound | null> {
    return this.d.prisma.quizRound.findFirst({ where: { chatId: BigInt(chatId), state: "active", kind: { in: kinds } }, orderBy: { id: "desc" } });
  }

  async get(id: bigint | number): Promise<QuizRound | null> {
    return this.d.prisma.quizRound.findUnique({ where: { id: BigInt(id) } });
  }

  async many(ids: readonly bigint[]): Promise<QuizRound[]> {
    return ids.length ? this.d.prisma.quizRound.findMany({ where: { id: { in: [...ids] } } }) : [];
  }

  /** Today's unsent daily rounds of these chats (one query for a batch of the engine). */
  async dailyRounds(chatIds: readonly number[], dayStart: Date): Promise<Map<number, QuizRound>> {
    const rows = await this.d.prisma.quizRound.findMany({
      where: { kind: "daily", state: "active", pollId: null, chatId: { in: chatIds.map(BigInt) }, startedAt: { gte: dayStart } },
    });
    return new Map(rows.map((r) => [Number(r.chatId), r]));
  }

  /** The poll for the round's current question, or null when the round has none left. */
  async currentPoll(round: QuizRound): Promise<PollMessage | null> {
    const id = round.questionIds[round.current];
    if (id === undefined || round.state !== "active") return null;
    const q = (await this.questionsById([id])).get(id);
    if (!q) return null;
    return pollMessage(q, round.current, round.questionIds.length, roundLang(round), round.openPeriod);
  }

  /** Telegram took question idx's poll: answers to it count until it closes. False if the round moved on. */
  markSent(roundId: bigint, idx: number, pollId: string, messageId: number, perm: number[], sentAt = this.d.now()): Promise<boolean> {
    return this.sentBatch.push({ roundId, idx, pollId, messageId, perm, sentAt });
  }

  /**
   * Records one poll_answer: the answer (once per person and question), the score, the Leitner
   * box, and (except in groups, where the timer moves on) the next question. Answers arriving
   * together share one statement (the embedded database runs one at a time on this thread).
   */
  answer(pollId: string, userId: number, optionIds: readonly number[], at = this.d.now()): Promise<AnswerOutcome> {
    const option = optionIds[0];
    if (option === undefined || !Number.isInteger(option) || option < 0 || option >= QUIZ_LIMITS.optionsMax) return Promise.resolve({ status: "unknown" });
    return this.answerBatch.push({ pollId, userId, option, at });
  }

  private async markSentMany(items: readonly SentPoll[]): Promise<boolean[]> {
    const rows = await this.sql<{ k: number }>(
      `UPDATE quiz_rounds r SET poll_id = x.poll_id, poll_message_id = x.message_id,
              perm = ARRAY(SELECT jsonb_array_elements_text(x.perm)::int), poll_sent_at = x.sent_at,
              closes_at = CASE WHEN r.open_period > 0 THEN x.sent_at + make_interval(secs => r.open_period) ELSE r.closes_at END
         FROM unnest($1::bigint[], $2::int[], $3::text[], $4::int[], $5::jsonb[], $6::timestamp[], $7::int[])
              AS x(round_id, idx, poll_id, message_id, perm, sent_at, k)
        WHERE r.id = x.round_id AND r.current = x.idx AND r.state = 'active'
       RETURNING x.k`,
      // Ids as text: the drivers differ on BigInt parameters; the statement casts them.
      [items.map((i) => String(i.roundId)), items.map((i) => i.idx), items.map((i) => i.pollId), items.map((i) => i.messageId),
        items.map((i) => JSON.stringify(i.perm)), items.map((i) => iso(i.sentAt)), items.map((_, k) => k)],
    );
    const done = new Set(rows.map((r) => Number(r.k)));
    return items.map((_, k) => done.has(k));
  }

  private async answerMany(items: readonly PendingAnswer[]): Promise<AnswerOutcome[]> {
    const rows = await this.sql<{ r: QuizRoundJson[] | null; a: Array<{ round_id: string | number; idx: number; user_id: string | number; question_id: string; correct: boolean }> | null; u: QuizRoundJson[] | null }>(
      `WITH x AS (
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::timestamp[], $5::int[]) AS x(poll_id, voter, opt, at, k)
       ), r AS (
         SELECT qr.*, x.voter, x.opt, x.at, x.k FROM quiz_rounds qr JOIN x ON x.poll_id = qr.poll_id
          WHERE qr.state = 'active' FOR UPDATE OF qr
       ), q AS (
         SELECT r.id, r.current, r.voter, r.opt, r.at, r.k, r.perm, r.poll_sent_at, qq.id AS qid, qq.topic, qq.correct
           FROM r JOIN quiz_questions qq ON qq.id = r.question_ids[r.current + 1]
          WHERE r.opt < cardinality(r.perm) AND r.closes_at + interval '${LATE_GRACE_MS} milliseconds' >= r.at
       ), a AS (
         INSERT INTO quiz_answers (round_id, idx, user_id, question_id, topic, chosen, correct, ms, answered_at)
         SELECT DISTINCT ON (q.id, q.current, q.voter) q.id, q.current, q.voter, q.qid, q.topic, q.perm[q.opt + 1], q.perm[q.opt + 1] = q.correct,
                GREATEST(0, LEAST(2000000000, EXTRACT(EPOCH FROM (q.at - q.poll_sent_at)) * 1000))::int, q.at
           FROM q ORDER BY q.id, q.current, q.voter, q.k
         ON CONFLICT DO NOTHING
         RETURNING round_id, idx, user_id, question_id, correct, ms, answered_at
       ), b AS (
         INSERT INTO quiz_boxes (user_id, question_id, box, due_at)
         SELECT DISTINCT ON (a.user_id, a.question_id) a.user_id, a.question_id, CASE WHEN a.correct THEN 2 ELSE 1 END,
                a.answered_at + make_interval(days => CASE WHEN a.correct THEN ${BOX_DAYS[2]} ELSE 0 END)
           FROM a ORDER BY a.user_id, a.question_id
         ON CONFLICT (user_id, question_id) DO UPDATE
           SET box = CASE WHEN excluded.box = 1 THEN 1 ELSE LEAST(quiz_boxes.box + 1, 5) END,
               due_at = CASE WHEN excluded.box = 1 THEN excluded.due_at
                        ELSE excluded.due_at - make_interval(days => ${BOX_DAYS[2]})
                             + make_interval(days => (ARRAY[${BOX_DAYS.slice(1).join(",")}])[LEAST(quiz_boxes.box + 1, 5)]) END
       ), u AS (
         UPDATE quiz_rounds r2
            SET score = r2.score + a.correct::int, elapsed_ms = r2.elapsed_ms + a.ms,
                current = r2.current + 1, poll_id = NULL,
                closes_at = CASE WHEN r2.open_period = 0 THEN r2.closes_at ELSE a.answered_at + interval '${SEND_DEADLINE_MS} milliseconds' END,
                state = CASE WHEN r2.current + 1 >= cardinality(r2.question_ids) THEN 'finished'::"QuizRoundState" ELSE r2.state END,
                finished_at = CASE WHEN r2.current + 1 >= cardinality(r2.question_ids) THEN a.answered_at ELSE NULL END
           FROM a WHERE r2.id = a.round_id AND r2.kind <> 'group'
         RETURNING r2.*
       )
       SELECT (SELECT json_agg(r) FROM r) AS r,
              (SELECT json_agg(json_build_object('round_id', a.round_id, 'idx', a.idx, 'user_id', a.user_id, 'question_id', a.question_id, 'correct', a.correct)) FROM a) AS a,
              (SELECT json_agg(u) FROM u) AS u`,
      [items.map((i) => i.pollId), items.map((i) => String(i.userId)), items.map((i) => i.option), items.map((i) => iso(i.at)), items.map((_, k) => k)],
    );
    const row = rows[0];
    const before = new Map((row?.r ?? []).map((r) => [Number(r.k), r]));
    const after = new Map((row?.u ?? []).map((u) => [String(u.id), u]));
    const answered = new Map((row?.a ?? []).map((a) => [`${a.round_id}:${a.idx}:${a.user_id}`, a]));
    const taken = new Set<string>();
    return items.map((item, k) => {
      const r = before.get(k);
      if (!r) return { status: "unknown" } as const;
      const round = roundFromJson(r);
      const key = `${r.id}:${r.current}:${item.userId}`;
      const a = answered.get(key);
      // Of two answers to one question in one batch, the first counts (DISTINCT ON … ORDER BY k).
      if (!a || taken.has(key)) {
        const closed = round.closesAt !== null && round.closesAt.getTime() + LATE_GRACE_MS < item.at.getTime();
        return closed ? { status: "late", round } : { status: "duplicate", round };
      }
      taken.add(key);
      const u = after.get(String(r.id));
      return { status: "recorded", correct: a.correct, questionId: a.question_id, idx: a.idx, round: u ? roundFromJson(u) : round };
    });
  }

  /**
   * Moves on every round whose poll closed unanswered (and sends any question that missed its
   * send deadline), at most `limit` rounds per call: the time-out counts as a wrong answer, the
   * next poll or the end of the round goes out through the delivery engine. Safe to run in every
   * process at once (SKIP LOCKED) and again after a crash (deterministic refs).
   */
  async sweep(limit = 500): Promise<number> {
    const now = this.d.now();
    // Every second in every process, and nearly always nothing to do: one indexed look before
    // the locking statement (whose plan alone costs more).
    const any = await this.d.prisma.$queryRawUnsafe<unknown[]>(
      `SELECT 1 FROM quiz_rounds WHERE state = 'active' AND closes_at < $1::timestamp LIMIT 1`, iso(now),
    );
    if (any.length === 0) return 0;
    const moved = await this.d.prisma.$queryRawUnsafe<Array<{ id: bigint; chat_id: bigint; kind: RoundKind; current: number; state: QuizRound["state"]; timed_out: boolean }>>(
      `WITH due AS (
         SELECT r.id, r.poll_id IS NOT NULL AS timed_out,
                d.state::text IN ('blocked', 'failed', 'cancelled') AS undeliverable
           FROM quiz_rounds r
           LEFT JOIN deliveries d ON d.kind = '${QUIZ_POLL}' AND d.ref_id = r.id || '.' || r.current AND d.chat_id = r.chat_id
          WHERE r.state = 'active' AND r.closes_at < $1::timestamp
          ORDER BY r.closes_at
          LIMIT $2
          FOR UPDATE OF r SKIP LOCKED
       ), t AS (
         SELECT r.* FROM quiz_rounds r JOIN due ON due.id = r.id AND due.timed_out
       ), a AS (
         INSERT INTO quiz_answers (round_id, idx, user_id, question_id, topic, chosen, correct, ms, answered_at)
         SELECT t.id, t.current, t.user_id, qq.id, qq.topic, NULL, false, t.open_period * 1000, $1::timestamp
           FROM t JOIN quiz_questions qq ON qq.id = t.question_ids[t.current + 1]
          WHERE t.kind <> 'group' AND t.open_period > 0 AND t.user_id IS NOT NULL
         ON CONFLICT DO NOTHING
         RETURNING user_id, question_id
       ), b AS (
         INSERT INTO quiz_boxes (user_id, question_id, box, due_at)
         SELECT a.user_id, a.question_id, 1, $1::timestamp FROM a
         ON CONFLICT (user_id, question_id) DO UPDATE SET box = 1, due_at = excluded.due_at
       )
       UPDATE quiz_rounds r
          SET current = CASE WHEN due.timed_out THEN r.current + 1 ELSE r.current END,
              elapsed_ms = r.elapsed_ms + CASE WHEN due.timed_out AND r.kind <> 'group' THEN r.open_period * 1000 ELSE 0 END,
              poll_id = NULL,
              closes_at = $1::timestamp + interval '60 seconds',
              state = CASE
                WHEN due.undeliverable AND NOT due.timed_out THEN 'abandoned'::"QuizRoundState"
                -- An untimed round (quiz prompt) ends at its close time, answered or not.
                WHEN r.open_period = 0 THEN 'finished'::"QuizRoundState"
                WHEN due.timed_out AND r.current + 1 >= cardinality(r.question_ids) THEN 'finished'::"QuizRoundState"
                ELSE r.state END,
              finished_at = CASE WHEN (due.undeliverable AND NOT due.timed_out) OR r.open_period = 0 OR (due.timed_out AND r.current + 1 >= cardinality(r.question_ids)) THEN $1::timestamp ELSE NULL END
         FROM due WHERE r.id = due.id
       RETURNING r.id, r.chat_id, r.kind, r.current, r.state, due.timed_out, r.open_period`,
      iso(now), limit,
    );
    for (const r of moved) {
      const chat = Number(r.chat_id);
      if (r.state === "active") await this.d.deliveries.schedule(QUIZ_POLL, `${r.id}.${r.current}`, [chat], now);
      // Quiz prompts and daily questions end quietly at their close time; the officer gets the summary.
      else if (r.state === "finished" && r.kind !== "prompt" && r.kind !== "daily") await this.d.deliveries.schedule(QUIZ_END, String(r.id), [chat], now);
    }
    return moved.length;
  }

  /**
   * A person's record for /myquiz and the card: rounds finished (private and contest), the best
   * score, right answers per topic, and questions due for review. Three aggregate queries.
   */
  async stats(userId: number): Promise<{ rounds: number; bestScore: number; bestOf: number; topics: Array<{ topic: string; right: number; total: number }>; due: number }> {
    const id = BigInt(userId);
    const [best, topics, due] = await Promise.all([
      this.d.prisma.$queryRawUnsafe<Array<{ rounds: number; score: number | null; of: number | null }>>(
        `SELECT count(*)::int AS rounds, max(score) AS score,
                (array_agg(cardinality(question_ids) ORDER BY score DESC, id))[1] AS of
           FROM quiz_rounds WHERE user_id = $1 AND kind IN ('solo', 'contest') AND state = 'finished'`,
        id,
      ),
      this.d.prisma.$queryRawUnsafe<Array<{ topic: string; right: number; total: number }>>(
        `SELECT topic, count(*) FILTER (WHERE correct)::int AS right, count(*)::int AS total
           FROM quiz_answers WHERE user_id = $1 GROUP BY topic ORDER BY topic`,
        id,
      ),
      this.d.prisma.quizBox.count({ where: { userId: id, box: 1 } }),
    ]);
    return { rounds: best[0]?.rounds ?? 0, bestScore: best[0]?.score ?? 0, bestOf: best[0]?.of ?? 0, topics, due };
  }

  /** Stops a round (the person asked, or started another): it ends without its missing answers. */
  async abandon(roundId: bigint): Promise<boolean> {
    const n = await this.d.prisma.quizRound.updateMany({
      where: { id: roundId, state: "active" },
      data: { state: "abandoned", pollId: null, closesAt: null, finishedAt: this.d.now() },
    });
    return n.count > 0;
  }

  /** Score, time and each missed question with its right answer (in the round's order). */
  async summary(roundId: bigint, userId?: number): Promise<RoundSummary | null> {
    const round = await this.get(roundId);
    if (!round) return null;
    const who = userId !== undefined ? BigInt(userId) : round.userId;
    const answers = who === null ? [] : await this.d.prisma.quizAnswer.findMany({ where: { roundId, userId: who }, orderBy: { idx: "asc" } });
    const questions = await this.questionsById(round.questionIds);
    const answered = new Map(answers.map((a) => [a.idx, a]));
    const missed: RoundSummary["missed"] = [];
    round.questionIds.forEach((id, idx) => {
      const a = answered.get(idx);
      const q = questions.get(id);
      if (!q || a?.correct) return;
      // Questions never reached (the round was stopped) are not "missed".
      if (!a && idx >= round.current) return;
      missed.push({ idx, question: q, chosen: a?.chosen ?? null });
    });
    return {
      round,
      total: round.questionIds.length,
      score: answers.filter((a) => a.correct).length,
      elapsedMs: answers.reduce((s, a) => s + a.ms, 0),
      missed,
    };
  }
}

/** row_to_json gives snake_case columns and ISO strings; the rest of the code wants Prisma's shape. */
type QuizRoundJson = Record<string, unknown>;

function roundFromJson(j: QuizRoundJson): QuizRound {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(`${String(v).replace(/Z?$/, "Z")}`));
  return {
    id: BigInt(j.id as string | number),
    kind: j.kind as RoundKind,
    userId: j.user_id === null ? null : BigInt(j.user_id as string | number),
    chatId: BigInt(j.chat_id as string | number),
    topic: j.topic as string,
    questionIds: j.question_ids as string[],
    locale: j.locale as string,
    current: j.current as number,
    pollId: (j.poll_id as string | null) ?? null,
    pollMessageId: (j.poll_message_id as number | null) ?? null,
    perm: (j.perm as number[] | null) ?? [],
    pollSentAt: date(j.poll_sent_at),
    closesAt: date(j.closes_at),
    openPeriod: j.open_period as number,
    score: j.score as number,
    elapsedMs: j.elapsed_ms as number,
    state: j.state as QuizRound["state"],
    broadcastId: (j.broadcast_id as number | null) ?? null,
    contestId: (j.contest_id as number | null) ?? null,
    tiebreakGuess: (j.tiebreak_guess as number | null) ?? null,
    startedAt: date(j.started_at)!,
    finishedAt: date(j.finished_at),
  };
}
