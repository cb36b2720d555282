import { InlineKeyboard } from "grammy";
import { communeLabel, provinceLabel } from "../../domain/geo/labels.js";
import { nextQuestion, verdict, type Answer, type EligibilityAnswers, type EligibilityQuestion, type RuleOutcome, type Verdict } from "../../domain/scholarships/eligibility.js";
import { SCHOOL_LEVELS, type RoundPhase, type RoundRules, type SchoolLevel } from "../../domain/scholarships/model.js";
import type { TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { verdictKeyboard } from "../features/scholarships.js";
import { askButtons, resumeFrom, segment, type Resume } from "./engine.js";
import { ELIGIBILITY_FLOW } from "./scholarship-flow-names.js";

export { ELIGIBILITY_FLOW };

/** What the flow needs of a round, as plain JSON (conversations replay it from storage). */
interface RoundFacts {
  id: number;
  programme: string;
  year: number;
  provinceCode: string | null;
  /** "TP. Hải Phòng" (the person's language when the flow started). */
  provinceName: string;
  communeNames: string[];
  rules: RoundRules;
  phase: RoundPhase;
  eligibility: string;
  contact: string;
}

/** At most one question per rule: level, grade, place and five circumstances. */
const MAX_QUESTIONS = 3 + 5;

const ANSWERS: readonly Answer[] = ["yes", "no", "unsure"];

/** Where the questions stand between two of them: all the flow needs to carry on (see `segment`). */
interface Stand {
  round: RoundFacts;
  answers: EligibilityAnswers;
  /** Questions asked so far. */
  count: number;
}

/**
 * "Am I eligible?" for one round ({ roundId }): the questions its rules call for, each with
 * buttons, then a clear verdict naming the rules that decided it, with the card, "Remind me" and
 * (for yes and maybe, while the round is open) nominate. Segmented: each question starts a fresh
 * stored log, carrying the round and the answers so far.
 */
export async function eligibilityFlow(conversation: Convo, ctx: ConvContext, args?: { roundId?: number }, resume?: Resume<Stand>): Promise<void> {
  const stand = resumeFrom(conversation, resume) ?? (await begin(conversation, ctx, args));
  if (!stand) return;
  const { round, answers } = stand;
  for (let i = stand.count; i < MAX_QUESTIONS; i++) {
    segment<Stand>(conversation, [args], { round, answers, count: i });
    const q = nextQuestion(round.rules, round.provinceCode, answers);
    if (!q) break;
    await ask(conversation, ctx, round, q, answers);
  }
  const v = verdict(round.rules, round.provinceCode, answers);
  await ctx.reply(verdictText(ctx.t, round, v), { reply_markup: await verdictButtons(conversation, ctx, round, v.result !== "no") });
}

/** The round, and the introduction when it has questions to ask; undefined when the flow is over. */
async function begin(conversation: Convo, ctx: ConvContext, args?: { roundId?: number }): Promise<Stand | undefined> {
  const me = String(ctx.from!.id);
  const roundId = Number(args?.roundId);
  const round = await conversation.external(async (o): Promise<RoundFacts | null> => {
    if (!Number.isInteger(roundId)) return null;
    const card = await o.deps.services.scholarshipListing.card(me, roundId);
    if (!card) return null;
    const lang = o.locale === "en" ? "en" : "vi";
    const province = card.provinceCode ? await o.deps.services.geo.getProvince(card.provinceCode) : undefined;
    const communes = await Promise.all(card.rules.communeCodes.map((code) => o.deps.services.geo.getCommune(code)));
    return {
      id: card.id, programme: card.programme, year: card.year, provinceCode: card.provinceCode,
      provinceName: province ? provinceLabel(province, lang, "short") : (card.provinceCode ?? ""),
      communeNames: communes.map((c, i) => (c ? communeLabel(c, lang) : card.rules.communeCodes[i]!)),
      rules: card.rules, phase: card.phase, eligibility: card.eligibility, contact: card.contact,
    };
  });
  if (!round) {
    await ctx.reply(ctx.t("scholarships:card.not_found"));
    return undefined;
  }
  if (round.phase === "closed" || round.phase === "cancelled") {
    await ctx.reply(ctx.t("scholarships:eligible.closed"));
    return undefined;
  }
  const answers: EligibilityAnswers = {};
  if (!nextQuestion(round.rules, round.provinceCode, answers)) {
    await ctx.reply(ctx.t("scholarships:eligible.no_rules", { text: round.eligibility }), { reply_markup: await verdictButtons(conversation, ctx, round, true) });
    return undefined;
  }
  await ctx.reply(ctx.t("scholarships:eligible.intro", { programme: round.programme, year: round.year }));
  return { round, answers, count: 0 };
}

async function ask(conversation: Convo, ctx: ConvContext, round: RoundFacts, q: EligibilityQuestion, answers: EligibilityAnswers): Promise<void> {
  const hint = "scholarships:eligible.buttons_hint";
  // The question and the label are already our own escaped text.
  const answered = (c: ConvContext, question: string, answer: string) => c.t("scholarships:eligible.answered", { question, answer, interpolation: { escapeValue: false } });
  switch (q.kind) {
    case "level": {
      const question = (c: ConvContext) => c.t("scholarships:eligible.ask_level");
      const label = (c: ConvContext, v: SchoolLevel | "none") => (v === "none" ? c.t("scholarships:eligible.level_none") : c.t(`scholarships:level.${v}`));
      const options = q.options.filter((o) => (SCHOOL_LEVELS as readonly string[]).includes(o));
      answers.level = await askButtons(conversation, ctx, {
        question,
        keyboard: (c) => new InlineKeyboard([
          ...pairs(options.map((o) => ({ text: label(c, o), callback_data: cb.elLevel.pack(o) }))),
          [{ text: label(c, "none"), callback_data: cb.elLevel.pack("none") }],
        ]),
        codec: cb.elLevel,
        hint,
        echo: (c, v) => answered(c, question(c), label(c, v)),
      });
      return;
    }
    case "grade": {
      const question = (c: ConvContext) => c.t("scholarships:eligible.ask_grade");
      const grade = await askButtons(conversation, ctx, {
        question,
        keyboard: (c) => new InlineKeyboard(rowsOf(q.options.map((g) => ({ text: c.t("scholarships:eligible.grade", { grade: g }), callback_data: cb.elGrade.pack(String(g)) })), 4)),
        codec: cb.elGrade,
        hint,
        // A grade of another level (an old or forged button) is not an answer to this question.
        onPress: async (_c, v) => (q.options.includes(Number(v)) ? { done: v } : { retry: "common:flow.invalid_choice" }),
        echo: (c, v) => answered(c, question(c), c.t("scholarships:eligible.grade", { grade: v })),
      });
      answers.grade = Number(grade);
      return;
    }
    case "place": {
      const question = (c: ConvContext) => round.communeNames.length
        ? c.t("scholarships:eligible.ask_communes", { communes: `${round.communeNames.join(", ")}${round.provinceName ? ` (${round.provinceName})` : ""}` })
        : c.t("scholarships:eligible.ask_province", { province: round.provinceName });
      answers.place = await askAnswer(conversation, ctx, question, answered);
      return;
    }
    case "circumstance": {
      const question = (c: ConvContext) => c.t(`scholarships:eligible.ask_circumstance.${q.circumstance}`);
      const a = await askAnswer(conversation, ctx, question, answered);
      answers.circumstances = { ...answers.circumstances, [q.circumstance]: a };
      return;
    }
  }
}

function askAnswer(conversation: Convo, ctx: ConvContext, question: (c: ConvContext) => string, answered: (c: ConvContext, q: string, a: string) => string): Promise<Answer> {
  return askButtons(conversation, ctx, {
    question,
    keyboard: (c) => new InlineKeyboard([ANSWERS.map((a) => ({ text: c.t(`scholarships:eligible.answer_${a}`), callback_data: cb.elAnswer.pack(a) }))]),
    codec: cb.elAnswer,
    hint: "scholarships:eligible.buttons_hint",
    echo: (c, v) => answered(c, question(c), c.t(`scholarships:eligible.answer_${v}`)),
  });
}

function rowsOf<T>(items: T[], n: number): T[][] {
  const rows: T[][] = [];
  for (let i = 0; i < items.length; i += n) rows.push(items.slice(i, i + n));
  return rows;
}

const pairs = <T>(items: T[]) => rowsOf(items, 2);

const lowerFirst = (s: string) => s.charAt(0).toLocaleLowerCase("vi") + s.slice(1);

function gradeRule(t: TFunction, rules: RoundRules): string | undefined {
  const { gradeMin: min, gradeMax: max } = rules;
  if (min !== undefined && max !== undefined) return t("scholarships:eligible.rule.grades", { min, max });
  if (min !== undefined) return t("scholarships:eligible.rule.grades_from", { min });
  if (max !== undefined) return t("scholarships:eligible.rule.grades_to", { max });
  return undefined;
}

/** The rule behind an outcome, as the round states it ("Đợt này dành cho học sinh lớp 6–9."). */
function ruleLines(t: TFunction, round: RoundFacts, because: RuleOutcome[]): string[] {
  const rules = round.rules;
  const lines: string[] = [];
  const add = (line: string | undefined) => {
    if (line && !lines.includes(line)) lines.push(line);
  };
  const anyOf = () => t("scholarships:eligible.rule.any", { list: rules.circumstances.map((c) => lowerFirst(t(`scholarships:circumstance.${c}`))).join(", ") });
  for (const b of because) {
    if (b.rule === "level") {
      if (rules.levels.length) add(t("scholarships:eligible.rule.levels", { levels: rules.levels.map((l) => t(`scholarships:level.${l}`)).join(", ") }));
      add(gradeRule(t, rules));
    } else if (b.rule === "grade") add(gradeRule(t, rules));
    else if (b.rule === "place") {
      const place = round.communeNames.length ? `${round.communeNames.join(", ")}${round.provinceName ? ` (${round.provinceName})` : ""}` : round.provinceName;
      add(t("scholarships:eligible.rule.place", { place }));
    } else if (b.rule === "circumstances") add(anyOf());
    // "Any of" with some left unsure: the rule is the list, not each one of it.
    else if (rules.circumstancesMode === "any" && rules.circumstances.length > 1) add(anyOf());
    else add(t(`scholarships:eligible.rule.circumstance.${b.rule}`));
  }
  return lines;
}

function verdictText(t: TFunction, round: RoundFacts, v: Verdict): string {
  if (v.result === "yes") return t("scholarships:eligible.verdict_eligible");
  const head = t(v.result === "no" ? "scholarships:eligible.verdict_ineligible" : "scholarships:eligible.verdict_unsure");
  const lines = [head, t(v.result === "no" ? "scholarships:eligible.because" : "scholarships:eligible.to_check"), ...ruleLines(t, round, v.because).map((l) => `• ${l}`)];
  if (v.result === "maybe") lines.push("", t("scholarships:eligible.ask_contact", { contact: round.contact }));
  return lines.join("\n");
}

/** The card, "Remind me" in the person's current state, and nominate when it can help (open rounds). */
async function verdictButtons(conversation: Convo, ctx: ConvContext, round: RoundFacts, mayNominate: boolean): Promise<InlineKeyboard> {
  const me = String(ctx.from!.id);
  const subscribed = await conversation.external(async (o) => (await o.deps.services.scholarshipListing.card(me, round.id))?.subscribed ?? false);
  return verdictKeyboard(ctx.t, round.id, subscribed, mayNominate && round.phase === "open");
}
