import type { Redis } from "ioredis";
import { ConversationStateStorage } from "./flows/slim-state.js";
import type { DirectSql } from "../domain/direct-sql.js";
import { Ledger } from "../domain/delivery/ledger.js";
import { DeliveryKinds } from "../domain/delivery/types.js";
import { Deliveries } from "../jobs/delivery-scheduler.js";
import type { DeliveryQueues } from "../jobs/queues.js";
import { CitizenService } from "../domain/citizens/citizen-service.js";
import { GuardianRequests } from "../domain/citizens/guardian-requests.js";
import { citizenDataParts } from "../domain/citizens/personal-data.js";
import { GeoService } from "../domain/geo/geo-service.js";
import { deliveryDataParts } from "../domain/delivery/personal-data.js";
import { broadcastDataParts } from "../domain/broadcasts/personal-data.js";
import { PersonalDataRegistry, type PersonalDataPart } from "../domain/privacy/registry.js";
import { topicMuteDataParts } from "../domain/settings/personal-data.js";
import { TopicMutes } from "../domain/settings/topic-mutes.js";
import { createTopicCatalogue } from "../domain/settings/topics.js";
import { userDataParts } from "../domain/users/personal-data.js";
import { UserService } from "../domain/users/user-service.js";
import { BroadcastService } from "../domain/broadcasts/broadcast-service.js";
import { broadcastKinds } from "../domain/broadcasts/kinds.js";
import { QUIZ_DAILY, QuizDaily } from "../domain/quizzes/daily.js";
import { groupResultsText } from "../domain/quizzes/group-results.js";
import { quizDailyKind, quizEndKind, quizPollKind } from "../domain/quizzes/kinds.js";
import { QuizRounds, type Lang } from "../domain/quizzes/quiz-rounds.js";
import { ContestService } from "../domain/quizzes/contests.js";
import { tiebreakPromptText } from "../domain/quizzes/contest-format.js";
import { contestDataParts } from "../domain/quizzes/contest-personal-data.js";
import { PeriodicTasks } from "../jobs/periodic.js";
import { QuestionImportService, quizImportDataParts } from "../domain/quizzes/question-import.js";
import { Leaderboards } from "../domain/quizzes/leaderboards.js";
import { quizDataParts } from "../domain/quizzes/personal-data.js";
import { CenterService, centerDataParts } from "../domain/sessions/centers.js";
import { CenterImportService } from "../domain/sessions/center-import.js";
import { SessionAdmin, sessionAuthorDataParts } from "../domain/sessions/session-admin.js";
import { NominationService } from "../domain/scholarships/nominations.js";
import { RoundService, roundAuthorDataParts } from "../domain/scholarships/rounds.js";
import { SessionSignups } from "../domain/sessions/signups.js";
import { sessionNoticeKind, sessionReminderKind } from "../domain/sessions/kinds.js";
import { SessionReminders } from "../domain/sessions/reminders.js";
import { SESSIONS_TOPIC } from "../domain/sessions/model.js";
import { cb } from "./callback-data/callback-data.js";
import { SessionCards } from "../domain/sessions/cards.js";
import { NearbySessions } from "../domain/sessions/nearby.js";
import { nominationStatusKind, scholarshipNoticeKind, scholarshipReminderKind } from "../domain/scholarships/kinds.js";
import { ScholarshipReminders } from "../domain/scholarships/reminders.js";
import { SCHOLARSHIPS_TOPIC } from "../domain/scholarships/model.js";
import { ScholarshipListing } from "../domain/scholarships/listing.js";
import { LearningGroups, loadGroupCriteria } from "../domain/units/families.js";
import { UnitImportService } from "../domain/units/unit-import.js";
import { LearningUnitChecklist, LearningUnits, learningUnitDecisionKind } from "../domain/units/learning-units.js";
import { UnitService } from "../domain/units/units.js";
import { TargetFigures } from "../domain/targets/figures.js";
import { TargetSnapshots } from "../domain/targets/snapshots.js";
import { TARGET_DIGEST_TOPIC, TargetDigest, targetDigestKind } from "../domain/targets/digest.js";
import { AssociationMembership } from "../domain/targets/association-member.js";
import { UNIT_NUDGES_TOPIC, UnitNudges, unitNudgeKind } from "../domain/targets/nudge.js";
import { ProgrammeService } from "../domain/targets/programmes.js";
import { ReportService, reportScheduleDataParts } from "../domain/targets/report-service.js";
import { programmeReportKind } from "../jobs/programme-report-kind.js";
import type { PrismaClient, QuizRound } from "../generated/prisma/client.js";
import type { I18n } from "../i18n.js";
import { ChangedOnlyJsonStorage, RedisJsonStorage } from "../infra/redis-storage.js";
import type { Logger } from "../logger.js";
import { LocaleMemo, type Deps, type SessionData } from "./context.js";
import { AnsweredQueries } from "./middlewares/api.js";

