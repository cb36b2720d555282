import { InlineKeyboard } from "grammy";
import type { CommuneDto, ProvinceDto } from "../../domain/geo/geo-service.js";
import { communeLabel } from "../../domain/geo/labels.js";
import {
  birthYearText, gradesOfLevel, guardianNameSchema, schoolSchema, studentNameSchema, type Actor, type NominationError, type RoundForNomination,
} from "../../domain/scholarships/nominations.js";
import { GRADES_OF_LEVEL, SCHOOL_LEVELS, type Circumstance, type Relationship, type SchoolLevel } from "../../domain/scholarships/model.js";
import { vnParts } from "../../domain/time/vietnam-time.js";
import type { TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext, ConvContext, Convo } from "../context.js";
import { askCommune, askPlace } from "./ask-place.js";
import { askButtons, askText, BACK, echoLine, resumeFrom, runStep, segment, stopFlow, type Back, type BackOption, type Resume } from "./engine.js";
import { NOMINATE_FLOW } from "./scholarship-flow-names.js";

export { NOMINATE_FLOW };
const NS = "nominations";
/** A commune outside the round's list may be answered this often before the flow stops. */
const MAX_COMMUNE_TRIES = 5;
const BACK_STEP: BackOption = {};

/** The caller's role and scope, read from the database now (never from the conversation's past). */
export async function nominationActor(o: { deps: BotContext["deps"]; from?: { id: number } }): Promise<Actor> {
  const id = String(o.from!.id);
  return { id, ...(await o.deps.services.users.access(id)) };
}

export const levelLabel = (t: TFunction, level: string) => t(`${NS}:levels.${level}`, { defaultValue: level });
export const circumstanceLabel = (t: TFunction, c: string) => t(`${NS}:circumstances.${c}`, { defaultValue: c });
export const relationshipLabel = (t: TFunction, r: string) => t(`${NS}:relationships.${r}`, { defaultValue: r });

/** The refusals of the domain, one bullet each after a heading. */
export function errorLines(t: TFunction, errors: NominationError[]): string {
  return errors.map((e, i) => (i === 0 ? t(e.key, e.params) : `• ${t(e.key, e.params)}`)).join("\n");
}

/** Levels worth offering: the rules' own, or those a grade range covers, or every level. */
function offeredLevels(round: RoundForNomination): SchoolLevel[] {
  const r = round.rules;
  if (r.levels.length) return SCHOOL_LEVELS.filter((l) => r.levels.includes(l));
  if (r.gradeMin !== undefined || r.gradeMax !== undefined) {
    const lo = r.gradeMin ?? 1;
    const hi = r.gradeMax ?? 12;
    return (Object.entries(GRADES_OF_LEVEL) as Array<[SchoolLevel, readonly [number, number]]>).filter(([, [a, b]]) => a <= hi && b >= lo).map(([l]) => l);
  }
  return [...SCHOOL_LEVELS];
}

function offeredGrades(round: RoundForNomination, level: SchoolLevel): number[] {
  const lo = round.rules.gradeMin ?? 1;
  const hi = round.rules.gradeMax ?? 12;
  return gradesOfLevel(level).filter((g) => g >= lo && g <= hi);
}

interface Answers {
  relationship?: Relationship;
  studentName?: string;
  birthYear?: number;
  school?: string;
  level?: SchoolLevel;
  grade?: number | null;
  commune?: CommuneDto;
  circumstances?: Circumstance[];
  guardianName?: string;
}

interface Started {
  round: RoundForNomination;
  relationships: Relationship[];
  registeredName: string | null;
  province: ProvinceDto | null;
  year: number;
}

/** Where a nomination stands between two questions: all the flow needs to carry on (see `segment`). */
interface Stand {
  s: Started;
  a: Answers;
  /** The next step of the list (its length: the summary to confirm). */
  step: number;
  backs: number;
}

