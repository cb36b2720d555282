import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PrismaClient } from "../../generated/prisma/client.js";
import { DEFAULT_QUIZ_DIR, FACTS_INDEX_FILE, loadQuestionBank } from "./question-bank.js";

export const QUIZ_BANK_DATASET = "quiz-bank";

/** SHA-256 over every topic file (name and content), so any edit loads the bank again. */
function bankChecksum(dir: string): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".json") && f !== FACTS_INDEX_FILE).sort()) {
    hash.update(name).update("\0").update(readFileSync(join(dir, name))).update("\0");
  }
  return hash.digest("hex");
}

/**
 * Loads the repository's question bank into quiz_questions unless these exact files were loaded
 * before. Questions are upserted by id; a bank question no longer in the files is retired (never
 * deleted: answers and boxes keep pointing at it). One transaction: the bank is never half loaded.
 */
export async function seedQuizBank(prisma: PrismaClient, dir: string = DEFAULT_QUIZ_DIR): Promise<"loaded" | "unchanged"> {
  const checksum = bankChecksum(dir);
  const previous = await prisma.datasetImport.findUnique({ where: { name: QUIZ_BANK_DATASET } });
  if (previous?.checksum === checksum) return "unchanged";
  const questions = loadQuestionBank(dir);
  const rows = questions.map((q) => ({
    id: q.id,
    topic: q.topic,
    difficulty: q.difficulty,
    factId: q.factId,
    question: q.question,
    options: q.options,
    correct: q.correct,
    explanation: q.explanation,
    source: q.source,
  }));
  await prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(
      `INSERT INTO quiz_questions (id, topic, difficulty, fact_id, question, options, correct, explanation, source, origin)
       SELECT x.id, x.topic, x.difficulty, x.fact_id, x.question, x.options, x.correct, x.explanation, x.source, 'bank'
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, topic text, difficulty int, fact_id text, question jsonb, options jsonb, correct int, explanation jsonb, source jsonb)
       ON CONFLICT (id) DO UPDATE SET topic = excluded.topic, difficulty = excluded.difficulty, fact_id = excluded.fact_id,
         question = excluded.question, options = excluded.options, correct = excluded.correct,
         explanation = excluded.explanation, source = excluded.source, retired_at = NULL, retired_by_id = NULL`,
      JSON.stringify(rows.map((r) => ({ ...r, fact_id: r.factId }))),
    );
    await tx.$executeRawUnsafe(
      `UPDATE quiz_questions SET retired_at = now() WHERE origin = 'bank' AND retired_at IS NULL AND NOT (id = ANY($1::text[]))`,
      rows.map((r) => r.id),
    );
    await tx.datasetImport.upsert({
      where: { name: QUIZ_BANK_DATASET },
      create: { name: QUIZ_BANK_DATASET, checksum, importedAt: new Date() },
      update: { checksum, importedAt: new Date() },
    });
  });
  return "loaded";
}
