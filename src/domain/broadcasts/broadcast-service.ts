import type { Redis } from "ioredis";
import { z } from "zod";
import type { Broadcast, PrismaClient } from "../../generated/prisma/client.js";
import type { I18n, Locale } from "../../i18n.js";
import { LOCALES } from "../../i18n.js";
import type { Logger } from "../../logger.js";
import type { Ledger } from "../delivery/ledger.js";
import type { DeliveryCounts, DeliveryScheduler } from "../delivery/types.js";
import type { GeoService } from "../geo/geo-service.js";
import { communeLabel, provinceLabel } from "../geo/labels.js";
import { roleAtLeast, scopeOf, type Access, type UserService } from "../users/user-service.js";
import { audienceOfScope, audienceSchema, bodyOfAffiliation, needsApproval, recipientsSql, scopeCovers, SENDER_BODIES, topicOf, type Audience, type SenderBody } from "./audience.js";
import { toCsv } from "./csv.js";
import { placeText, senderLine } from "./format.js";
import { composeMessage, progressText } from "./kinds.js";
import { pollMessage } from "../quizzes/quiz-rounds.js";
import type { RenderedMessage } from "../delivery/types.js";
import type { Scope } from "../users/user-service.js";
import { checkBroadcastText } from "./text.js";
import { QUIZ_INTRO_MAX, QUIZ_MAX_OPEN_MS, QUIZ_MIN_OPEN_MS, QUIZ_PROMPT_SUMMARY, introOf, promptQuestion, questionsOverview, quizDraftSchema, quizTopics, resultsText, SUMMARY_DELAY_MS, topicQuestions, unescapeHtml, usableQuestions, type QuestionSource } from "./quiz-prompt.js";

export const BROADCAST = "broadcast";
export const BROADCAST_APPROVAL = "broadcast_approval";
export const BROADCAST_NOTICE = "broadcast_notice";
export const BROADCAST_REPORT = "broadcast_report";
/** Why frozen rows of a broadcast still waiting for approval were held back (re-opened on approval). */
export const AWAITING_APPROVAL = "awaiting approval";

/** Callback data of the buttons the delivered messages carry (built by the bot's codecs). */
export interface BroadcastCallbacks {
  approve(id: number): string;
  reject(id: number): string;
  cancel(id: number): string;
  csv(id: number): string;
  mute(topic: string): string;
  /** A quiz prompt's figures, refreshed in place on the message the button is on. */
  results(id: number): string;
}

export interface BroadcastDeps {
  prisma: PrismaClient;
  redis: Redis;
  deliveries: DeliveryScheduler;
  ledger: Ledger;
  users: UserService;
  geo: GeoService;
  i18n: I18n;
  logger: Logger;
  now: () => Date;
  /** More recipients than this need a second person's approval (BROADCAST_APPROVAL_THRESHOLD). */
  approvalThreshold: number;
  adminIds: ReadonlySet<string>;
  callbacks: BroadcastCallbacks;
  /** The quiz engine's questions (QuizRounds), for quiz prompts. */
  quizRounds: QuestionSource;
}

export const mediaSchema = z.object({ kind: z.enum(["photo", "document"]), fileId: z.string().min(1).max(200) });
export type Media = z.infer<typeof mediaSchema>;

export const draftSchema = z.object({
  senderBody: z.enum(SENDER_BODIES),
  audience: audienceSchema,
  text: z.string().max(20_000),
  media: mediaSchema.optional(),
  /** ISO instant; absent: now. */
  scheduledAt: z.string().datetime().optional(),
  /** A quiz prompt: these questions as quiz polls; `text` is then the short plain intro ("" = the default). */
  quiz: quizDraftSchema.optional(),
});
export type Draft = z.infer<typeof draftSchema>;

export type CreateResult =
  | { ok: true; id: number; state: "pending_approval" | "scheduled" | "sending"; recipients: number; approvers: number }
  | { ok: false; reason: "forbidden" | "out_of_scope" | "invalid" | "past" | "no_recipients" | "quiz_questions" | "quiz_close" }
  | { ok: false; reason: "invalid_text"; key: string; params: Record<string, string | number> };

