import { InlineKeyboard, Keyboard } from "grammy";
import type { TFunction } from "../../i18n.js";
import { AFFILIATIONS, GOALS, type AffiliationKey, type GoalKey } from "../../domain/citizens/inputs.js";
import { cb, EDITABLE_FIELDS } from "../callback-data/callback-data.js";

export function consentKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("privacy:consent.agree"), cb.consent.pack("yes"))
    .text(t("privacy:consent.decline"), cb.consent.pack("no"))
    .row()
    .text(t("privacy:consent.read_full"), cb.consent.pack("full"));
}

/** The guardian's answer to a child's registration. */
export function guardianKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("registration:guardian.agree"), cb.guardian.pack("yes"))
    .text(t("registration:guardian.refuse"), cb.guardian.pack("no"));
}

export function oneWordNameKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("registration:name.one_word_yes"), cb.oneWordName.pack("yes"))
    .row()
    .text(t("registration:name.one_word_retype"), cb.oneWordName.pack("retype"));
}

/** Affiliations offered; people who may be children are not offered the armed forces. */
export function affiliationKeyboard(t: TFunction, offered: readonly AffiliationKey[] = AFFILIATIONS): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const a of offered) kb.text(t(`registration:affiliation.${a}`), cb.affiliation.pack(a)).row();
  return kb;
}

export function goalsKeyboard(t: TFunction, chosen: readonly GoalKey[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const g of GOALS) kb.text(`${chosen.includes(g) ? "✅ " : ""}${t(`registration:goals.${g}`)}`, cb.goal.pack(g)).row();
  return kb.text(t("registration:goals_step.done"), cb.goal.pack("done"));
}

export function phoneKeyboard(t: TFunction): Keyboard {
  return new Keyboard().requestContact(t("registration:phone.share")).row().text(t("registration:phone.skip")).resized().oneTime();
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
