/*
 * Contests: a fixed question set open between two times, a cap on attempts per week (weeks start
 * on Monday 00:00 in Vietnam), and a number to guess as the tie-break. An attempt is a quiz round of
 * kind "contest" run by the round engine; a person's best attempt counts: score, then time, then
 * how close the guess was, then who finished first.
 */
import { z } from "zod";
import type { PrismaClient, QuizContest, QuizRound } from "../../generated/prisma/client.js";
import type { Role, Scope, UserService } from "../users/user-service.js";
import { roleAtLeast } from "../users/user-service.js";
import { fromVnWallTime, vnParts } from "../time/vietnam-time.js";
import type { Lang, Localized, QuizRounds } from "./quiz-rounds.js";

export const CONTEST_LIMITS = {
  titleMin: 3,
  titleMax: 120,
  questionsMin: 5,
  questionsMax: 50,
  attemptsMin: 1,
  attemptsMax: 20,
  openPeriodMin: 10,
  openPeriodMax: 120,
  openPeriodDefault: 30,
  tiebreakMin: 3,
  tiebreakMax: 300,
  /** Guesses and answers beyond this are typos, not estimates. */
  numberMax: 1e12,
} as const;

/** How long after the last question the tie-break guess is still taken. */
export const TIEBREAK_WINDOW_MS = 24 * 3600_000;
const WEEK_MS = 7 * 24 * 3600_000;

/** Monday 00:00 (Asia/Ho_Chi_Minh) of the week an instant falls in: attempt caps reset then. */
export function vnWeekStart(at: Date): Date {
  const p = vnParts(at);
  const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  return fromVnWallTime(p.year, p.month, p.day - ((weekday + 6) % 7), 0, 0);
}

/**
 * A number as people type it: "1250", "-3", "12,5" or "12.5" (one decimal separator), "1 250" or
 * "1.449.566" (groups of three). Messages are i18n keys.
 */
export const numberAnswer = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const compact = s.replace(/[\s\u00a0]/g, "");
    let normal: string | undefined;
    if (/^[-+]?\d+([.,]\d+)?$/.test(compact)) normal = compact.replace(",", ".");
    else if (/^[-+]?\d{1,3}([.,])\d{3}(\1\d{3})+$/.test(compact)) normal = compact.replace(/[.,]/g, "");
    const value = normal === undefined ? NaN : Number(normal);
    if (!Number.isFinite(value)) {
      ctx.addIssue({ code: "custom", message: "contest:tiebreak.not_number" });
      return z.NEVER;
    }
    if (Math.abs(value) > CONTEST_LIMITS.numberMax) {
      ctx.addIssue({ code: "custom", message: "contest:tiebreak.too_large" });
      return z.NEVER;
    }
    return value;
  });

const tiebreakText = z.string().trim().min(CONTEST_LIMITS.tiebreakMin, "contest:errors.tiebreak_length").max(CONTEST_LIMITS.tiebreakMax, "contest:errors.tiebreak_length");

