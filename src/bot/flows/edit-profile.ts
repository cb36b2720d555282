import type { RegistrationDraft } from "../../domain/citizens/citizen-service.js";
import { EDITABLE_FIELDS, type EditableField } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { formatCard } from "../format/card.js";
import { askField } from "./citizen-fields.js";

export const EDIT_PROFILE = "edit-profile";

/** /edit: changes one field of a saved registration; the registration number stays. */
export async function editProfile(conversation: Convo, ctx: ConvContext, field: unknown): Promise<void> {
  if (!(EDITABLE_FIELDS as readonly unknown[]).includes(field)) return;
  const current = await conversation.external(async (octx): Promise<Partial<RegistrationDraft>> => {
    const card = await octx.deps.services.citizens.getCard(String(octx.from!.id));
    return card ? { birthYear: card.birthYear, goals: card.goals, otherGoal: card.otherGoal, guardianName: card.guardianName } : {};
  });
  // A child whose guardian agreed may correct the year; an adult cannot become a child here.
  const answer = await askField(conversation, ctx, field as EditableField, { current, minorAllowed: current.guardianName !== undefined });
  if (typeof answer === "symbol") return;
  const result = await conversation.external(async (octx) => {
    const id = String(octx.from!.id);
    if (!(await octx.deps.services.citizens.isRegistered(id))) return { missing: true as const };
    return { card: await octx.deps.services.citizens.update(id, answer.patch) };
  });
  if ("missing" in result) {
    await ctx.reply(ctx.t("registration:not_registered"));
    return;
  }
  await ctx.reply(`${ctx.t("registration:edit.saved")}\n\n${formatCard(ctx.t, result.card, ctx.locale)}`);
}
