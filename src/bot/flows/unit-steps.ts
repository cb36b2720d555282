import { InlineKeyboard } from "grammy";
import { UNIT_BODIES, UNIT_KINDS, UNIT_LIMITS, formatCount, formatPercent, type UnitBody, type UnitKind } from "../../domain/units/model.js";
import { headcountTextSchema, unitNameSchema, type UnitActor, type UnitFailure } from "../../domain/units/units.js";
import { escapeHtml, type TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext, ConvContext, Convo } from "../context.js";
import { describeScope } from "../features/scope.js";
import { askButtons, askText, echoLine, runStep, type Back, type Outcome } from "./engine.js";

/** The steps and texts the unit conversations and the /units feature share. */
export const NS = "units";
export const raw = { interpolation: { escapeValue: false } } as const;
/** Unit names on buttons are cut to fit a phone's width. */
const LABEL_MAX = 40;
export const short = (s: string) => (s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s);

export const kindLabel = (t: TFunction, kind: string) => t(`${NS}:kinds.${kind}`, { defaultValue: kind });
export const bodyLabel = (t: TFunction, body: string) => t(`${NS}:bodies.${body}`, { defaultValue: body });

/** The caller's role and scope, read again from the database (never from a flow's state or a button). */
export async function currentActor(o: { deps: BotContext["deps"]; from?: { id: number } }): Promise<UnitActor> {
  const id = String(o.from!.id);
  return { id, ...(await o.deps.services.users.access(id)) };
}

/** "Xã Lũng Cú, Tuyên Quang" (HTML-escaped). */
export const placeLabel = (o: BotContext, communeCode: string, provinceCode: string) => describeScope(o, { communeCode, provinceCode });

/** A refusal's reasons, one per line (already localised). */
export function failureText(t: TFunction, r: UnitFailure): string {
  return r.errors.map((e) => t(e.key, e.params)).join("\n");
}

export interface UnitCardData {
  id?: number;
  name: string;
  kind: string;
  body: string;
  headcount: number;
  place: string;
  parent?: string | null;
  counts?: { members: number; registered: number; heads: number };
  heads?: string[];
  learningStatus?: string;
}

/** A unit as officers and heads see it (HTML): the summary of /unit_new and the unit's card. */
export function unitCardText(t: TFunction, locale: string, u: UnitCardData): string {
  const lines = [
    t(`${NS}:card.title`, { name: u.name }) + (u.id ? t(`${NS}:card.number`, { id: u.id }) : ""),
    t(`${NS}:card.kind`, { kind: kindLabel(t, u.kind), body: bodyLabel(t, u.body) }),
    t(`${NS}:card.place`, { place: u.place, ...raw }),
    t(`${NS}:card.parent`, { parent: u.parent ?? t(`${NS}:card.no_parent`) }),
    t(`${NS}:card.headcount`, { count: formatCount(u.headcount, locale) }),
  ];
  if (u.counts) {
    lines.push(t(`${NS}:card.members`, {
      members: formatCount(u.counts.members, locale), registered: formatCount(u.counts.registered, locale),
      percent: formatPercent(u.counts.registered, u.headcount, locale),
    }));
  }
  if (u.heads) lines.push(t(`${NS}:card.heads`, { heads: u.heads.length ? u.heads.join(", ") : t(`${NS}:card.no_heads`) }));
  if (u.learningStatus) lines.push(t(`${NS}:card.learning`, { status: t(`${NS}:learning.${u.learningStatus}`, { defaultValue: u.learningStatus }) }));
  return lines.join("\n");
}

export function askUnitName(conversation: Convo, ctx: ConvContext, opts: { back: boolean; current?: string }): Promise<string | Back> {
  return askText(conversation, ctx, {
    question: (c) => (opts.current ? c.t(`${NS}:edit.ask_name`, { current: opts.current, max: UNIT_LIMITS.nameMax }) : c.t(`${NS}:new.ask_name`, { max: UNIT_LIMITS.nameMax })),
    schema: unitNameSchema,
    hint: `${NS}:new.text_hint`,
    echo: (c, v) => echoLine(c, `${NS}:field.name`, escapeHtml(v)),
    ...(opts.back ? { back: {} } : {}),
  });
}

