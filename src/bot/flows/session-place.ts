import { communeListView } from "../features/sessions.js";
import type { ConvContext, Convo } from "../context.js";
import { askPlace } from "./ask-place.js";
import { BACK } from "./engine.js";

export const SESSION_PLACE_FLOW = "session-place";

/**
 * "🏘 Chọn xã/phường" for people who do not share a location: the registration's forgiving
 * province and commune search, then the nearby list from that commune's point.
 */
export async function sessionPlaceFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const place = await askPlace(conversation, ctx);
  if (place === BACK) return;
  const communeCode = place.commune.code;
  const view = await conversation.external(async (octx) => {
    const v = await communeListView(octx, communeCode);
    return { text: v.text, keyboard: v.keyboard.inline_keyboard };
  });
  await ctx.reply(view.text, { reply_markup: { inline_keyboard: view.keyboard }, link_preview_options: { is_disabled: true } });
}
