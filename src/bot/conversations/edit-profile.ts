import { EDITABLE_FIELDS, type EditableField } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { formatCard } from "../format/card.js";
import { askPatch } from "./steps.js";

export const EDIT_PROFILE = "edit-profile";

const html = { parse_mode: "HTML" as const };

/** /edit: changes one field of a saved registration; the registration number stays. */
export async function editProfile(conversation: Convo, ctx: ConvContext, field: unknown): Promise<void> {
  if (!(EDITABLE_FIELDS as readonly unknown[]).includes(field)) return;
  const goals = field === "goals"
    ? await conversation.external(async (octx) => (await octx.deps.services.citizens.getCard(String(octx.from!.id)))?.goals ?? [])
    : [];
  const { patch } = await askPatch(conversation, ctx, field as EditableField, goals);
  const result = await conversation.external(async (octx) => {
    const id = String(octx.from!.id);
    if (!(await octx.deps.services.citizens.isRegistered(id))) return { missing: true as const };
    return { card: await octx.deps.services.citizens.update(id, patch) };
  });
  if ("missing" in result) {
    await ctx.reply(ctx.t("registration:not_registered"), html);
    return;
  }
  await ctx.reply(`${ctx.t("registration:edit.saved")}\n\n${formatCard(ctx.t, result.card, ctx.locale)}`, html);
}
