/**
 * The delivery kinds of scholarship rounds (issue 10): "remind me" reminders (opening day, 7 days
 * and 1 day before the deadline), round notices (extended, closed, cancelled) and a nomination's
 * status change to its nominator. Each render reads its whole batch in one query and checks again,
 * at send time, that the message still holds: a row queued for dates the round no longer has, for
 * a cancelled round, or for someone who unsubscribed or muted meanwhile is skipped, not sent.
 *
 * Muting: reminders and "extended" respect the "scholarships" topic (they follow what the person
 * already chose to follow). Closed and cancelled always reach the people they were queued for,
 * because they end what the person was counting on; a status change is about the person's own
 * nomination and is never muted. The engine still skips people who blocked the bot.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { DEFAULT_LOCALE, escapeHtml as h, isLocale, type I18n, type Locale, type TFunction } from "../../i18n.js";
import type { ClaimedDelivery, DeliveryKind, RenderOutcome } from "../delivery/types.js";
import {
  dayNumber, formatDay, formatVnd, NOMINATION_STATUS_KIND, nominationsCloseAt, parseNominationStatusRef, parseRoundNoticeRef,
  parseRoundReminderRef, SCHOLARSHIP_NOTICE_KIND, SCHOLARSHIP_REMINDER_KIND, SCHOLARSHIPS_TOPIC, type Day,
} from "./model.js";

export interface ScholarshipKindDeps {
  prisma: PrismaClient;
  i18n: I18n;
  /** Callback data of the button that opens the round's card. */
  cardButton: (roundId: number) => string;
  /** Callback data of "stop reminding me of this round". */
  unremindButton: (roundId: number) => string;
  /** Callback data of the button that opens one of the person's nominations. */
  nominationButton: (nominationId: number) => string;
  /** Callback data of the mute button for a topic (the settings feature handles it). */
  mute: (topic: string) => string;
}

type Button = { text: string; callback_data: string };

interface RoundView {
  programme: string;
  year: number;
  state: string;
  opensOn: Day;
  deadlineOn: Day;
  awardOn: Day;
  awardValueVnd: bigint | null;
  awardCount: number | null;
  subscribed: boolean;
  nominator: boolean;
  muted: boolean;
}

const plain = { interpolation: { escapeValue: false } } as const;
const localeOf = (l: string | null): Locale => (isLocale(l) ? l : DEFAULT_LOCALE);
const dayOf = (n: number): Day => new Date(n * 86_400_000);

/** The rounds of a batch as each recipient stands with them: one query, never one per row. */
async function loadRounds(prisma: PrismaClient, pairs: ReadonlyArray<{ chatId: number; roundId: number }>): Promise<Map<string, RoundView>> {
  const unique = [...new Map(pairs.map((p) => [`${p.chatId}.${p.roundId}`, p])).values()];
  if (unique.length === 0) return new Map();
  const rows = await prisma.$queryRawUnsafe<Array<{
    chat_id: bigint; round_id: number; programme: string; year: number; state: string; opens_day: number; deadline_day: number; award_day: number;
    award_value_vnd: bigint | null; award_count: number | null; subscribed: boolean; nominator: boolean; muted: boolean;
  }>>(
    `SELECT x.chat_id, r.id AS round_id, r.programme, r.year, r.state::text AS state,
            (r.opens_on - DATE '1970-01-01')::int AS opens_day, (r.deadline_on - DATE '1970-01-01')::int AS deadline_day,
            (r.award_on - DATE '1970-01-01')::int AS award_day, r.award_value_vnd, r.award_count,
            EXISTS (SELECT 1 FROM scholarship_subscriptions s WHERE s.round_id = r.id AND s.user_id = x.chat_id) AS subscribed,
            EXISTS (SELECT 1 FROM nominations n WHERE n.round_id = r.id AND n.nominator_id = x.chat_id) AS nominator,
            EXISTS (SELECT 1 FROM topic_mutes m WHERE m.user_id = x.chat_id AND m.topic = $3) AS muted
       FROM unnest($1::bigint[], $2::int[]) AS x(chat_id, round_id)
       JOIN scholarship_rounds r ON r.id = x.round_id`,
    unique.map((p) => String(p.chatId)), unique.map((p) => p.roundId), SCHOLARSHIPS_TOPIC,
  );
  return new Map(rows.map((r) => [`${Number(r.chat_id)}.${r.round_id}`, {
    programme: r.programme, year: r.year, state: r.state, opensOn: dayOf(r.opens_day), deadlineOn: dayOf(r.deadline_day), awardOn: dayOf(r.award_day),
    awardValueVnd: r.award_value_vnd === null ? null : BigInt(r.award_value_vnd), awardCount: r.award_count,
    subscribed: r.subscribed, nominator: r.nominator, muted: r.muted,
  }]));
}

