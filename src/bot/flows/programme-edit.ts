import { PERIOD_TARGET_YEAR, TARGET_METRICS, type TargetMetric } from "../../domain/targets/model.js";
import type { ProgrammeDto, ProgrammePatch } from "../../domain/targets/programmes.js";
import type { ConvContext, Convo } from "../context.js";
import {
  NS, SKIPPED, askBodies, askMetric, askMetricTarget, askPeriod, askProgrammeName, askYearTarget, currentActor, failureText, programmeCardKeyboard,
  programmeCardText, provinceName,
} from "./programme-steps.js";

export const PROGRAMME_EDIT_FLOW = "programme-edit";
export const PROGRAMME_EDIT_FIELDS = ["name", "bodies", "period", "targets", "year"] as const;
export type ProgrammeEditField = (typeof PROGRAMME_EDIT_FIELDS)[number];

/**
 * Changes a programme (entered from its card, which the feature checked): its name, bodies,
 * period, the period's targets (each metric again, skip keeps none), or one year's own target
 * ("2026: 60%"). The service checks role, scope and the years again.
 */
export async function programmeEditFlow(conversation: Convo, ctx: ConvContext, id: number, field: ProgrammeEditField): Promise<void> {
  const start = await conversation.external(async (o) => {
    const r = await o.deps.services.programmes.get(await currentActor(o), id);
    if (!r.ok) return { ok: false as const, text: failureText(o.t, r) };
    return r.manage ? { ok: true as const, programme: r.programme } : { ok: false as const, text: o.t(`${NS}:errors.read_only`) };
  });
  if (!start.ok) {
    await ctx.reply(start.text);
    return;
  }
  const p: ProgrammeDto = start.programme;
  let patch: ProgrammePatch | undefined;
  let single: { metric: TargetMetric; year: number; percent: number } | undefined;
  if (field === "name") patch = { name: (await askProgrammeName(conversation, ctx, { current: p.name })) as string };
  else if (field === "bodies") patch = { bodies: (await askBodies(conversation, ctx, { initial: p.bodies })) as ProgrammePatch["bodies"] };
  else if (field === "period") patch = (await askPeriod(conversation, ctx, { current: p })) as { startYear: number; endYear: number };
  else if (field === "targets") {
    const targets: NonNullable<ProgrammePatch["targets"]> = p.targets.filter((t) => t.year !== PERIOD_TARGET_YEAR).map((t) => ({ metric: t.metric as TargetMetric, year: t.year, percent: t.percent }));
    for (const m of TARGET_METRICS) {
      const current = p.targets.find((t) => t.metric === m && t.year === PERIOD_TARGET_YEAR)?.percent;
      const answer = await askMetricTarget(conversation, ctx, m, { current });
      if (typeof answer === "number") targets.push({ metric: m, year: PERIOD_TARGET_YEAR, percent: answer });
      else if (answer !== SKIPPED) return;
    }
    patch = { targets };
  } else {
    const metric = await askMetric(conversation, ctx);
    single = { metric, ...(await askYearTarget(conversation, ctx, p)) };
  }
  const result = await conversation.external(async (o) => {
    const actor = await currentActor(o);
    const r = single ? await o.deps.services.programmes.setTarget(actor, id, single) : await o.deps.services.programmes.update(actor, id, patch!);
    if (!r.ok) return { ok: false as const, text: failureText(o.t, r) };
    const card = await o.deps.services.programmes.get(actor, id);
    if (!card.ok) return { ok: false as const, text: failureText(o.t, card) };
    return {
      ok: true as const, following: card.following,
      text: programmeCardText(o.t, { ...card.programme, province: await provinceName(o, card.programme.provinceCode), followers: card.followers, following: card.following }),
    };
  });
  if (!result.ok) {
    await ctx.reply(`${ctx.t(`${NS}:edit.not_saved`)}\n${result.text}`);
    return;
  }
  await ctx.reply(`${ctx.t(`${NS}:edit.saved`)}\n\n${result.text}`, { reply_markup: programmeCardKeyboard(ctx.t, id, { manage: true, following: result.following }) });
}
