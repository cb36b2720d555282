import { InlineKeyboard, Keyboard } from "grammy";
import type { TFunction } from "../../i18n.js";
import { AFFILIATIONS, GOALS, type GoalKey } from "../../domain/citizens/inputs.js";
import type { CommuneDto, ProvinceDto } from "../../domain/geo/geo-service.js";
import { cb, EDITABLE_FIELDS, type CallbackCodec } from "../callback-data/callback-data.js";
import { communeLabel } from "../format/card.js";

export function consentKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("privacy:consent.agree"), cb.consent.pack("yes"))
    .text(t("privacy:consent.decline"), cb.consent.pack("no"));
}

export function guardianKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("registration:guardian.yes"), cb.guardian.pack("yes"))
    .text(t("registration:guardian.no"), cb.guardian.pack("no"));
}

/** Province buttons; admins' invite picker passes its own codec. */
export function provinceKeyboard(provinces: ProvinceDto[], codec: CallbackCodec<string> = cb.province): InlineKeyboard {
  const kb = new InlineKeyboard();
  provinces.forEach((p, i) => {
    kb.text(p.name, codec.pack(p.code));
    if (i % 3 === 2) kb.row();
  });
  return kb;
}

export function communeKeyboard(t: TFunction, communes: CommuneDto[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const c of communes) kb.text(communeLabel(t, c.type, c.name), cb.commune.pack(c.code)).row();
  return kb.text(t("registration:commune.none"), cb.commune.pack("none"));
}

export function affiliationKeyboard(t: TFunction): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const a of AFFILIATIONS) kb.text(t(`registration:affiliation.${a}`), cb.affiliation.pack(a)).row();
  return kb;
}

export function goalsKeyboard(t: TFunction, chosen: readonly GoalKey[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const g of GOALS) kb.text(`${chosen.includes(g) ? "✅ " : ""}${t(`registration:goals.${g}`)}`, cb.goal.pack(g)).row();
  return kb.text(t("registration:goals_step.done"), cb.goal.pack("done"));
}

export function phoneKeyboard(t: TFunction): Keyboard {
  return new Keyboard()
    .requestContact(t("registration:phone.share"))
    .row()
    .text(t("registration:phone.skip"))
    .resized()
    .oneTime();
}

export function summaryKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("registration:summary.confirm"), cb.summary.pack("ok"))
    .text(t("registration:summary.edit"), cb.summary.pack("edit"));
}

export function fieldKeyboard(t: TFunction, codec: typeof cb.summaryField | typeof cb.editField): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const f of EDITABLE_FIELDS) kb.text(t(`registration:fields.${f}`), codec.pack(f)).row();
  return kb;
}
