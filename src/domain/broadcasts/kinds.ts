import type { Broadcast } from "../../generated/prisma/client.js";
import { DEFAULT_LOCALE, isLocale, type Locale } from "../../i18n.js";
import type { ClaimedDelivery, DeliveryEnv, DeliveryKind, RenderedMessage, RenderOutcome } from "../delivery/types.js";
import { communeLabel, provinceLabel } from "../geo/labels.js";
import { audienceSchema, SENDER_BODIES, topicOf, type SenderBody } from "./audience.js";
import { AWAITING_APPROVAL, BROADCAST, BROADCAST_APPROVAL, BROADCAST_NOTICE, BROADCAST_REPORT, type BroadcastDeps } from "./broadcast-service.js";
import { audienceLines, etaMinutes, formatCount, formatVnDateTime, plainPreview, progressLine, senderLine } from "./format.js";
import { fillVariables, parseTelegramHtml, type VariableValues } from "./text.js";
import { PromptRenderer, QUIZ_PROMPT_SUMMARY, questionsOverview, resultsText, summaryMessage, unescapeHtml } from "./quiz-prompt.js";

/** The progress message is edited at most this often, across every process (a Redis key). */
export const PROGRESS_EVERY_MS = 3000;
const APPROVAL_PREVIEW_CHARS = 2500;

type Button = { text: string; callback_data: string };
const keyboard = (rows: Button[][]) => ({ inline_keyboard: rows });
const localeOf = (l: string | null): Locale => (isLocale(l) ? l : DEFAULT_LOCALE);
const bodyOf = (b: Pick<Broadcast, "senderBody">): SenderBody => ((SENDER_BODIES as readonly string[]).includes(b.senderBody) ? (b.senderBody as SenderBody) : "other");

export type BroadcastContent = Pick<Broadcast, "senderBody" | "senderProvinceCode" | "senderCommuneCode" | "text" | "mediaKind" | "mediaFileId">;

/**
 * One recipient's message, exactly as sent: the sender line, the text with their values, the mute
 * button; a photo or document carries it as its caption.
 */
export async function composeMessage(d: BroadcastDeps, b: BroadcastContent, values: VariableValues, locale: Locale, sender?: string): Promise<RenderedMessage> {
  const t = d.i18n.t(locale);
  const body = bodyOf(b);
  const line = sender ?? (await senderLine(d.geo, t, locale, body, b.senderProvinceCode, b.senderCommuneCode));
  const text = `${line}\n\n${fillVariables(b.text, values)}`;
  const reply_markup = muteKeyboard(d, b, locale);
  if (b.mediaKind === "photo" && b.mediaFileId) return { method: "sendPhoto", payload: { photo: b.mediaFileId, caption: text, parse_mode: "HTML", reply_markup } };
  if (b.mediaKind === "document" && b.mediaFileId) return { method: "sendDocument", payload: { document: b.mediaFileId, caption: text, parse_mode: "HTML", reply_markup } };
  return { method: "sendMessage", payload: { text, parse_mode: "HTML", reply_markup, link_preview_options: { is_disabled: true } } };
}

function muteKeyboard(d: BroadcastDeps, b: Pick<Broadcast, "senderBody">, locale: Locale) {
  const t = d.i18n.t(locale);
  const body = bodyOf(b);
  return keyboard([[{ text: t("broadcast:mute_button", { body: t(`broadcast:body.${body}`) }), callback_data: d.callbacks.mute(topicOf(body)) }]]);
}

function groupByRef(rows: readonly ClaimedDelivery[]): Map<string, ClaimedDelivery[]> {
  const byRef = new Map<string, ClaimedDelivery[]>();
  for (const r of rows) byRef.set(r.refId, [...(byRef.get(r.refId) ?? []), r]);
  return byRef;
}

function skipAll(out: Map<string, RenderOutcome>, rows: readonly ClaimedDelivery[], skip: string): void {
  for (const r of rows) out.set(r.id, { skip });
}

