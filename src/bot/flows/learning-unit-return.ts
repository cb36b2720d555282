import { z } from "zod";
import { RETURN_REASON } from "../../domain/units/learning-units.js";
import { escapeHtml } from "../../i18n.js";
import type { ConvContext, Convo } from "../context.js";
import { askText } from "./engine.js";
import { officerRefusal } from "./learning-unit-assessment.js";

export const LEARNING_UNIT_RETURN_FLOW = "learning-unit-return";
const NS = "learning-units";
const raw = { interpolation: { escapeValue: false } } as const;

const reasonSchema = z.string().transform((s) => s.normalize("NFC").replace(/[ \t]+/g, " ").trim())
  .pipe(z.string().min(RETURN_REASON.min, `${NS}:errors.reason_short`).max(RETURN_REASON.max, `${NS}:errors.reason_long`));

/**
 * An officer returns a unit's self-assessment: the reason (5–500 characters), then the decision,
 * checked again on the server (scope, still pending) when it is saved.
 */
export async function learningUnitReturnFlow(conversation: Convo, ctx: ConvContext, unitId: number): Promise<void> {
  const me = String(ctx.from!.id);
  const found = await conversation.external(async (o) => {
    const r = await o.deps.services.learningUnits.viewForOfficer(await o.deps.services.users.access(me), unitId);
    if (!r.ok) return { ok: false as const, text: officerRefusal(o.t, r.reason) };
    if (r.unit.status !== "pending") return { ok: false as const, text: officerRefusal(o.t, "not_pending") };
    return { ok: true as const, name: r.unit.name };
  });
  if (!found.ok) {
    await ctx.reply(found.text);
    return;
  }
  const reason = await askText(conversation, ctx, {
    question: (c) => c.t(`${NS}:officer.ask_reason`, { unit: escapeHtml(found.name), min: RETURN_REASON.min, max: RETURN_REASON.max, ...raw }),
    schema: reasonSchema,
    hint: `${NS}:officer.reason_hint`,
  });
  const done = await conversation.external(async (o) => {
    const r = await o.deps.services.learningUnits.decide({ ...(await o.deps.services.users.access(me)), id: me }, unitId, "return", reason);
    if (!r.ok) return officerRefusal(o.t, r.reason);
    return o.t(`${NS}:officer.returned`, { unit: escapeHtml(r.unit.name), count: r.notified, reason: escapeHtml(reason), ...raw });
  });
  await ctx.reply(done);
}
