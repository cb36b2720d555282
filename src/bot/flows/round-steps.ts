import { InlineKeyboard } from "grammy";
import { z } from "zod";
import type { ProvinceDto } from "../../domain/geo/geo-service.js";
import { communeLabel, provinceLabel } from "../../domain/geo/labels.js";
import { isSkipWord } from "../../domain/citizens/inputs.js";
import {
  CIRCUMSTANCES, GRADES_OF_LEVEL, ROUND_BODIES, ROUND_LIMITS, SCHOOL_LEVELS, formatDay, formatVnd, parseVnDate, vnDay,
  type Circumstance, type RoundRules, type SchoolLevel,
} from "../../domain/scholarships/model.js";
import {
  awardCountSchema, awardValueSchema, contactSchema, dayKey, eligibilitySchema, howToApplySchema, programmeSchema, yearSchema,
} from "../../domain/scholarships/rounds.js";
import type { TFunction } from "../../i18n.js";
import { cb, type CallbackCodec } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { askCommune, askProvince } from "./ask-place.js";
import { askButtons, askText, BACK, echoLine, parseWith, runStep, type Back, type BackOption, type Outcome } from "./engine.js";

/**
 * The questions of the officers' round flows, one function per field, shared by /scholarship_new
 * and the edit menu so both validate alike (the validators live in the domain).
 */

export const NS = "scholarship-admin";
const E = (key: string) => `${NS}:errors.${key}`;

export const bodyLabel = (t: TFunction, body: string) => t(`${NS}:bodies.${body}`, { defaultValue: body });
export const levelLabel = (t: TFunction, level: string) => t(`${NS}:levels.${level}`, { defaultValue: level });
export const circumstanceLabel = (t: TFunction, c: string) => t(`${NS}:circumstances.${c}`, { defaultValue: c });
/** "20/12/2026" from "2026-12-20" (conversation state). */
export const dayText = (key: string) => formatDay(new Date(`${key}T00:00:00Z`));

/** The services' clock (the one the round is checked against when stored). */
async function nowOf(conversation: Convo): Promise<Date> {
  return new Date(await conversation.external((o) => o.deps.now().toISOString()));
}

function textStep(schema: z.ZodType<string>, question: string, label: string, params: Record<string, unknown> = {}) {
  return (conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<string | Back> =>
    askText(conversation, ctx, {
      question: (c) => c.t(question, params),
      schema,
      hint: `${NS}:new.text_hint`,
      back,
      echo: (c, v) => echoLine(c, label, v),
    });
}

export const askProgramme = textStep(programmeSchema, `${NS}:new.ask_programme`, `${NS}:new.programme_label`, { max: ROUND_LIMITS.programmeMax });
export const askEligibility = textStep(eligibilitySchema, `${NS}:new.ask_eligibility`, `${NS}:new.eligibility_label`, { max: ROUND_LIMITS.eligibilityMax });
export const askHowToApply = textStep(howToApplySchema, `${NS}:new.ask_apply`, `${NS}:new.apply_label`, { max: ROUND_LIMITS.howToApplyMax });
export const askContact = textStep(contactSchema, `${NS}:new.ask_contact`, `${NS}:new.contact_label`, { max: ROUND_LIMITS.contactMax });

const yearText = z.string().transform((s, ctx) => {
  const r = yearSchema.safeParse(/^\s*\d{4}\s*$/.test(s) ? Number(s) : NaN);
  if (!r.success) {
    ctx.addIssue({ code: "custom", message: E("year") });
    return z.NEVER;
  }
  return r.data;
});

/** The year: this year's button, next year's, or typed (last year to a few years ahead). */
export async function askYear(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<number | Back> {
  const thisYear = vnDay(await nowOf(conversation)).getUTCFullYear();
  return runStep<number>(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_year`),
    keyboard: () => new InlineKeyboard().text(String(thisYear), cb.rfYear.pack(String(thisYear))).text(String(thisYear + 1), cb.rfYear.pack(String(thisYear + 1))),
    codecs: [cb.rfYear],
    hint: `${NS}:new.text_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.year_label`, String(v)),
    accept: async (c) => {
      const pressed = cb.rfYear.unpack(c.callbackQuery?.data);
      const text = pressed ?? c.message?.text;
      if (text === undefined) return undefined;
      const parsed = parseWith(yearText, text);
      if (parsed && "done" in parsed && (parsed.done < thisYear - 1 || parsed.done > thisYear + ROUND_LIMITS.yearsAhead)) {
        return { retry: E("year") };
      }
      return parsed;
    },
  });
}

export function askBody(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<string | Back> {
  return askButtons(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_body`),
    keyboard: (c) => {
      const kb = new InlineKeyboard();
      for (const b of ROUND_BODIES) kb.text(bodyLabel(c.t, b), cb.rfBody.pack(b)).row();
      return kb;
    },
    codec: cb.rfBody,
    hint: `${NS}:new.buttons_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.body_label`, bodyLabel(c.t, v)),
  });
}

