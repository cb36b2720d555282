import type { CitizenPatch } from "../../domain/citizens/citizen-service.js";
import { EDITABLE_FIELDS, type EditableField } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { formatCard } from "../format/card.js";
import {
  askAffiliation, askBirthYear, askCommune, askFullName, askGoals, askPhone, askProvince,
} from "./steps.js";

export const EDIT_PROFILE = "edit-profile";

const html = { parse_mode: "HTML" as const };

/** /edit: changes one field of a saved registration; the registration number stays. */
export async function editProfile(conversation: Convo, ctx: ConvContext, field: unknown): Promise<void> {
  if (!(EDITABLE_FIELDS as readonly unknown[]).includes(field)) return;
  const patch = await collect(conversation, ctx, field as EditableField);
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

async function collect(conversation: Convo, ctx: ConvContext, field: EditableField): Promise<CitizenPatch> {
  switch (field) {
    case "fullName":
      return { field, fullName: await askFullName(conversation, ctx) };
    case "birthYear":
      return { field, ...(await askBirthYear(conversation, ctx)) };
    case "place": {
      const province = await askProvince(conversation, ctx);
      const commune = await askCommune(conversation, ctx, province);
      return { field, provinceCode: province.code, communeCode: commune.code };
    }
    case "affiliation":
      return { field, ...(await askAffiliation(conversation, ctx)) };
    case "goals": {
      const current = await conversation.external(async (octx) => (await octx.deps.services.citizens.getCard(String(octx.from!.id)))?.goals ?? []);
      return { field, ...(await askGoals(conversation, ctx, current)) };
    }
    case "phone":
      return { field, phone: await askPhone(conversation, ctx) };
  }
}
