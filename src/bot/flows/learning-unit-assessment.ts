import { InlineKeyboard } from "grammy";
import { formatPercent } from "../../domain/units/model.js";
import { type Checklist, type Measured } from "../../domain/units/learning-units.js";
import { escapeHtml, type Locale, type TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext, ConvContext, Convo } from "../context.js";
import { formatDate } from "../format/dates.js";
import { askButtons, echoLine, runStep } from "./engine.js";

export const LEARNING_UNIT_FLOW = "learning-unit-assessment";
const NS = "learning-units";
const raw = { interpolation: { escapeValue: false } } as const;
/** Telegram's limit is 4096: a long checklist falls back to the items' short labels. */
const TEXT_MAX = 3_900;

const actorOf = async (o: BotContext, me: string) => ({ ...(await o.deps.services.users.access(me)), id: me });

/** "📊 45,5% (5/11 people): not yet the 80% target", the line under a computed item. */
export function measureLine(t: TFunction, locale: Locale, measured: Measured, target: number): string {
  const met = measured.citizens * 100 >= target * measured.headcount;
  return t(`${NS}:measure_line`, {
    share: formatPercent(measured.citizens, measured.headcount, locale), citizens: measured.citizens, headcount: measured.headcount,
    verdict: t(met ? `${NS}:measure_met` : `${NS}:measure_not_met`, { target }), ...raw,
  });
}

/**
 * The checklist with its marks: ☑️/⬜ for items a person ticks, 📊 and the measured share for
 * computed ones. Item texts come from the checklist file (escaped); ids the current file no longer
 * has (an older assessment) are shown by id.
 */
export function checklistLines(t: TFunction, locale: Locale, checklist: Checklist, answers: Record<string, boolean>, measured: Measured | undefined, short = false): string[] {
  const lines: string[] = [];
  const known = new Set(checklist.items.map((i) => i.id));
  checklist.items.forEach((item, i) => {
    const label = escapeHtml(short ? item.short[locale] : item[locale]);
    if (item.computed) {
      lines.push(`📊 <b>${i + 1}.</b> ${label}`);
      if (measured) lines.push(`      ${measureLine(t, locale, measured, item.computed.targetPercent)}`);
    } else {
      lines.push(`${answers[item.id] ? "☑️" : "⬜"} <b>${i + 1}.</b> ${label}`);
    }
  });
  for (const [id, on] of Object.entries(answers)) if (!known.has(id)) lines.push(`${on ? "☑️" : "⬜"} <code>${escapeHtml(id)}</code>`);
  return lines;
}

interface Started {
  unitName: string;
  returnReason: string | null;
  checklist: Checklist;
  measured: Measured;
  answers: Record<string, boolean>;
}

/**
 * /learning_unit: one of the units the person heads (asked when several), the checklist as toggle
 * buttons edited in place with the measured share shown, then Send. Every step re-checks on the
 * server that the person still heads the unit.
 */
