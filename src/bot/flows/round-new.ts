import { InlineKeyboard } from "grammy";
import { provinceLabel } from "../../domain/geo/labels.js";
import { formatVnd, type RoundRules } from "../../domain/scholarships/model.js";
import type { CreateRoundInput } from "../../domain/scholarships/rounds.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { askButtons, BACK, stopFlow, type Back } from "./engine.js";
import { currentActor } from "./session-steps.js";
import {
  NS, askAwardCount, askAwardValue, askBody, askContact, askDay, askEligibility, askHowToApply, askProgramme, askRules, askScope, askYear,
  bodyLabel, communeNames, dayText, rulesLines,
} from "./round-steps.js";

export { ROUND_NEW_FLOW } from "./scholarship-flow-names.js";

/** Who is asking, as the round flows need it (plain JSON: conversation state). */
export interface RoundAsker {
  role: string;
  provinceCode?: string;
  provinceName?: string;
  /** May run rounds (admins; officers of a whole province). */
  may: boolean;
}

/** The caller's role and scope now, and the province's name for the summary. */
export async function roundAsker(conversation: Convo): Promise<RoundAsker> {
  return conversation.external(async (o) => {
    const a = await currentActor(o);
    const may = a.role === "admin" || (a.role === "officer" && Boolean(a.scope.provinceCode) && !a.scope.communeCode);
    const province = a.scope.provinceCode ? await o.deps.services.geo.getProvince(a.scope.provinceCode) : undefined;
    return { role: a.role, may, ...(a.scope.provinceCode ? { provinceCode: a.scope.provinceCode } : {}), ...(province ? { provinceName: provinceLabel(province, o.locale, "full") } : {}) };
  });
}

/** A refusal that says why: a commune officer nominates, residents follow rounds. */
export async function refuseAsker(ctx: ConvContext, asker: RoundAsker): Promise<void> {
  await ctx.reply(ctx.t(asker.role === "officer" ? `${NS}:errors.commune_officer` : "common:errors.forbidden"));
}

interface Answers {
  programme?: string;
  year?: number;
  organiserBody?: string;
  scope?: { provinceCode: string | null; name?: string };
  eligibility?: string;
  rules?: RoundRules;
  /** The names of the rules' communes, for the summary. */
  communeNames?: string[];
  awardValueVnd?: number | null;
  awardCount?: number | null;
  opensOn?: string;
  deadlineOn?: string;
  awardOn?: string;
  howToApply?: string;
  contact?: string;
}

/**
 * /scholarship_new (admins anywhere or nationwide; officers of a whole province in it): programme
 * → year → body → scope (admins) → eligibility → rules → award value → number of awards → opening,
 * deadline and award days → how to apply → contact → summary and confirm. Back on every question
 * after the first; role and scope are read again when the round is stored.
 */