/** The round and the nominator's standing, and the introduction; undefined when refused at once. */
async function begin(conversation: Convo, ctx: ConvContext, arg: unknown): Promise<Stand | undefined> {
  const roundId = (arg as { roundId?: unknown } | undefined)?.roundId;
  if (typeof roundId !== "number" || !Number.isInteger(roundId)) return undefined;
  const loaded = await conversation.external(async (o) => {
    const r = await o.deps.services.nominations.start(await nominationActor(o), roundId);
    if (!r.ok) return { errors: r.errors };
    const province = r.round.provinceCode ? ((await o.deps.services.geo.getProvince(r.round.provinceCode)) ?? null) : null;
    const started: Started = { round: r.round, relationships: r.relationships, registeredName: r.registeredName, province, year: vnParts(o.deps.now()).year };
    return { started };
  });
  if (!loaded.started) {
    await ctx.reply(errorLines(ctx.t, loaded.errors ?? [{ key: "common:errors.forbidden" }]));
    return undefined;
  }
  const round = loaded.started.round;
  await ctx.reply(ctx.t(`${NS}:flow.intro`, { programme: round.programme, year: round.year, deadline: round.deadline }));
  return { s: loaded.started, a: {}, step: 0, backs: 0 };
}

/**
 * Nominate a student to a round ({ roundId }): refused at once when the round is not open; then
 * who the nominator is to the student, the student's name, birth year, school, level and grade,
 * commune (in the round's province, or anywhere for a nationwide round), the circumstances the
 * round asks about (none otherwise), the guardian's name (a registered parent's own), the
 * guardian's consent with what is kept and for how long, a summary to confirm. Every check is
 * made again by the domain when the nomination is stored. Segmented: each question starts a fresh
 * stored log, carrying the round and the answers so far.
 */
