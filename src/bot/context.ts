import type { QuizRounds } from "../domain/quizzes/quiz-rounds.js";
import type { QuizDaily } from "../domain/quizzes/daily.js";
import type { ContestService } from "../domain/quizzes/contests.js";
import type { SessionAdmin } from "../domain/sessions/session-admin.js";
import type { NominationService } from "../domain/scholarships/nominations.js";
import type { RoundService } from "../domain/scholarships/rounds.js";
import type { PeriodicTasks } from "../jobs/periodic.js";
import type { Conversation, ConversationFlavor } from "@grammyjs/conversations";
import type { Context, SessionFlavor } from "grammy";
import type { Ledger } from "../domain/delivery/ledger.js";
import type { DeliveryKinds } from "../domain/delivery/types.js";
import type { Deliveries } from "../jobs/delivery-scheduler.js";
import type { CitizenService } from "../domain/citizens/citizen-service.js";
import type { GuardianRequests } from "../domain/citizens/guardian-requests.js";
import type { GeoService } from "../domain/geo/geo-service.js";
import type { PersonalDataRegistry } from "../domain/privacy/registry.js";
import type { TopicMutes } from "../domain/settings/topic-mutes.js";
import type { TopicCatalogue } from "../domain/settings/topics.js";
import type { UserService } from "../domain/users/user-service.js";
import type { BroadcastService } from "../domain/broadcasts/broadcast-service.js";
import type { QuestionImportService } from "../domain/quizzes/question-import.js";
import type { Leaderboards } from "../domain/quizzes/leaderboards.js";
import type { CenterService } from "../domain/sessions/centers.js";
import type { CenterImportService } from "../domain/sessions/center-import.js";
import type { UnitImportService } from "../domain/units/unit-import.js";
import type { LearningUnits } from "../domain/units/learning-units.js";
import type { I18n, Locale, TFunction } from "../i18n.js";
import type { NearbyFinder, SessionCards } from "../domain/sessions/cards.js";
import type { SessionSignups } from "../domain/sessions/signups.js";
import type { ScholarshipListing } from "../domain/scholarships/listing.js";
import type { LearningGroups } from "../domain/units/families.js";
import type { UnitService } from "../domain/units/units.js";
import type { TargetFigures } from "../domain/targets/figures.js";
import type { TargetSnapshots } from "../domain/targets/snapshots.js";
import type { TargetDigest } from "../domain/targets/digest.js";
import type { AssociationMembership } from "../domain/targets/association-member.js";
import type { UnitNudges } from "../domain/targets/nudge.js";
import type { ProgrammeService } from "../domain/targets/programmes.js";
import type { ReportService } from "../domain/targets/report-service.js";
import type { Logger } from "../logger.js";
import type { RedisJsonStorage } from "../infra/redis-storage.js";
import type { AnsweredQueries } from "./middlewares/api.js";


export interface SessionData {
  /** Set by /language; otherwise the Telegram client's language decides. */
  locale?: Locale;
  /** Until when (epoch ms) the next spreadsheet sent is a quiz import (/quizimport). */
  quizImportUntil?: number;
  /** Until when (epoch ms) the next CSV file sent is a centre import (/importcenters). */
  centerImportUntil?: number;
  /** Until when (epoch ms) the next CSV or XLSX file sent is a unit import (/importunits). */
  unitImportUntil?: number;
}

