import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";

/** A UTC timestamp column as ISO text: the same in both database lanes, whatever the driver makes of timestamps. */
const isoSql = (expr: string) => `to_char(${expr}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Rounds listed one by one in /mydata (the newest); older ones are counted in the summary. */
const ROUNDS_LISTED = 200;

/**
 * A person's quiz data: their quiz profile (daily question, streak, name on leaderboards), their
 * answers, their rounds and their spaced-repetition boxes. /mydata gets summaries (answers can
 * number thousands); /deleteme deletes it all. Keyed by Telegram id with no foreign keys.
 */
export function quizDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "quiz_profile",
      label: "leaderboard:parts.quiz_profile",
      kind: "database",
      export: async (id) => {
        const row = await prisma.quizProfile.findUnique({ where: { userId: BigInt(id) } });
        if (!row) return null;
        const { userId: _userId, ...rest } = row;
        return toPlainJson(rest);
      },
      exists: async (id) => (await prisma.quizProfile.count({ where: { userId: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).quizProfile.deleteMany({ where: { userId: BigInt(id) } })).count > 0,
    },
    {
      key: "quiz_answers",
      label: "leaderboard:parts.quiz_answers",
      kind: "database",
      export: async (id) => {
        // quiz_answers(user_id, answered_at) serves both.
        const byTopic = await prisma.$queryRawUnsafe<Array<{ topic: string; taken: number; correct: number; timed_out: number; first_at: string; last_at: string }>>(
          `SELECT topic, count(*)::int AS taken, count(*) FILTER (WHERE correct)::int AS correct,
                  count(*) FILTER (WHERE chosen IS NULL)::int AS timed_out, ${isoSql("min(answered_at)")} AS first_at, ${isoSql("max(answered_at)")} AS last_at
             FROM quiz_answers WHERE user_id = $1::bigint GROUP BY topic ORDER BY topic`,
          id,
        );
        if (byTopic.length === 0) return null;
        const sum = (k: "taken" | "correct" | "timed_out") => byTopic.reduce((s, r) => s + r[k], 0);
        return toPlainJson({ taken: sum("taken"), correct: sum("correct"), timedOut: sum("timed_out"), byTopic: byTopic.map((r) => ({ topic: r.topic, taken: r.taken, correct: r.correct, timedOut: r.timed_out, firstAt: r.first_at, lastAt: r.last_at })) });
      },
      exists: async (id) => (await prisma.quizAnswer.findFirst({ where: { userId: BigInt(id) }, select: { roundId: true } })) !== null,
      erase: async (id, tx) => (await (tx ?? prisma).quizAnswer.deleteMany({ where: { userId: BigInt(id) } })).count > 0,
    },
    {
      key: "quiz_rounds",
      label: "leaderboard:parts.quiz_rounds",
      kind: "database",
      export: async (id) => {
        const where = { userId: BigInt(id) };
        const total = await prisma.quizRound.count({ where });
        if (total === 0) return null;
        const rounds = await prisma.quizRound.findMany({
          where,
          orderBy: { startedAt: "desc" },
          take: ROUNDS_LISTED,
          select: { kind: true, topic: true, questionIds: true, score: true, elapsedMs: true, state: true, contestId: true, broadcastId: true, startedAt: true, finishedAt: true },
        });
        return toPlainJson({
          total,
          listed: rounds.length,
          // Group rounds are the ones the person started in a group; the others are their own attempts.
          rounds: rounds.map(({ questionIds, ...r }) => ({ ...r, questions: questionIds.length })),
        });
      },
      exists: async (id) => (await prisma.quizRound.findFirst({ where: { userId: BigInt(id) }, select: { id: true } })) !== null,
      erase: async (id, tx) => {
        const db = tx ?? prisma;
        const user = BigInt(id);
        // A group round belongs to everyone who answered in it: it stays, without its starter.
        const kept = await db.quizRound.updateMany({ where: { userId: user, kind: "group" }, data: { userId: null } });
        const deleted = await db.quizRound.deleteMany({ where: { userId: user } });
        return kept.count + deleted.count > 0;
      },
    },
    {
      key: "quiz_boxes",
      label: "leaderboard:parts.quiz_boxes",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.$queryRawUnsafe<Array<{ box: number; questions: number; next_due: string }>>(
          `SELECT box, count(*)::int AS questions, ${isoSql("min(due_at)")} AS next_due FROM quiz_boxes WHERE user_id = $1::bigint GROUP BY box ORDER BY box`,
          id,
        );
        return rows.length === 0 ? null : toPlainJson(rows.map((r) => ({ box: r.box, questions: r.questions, nextDue: r.next_due })));
      },
      exists: async (id) => (await prisma.quizBox.findFirst({ where: { userId: BigInt(id) }, select: { box: true } })) !== null,
      erase: async (id, tx) => (await (tx ?? prisma).quizBox.deleteMany({ where: { userId: BigInt(id) } })).count > 0,
    },
  ];
}