export async function nominateFlow(conversation: Convo, ctx: ConvContext, arg: unknown, resume?: Resume<Stand>): Promise<void> {
  const stand = resumeFrom(conversation, resume) ?? (await begin(conversation, ctx, arg));
  if (!stand) return;
  const { s, a } = stand;
  const round = s.round;
  let declined = false;
  const set = async <K extends keyof Answers>(key: K, asked: Promise<Answers[K] | Back>): Promise<boolean> => {
    const v = await asked;
    if (v === BACK) return false;
    a[key] = v as Answers[K];
    return true;
  };
  const hasRegisteredParent = () => a.relationship === "parent" && s.registeredName !== null;
  // `noteFirst`: the step sends a note before its question, so no mark is set before it (a resumed
  // run would send the note again).
  const steps: Array<{ applies(): boolean; run(): Promise<boolean>; noteFirst?(): boolean }> = [
    { applies: () => true, run: () => set("relationship", askRelationship(conversation, ctx, s.relationships)) },
    { applies: () => true, run: () => set("studentName", askText(conversation, ctx, {
      question: (c) => c.t(`${NS}:flow.ask_student_name`), schema: studentNameSchema, hint: `${NS}:flow.text_hint`, back: BACK_STEP,
      echo: (c, v) => echoLine(c, `${NS}:labels.student`, v),
    })) },
    { applies: () => true, run: () => set("birthYear", askText(conversation, ctx, {
      question: (c) => c.t(`${NS}:flow.ask_birth_year`, { min: s.year - 30, max: s.year - 3 }), schema: birthYearText(s.year), hint: `${NS}:flow.text_hint`, back: BACK_STEP,
      echo: (c, v) => echoLine(c, `${NS}:labels.birth_year`, String(v)),
    })) },
    { applies: () => true, run: () => set("school", askText(conversation, ctx, {
      question: (c) => c.t(`${NS}:flow.ask_school`), schema: schoolSchema, hint: `${NS}:flow.text_hint`, back: BACK_STEP,
      echo: (c, v) => echoLine(c, `${NS}:labels.school`, v),
    })) },
    { applies: () => true, run: () => set("level", askButtons<SchoolLevel>(conversation, ctx, {
      question: (c) => c.t(`${NS}:flow.ask_level`),
      keyboard: (c) => {
        const kb = new InlineKeyboard();
        for (const l of offeredLevels(round)) kb.text(levelLabel(c.t, l), cb.nfLevel.pack(l)).row();
        return kb;
      },
      codec: cb.nfLevel, hint: `${NS}:flow.buttons_hint`, back: BACK_STEP,
      // A level the round does not take is refused here, before anything else is asked.
      onPress: async (_c, v) => (offeredLevels(round).includes(v) ? { done: v } : { retry: "common:flow.invalid_choice" }),
      echo: (c, v) => echoLine(c, `${NS}:labels.level`, levelLabel(c.t, v)),
    })) },
    { applies: () => a.level !== "university", run: () => set("grade", askGrade(conversation, ctx, round, a.level!)) },
    { applies: () => true, run: () => set("commune", askStudentCommune(conversation, ctx, round, s.province)), noteFirst: () => round.communes.length > 0 },
    { applies: () => round.rules.circumstances.length > 0, run: () => set("circumstances", askCircumstances(conversation, ctx, round, a.circumstances ?? [])) },
    { applies: () => !hasRegisteredParent(), run: () => set("guardianName", askText(conversation, ctx, {
      question: (c) => c.t(a.relationship === "parent" ? `${NS}:flow.ask_own_name` : `${NS}:flow.ask_guardian_name`), schema: guardianNameSchema,
      hint: `${NS}:flow.text_hint`, back: BACK_STEP, echo: (c, v) => echoLine(c, `${NS}:labels.guardian`, v),
    })) },
    { applies: () => true, run: async () => {
      const v = await askButtons(conversation, ctx, {
        question: (c) => c.t(a.relationship === "parent" ? `${NS}:flow.consent_parent` : `${NS}:flow.consent_other`, { guardian: guardianOf(a, s) }),
        keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:flow.consent_yes`), cb.nfConsent.pack("yes")).row().text(c.t(`${NS}:flow.consent_no`), cb.nfConsent.pack("no")),
        codec: cb.nfConsent, hint: `${NS}:flow.buttons_hint`, back: BACK_STEP,
        echo: (c, v) => echoLine(c, `${NS}:labels.consent`, c.t(v === "yes" ? `${NS}:flow.consent_given` : `${NS}:flow.consent_refused`)),
      });
      if (v === BACK) return false;
      declined = v === "no";
      return true;
    } },
  ];

  let backs = stand.backs;
  for (let i = stand.step; i < steps.length && !declined; ) {
    if (!steps[i]!.applies()) {
      i++;
      continue;
    }
    // Right before the step's question, so no mark is ever left for a later one to take.
    if (!steps[i]!.noteFirst?.()) segment<Stand>(conversation, [arg], { s, a, step: i, backs });
    if (await steps[i]!.run()) {
      i++;
      continue;
    }
    if (++backs > 30) await stopFlow(ctx);
    // Back to the previous question that was asked (skipped ones are skipped again).
    do i--; while (i > 0 && !steps[i]!.applies());
    i = Math.max(0, i);
  }
  if (declined) {
    await ctx.reply(ctx.t(`${NS}:flow.declined`));
    return;
  }

  segment<Stand>(conversation, [arg], { s, a, step: steps.length, backs });
  const confirm = await askButtons(conversation, ctx, {
    question: (c) => summary(c.t, c.locale, round, a, guardianOf(a, s)),
    keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:flow.send_button`), cb.nfConfirm.pack("yes")).text(c.t(`${NS}:flow.drop_button`), cb.nfConfirm.pack("no")),
    codec: cb.nfConfirm,
    hint: `${NS}:flow.buttons_hint`,
  });
  if (confirm === "no") {
    await ctx.reply(ctx.t(`${NS}:flow.dropped`));
    return;
  }
  const input = {
    relationship: a.relationship!, studentName: a.studentName!, birthYear: a.birthYear!, school: a.school!, schoolLevel: a.level!,
    grade: a.level === "university" ? null : a.grade!, communeCode: a.commune!.code, circumstances: a.circumstances ?? [],
    guardianName: hasRegisteredParent() ? null : a.guardianName!, consent: true,
  };
  const result = await conversation.external(async (o) => {
    const r = await o.deps.services.nominations.create(await nominationActor(o), round.id, input);
    return r.ok ? { id: r.nomination.id } : { errors: r.errors };
  });
  if (result.id !== undefined) {
    await ctx.reply(ctx.t(`${NS}:flow.created`, { id: result.id, student: a.studentName, programme: round.programme, year: round.year }));
    return;
  }
  // Refused on the server: a duplicate, the deadline passed meanwhile, the rules not met…
  await ctx.reply(`${ctx.t(`${NS}:flow.not_created`)}\n${errorLines(ctx.t, result.errors ?? [])}`);
}

function guardianOf(a: Answers, s: Started): string {
  return a.relationship === "parent" && s.registeredName ? s.registeredName : (a.guardianName ?? "");
}

/** Who the nominator is to the student: a resident only confirms they are the parent or guardian. */
function askRelationship(conversation: Convo, ctx: ConvContext, allowed: Relationship[]): Promise<Relationship> {
  const onlyParent = allowed.length === 1;
  return askButtons<Relationship>(conversation, ctx, {
    question: (c) => c.t(onlyParent ? `${NS}:flow.ask_is_parent` : `${NS}:flow.ask_relationship`),
    keyboard: (c) => {
      const kb = new InlineKeyboard();
      if (onlyParent) return kb.text(c.t(`${NS}:flow.parent_confirm_button`), cb.nfRelationship.pack("parent"));
      for (const r of allowed) kb.text(c.t(`${NS}:flow.relationship_buttons.${r}`), cb.nfRelationship.pack(r)).row();
      return kb;
    },
    codec: cb.nfRelationship,
    hint: `${NS}:flow.buttons_hint`,
    // A forged relationship above the person's role is refused here too (and again on the server).
    onPress: async (_c, v) => (allowed.includes(v) ? { done: v } : { retry: "common:flow.invalid_choice" }),
    echo: (c, v) => echoLine(c, `${NS}:labels.relationship`, relationshipLabel(c.t, v)),
  });
}

function askGrade(conversation: Convo, ctx: ConvContext, round: RoundForNomination, level: SchoolLevel): Promise<number | Back> {
  const grades = offeredGrades(round, level);
  return runStep<number>(conversation, ctx, {
    question: (c) => c.t(`${NS}:flow.ask_grade`),
    keyboard: () => {
      const kb = new InlineKeyboard();
      grades.forEach((g, i) => {
        kb.text(String(g), cb.nfGrade.pack(String(g)));
        if (i % 4 === 3) kb.row();
      });
      return kb;
    },
    codecs: [cb.nfGrade],
    hint: `${NS}:flow.buttons_hint`,
    back: BACK_STEP,
    echo: (c, v) => echoLine(c, `${NS}:labels.grade`, String(v)),
    accept: async (c) => {
      const pressed = cb.nfGrade.unpack(c.callbackQuery?.data);
      const typed = c.message?.text?.trim().replace(/^(lớp|lop|grade)\s*/i, "");
      const value = pressed ?? typed;
      if (value === undefined) return undefined;
      const g = /^\d{1,2}$/.test(value) ? Number(value) : NaN;
      return grades.includes(g) ? { done: g } : { retry: `${NS}:flow.grade_retry`, params: { grades: grades.join(", ") } };
    },
  });
}

/**
 * The student's commune: within the round's province (askCommune), or province then commune for a
 * nationwide round; a commune outside the round's own list is refused with the list.
 */
async function askStudentCommune(conversation: Convo, ctx: ConvContext, round: RoundForNomination, province: ProvinceDto | null): Promise<CommuneDto | Back> {
  const allowed = round.communes;
  if (allowed.length) {
    await ctx.reply(ctx.t(`${NS}:flow.communes_note`, { list: allowed.map((c) => communeLabel(c, ctx.locale)).join(", ") }));
  }
  for (let i = 0; i < MAX_COMMUNE_TRIES; i++) {
    const where = {
      provinceQuestion: (c: ConvContext) => c.t(`${NS}:flow.ask_province`),
      communeQuestion: (c: ConvContext, p: string) => c.t(`${NS}:flow.ask_commune`, { province: p }),
    };
    // Within the round's province, Back leads to the previous question, not to a province.
    const picked = province ? await askCommune(conversation, ctx, province, { ...where, communeBack: {} }) : await askPlace(conversation, ctx, { ...where, back: BACK_STEP });
    if (picked === BACK) return BACK;
    const commune = "commune" in picked ? picked.commune : picked;
    if (!allowed.length || allowed.some((c) => c.code === commune.code)) return commune;
    await ctx.reply(ctx.t(`${NS}:flow.commune_not_in_round`, { commune: communeLabel(commune, ctx.locale), list: allowed.map((c) => communeLabel(c, ctx.locale)).join(", ") }));
  }
  return stopFlow(ctx);
}

/** The round's circumstances as toggles (☑️ / ⬜), the one message edited in place; "Xong" when done. */
function askCircumstances(conversation: Convo, ctx: ConvContext, round: RoundForNomination, initial: Circumstance[]): Promise<Circumstance[] | Back> {
  const asked = round.rules.circumstances;
  const selected = new Set<Circumstance>(initial);
  const keyboard = (c: ConvContext, withBack: boolean) => {
    const kb = new InlineKeyboard();
    for (const x of asked) kb.text(`${selected.has(x) ? "☑️" : "⬜"} ${circumstanceLabel(c.t, x)}`, cb.nfCircumstance.pack(x)).row();
    kb.text(c.t(`${NS}:flow.circumstances_done`), cb.nfCircumstance.pack("done"));
    if (withBack) kb.row().text(c.t("common:flow.back"), cb.flowBack.pack("go"));
    return kb;
  };
  return runStep<Circumstance[]>(conversation, ctx, {
    question: (c) => c.t(round.rules.circumstancesMode === "all" ? `${NS}:flow.ask_circumstances_all` : `${NS}:flow.ask_circumstances_any`),
    keyboard: (c) => keyboard(c, false),
    codecs: [cb.nfCircumstance],
    hint: `${NS}:flow.buttons_hint`,
    back: BACK_STEP,
    echo: (c, v) => echoLine(c, `${NS}:labels.circumstances`, v.length ? v.map((x) => circumstanceLabel(c.t, x)).join(", ") : c.t(`${NS}:labels.none`)),
    accept: async (c) => {
      const v = cb.nfCircumstance.unpack(c.callbackQuery?.data);
      if (v === undefined) return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
      if (v === "done") return { done: asked.filter((x) => selected.has(x)) };
      if (!asked.includes(v)) return { retry: "common:flow.invalid_choice" };
      if (selected.has(v)) selected.delete(v);
      else selected.add(v);
      await c.editMessageReplyMarkup({ reply_markup: keyboard(c, true) }).catch(() => undefined);
      return { wait: true };
    },
  });
}

function summary(t: TFunction, locale: ConvContext["locale"], round: RoundForNomination, a: Answers, guardian: string): string {
  return t(`${NS}:flow.summary`, {
    programme: round.programme, year: round.year, student: a.studentName, birth_year: a.birthYear, school: a.school,
    level: levelLabel(t, a.level!), grade: a.grade ?? "—", commune: a.commune ? communeLabel(a.commune, locale) : "",
    circumstances: round.rules.circumstances.length ? (a.circumstances?.length ? a.circumstances.map((x) => circumstanceLabel(t, x)).join(", ") : t(`${NS}:labels.none`)) : t(`${NS}:labels.not_asked`),
    guardian, relationship: relationshipLabel(t, a.relationship!),
  });
}
