import { InlineKeyboard } from "grammy";
import { provinceLabel } from "../../domain/geo/labels.js";
import { PERIOD_TARGET_YEAR, PROGRAMME_LIMITS, TARGET_METRICS, type ProgrammeTargetRow, type TargetMetric } from "../../domain/targets/model.js";
import {
  periodTextSchema, percentTextSchema, programmeNameSchema, yearTargetTextSchema, type ProgrammeActor, type ProgrammeFailure,
} from "../../domain/targets/programmes.js";
import { UNIT_BODIES, type UnitBody } from "../../domain/units/model.js";
import { escapeHtml, type TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext, ConvContext, Convo } from "../context.js";
import { askText, echoLine, parseWith, runStep, type BackOption, type Back, type Outcome } from "./engine.js";

/** The steps and texts the programme conversations and the /programmes feature share. */
export const NS = "programmes";
export const raw = { interpolation: { escapeValue: false } } as const;

export const bodyLabel = (t: TFunction, body: string) => t(`units:bodies.${body}`, { defaultValue: body });
export const metricLabel = (t: TFunction, metric: string) => t(`targets:metrics.${metric}`, { defaultValue: metric });

/** The caller's role and scope, read again from the database (never from a flow's state or a button). */
export async function currentActor(o: { deps: BotContext["deps"]; from?: { id: number } }): Promise<ProgrammeActor> {
  const id = String(o.from!.id);
  return { id, ...(await o.deps.services.users.access(id)) };
}

export function failureText(t: TFunction, r: ProgrammeFailure): string {
  return r.errors.map((e) => t(e.key, e.params)).join("\n");
}

export interface ProgrammeCardData {
  id?: number;
  name: string;
  province: string;
  bodies: readonly string[];
  startYear: number;
  endYear: number;
  targets: readonly ProgrammeTargetRow[];
  followers?: number;
  following?: boolean;
}

/** "80% · 2026: 60%, 2027: 70%", or "—" without a target. */
export function targetsText(t: TFunction, targets: readonly ProgrammeTargetRow[], metric: string): string {
  const period = targets.find((x) => x.metric === metric && x.year === PERIOD_TARGET_YEAR);
  const years = targets.filter((x) => x.metric === metric && x.year !== PERIOD_TARGET_YEAR).sort((a, b) => a.year - b.year);
  const parts = [period ? t(`${NS}:card.period_target`, { percent: period.percent }) : t(`${NS}:card.no_target`)];
  if (years.length) parts.push(years.map((y) => `${y.year}: ${y.percent}%`).join(", "));
  return parts.join(" · ");
}

/** A programme as officers see it (HTML): the summary of /programme_new and the card. */
export function programmeCardText(t: TFunction, p: ProgrammeCardData): string {
  const lines = [
    t(`${NS}:card.title`, { name: p.name }) + (p.id ? t(`${NS}:card.number`, { id: p.id }) : ""),
    t(`${NS}:card.province`, { province: p.province }),
    t(`${NS}:card.bodies`, { bodies: p.bodies.map((b) => bodyLabel(t, b)).join(", ") }),
    t(`${NS}:card.period`, { start: p.startYear, end: p.endYear }),
    t(`${NS}:card.targets_title`),
    ...TARGET_METRICS.map((m) => t(`${NS}:card.target_line`, { metric: metricLabel(t, m), targets: targetsText(t, p.targets, m) })),
  ];
  if (p.followers !== undefined) lines.push(t(`${NS}:card.followers`, { count: p.followers }) + (p.following ? t(`${NS}:card.you_follow`) : ""));
  return lines.join("\n");
}

export async function provinceName(o: BotContext | ConvContext, code: string): Promise<string> {
  const p = await o.deps.services.geo.getProvince(code);
  return p ? provinceLabel(p, o.locale === "en" ? "en" : "vi", "short") : code;
}

export function askProgrammeName(conversation: Convo, ctx: ConvContext, opts: { back?: BackOption; current?: string }): Promise<string | Back> {
  return askText(conversation, ctx, {
    question: (c) => (opts.current ? c.t(`${NS}:edit.ask_name`, { current: opts.current }) : c.t(`${NS}:new.ask_name`, { max: PROGRAMME_LIMITS.nameMax })),
    schema: programmeNameSchema,
    hint: `${NS}:new.text_hint`,
    echo: (c, v) => echoLine(c, `${NS}:field.name`, escapeHtml(v)),
    ...(opts.back ? { back: opts.back } : {}),
  });
}