/** Broadcast ids are integers; a ref that is not one was not made by this module. */
function idOf(ref: string): number | undefined {
  const id = Number(ref.split("-")[0]);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The broadcasts a batch of rows points at, in one query (never one per row). */
async function broadcastsOf(d: BroadcastDeps, rows: readonly ClaimedDelivery[]): Promise<Map<number, Broadcast>> {
  const ids = [...new Set(rows.map((r) => idOf(r.refId)).filter((id): id is number => id !== undefined))];
  const found = ids.length ? await d.prisma.broadcast.findMany({ where: { id: { in: ids } } }) : [];
  return new Map(found.map((b) => [b.id, b]));
}

/** "broadcast": the announcement itself, one per recipient. */
export function broadcastKind(d: BroadcastDeps): DeliveryKind {
  // The broadcast row, read at most once a second per process while it is being sent: a stop
  // takes effect through the ledger (its rows are cancelled, so they are never claimed).
  const recent = new Map<number, { b: Broadcast | null; at: number }>();
  const load = async (id: number): Promise<Broadcast | null> => {
    const hit = recent.get(id);
    if (hit && Date.now() - hit.at < 1_000 && hit.b?.state === "sending") return hit.b;
    const b = await d.prisma.broadcast.findUnique({ where: { id } });
    recent.set(id, { b, at: Date.now() });
    if (recent.size > 100) recent.delete(recent.keys().next().value!);
    return b;
  };
  const prompts = new PromptRenderer(d);
  return {
    kind: BROADCAST,
    async render(rows, env) {
      const out = new Map<string, RenderOutcome>();
      for (const [ref, batch] of groupByRef(rows)) {
        const id = idOf(ref);
        const b = id ? await load(id) : null;
        if (!b) {
          skipAll(out, batch, "broadcast missing");
          continue;
        }
        if (b.state === "cancelled" || b.state === "rejected") {
          skipAll(out, batch, `broadcast ${b.state}`);
          continue;
        }
        if (b.state === "pending_approval") {
          // Released too early (a restart resumed held rows): held again, re-opened on approval.
          skipAll(out, batch, AWAITING_APPROVAL);
          continue;
        }
        if (b.state === "scheduled") {
          const { count } = await d.prisma.broadcast.updateMany({ where: { id: b.id, state: "scheduled" }, data: { state: "sending", startedAt: env.now() } });
          if (count === 1) d.logger.info({ broadcast: b.id, state: "sending" }, "broadcast state");
        }
        // One query for the batch: names and places for the variables, and mutes as of now
        // (place names come from the geo service's memory, not a join).
        const people = await d.prisma.$queryRawUnsafe<Array<{ chat_id: bigint; full_name: string | null; commune_code: string | null; province_code: string | null; muted: boolean }>>(
          `SELECT x.chat_id, c.full_name, c.commune_code, c.province_code,
                  EXISTS (SELECT 1 FROM topic_mutes m WHERE m.user_id = x.chat_id AND m.topic = $2) AS muted
             FROM unnest($1::bigint[]) AS x(chat_id)
             LEFT JOIN learning_citizens c ON c.user_id = x.chat_id`,
          batch.map((r) => String(r.chatId)), topicOf(bodyOf(b)),
        );
        const byChat = new Map(people.map((p) => [Number(p.chat_id), p]));
        const senders = new Map<Locale, string>();
        const senderOf = async (locale: Locale) => {
          let sender = senders.get(locale);
          if (sender === undefined) {
            sender = await senderLine(d.geo, d.i18n.t(locale), locale, bodyOf(b), b.senderProvinceCode, b.senderCommuneCode);
            senders.set(locale, sender);
          }
          return sender;
        };
        const quizRows: ClaimedDelivery[] = [];
        for (const row of batch) {
          const person = byChat.get(row.chatId);
          if (!person?.full_name) {
            out.set(row.id, { skip: "erased" });
            continue;
          }
          if (person.muted) {
            out.set(row.id, { skip: "muted" });
            continue;
          }
          if (b.quizQuestionIds.length > 0) {
            quizRows.push(row);
            continue;
          }
          const locale = localeOf(row.locale);
          const sender = await senderOf(locale);
          const commune = person.commune_code ? await d.geo.getCommune(person.commune_code) : undefined;
          const province = person.province_code ? await d.geo.getProvince(person.province_code) : undefined;
          const values = {
            name: person.full_name,
            commune: commune ? communeLabel(commune, locale) : "",
            province: province ? provinceLabel(province, locale, "full") : "",
          };
          out.set(row.id, await composeMessage(d, b, values, locale, sender));
        }
        if (quizRows.length > 0) {
          await prompts.render(b, quizRows, async (l) => unescapeHtml(await senderOf(l)), env, out, (l) => muteKeyboard(d, b, l));
        }
      }
      return out;
    },
    onSent: (sent, env) => prompts.onSent(sent, env),
    async onRecorded(refIds, env) {
      for (const ref of refIds) {
        const id = idOf(ref);
        if (id) await progress(d, id, env);
      }
    },
  };
}

/** The author's progress message, edited in place; the end of a broadcast, recorded once. */
async function progress(d: BroadcastDeps, id: number, env: DeliveryEnv): Promise<void> {
  const ref = String(id);
  if (!(await d.ledger.hasOpen(BROADCAST, ref))) {
    const now = env.now();
    // Exactly once across processes: only the update that moves it out of "sending" reports.
    const done = await d.prisma.$queryRawUnsafe<Array<{ id: number }>>(
      `UPDATE broadcasts SET state = 'done', finished_at = $2::timestamp WHERE id = $1 AND state = 'sending' RETURNING id`,
      id, now.toISOString().replace("Z", ""),
    );
    if (done.length === 0) return;
    const b = await d.prisma.broadcast.findUniqueOrThrow({ where: { id } });
    const counts = await d.ledger.counts(BROADCAST, ref);
    d.logger.info({ broadcast: id, state: "done", sent: counts.sent, failed: counts.failed, blocked: counts.blocked }, "broadcast state");
    await editProgress(d, b, env, undefined);
    if (b.authorId) await d.deliveries.schedule(BROADCAST_REPORT, ref, [Number(b.authorId)], now);
    return;
  }
  const b = await d.prisma.broadcast.findUnique({ where: { id } });
  if (!b?.progressChatId || b.state !== "sending") return;
  if ((await d.redis.set(`bc:progress:${id}`, "1", "PX", PROGRESS_EVERY_MS, "NX")) !== "OK") return;
  await editProgress(d, b, env, d.callbacks.cancel(id));
}

/** The progress text: "📤 Thông báo #12" and "1 240 / 5 000 · ✓ 1 230 · ✗ 10 · còn ~3 phút". */
export async function progressText(d: BroadcastDeps, b: Broadcast, locale: Locale, now: Date): Promise<string> {
  const t = d.i18n.t(locale);
  const counts = await d.ledger.counts(BROADCAST, String(b.id));
  const line = progressLine(t, locale, counts, b.state === "sending" ? etaMinutes(counts, b.startedAt, now) : undefined);
  const ns = b.quizQuestionIds.length > 0 ? "quiz-prompt" : "broadcast";
  const state = b.state === "done" ? "done" : b.state === "cancelled" ? "cancelled" : b.state === "sending" ? "sending" : "waiting";
  return t(`${ns}:progress.${ns === "broadcast" && state !== "done" ? "sending" : state}`, { id: b.id, line, interpolation: { escapeValue: false } });
}

async function editProgress(d: BroadcastDeps, b: Broadcast, env: DeliveryEnv, cancelData: string | undefined): Promise<void> {
  if (!b.progressChatId || !b.progressMessageId) return;
  const locale = localeOf((await d.prisma.user.findUnique({ where: { id: b.progressChatId }, select: { locale: true } }))?.locale ?? null);
  const t = d.i18n.t(locale);
  const progress = await progressText(d, b, locale, env.now());
  const quiz = b.quizQuestionIds.length > 0;
  const text = quiz ? await resultsText(d, b, locale, progress) : progress;
  const rows: Button[][] = [];
  if (cancelData) rows.push([{ text: t("broadcast:cancel_button"), callback_data: cancelData }]);
  // A quiz prompt's answers keep coming after the last send: the officer refreshes them here.
  if (quiz) rows.push([{ text: t("quiz-prompt:results_button"), callback_data: d.callbacks.results(b.id) }]);
  const reply_markup = keyboard(rows);
  await env
    .call("editMessageText", { chat_id: Number(b.progressChatId), message_id: b.progressMessageId, text, parse_mode: "HTML", reply_markup })
    // Unchanged text, or a message the author deleted: progress is a courtesy, never a failure.
    .catch((err: unknown) => d.logger.debug({ err, broadcast: b.id }, "progress message not edited"));
}

/** "broadcast_report": the final numbers to the author, with the failures' CSV on request. */
export function reportKind(d: BroadcastDeps): DeliveryKind {
  return {
    kind: BROADCAST_REPORT,
    async render(rows) {
      const out = new Map<string, RenderOutcome>();
      const broadcasts = await broadcastsOf(d, rows);
      for (const row of rows) {
        const b = broadcasts.get(idOf(row.refId) ?? 0);
        if (!b) {
          out.set(row.id, { skip: "broadcast missing" });
          continue;
        }
        out.set(row.id, await reportMessage(d, b, localeOf(row.locale)));
      }
      return out;
    },
  };
}

export async function reportMessage(d: BroadcastDeps, b: Broadcast, locale: Locale): Promise<RenderedMessage> {
  const t = d.i18n.t(locale);
  const c = await d.ledger.counts(BROADCAST, String(b.id));
  const n = (x: number) => formatCount(x, locale);
  const text = t("broadcast:report.text", {
    id: b.id, total: n(c.total), sent: n(c.sent), blocked: n(c.blocked), failed: n(c.failed), cancelled: n(c.cancelled), ambiguous: n(c.ambiguous),
  });
  const rows = c.failed + c.blocked > 0 ? [[{ text: t("broadcast:report.csv_button"), callback_data: d.callbacks.csv(b.id) }]] : [];
  return { method: "sendMessage", payload: { text, parse_mode: "HTML", reply_markup: keyboard(rows) } };
}

/** "broadcast_approval": a request to approve, with a preview, the audience and the count. */
export function approvalKind(d: BroadcastDeps): DeliveryKind {
  return {
    kind: BROADCAST_APPROVAL,
    async render(rows) {
      const out = new Map<string, RenderOutcome>();
      for (const [ref, batch] of groupByRef(rows)) {
        const id = idOf(ref);
        const b = id ? await d.prisma.broadcast.findUnique({ where: { id } }) : null;
        if (!b || b.state !== "pending_approval") {
          skipAll(out, batch, "decided");
          continue;
        }
        const byLocale = new Map<Locale, RenderedMessage>();
        for (const row of batch) {
          const locale = localeOf(row.locale);
          let message = byLocale.get(locale);
          if (!message) {
            message = await approvalMessage(d, b, locale);
            byLocale.set(locale, message);
          }
          out.set(row.id, message);
        }
      }
      return out;
    },
  };
}

export async function approvalMessage(d: BroadcastDeps, b: Broadcast, locale: Locale): Promise<RenderedMessage> {
  const t = d.i18n.t(locale);
  const audience = audienceSchema.parse(b.audience);
  const parsed = parseTelegramHtml(b.text);
  const text = t("broadcast:approval.text", {
    id: b.id,
    sender: await senderLine(d.geo, t, locale, bodyOf(b), b.senderProvinceCode, b.senderCommuneCode),
    audience: (await audienceLines(d.geo, t, locale, audience)).join("\n"),
    count: formatCount(b.recipientCount, locale),
    when: b.scheduledAt ? formatVnDateTime(b.scheduledAt, locale) : t("broadcast:approval.when_approved"),
    media: b.mediaKind ? t(`broadcast:approval.media_${b.mediaKind}`) : "",
    preview: b.quizQuestionIds.length > 0 ? await quizApprovalPreview(d, b, locale) : plainPreview(parsed.ok ? parsed.text : b.text, APPROVAL_PREVIEW_CHARS),
    interpolation: { escapeValue: false },
  });
  const reply_markup = keyboard([[
    { text: t("broadcast:approval.approve"), callback_data: d.callbacks.approve(b.id) },
    { text: t("broadcast:approval.reject"), callback_data: d.callbacks.reject(b.id) },
  ]]);
  return { method: "sendMessage", payload: { text, parse_mode: "HTML", reply_markup } };
}

/** What an approver reads of a quiz prompt: the intro, the close time, the questions and their answers. */
async function quizApprovalPreview(d: BroadcastDeps, b: Broadcast, locale: Locale): Promise<string> {
  const t = d.i18n.t(locale);
  const head = t("quiz-prompt:approval_head", {
    count: b.quizQuestionIds.length, when: b.quizClosesAt ? formatVnDateTime(b.quizClosesAt, locale) : "–", intro: b.text.trim() || t("quiz-prompt:default_intro"),
  });
  return `${head}\n${await questionsOverview(d, b.quizQuestionIds, locale)}`;
}

/** "quiz_prompt_summary": a quiz prompt's final figures to its author at the close time. */
export function summaryKind(d: BroadcastDeps): DeliveryKind {
  return {
    kind: QUIZ_PROMPT_SUMMARY,
    async render(rows) {
      const out = new Map<string, RenderOutcome>();
      const broadcasts = await broadcastsOf(d, rows);
      for (const row of rows) {
        const b = broadcasts.get(idOf(row.refId) ?? 0);
        if (!b || b.quizQuestionIds.length === 0) out.set(row.id, { skip: "broadcast missing" });
        else if (b.state === "cancelled" || b.state === "rejected" || b.state === "pending_approval") out.set(row.id, { skip: `broadcast ${b.state}` });
        else out.set(row.id, await summaryMessage(d, b, localeOf(row.locale)));
      }
      return out;
    },
  };
}

/** "broadcast_notice": tells the author their broadcast was approved or rejected (ref "12-approved"). */
export function noticeKind(d: BroadcastDeps): DeliveryKind {
  return {
    kind: BROADCAST_NOTICE,
    async render(rows) {
      const out = new Map<string, RenderOutcome>();
      const broadcasts = await broadcastsOf(d, rows);
      for (const row of rows) {
        const outcome = row.refId.endsWith("-rejected") ? "rejected" : "approved";
        const b = broadcasts.get(idOf(row.refId) ?? 0);
        if (!b) {
          out.set(row.id, { skip: "broadcast missing" });
          continue;
        }
        const locale = localeOf(row.locale);
        const t = d.i18n.t(locale);
        const when = b.scheduledAt && b.state === "scheduled" ? formatVnDateTime(b.scheduledAt, locale) : undefined;
        const text = t(`broadcast:notice.${outcome}${outcome === "approved" && when ? "_scheduled" : ""}`, { id: b.id, when });
        out.set(row.id, { method: "sendMessage", payload: { text, parse_mode: "HTML" } });
      }
      return out;
    },
  };
}

/** Every kind this module owns, for `deliveryKinds.register`. */
export function broadcastKinds(d: BroadcastDeps): DeliveryKind[] {
  return [broadcastKind(d), approvalKind(d), noticeKind(d), reportKind(d), summaryKind(d)];
}