/** Admins: nationwide, or one province (typed or picked). Returns the province code or null. */
export async function askScope(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<{ provinceCode: string | null; name?: string } | Back> {
  for (let round = 0; round < 10; round++) {
    const where = await askButtons(conversation, ctx, {
      question: (c) => c.t(`${NS}:new.ask_scope`),
      keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:new.scope_nation`), cb.rfScope.pack("nation")).text(c.t(`${NS}:new.scope_province`), cb.rfScope.pack("own")),
      codec: cb.rfScope,
      hint: `${NS}:new.buttons_hint`,
      back,
      echo: (c, v) => echoLine(c, `${NS}:new.scope_label`, c.t(v === "nation" ? `${NS}:new.scope_nation` : `${NS}:new.scope_province`)),
    });
    if (where === BACK) return BACK;
    if (where === "nation") return { provinceCode: null };
    const p = await askProvince(conversation, ctx, { back: {}, provinceQuestion: (c) => c.t(`${NS}:new.ask_province`) });
    if (p !== BACK) return { provinceCode: (p as ProvinceDto).code, name: provinceLabel(p as ProvinceDto, ctx.locale, "full") };
  }
  return BACK;
}

/** A set of toggles edited in place, then "done" (nothing chosen is allowed: no rule). */
async function askToggles<T extends string>(
  conversation: Convo, ctx: ConvContext,
  opts: { question: string; label: string; none: string; values: readonly T[]; codec: CallbackCodec<T | "done">; name: (t: TFunction, v: T) => string; initial?: T[]; back?: BackOption },
): Promise<T[] | Back> {
  let chosen: T[] = [...(opts.initial ?? [])];
  const keyboard = (c: ConvContext) => {
    const kb = new InlineKeyboard();
    opts.values.forEach((v, i) => {
      kb.text(`${chosen.includes(v) ? "✅" : "▫️"} ${opts.name(c.t, v)}`, opts.codec.pack(v));
      if (i % 2 === 1) kb.row();
    });
    return kb.row().text(c.t(`${NS}:new.done`), opts.codec.pack("done"));
  };
  const withBack = (c: ConvContext) => (opts.back ? keyboard(c).row().text(c.t("common:flow.back"), cb.flowBack.pack("go")) : keyboard(c));
  const shown = (c: ConvContext, list: T[]) => (list.length ? list.map((v) => opts.name(c.t, v)).join(", ") : c.t(opts.none));
  return runStep<T[]>(conversation, ctx, {
    question: (c) => c.t(opts.question),
    keyboard,
    codecs: [opts.codec as CallbackCodec<string>],
    hint: `${NS}:new.buttons_hint`,
    back: opts.back,
    echo: (c, v) => echoLine(c, opts.label, shown(c, v)),
    accept: async (c): Promise<Outcome<T[]>> => {
      const v = opts.codec.unpack(c.callbackQuery?.data);
      if (v === undefined) return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
      if (v === "done") return { done: opts.values.filter((x) => chosen.includes(x)) };
      chosen = chosen.includes(v) ? chosen.filter((x) => x !== v) : [...chosen, v];
      await c.editMessageText(c.t(opts.question), { reply_markup: withBack(c) }).catch(() => undefined);
      return { wait: true };
    },
  });
}

/** "6-9", "6 – 9", "lớp 6 đến 9", "7": a grade range 1–12. */
export function parseGradeRange(text: string): { gradeMin: number; gradeMax: number } | undefined {
  const s = text.normalize("NFD").replace(/\p{M}/gu, "").replace(/[đĐ]/g, "d").toLowerCase()
    .replace(/\blop\b|\bgrades?\b/g, " ").replace(/\bden\b|\btoi\b|\bto\b|[–—]/g, "-").replace(/\s+/g, "").trim();
  const m = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(s);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  return lo >= 1 && hi <= 12 && lo <= hi ? { gradeMin: lo, gradeMax: hi } : undefined;
}

const gradeLabel = (t: TFunction, r: { gradeMin?: number; gradeMax?: number }) =>
  r.gradeMin === undefined ? t(`${NS}:new.any_grade`) : r.gradeMin === r.gradeMax ? t(`${NS}:new.grade_one`, { grade: r.gradeMin }) : t(`${NS}:new.grade_range`, { min: r.gradeMin, max: r.gradeMax });

function skipKeyboard(t: TFunction, label = `${NS}:new.skip`): InlineKeyboard {
  return new InlineKeyboard().text(t(label), cb.rfSkip.pack("skip"));
}

async function askGrades(conversation: Convo, ctx: ConvContext, levels: SchoolLevel[], back?: BackOption): Promise<{ gradeMin?: number; gradeMax?: number } | Back> {
  const school = levels.filter((l): l is Exclude<SchoolLevel, "university"> => l !== "university");
  return runStep<{ gradeMin?: number; gradeMax?: number }>(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_grades`),
    keyboard: (c) => skipKeyboard(c.t, `${NS}:new.skip_any_grade`),
    codecs: [cb.rfSkip],
    hint: `${NS}:new.text_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.grades_label`, gradeLabel(c.t, v)),
    accept: async (c) => {
      if (cb.rfSkip.unpack(c.callbackQuery?.data)) return { done: {} };
      const text = c.message?.text;
      if (text === undefined) return undefined;
      if (isSkipWord(text)) return { done: {} };
      const r = parseGradeRange(text);
      if (!r) return { retry: E("grade_range") };
      // A level chosen with none of its grades in the range could never be met: say which one.
      const outside = school.find((l) => r.gradeMin > GRADES_OF_LEVEL[l][1] || r.gradeMax < GRADES_OF_LEVEL[l][0]);
      if (outside) return { retry: E("grade_levels"), params: { level: c.t(`scholarships:level.${outside}`), from: GRADES_OF_LEVEL[outside][0], to: GRADES_OF_LEVEL[outside][1] } };
      return { done: r };
    },
  });
}