export function askUnitKind(conversation: Convo, ctx: ConvContext, opts: { back: boolean }): Promise<UnitKind | Back> {
  return askButtons(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_kind`),
    keyboard: (c) => {
      const kb = new InlineKeyboard();
      UNIT_KINDS.forEach((k, i) => {
        kb.text(kindLabel(c.t, k), cb.unKind.pack(k));
        if (i % 2 === 1) kb.row();
      });
      return kb;
    },
    codec: cb.unKind,
    hint: `${NS}:new.buttons_hint`,
    echo: (c, v) => echoLine(c, `${NS}:field.kind`, kindLabel(c.t, v)),
    ...(opts.back ? { back: {} } : {}),
  });
}

export function askUnitBody(conversation: Convo, ctx: ConvContext): Promise<UnitBody> {
  return askButtons(conversation, ctx, {
    question: (c) => c.t(`${NS}:edit.ask_body`),
    keyboard: (c) => {
      const kb = new InlineKeyboard();
      for (const b of UNIT_BODIES) kb.text(bodyLabel(c.t, b), cb.unBody.pack(b)).row();
      return kb;
    },
    codec: cb.unBody,
    hint: `${NS}:new.buttons_hint`,
    echo: (c, v) => echoLine(c, `${NS}:field.body`, bodyLabel(c.t, v)),
  });
}

export function askHeadcount(conversation: Convo, ctx: ConvContext, opts: { back: boolean; current?: number }): Promise<number | Back> {
  return askText(conversation, ctx, {
    question: (c) => (opts.current !== undefined
      ? c.t(`${NS}:edit.ask_headcount`, { current: formatCount(opts.current, c.locale) })
      : c.t(`${NS}:new.ask_headcount`)),
    schema: headcountTextSchema,
    hint: `${NS}:new.text_hint`,
    echo: (c, v) => echoLine(c, `${NS}:field.headcount`, formatCount(v, c.locale)),
    ...(opts.back ? { back: {} } : {}),
  });
}

/** askParent asked nothing: the caller's scope has no unit to put this one under. */
export const NOT_ASKED = Symbol("not asked");

type ParentPage = { items: Array<{ id: number; name: string }>; page: number; pages: number; total: number };
export type ParentChoice = { id: number; name: string } | null;

function parentKeyboard(t: TFunction, list: ParentPage): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const u of list.items) kb.text(short(u.name), cb.unParent.pack(String(u.id))).row();
  if (list.pages > 1) {
    if (list.page > 0) kb.text("◀️", cb.unParent.pack(`p.${list.page - 1}`));
    if (list.page < list.pages - 1) kb.text("▶️", cb.unParent.pack(`p.${list.page + 1}`));
    kb.row();
  }
  return kb.text(t(`${NS}:new.no_parent`), cb.unParent.pack("none"));
}

const loadParents = (conversation: Convo, page: number, exceptId?: number) =>
  conversation.external(async (o): Promise<ParentPage | undefined> => {
    const r = await o.deps.services.units.parentChoices(await currentActor(o), { page, exceptId });
    return r.ok ? { items: r.items, page: r.page, pages: r.pages, total: r.total } : undefined;
  });

/**
 * The unit it belongs to (optional): the units of the caller's scope, a page at a time (the one
 * message is edited on ◀️ / ▶️), or none. The choice is checked again by the service when saved.
 */
export async function askParent(conversation: Convo, ctx: ConvContext, opts: { back: boolean; exceptId?: number }): Promise<ParentChoice | Back | typeof NOT_ASKED> {
  const first = await loadParents(conversation, 0, opts.exceptId);
  if (!first || first.total === 0) return NOT_ASKED;
  const question = (c: ConvContext, list: ParentPage) => c.t(`${NS}:new.ask_parent`, { count: list.total, page: list.page + 1, pages: list.pages });
  return runStep<ParentChoice>(conversation, ctx, {
    question: (c) => question(c, first),
    keyboard: (c) => parentKeyboard(c.t, first),
    codecs: [cb.unParent],
    hint: `${NS}:new.buttons_hint`,
    echo: (c, v) => echoLine(c, `${NS}:field.parent`, v ? escapeHtml(v.name) : c.t(`${NS}:card.no_parent`)),
    ...(opts.back ? { back: {} } : {}),
    accept: async (c): Promise<Outcome<ParentChoice>> => {
      const data = cb.unParent.unpack(c.callbackQuery?.data);
      if (data === undefined) return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
      if (data === "none") return { done: null };
      if (data.startsWith("p.")) {
        const list = await loadParents(conversation, Number(data.slice(2)), opts.exceptId);
        if (!list) return { retry: "common:errors.forbidden" };
        await c.editMessageText(question(c, list), { reply_markup: parentKeyboard(c.t, list) }).catch(() => undefined);
        return { wait: true };
      }
      const id = Number(data);
      const picked = await conversation.external(async (o) => (await o.deps.services.units.parentCandidate(await currentActor(o), id)) ?? null);
      return picked && picked.id !== opts.exceptId ? { done: picked } : { retry: "common:flow.invalid_choice" };
    },
  });
}

/**
 * A unit card's buttons. Officers of its place: edit, link and QR, new link, heads, members,
 * the units under it, delete. Heads: link and QR, members, the units under it. Each press is
 * checked again on the server.
 */
export function unitCardKeyboard(t: TFunction, id: number, who: { manage: boolean; head: boolean; children: number }): InlineKeyboard {
  const kb = new InlineKeyboard();
  const b = (label: string, action: string) => kb.text(t(`${NS}:card.${label}`), cb.unit.pack(`${action}.${id}`));
  if (who.manage) b("edit_button", "e");
  b("qr_button", "q").row();
  if (who.manage) b("rotate_button", "r").text(t(`${NS}:card.heads_button`), cb.unit.pack(`h.${id}`)).row();
  b("members_button", "m");
  if (who.children > 0) b("tree_button", "t");
  kb.row();
  if (who.manage) b("delete_button", "d").text(t(`${NS}:card.to_list`), cb.unit.pack("l.0"));
  return kb;
}
