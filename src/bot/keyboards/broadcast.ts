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

/** /broadcasts: a Stop button per broadcast that can still be stopped, a Results button per quiz prompt. */
export function listKeyboard(t: TFunction, items: readonly BroadcastSummary[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const b of items) {
    if (CANCELLABLE.has(b.state)) kb.text(t("broadcast:list.cancel", { id: b.id }), cb.bcCancel.pack(String(b.id)));
    if (b.quiz && b.state !== "rejected") kb.text(t("quiz-prompt:list_results", { id: b.id }), cb.bcResults.pack(`n.${b.id}`));
    kb.row();
  }
  return kb;
}

/** Under a quiz prompt's status: Stop while it can be stopped, and Results (refreshed in place). */
export function quizStatusKeyboard(t: TFunction, id: number, cancellable: boolean): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (cancellable) kb.text(t("broadcast:cancel_button"), cb.bcCancel.pack(String(id))).row();
  return kb.text(t("quiz-prompt:results_button"), cb.bcResults.pack(`r.${id}`));
}

export function quizTopicKeyboard(t: TFunction, topics: ReadonlyArray<{ key: string; title: string; count: number }>): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const x of topics) kb.text(t("quiz-prompt:flow.topic_button", { title: x.title, count: x.count, interpolation: { escapeValue: false } }), cb.bcQuizTopic.pack(x.key)).row();
  return kb;
}

/** Numbered toggles for the questions on screen (indices from..to-1), paging, Done and another topic. */
export function quizPickKeyboard(t: TFunction, s: { from: number; to: number; selected: readonly number[]; hasPrev: boolean; hasNext: boolean }): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (let i = s.from; i < s.to; i++) {
    kb.text(`${s.selected.includes(i) ? "✅" : ""}${i + 1}`, cb.bcQuizPick.pack(`t.${i}`));
    if ((i - s.from) % 4 === 3) kb.row();
  }
  kb.row();
  if (s.hasPrev) kb.text(t("quiz-prompt:flow.btn_prev"), cb.bcQuizPick.pack("prev"));
  if (s.hasNext) kb.text(t("quiz-prompt:flow.btn_next_page"), cb.bcQuizPick.pack("next"));
  kb.row();
  return kb
    .text(t("quiz-prompt:flow.btn_done", { count: s.selected.length }), cb.bcQuizPick.pack("done"))
    .text(t("quiz-prompt:flow.btn_topic"), cb.bcQuizPick.pack("topic"));
}

export function quizCloseKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("quiz-prompt:flow.btn_1h"), cb.bcQuizClose.pack("1h"))
    .text(t("quiz-prompt:flow.btn_24h"), cb.bcQuizClose.pack("24h"))
    .text(t("quiz-prompt:flow.btn_3d"), cb.bcQuizClose.pack("3d"));
}