export type DecisionResult =
  | { ok: true; state: string }
  | { ok: false; reason: "forbidden" | "not_found" | "own" | "out_of_scope" | "not_pending" };

export type CancelResult =
  | { ok: true; cancelled: number }
  | { ok: false; reason: "forbidden" | "not_found" | "not_cancellable" };

export interface BroadcastSummary {
  id: number;
  state: string;
  createdAt: Date;
  scheduledAt: Date | null;
  recipients: number;
  counts: DeliveryCounts;
  quiz: boolean;
}

/** Texts the bot adds before a broadcast's own: the sender line in the longest language, and "\n\n". */
const SENDER_SEPARATOR = 2;
const ts = (d: Date) => d.toISOString().replace("Z", "");

class Rollback extends Error {}

/**
 * Officers' broadcasts: validated, counted and frozen into the delivery ledger in one transaction,
 * approved by a second person when the audience is large, released to the delivery engine.
 * Every permission is read from the database at the moment of the action.
 */
export class BroadcastService {
  constructor(private readonly d: BroadcastDeps) {}

  get approvalThreshold(): number {
    return this.d.approvalThreshold;
  }

  /** Where a composer starts: their role, scope, starting audience and the body they belong to. */
  async composerStart(authorId: string): Promise<{ ok: false } | { ok: true; admin: boolean; scope: Scope; audience: Audience; body?: SenderBody }> {
    const access = await this.d.users.access(authorId);
    if (!roleAtLeast(access.role, "officer")) return { ok: false };
    const citizen = await this.d.prisma.learningCitizen.findUnique({ where: { userId: BigInt(authorId) }, select: { affiliation: true } });
    const body = bodyOfAffiliation(citizen?.affiliation);
    return { ok: true, admin: access.role === "admin", scope: access.scope, audience: audienceOfScope(access), ...(body ? { body } : {}) };
  }

  /** The count a composer sees as the filters change; the role and scope are checked every time. */
  async countFor(authorId: string, audience: Audience, body: SenderBody): Promise<{ ok: true; count: number } | { ok: false; reason: "forbidden" | "out_of_scope" | "invalid" }> {
    const parsed = audienceSchema.safeParse(audience);
    if (!parsed.success || !(await this.placeValid(parsed.data))) return { ok: false, reason: "invalid" };
    const access = await this.d.users.access(authorId);
    if (!roleAtLeast(access.role, "officer")) return { ok: false, reason: "forbidden" };
    if (!scopeCovers(access, parsed.data)) {
      this.d.logger.warn({ user: authorId }, "refused an audience outside the officer's scope");
      return { ok: false, reason: "out_of_scope" };
    }
    return { ok: true, count: await this.count(parsed.data, body) };
  }

  /** The message exactly as recipients will get it, filled with the composer's own details. */
  async preview(authorId: string, draft: Pick<Draft, "senderBody" | "audience" | "text" | "media">, locale: Locale): Promise<RenderedMessage> {
    const access = await this.d.users.access(authorId);
    const place = this.senderPlace(access, draft.audience);
    return composeMessage(this.d, {
      senderBody: draft.senderBody, senderProvinceCode: place.provinceCode, senderCommuneCode: place.communeCode,
      text: draft.text, mediaKind: draft.media?.kind ?? null, mediaFileId: draft.media?.fileId ?? null,
    }, await this.previewValues(authorId, locale), locale);
  }

  /** "Tỉnh Lào Cai" / "Xã Lũng Cú, Tuyên Quang" / "Toàn quốc", for the confirmation (unescaped). */
  audiencePlace(audience: Audience, locale: Locale): Promise<string> {
    return placeText(this.d.geo, this.d.i18n.t(locale), locale, audience.provinceCode, audience.communeCode);
  }

