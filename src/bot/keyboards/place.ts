import { InlineKeyboard } from "grammy";
import type { CommuneDto, ProvinceDto } from "../../domain/geo/geo-service.js";
import { communeLabel, provinceLabel } from "../../domain/geo/labels.js";
import type { Locale, TFunction } from "../../i18n.js";
import { cb, type CallbackCodec } from "../callback-data/callback-data.js";

/** Province buttons, three a row, short labels ("TP. Hồ Chí Minh"); admins' invite picker passes its own codec. */
export function provinceKeyboard(provinces: ProvinceDto[], locale: Locale, codec: CallbackCodec<string> = cb.province): InlineKeyboard {
  const kb = new InlineKeyboard();
  provinces.forEach((p, i) => {
    kb.text(provinceLabel(p, locale, "short"), codec.pack(p.code));
    if (i % 3 === 2) kb.row();
  });
  return kb;
}

/** "Is it this one?" for a near match: yes picks it, no asks to type again. */
export function provinceSuggestionKeyboard(t: TFunction, p: ProvinceDto, locale: Locale): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("place:yes_it_is", { name: provinceLabel(p, locale, "short") }), cb.province.pack(p.code))
    .row()
    .text(t("place:no_retype"), cb.province.pack("retype"));
}

export function communeKeyboard(t: TFunction, communes: CommuneDto[], locale: Locale): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const c of communes) kb.text(communeLabel(c, locale), cb.commune.pack(c.code)).row();
  return kb.text(t("place:commune.none"), cb.commune.pack("none"));
}
