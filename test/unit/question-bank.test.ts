import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BORDER_LAW_TOPICS,
  DEFAULT_QUIZ_DIR,
  FACTS_INDEX_FILE,
  QUIZ_LIMITS,
  QuestionSchema,
  TOPICS,
  loadFactsIndex,
  loadQuestionBank,
  type Question,
} from "../../src/domain/quizzes/question-bank.js";

const bank = loadQuestionBank();
const facts = loadFactsIndex().facts;

/** A copy of the bank's directory with one topic file rewritten, to show the checks can fail. */
function bankWith(file: string, edit: (data: { questions: Record<string, unknown>[] }) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "quiz-bank-"));
  copyFileSync(join(DEFAULT_QUIZ_DIR, FACTS_INDEX_FILE), join(dir, FACTS_INDEX_FILE));
  const data = JSON.parse(readFileSync(join(DEFAULT_QUIZ_DIR, file), "utf8"));
  edit(data);
  writeFileSync(join(dir, file), JSON.stringify(data));
  return dir;
}

/** The fact-sheet rules, as the bank test applies them to each question; returns what is wrong. */
function factProblems(q: Question, index: Record<string, string>): string[] {
  const problems: string[] = [];
  const tag = index[q.factId];
  if (tag === undefined) problems.push(`${q.id}: fact ${q.factId} not in facts-index.json`);
  else if (tag !== "V" && tag !== "S") problems.push(`${q.id}: fact ${q.factId} is ${tag}, not quizzable`);
  if (tag === "S") {
    // S facts: cited as "theo …", never with an article number.
    if (!q.source.vi.startsWith("theo ")) problems.push(`${q.id}: S source (vi) must start with "theo "`);
    if (!q.source.en.startsWith("according to ")) problems.push(`${q.id}: S source (en) must start with "according to "`);
    if (/Điều \d|Article \d/.test(q.source.vi + q.source.en)) problems.push(`${q.id}: S source cites an article`);
  }
  return problems;
}

describe("quiz question bank", () => {
  it("has at least 80 questions, 60 of them on border law, in every topic file", () => {
    const border = bank.filter((q) => (BORDER_LAW_TOPICS as readonly string[]).includes(q.topic));
    expect(bank.length).toBeGreaterThanOrEqual(80);
    expect(border.length).toBeGreaterThanOrEqual(60);
    expect(TOPICS.map((t) => t.key).sort()).toEqual([...new Set(bank.map((q) => q.topic))].sort());
    for (const topic of BORDER_LAW_TOPICS) expect(TOPICS.map((t) => t.key)).toContain(topic);
  });

  it("every question fits Telegram's quiz-poll limits in both languages", () => {
    for (const q of bank) {
      expect(QuestionSchema.safeParse(q).success, q.id).toBe(true);
      for (const lang of ["vi", "en"] as const) {
        expect(q.question[lang].length, q.id).toBeLessThanOrEqual(QUIZ_LIMITS.questionMax);
        expect(q.options[lang].length, q.id).toBeGreaterThanOrEqual(2);
        expect(q.options[lang].length, q.id).toBeLessThanOrEqual(10);
        for (const o of q.options[lang]) expect(o.length, `${q.id} ${o}`).toBeLessThanOrEqual(QUIZ_LIMITS.optionMax);
        expect(q.explanation[lang].length, q.id).toBeLessThanOrEqual(QUIZ_LIMITS.explanationMax);
        expect(q.correct, q.id).toBeLessThan(q.options[lang].length);
      }
      expect(q.options.vi.length, q.id).toBe(q.options.en.length);
    }
  });

  it("question ids are unique", () => {
    expect(new Set(bank.map((q) => q.id)).size).toBe(bank.length);
  });

  it("every question comes from a V or S fact of the sheet, and S facts are cited as 'theo …'", () => {
    expect(bank.flatMap((q) => factProblems(q, facts))).toEqual([]);
  });

  it("rejects a question built on a U fact, an unknown fact, or an S fact cited with an article", () => {
    const q = bank.find((x) => facts[x.factId] === "S")!;
    expect(factProblems({ ...q, factId: "G05" }, facts)).toEqual([`${q.id}: fact G05 is U, not quizzable`]);
    expect(factProblems({ ...q, factId: "Z99" }, facts)).toEqual([`${q.id}: fact Z99 not in facts-index.json`]);
    const cited = { ...q, source: { vi: "Luật Biển Việt Nam 2012, Điều 15", en: "according to the law, Article 15" } };
    expect(factProblems(cited, facts)).toHaveLength(2);
  });

  it("the facts index keeps the sheet's U facts as U", () => {
    for (const id of ["C4", "G05", "G13", "K08", "L31", "P24", "T06", "N08", "N10"]) expect(facts[id], id).toBe("U");
    expect(facts.B21).toBe("S");
  });

  it("no position holds the correct answer for more than half of the questions", () => {
    const byPosition = new Map<number, number>();
    for (const q of bank) byPosition.set(q.correct, (byPosition.get(q.correct) ?? 0) + 1);
    expect(Math.max(...byPosition.values())).toBeLessThanOrEqual(bank.length / 2);
    expect(byPosition.size).toBeGreaterThanOrEqual(3);
  });

  it("the loader refuses an over-long option, duplicate options, a bad correct index and duplicate ids", () => {
    const file = "sea.json";
    const long = bankWith(file, (d) => {
      (d.questions[0] as { options: { en: string[] } }).options.en[0] = "x".repeat(101);
    });
    expect(() => loadQuestionBank(long)).toThrow(/sea\.json: questions\.0\.options\.en\.0/);
    const dup = bankWith(file, (d) => {
      const o = (d.questions[0] as { options: { vi: string[] } }).options.vi;
      o[1] = ` ${o[0]!.toUpperCase()} `;
    });
    expect(() => loadQuestionBank(dup)).toThrow(/options must be distinct/);
    const badIndex = bankWith(file, (d) => {
      d.questions[0]!.correct = 9;
    });
    expect(() => loadQuestionBank(badIndex)).toThrow(/correct index out of range/);
    const feeds = bankWith(file, (d) => {
      (d.questions[0] as { explanation: { vi: string } }).explanation.vi = "a\nb\nc\nd";
    });
    expect(() => loadQuestionBank(feeds)).toThrow(/line feeds/);
    const twice = bankWith(file, (d) => {
      d.questions[1]!.id = d.questions[0]!.id;
    });
    expect(() => loadQuestionBank(twice)).toThrow(/duplicate question id bien-001/);
  });
});