/**
 * The structured rules: school levels (toggles), a grade range (typed, or any), circumstances
 * (toggles), and any/all when two or more are asked. Back goes one question back; from the first, out.
 */
export async function askRules(conversation: Convo, ctx: ConvContext, back?: BackOption, provinceCode?: string | null): Promise<RoundRules | Back> {
  let levels: SchoolLevel[] = [];
  let grades: { gradeMin?: number; gradeMax?: number } = {};
  let circumstances: Circumstance[] = [];
  let mode: "any" | "all" = "any";
  let communeCodes: string[] = [];
  // A round of one province may be for some of its communes only; a nationwide round may not.
  const steps = provinceCode ? 5 : 4;
  for (let step = 0, guard = 0; step < steps; guard++) {
    if (guard > 40) return BACK;
    let r: unknown;
    if (step === 0) r = await askToggles(conversation, ctx, { question: `${NS}:new.ask_levels`, label: `${NS}:new.levels_label`, none: `${NS}:new.any_level`, values: SCHOOL_LEVELS, codec: cb.rfLevel, name: levelLabel, back });
    else if (step === 1) r = levels.length === 1 && levels[0] === "university" ? "skip" : await askGrades(conversation, ctx, levels, {});
    else if (step === 2) r = await askToggles(conversation, ctx, { question: `${NS}:new.ask_circumstances`, label: `${NS}:new.circumstances_label`, none: `${NS}:new.no_circumstance`, values: CIRCUMSTANCES, codec: cb.rfCircumstance, name: circumstanceLabel, back: {} });
    else if (step === 4) r = await askCommunes(conversation, ctx, provinceCode!);
    else {
      r = circumstances.length < 2 ? "skip" : await askButtons(conversation, ctx, {
        question: (c) => c.t(`${NS}:new.ask_mode`),
        keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:new.mode_any`), cb.rfMode.pack("any")).row().text(c.t(`${NS}:new.mode_all`), cb.rfMode.pack("all")),
        codec: cb.rfMode,
        hint: `${NS}:new.buttons_hint`,
        back: {},
        echo: (c, v) => echoLine(c, `${NS}:new.mode_label`, c.t(v === "any" ? `${NS}:new.mode_any` : `${NS}:new.mode_all`)),
      });
    }
    if (r === BACK) {
      if (step === 0) return BACK;
      step--;
      // Skipped questions are skipped going back too.
      if (step === 1 && levels.length === 1 && levels[0] === "university") step--;
      if (step === 3 && circumstances.length < 2) step--;
      continue;
    }
    if (step === 0) levels = r as SchoolLevel[];
    else if (step === 1) grades = r === "skip" ? {} : (r as typeof grades);
    else if (step === 2) circumstances = r as Circumstance[];
    else if (step === 3) mode = r === "skip" ? "any" : (r as "any" | "all");
    else communeCodes = r as string[];
    step++;
  }
  return { levels, ...grades, communeCodes, circumstances, circumstancesMode: circumstances.length < 2 ? "any" : mode };
}

/**
 * The communes a round of one province is for: the whole province (no rule), or some picked one
 * by one with the forgiving commune search (at most ROUND_LIMITS.communesMax). Back at the list
 * takes the last commune off again.
 */
async function askCommunes(conversation: Convo, ctx: ConvContext, provinceCode: string): Promise<string[] | Back> {
  const province = await conversation.external((o) => o.deps.services.geo.getProvince(provinceCode));
  if (!province) return [];
  const picked: Array<{ code: string; label: string }> = [];
  const listed = () => picked.map((p) => p.label).join(", ");
  for (let guard = 0; guard < 3 * ROUND_LIMITS.communesMax; guard++) {
    const more = picked.length > 0;
    const choice = await askButtons(conversation, ctx, {
      question: (c) => (more ? c.t(`${NS}:new.communes_picked`, { list: listed(), count: picked.length }) : c.t(`${NS}:new.ask_communes`, { province: provinceLabel(province, c.locale, "full") })),
      keyboard: (c) => (more
        ? new InlineKeyboard().text(c.t(`${NS}:new.communes_more`), cb.rfCommunes.pack("more")).text(c.t(`${NS}:new.communes_done`), cb.rfCommunes.pack("done"))
        : new InlineKeyboard().text(c.t(`${NS}:new.communes_all`), cb.rfCommunes.pack("all")).row().text(c.t(`${NS}:new.communes_pick`), cb.rfCommunes.pack("pick"))),
      codec: cb.rfCommunes,
      hint: `${NS}:new.buttons_hint`,
      back: {},
      echo: (c, v) => echoLine(c, `${NS}:new.communes_label`, v === "all" || (v === "done" && !more) ? c.t(`${NS}:new.communes_all`) : v === "done" ? listed() : c.t(`${NS}:new.communes_pick`)),
    });
    if (choice === BACK) {
      if (!more) return BACK;
      picked.pop();
      continue;
    }
    if (choice === "all" || choice === "done") return picked.map((p) => p.code);
    if (picked.length >= ROUND_LIMITS.communesMax) {
      await ctx.reply(ctx.t(`${NS}:errors.communes_max`, { max: ROUND_LIMITS.communesMax }));
      continue;
    }
    const commune = await askCommune(conversation, ctx, province, {
      communeQuestion: (c, p) => c.t(`${NS}:new.ask_commune`, { province: p }),
      communeBack: {},
    });
    if (commune !== BACK && !picked.some((p) => p.code === commune.code)) picked.push({ code: commune.code, label: communeLabel(commune, ctx.locale) });
  }
  return picked.map((p) => p.code);
}

/** The names of a round's communes as shown to the officer ("Phường Đồ Sơn, Xã Cát Hải"). */
export async function communeNames(geo: { getCommune(code: string): Promise<{ name: string; type: string } | undefined> }, codes: readonly string[], locale: string): Promise<string[]> {
  const found = await Promise.all(codes.map((code) => geo.getCommune(code)));
  return found.map((c, i) => (c ? communeLabel(c, locale === "en" ? "en" : "vi") : codes[i]!));
}

/** Rules in one line each, for summaries and cards. */
export function rulesLines(t: TFunction, r: RoundRules, communeNames: readonly string[] = []): string {
  const lines = [
    t(`${NS}:rules.levels`, { value: r.levels.length ? r.levels.map((l) => levelLabel(t, l)).join(", ") : t(`${NS}:new.any_level`) }),
    t(`${NS}:rules.grades`, { value: gradeLabel(t, r) }),
    t(`${NS}:rules.circumstances`, {
      value: r.circumstances.length
        ? r.circumstances.map((c) => circumstanceLabel(t, c)).join(r.circumstancesMode === "all" ? t(`${NS}:rules.and`) : t(`${NS}:rules.or`))
        : t(`${NS}:new.no_circumstance`),
    }),
  ];
  if (r.communeCodes.length) lines.push(t(`${NS}:rules.communes`, { value: communeNames.length ? communeNames.join(", ") : String(r.communeCodes.length) }));
  return lines.join("\n");
}

/** "2000000", "2.000.000", "2 triệu", "2tr", "2,5 triệu", "500 nghìn", "500k" → đồng. */
export function parseVndText(text: string): number | undefined {
  const s = text.normalize("NFD").replace(/\p{M}/gu, "").replace(/[đĐ]/g, "d").toLowerCase().trim()
    .replace(/\s*(dong|vnd|d)\.?$/, "").trim();
  const unit = /^(\d+(?:[.,]\d+)?)\s*(trieu|tr|m|nghin|ngan|k)$/.exec(s);
  if (unit) {
    const n = Number(unit[1]!.replace(",", "."));
    const v = Math.round(n * (/^(trieu|tr|m)$/.test(unit[2]!) ? 1_000_000 : 1_000));
    return Number.isFinite(v) ? v : undefined;
  }
  if (/^\d{1,3}([.,\s]\d{3})+$/.test(s) || /^\d{1,10}$/.test(s)) return Number(s.replace(/[.,\s]/g, ""));
  return undefined;
}

/** The award value per award, or unknown (skip). */
export function askAwardValue(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<number | null | Back> {
  return runStep<number | null>(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_award_value`),
    keyboard: (c) => skipKeyboard(c.t, `${NS}:new.skip_unknown`),
    codecs: [cb.rfSkip],
    hint: `${NS}:new.text_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.award_value_label`, v === null ? c.t(`${NS}:new.unknown`) : formatVnd(v, c.locale)),
    accept: async (c) => {
      if (cb.rfSkip.unpack(c.callbackQuery?.data)) return { done: null };
      const text = c.message?.text;
      if (text === undefined) return undefined;
      if (isSkipWord(text)) return { done: null };
      const v = parseVndText(text);
      if (v === undefined) return { retry: E("award_value_format") };
      return parseWith(awardValueSchema, v);
    },
  });
}

