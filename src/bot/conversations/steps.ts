import type { InlineKeyboard, Keyboard } from "grammy";
import type { ZodType } from "zod";
import {
  birthYearSchema, firstErrorKey, fullNameSchema, hasUnit, needsGuardian, otherGoalSchema, phoneSchema,
  placeQuerySchema, unitNameSchema, type AffiliationKey, type GoalKey,
} from "../../domain/citizens/inputs.js";
import type { CommuneDto, ProvinceDto } from "../../domain/geo/geo-service.js";
import { LOCALES } from "../../i18n.js";
import type { CitizenPatch } from "../../domain/citizens/citizen-service.js";
import { cb, type CallbackCodec, type EditableField } from "../callback-data/callback-data.js";
import type { PlaceNames } from "../format/card.js";
import type { ConvContext, Convo } from "../context.js";
import {
  affiliationKeyboard, communeKeyboard, consentKeyboard, goalsKeyboard, guardianKeyboard, phoneKeyboard,
  provinceKeyboard,
} from "../keyboards/registration.js";

/** Invalid answers allowed in one step before the flow stops (keeps the replay log bounded). */
export const MAX_ATTEMPTS = 10;

/** Ends a flow on purpose (declined, too many attempts); the message was already sent. */
export class FlowStopped extends Error {}

type Outcome<T> =
  | { done: T }
  /** Re-ask with a reason (an i18n key); counts as an invalid attempt. */
  | { retry: string; params?: Record<string, unknown> }
  /** Handled without an answer yet (e.g. showed matches on buttons); keep waiting. */
  | { wait: true }
  /** Not an answer to this step. */
  | undefined;

interface Step<T> {
  /** Sends the question. */
  ask(ctx: ConvContext): Promise<unknown>;
  /** Callback codecs this step answers; their queries are answered before `accept` runs. */
  codecs: CallbackCodec<string>[];
  accept(ctx: ConvContext): Promise<Outcome<T>>;
  /** i18n key reminding what kind of answer the step wants. */
  hint: string;
}

const html = { parse_mode: "HTML" as const };

function isCommand(ctx: ConvContext): boolean {
  return ctx.message?.entities?.[0]?.type === "bot_command" && ctx.message.entities[0].offset === 0;
}

async function run<T>(conversation: Convo, ctx: ConvContext, step: Step<T>): Promise<T> {
  await step.ask(ctx);
  let invalid = 0;
  for (;;) {
    const c = await conversation.wait();
    // Commands (/help, /me, /language…) and buttons of other features are handled outside.
    if (isCommand(c)) await conversation.skip({ next: true });
    const data = c.callbackQuery?.data;
    if (c.callbackQuery) {
      const mine = step.codecs.find((codec) => codec.pattern.test(data ?? ""));
      if (!mine) await conversation.skip({ next: true });
      if (mine && mine.unpack(data) === undefined) {
        await c.answerCallbackQuery({ text: c.t("common:errors.invalid_button") });
        continue;
      }
      await c.answerCallbackQuery();
    }
    if (c.editedMessage) {
      await c.reply(c.t("common:errors.edited_ignored"), html);
      continue;
    }
    const outcome = await step.accept(c);
    // Spent buttons stay on screen (removing them would cost one more Bot API call per step);
    // pressing one later is answered as stale by the unhandled feature.
    if (outcome && "done" in outcome) return outcome.done;
    if (outcome && "wait" in outcome) continue;
    invalid++;
    if (invalid >= MAX_ATTEMPTS) {
      await c.reply(c.t("registration:errors.too_many_attempts"), { ...html, reply_markup: { remove_keyboard: true } });
      throw new FlowStopped();
    }
    const reason = outcome ? c.t(`registration:${outcome.retry}`, outcome.params) : c.t("registration:errors.unexpected");
    await c.reply(`${reason}\n${c.t(step.hint)}`, html);
  }
}

function text(ctx: ConvContext): string | undefined {
  return ctx.message?.text;
}

function parseWith<T>(schema: ZodType<T>, value: string): Outcome<T> {
  const r = schema.safeParse(value);
  return r.success ? { done: r.data } : { retry: firstErrorKey(r.error) };
}

function prompt(key: string, markup?: InlineKeyboard | Keyboard, params?: Record<string, unknown>) {
  return (ctx: ConvContext) => ctx.reply(ctx.t(key, params), { ...html, reply_markup: markup });
}

/** A question answered only with one set of buttons; typed text is pointed back to them. */
export function askButtons<T extends string>(
  conversation: Convo,
  ctx: ConvContext,
  opts: { ask: (c: ConvContext) => Promise<unknown>; codec: CallbackCodec<T>; hint: string },
): Promise<T> {
  return run<T>(conversation, ctx, {
    ask: opts.ask,
    codecs: [opts.codec as CallbackCodec<string>],
    hint: opts.hint,
    accept: async (c) => {
      const value = opts.codec.unpack(c.callbackQuery?.data);
      if (value !== undefined) return { done: value };
      return text(c) !== undefined ? { retry: "errors.use_buttons" } : undefined;
    },
  });
}

