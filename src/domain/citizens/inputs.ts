import { z } from "zod";

/**
 * Validation of every registration answer. Error messages are i18n keys (namespace
 * "registration"), so the bot can re-ask with a localised reason.
 */

// Letters (any script, so every Vietnamese diacritic), combining marks, spaces, apostrophe, hyphen.
const NAME_CHARS = /^[\p{L}\p{M}' -]+$/u;
/** Letters that render blank (Hangul fillers): a "name" of them shows as nothing. */
const BLANK_LETTERS = /[\u115F\u1160\u3164\uFFA0]/u;
/** After NFC a Vietnamese letter carries at most one combining mark; three in a row is abuse. */
const STACKED_MARKS = /\p{M}{3,}/u;
const SCRIPTS = ["Latin", "Cyrillic", "Greek", "Han", "Hangul", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Arabic", "Hebrew", "Devanagari"];
const SCRIPT_RES = SCRIPTS.map((name) => new RegExp(`\\p{Script=${name}}`, "u"));

/** One script per name: "Nguyễn" with a Cyrillic "е" is a look-alike, not a name. */
export function mixesScripts(name: string): boolean {
  const used = new Set<number>();
  for (const ch of name) {
    if (!/\p{L}/u.test(ch)) continue;
    const i = SCRIPT_RES.findIndex((re) => re.test(ch));
    used.add(i);
    // Japanese names mix kana and kanji; that is one writing system.
    if (used.size > 1 && ![...used].every((u) => u >= 3 && u <= 6 && u !== 4)) return true;
  }
  return false;
}

export const fullNameSchema = z
  .string()
  .transform((s) => s.normalize("NFC").replace(/\s+/g, " ").trim())
  .pipe(
    z
      .string()
      .min(2, "registration:errors.name_length")
      .max(100, "registration:errors.name_length")
      .regex(NAME_CHARS, "registration:errors.name_chars")
      .refine((s) => !BLANK_LETTERS.test(s) && !STACKED_MARKS.test(s), "registration:errors.name_chars")
      .refine((s) => !mixesScripts(s), "registration:errors.name_scripts")
      .refine((s) => /\p{L}.*\p{L}/u.test(s), "registration:errors.name_letters"),
  );

const birthYearSchemas = new Map<number, ReturnType<typeof makeBirthYearSchema>>();

/** Years 1900 to this year; one schema per year (conversations replay steps on every update). */
export function birthYearSchema(currentYear: number) {
  let schema = birthYearSchemas.get(currentYear);
  if (!schema) {
    schema = makeBirthYearSchema(currentYear);
    birthYearSchemas.set(currentYear, schema);
  }
  return schema;
}

function makeBirthYearSchema(currentYear: number) {
  return z
    .string()
    .trim()
    .regex(/^\d{4}$/, "registration:errors.year_format")
    .transform(Number)
    .pipe(z.number().int().min(1900, "registration:errors.year_range").max(currentYear, "registration:errors.year_range"));
}

/** Age counted by year only: anyone who may still be under 16 this year needs a guardian. */
export function needsGuardian(birthYear: number, currentYear: number): boolean {
  return currentYear - birthYear <= 16;
}

export const unitNameSchema = z
  .string()
  .transform((s) => s.normalize("NFC").replace(/\s+/g, " ").trim())
  .pipe(
    z
      .string()
      .min(2, "registration:errors.unit_length")
      .max(120, "registration:errors.unit_length")
      .regex(/^[\p{L}\p{M}\p{N} '’.,()\/&-]+$/u, "registration:errors.unit_chars"),
  );

export const otherGoalSchema = z
  .string()
  .transform((s) => s.normalize("NFC").replace(/\s+/g, " ").trim())
  .pipe(z.string().min(2, "registration:errors.goal_length").max(200, "registration:errors.goal_length"));

export const placeQuerySchema = z
  .string()
  .transform((s) => s.normalize("NFC").trim())
  .pipe(z.string().min(2, "place:errors.short").max(60, "place:errors.long"));

/** A name of one word ("Mai"): allowed, since some people have one, but confirmed first. */
export function isOneWordName(name: string): boolean {
  return !name.includes(" ");
}

/** "bỏ qua", "bo qua", "skip", "không"…: typed instead of pressing Skip. */
export function isSkipWord(text: string): boolean {
  const form = text.normalize("NFD").replace(/\p{M}/gu, "").replace(/[đĐ]/g, "d").toLowerCase().replace(/[^a-z]+/g, " ").trim();
  return ["bo qua", "boqua", "skip", "khong", "ko", "no", "thoi", "none"].includes(form);
}

/** Telegram gives phone numbers with or without "+"; stored as E.164-like digits with "+". */
export const phoneSchema = z
  .string()
  .transform((s) => s.replace(/[\s()-]/g, ""))
  .pipe(z.string().regex(/^\+?\d{8,15}$/, "registration:errors.phone_format"))
  .transform((s) => (s.startsWith("+") ? s : "+" + s));

export const AFFILIATIONS = [
  "resident",
  "association_member",
  "military_command",
  "police",
  "border_guard",
  "other_organisation",
] as const;
export type AffiliationKey = (typeof AFFILIATIONS)[number];
export const affiliationSchema = z.enum(AFFILIATIONS);

/** Affiliations that belong to a unit whose name we ask for. */
export function hasUnit(a: AffiliationKey): boolean {
  return a !== "resident" && a !== "association_member";
}

export const GOALS = ["law", "digital", "language", "vocational", "health", "political", "other"] as const;
export type GoalKey = (typeof GOALS)[number];
export const goalSchema = z.enum(GOALS);

/** First error of a failed parse, as an i18n key. */
export function firstErrorKey(error: z.ZodError): string {
  return error.issues[0]?.message ?? "common:flow.invalid";
}