export async function roundNewFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const asker = await roundAsker(conversation);
  if (!asker.may) return refuseAsker(ctx, asker);
  await ctx.reply(ctx.t(`${NS}:new.intro`));

  const a: Answers = asker.role === "admin" ? {} : { scope: { provinceCode: asker.provinceCode!, name: asker.provinceName } };
  const take = async <K extends keyof Answers>(key: K, asked: Promise<Answers[K] | Back>): Promise<"next" | "back"> => {
    const v = await asked;
    if (v === BACK) return "back";
    a[key] = v as Answers[K];
    return "next";
  };
  const steps: Array<() => Promise<"next" | "back" | "skip">> = [
    () => take("programme", askProgramme(conversation, ctx)),
    () => take("year", askYear(conversation, ctx, {})),
    () => take("organiserBody", askBody(conversation, ctx, {})),
    // A province officer's rounds are in their province: no question.
    async () => (asker.role === "admin" ? take("scope", askScope(conversation, ctx, {})) : "skip"),
    () => take("eligibility", askEligibility(conversation, ctx, {})),
    () => take("rules", askRules(conversation, ctx, {}, a.scope?.provinceCode ?? null)),
    () => take("awardValueVnd", askAwardValue(conversation, ctx, {})),
    () => take("awardCount", askAwardCount(conversation, ctx, {})),
    () => take("opensOn", askDay(conversation, ctx, { question: (c) => c.t(`${NS}:new.ask_opens`), label: `${NS}:new.opens_label`, today: true, back: {} })),
    () => take("deadlineOn", askDay(conversation, ctx, {
      question: (c) => c.t(`${NS}:new.ask_deadline`), label: `${NS}:new.deadline_label`, after: { day: a.opensOn!, reason: "deadline_before_open" }, back: {},
    })),
    () => take("awardOn", askDay(conversation, ctx, {
      question: (c) => c.t(`${NS}:new.ask_award_on`), label: `${NS}:new.award_on_label`, after: { day: a.deadlineOn!, reason: "award_before_deadline" }, back: {},
    })),
    () => take("howToApply", askHowToApply(conversation, ctx, {})),
    () => take("contact", askContact(conversation, ctx, {})),
  ];
  let backs = 0;
  for (let i = 0, dir = 1; i < steps.length; ) {
    const r = await steps[i]!();
    if (r === "next") {
      dir = 1;
      i++;
    } else if (r === "skip") {
      i = Math.max(0, i + dir);
    } else {
      if (++backs > 30) await stopFlow(ctx);
      dir = -1;
      i = Math.max(0, i - 1);
    }
  }

  a.communeNames = await conversation.external((o) => communeNames(o.deps.services.geo, a.rules!.communeCodes, o.locale));
  const confirm = await askButtons(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.summary`, summaryParams(c, a)),
    keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:new.create_button`), cb.rfConfirm.pack("yes")).text(c.t(`${NS}:new.drop_button`), cb.rfConfirm.pack("no")),
    codec: cb.rfConfirm,
    hint: `${NS}:new.buttons_hint`,
  });
  if (confirm === "no") {
    await ctx.reply(ctx.t(`${NS}:new.dropped`));
    return;
  }
  const input: CreateRoundInput = {
    programme: a.programme!, year: a.year!, organiserBody: a.organiserBody as CreateRoundInput["organiserBody"], provinceCode: a.scope!.provinceCode,
    eligibility: a.eligibility!, rules: a.rules!, awardValueVnd: a.awardValueVnd ?? null, awardCount: a.awardCount ?? null,
    opensOn: a.opensOn!, deadlineOn: a.deadlineOn!, awardOn: a.awardOn!, howToApply: a.howToApply!, contact: a.contact!,
  };
  const result = await conversation.external(async (o) => {
    const r = await o.deps.services.scholarshipRounds.create(await currentActor(o), input);
    return r.ok ? { ok: true as const, id: r.round.id } : { ok: false as const, errors: r.errors };
  });
  if (result.ok) {
    await ctx.reply(ctx.t(`${NS}:new.created`, { id: result.id, programme: a.programme, deadline: dayText(a.deadlineOn!) }), {
      reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:new.open_card`), cb.roundAdmin.pack(`v.${result.id}`)),
    });
    return;
  }
  await ctx.reply([ctx.t(`${NS}:new.not_created`), ...result.errors.map((e) => `• ${ctx.t(e.key, e.params)}`)].join("\n"));
}

function summaryParams(c: ConvContext, a: Answers): Record<string, unknown> {
  return {
    programme: a.programme, year: a.year, body: bodyLabel(c.t, a.organiserBody!),
    scope: a.scope!.provinceCode === null ? c.t(`${NS}:card.nationwide`) : (a.scope!.name ?? a.scope!.provinceCode),
    eligibility: a.eligibility, rules: rulesLines(c.t, a.rules!, a.communeNames),
    award: a.awardValueVnd == null ? c.t(`${NS}:new.unknown`) : formatVnd(a.awardValueVnd, c.locale),
    count: a.awardCount == null ? c.t(`${NS}:new.unknown`) : a.awardCount,
    opens: dayText(a.opensOn!), deadline: dayText(a.deadlineOn!), awardOn: dayText(a.awardOn!),
    apply: a.howToApply, contact: a.contact,
  };
}
