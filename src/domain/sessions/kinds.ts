/**
 * The delivery kinds of learning sessions (issue 9): reminders 24 h and 1 h before, and notices
 * (cancelled, moved, a seat from the waiting list). Each render reads the sessions, centres and
 * sign-ups of its whole batch in one query and checks again, at send time, that the message still
 * holds: a row queued for a time the session no longer has, for a cancelled session, or for
 * someone who left or muted meanwhile is skipped, not sent.
 *
 * Muting: reminders respect the "sessions" topic (they only repeat what the person already knows).
 * Cancelled, moved and promoted notices always go to the people they were queued for, because they
 * change what the person signed up for; the engine still skips people who blocked the bot.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { DEFAULT_LOCALE, escapeHtml as h, isLocale, type I18n, type Locale, type TFunction } from "../../i18n.js";
import type { ClaimedDelivery, DeliveryKind, RenderOutcome } from "../delivery/types.js";
import { formatSessionTime, parseNoticeRef, parseReminderRef, SESSION_NOTICE_KIND, SESSION_REMINDER_KIND, SESSIONS_TOPIC } from "./model.js";

export interface SessionKindDeps {
  prisma: PrismaClient;
  i18n: I18n;
  /** Callback data of the button that opens the session's card. */
  cardButton: (sessionId: number) => string;
  /** Callback data of "cancel my seat" (also gives back a seat a promotion brought). */
  leaveButton: (sessionId: number) => string;
  /** Callback data of the mute button for a topic (the settings feature handles it). */
  mute: (topic: string) => string;
  /** Callback data of the map button (sendVenue), if the bot offers one. */
  mapButton?: (sessionId: number) => string;
}

type Button = { text: string; callback_data: string };

interface SessionView {
  title: string;
  state: string;
  startsAt: Date;
  demo: boolean;
  center: string;
  address: string;
  /** The person's sign-up: confirmed, waiting, walk_in, or null (never signed up, or left). */
  status: string | null;
  muted: boolean;
}

const plain = { interpolation: { escapeValue: false } } as const;
const localeOf = (l: string | null): Locale => (isLocale(l) ? l : DEFAULT_LOCALE);

/** The sessions of a batch as each recipient sees them: one query, never one per row. */
async function loadViews(prisma: PrismaClient, pairs: ReadonlyArray<{ chatId: number; sessionId: number }>): Promise<Map<string, SessionView>> {
  const unique = [...new Map(pairs.map((p) => [`${p.chatId}.${p.sessionId}`, p])).values()];
  if (unique.length === 0) return new Map();
  const rows = await prisma.$queryRawUnsafe<Array<{
    chat_id: bigint; session_id: number; title: string; state: string; starts_ms: number; demo: boolean;
    center: string; address: string; center_demo: boolean; status: string | null; muted: boolean;
  }>>(
    `SELECT x.chat_id, s.id AS session_id, s.title, s.state::text AS state,
            (EXTRACT(EPOCH FROM s.starts_at) * 1000)::float8 AS starts_ms, s.demo,
            c.name AS center, c.address, c.demo AS center_demo, su.status::text AS status,
            EXISTS (SELECT 1 FROM topic_mutes m WHERE m.user_id = x.chat_id AND m.topic = $3) AS muted
       FROM unnest($1::bigint[], $2::int[]) AS x(chat_id, session_id)
       JOIN learning_sessions s ON s.id = x.session_id
       JOIN learning_centers c ON c.id = s.center_id
       LEFT JOIN session_signups su ON su.session_id = s.id AND su.user_id = x.chat_id`,
    unique.map((p) => String(p.chatId)), unique.map((p) => p.sessionId), SESSIONS_TOPIC,
  );
  return new Map(rows.map((r) => [`${Number(r.chat_id)}.${r.session_id}`, {
    title: r.title, state: r.state, startsAt: new Date(r.starts_ms), demo: r.demo || r.center_demo,
    center: r.center, address: r.address, status: r.status, muted: r.muted,
  }]));
}

/** The values every session message shows, escaped for HTML once (passed with escapeValue: false). */
function values(t: TFunction, v: SessionView, locale: Locale) {
  return {
    title: (v.demo ? `${h(t("sessions-notify:demo_mark"))} ` : "") + h(v.title),
    time: h(formatSessionTime(v.startsAt, locale)),
    center: h(v.center),
    address: h(v.address),
    ...plain,
  };
}

const message = (text: string, keyboard: Button[][]): RenderOutcome => ({
  method: "sendMessage",
  payload: { text, parse_mode: "HTML", link_preview_options: { is_disabled: true }, ...(keyboard.length ? { reply_markup: { inline_keyboard: keyboard } } : {}) },
});

