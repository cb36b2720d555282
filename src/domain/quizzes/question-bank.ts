/*
 * The quiz question bank: one JSON file per topic under prisma/seed/quiz, each question in Vietnamese
 * and English, every one traced to a fact id of the domain fact sheet (copied in facts-index.json).
 * Limits are Telegram's quiz-poll limits, so any question here can be sent as a native quiz poll.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const DEFAULT_QUIZ_DIR = fileURLToPath(new URL("../../../prisma/seed/quiz", import.meta.url));
export const FACTS_INDEX_FILE = "facts-index.json";

/** Telegram sendPoll (type quiz) limits; 2–10 options work on every client. */
export const QUIZ_LIMITS = {
  questionMax: 300,
  optionMax: 100,
  optionsMin: 2,
  optionsMax: 10,
  explanationMax: 200,
  explanationLineFeedsMax: 2,
} as const;

/** Topics that count as border law for the launch rule "at least 60 border-law questions". */
export const BORDER_LAW_TOPICS = ["national-borders", "sea", "border-guard-law", "border-areas"] as const;

const LANGS = ["vi", "en"] as const;

const localized = <T extends z.ZodType>(schema: T) => z.object({ vi: schema, en: schema }).strict();

const questionText = z.string().trim().min(1).max(QUIZ_LIMITS.questionMax);
const optionText = z.string().trim().min(1).max(QUIZ_LIMITS.optionMax);
const optionList = z.array(optionText).min(QUIZ_LIMITS.optionsMin).max(QUIZ_LIMITS.optionsMax);
const explanationText = z
  .string()
  .max(QUIZ_LIMITS.explanationMax)
  .refine((s) => (s.match(/\n/g) ?? []).length <= QUIZ_LIMITS.explanationLineFeedsMax, {
    message: `at most ${QUIZ_LIMITS.explanationLineFeedsMax} line feeds`,
  });

const optionKey = (s: string) => s.trim().toLocaleLowerCase("vi");

export const QuestionSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, "id: lowercase letters, digits and hyphens"),
    topic: z.string().regex(/^[a-z0-9-]+$/),
    difficulty: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    factId: z.string().regex(/^[A-Z]\d{1,2}$/, "factId like B13"),
    source: localized(z.string().trim().min(1).max(300)),
    question: localized(questionText),
    options: localized(optionList),
    correct: z.number().int().min(0),
    explanation: localized(explanationText),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.options.vi.length !== q.options.en.length) {
      ctx.addIssue({ code: "custom", path: ["options"], message: "vi and en need the same number of options" });
    }
    for (const lang of LANGS) {
      const opts = q.options[lang];
      if (q.correct >= opts.length) {
        ctx.addIssue({ code: "custom", path: ["correct"], message: `correct index out of range for ${lang}` });
      }
      if (new Set(opts.map(optionKey)).size !== opts.length) {
        ctx.addIssue({ code: "custom", path: ["options", lang], message: "options must be distinct" });
      }
    }
  });

export type Question = z.infer<typeof QuestionSchema>;

export const TopicFileSchema = z
  .object({
    topic: z.string().regex(/^[a-z0-9-]+$/),
    title: localized(z.string().trim().min(1).max(100)),
    questions: z.array(QuestionSchema).min(1),
  })
  .strict()
  .superRefine((f, ctx) => {
    f.questions.forEach((q, i) => {
      if (q.topic !== f.topic) {
        ctx.addIssue({ code: "custom", path: ["questions", i, "topic"], message: `topic must be ${f.topic}` });
      }
    });
  });

export type TopicFile = z.infer<typeof TopicFileSchema>;

export const FactsIndexSchema = z.object({
  source: z.string(),
  note: z.string().optional(),
  facts: z.record(z.string(), z.enum(["V", "S", "U"])),
});

export type FactsIndex = z.infer<typeof FactsIndexSchema>;

function topicFileNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== FACTS_INDEX_FILE)
    .sort();
}

/** Reads and validates every topic file; throws naming the file and the question on the first bad one. */
export function loadTopicFiles(dir: string = DEFAULT_QUIZ_DIR): TopicFile[] {
  return topicFileNames(dir).map((name) => {
    const parsed = TopicFileSchema.safeParse(JSON.parse(readFileSync(join(dir, name), "utf8")));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${name}: ${issue?.path.join(".")}: ${issue?.message}`);
    }
    return parsed.data;
  });
}

/** All questions of all topic files, ids checked unique across files. */
export function loadQuestionBank(dir: string = DEFAULT_QUIZ_DIR): Question[] {
  const questions = loadTopicFiles(dir).flatMap((f) => f.questions);
  const seen = new Set<string>();
  for (const q of questions) {
    if (seen.has(q.id)) throw new Error(`duplicate question id ${q.id}`);
    seen.add(q.id);
  }
  return questions;
}

export function loadFactsIndex(dir: string = DEFAULT_QUIZ_DIR): FactsIndex {
  return FactsIndexSchema.parse(JSON.parse(readFileSync(join(dir, FACTS_INDEX_FILE), "utf8")));
}

/** Topic keys and titles, in file-name order, as found in the bank's files. */
export const TOPICS: readonly { key: string; title: { vi: string; en: string } }[] = loadTopicFiles().map((f) => ({
  key: f.topic,
  title: f.title,
}));