/** The values every round message shows, escaped for HTML once (passed with escapeValue: false). */
function values(v: RoundView) {
  return { programme: h(v.programme), year: v.year, deadline: formatDay(v.deadlineOn), opens: formatDay(v.opensOn), award: formatDay(v.awardOn), ...plain };
}

/** "💰 2.000.000 đồng a place · 20 places", when the officer gave the value. */
function awardLine(t: TFunction, v: RoundView, locale: Locale): string {
  if (v.awardValueVnd === null) return "";
  const value = formatVnd(v.awardValueVnd, locale);
  return `\n${v.awardCount === null ? t("scholarships-notify:award_value", { value, ...plain }) : t("scholarships-notify:award_value_count", { value, count: v.awardCount, ...plain })}`;
}

const message = (text: string, keyboard: Button[][]): RenderOutcome => ({
  method: "sendMessage",
  payload: { text, parse_mode: "HTML", link_preview_options: { is_disabled: true }, ...(keyboard.length ? { reply_markup: { inline_keyboard: keyboard } } : {}) },
});

function muteRow(d: ScholarshipKindDeps, t: TFunction): Button[] {
  return [{ text: t("settings:mute_button", { topic: t("scholarships-notify:settings_topic"), ...plain }), callback_data: d.mute(SCHOLARSHIPS_TOPIC) }];
}

const cardRow = (d: ScholarshipKindDeps, t: TFunction, roundId: number): Button[] => [{ text: t("scholarships-notify:card_button"), callback_data: d.cardButton(roundId) }];

/** "scholarship_reminder" (ref roundReminderRef): the opening day, 7 days and 1 day before the deadline. */
export function scholarshipReminderKind(d: ScholarshipKindDeps): DeliveryKind {
  return {
    kind: SCHOLARSHIP_REMINDER_KIND,
    priority: 2,
    async render(rows: readonly ClaimedDelivery[], env) {
      const out = new Map<string, RenderOutcome>();
      const parsed = rows.map((row) => ({ row, ref: parseRoundReminderRef(row.refId) }));
      const views = await loadRounds(d.prisma, parsed.flatMap((p) => (p.ref ? [{ chatId: p.row.chatId, roundId: p.ref.roundId }] : [])));
      const now = env.now().getTime();
      for (const { row, ref } of parsed) {
        const v = ref ? views.get(`${row.chatId}.${ref.roundId}`) : undefined;
        if (!ref || !v) out.set(row.id, { skip: "round missing" });
        else if (v.state === "cancelled") out.set(row.id, { skip: "round cancelled" });
        else if (v.state !== "active") out.set(row.id, { skip: "round closed" });
        // The ref names the day it was queued for: moved dates have reminders of their own.
        else if (dayNumber(ref.slot === "open" ? v.opensOn : v.deadlineOn) !== ref.day) out.set(row.id, { skip: "dates changed" });
        else if (now >= nominationsCloseAt(v.deadlineOn).getTime()) out.set(row.id, { skip: "nominations closed" });
        else if (!v.subscribed) out.set(row.id, { skip: "unsubscribed" });
        else if (v.muted) out.set(row.id, { skip: "muted" });
        else {
          const locale = localeOf(row.locale);
          const t = d.i18n.t(locale);
          const text = t(`scholarships-notify:reminder_${ref.slot}`, values(v)) + awardLine(t, v, locale);
          out.set(row.id, message(text, [
            cardRow(d, t, ref.roundId),
            [{ text: t("scholarships-notify:unremind_button"), callback_data: d.unremindButton(ref.roundId) }],
            muteRow(d, t),
          ]));
        }
      }
      return out;
    },
  };
}

/**
 * "scholarship_notice" (ref roundNoticeRef), queued by the officers' actions to subscribers and
 * nominators: extended (sent while the round is active with the stamped deadline, to people still
 * following it, not muted), closed and cancelled (sent while the round is still in that state).
 */
