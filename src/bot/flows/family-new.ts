import type { InlineKeyboardMarkup } from "grammy/types";
import { groupNameSchema } from "../../domain/units/families.js";
import type { ConvContext, Convo } from "../context.js";
import { familyScreen } from "../features/families.js";
import { askText, echoLine } from "./engine.js";

export const FAMILY_NEW_FLOW = "family-new";

/**
 * A new learning family: its name (e.g. "Gia đình ông Lò Văn Páo"), then the family's screen with
 * the invite button. The service checks again that the person is registered and in no family
 * (a second create at the same moment is refused by the database's index).
 */
export async function familyNewFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const name = await askText(conversation, ctx, {
    question: (c) => c.t("families:new.ask_name"),
    schema: groupNameSchema,
    hint: "families:new.text_hint",
    echo: (c, v) => echoLine(c, "families:new.name_label", v),
  });
  type Outcome = { ok: true; name: string; text: string; markup: InlineKeyboardMarkup } | { ok: false; text: string };
  const result = await conversation.external(async (o): Promise<Outcome> => {
    const r = await o.deps.services.families.create(String(o.from!.id), { name });
    if (!r.ok) {
      const key = r.reason === "invalid_name" ? r.message! : `families:errors.${r.reason}`;
      return { ok: false, text: o.t(key, { name: r.family ?? "" }) };
    }
    const mine = await o.deps.services.families.mine(String(o.from!.id));
    if (!mine) return { ok: false, text: o.t("families:errors.no_family") };
    const screen = familyScreen(o, mine);
    return { ok: true, name: r.name, text: screen.text, markup: screen.markup };
  });
  if (!result.ok) {
    await ctx.reply(result.text);
    return;
  }
  await ctx.reply(ctx.t("families:new.created", { name: result.name }));
  await ctx.reply(result.text, { reply_markup: result.markup });
}
