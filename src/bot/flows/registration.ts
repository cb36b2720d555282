import { AlreadyRegisteredError, applyPatch, type LearningCard, type RegistrationDraft } from "../../domain/citizens/citizen-service.js";
import { CONSENT_VERSION } from "../../domain/privacy/consent.js";
import { cb, EDITABLE_FIELDS, type EditableField } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { formatCard, formatSummary } from "../format/card.js";
import { consentKeyboard, fieldKeyboard, summaryKeyboard } from "../keyboards/registration.js";
import type { Place } from "./ask-place.js";
import { askField } from "./citizen-fields.js";
import { askButtons, BACK, FlowStopped, resumeFrom, segment, stopFlow, type Back, type Resume } from "./engine.js";
import { needsGuardian } from "../../domain/citizens/inputs.js";
import { formatDateTime } from "../format/dates.js";
import { GUARDIAN_PAYLOAD_PREFIX } from "./guardian-consent.js";
import { checkInText } from "../format/checkin.js";
import { joinResultText } from "../format/family.js";
import { offerUnit } from "./unit-offer.js";

export const REGISTRATION = "registration";

export interface RegistrationOptions {
  /** Opened by a session's QR check-in link: the check-in completes once the card is saved. */
  checkinToken?: string;
  /** Opened by a learning family's invite link: the person joins the family once the card is saved. */
  familyToken?: string;
}

/** Moves (answers and Backs) in one registration before it stops: keeps the stored log bounded. */
const MAX_MOVES = 60;

const STEP_NUMBERS: Record<EditableField | "commune", number> = {
  fullName: 1, birthYear: 2, place: 3, commune: 4, affiliation: 5, goals: 6, phone: 7,
};

/** Where a registration stands between two questions: all it needs to carry on (see `segment`). */
interface Stand {
  i: number;
  moves: number;
  draft: Partial<RegistrationDraft>;
  place?: Place;
}

/**
 * Learning-citizen registration (đăng ký Công dân học tập): the consent, then one question per
 * field with Back on each, a summary to check and edit, and the learning card.
 * Mounted with mountFlow (which also ends it quietly on FlowStopped) and segmented: between two
 * questions it marks where it stands, so its stored log holds one question's updates only.
 */
export async function registration(conversation: Convo, ctx: ConvContext, opts: RegistrationOptions = {}, resume?: Resume<Stand>): Promise<void> {
  const steps = ["consent", ...EDITABLE_FIELDS, "summary"] as const;
  const stand = resumeFrom(conversation, resume);
  let draft: Partial<RegistrationDraft> = stand?.draft ?? {};
  let place: Place | undefined = stand?.place;
  let i = stand?.i ?? 0;
  for (let moves = stand?.moves ?? 0; moves < MAX_MOVES; moves++) {
    segment<Stand>(conversation, [opts], { i, moves, draft, place });
    const step = steps[i]!;
    if (step === "consent") {
      if (!(await askConsent(conversation, ctx))) {
        // Declining stores nothing: the answers only ever lived in this conversation's state.
        await ctx.reply(ctx.t("privacy:consent.declined"));
        return;
      }
      draft = { ...draft, consentVersion: CONSENT_VERSION, consentAt: new Date(await conversation.now()).toISOString() };
      i++;
      continue;
    }
    if (step === "summary") {
      const complete = draft as RegistrationDraft;
      const choice = await askSummary(conversation, ctx, complete, place!);
      if (choice === BACK) {
        i--;
        continue;
      }
      if (choice === "ok") {
        if (await save(conversation, ctx, complete, opts)) return;
        continue;
      }
      const edited = await editOneField(conversation, ctx, complete);
      if (edited) {
        draft = applyPatch(draft, edited.patch);
        place = edited.place ?? place;
      }
      continue;
    }
    const answer = await askField(conversation, ctx, step, {
      back: {},
      stepNumber: (f) => STEP_NUMBERS[f],
      current: draft,
      minorAllowed: true,
    });
    if (answer === BACK) {
      i--;
      continue;
    }
    draft = applyPatch(draft, answer.patch);
    place = answer.place ?? place;
    i++;
  }
  await stopFlow(ctx);
}

async function askConsent(conversation: Convo, ctx: ConvContext): Promise<boolean> {
  const answer = await askButtons(conversation, ctx, {
    question: (c) => c.t("privacy:consent.notice"),
    keyboard: (c) => consentKeyboard(c.t),
    codec: cb.consent,
    hint: "common:flow.use_buttons",
    echo: (c, v) => (v === "yes" ? c.t("privacy:consent.echo") : undefined),
    // The full notice, then the same question stays open.
    onPress: async (c, v) => {
      if (v !== "full") return { done: v };
      await c.reply(c.t("privacy:notice_full"));
      return { wait: true };
    },
  });
  return answer === "yes";
}