export async function learningUnitAssessmentFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const me = String(ctx.from!.id);
  const units = await conversation.external((o) => o.deps.services.learningUnits.headedUnits(me));
  if (units.length === 0) {
    await ctx.reply(ctx.t(`${NS}:head.no_units`));
    return;
  }
  let unitId = units[0]!.id;
  if (units.length > 1) {
    const mark = (s: string) => (s === "approved" ? "✅ " : s === "pending" ? "⏳ " : s === "returned" ? "↩️ " : "");
    const picked = await askButtons(conversation, ctx, {
      question: (c) => c.t(`${NS}:head.pick`),
      keyboard: () => {
        const kb = new InlineKeyboard();
        for (const u of units) kb.text(`${mark(u.status)}${u.name}`.slice(0, 60), cb.ulUnit.pack(String(u.id))).row();
        return kb;
      },
      codec: cb.ulUnit,
      hint: `${NS}:head.buttons_hint`,
      echo: (c, v) => echoLine(c, `${NS}:head.unit_label`, escapeHtml(units.find((u) => String(u.id) === v)?.name ?? "")),
      // A forged id (a unit the person does not head) is refused like any invalid choice.
      onPress: async (_c, v) => (units.some((u) => String(u.id) === v) ? { done: v } : { retry: "common:flow.invalid_choice" }),
    });
    unitId = Number(picked);
  }

  const started = await conversation.external(async (o): Promise<{ ok: true; s: Started } | { ok: false; text: string }> => {
    const r = await o.deps.services.learningUnits.start(await actorOf(o, me), unitId);
    if (!r.ok) return { ok: false, text: refusalText(o.t, o.locale, r.reason, r.unit) };
    return { ok: true, s: { unitName: r.unit.name, returnReason: r.unit.status === "returned" ? r.unit.returnReason : null, checklist: r.checklist, measured: r.measured, answers: r.answers } };
  });
  if (!started.ok) {
    await ctx.reply(started.text);
    return;
  }
  const { checklist, measured, unitName, returnReason } = started.s;
  const answers = { ...started.s.answers };
  const toggles = checklist.items.map((item, index) => ({ item, index })).filter((x) => !x.item.computed);

  const question = (c: ConvContext) => {
    const head = [c.t(`${NS}:head.title`, { unit: escapeHtml(unitName), ...raw })];
    if (returnReason) head.push(c.t(`${NS}:head.returned_before`, { reason: escapeHtml(returnReason), ...raw }));
    const tail = ["", c.t(`${NS}:head.how`), c.t(`${NS}:head.version`, { version: checklist.version })];
    const full = [...head, "", ...checklistLines(c.t, c.locale, checklist, answers, measured), ...tail].join("\n");
    return full.length <= TEXT_MAX ? full : [...head, "", ...checklistLines(c.t, c.locale, checklist, answers, measured, true), ...tail].join("\n");
  };
  const keyboard = (c: ConvContext) => {
    const kb = new InlineKeyboard();
    for (const { item, index } of toggles) kb.text(`${answers[item.id] ? "☑️" : "⬜"} ${index + 1}. ${item.short[c.locale]}`, cb.ulCheck.pack(String(index))).row();
    return kb.text(c.t(`${NS}:head.send`), cb.ulCheck.pack("send"));
  };
  await runStep<true>(conversation, ctx, {
    question,
    keyboard,
    codecs: [cb.ulCheck],
    hint: `${NS}:head.buttons_hint`,
    accept: async (c) => {
      const v = cb.ulCheck.unpack(c.callbackQuery?.data);
      if (v === undefined) return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
      if (v === "send") return { done: true };
      const toggle = toggles.find((x) => x.index === Number(v));
      if (!toggle) return { retry: "common:flow.invalid_choice" };
      answers[toggle.item.id] = !answers[toggle.item.id];
      await c.editMessageText(question(c), { reply_markup: keyboard(c) }).catch(() => undefined);
      return { wait: true };
    },
  });

  const sent = await conversation.external(async (o) => {
    const r = await o.deps.services.learningUnits.submit(await actorOf(o, me), unitId, answers);
    if (!r.ok) return refusalText(o.t, o.locale, r.reason, r.unit);
    const a = r.unit.assessment?.answers ?? {};
    const place = await o.deps.services.geo.getCommune(r.unit.communeCode);
    return o.t(`${NS}:head.sent`, {
      unit: escapeHtml(r.unit.name), ticked: Object.values(a).filter(Boolean).length, total: Object.keys(a).length, place: escapeHtml(place?.name ?? r.unit.communeCode), ...raw,
    });
  });
  await ctx.reply(sent);
}

/** Why a head or an officer cannot go on, in their language (HTML). */
export function refusalText(t: TFunction, locale: Locale, reason: string, unit?: { name: string; requestedAt: Date | null; decidedAt: Date | null }): string {
  const name = escapeHtml(unit?.name ?? "");
  if (reason === "pending") return t(`${NS}:errors.pending`, { unit: name, date: unit?.requestedAt ? formatDate(unit.requestedAt, locale) : "—", ...raw });
  if (reason === "approved") return t(`${NS}:errors.approved`, { unit: name, date: unit?.decidedAt ? formatDate(unit.decidedAt, locale) : "—", ...raw });
  return t(`${NS}:errors.${reason}`, { unit: name, ...raw });
}

/** Why an officer cannot see or decide a unit (≤ 200 characters: also a button's answer). */
export function officerRefusal(t: TFunction, reason: string): string {
  return t(`${NS}:officer.refused.${["not_found", "forbidden", "no_scope", "not_pending", "reason_length"].includes(reason) ? reason : "not_found"}`);
}
