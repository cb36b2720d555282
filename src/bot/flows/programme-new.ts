import { InlineKeyboard } from "grammy";
import type { ProvinceDto } from "../../domain/geo/geo-service.js";
import { provinceLabel } from "../../domain/geo/labels.js";
import { PERIOD_TARGET_YEAR, TARGET_METRICS, type ProgrammeTargetRow } from "../../domain/targets/model.js";
import type { UnitBody } from "../../domain/units/model.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { askProvince } from "./ask-place.js";
import { askButtons, BACK, stopFlow } from "./engine.js";
import {
  NS, SKIPPED, askBodies, askMetricTarget, askPeriod, askProgrammeName, currentActor, failureText, programmeCardKeyboard, programmeCardText, provinceName, raw,
} from "./programme-steps.js";

export const PROGRAMME_NEW_FLOW = "programme-new";
/** Times one flow may go back or be asked again before it stops. */
const MAX_MOVES = 40;

// Steps by index: 0 name, 1 province (admins only), 2 bodies, 3 period, 4…7 a target per metric, 8 summary.
const FIRST_TARGET = 4;
const SUMMARY = FIRST_TARGET + TARGET_METRICS.length;

/**
 * /programme_new (admins, province officers): name → province (admins; officers their own) →
 * participating bodies → period → a target per metric or skip (at least one) → summary → Create.
 * Back on every step after the first. Role and scope are read again when it is stored.
 */
export async function programmeNewFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const access = await conversation.external((o) => currentActor(o));
  const officerProvince = access.role === "officer" && !access.scope.communeCode ? access.scope.provinceCode : undefined;
  if (access.role !== "admin" && !officerProvince) {
    await ctx.reply(ctx.t(access.role === "officer" ? `${NS}:errors.${access.scope.provinceCode ? "read_only" : "no_scope"}` : "common:errors.forbidden"));
    return;
  }
  await ctx.reply(ctx.t(`${NS}:new.intro`));
  let province: { code: string; name: string } | undefined = officerProvince
    ? { code: officerProvince, name: await conversation.external((o) => provinceName(o, officerProvince)) }
    : undefined;
  const a: { name?: string; bodies?: UnitBody[]; period?: { startYear: number; endYear: number } } = {};
  const targets: Record<string, number | undefined> = {};
  let step = 0;
  for (let moves = 0; moves < MAX_MOVES; moves++) {
    // Officers create programmes of their own province: not asked (going back skips it too).
    if (step === 1 && officerProvince) step = 2;
    if (step === SUMMARY) {
      const chosen: ProgrammeTargetRow[] = TARGET_METRICS.flatMap((m) => (targets[m] === undefined ? [] : [{ metric: m, year: PERIOD_TARGET_YEAR, percent: targets[m]! }]));
      if (chosen.length === 0) {
        await ctx.reply(ctx.t(`${NS}:errors.no_target`));
        step = FIRST_TARGET;
        continue;
      }
      const next = await confirmAndCreate(conversation, ctx, { name: a.name!, province: province!, bodies: a.bodies!, ...a.period!, targets: chosen });
      if (next === DONE) return;
      step = next;
      continue;
    }
    let answer: unknown;
    if (step === 0) answer = await askProgrammeName(conversation, ctx, {});
    else if (step === 1) {
      const p = await askProvince(conversation, ctx, { back: {}, provinceQuestion: (c) => c.t(`${NS}:new.ask_province`) });
      answer = p === BACK ? BACK : { code: (p as ProvinceDto).code, name: provinceLabel(p as ProvinceDto, ctx.locale === "en" ? "en" : "vi", "short") };
    } else if (step === 2) answer = await askBodies(conversation, ctx, { back: {}, initial: a.bodies });
    else if (step === 3) answer = await askPeriod(conversation, ctx, { back: {} });
    else answer = await askMetricTarget(conversation, ctx, TARGET_METRICS[step - FIRST_TARGET]!, { back: {} });
    if (answer === BACK) {
      step -= 1;
      if (step === 1 && officerProvince) step = 0;
      continue;
    }
    if (step === 0) a.name = answer as string;
    else if (step === 1) province = answer as { code: string; name: string };
    else if (step === 2) a.bodies = answer as UnitBody[];
    else if (step === 3) a.period = answer as { startYear: number; endYear: number };
    else targets[TARGET_METRICS[step - FIRST_TARGET]!] = answer === SKIPPED ? undefined : (answer as number);
    step += 1;
  }
  await stopFlow(ctx);
}

const DONE = -1;

/** The summary, then the programme stored: DONE, or the step to ask again (Back, a refused period). */
async function confirmAndCreate(
  conversation: Convo, ctx: ConvContext,
  p: { name: string; province: { code: string; name: string }; bodies: UnitBody[]; startYear: number; endYear: number; targets: ProgrammeTargetRow[] },
): Promise<number> {
  const confirm = await askButtons(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.summary`, { card: programmeCardText(c.t, { ...p, province: p.province.name }), ...raw }),
    keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:new.confirm`), cb.pgConfirm.pack("yes")).text(c.t(`${NS}:new.drop`), cb.pgConfirm.pack("no")),
    codec: cb.pgConfirm,
    hint: `${NS}:new.buttons_hint`,
    back: {},
  });
  if (confirm === BACK) return SUMMARY - 1;
  if (confirm === "no") {
    await ctx.reply(ctx.t(`${NS}:new.dropped`));
    return DONE;
  }
  const result = await conversation.external(async (o) => {
    const r = await o.deps.services.programmes.create(await currentActor(o), {
      name: p.name, provinceCode: p.province.code, bodies: p.bodies, startYear: p.startYear, endYear: p.endYear,
      targets: p.targets.map((t) => ({ metric: t.metric as never, year: t.year, percent: t.percent })),
    });
    return r.ok ? { ok: true as const, id: r.programme.id, name: r.programme.name } : { ok: false as const, text: failureText(o.t, r) };
  });
  if (!result.ok) {
    await ctx.reply(`${ctx.t(`${NS}:new.not_created`)}\n${result.text}`);
    return DONE;
  }
  await ctx.reply(ctx.t(`${NS}:new.created`, { name: result.name, id: result.id }), {
    reply_markup: programmeCardKeyboard(ctx.t, result.id, { manage: true, following: true }),
  });
  return DONE;
}
