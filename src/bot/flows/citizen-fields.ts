import type { CitizenPatch, RegistrationDraft } from "../../domain/citizens/citizen-service.js";
import {
  AFFILIATIONS, birthYearSchema, fullNameSchema, GOALS, hasUnit, isOneWordName, isSkipWord, needsGuardian, otherGoalSchema,
  phoneSchema, unitNameSchema, type AffiliationKey, type GoalKey,
} from "../../domain/citizens/inputs.js";
import { cb, type EditableField } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { goalsText, roleText } from "../format/card.js";
import { affiliationKeyboard, goalsKeyboard, oneWordNameKeyboard, phoneKeyboard } from "../keyboards/registration.js";
import { askPlace, type Place } from "./ask-place.js";
import { askButtons, askText, BACK, echoLine, parseWith, runStep, stopFlow, type Back, type BackOption } from "./engine.js";

/**
 * The questions of a learning citizen's record, one per editable field. The registration asks
 * them in order (with Back and step numbers); the summary's "Edit" and /edit ask one.
 */

export interface FieldOptions {
  back?: BackOption;
  /** The step number shown before the question ("Bước 3/7."); none in /edit. */
  stepNumber?(field: EditableField | "commune"): number | undefined;
  /** Answers given so far (or the saved record), to start from. */
  current?: Partial<RegistrationDraft>;
  /** A year of birth under 16 is accepted (the registration, which then asks a guardian). */
  minorAllowed?: boolean;
}

export interface FieldAnswer {
  patch: CitizenPatch;
  place?: Place;
}

/** Sub-questions a field may go back and forth between. */
const MAX_ROUNDS = 10;

function prefix(c: ConvContext, opts: FieldOptions, field: EditableField | "commune"): string {
  const n = opts.stepNumber?.(field);
  return n === undefined ? "" : c.t("registration:step", { n, total: 7 });
}


export async function askField(conversation: Convo, ctx: ConvContext, field: EditableField, opts: FieldOptions = {}): Promise<FieldAnswer | Back> {
  switch (field) {
    case "fullName": {
      const fullName = await askFullName(conversation, ctx, opts, "registration:name.ask");
      return fullName === BACK ? BACK : { patch: { field, fullName } };
    }
    case "birthYear": {
      const r = await askBirthYear(conversation, ctx, opts);
      return r === BACK ? BACK : { patch: { field, ...r } };
    }
    case "place": {
      const place = await askPlace(conversation, ctx, {
        back: opts.back,
        prefix: (c, part) => prefix(c, opts, part === "province" ? "place" : "commune"),
      });
      return place === BACK ? BACK : { patch: { field, provinceCode: place.province.code, communeCode: place.commune.code }, place };
    }
    case "affiliation": {
      const r = await askAffiliation(conversation, ctx, opts);
      return r === BACK ? BACK : { patch: { field, ...r } };
    }
    case "goals": {
      const r = await askGoals(conversation, ctx, opts);
      return r === BACK ? BACK : { patch: { field, ...r } };
    }
    case "phone": {
      const phone = await askPhone(conversation, ctx, opts);
      return phone === BACK ? BACK : { patch: { field, phone: phone ?? undefined } };
    }
  }
}

/** Family and given name; a one-word name is kept after the person confirms it. */
export async function askFullName(conversation: Convo, ctx: ConvContext, opts: FieldOptions, question: string, back = opts.back): Promise<string | Back> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const name = await askText(conversation, ctx, {
      question: (c) => prefix(c, opts, "fullName") + c.t(question),
      schema: fullNameSchema,
      hint: "registration:name.hint",
      back,
    });
    if (name === BACK || !isOneWordName(name)) return name;
    const sure = await askButtons(conversation, ctx, {
      question: (c) => c.t("registration:name.one_word", { name }),
      keyboard: (c) => oneWordNameKeyboard(c.t),
      codec: cb.oneWordName,
      hint: "common:flow.use_buttons",
      echo: (c, v) => (v === "yes" ? echoLine(c, "registration:fields.fullName", name) : undefined),
    });
    if (sure === "yes") return name;
  }
  return stopFlow(ctx);
}

/**
 * Year of birth. Anyone who may be under 16 is told that a parent or guardian will confirm from
 * their own account at the end (the registration then waits for them); /edit cannot turn a
 * registered adult into a child without that consent.
 */
async function askBirthYear(conversation: Convo, ctx: ConvContext, opts: FieldOptions): Promise<{ birthYear: number } | Back> {
  const year = new Date(await conversation.now()).getUTCFullYear();
  const birthYear = await runStep<number>(conversation, ctx, {
    question: (c) => prefix(c, opts, "birthYear") + c.t("registration:birth_year.ask"),
    hint: "registration:birth_year.hint",
    back: opts.back,
    accept: async (c) => {
      const text = c.message?.text;
      if (text === undefined) return undefined;
      const parsed = parseWith(birthYearSchema(year), text);
      if (parsed && "done" in parsed && needsGuardian(parsed.done, year) && !opts.minorAllowed) return { retry: "registration:errors.minor_edit" };
      return parsed;
    },
  });
  if (birthYear === BACK) return BACK;
  if (needsGuardian(birthYear, year)) await ctx.reply(ctx.t("registration:guardian.minor_note"));
  return { birthYear };
}