/** What an officer submits (plain JSON: it comes out of a conversation). Messages are i18n keys. */
export const contestInput = z
  .object({
    title: z.string().trim().min(CONTEST_LIMITS.titleMin, "contest:errors.title_length").max(CONTEST_LIMITS.titleMax, "contest:errors.title_length"),
    questionIds: z
      .array(z.string().min(1).max(64))
      .min(CONTEST_LIMITS.questionsMin, "contest:errors.question_count")
      .max(CONTEST_LIMITS.questionsMax, "contest:errors.question_count")
      .refine((ids) => new Set(ids).size === ids.length, "contest:errors.question_repeated"),
    opensAt: z.coerce.date({ message: "contest:errors.bad_time" }),
    closesAt: z.coerce.date({ message: "contest:errors.bad_time" }),
    attemptsPerWeek: z.number({ message: "contest:errors.attempts" }).int("contest:errors.attempts").min(CONTEST_LIMITS.attemptsMin, "contest:errors.attempts").max(CONTEST_LIMITS.attemptsMax, "contest:errors.attempts"),
    openPeriod: z
      .number({ message: "contest:errors.open_period" })
      .int("contest:errors.open_period")
      .min(CONTEST_LIMITS.openPeriodMin, "contest:errors.open_period")
      .max(CONTEST_LIMITS.openPeriodMax, "contest:errors.open_period")
      .default(CONTEST_LIMITS.openPeriodDefault),
    tiebreakQuestion: z.object({ vi: tiebreakText, en: tiebreakText }),
    tiebreakAnswer: z.number({ message: "contest:errors.tiebreak_answer" }).refine((n) => Math.abs(n) <= CONTEST_LIMITS.numberMax, "contest:errors.tiebreak_answer"),
    /** Admins only: the contest is for everyone (otherwise the creator's own scope). */
    nationwide: z.boolean().default(false),
  })
  .refine((c) => c.opensAt.getTime() < c.closesAt.getTime(), { message: "contest:errors.close_before_open", path: ["closesAt"] });

export type ContestInput = z.input<typeof contestInput>;

export interface ContestError {
  key: string;
  params?: Record<string, string | number>;
}

export type CreateResult = { ok: true; contest: QuizContest } | { ok: false; reason: "forbidden" } | { ok: false; reason: "invalid"; errors: ContestError[] };

/** Who may create contests, and where: officers in their scope, admins anywhere or nationwide. */
export type CreatorStart = { ok: false } | { ok: true; admin: boolean; scope: { provinceCode: string | null; communeCode: string | null } };

export interface OpenContest {
  id: number;
  title: string;
  questions: number;
  openPeriod: number;
  closesAt: Date;
  attemptsPerWeek: number;
  usedThisWeek: number;
}

export type StartRefusal =
  /** Not there, cancelled, or not for this person's place. */
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "not_yet"; opensAt: Date }
  | { ok: false; reason: "closed" }
  | { ok: false; reason: "cap"; used: number; cap: number; nextWeek: Date }
  /** A round (solo or contest) is already running in this chat. */
  | { ok: false; reason: "busy"; round: QuizRound };

export type StartResult = { ok: true; round: QuizRound; contest: QuizContest } | StartRefusal;

export interface RankRow {
  rank: number;
  entrants: number;
  userId: bigint;
  roundId: bigint;
  score: number;
  elapsedMs: number;
  tiebreakGuess: number | null;
  finishedAt: Date;
  /** The registered name, shown only with the person's consent (quiz_profiles.show_name). */
  fullName: string | null;
  showName: boolean;
  communeName: string | null;
  communeType: string | null;
  attempts: number;
}

export interface OfficerContest {
  contest: QuizContest;
  people: number;
  attempts: number;
  finished: number;
}

export type ManageResult = { ok: true; contest: QuizContest } | { ok: false; reason: "forbidden" | "not_found" };

export interface PendingTiebreak {
  round: QuizRound;
  contest: QuizContest;
}

export interface AttemptResult {
  contest: QuizContest;
  round: QuizRound;
  /** The person's standing (their best attempt), null while no attempt of theirs is finished. */
  standing: RankRow | null;
  usedThisWeek: number;
}

export interface ContestDeps {
  prisma: PrismaClient;
  rounds: QuizRounds;
  users: UserService;
  now: () => Date;
}

interface RawRank {
  rank: number;
  entrants: number;
  user_id: bigint;
  round_id: bigint;
  score: number;
  elapsed_ms: number;
  tiebreak_guess: number | null;
  finished_at: Date;
  full_name: string | null;
  show_name: boolean;
  commune_name: string | null;
  commune_type: string | null;
  attempts: number;
}

export class ContestService {
  constructor(private readonly d: ContestDeps) {}

