/**
 * The weekly targets digest (issue 11): every Monday at 8:00 Vietnam time, programme officers get
 * each programme they follow (totals against the targets, the gap, the change since last week) and
 * unit heads get their unit's figures and how many of their members have not registered yet —
 * through the delivery engine, each in their language. Opt-out: the "target_digest" topic in
 * /settings (and the button under each digest).
 *
 * One ledger ref per ISO week (digestRef): a periodic tick inserts that week's rows once Monday
 * 8:00 has come, in one INSERT … SELECT for every recipient; the ledger's unique (kind, ref, chat)
 * makes a second tick, a second process or a restart a no-op, and only the current week is ever
 * queued, so a process that was down all Monday sends it when it starts that week, and never a
 * past week's. The render reads a whole batch in a few queries (roles, programmes, last week's
 * snapshots) and one scoreboard per (programme, scope), whatever the number of people.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { DEFAULT_LOCALE, escapeHtml as h, isLocale, type I18n, type Locale, type TFunction } from "../../i18n.js";
import { PendingReleases } from "../delivery/pending-releases.js";
import type { ClaimedDelivery, DeliveryKind, DeliveryScheduler, RenderOutcome } from "../delivery/types.js";
import { fromVnWallTime } from "../time/vietnam-time.js";
import { formatCount, formatPercent } from "../units/model.js";
import type { ProgrammeView, Scoreboard, TargetFigures } from "./figures.js";
import { METRIC_COUNTS, type Figure, type MetricFigure, type TargetMetric } from "./model.js";
import { addDays, snapshotKey, TOTAL_SCOPE_KEY, vnDay, type DayString, type TargetSnapshots } from "./snapshots.js";

export const TARGET_DIGEST_KIND = "target_digest";
/** The /settings topic that switches the digest off. */
export const TARGET_DIGEST_TOPIC = "target_digest";
/** Monday at this hour, Vietnam time. */
export const DIGEST_HOUR = 8;

export interface IsoWeek {
  /** "2026-W49" */
  label: string;
  year: number;
  week: number;
  /** The week's Monday and Sunday, Vietnam's calendar. */
  monday: DayString;
  sunday: DayString;
}