function askSummary(conversation: Convo, ctx: ConvContext, draft: RegistrationDraft, place: Place): Promise<"ok" | "edit" | Back> {
  return askButtons(conversation, ctx, {
    question: (c) => formatSummary(c.t, draft, placeNames(place), c.locale),
    keyboard: (c) => summaryKeyboard(c.t),
    codec: cb.summary,
    hint: "common:flow.use_buttons",
    back: {},
  });
}

/** The summary's "Edit": which field (Back returns to the summary), then its question. */
async function editOneField(conversation: Convo, ctx: ConvContext, draft: RegistrationDraft) {
  for (;;) {
    const field: EditableField | Back = await askButtons(conversation, ctx, {
      question: (c) => c.t("registration:summary.which_field"),
      keyboard: (c) => fieldKeyboard(c.t, cb.summaryField),
      codec: cb.summaryField,
      hint: "common:flow.use_buttons",
      back: {},
    });
    if (field === BACK) return undefined;
    const answer = await askField(conversation, ctx, field, { back: {}, current: draft, minorAllowed: true });
    if (answer !== BACK) return answer;
  }
}

async function save(conversation: Convo, ctx: ConvContext, draft: RegistrationDraft, opts: RegistrationOptions): Promise<boolean> {
  const year = new Date(await conversation.now()).getUTCFullYear();
  if (needsGuardian(draft.birthYear, year)) {
    await askGuardian(conversation, ctx, draft);
    // The card waits for the guardian, so the family's link is opened again afterwards.
    if (opts.familyToken) {
      const token = opts.familyToken;
      const peek = await conversation.external(async (octx) => {
        const r = await octx.deps.services.families.peek(token);
        return r.ok ? r.name : undefined;
      });
      if (peek) await ctx.reply(ctx.t("families:join.after_guardian", { name: peek }));
    }
    return true;
  }
  type Saved = { card: LearningCard } | { already: true } | { failed: true };
  const saved = await conversation.external(async (octx): Promise<Saved> => {
    try {
      return { card: await octx.deps.services.citizens.register(String(octx.from!.id), draft, octx.deps.now(), octx.locale) };
    } catch (e) {
      if (e instanceof AlreadyRegisteredError) return { already: true };
      octx.logger.error({ err: e }, "registration could not be saved");
      return { failed: true };
    }
  });
  if ("card" in saved) {
    await ctx.reply(`${ctx.t("registration:card.saved")}\n\n${formatCard(ctx.t, saved.card, ctx.locale)}`);
    if (opts.checkinToken) {
      // Registration was opened by a session's QR code: complete that check-in now.
      const token = opts.checkinToken;
      const result = await conversation.external((octx) => octx.deps.services.sessionSignups.checkIn(String(octx.from!.id), token));
      await ctx.reply(checkInText(ctx.t, ctx.locale, result));
    }
    if (opts.familyToken) {
      // Registration was opened by a learning family's invite link: join that family now.
      const token = opts.familyToken;
      const joined = await conversation.external((octx) => octx.deps.services.families.join(String(octx.from!.id), token));
      await ctx.reply(joinResultText(ctx.t, joined, true));
    }
    // The unit typed at registration, when it is a real unit: "join it?" (stores nothing without yes).
    await offerUnit(conversation, ctx, draft);
    return true;
  }
  if ("already" in saved) {
    await ctx.reply(ctx.t("registration:already_registered"));
    throw new FlowStopped();
  }
  await ctx.reply(ctx.t("common:errors.save_failed"));
  return false;
}

/**
 * A child's registration waits for a parent or guardian: nothing is saved; the answers wait in a
 * request (Redis, 72 h) whose one-time link the child forwards to the guardian.
 */
async function askGuardian(conversation: Convo, ctx: ConvContext, draft: RegistrationDraft): Promise<void> {
  const request = await conversation.external(async (octx) => {
    const { token, expiresAt } = await octx.deps.services.guardianRequests.create(String(octx.from!.id), draft, octx.locale, octx.deps.now());
    return { token, expiresAt: expiresAt.toISOString() };
  });
  const expires = formatDateTime(request.expiresAt, ctx.locale);
  await ctx.reply(ctx.t("registration:guardian.sent", { expires }));
  const link = `https://t.me/${ctx.me.username}?start=${GUARDIAN_PAYLOAD_PREFIX}${request.token}`;
  await ctx.reply(ctx.t("registration:guardian.forward", { link }), { link_preview_options: { is_disabled: true } });
}

export function placeNames(place: Place) {
  return { communeName: place.commune.name, communeType: place.commune.type, provinceName: place.province.name, provinceType: place.province.type };
}