export function scholarshipNoticeKind(d: ScholarshipKindDeps): DeliveryKind {
  return {
    kind: SCHOLARSHIP_NOTICE_KIND,
    priority: 2,
    async render(rows: readonly ClaimedDelivery[], env) {
      const out = new Map<string, RenderOutcome>();
      const parsed = rows.map((row) => ({ row, ref: parseRoundNoticeRef(row.refId) }));
      const views = await loadRounds(d.prisma, parsed.flatMap((p) => (p.ref ? [{ chatId: p.row.chatId, roundId: p.ref.roundId }] : [])));
      const now = env.now().getTime();
      for (const { row, ref } of parsed) {
        const v = ref ? views.get(`${row.chatId}.${ref.roundId}`) : undefined;
        if (!ref || !v) {
          out.set(row.id, { skip: "round missing" });
          continue;
        }
        const locale = localeOf(row.locale);
        const t = d.i18n.t(locale);
        if (ref.event === "cancelled") {
          out.set(row.id, v.state === "cancelled" ? message(t("scholarships-notify:cancelled", values(v)), []) : { skip: "not cancelled" });
        } else if (ref.event === "closed") {
          out.set(row.id, v.state === "closed"
            ? message(t(v.nominator ? "scholarships-notify:closed_nominator" : "scholarships-notify:closed", values(v)), [cardRow(d, t, ref.roundId)])
            : { skip: "not closed" });
        } else if (v.state !== "active") out.set(row.id, { skip: v.state === "cancelled" ? "round cancelled" : "round closed" });
        // Extended again since (or moved back): the later notice says the day that holds.
        else if (dayNumber(v.deadlineOn) !== ref.stamp) out.set(row.id, { skip: "deadline changed" });
        else if (now >= nominationsCloseAt(v.deadlineOn).getTime()) out.set(row.id, { skip: "nominations closed" });
        else if (!v.subscribed && !v.nominator) out.set(row.id, { skip: "unsubscribed" });
        else if (v.muted) out.set(row.id, { skip: "muted" });
        else {
          const keyboard = [cardRow(d, t, ref.roundId)];
          if (v.subscribed) keyboard.push([{ text: t("scholarships-notify:unremind_button"), callback_data: d.unremindButton(ref.roundId) }]);
          keyboard.push(muteRow(d, t));
          out.set(row.id, message(t("scholarships-notify:extended", values(v)), keyboard));
        }
      }
      return out;
    },
  };
}

/** "nomination_status" (ref nominationStatusRef), to the nominator: a round's officers set a new status. */
export function nominationStatusKind(d: ScholarshipKindDeps): DeliveryKind {
  return {
    kind: NOMINATION_STATUS_KIND,
    priority: 2,
    async render(rows: readonly ClaimedDelivery[]) {
      const out = new Map<string, RenderOutcome>();
      const parsed = rows.map((row) => ({ row, ref: parseNominationStatusRef(row.refId) }));
      const ids = [...new Set(parsed.flatMap((p) => (p.ref ? [p.ref.nominationId] : [])))];
      const found = ids.length === 0 ? [] : await d.prisma.$queryRawUnsafe<Array<{
        id: number; nominator_id: bigint; student_name: string; status: string; programme: string; year: number;
      }>>(
        `SELECT n.id, n.nominator_id, n.student_name, n.status::text AS status, r.programme, r.year
           FROM nominations n JOIN scholarship_rounds r ON r.id = n.round_id
          WHERE n.id = ANY($1::int[])`,
        ids,
      );
      const byId = new Map(found.map((n) => [n.id, n]));
      for (const { row, ref } of parsed) {
        const n = ref ? byId.get(ref.nominationId) : undefined;
        // Withdrawn or erased nominations are gone; one of another person's is never shown.
        if (!ref || !n || Number(n.nominator_id) !== row.chatId) out.set(row.id, { skip: "nomination gone" });
        else if (n.status !== ref.status) out.set(row.id, { skip: "status changed" });
        else {
          const t = d.i18n.t(localeOf(row.locale));
          const text = t("scholarships-notify:status_changed", {
            student: h(n.student_name), programme: h(n.programme), year: n.year, status: h(t(`scholarships-notify:status.${n.status}`)), ...plain,
          });
          out.set(row.id, message(text, [[{ text: t("scholarships-notify:nomination_button"), callback_data: d.nominationButton(n.id) }]]));
        }
      }
      return out;
    },
  };
}