/** Who the person is; units are asked of the armed forces and organisations. */
async function askAffiliation(conversation: Convo, ctx: ConvContext, opts: FieldOptions): Promise<{ affiliation: AffiliationKey; unitName?: string } | Back> {
  const year = new Date(await conversation.now()).getUTCFullYear();
  const birthYear = opts.current?.birthYear;
  // Children cannot serve in the armed forces or the police: not offered.
  const offered: readonly AffiliationKey[] = birthYear !== undefined && needsGuardian(birthYear, year)
    ? AFFILIATIONS.filter((a) => a === "resident" || a === "association_member" || a === "other_organisation")
    : AFFILIATIONS;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const affiliation = await askButtons<AffiliationKey>(conversation, ctx, {
      question: (c) => prefix(c, opts, "affiliation") + c.t("registration:affiliation_step.ask"),
      keyboard: (c) => affiliationKeyboard(c.t, offered),
      codec: cb.affiliation,
      hint: "common:flow.use_buttons",
      back: opts.back,
      echo: (c, a) => echoLine(c, "registration:fields.affiliation", roleText(c.t, a)),
      onPress: async (_c, a) => (offered.includes(a) ? { done: a } : { retry: "common:flow.invalid_choice" }),
    });
    if (affiliation === BACK) return BACK;
    if (!hasUnit(affiliation)) return { affiliation };
    const unitName = await askText(conversation, ctx, {
      question: (c) => c.t(`registration:unit.ask_${affiliation}`),
      schema: unitNameSchema,
      hint: "registration:unit.hint",
      back: {},
    });
    if (unitName !== BACK) return { affiliation, unitName };
  }
  return stopFlow(ctx);
}

/** Learning goals, several at once; "Khác" (other) takes a short text, kept when already given. */
async function askGoals(conversation: Convo, ctx: ConvContext, opts: FieldOptions): Promise<{ goals: GoalKey[]; otherGoal?: string } | Back> {
  const chosen: GoalKey[] = [...(opts.current?.goals ?? [])];
  const keptOther = opts.current?.otherGoal;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const goals = await runStep<GoalKey[]>(conversation, ctx, {
      question: (c) => prefix(c, opts, "goals") + c.t("registration:goals_step.ask"),
      keyboard: (c) => goalsKeyboard(c.t, chosen),
      codecs: [cb.goal],
      hint: "registration:goals_step.hint",
      back: opts.back,
      echo: (c, g) => echoLine(c, "registration:fields.goals", goalsText(c.t, g, keptOther)),
      accept: async (c) => {
        const g = cb.goal.unpack(c.callbackQuery?.data);
        if (g === "done") return chosen.length > 0 ? { done: GOALS.filter((x) => chosen.includes(x)) } : { retry: "registration:goals_step.none_chosen" };
        if (g) {
          const i = chosen.indexOf(g);
          if (i >= 0) chosen.splice(i, 1);
          else chosen.push(g);
          await c.editMessageReplyMarkup({ reply_markup: goalsKeyboard(c.t, chosen) });
          return { wait: true };
        }
        return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
      },
    });
    if (goals === BACK) return BACK;
    if (!goals.includes("other")) return { goals };
    // "Khác" was already chosen with its text (an edit): keep the text rather than ask again.
    if (keptOther && opts.current?.goals?.includes("other")) return { goals, otherGoal: keptOther };
    const otherGoal = await askText(conversation, ctx, {
      question: (c) => c.t("registration:goals_step.other_ask"),
      schema: otherGoalSchema,
      hint: "registration:goals_step.other_hint",
      back: {},
    });
    if (otherGoal !== BACK) return { goals, otherGoal };
  }
  return stopFlow(ctx);
}

/** Optional phone: only the person's own contact, shared with Telegram's button; null when skipped. */
async function askPhone(conversation: Convo, ctx: ConvContext, opts: FieldOptions): Promise<string | null | Back> {
  return runStep<string | null>(conversation, ctx, {
    question: (c) => prefix(c, opts, "phone") + c.t("registration:phone.ask"),
    keyboard: (c) => phoneKeyboard(c.t),
    hint: "registration:phone.hint",
    back: opts.back,
    echo: (c, phone) => c.t(phone ? "registration:phone.saved" : "registration:phone.skipped"),
    accept: async (c) => {
      const contact = c.message?.contact;
      if (contact) {
        if (contact.user_id !== c.from?.id) return { retry: "registration:phone.not_own" };
        return parseWith(phoneSchema, contact.phone_number);
      }
      const text = c.message?.text;
      if (text === undefined) return undefined;
      // The Skip button's label in either language, or the word typed ("bỏ qua", "skip").
      if (isSkipWord(text)) return { done: null };
      return { retry: "registration:phone.use_button" };
    },
  });
}