/** Redis key prefixes: sessions and conversations never share keys. */
export const SESSION_PREFIX = "khb:session:";
export const CONVERSATION_PREFIX = "khb:conv:";
/**
 * Unfinished flows are dropped after a week of silence (long enough to come back to a form, short
 * enough not to keep answers nobody finished); sessions hold only a language choice.
 */
export const CONVERSATION_TTL_SECONDS = 7 * 24 * 3600;

export interface DepsInput {
  prisma: PrismaClient;
  /** Database.read: the hottest statements straight through the driver (see DirectSql); Prisma when absent. */
  read?: DirectSql;
  /**
   * The embedded PGlite runs every statement on this thread: hot paths gather a few milliseconds
   * of work into one statement there (default "postgres": no wait).
   */
  lane?: "pglite" | "postgres";
  redis: Redis;
  i18n: I18n;
  logger: Logger;
  adminIds: ReadonlySet<string>;
  inviteTtlHours?: number;
  now?: () => Date;
  /** The delivery engine's queues (opened by the caller: main, worker, tests). */
  queues: DeliveryQueues;
  /** Broadcasts to more people than this need a second person's approval (default 1000). */
  approvalThreshold?: number;
  /** The learning-unit checklist file (default prisma/seed/learning-unit-checklist.json). */
  learningUnitChecklistFile?: string;
  /** The learning-family criteria file (default prisma/seed/learning-family-criteria.json). */
  learningFamilyCriteriaFile?: string;
}

/** A person's key in one of the bot's Redis storages, as a part of their personal data. */
function storedPart(key: "unfinished_flow" | "bot_session", storage: RedisJsonStorage<unknown>, onErase?: (id: string) => void): PersonalDataPart {
  return {
    key,
    label: key === "unfinished_flow" ? "privacy:parts.unfinished_flow" : "privacy:parts.session",
    kind: "store",
    export: async (id) => (await storage.read(id)) ?? null,
    exists: async (id) => (await storage.read(id)) !== undefined,
    erase: async (id) => {
      onErase?.(id);
      return (await storage.deleteCount(id)) > 0;
    },
  };
}

