/**
 * "Am I eligible?" (issue 10): the button questions a round's rules call for, and the verdict —
 * yes, no or maybe — with the rules that decided it. Pure: the residents' flow asks the questions,
 * and nominations check the same rules against what the nominator entered.
 */
import { GRADES_OF_LEVEL, type Circumstance, type RoundRules, type SchoolLevel } from "./model.js";

export type Answer = "yes" | "no" | "unsure";

/** One question: the student's school level, their grade (within that level), the place, or one circumstance. */
export type EligibilityQuestion =
  | { kind: "level"; options: SchoolLevel[] }
  | { kind: "grade"; options: number[] }
  | { kind: "place"; provinceCode: string | null; communeCodes: string[] }
  | { kind: "circumstance"; circumstance: Circumstance };

export interface EligibilityAnswers {
  /** "none": not in school (or a level the round does not list). */
  level?: SchoolLevel | "none";
  grade?: number;
  place?: Answer;
  circumstances?: Partial<Record<Circumstance, Answer>>;
}

/** Which rule decided: failed (a clear no) or unsure (the person did not know). */
export interface RuleOutcome {
  rule: "level" | "grade" | "place" | Circumstance | "circumstances";
  outcome: "fail" | "unsure";
}

export interface Verdict {
  result: "yes" | "no" | "maybe";
  /** For "no": the rules failed; for "maybe": the rules left open. Empty for "yes". */
  because: RuleOutcome[];
}

function levelsOf(rules: RoundRules): SchoolLevel[] {
  if (rules.levels.length) return rules.levels;
  if (rules.gradeMin !== undefined || rules.gradeMax !== undefined) {
    // A grade range alone implies the school levels it covers.
    const lo = rules.gradeMin ?? 1;
    const hi = rules.gradeMax ?? 12;
    return (Object.entries(GRADES_OF_LEVEL) as Array<[SchoolLevel, readonly [number, number]]>)
      .filter(([, [a, b]]) => a <= hi && b >= lo).map(([level]) => level);
  }
  return [];
}

/** Grades of a level that the rules' range allows (empty: the range does not apply to the level). */
export function gradesFor(rules: RoundRules, level: SchoolLevel): number[] {
  if (level === "university" || (rules.gradeMin === undefined && rules.gradeMax === undefined)) return [];
  const [a, b] = GRADES_OF_LEVEL[level];
  const out: number[] = [];
  for (let g = a; g <= b; g++) out.push(g);
  return out;
}

/**
 * The questions to ask, in order, given the answers so far (the grade question depends on the
 * level). Returns the next unanswered one, or undefined when the verdict can be given. Stops early
 * once a rule has clearly failed: the person is told why at once.
 */
export function nextQuestion(rules: RoundRules, provinceCode: string | null, a: EligibilityAnswers): EligibilityQuestion | undefined {
  if (verdict(rules, provinceCode, a).result === "no") return undefined;
  const levels = levelsOf(rules);
  if (levels.length && a.level === undefined) return { kind: "level", options: [...(["primary", "lower_secondary", "upper_secondary", "university"] as const)] };
  if (a.level && a.level !== "none" && a.grade === undefined && gradesFor(rules, a.level).length) return { kind: "grade", options: gradesFor(rules, a.level) };
  if ((provinceCode || rules.communeCodes.length) && a.place === undefined) return { kind: "place", provinceCode, communeCodes: rules.communeCodes };
  for (const c of rules.circumstances) if (a.circumstances?.[c] === undefined) return { kind: "circumstance", circumstance: c };
  return undefined;
}

/** The verdict from the answers given so far (unanswered questions count as unsure). */
export function verdict(rules: RoundRules, provinceCode: string | null, a: EligibilityAnswers): Verdict {
  const fail: RuleOutcome[] = [];
  const unsure: RuleOutcome[] = [];
  const levels = levelsOf(rules);
  if (levels.length) {
    if (a.level === undefined) unsure.push({ rule: "level", outcome: "unsure" });
    else if (a.level === "none" || !levels.includes(a.level)) fail.push({ rule: "level", outcome: "fail" });
    else if (gradesFor(rules, a.level).length) {
      const lo = rules.gradeMin ?? 1;
      const hi = rules.gradeMax ?? 12;
      if (a.grade === undefined) unsure.push({ rule: "grade", outcome: "unsure" });
      else if (a.grade < lo || a.grade > hi) fail.push({ rule: "grade", outcome: "fail" });
    }
  }
  if (provinceCode || rules.communeCodes.length) {
    if (a.place === "no") fail.push({ rule: "place", outcome: "fail" });
    else if (a.place !== "yes") unsure.push({ rule: "place", outcome: "unsure" });
  }
  if (rules.circumstances.length) {
    const answers = rules.circumstances.map((c) => [c, a.circumstances?.[c] ?? "unsure"] as const);
    if (rules.circumstancesMode === "all") {
      for (const [c, v] of answers) {
        if (v === "no") fail.push({ rule: c, outcome: "fail" });
        else if (v === "unsure") unsure.push({ rule: c, outcome: "unsure" });
      }
    } else if (!answers.some(([, v]) => v === "yes")) {
      // "Any of": a no to every one fails; otherwise the unsure ones are what is left open.
      if (answers.every(([, v]) => v === "no")) fail.push({ rule: "circumstances", outcome: "fail" });
      else for (const [c, v] of answers) if (v === "unsure") unsure.push({ rule: c, outcome: "unsure" });
    }
  }
  if (fail.length) return { result: "no", because: fail };
  if (unsure.length) return { result: "maybe", because: unsure };
  return { result: "yes", because: [] };
}