  /** The caller's right to create contests, read from the database (role and scope). */
  async creatorStart(actorId: string): Promise<CreatorStart> {
    const access = await this.d.users.access(actorId);
    if (!roleAtLeast(access.role, "officer")) return { ok: false };
    const admin = access.role === "admin";
    // An officer always has a province; one without (a broken row) cannot create anything.
    if (!admin && !access.scope.provinceCode) return { ok: false };
    return { ok: true, admin, scope: { provinceCode: access.scope.provinceCode ?? null, communeCode: access.scope.communeCode ?? null } };
  }

  /** Questions the creator may use, per topic: not retired, bank ones or imports of the contest's province. */
  async questionCounts(provinceCode: string | null): Promise<Map<string, number>> {
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ topic: string; n: number }>>(
      `SELECT topic, count(*)::int AS n FROM quiz_questions
        WHERE retired_at IS NULL AND (province_code IS NULL OR province_code = $1) GROUP BY topic`,
      provinceCode,
    );
    return new Map(rows.map((r) => [r.topic, r.n]));
  }

  /** N questions at random from a topic (or "mixed"), usable in a contest of that province. */
  async pickQuestions(topic: string, n: number, provinceCode: string | null): Promise<string[]> {
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT id FROM quiz_questions
        WHERE retired_at IS NULL AND ($1 = 'mixed' OR topic = $1) AND (province_code IS NULL OR province_code = $2)
        ORDER BY random() LIMIT $3`,
      topic, provinceCode, Math.max(0, Math.min(n, CONTEST_LIMITS.questionsMax)),
    );
    return rows.map((r) => r.id);
  }

  /** Validates and stores a contest in the creator's scope (or nationwide, for admins). */
  async create(actorId: string, raw: unknown): Promise<CreateResult> {
    const who = await this.creatorStart(actorId);
    if (!who.ok) return { ok: false, reason: "forbidden" };
    const parsed = contestInput.safeParse(raw);
    if (!parsed.success) {
      const keys = [...new Set(parsed.error.issues.map((i) => (i.message.startsWith("contest:") ? i.message : "contest:errors.invalid")))];
      return { ok: false, reason: "invalid", errors: keys.map((key) => ({ key })) };
    }
    const c = parsed.data;
    if (c.nationwide && !who.admin) return { ok: false, reason: "forbidden" };
    const scope = c.nationwide || !who.scope.provinceCode ? { provinceCode: null, communeCode: null } : who.scope;
    const errors: ContestError[] = [];
    if (c.closesAt.getTime() <= this.d.now().getTime()) errors.push({ key: "contest:errors.closes_past" });
    const usable = await this.d.prisma.quizQuestion.findMany({
      where: { id: { in: c.questionIds }, retiredAt: null, OR: [{ provinceCode: null }, ...(scope.provinceCode ? [{ provinceCode: scope.provinceCode }] : [])] },
      select: { id: true },
    });
    const found = new Set(usable.map((q) => q.id));
    const missing = c.questionIds.filter((id) => !found.has(id));
    if (missing.length) errors.push({ key: "contest:errors.questions_unusable", params: { ids: missing.slice(0, 10).join(", "), count: missing.length } });
    if (errors.length) return { ok: false, reason: "invalid", errors };
    const contest = await this.d.prisma.quizContest.create({
      data: {
        title: c.title,
        authorId: BigInt(actorId),
        provinceCode: scope.provinceCode,
        communeCode: scope.communeCode,
        questionIds: c.questionIds,
        opensAt: c.opensAt,
        closesAt: c.closesAt,
        attemptsPerWeek: c.attemptsPerWeek,
        openPeriod: c.openPeriod,
        tiebreakQuestion: c.tiebreakQuestion,
        tiebreakAnswer: c.tiebreakAnswer,
        createdAt: this.d.now(),
      },
    });
    return { ok: true, contest };
  }

  async get(id: number): Promise<QuizContest | null> {
    return this.d.prisma.quizContest.findUnique({ where: { id } });
  }

  /** Where the person is registered (learning_citizens); unregistered people see nationwide contests only. */
  private async placeOf(userId: number): Promise<{ provinceCode: string; communeCode: string } | null> {
    return this.d.prisma.learningCitizen.findUnique({ where: { userId: BigInt(userId) }, select: { provinceCode: true, communeCode: true } });
  }

  private static visibleTo(c: Pick<QuizContest, "provinceCode" | "communeCode">, place: { provinceCode: string; communeCode: string } | null): boolean {
    if (c.provinceCode === null) return true;
    if (!place || place.provinceCode !== c.provinceCode) return false;
    return c.communeCode === null || c.communeCode === place.communeCode;
  }

  /** Contests open now that this person may enter, with the attempts they used this week. Two queries. */
  async listOpenFor(userId: number, limit = 10): Promise<OpenContest[]> {
    const now = this.d.now();
    const place = await this.placeOf(userId);
    const contests = await this.d.prisma.quizContest.findMany({
      where: {
        cancelledAt: null,
        opensAt: { lte: now },
        closesAt: { gt: now },
        OR: [{ provinceCode: null }, ...(place ? [{ provinceCode: place.provinceCode, OR: [{ communeCode: null }, { communeCode: place.communeCode }] }] : [])],
      },
      orderBy: [{ closesAt: "asc" }, { id: "asc" }],
      take: limit,
    });
    if (contests.length === 0) return [];
    const used = await this.d.prisma.quizRound.groupBy({
      by: ["contestId"],
      where: { userId: BigInt(userId), kind: "contest", contestId: { in: contests.map((c) => c.id) }, startedAt: { gte: vnWeekStart(now) } },
      _count: { _all: true },
    });
    const usedBy = new Map(used.map((u) => [u.contestId, u._count._all]));
    return contests.map((c) => ({
      id: c.id, title: c.title, questions: c.questionIds.length, openPeriod: c.openPeriod, closesAt: c.closesAt,
      attemptsPerWeek: c.attemptsPerWeek, usedThisWeek: usedBy.get(c.id) ?? 0,
    }));
  }

  /** Attempts started this week (Monday 00:00 Vietnam time); stopped ones count too, or stopping would be a free retry. */
  async attemptsThisWeek(userId: number, contestId: number): Promise<number> {
    return this.d.prisma.quizRound.count({
      where: { userId: BigInt(userId), contestId, kind: "contest", startedAt: { gte: vnWeekStart(this.d.now()) } },
    });
  }

  /**
   * Starts an attempt: a contest round with the contest's questions in their fixed order (the
   * engine shuffles each poll's options per person). The check and the insert do not race: a
   * person's updates are handled one at a time (sequentialize by the session key).
   */
  async startAttempt(userId: number, chatId: number, contestId: number, locale: Lang): Promise<StartResult> {
    const now = this.d.now();
    const contest = await this.get(contestId);
    if (!contest || contest.cancelledAt || !ContestService.visibleTo(contest, await this.placeOf(userId))) return { ok: false, reason: "not_found" };
    if (contest.opensAt.getTime() > now.getTime()) return { ok: false, reason: "not_yet", opensAt: contest.opensAt };
    if (contest.closesAt.getTime() <= now.getTime()) return { ok: false, reason: "closed" };
    const busy = await this.d.rounds.activeIn(chatId);
    if (busy) return { ok: false, reason: "busy", round: busy };
    const used = await this.attemptsThisWeek(userId, contestId);
    if (used >= contest.attemptsPerWeek) {
      return { ok: false, reason: "cap", used, cap: contest.attemptsPerWeek, nextWeek: new Date(vnWeekStart(now).getTime() + WEEK_MS) };
    }
    const round = await this.d.rounds.start({
      kind: "contest", userId, chatId, topic: "contest", locale, questionIds: contest.questionIds, openPeriod: contest.openPeriod, contestId,
    });
    return { ok: true, round, contest };
  }

  /** The person's last contest attempt, finished without a tie-break guess and recently enough to take one. */
  async pendingTiebreak(userId: number): Promise<PendingTiebreak | null> {
    const round = await this.d.prisma.quizRound.findFirst({ where: { userId: BigInt(userId), kind: "contest" }, orderBy: { id: "desc" } });
    if (!round || round.state !== "finished" || round.tiebreakGuess !== null || round.contestId === null || !round.finishedAt) return null;
    if (this.d.now().getTime() - round.finishedAt.getTime() > TIEBREAK_WINDOW_MS) return null;
    const contest = await this.get(round.contestId);
    return contest && !contest.cancelledAt ? { round, contest } : null;
  }

  /** Stores the guess once, only on the person's own finished attempt, within the tie-break window. */
  async recordTiebreak(roundId: bigint, userId: number, guess: number): Promise<boolean> {
    if (!Number.isFinite(guess) || Math.abs(guess) > CONTEST_LIMITS.numberMax) return false;
    const since = new Date(this.d.now().getTime() - TIEBREAK_WINDOW_MS);
    const n = await this.d.prisma.quizRound.updateMany({
      where: { id: roundId, userId: BigInt(userId), kind: "contest", state: "finished", tiebreakGuess: null, finishedAt: { gte: since } },
      data: { tiebreakGuess: guess },
    });
    return n.count > 0;
  }

  /** The tie-break question of a finished attempt in its language (the end of an attempt asks it). */
  async tiebreakQuestion(round: QuizRound): Promise<{ contest: QuizContest; question: string } | null> {
    if (round.kind !== "contest" || round.contestId === null) return null;
    const contest = await this.get(round.contestId);
    if (!contest) return null;
    const q = contest.tiebreakQuestion as Localized<string>;
    return { contest, question: round.locale === "en" ? q.en : q.vi };
  }

  /**
   * The ranking in one statement: each person's best finished attempt (score desc, time asc,
   * |guess − answer| asc with no guess last, earlier finish), then everyone ranked by the same
   * order. With `userId`, only that person's row (their current rank).
   */
  async ranking(contestId: number, limit = 10, userId?: number): Promise<RankRow[]> {
    const rows = await this.d.prisma.$queryRawUnsafe<RawRank[]>(
      `WITH best AS (
         SELECT DISTINCT ON (r.user_id) r.id, r.user_id, r.score, r.elapsed_ms, r.tiebreak_guess, r.finished_at,
                abs(r.tiebreak_guess - c.tiebreak_answer) AS off_by
           FROM quiz_rounds r JOIN quiz_contests c ON c.id = r.contest_id
          WHERE r.contest_id = $1 AND r.kind = 'contest' AND r.state = 'finished' AND r.user_id IS NOT NULL
          ORDER BY r.user_id, r.score DESC, r.elapsed_ms, off_by NULLS LAST, r.finished_at, r.id
       ), ranked AS (
         SELECT best.*, row_number() OVER (ORDER BY score DESC, elapsed_ms, off_by NULLS LAST, finished_at, id)::int AS rank,
                count(*) OVER ()::int AS entrants
           FROM best
       )
       SELECT k.rank, k.entrants, k.user_id, k.id AS round_id, k.score, k.elapsed_ms, k.tiebreak_guess, k.finished_at,
              lc.full_name, coalesce(p.show_name, false) AS show_name, cm.name AS commune_name, cm.type AS commune_type,
              (SELECT count(*)::int FROM quiz_rounds a WHERE a.contest_id = $1 AND a.kind = 'contest' AND a.user_id = k.user_id) AS attempts
         FROM ranked k
         LEFT JOIN learning_citizens lc ON lc.user_id = k.user_id
         LEFT JOIN communes cm ON cm.code = lc.commune_code
         LEFT JOIN quiz_profiles p ON p.user_id = k.user_id
        WHERE $2::bigint IS NULL OR k.user_id = $2::bigint
        ORDER BY k.rank
        LIMIT $3`,
      contestId, userId === undefined ? null : BigInt(userId), limit,
    );
    return rows.map((r) => ({
      rank: r.rank, entrants: r.entrants, userId: BigInt(r.user_id), roundId: BigInt(r.round_id), score: r.score, elapsedMs: r.elapsed_ms,
      tiebreakGuess: r.tiebreak_guess === null ? null : Number(r.tiebreak_guess), finishedAt: r.finished_at, fullName: r.full_name,
      showName: r.show_name, communeName: r.commune_name, communeType: r.commune_type, attempts: r.attempts,
    }));
  }

  /** What a person sees after their tie-break: this attempt, their standing, attempts used this week. */
  async attemptResult(roundId: bigint, userId: number): Promise<AttemptResult | null> {
    const round = await this.d.rounds.get(roundId);
    if (!round || round.contestId === null || round.userId !== BigInt(userId)) return null;
    const contest = await this.get(round.contestId);
    if (!contest) return null;
    const [standing, usedThisWeek] = await Promise.all([this.ranking(contest.id, 1, userId), this.attemptsThisWeek(userId, contest.id)]);
    return { contest, round, standing: standing[0] ?? null, usedThisWeek };
  }

  /** A contest its author (or an admin) may look at and export; checked on every button. */
  async manage(actorId: string, contestId: number): Promise<ManageResult> {
    const access = await this.d.users.access(actorId);
    if (!roleAtLeast(access.role, "officer")) return { ok: false, reason: "forbidden" };
    const contest = await this.get(contestId);
    if (!contest) return { ok: false, reason: access.role === "admin" ? "not_found" : "forbidden" };
    if (access.role !== "admin" && contest.authorId !== BigInt(actorId)) return { ok: false, reason: "forbidden" };
    return { ok: true, contest };
  }

  /** The officer's contests (admins: everyone's), newest first, with people, attempts and finished attempts. */
  async listForOfficer(actorId: string, limit = 10): Promise<OfficerContest[] | null> {
    const access = await this.d.users.access(actorId);
    if (!roleAtLeast(access.role, "officer")) return null;
    const role: Role = access.role;
    const contests = await this.d.prisma.quizContest.findMany({
      where: role === "admin" ? {} : { authorId: BigInt(actorId) },
      orderBy: { id: "desc" },
      take: limit,
    });
    if (contests.length === 0) return [];
    const counts = await this.d.prisma.$queryRawUnsafe<Array<{ contest_id: number; people: number; attempts: number; finished: number }>>(
      `SELECT contest_id, count(DISTINCT user_id)::int AS people, count(*)::int AS attempts,
              count(*) FILTER (WHERE state = 'finished')::int AS finished
         FROM quiz_rounds WHERE kind = 'contest' AND contest_id = ANY($1::int[]) GROUP BY contest_id`,
      contests.map((c) => c.id),
    );
    const by = new Map(counts.map((c) => [c.contest_id, c]));
    return contests.map((contest) => ({ contest, people: by.get(contest.id)?.people ?? 0, attempts: by.get(contest.id)?.attempts ?? 0, finished: by.get(contest.id)?.finished ?? 0 }));
  }

  /** Every ranked person, for the officer's export (a contest has at most a few thousand entrants). */
  async exportRows(contestId: number): Promise<RankRow[]> {
    return this.ranking(contestId, 100_000);
  }
}

/** The scope a contest serves, as a Scope (for labels). */
export function contestScope(c: Pick<QuizContest, "provinceCode" | "communeCode">): Scope {
  return { provinceCode: c.provinceCode ?? undefined, communeCode: c.communeCode ?? undefined };
}

/** "upcoming" / "open" / "closed" / "cancelled" at an instant. */
export function contestState(c: Pick<QuizContest, "opensAt" | "closesAt" | "cancelledAt">, now: Date): "upcoming" | "open" | "closed" | "cancelled" {
  if (c.cancelledAt) return "cancelled";
  if (now.getTime() < c.opensAt.getTime()) return "upcoming";
  return now.getTime() < c.closesAt.getTime() ? "open" : "closed";
}