/** The participating bodies as toggles (edited in place), then Done (at least one). */
export function askBodies(conversation: Convo, ctx: ConvContext, opts: { back?: BackOption; initial?: readonly UnitBody[] }): Promise<UnitBody[] | Back> {
  let chosen: UnitBody[] = [...(opts.initial ?? [])];
  const keyboard = (c: ConvContext) => {
    const kb = new InlineKeyboard();
    for (const b of UNIT_BODIES) kb.text(`${chosen.includes(b) ? "✅" : "▫️"} ${bodyLabel(c.t, b)}`, cb.pgBody.pack(b)).row();
    return kb.text(c.t(`${NS}:new.done`), cb.pgBody.pack("done"));
  };
  const withBack = (c: ConvContext) => (opts.back ? keyboard(c).row().text(c.t("common:flow.back"), cb.flowBack.pack("go")) : keyboard(c));
  return runStep<UnitBody[]>(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_bodies`),
    keyboard,
    codecs: [cb.pgBody],
    hint: `${NS}:new.buttons_hint`,
    back: opts.back,
    echo: (c, v) => echoLine(c, `${NS}:field.bodies`, v.map((b) => bodyLabel(c.t, b)).join(", ")),
    accept: async (c): Promise<Outcome<UnitBody[]>> => {
      const v = cb.pgBody.unpack(c.callbackQuery?.data);
      if (v === undefined) return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
      if (v === "done") return chosen.length ? { done: UNIT_BODIES.filter((b) => chosen.includes(b)) } : { retry: `${NS}:errors.bodies` };
      chosen = chosen.includes(v) ? chosen.filter((x) => x !== v) : [...chosen, v];
      await c.editMessageText(c.t(`${NS}:new.ask_bodies`), { reply_markup: withBack(c) }).catch(() => undefined);
      return { wait: true };
    },
  });
}

export function askPeriod(conversation: Convo, ctx: ConvContext, opts: { back?: BackOption; current?: { startYear: number; endYear: number } }): Promise<{ startYear: number; endYear: number } | Back> {
  return askText(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_period`, { max: PROGRAMME_LIMITS.periodYearsMax }) + (opts.current ? `\n${c.t(`${NS}:edit.current_period`, { start: opts.current.startYear, end: opts.current.endYear })}` : ""),
    schema: periodTextSchema,
    hint: `${NS}:new.text_hint`,
    echo: (c, v) => echoLine(c, `${NS}:field.period`, `${v.startYear}–${v.endYear}`),
    ...(opts.back ? { back: opts.back } : {}),
  });
}

export const SKIPPED = "skip" as const;

/** A metric's target for the period: a percent 1–100, or Skip. */
export function askMetricTarget(conversation: Convo, ctx: ConvContext, metric: TargetMetric, opts: { back?: BackOption; current?: number }): Promise<number | typeof SKIPPED | Back> {
  return runStep<number | typeof SKIPPED>(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_target`, { metric: metricLabel(c.t, metric), ...raw }) + (opts.current !== undefined ? `\n${c.t(`${NS}:edit.current_target`, { percent: opts.current })}` : ""),
    keyboard: (c) => new InlineKeyboard().text(c.t(opts.current !== undefined ? `${NS}:new.clear_target` : `${NS}:new.skip_target`), cb.pgSkip.pack("skip")),
    codecs: [cb.pgSkip],
    hint: `${NS}:new.text_hint`,
    back: opts.back,
    echo: (c, v) => echoLine(c, `${NS}:field.target`, `${metricLabel(c.t, metric)}: ${v === SKIPPED ? c.t(`${NS}:card.no_target`) : `${v}%`}`),
    accept: async (c) => {
      if (cb.pgSkip.unpack(c.callbackQuery?.data)) return { done: SKIPPED };
      const text = c.message?.text;
      return text === undefined ? undefined : parseWith(percentTextSchema, text);
    },
  });
}

/** "2026: 60%": one year's own target for a metric (chosen first with buttons). */
export function askYearTarget(conversation: Convo, ctx: ConvContext, period: { startYear: number; endYear: number }): Promise<{ year: number; percent: number }> {
  return askText(conversation, ctx, {
    question: (c) => c.t(`${NS}:edit.ask_year_target`, { start: period.startYear, end: period.endYear }),
    schema: yearTargetTextSchema,
    hint: `${NS}:new.text_hint`,
  });
}

export function askMetric(conversation: Convo, ctx: ConvContext): Promise<TargetMetric> {
  return runStep<TargetMetric>(conversation, ctx, {
    question: (c) => c.t(`${NS}:edit.ask_metric`),
    keyboard: (c) => {
      const kb = new InlineKeyboard();
      for (const m of TARGET_METRICS) kb.text(metricLabel(c.t, m), cb.pgMetric.pack(m)).row();
      return kb;
    },
    codecs: [cb.pgMetric],
    hint: `${NS}:new.buttons_hint`,
    echo: (c, v) => echoLine(c, `${NS}:field.metric`, metricLabel(c.t, v)),
    accept: async (c) => {
      const v = cb.pgMetric.unpack(c.callbackQuery?.data);
      if (v) return { done: v };
      return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
    },
  }) as Promise<TargetMetric>;
}

/** A programme card's buttons: managers edit and delete; every officer who sees it follows and opens the scoreboard. */
export function programmeCardKeyboard(t: TFunction, id: number, who: { manage: boolean; following: boolean }): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (who.manage) kb.text(t(`${NS}:card.edit_button`), cb.programme.pack(`e.${id}`));
  kb.text(t(who.following ? `${NS}:card.unfollow_button` : `${NS}:card.follow_button`), cb.programme.pack(`${who.following ? "uf" : "fo"}.${id}`)).row();
  kb.text(t(`${NS}:card.scoreboard_button`), cb.targets.pack(`v.${id}.p`));
  if (who.manage) kb.text(t(`${NS}:card.delete_button`), cb.programme.pack(`d.${id}`));
  return kb.row().text(t(`${NS}:card.to_list`), cb.programme.pack("l"));
}
