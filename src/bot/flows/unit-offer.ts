import { InlineKeyboard } from "grammy";
import type { RegistrationDraft } from "../../domain/citizens/citizen-service.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";

/**
 * After the learning card is saved: when the unit name typed at registration is a real unit
 * (unitService.matchByName), offer to join it. A message with buttons, not a question of the
 * conversation: the registration ends here, and nothing is stored without "yes" (the units
 * feature matches the unit again from the saved card when it is pressed).
 */
export async function offerUnit(conversation: Convo, ctx: ConvContext, draft: Pick<RegistrationDraft, "unitName" | "provinceCode" | "communeCode">): Promise<void> {
  if (!draft.unitName) return;
  const unitName = draft.unitName;
  const match = await conversation.external(async (o) => {
    const unit = await o.deps.services.units.matchByName(draft.provinceCode, draft.communeCode, unitName);
    if (!unit) return null;
    const mine = await o.deps.services.units.mine(String(o.from!.id));
    return mine.some((u) => u.id === unit.id) ? null : { id: unit.id, name: unit.name };
  });
  if (!match) return;
  await ctx.reply(ctx.t("units:offer.ask", { name: match.name }), {
    reply_markup: new InlineKeyboard().text(ctx.t("units:offer.yes"), cb.unitOffer.pack(String(match.id))).text(ctx.t("units:offer.no"), cb.unitOffer.pack("no")),
  });
}