export interface Services {
  geo: GeoService;
  citizens: CitizenService;
  guardianRequests: GuardianRequests;
  users: UserService;
  /** Every module's personal data: /mydata exports it, /deleteme erases it. */
  privacy: PersonalDataRegistry;
  /** Kinds of messages the bot starts that a person can switch off; features register theirs. */
  topics: TopicCatalogue;
  topicMutes: TopicMutes;
  /** Officers' broadcasts (composing, approval, cancel); its delivery kinds are registered in createDeps. */
  broadcasts: BroadcastService;
  /** Quiz rounds (/quiz, daily questions, prompts, groups): polls, answers, time-outs. */
  quizRounds: QuizRounds;
  quizDaily: QuizDaily;
  /** Officers' imported quiz questions and retiring questions. */
  quizImport: QuestionImportService;
  /** Quiz leaderboards (people, communes, units) and the name opt-in. */
  leaderboards: Leaderboards;
  /** Contests: fixed question sets, attempt caps per week, tie-break, ranking and export. */
  contests: ContestService;
  /** Sessions at learning centres: seats, waiting list, check-in, learning hours. */
  sessionSignups: SessionSignups;
  /** Session cards (the session with its centre) and a person's home commune. */
  sessionCards: SessionCards;
  /** The nearest centres with upcoming sessions. */
  nearby: NearbyFinder;
  /** Learning centres: officers create, edit and list those of their scope. */
  centers: CenterService;
  /** Learning centres imported from CSV (the bot's /importcenters; the CLI builds its own). */
  centerImport: CenterImportService;
  /** Officers' side of sessions: create, edit, move, cancel, check-in token, figures, attendance. */
  sessionAdmin: SessionAdmin;
  /** Scholarship rounds as residents see them: relevant rounds, a round's card, "remind me". */
  scholarshipListing: ScholarshipListing;
  /** Scholarship nominations: nominate, the nominator's list and withdrawal, officers' list, status, exports. */
  nominations: NominationService;
  /** Officers' side of scholarship rounds: create, edit, close, extend, cancel, list. */
  scholarshipRounds: RoundService;
  /** Learning families (issue 11): create, invite, join, leave, members, status and counts. */
  families: LearningGroups;
  /** Units imported from CSV/XLSX (/importunits): admins and province officers. */
  unitImport: UnitImportService;
  /** Đơn vị học tập: a unit's self-assessment, officers' decisions, the heads' notices. */
  learningUnits: LearningUnits;
  /** Units (issue 11): officers' units of their scope, join links, members and heads. */
  units: UnitService;
  /** Every figure of a programme's targets (the scoreboard, charts, digest and report read it). */
  targetFigures: TargetFigures;
  /** Daily figures of live programmes (progress lines, week-on-week change). */
  targetSnapshots: TargetSnapshots;
  /** The weekly targets digest (Monday 8:00): its tick queues the week's rows. */
  targetDigest: TargetDigest;
  /** Coordination programmes (issue 11): programmes, their targets, who follows them, who may see which scoreboard. */
  programmes: ProgrammeService;
  /** A unit head's nudge to the members not registered yet (through the delivery engine). */
  unitNudges: UnitNudges;
  /** The person's own "I am an association member" (the programmes' "members" target). */
  associationMembership: AssociationMembership;
  /** The yearly report (issue 11, report part): scope by role, audited XLSX/PDF exports, scheduled reports. */
  reports: ReportService;
}

/** Everything a handler needs, injected through the context (no singletons). */
export interface Deps {
  services: Services;
  i18n: I18n;
  logger: Logger;
  sessions: RedisJsonStorage<SessionData>;
  conversations: RedisJsonStorage<unknown>;
  /** Locale chosen for a user on the update being handled, for contexts inside conversations. */
  localeMemo: LocaleMemo;
  inviteTtlHours: number;
  now: () => Date;
  /** The delivery ledger (what was sent to whom); the engine's record. */
  ledger: Ledger;
  /** Messages the bot starts (broadcasts, reminders, prompts) are scheduled here, never sent directly. */
  deliveries: Deliveries;
  /** Delivery kinds the worker renders; each feature registers its own. */
  deliveryKinds: DeliveryKinds;
  /** Repeated work the delivery worker runs (quiz time-outs, daily questions). */
  periodic: PeriodicTasks;
  /** Callback queries answered while handling updates (so each is answered once, and always). */
  answered: AnsweredQueries;
  /** When Redis or the database was last reported unreachable (the outage is logged once). */
  outage: { loggedAt?: number };
}

interface Injected {
  deps: Deps;
  logger: Logger;
  t: TFunction;
  locale: Locale;
}

export type BotContext = ConversationFlavor<Context & SessionFlavor<SessionData> & Injected>;
/** Context inside conversations: no session (replay), but deps and i18n from plugins. */
export type ConvContext = Context & Injected;
export type Convo = Conversation<BotContext, ConvContext>;

/** Bounded memo: userId → locale, written by the i18n middleware before conversations run. */
export class LocaleMemo {
  private readonly map = new Map<number, Locale>();
  constructor(private readonly max = 50_000) {}
  set(userId: number, locale: Locale): void {
    this.map.delete(userId);
    this.map.set(userId, locale);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }
  get(userId: number): Locale | undefined {
    return this.map.get(userId);
  }
  delete(userId: number): void {
    this.map.delete(userId);
  }
}