export function askAwardCount(conversation: Convo, ctx: ConvContext, back?: BackOption): Promise<number | null | Back> {
  return runStep<number | null>(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_award_count`),
    keyboard: (c) => skipKeyboard(c.t, `${NS}:new.skip_unknown`),
    codecs: [cb.rfSkip],
    hint: `${NS}:new.text_hint`,
    back,
    echo: (c, v) => echoLine(c, `${NS}:new.award_count_label`, v === null ? c.t(`${NS}:new.unknown`) : String(v)),
    accept: async (c) => {
      if (cb.rfSkip.unpack(c.callbackQuery?.data)) return { done: null };
      const text = c.message?.text;
      if (text === undefined) return undefined;
      if (isSkipWord(text)) return { done: null };
      const t = text.trim().replace(/[.,\s](?=\d{3}\b)/g, "");
      return parseWith(awardCountSchema, /^\d{1,7}$/.test(t) ? Number(t) : NaN);
    },
  });
}

const TODAY_WORDS = ["hom nay", "homnay", "today", "nay"];

/**
 * A calendar day typed (parseVnDate: past, impossible and far-off days refused with their
 * reason); "hôm nay" / "today" when `today` is allowed; `after` the earliest day allowed (with
 * the reason when earlier); `keep` a button keeping the current day (edits).
 */
export async function askDay(
  conversation: Convo, ctx: ConvContext,
  opts: { question: (c: ConvContext) => string; label: string; today?: boolean; after?: { day: string; reason: string; strict?: boolean }; keep?: string; back?: BackOption },
): Promise<string | Back> {
  return runStep<string>(conversation, ctx, {
    question: opts.question,
    keyboard: opts.keep ? (c) => new InlineKeyboard().text(c.t(`${NS}:edit.keep_day`, { day: dayText(opts.keep!) }), cb.rfSkip.pack("skip")) : undefined,
    codecs: opts.keep ? [cb.rfSkip] : [],
    hint: `${NS}:new.date_hint`,
    back: opts.back,
    echo: (c, v) => echoLine(c, opts.label, dayText(v)),
    accept: async (c) => {
      if (opts.keep && cb.rfSkip.unpack(c.callbackQuery?.data)) return { done: opts.keep };
      const text = c.message?.text;
      if (text === undefined) return undefined;
      const now = await nowOf(conversation);
      const plain = text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().trim();
      let day: string;
      if (opts.today && TODAY_WORDS.includes(plain)) day = dayKey(vnDay(now));
      else {
        const parsed = parseVnDate(text.slice(0, 60), now);
        if (!parsed.ok) return { retry: E(`date_${parsed.reason}`), params: { years: ROUND_LIMITS.yearsAhead } };
        day = dayKey(parsed.day);
      }
      if (opts.after && (day < opts.after.day || (opts.after.strict && day === opts.after.day))) return { retry: E(opts.after.reason), params: { day: dayText(opts.after.day) } };
      return { done: day };
    },
  });
}