export function createDeps(input: DepsInput): Deps {
  const now = input.now ?? (() => new Date());
  const ledger = new Ledger(input.prisma);
  const deliveryKinds = new DeliveryKinds();
  const geo = new GeoService(input.prisma);
  const sessions = new ChangedOnlyJsonStorage<SessionData>(input.redis, SESSION_PREFIX);
  const conversations = new ConversationStateStorage(input.redis, CONVERSATION_PREFIX, CONVERSATION_TTL_SECONDS);
  const localeMemo = new LocaleMemo();
  const privacy = new PersonalDataRegistry(input.prisma);
  const guardianRequests = new GuardianRequests(input.redis);
  const deliveries = new Deliveries(ledger, input.queues, now);
  const sessionSignups = new SessionSignups(input.prisma, deliveries, now);
  const scholarshipListing = new ScholarshipListing({ prisma: input.prisma, now });
  // Scholarship nominations (issue 10): erased before the user row, whose cascade would take them unnamed.
  const nominations = new NominationService({ prisma: input.prisma, deliveries, now, logger: input.logger });
  for (const part of nominations.dataParts()) privacy.register(part);
  // Learning families (issue 11): leaving hands ownership over, so it runs before the user row's cascade.
  const families = new LearningGroups({ prisma: input.prisma, now, logger: input.logger, criteria: loadGroupCriteria(input.learningFamilyCriteriaFile) });
  for (const part of families.dataParts()) privacy.register(part);
  // Units (issue 11): memberships go before the user row (whose cascade would take them unnamed).
  const units = new UnitService({ prisma: input.prisma, now, logger: input.logger });
  for (const part of units.dataParts()) privacy.register(part);
  // Programmes (issue 11): follow rows go before the user row (whose cascade would take them unnamed).
  const programmes = new ProgrammeService({ prisma: input.prisma, now, logger: input.logger });
  for (const part of programmes.dataParts()) privacy.register(part);
  // Order matters for erasure: the records that point at the user row go before it (sign-ups
  // free their seats, promoting the next people waiting, before the user row's cascade).
  for (const part of [...citizenDataParts(input.prisma), ...sessionSignups.dataParts(), ...scholarshipListing.dataParts(), ...userDataParts(input.prisma)]) privacy.register(part);
  // Keyed by Telegram id with no foreign key to users, so their place in the order is free.
  for (const part of [...topicMuteDataParts(input.prisma), ...deliveryDataParts(input.prisma), ...broadcastDataParts(input.prisma)]) privacy.register(part);
  for (const part of quizImportDataParts(input.prisma)) privacy.register(part);
  for (const part of quizDataParts(input.prisma)) privacy.register(part);
  for (const part of [...centerDataParts(input.prisma), ...sessionAuthorDataParts(input.prisma)]) privacy.register(part);
  // Scholarship rounds (issue 10): who created a round (kept as a creator id, dropped on erasure).
  for (const part of roundAuthorDataParts(input.prisma)) privacy.register(part);
  privacy.register(storedPart("unfinished_flow", conversations));
  privacy.register({
    key: "guardian_request",
    label: "privacy:parts.guardian_request",
    kind: "store",
    export: async (id) => (await guardianRequests.ofChild(id)) ?? null,
    exists: async (id) => (await guardianRequests.ofChild(id)) !== undefined,
    erase: (id) => guardianRequests.deleteOfChild(id),
  });
  privacy.register(storedPart("bot_session", sessions, (id) => localeMemo.delete(Number(id))));
  // Features that start messages of their own add their topics here (topics.register).
  const topics = createTopicCatalogue();
  const users = new UserService(input.prisma, input.adminIds);
  const quizRounds = new QuizRounds({ prisma: input.prisma, read: input.read, deliveries, now, oneBatchAtATime: input.lane === "pglite" });
  const broadcastDeps = {
    prisma: input.prisma, redis: input.redis, deliveries, ledger, users, geo, i18n: input.i18n, logger: input.logger, now,
    approvalThreshold: input.approvalThreshold ?? 1000, adminIds: input.adminIds,
    callbacks: {
      approve: (id: number) => cb.bcDecide.pack(`a.${id}`),
      reject: (id: number) => cb.bcDecide.pack(`r.${id}`),
      cancel: (id: number) => cb.bcCancel.pack(String(id)),
      csv: (id: number) => cb.bcCsv.pack(String(id)),
      // The settings feature's mute button: pressing it mutes the topic, then offers the undo.
      mute: (topic: string) => cb.muteTopic.pack(`off:${topic}`),
      results: (id: number) => cb.bcResults.pack(`r.${id}`),
    },
    // Quiz prompts: their questions and rounds (the same engine as /quiz).
    quizRounds,
  };
  for (const kind of broadcastKinds(broadcastDeps)) deliveryKinds.register(kind);
  const quizDaily = new QuizDaily({ prisma: input.prisma, deliveries, now });
  topics.register({ key: QUIZ_DAILY, labelKey: "quiz:settings_topic", group: "quiz" });
  const contests = new ContestService({ prisma: input.prisma, rounds: quizRounds, users, now });
  for (const part of contestDataParts(input.prisma)) privacy.register(part);
  const quizKindDeps = { rounds: quizRounds, i18n: input.i18n, mute: broadcastDeps.callbacks.mute, groupResults: (round: QuizRound, lang: Lang) => groupResultsText(input.prisma, input.i18n.t(lang), round),
    // A contest attempt that ended on a time-out asks the tie-break instead of showing the summary.
    contestEnd: async (round: QuizRound, lang: Lang) => {
      const asked = await contests.tiebreakQuestion(round);
      return asked ? tiebreakPromptText(input.i18n.t(lang), round, asked.contest.title, asked.question) : "";
    } };
  for (const kind of [quizPollKind(quizKindDeps), quizEndKind(quizKindDeps), quizDailyKind(quizKindDeps)]) deliveryKinds.register(kind);
  const sessionAdmin = new SessionAdmin({ prisma: input.prisma, deliveries, signups: sessionSignups, now });
  const periodic = new PeriodicTasks();
  periodic.register({ name: "quiz time-outs", everyMs: 1_000, run: () => quizRounds.sweep() });
  periodic.register({ name: "daily questions", everyMs: 30_000, run: () => quizDaily.tick() });
  // Sessions (issue 9): reminders 24 h and 1 h before, and the cancelled/moved/seat notices.
  const sessionReminders = new SessionReminders({ prisma: input.prisma, deliveries, now });
  const sessionKindDeps = {
    prisma: input.prisma, i18n: input.i18n, mute: broadcastDeps.callbacks.mute,
    cardButton: (id: number) => cb.session.pack(`open.${id}`),
    leaveButton: (id: number) => cb.session.pack(`leave.${id}`),
    mapButton: (id: number) => cb.session.pack(`map.${id}`),
  };
  for (const kind of [sessionReminderKind(sessionKindDeps), sessionNoticeKind(sessionKindDeps)]) deliveryKinds.register(kind);
  periodic.register({ name: "session reminders", everyMs: 1_000, run: () => sessionReminders.tick() });
  topics.register({ key: SESSIONS_TOPIC, labelKey: "sessions-notify:settings_topic", group: "sessions" });
  // Scholarships (issue 10): "remind me" reminders, round notices, nomination status changes.
  const scholarshipReminders = new ScholarshipReminders({ prisma: input.prisma, deliveries, now });
  const scholarshipKindDeps = {
    prisma: input.prisma, i18n: input.i18n, mute: broadcastDeps.callbacks.mute,
    cardButton: (id: number) => cb.scholarship.pack(`open.${id}`),
    unremindButton: (id: number) => cb.scholarship.pack(`unrem.${id}`),
    nominationButton: (id: number) => cb.nomination.pack(`v.${id}`),
  };
  for (const kind of [scholarshipReminderKind(scholarshipKindDeps), scholarshipNoticeKind(scholarshipKindDeps), nominationStatusKind(scholarshipKindDeps)]) deliveryKinds.register(kind);
  periodic.register({ name: "scholarship reminders", everyMs: 1_000, run: () => scholarshipReminders.tick() });
  topics.register({ key: SCHOLARSHIPS_TOPIC, labelKey: "scholarships-notify:settings_topic", group: "scholarships" });
  // Nominations are deleted a year after their round's award day (or cancellation): hourly is plenty.
  periodic.register({ name: "nomination retention", everyMs: 3_600_000, run: () => nominations.purgeExpired(now()) });
  // Learning units (issue 11): the checklist file, the officer's decision told to the unit's heads, who decided.
  const learningUnits = new LearningUnits({ prisma: input.prisma, deliveries, checklist: new LearningUnitChecklist(input.learningUnitChecklistFile, input.logger), now });
  deliveryKinds.register(learningUnitDecisionKind({ prisma: input.prisma, i18n: input.i18n }));
  for (const part of learningUnits.dataParts()) privacy.register(part);
  // Targets (issue 11): the figures, their daily snapshots (hourly: the day's last value wins) and
  // the weekly digest to officers and unit heads (Monday 8:00; the tick queues the week's rows once).
  const targetFigures = new TargetFigures({ prisma: input.prisma, families });
  const targetSnapshots = new TargetSnapshots({ prisma: input.prisma, figures: targetFigures, now });
  periodic.register({ name: "target snapshots", everyMs: 3_600_000, run: () => targetSnapshots.take() });
  const targetDigest = new TargetDigest({ prisma: input.prisma, deliveries, now });
  deliveryKinds.register(targetDigestKind({ prisma: input.prisma, figures: targetFigures, snapshots: targetSnapshots, i18n: input.i18n, mute: broadcastDeps.callbacks.mute }));
  periodic.register({ name: "target digest", everyMs: 120_000, run: () => targetDigest.tick() });
  topics.register({ key: TARGET_DIGEST_TOPIC, labelKey: "digest:settings_topic", group: "targets" });
  // Programmes and targets (issue 11): a unit head's nudge to the members not registered yet.
  deliveryKinds.register(unitNudgeKind({ prisma: input.prisma, i18n: input.i18n, registerButton: () => cb.register.pack("start"), mute: broadcastDeps.callbacks.mute }));
  topics.register({ key: UNIT_NUDGES_TOPIC, labelKey: "targets:nudge.settings_topic", group: "units" });
  // The yearly report (issue 11, report part): scheduled reports go to the programme's officers as an XLSX through the engine.
  const reports = new ReportService({ prisma: input.prisma, figures: targetFigures, deliveries, now, logger: input.logger });
  deliveryKinds.register(programmeReportKind({ reports, i18n: input.i18n }));
  for (const part of reportScheduleDataParts(input.prisma)) privacy.register(part);
  periodic.register({ name: "scheduled reports", everyMs: 60_000, run: () => reports.tick() });
  return {
    services: {
      geo,
      citizens: new CitizenService(input.prisma, geo, input.read),
      guardianRequests,
      users,
      privacy,
      topics,
      topicMutes: new TopicMutes(input.prisma, topics, input.now),
      broadcasts: new BroadcastService(broadcastDeps),
      quizRounds,
      quizDaily,
      quizImport: new QuestionImportService(input.prisma),
      leaderboards: new Leaderboards(input.prisma, now),
      contests,
      sessionSignups,
      sessionCards: new SessionCards(input.prisma),
      nearby: new NearbySessions(input.prisma, now, input.read),
      centers: new CenterService(input.prisma, now),
      centerImport: new CenterImportService(input.prisma, geo, now),
      sessionAdmin,
      scholarshipListing,
      nominations,
      scholarshipRounds: new RoundService({ prisma: input.prisma, deliveries, now, logger: input.logger }),
      families,
      unitImport: new UnitImportService(input.prisma, geo, now),
      learningUnits,
      units,
      targetFigures,
      targetSnapshots,
      targetDigest,
      programmes,
      unitNudges: new UnitNudges({ prisma: input.prisma, deliveries, now, logger: input.logger }),
      associationMembership: new AssociationMembership({ prisma: input.prisma, now }),
      reports,
    },
    i18n: input.i18n,
    logger: input.logger,
    sessions,
    conversations,
    localeMemo,
    inviteTtlHours: input.inviteTtlHours ?? 72,
    now,
    ledger,
    deliveries,
    deliveryKinds,
    periodic,
    answered: new AnsweredQueries(),
    outage: {},
  };
}