/** "session_reminder" (ref reminderRef): 24 h or 1 h before, to people still confirmed and not muted. */
export function sessionReminderKind(d: SessionKindDeps): DeliveryKind {
  return {
    kind: SESSION_REMINDER_KIND,
    priority: 2,
    async render(rows: readonly ClaimedDelivery[], env) {
      const out = new Map<string, RenderOutcome>();
      const parsed = rows.map((row) => ({ row, ref: parseReminderRef(row.refId) }));
      const views = await loadViews(d.prisma, parsed.flatMap((p) => (p.ref ? [{ chatId: p.row.chatId, sessionId: p.ref.sessionId }] : [])));
      const now = env.now().getTime();
      for (const { row, ref } of parsed) {
        const v = ref ? views.get(`${row.chatId}.${ref.sessionId}`) : undefined;
        if (!ref || !v) out.set(row.id, { skip: "session missing" });
        else if (v.state !== "scheduled") out.set(row.id, { skip: "session cancelled" });
        // The ref names the start it was queued for: a moved session has its own reminders.
        else if (Math.floor(v.startsAt.getTime() / 60_000) !== ref.startMinute) out.set(row.id, { skip: "session moved" });
        else if (v.startsAt.getTime() <= now) out.set(row.id, { skip: "session started" });
        else if (v.status !== "confirmed") out.set(row.id, { skip: "not signed up" });
        else if (v.muted) out.set(row.id, { skip: "muted" });
        else {
          const locale = localeOf(row.locale);
          const t = d.i18n.t(locale);
          const text = t("sessions-notify:reminder", { ...values(t, v, locale), left: h(t(`sessions-notify:left_${ref.slot}`)) });
          const first: Button[] = [{ text: t("sessions-notify:card_button"), callback_data: d.cardButton(ref.sessionId) }];
          if (d.mapButton) first.push({ text: t("sessions-notify:map_button"), callback_data: d.mapButton(ref.sessionId) });
          out.set(row.id, message(text, [
            first,
            [{ text: t("sessions-notify:leave_button"), callback_data: d.leaveButton(ref.sessionId) }],
            [{ text: t("settings:mute_button", { topic: t("sessions-notify:settings_topic"), ...plain }), callback_data: d.mute(SESSIONS_TOPIC) }],
          ]));
        }
      }
      return out;
    },
  };
}

/** "session_notice" (ref noticeRef): a session cancelled or moved, or a seat from the waiting list. */
export function sessionNoticeKind(d: SessionKindDeps): DeliveryKind {
  return {
    kind: SESSION_NOTICE_KIND,
    priority: 2,
    async render(rows: readonly ClaimedDelivery[], env) {
      const out = new Map<string, RenderOutcome>();
      const parsed = rows.map((row) => ({ row, ref: parseNoticeRef(row.refId) }));
      const views = await loadViews(d.prisma, parsed.flatMap((p) => (p.ref ? [{ chatId: p.row.chatId, sessionId: p.ref.sessionId }] : [])));
      const now = env.now().getTime();
      for (const { row, ref } of parsed) {
        const v = ref ? views.get(`${row.chatId}.${ref.sessionId}`) : undefined;
        if (!ref || !v) {
          out.set(row.id, { skip: "session missing" });
          continue;
        }
        const locale = localeOf(row.locale);
        const t = d.i18n.t(locale);
        const card: Button = { text: t("sessions-notify:card_button"), callback_data: d.cardButton(ref.sessionId) };
        if (ref.event === "cancelled") {
          // Told whatever became of their sign-up: the session they counted on is off.
          out.set(row.id, v.state === "cancelled" ? message(t("sessions-notify:cancelled", values(t, v, locale)), []) : { skip: "not cancelled" });
        } else if (v.state !== "scheduled") out.set(row.id, { skip: "session cancelled" });
        else if (v.startsAt.getTime() <= now) out.set(row.id, { skip: "session started" });
        else if (ref.event === "moved") {
          if (v.status !== "confirmed" && v.status !== "waiting") out.set(row.id, { skip: "not signed up" });
          else {
            const keyboard = v.status === "confirmed" ? [[card, { text: t("sessions-notify:leave_button"), callback_data: d.leaveButton(ref.sessionId) }]] : [[card]];
            out.set(row.id, message(t("sessions-notify:moved", values(t, v, locale)), keyboard));
          }
        } else if (v.status !== "confirmed") out.set(row.id, { skip: "no longer confirmed" });
        else {
          out.set(row.id, message(t("sessions-notify:promoted", values(t, v, locale)), [
            [{ text: t("sessions-notify:give_back_button"), callback_data: d.leaveButton(ref.sessionId) }, card],
          ]));
        }
      }
      return out;
    },
  };
}
