import { InlineKeyboard } from "grammy";
import { AUDIENCE_ROLES, SENDER_BODIES, type Audience } from "../../domain/broadcasts/audience.js";
import type { BroadcastSummary } from "../../domain/broadcasts/broadcast-service.js";
import { AFFILIATIONS, GOALS } from "../../domain/citizens/inputs.js";
import type { TFunction } from "../../i18n.js";
import type { Scope } from "../../domain/users/user-service.js";
import { cb } from "../callback-data/callback-data.js";

export function bodyKeyboard(t: TFunction): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const b of SENDER_BODIES) kb.text(t(`broadcast:body.${b}`), cb.bcBody.pack(b)).row();
  return kb;
}

const mark = (on: boolean) => (on ? "✅ " : "▫️ ");

/** What the composer may change depends on their scope: fixed parts get no button. */
export interface AudienceRights {
  admin: boolean;
  scope: Scope;
}

export function audienceKeyboard(t: TFunction, a: Audience, rights: AudienceRights): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (rights.admin) {
    kb.text(t("broadcast:flow.btn_province"), cb.bcAudience.pack("prov"));
    if (a.provinceCode) kb.text(t("broadcast:flow.btn_commune"), cb.bcAudience.pack("com"));
    kb.row();
    if (a.provinceCode && a.communeCode) kb.text(t("broadcast:flow.btn_wide_province"), cb.bcAudience.pack("wide"));
    if (a.provinceCode) kb.text(t("broadcast:flow.btn_nationwide"), cb.bcAudience.pack("nation"));
    kb.row();
  } else if (!rights.scope.communeCode) {
    kb.text(t("broadcast:flow.btn_commune"), cb.bcAudience.pack("com"));
    if (a.communeCode) kb.text(t("broadcast:flow.btn_wide_province"), cb.bcAudience.pack("wide"));
    kb.row();
  }
  AUDIENCE_ROLES.forEach((r) => kb.text(`${mark(a.roles?.includes(r) ?? false)}${t(`broadcast:role.${r}`)}`, cb.bcAudience.pack(`role.${r}`)));
  kb.row();
  AFFILIATIONS.forEach((x, i) => {
    kb.text(`${mark(a.affiliations?.includes(x) ?? false)}${t(`registration:affiliation.${x}`)}`, cb.bcAudience.pack(`aff.${x}`));
    if (i % 2 === 1) kb.row();
  });
  if (!rights.scope.unitName || rights.admin) kb.text(t("broadcast:flow.btn_unit"), cb.bcAudience.pack("unit"));
  kb.text(t("broadcast:flow.btn_goal"), cb.bcAudience.pack("goal")).row();
  return kb.text(t("broadcast:flow.btn_next"), cb.bcAudience.pack("next")).text(t("broadcast:flow.btn_cancel"), cb.bcAudience.pack("cancel"));
}

export function goalKeyboard(t: TFunction): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const g of GOALS) kb.text(t(`registration:goals.${g}`), cb.bcGoal.pack(g)).row();
  return kb.text(t("broadcast:flow.goal_any"), cb.bcGoal.pack("any"));
}

export function sendKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("broadcast:flow.btn_now"), cb.bcSend.pack("now"))
    .text(t("broadcast:flow.btn_later"), cb.bcSend.pack("later"))
    .row()
    .text(t("broadcast:flow.btn_abort"), cb.bcSend.pack("cancel"));
}

export function cancelKeyboard(t: TFunction, id: number): InlineKeyboard {
  return new InlineKeyboard().text(t("broadcast:cancel_button"), cb.bcCancel.pack(String(id)));
}

const CANCELLABLE = new Set(["pending_approval", "scheduled", "sending"]);

/** /broadcasts: a Stop button per broadcast that can still be stopped. */
export function listKeyboard(t: TFunction, items: readonly BroadcastSummary[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const b of items) if (CANCELLABLE.has(b.state)) kb.text(t("broadcast:list.cancel", { id: b.id }), cb.bcCancel.pack(String(b.id))).row();
  return kb;
}