/** The ISO week (Monday first; week 1 holds the year's first Thursday) of a calendar day. */
export function isoWeekOf(day: DayString): IsoWeek {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const date = Date.UTC(y, m - 1, d);
  const weekday = (new Date(date).getUTCDay() + 6) % 7;
  const monday = new Date(date - weekday * 86_400_000);
  const thursday = new Date(monday.getTime() + 3 * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  const mondayDay = monday.toISOString().slice(0, 10);
  return { label: `${year}-W${String(week).padStart(2, "0")}`, year, week, monday: mondayDay, sunday: addDays(mondayDay, 6) };
}

/** The ledger ref of a week's digest: "digest.2026-W49" (refs may not hold ":"). */
export function digestRef(week: IsoWeek): string {
  return `digest.${week.label}`;
}

export function parseDigestRef(ref: string): string | undefined {
  return /^digest\.(\d{4}-W\d{2})$/.exec(ref)?.[1];
}

/** Monday 8:00 (Vietnam) of the week: when its digest goes. */
export function digestTime(week: IsoWeek): Date {
  const [y, m, d] = week.monday.split("-").map(Number) as [number, number, number];
  return fromVnWallTime(y, m, d, DIGEST_HOUR, 0);
}

export interface TargetDigestDeps {
  prisma: PrismaClient;
  deliveries: DeliveryScheduler;
  now: () => Date;
}

const iso = (d: Date) => d.toISOString().replace("Z", "");

export class TargetDigest {
  /** Refs committed but not yet released (Redis failed after the commit): retried at the next tick. */
  private readonly pending: PendingReleases;

  constructor(private readonly d: TargetDigestDeps) {
    this.pending = new PendingReleases(d.deliveries, TARGET_DIGEST_KIND);
  }

  /**
   * Queues this week's digest once Monday 8:00 has come: nothing before, nothing again once the
   * week has rows (people who become officers or heads later that week wait for the next one).
   * Returns how many rows were inserted.
   */
  async tick(): Promise<number> {
    await this.pending.flush();
    const now = this.d.now();
    const week = isoWeekOf(vnDay(now));
    const at = digestTime(week);
    if (now.getTime() < at.getTime()) return 0;
    const ref = digestRef(week);
    const done = await this.d.prisma.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM deliveries WHERE kind = $1 AND ref_id = $2 LIMIT 1`, TARGET_DIGEST_KIND, ref);
    if (done.length > 0) return 0;
    // Officers of live programmes, and heads of live units taking part in one (the programme's
    // province, a body it brings together); reachable, not muted. Two processes at once insert
    // the same set: the unique key keeps one row each.
    const inserted = await this.d.prisma.$executeRawUnsafe(
      `INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
       SELECT $1, $2, r.user_id, $3::timestamp
         FROM (SELECT po.user_id FROM programme_officers po JOIN programmes p ON p.id = po.programme_id AND p.deleted_at IS NULL
               UNION
               SELECT m.user_id FROM unit_members m
                 JOIN units u ON u.id = m.unit_id AND u.deleted_at IS NULL
                 JOIN programmes p ON p.deleted_at IS NULL AND p.province_code = u.province_code AND u.body = ANY(p.bodies)
                WHERE m.role = 'head') r
         JOIN users us ON us.telegram_id = r.user_id AND us.unreachable_since IS NULL
        WHERE NOT EXISTS (SELECT 1 FROM topic_mutes tm WHERE tm.user_id = r.user_id AND tm.topic = $4)
       ON CONFLICT (kind, ref_id, chat_id) DO NOTHING`,
      TARGET_DIGEST_KIND, ref, iso(at), TARGET_DIGEST_TOPIC,
    );
    if (inserted > 0) {
      this.pending.add(ref, at);
      await this.pending.flush();
    }
    return inserted;
  }
}

export interface TargetDigestKindDeps {
  prisma: PrismaClient;
  figures: TargetFigures;
  snapshots: TargetSnapshots;
  i18n: I18n;
  /** Callback data of the mute button for a topic (the settings feature handles it). */
  mute: (topic: string) => string;
}

type Button = { text: string; callback_data: string };

interface Roles {
  programmes: number[];
  heads: Array<{ programmeId: number; unitId: number; unitName: string }>;
  muted: boolean;
}

const plain = { interpolation: { escapeValue: false } } as const;
const localeOf = (l: string | null): Locale => (isLocale(l) ? l : DEFAULT_LOCALE);
/** Telegram's text limit, with room for the closing line. */
const TEXT_MAX = 3_900;

/** What each person of the batch is, now: the programmes they follow, the units they head, a mute. One query. */
async function loadRoles(prisma: PrismaClient, chatIds: readonly number[]): Promise<Map<number, Roles>> {
  const rows = await prisma.$queryRawUnsafe<Array<{ user_id: bigint; what: string; programme_id: number | null; unit_id: number | null; unit_name: string | null }>>(
    `SELECT po.user_id, 'o' AS what, po.programme_id, NULL::int AS unit_id, NULL::text AS unit_name
       FROM programme_officers po JOIN programmes p ON p.id = po.programme_id AND p.deleted_at IS NULL
      WHERE po.user_id = ANY($1::bigint[])
     UNION ALL
     SELECT m.user_id, 'h', p.id, u.id, u.name
       FROM unit_members m
       JOIN units u ON u.id = m.unit_id AND u.deleted_at IS NULL
       JOIN programmes p ON p.deleted_at IS NULL AND p.province_code = u.province_code AND u.body = ANY(p.bodies)
      WHERE m.user_id = ANY($1::bigint[]) AND m.role = 'head'
     UNION ALL
     SELECT tm.user_id, 'm', NULL, NULL, NULL FROM topic_mutes tm WHERE tm.user_id = ANY($1::bigint[]) AND tm.topic = $2
     ORDER BY 3, 4`,
    chatIds.map(String), TARGET_DIGEST_TOPIC,
  );
  const out = new Map<number, Roles>();
  for (const r of rows) {
    const id = Number(r.user_id);
    let roles = out.get(id);
    if (!roles) out.set(id, (roles = { programmes: [], heads: [], muted: false }));
    if (r.what === "m") roles.muted = true;
    else if (r.what === "o") roles.programmes.push(r.programme_id!);
    else roles.heads.push({ programmeId: r.programme_id!, unitId: r.unit_id!, unitName: r.unit_name! });
  }
  return out;
}

/** "còn 37 người", "4 đơn vị" — the counted things of a metric, with the number. */
function counted(t: TFunction, metric: TargetMetric, n: number, locale: Locale): string {
  return t(`digest:count.${METRIC_COUNTS[metric]}`, { count: n, n: formatCount(n, locale), ...plain });
}

/** One line of figures: "• Công dân học tập: 412/500 người (82,4%) · chỉ tiêu 90% · còn 38 người · tuần qua +12 người". */
export function metricLine(t: TFunction, locale: Locale, f: MetricFigure, before: Figure | undefined): string {
  const parts = [
    t("digest:figure", {
      metric: t(`digest:metric.${f.metric}`), part: formatCount(f.part, locale), whole: counted(t, f.metric, f.whole, locale),
      percent: formatPercent(f.part, f.whole, locale), ...plain,
    }),
  ];
  if (f.target !== undefined) {
    parts.push(t("digest:target", { percent: f.target, ...plain }));
    parts.push(f.gap && f.gap > 0 ? t("digest:gap", { what: counted(t, f.metric, f.gap, locale), ...plain }) : t("digest:reached"));
  }
  if (before) {
    const change = f.part - before.part;
    parts.push(change === 0
      ? t("digest:change_none")
      : t("digest:change", { sign: change > 0 ? "+" : "−", what: counted(t, f.metric, Math.abs(change), locale), ...plain }));
  }
  return `• ${parts.join(" · ")}`;
}

/** "target_digest" (ref digestRef): the week's figures to an officer or a unit head, as they stand when it is sent. */
export function targetDigestKind(d: TargetDigestKindDeps): DeliveryKind {
  return {
    kind: TARGET_DIGEST_KIND,
    priority: 4,
    async render(rows: readonly ClaimedDelivery[], env) {
      const out = new Map<string, RenderOutcome>();
      const now = env.now();
      const today = vnDay(now);
      const week = isoWeekOf(today);
      const year = Number(today.slice(0, 4));
      const live = rows.filter((row) => {
        const label = parseDigestRef(row.refId);
        if (!label) out.set(row.id, { skip: "bad ref" });
        // Sent late (the engine was away past Sunday): a week's digest is not sent in another week.
        else if (label !== week.label) out.set(row.id, { skip: "week over" });
        return label === week.label;
      });
      if (live.length === 0) return out;
      const roles = await loadRoles(d.prisma, [...new Set(live.map((r) => r.chatId))]);
      const programmeIds = [...new Set([...roles.values()].flatMap((r) => [...r.programmes, ...r.heads.map((x) => x.programmeId)]))];
      const programmes = new Map<number, ProgrammeView>(
        (await d.prisma.programme.findMany({
          where: { id: { in: programmeIds }, deletedAt: null },
          select: { id: true, name: true, provinceCode: true, bodies: true, startYear: true, endYear: true, targets: { select: { metric: true, year: true, percent: true } } },
        })).map((p) => [p.id, p]),
      );
      // One scoreboard per (programme, scope) for the whole batch.
      const boards = new Map<string, Scoreboard>();
      const wanted: Array<{ key: string; programme: ProgrammeView; unitId?: number }> = [];
      for (const r of roles.values()) {
        if (r.muted) continue;
        for (const id of r.programmes) if (programmes.has(id)) wanted.push({ key: `${id}|`, programme: programmes.get(id)! });
        for (const x of r.heads) if (programmes.has(x.programmeId)) wanted.push({ key: `${x.programmeId}|u${x.unitId}`, programme: programmes.get(x.programmeId)!, unitId: x.unitId });
      }
      for (const w of new Map(wanted.map((x) => [x.key, x])).values()) {
        boards.set(w.key, await d.figures.scoreboard(w.programme, w.unitId === undefined ? { kind: "programme" } : { kind: "unit", unitId: w.unitId }, year));
      }
      // Last week's figures: the programme's totals, and each unit of a head's scope (summed below).
      const pairs = [...boards.entries()].flatMap(([key, board]) => {
        const programmeId = board.programme.id;
        return key.endsWith("|") ? [{ programmeId, scope: TOTAL_SCOPE_KEY }] : board.units.map((u) => ({ programmeId, scope: `u${u.id}` }));
      });
      const before = await d.snapshots.latestOnOrBefore(pairs, addDays(today, -7));
      const beforeOf = (key: string, board: Scoreboard, metric: TargetMetric): Figure | undefined => {
        if (key.endsWith("|")) return before.get(snapshotKey(board.programme.id, TOTAL_SCOPE_KEY, metric));
        const found = board.units.map((u) => before.get(snapshotKey(board.programme.id, `u${u.id}`, metric))).filter((f): f is Figure => f !== undefined);
        // A unit with no row last week (new since, or no headcount) counted nothing then.
        return found.length === 0 ? undefined : { part: found.reduce((n, f) => n + f.part, 0), whole: found.reduce((n, f) => n + f.whole, 0) };
      };

      for (const row of live) {
        const r = roles.get(row.chatId);
        if (r?.muted) {
          out.set(row.id, { skip: "muted" });
          continue;
        }
        const locale = localeOf(row.locale);
        const t = d.i18n.t(locale);
        const sections: string[] = [];
        for (const id of r?.programmes ?? []) {
          const board = boards.get(`${id}|`);
          if (!board) continue;
          const lines = board.totals.filter((f) => f.whole > 0).map((f) => metricLine(t, locale, f, beforeOf(`${id}|`, board, f.metric)));
          sections.push([t("digest:programme_heading", { programme: h(board.programme.name), ...plain }), ...(lines.length ? lines : [t("digest:no_figures")])].join("\n"));
        }
        for (const x of r?.heads ?? []) {
          const key = `${x.programmeId}|u${x.unitId}`;
          const board = boards.get(key);
          if (!board) continue;
          const own = board.units.find((u) => u.id === x.unitId);
          const lines = board.totals.filter((f) => f.whole > 0).map((f) => metricLine(t, locale, f, beforeOf(key, board, f.metric)));
          const waiting = own ? Math.max(0, own.members - own.registered) : 0;
          lines.push(waiting > 0 ? t("digest:unregistered", { n: formatCount(waiting, locale), count: waiting, ...plain }) : t("digest:all_registered"));
          sections.push([t("digest:unit_heading", { unit: h(x.unitName), programme: h(board.programme.name), ...plain }), ...lines].join("\n"));
        }
        if (sections.length === 0) {
          out.set(row.id, { skip: "nothing to report" });
          continue;
        }
        const [fy, fm, fd] = week.monday.split("-");
        const [ty, tm, td] = week.sunday.split("-");
        let text = [
          t("digest:title", { week: week.week, from: `${fd}/${fm}${fy === ty ? "" : `/${fy}`}`, to: `${td}/${tm}/${ty}`, ...plain }),
          ...sections,
        ].join("\n\n");
        if (text.length > TEXT_MAX) text = `${text.slice(0, TEXT_MAX).replace(/\n[^\n]*$/, "")}\n…`;
        text += `\n\n${t("digest:footer")}`;
        const keyboard: Button[][] = [[{ text: t("settings:mute_button", { topic: t("digest:settings_topic"), ...plain }), callback_data: d.mute(TARGET_DIGEST_TOPIC) }]];
        out.set(row.id, { method: "sendMessage", payload: { text, parse_mode: "HTML", link_preview_options: { is_disabled: true }, reply_markup: { inline_keyboard: keyboard } } });
      }
      return out;
    },
  };
}