export async function askConsent(conversation: Convo, ctx: ConvContext): Promise<boolean> {
  const answer = await askButtons(conversation, ctx, {
    ask: (c) => c.reply(c.t("privacy:consent.notice"), { ...html, reply_markup: consentKeyboard(c.t) }),
    codec: cb.consent,
    hint: "privacy:consent.hint",
  });
  return answer === "yes";
}

export async function askFullName(conversation: Convo, ctx: ConvContext, key = "registration:name.ask"): Promise<string> {
  return run<string>(conversation, ctx, {
    ask: prompt(key),
    codecs: [],
    hint: "registration:name.hint",
    accept: async (c) => {
      const t = text(c);
      return t === undefined ? undefined : parseWith(fullNameSchema, t);
    },
  });
}

/** Year of birth, and for anyone who may be under 16 the guardian's consent and name. */
export async function askBirthYear(conversation: Convo, ctx: ConvContext): Promise<{ birthYear: number; guardianName?: string }> {
  const year = new Date(await conversation.now()).getUTCFullYear();
  const birthYear = await run<number>(conversation, ctx, {
    ask: prompt("registration:birth_year.ask"),
    codecs: [],
    hint: "registration:birth_year.hint",
    accept: async (c) => {
      const t = text(c);
      return t === undefined ? undefined : parseWith(birthYearSchema(year), t);
    },
  });
  if (!needsGuardian(birthYear, year)) return { birthYear };
  const agrees = await askButtons(conversation, ctx, {
    ask: (c) => c.reply(c.t("registration:guardian.ask"), { ...html, reply_markup: guardianKeyboard(c.t) }),
    codec: cb.guardian,
    hint: "registration:guardian.hint",
  });
  if (agrees !== "yes") {
    await ctx.reply(ctx.t("registration:guardian.refused"), html);
    throw new FlowStopped();
  }
  const guardianName = await askFullName(conversation, ctx, "registration:guardian.name");
  return { birthYear, guardianName };
}

export async function askProvince(conversation: Convo, ctx: ConvContext): Promise<ProvinceDto> {
  const provinces = await conversation.external((octx) => octx.deps.services.geo.listProvinces());
  return run<ProvinceDto>(conversation, ctx, {
    ask: prompt("registration:province.ask", provinceKeyboard(provinces)),
    codecs: [cb.province],
    hint: "registration:province.hint",
    accept: async (c) => {
      const code = cb.province.unpack(c.callbackQuery?.data);
      if (code) {
        const p = provinces.find((x) => x.code === code);
        return p ? { done: p } : { retry: "errors.invalid_choice" };
      }
      const t = text(c);
      if (t === undefined) return undefined;
      const q = placeQuerySchema.safeParse(t);
      if (!q.success) return { retry: firstErrorKey(q.error) };
      const found = await conversation.external((octx) => octx.deps.services.geo.findProvinces(q.data));
      if (found.exact) return { done: found.exact };
      if (found.matches.length === 1) return { done: found.matches[0]! };
      if (found.matches.length === 0) return { retry: "province.not_found", params: { query: q.data } };
      await c.reply(c.t("registration:province.choose"), { ...html, reply_markup: provinceKeyboard(found.matches.slice(0, 9)) });
      return { wait: true };
    },
  });
}

export async function askCommune(conversation: Convo, ctx: ConvContext, province: ProvinceDto): Promise<CommuneDto> {
  return run<CommuneDto>(conversation, ctx, {
    ask: prompt("registration:commune.ask", undefined, { province: province.name }),
    codecs: [cb.commune],
    hint: "registration:commune.hint",
    accept: async (c) => {
      const code = cb.commune.unpack(c.callbackQuery?.data);
      if (code === "none") {
        await c.reply(c.t("registration:commune.retype", { province: province.name }), html);
        return { wait: true };
      }
      if (code) {
        // Server-side check: a forged or stale code from another province is refused.
        const commune = await conversation.external((octx) => octx.deps.services.geo.getCommune(code));
        return commune && commune.provinceCode === province.code ? { done: commune } : { retry: "errors.invalid_choice" };
      }
      const t = text(c);
      if (t === undefined) return undefined;
      const q = placeQuerySchema.safeParse(t);
      if (!q.success) return { retry: firstErrorKey(q.error) };
      const found = await conversation.external((octx) => octx.deps.services.geo.searchCommunes(province.code, q.data, 8));
      if (found.total === 0) return { retry: "commune.not_found", params: { query: q.data, province: province.name } };
      if (found.total > 8) return { retry: "commune.too_many", params: { count: found.total } };
      await c.reply(c.t("registration:commune.choose", { count: found.matches.length }), { ...html, reply_markup: communeKeyboard(c.t, found.matches) });
      return { wait: true };
    },
  });
}

