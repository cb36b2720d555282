import { AlreadyRegisteredError, applyPatch, type LearningCard, type RegistrationDraft } from "../../domain/citizens/citizen-service.js";
import { CONSENT_VERSION } from "../../domain/privacy/consent.js";
import { cb, type EditableField } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { formatCard, formatSummary, type PlaceNames } from "../format/card.js";
import { fieldKeyboard, summaryKeyboard } from "../keyboards/registration.js";
import {
  askAffiliation, askBirthYear, askButtons, askCommune, askConsent, askFullName, askGoals, askPatch, askPhone, askProvince,
} from "./steps.js";

export const REGISTRATION = "registration";
/** Bump when the builder changes shape: stored conversations of an older version are discarded. */
export const CONVERSATION_VERSION = 1;

const html = { parse_mode: "HTML" as const };
const MAX_EDITS = 20;

/**
 * Learning-citizen registration (đăng ký Công dân học tập), steps 2–10 of the product slice.
 * Mounted through keepFlowOnError, which also ends it quietly on FlowStopped.
 */
export async function registration(conversation: Convo, ctx: ConvContext): Promise<void> {
  if (!(await askConsent(conversation, ctx))) {
    // Declining stores nothing: the draft only ever lived in this conversation's state.
    await ctx.reply(ctx.t("privacy:consent.declined"), html);
    return;
  }
  const consentAt = new Date(await conversation.now()).toISOString();
  const fullName = await askFullName(conversation, ctx);
  const age = await askBirthYear(conversation, ctx);
  const province = await askProvince(conversation, ctx);
  const commune = await askCommune(conversation, ctx, province);
  const affiliation = await askAffiliation(conversation, ctx);
  const goals = await askGoals(conversation, ctx);
  const phone = await askPhone(conversation, ctx);

  let draft: RegistrationDraft = {
    consentVersion: CONSENT_VERSION, consentAt, fullName, ...age, provinceCode: province.code, communeCode: commune.code,
    ...affiliation, ...goals, phone,
  };
  let names: PlaceNames = { provinceName: province.name, communeName: commune.name, communeType: commune.type };

  for (let round = 0; round < MAX_EDITS; round++) {
    const choice = await askSummary(conversation, ctx, draft, names);
    if (choice === "ok") {
      type Saved = { card: LearningCard } | { already: true } | { failed: true };
      const saved = await conversation.external(async (octx): Promise<Saved> => {
        try {
          const card = await octx.deps.services.citizens.register(String(octx.from!.id), draft, octx.deps.now(), octx.locale);
          return { card };
        } catch (e) {
          if (e instanceof AlreadyRegisteredError) return { already: true as const };
          octx.logger.error({ err: e }, "registration could not be saved");
          return { failed: true };
        }
      });
      if ("card" in saved) {
        await showCard(ctx, saved.card);
        return;
      }
      await ctx.reply(ctx.t("already" in saved ? "registration:already_registered" : "common:errors.save_failed"), html);
      if ("already" in saved) return;
      continue;
    }
    const field = await askField(conversation, ctx);
    const edit = await askPatch(conversation, ctx, field, draft.goals);
    draft = applyPatch(draft, edit.patch);
    names = edit.place ?? names;
  }
  await ctx.reply(ctx.t("registration:errors.too_many_attempts"), html);
}

async function showCard(ctx: ConvContext, card: LearningCard): Promise<void> {
  await ctx.reply(`${ctx.t("registration:card.saved")}\n\n${formatCard(ctx.t, card, ctx.locale)}`, html);
}

function askSummary(conversation: Convo, ctx: ConvContext, draft: RegistrationDraft, names: PlaceNames): Promise<"ok" | "edit"> {
  return askButtons(conversation, ctx, {
    ask: (c) => c.reply(formatSummary(c.t, draft, names), { ...html, reply_markup: summaryKeyboard(c.t) }),
    codec: cb.summary,
    hint: "registration:summary.hint",
  });
}

function askField(conversation: Convo, ctx: ConvContext): Promise<EditableField> {
  return askButtons(conversation, ctx, {
    ask: (c) => c.reply(c.t("registration:summary.which_field"), { ...html, reply_markup: fieldKeyboard(c.t, cb.summaryField) }),
    codec: cb.summaryField,
    hint: "registration:summary.field_hint",
  });
}