  /** Recipients an audience has right now (unreachable and muted people excluded). */
  async count(audience: Audience, body: SenderBody): Promise<number> {
    const q = recipientsSql(audience, topicOf(body));
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ n: number }>>(`SELECT count(*)::int AS n ${q.from}`, ...q.params);
    return rows[0]?.n ?? 0;
  }

  /** Where the sender line says a broadcast comes from: the officer's scope (an admin's: the audience). */
  senderPlace(access: Access, audience: Audience): { provinceCode: string | null; communeCode: string | null } {
    const s = access.role === "admin" && !access.scope.provinceCode ? audience : access.scope;
    return { provinceCode: s.provinceCode ?? null, communeCode: s.provinceCode ? (s.communeCode ?? null) : null };
  }

  /** Characters the sender line can take in any language, so the text's limit holds for everyone. */
  async senderReserve(body: SenderBody, place: { provinceCode: string | null; communeCode: string | null }): Promise<number> {
    let longest = 0;
    for (const locale of LOCALES) {
      const line = await senderLine(this.d.geo, this.d.i18n.t(locale), locale, body, place.provinceCode, place.communeCode);
      longest = Math.max(longest, line.length);
    }
    return longest + SENDER_SEPARATOR;
  }

  /** Checks a text for the composer (same rules as create). */
  async checkText(authorId: string, body: SenderBody, audience: Audience, text: string, media: boolean) {
    const access = await this.d.users.access(authorId);
    return checkBroadcastText(text, { media, reserve: await this.senderReserve(body, this.senderPlace(access, audience)) });
  }

  /** A commune must lie in the audience's province (a forged pair is refused). */
  private async placeValid(a: Audience): Promise<boolean> {
    if (a.provinceCode && !(await this.d.geo.getProvince(a.provinceCode))) return false;
    if (!a.communeCode) return true;
    const commune = await this.d.geo.getCommune(a.communeCode);
    return commune?.provinceCode === a.provinceCode;
  }

  async create(authorId: string, input: Draft): Promise<CreateResult> {
    const parsed = draftSchema.safeParse(input);
    if (!parsed.success) return { ok: false, reason: "invalid" };
    const draft = parsed.data;
    const access = await this.d.users.access(authorId);
    if (!roleAtLeast(access.role, "officer")) {
      this.d.logger.warn({ user: authorId }, "refused a broadcast from someone who is not an officer");
      return { ok: false, reason: "forbidden" };
    }
    if (!(await this.placeValid(draft.audience))) return { ok: false, reason: "invalid" };
    if (!scopeCovers(access, draft.audience)) {
      this.d.logger.warn({ user: authorId }, "refused a broadcast outside the officer's scope");
      return { ok: false, reason: "out_of_scope" };
    }
    const place = this.senderPlace(access, draft.audience);
    const quiz = draft.quiz;
    if (!quiz) {
      const text = checkBroadcastText(draft.text, { media: Boolean(draft.media), reserve: await this.senderReserve(draft.senderBody, place) });
      if (!text.ok) return { ok: false, reason: "invalid_text", key: text.key, params: text.params };
    } else if (draft.media || draft.text.trim().length > QUIZ_INTRO_MAX || /[\r\n]/.test(draft.text)) {
      return { ok: false, reason: "invalid" };
    }
    const now = this.d.now();
    const scheduledAt = draft.scheduledAt ? new Date(draft.scheduledAt) : undefined;
    if (scheduledAt && scheduledAt.getTime() <= now.getTime()) return { ok: false, reason: "past" };

    const due = scheduledAt ?? now;
    let closesAt: Date | undefined;
    if (quiz) {
      const usable = await usableQuestions(this.d, quiz.questionIds, this.questionProvince(access, draft.audience));
      if (usable.size !== quiz.questionIds.length) {
        this.d.logger.warn({ user: authorId }, "refused a quiz prompt with questions that are retired or of another province");
        return { ok: false, reason: "quiz_questions" };
      }
      closesAt = quiz.closesAt ? new Date(quiz.closesAt) : new Date(due.getTime() + quiz.closeHours! * 3600_000);
      const open = closesAt.getTime() - due.getTime();
      if (open < QUIZ_MIN_OPEN_MS || open > QUIZ_MAX_OPEN_MS) return { ok: false, reason: "quiz_close" };
    }
    let frozen: { id: number; recipients: number; approval: boolean };
    try {
      frozen = await this.d.prisma.$transaction(async (tx) => {
        const b = await tx.broadcast.create({
          data: {
            authorId: BigInt(authorId), senderBody: draft.senderBody, senderProvinceCode: place.provinceCode, senderCommuneCode: place.communeCode,
            audience: draft.audience, text: quiz ? draft.text.trim() : draft.text, mediaKind: draft.media?.kind ?? null, mediaFileId: draft.media?.fileId ?? null,
            state: "pending_approval", scheduledAt: scheduledAt ?? null, recipientCount: 0, createdAt: now,
            quizQuestionIds: quiz?.questionIds ?? [], quizClosesAt: closesAt ?? null,
          },
        });
        // The recipient list is frozen by one INSERT … SELECT: no row travels through Node.
        const q = recipientsSql(draft.audience, topicOf(draft.senderBody), 3);
        const recipients = await tx.$executeRawUnsafe(
          `INSERT INTO deliveries (kind, ref_id, chat_id, due_at) SELECT '${BROADCAST}', $1, u.telegram_id, $2::timestamp ${q.from} ON CONFLICT DO NOTHING`,
          String(b.id), ts(due), ...q.params,
        );
        if (recipients === 0) throw new Rollback();
        const approval = needsApproval(draft.audience, recipients, this.d.approvalThreshold);
        if (approval) {
          // Held until approved: if the engine resumed them early (a restart), nothing goes out.
          await tx.$executeRawUnsafe(`UPDATE deliveries SET state = 'cancelled', error = $2 WHERE kind = '${BROADCAST}' AND ref_id = $1 AND state = 'queued'`, String(b.id), AWAITING_APPROVAL);
        }
        await tx.broadcast.update({ where: { id: b.id }, data: { recipientCount: recipients, needsApproval: approval } });
        return { id: b.id, recipients, approval };
      }, { timeout: 60_000 });
    } catch (e) {
      if (e instanceof Rollback) return { ok: false, reason: "no_recipients" };
      throw e;
    }
    this.d.logger.info({ broadcast: frozen.id, recipients: frozen.recipients, needsApproval: frozen.approval, quiz: Boolean(quiz) }, "broadcast created");
    // A quiz prompt's summary waits for its close time; a rejection or a stop cancels it.
    if (closesAt) await this.d.deliveries.schedule(QUIZ_PROMPT_SUMMARY, String(frozen.id), [Number(authorId)], new Date(closesAt.getTime() + SUMMARY_DELAY_MS));
    if (frozen.approval) {
      const approvers = await this.approvers(frozen.id);
      if (approvers.length > 0) await this.d.deliveries.schedule(BROADCAST_APPROVAL, String(frozen.id), approvers, now);
      this.d.logger.info({ broadcast: frozen.id, state: "pending_approval", approvers: approvers.length }, "broadcast state");
      return { ok: true, id: frozen.id, state: "pending_approval", recipients: frozen.recipients, approvers: approvers.length };
    }
    const state = await this.start(frozen.id, scheduledAt);
    return { ok: true, id: frozen.id, state, recipients: frozen.recipients, approvers: 0 };
  }

  /** Hands a broadcast that may go to the engine: now, or at its time. */
  private async start(id: number, scheduledAt: Date | undefined): Promise<"scheduled" | "sending"> {
    const now = this.d.now();
    const later = scheduledAt && scheduledAt.getTime() > now.getTime();
    const state = later ? "scheduled" : "sending";
    await this.d.prisma.broadcast.update({ where: { id }, data: { state, ...(later ? {} : { startedAt: now }) } });
    if (!later) await this.d.ledger.reschedule(BROADCAST, String(id), now);
    await this.d.deliveries.release(BROADCAST, String(id), later ? scheduledAt : now);
    this.d.logger.info({ broadcast: id, state }, "broadcast state");
    return state;
  }

  /** Chats of everyone who may approve: admins and officers covering the audience, never the author. */
  async approvers(id: number): Promise<number[]> {
    const b = await this.d.prisma.broadcast.findUnique({ where: { id } });
    if (!b) return [];
    const audience = audienceSchema.parse(b.audience);
    const author = b.authorId?.toString();
    const candidates = await this.d.prisma.user.findMany({
      where: { OR: [{ role: "admin" }, ...(audience.provinceCode ? [{ role: "officer" as const, scopeProvinceCode: audience.provinceCode }] : [])] },
      select: { id: true, role: true, scopeProvinceCode: true, scopeCommuneCode: true, scopeUnit: true },
    });
    const ids = new Set<string>([...this.d.adminIds]);
    for (const u of candidates) if (scopeCovers({ role: u.role, scope: scopeOf(u) }, audience)) ids.add(u.id.toString());
    if (author) ids.delete(author);
    return [...ids].map(Number);
  }

  private async decisionCheck(id: number, byId: string): Promise<{ ok: false; reason: "forbidden" | "not_found" | "own" | "out_of_scope" | "not_pending" } | { ok: true; b: Broadcast }> {
    const access = await this.d.users.access(byId);
    if (!roleAtLeast(access.role, "officer")) return { ok: false, reason: "forbidden" };
    const b = await this.d.prisma.broadcast.findUnique({ where: { id } });
    if (!b) return { ok: false, reason: "not_found" };
    if (b.authorId?.toString() === byId) return { ok: false, reason: "own" };
    if (!scopeCovers(access, audienceSchema.parse(b.audience))) return { ok: false, reason: "out_of_scope" };
    if (b.state !== "pending_approval") return { ok: false, reason: "not_pending" };
    return { ok: true, b };
  }

  async approve(id: number, approverId: string): Promise<DecisionResult> {
    const check = await this.decisionCheck(id, approverId);
    if (!check.ok) {
      if (check.reason !== "not_pending") this.d.logger.warn({ broadcast: id, user: approverId, reason: check.reason }, "refused a broadcast approval");
      return check;
    }
    const now = this.d.now();
    const taken = await this.d.prisma.$transaction(async (tx) => {
      const { count } = await tx.broadcast.updateMany({ where: { id, state: "pending_approval" }, data: { approvedById: BigInt(approverId), approvedAt: now } });
      if (count !== 1) return false;
      await tx.$executeRawUnsafe(`UPDATE deliveries SET state = 'queued', error = NULL WHERE kind = '${BROADCAST}' AND ref_id = $1 AND state = 'cancelled' AND error = $2`, String(id), AWAITING_APPROVAL);
      await tx.auditLog.create({ data: { actorId: BigInt(approverId), action: "broadcast_approved", detail: { broadcastId: id }, at: now } });
      return true;
    });
    if (!taken) return { ok: false, reason: "not_pending" };
    const state = await this.start(id, check.b.scheduledAt ?? undefined);
    await this.d.deliveries.cancel(BROADCAST_APPROVAL, String(id), "decided");
    if (check.b.authorId) await this.d.deliveries.schedule(BROADCAST_NOTICE, `${id}-approved`, [Number(check.b.authorId)], now);
    return { ok: true, state };
  }

  async reject(id: number, approverId: string, reason?: string): Promise<DecisionResult> {
    const check = await this.decisionCheck(id, approverId);
    if (!check.ok) {
      if (check.reason !== "not_pending") this.d.logger.warn({ broadcast: id, user: approverId, reason: check.reason }, "refused a broadcast rejection");
      return check;
    }
    const now = this.d.now();
    const taken = await this.d.prisma.$transaction(async (tx) => {
      const { count } = await tx.broadcast.updateMany({ where: { id, state: "pending_approval" }, data: { state: "rejected", finishedAt: now } });
      if (count !== 1) return false;
      await tx.auditLog.create({ data: { actorId: BigInt(approverId), action: "broadcast_rejected", detail: { broadcastId: id, reason: reason?.slice(0, 500) ?? null }, at: now } });
      return true;
    });
    if (!taken) return { ok: false, reason: "not_pending" };
    this.d.logger.info({ broadcast: id, state: "rejected" }, "broadcast state");
    await this.d.deliveries.cancel(BROADCAST, String(id), "rejected");
    await this.d.deliveries.cancel(QUIZ_PROMPT_SUMMARY, String(id), "rejected");
    await this.d.deliveries.cancel(BROADCAST_APPROVAL, String(id), "decided");
    if (check.b.authorId) await this.d.deliveries.schedule(BROADCAST_NOTICE, `${id}-rejected`, [Number(check.b.authorId)], now);
    return { ok: true, state: "rejected" };
  }

  /** Whether this person may see and stop this broadcast: its author, or an officer or admin covering it. */
  private async mayManage(b: Broadcast, byId: string): Promise<boolean> {
    if (b.authorId?.toString() === byId) return true;
    return scopeCovers(await this.d.users.access(byId), audienceSchema.parse(b.audience));
  }

  async cancel(id: number, byId: string): Promise<CancelResult> {
    const b = await this.d.prisma.broadcast.findUnique({ where: { id } });
    if (!b) return { ok: false, reason: "not_found" };
    if (!(await this.mayManage(b, byId))) {
      this.d.logger.warn({ broadcast: id, user: byId }, "refused to cancel a broadcast of someone else");
      return { ok: false, reason: "forbidden" };
    }
    const now = this.d.now();
    const { count } = await this.d.prisma.broadcast.updateMany({
      where: { id, state: { in: ["pending_approval", "scheduled", "sending"] } },
      data: { state: "cancelled", finishedAt: now },
    });
    if (count !== 1) return { ok: false, reason: "not_cancellable" };
    await this.d.prisma.auditLog.create({ data: { actorId: BigInt(byId), action: "broadcast_cancelled", detail: { broadcastId: id }, at: now } });
    this.d.logger.info({ broadcast: id, state: "cancelled" }, "broadcast state");
    const cancelled = await this.d.deliveries.cancel(BROADCAST, String(id), "cancelled");
    await this.d.deliveries.cancel(QUIZ_PROMPT_SUMMARY, String(id), "cancelled");
    await this.d.deliveries.cancel(BROADCAST_APPROVAL, String(id), "decided");
    // Rows held for approval were cancelled already; they count as cancelled too.
    await this.d.prisma.$executeRawUnsafe(`UPDATE deliveries SET error = 'cancelled' WHERE kind = '${BROADCAST}' AND ref_id = $1 AND error = $2`, String(id), AWAITING_APPROVAL);
    return { ok: true, cancelled };
  }

  /** The author's recent broadcasts, newest first, with the ledger's counts. */
  async list(authorId: string, limit = 10): Promise<BroadcastSummary[]> {
    const rows = await this.d.prisma.broadcast.findMany({ where: { authorId: BigInt(authorId) }, orderBy: { id: "desc" }, take: limit });
    return Promise.all(rows.map(async (b) => ({
      id: b.id, state: b.state, createdAt: b.createdAt, scheduledAt: b.scheduledAt, recipients: b.recipientCount,
      counts: await this.d.ledger.counts(BROADCAST, String(b.id)),
      quiz: b.quizQuestionIds.length > 0,
    })));
  }

  async get(id: number): Promise<Broadcast | null> {
    return this.d.prisma.broadcast.findUnique({ where: { id } });
  }

  /** The message the author watches: edited in place with the progress. */
  async setProgressMessage(id: number, authorId: string, chatId: number, messageId: number): Promise<void> {
    await this.d.prisma.broadcast.updateMany({ where: { id, authorId: BigInt(authorId) }, data: { progressChatId: BigInt(chatId), progressMessageId: messageId } });
  }

  /**
   * Failed and blocked recipients with Telegram's reasons, as CSV, for the author or an officer
   * covering the broadcast. Registration numbers identify people without names or phones.
   */
  async failuresCsv(id: number, byId: string): Promise<string | undefined> {
    const b = await this.d.prisma.broadcast.findUnique({ where: { id } });
    if (!b || !(await this.mayManage(b, byId))) return undefined;
    const rows = await this.d.prisma.$queryRawUnsafe<Array<{ registration_number: string | null; commune: string | null; state: string; error: string | null; attempts: number; updated_at: Date }>>(
      `SELECT c.registration_number, cm.name AS commune, d.state::text AS state, d.error, d.attempts, d.updated_at
         FROM deliveries d LEFT JOIN learning_citizens c ON c.user_id = d.chat_id LEFT JOIN communes cm ON cm.code = c.commune_code
        WHERE d.kind = '${BROADCAST}' AND d.ref_id = $1 AND d.state IN ('failed', 'blocked') ORDER BY d.id`,
      String(id),
    );
    return toCsv([
      ["registration_number", "commune", "outcome", "telegram_reason", "attempts", "at_utc"],
      ...rows.map((r) => [r.registration_number, r.commune, r.state, r.error, r.attempts, new Date(r.updated_at).toISOString().slice(0, 19)]),
    ]);
  }

  /** Which province's imported questions a quiz prompt may use (bank questions: everyone's). */
  private questionProvince(access: Access, audience?: Audience): string | null {
    return access.scope.provinceCode ?? audience?.provinceCode ?? null;
  }

  /** Topics with questions an officer may send, for the picker. */
  async quizTopics(authorId: string, locale: Locale): Promise<Array<{ key: string; title: string; count: number }>> {
    const access = await this.d.users.access(authorId);
    if (!roleAtLeast(access.role, "officer")) return [];
    return quizTopics(this.d, this.questionProvince(access), locale);
  }

  async quizQuestions(authorId: string, topic: string, locale: Locale): Promise<Array<{ id: string; preview: string }>> {
    const access = await this.d.users.access(authorId);
    if (!roleAtLeast(access.role, "officer")) return [];
    return topicQuestions(this.d, topic, this.questionProvince(access), locale);
  }

  /**
   * A quiz prompt as recipients will get it: its first poll (anonymous, so the officer's own
   * answer never counts) and every question with its right answer, for the officer to check.
   */
  async quizPreview(authorId: string, draft: Pick<Draft, "senderBody" | "audience" | "text"> & { questionIds: string[] }, locale: Locale): Promise<{ poll: RenderedMessage | undefined; overview: string }> {
    const access = await this.d.users.access(authorId);
    const place = this.senderPlace(access, draft.audience);
    const t = this.d.i18n.t(locale);
    const questions = await this.d.quizRounds.questionsById(draft.questionIds);
    const first = questions.get(draft.questionIds[0] ?? "");
    const overview = await questionsOverview(this.d, draft.questionIds, locale);
    if (!first) return { poll: undefined, overview };
    const l = locale === "en" ? "en" : "vi";
    const poll = pollMessage(first, 0, draft.questionIds.length, l, 0);
    const sender = unescapeHtml(await senderLine(this.d.geo, t, locale, draft.senderBody, place.provinceCode, place.communeCode));
    const question = promptQuestion(sender, introOf(t, { text: draft.text }), String(poll.payload.question));
    return { poll: { method: "sendPoll", payload: { ...poll.payload, question, is_anonymous: true } }, overview };
  }

  /** A quiz prompt's live figures for its author or an officer covering it (HTML), and whether it can still be stopped. */
  async quizResults(id: number, byId: string, locale: Locale): Promise<{ ok: true; text: string; cancellable: boolean } | { ok: false; reason: "not_found" | "forbidden" }> {
    const b = await this.d.prisma.broadcast.findUnique({ where: { id } });
    if (!b || b.quizQuestionIds.length === 0) return { ok: false, reason: "not_found" };
    if (!(await this.mayManage(b, byId))) {
      this.d.logger.warn({ broadcast: id, user: byId }, "refused a quiz prompt's results to someone else");
      return { ok: false, reason: "forbidden" };
    }
    const text = await resultsText(this.d, b, locale, await progressText(this.d, b, locale, this.d.now()));
    return { ok: true, text, cancellable: ["pending_approval", "scheduled", "sending"].includes(b.state) };
  }

  /** Sample variable values for a preview: the composer's own registration, or examples. */
  async previewValues(authorId: string, locale: Locale): Promise<{ name: string; commune: string; province: string }> {
    const c = await this.d.prisma.learningCitizen.findUnique({ where: { userId: BigInt(authorId) }, select: { fullName: true, communeCode: true, provinceCode: true } });
    const t = this.d.i18n.t(locale);
    if (!c) return { name: t("broadcast:sample.name"), commune: t("broadcast:sample.commune"), province: t("broadcast:sample.province") };
    const commune = await this.d.geo.getCommune(c.communeCode);
    const province = await this.d.geo.getProvince(c.provinceCode);
    return {
      name: c.fullName,
      commune: commune ? communeLabel(commune, locale) : "",
      province: province ? provinceLabel(province, locale, "full") : "",
    };
  }
}
