import type { UnitField, UnitPatch } from "../../domain/units/units.js";
import type { ConvContext, Convo } from "../context.js";
import {
  NS, askHeadcount, askParent, askUnitBody, askUnitKind, askUnitName, currentActor, failureText, NOT_ASKED, placeLabel, unitCardKeyboard, unitCardText,
} from "./unit-steps.js";

export const UNIT_EDIT_FLOW = "unit-edit";
export const UNIT_EDIT_FIELDS = ["name", "kind", "body", "parent", "headcount"] as const;
export type UnitEditField = (typeof UNIT_EDIT_FIELDS)[number];

/**
 * Changes one field of a unit (entered from its card, which the feature checked); the service
 * checks role and scope again, and refuses a headcount below the members already registered.
 */
export async function unitEditFlow(conversation: Convo, ctx: ConvContext, unitId: number, field: UnitEditField): Promise<void> {
  const start = await conversation.external(async (o) => {
    const r = await o.deps.services.units.get(await currentActor(o), unitId);
    return r.ok && r.manage ? { ok: true as const, name: r.unit.name, headcount: r.unit.headcount } : { ok: false as const, text: r.ok ? o.t("common:errors.forbidden") : failureText(o.t, r) };
  });
  if (!start.ok) {
    await ctx.reply(start.text);
    return;
  }
  let patch: UnitPatch;
  if (field === "name") patch = { name: (await askUnitName(conversation, ctx, { back: false, current: start.name })) as string };
  else if (field === "kind") patch = { kind: (await askUnitKind(conversation, ctx, { back: false })) as UnitPatch["kind"] };
  else if (field === "body") patch = { body: await askUnitBody(conversation, ctx) };
  else if (field === "headcount") patch = { headcount: (await askHeadcount(conversation, ctx, { back: false, current: start.headcount })) as number };
  else {
    const parent = await askParent(conversation, ctx, { back: false, exceptId: unitId });
    patch = { parentId: parent === NOT_ASKED || parent === null || typeof parent === "symbol" ? null : parent.id };
  }
  const result = await conversation.external(async (o) => {
    const actor = await currentActor(o);
    const r = await o.deps.services.units.update(actor, unitId, patch);
    if (!r.ok) return { ok: false as const, text: failureText(o.t, r) };
    const view = await o.deps.services.units.get(actor, unitId);
    if (!view.ok) return { ok: false as const, text: failureText(o.t, view) };
    const u = view.unit;
    return {
      ok: true as const, changed: r.changed as UnitField[], head: view.head,
      card: unitCardText(o.t, o.locale, {
        id: u.id, name: u.name, kind: u.kind, body: u.body, headcount: u.headcount, place: await placeLabel(o, u.communeCode, u.provinceCode),
        parent: view.parent?.name ?? null, counts: view.counts, heads: view.heads.map((h) => h.name), learningStatus: u.learningStatus,
      }),
      children: view.children,
    };
  });
  if (!result.ok) {
    await ctx.reply(`${ctx.t(`${NS}:edit.not_saved`)}\n${result.text}`);
    return;
  }
  const done = ctx.t(result.changed.length ? `${NS}:edit.saved` : `${NS}:edit.unchanged`);
  await ctx.reply(`${done}\n\n${result.card}`, { reply_markup: unitCardKeyboard(ctx.t, unitId, { manage: true, head: result.head, children: result.children }) });
}