export async function askAffiliation(conversation: Convo, ctx: ConvContext): Promise<{ affiliation: AffiliationKey; unitName?: string }> {
  const affiliation: AffiliationKey = await askButtons(conversation, ctx, {
    ask: (c) => c.reply(c.t("registration:affiliation_step.ask"), { ...html, reply_markup: affiliationKeyboard(c.t) }),
    codec: cb.affiliation,
    hint: "registration:affiliation_step.hint",
  });
  if (!hasUnit(affiliation)) return { affiliation };
  const unitName = await run<string>(conversation, ctx, {
    ask: prompt(`registration:unit.ask_${affiliation}`),
    codecs: [],
    hint: "registration:unit.hint",
    accept: async (c) => {
      const t = text(c);
      return t === undefined ? undefined : parseWith(unitNameSchema, t);
    },
  });
  return { affiliation, unitName };
}

export async function askGoals(conversation: Convo, ctx: ConvContext, initial: GoalKey[] = []): Promise<{ goals: GoalKey[]; otherGoal?: string }> {
  const chosen: GoalKey[] = [...initial];
  const goals = await run<GoalKey[]>(conversation, ctx, {
    ask: (c) => c.reply(c.t("registration:goals_step.ask"), { ...html, reply_markup: goalsKeyboard(c.t, chosen) }),
    codecs: [cb.goal],
    hint: "registration:goals_step.hint",
    accept: async (c) => {
      const g = cb.goal.unpack(c.callbackQuery?.data);
      if (g === "done") return chosen.length > 0 ? { done: [...chosen] } : { retry: "goals_step.none_chosen" };
      if (g) {
        const i = chosen.indexOf(g);
        if (i >= 0) chosen.splice(i, 1);
        else chosen.push(g);
        await c.editMessageReplyMarkup({ reply_markup: goalsKeyboard(c.t, chosen) });
        return { wait: true };
      }
      return text(c) !== undefined ? { retry: "errors.use_buttons" } : undefined;
    },
  });
  if (!goals.includes("other")) return { goals };
  const otherGoal = await run<string>(conversation, ctx, {
    ask: prompt("registration:goals_step.other_ask"),
    codecs: [],
    hint: "registration:goals_step.other_hint",
    accept: async (c) => {
      const t = text(c);
      return t === undefined ? undefined : parseWith(otherGoalSchema, t);
    },
  });
  return { goals, otherGoal };
}

/** Optional phone: only the person's own contact, shared with Telegram's button, is accepted. */
export async function askPhone(conversation: Convo, ctx: ConvContext): Promise<string | undefined> {
  const phone = await run<string | null>(conversation, ctx, {
    ask: (c) => c.reply(c.t("registration:phone.ask"), { ...html, reply_markup: phoneKeyboard(c.t) }),
    codecs: [],
    hint: "registration:phone.hint",
    accept: async (c) => {
      const contact = c.message?.contact;
      if (contact) {
        if (contact.user_id !== c.from?.id) return { retry: "phone.not_own" };
        return parseWith(phoneSchema, contact.phone_number);
      }
      const t = text(c);
      if (t === undefined) return undefined;
      // The keyboard may predate a /language switch: accept the label in any locale.
      if (LOCALES.some((l) => c.deps.i18n.t(l)("registration:phone.skip") === t.trim())) return { done: null };
      return { retry: "phone.use_button" };
    },
  });
  await ctx.reply(ctx.t(phone ? "registration:phone.saved" : "registration:phone.skipped"), { ...html, reply_markup: { remove_keyboard: true } });
  return phone ?? undefined;
}

/**
 * Asks again for one editable field: the summary's "Edit" and /edit share it. A new place comes
 * with its names, for showing it before anything is read back from the database.
 */
export async function askPatch(
  conversation: Convo,
  ctx: ConvContext,
  field: EditableField,
  currentGoals: GoalKey[],
): Promise<{ patch: CitizenPatch; place?: PlaceNames }> {
  switch (field) {
    case "fullName":
      return { patch: { field, fullName: await askFullName(conversation, ctx) } };
    case "birthYear":
      return { patch: { field, ...(await askBirthYear(conversation, ctx)) } };
    case "place": {
      const province = await askProvince(conversation, ctx);
      const commune = await askCommune(conversation, ctx, province);
      return {
        patch: { field, provinceCode: province.code, communeCode: commune.code },
        place: { provinceName: province.name, communeName: commune.name, communeType: commune.type },
      };
    }
    case "affiliation":
      return { patch: { field, ...(await askAffiliation(conversation, ctx)) } };
    case "goals":
      return { patch: { field, ...(await askGoals(conversation, ctx, currentGoals)) } };
    case "phone":
      return { patch: { field, phone: await askPhone(conversation, ctx) } };
  }
}
