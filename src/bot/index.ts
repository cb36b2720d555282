// First: every handler the features below register goes through this branch (see the module).
import "./fast-branch.js";
import { conversations } from "@grammyjs/conversations";
import { sequentialize } from "@grammyjs/runner";
import { Bot, Composer, session, type BotConfig, type MiddlewareFn } from "grammy";
import type { BotContext, ConvContext, Deps, SessionData } from "./context.js";
import { adminFeature } from "./features/admin.js";
import { broadcastsFeature } from "./features/broadcasts.js";
import { quizAnswersFeature, quizFeature } from "./features/quiz.js";
import { sessionsFeature } from "./features/sessions.js";
import { SESSION_PLACE_FLOW, sessionPlaceFlow } from "./flows/session-place.js";
import { contestFeature } from "./features/contest.js";
import { CONTEST_FLOW, contestNewFlow } from "./flows/contest-new.js";
import { createCenterAdminFeature } from "./features/center-admin.js";
import { CENTER_EDIT_FLOW, CENTER_NEW_FLOW, centerEditFlow, centerNewFlow } from "./flows/center-new.js";
import { sessionAdminFeature } from "./features/session-admin.js";
import { SESSION_EDIT_FLOW, sessionEditFlow } from "./flows/session-edit.js";
import { SESSION_NEW_FLOW, sessionNewFlow } from "./flows/session-new.js";
import { scholarshipsFeature } from "./features/scholarships.js";
import { ELIGIBILITY_FLOW, eligibilityFlow } from "./flows/scholarship-eligible.js";
import { nominationsFeature } from "./features/nominations.js";
import { NOMINATE_FLOW, nominateFlow } from "./flows/scholarship-nominate.js";
import { scholarshipAdminFeature } from "./features/scholarship-admin.js";
import { ROUND_NEW_FLOW, roundNewFlow } from "./flows/round-new.js";
import { ROUND_EDIT_FLOW, roundEditFlow } from "./flows/round-edit.js";
import { ROUND_EXTEND_FLOW, roundExtendFlow } from "./flows/round-extend.js";
import { familiesFeature } from "./features/families.js";
import { FAMILY_NEW_FLOW, familyNewFlow } from "./flows/family-new.js";
import { createUnitImportFeature } from "./features/unit-import.js";
import { learningUnitsFeature } from "./features/learning-units.js";
import { LEARNING_UNIT_FLOW, learningUnitAssessmentFlow } from "./flows/learning-unit-assessment.js";
import { LEARNING_UNIT_RETURN_FLOW, learningUnitReturnFlow } from "./flows/learning-unit-return.js";
import { unitsFeature } from "./features/units.js";
import { reportFeature } from "./features/report.js";
import { UNIT_NEW_FLOW, unitNewFlow } from "./flows/unit-new.js";
import { UNIT_EDIT_FLOW, unitEditFlow } from "./flows/unit-edit.js";
import { programmesFeature } from "./features/programmes.js";
import { targetsFeature } from "./features/targets.js";
import { PROGRAMME_NEW_FLOW, programmeNewFlow } from "./flows/programme-new.js";
import { PROGRAMME_EDIT_FLOW, programmeEditFlow } from "./flows/programme-edit.js";
import { cancelFeature } from "./features/cancel.js";
import { groupFeature } from "./features/group.js";
import { helpFeature } from "./features/help.js";
import { languageFeature } from "./features/language.js";
import { leaderboardFeature } from "./features/leaderboard.js";
import { membershipFeature } from "./features/membership.js";
import { officerFeature } from "./features/officer.js";
import { createQuizImportFeature } from "./features/quiz-import.js";
import { fileDownloader } from "./helpers/download-file.js";
import { privacyFeature } from "./features/privacy.js";
import { profileFeature } from "./features/profile.js";
import { settingsFeature } from "./features/settings.js";
import { startFeature } from "./features/start.js";
import { unhandledFeature } from "./features/unhandled.js";
import { EDIT_PROFILE, editProfile } from "./flows/edit-profile.js";
import { BROADCAST_FLOW, broadcastFlow } from "./flows/broadcast.js";
import { GUARDIAN_CONSENT, guardianConsent } from "./flows/guardian-consent.js";
import { REGISTRATION, registration } from "./flows/registration.js";
import { mountFlow } from "./flows/resilient.js";
import { FLOW_VERSION } from "./flows/version.js";
import { reportFailure } from "./helpers/failures.js";
import { apiPlugins } from "./middlewares/api.js";
import { floodGuard, type FloodOptions } from "./middlewares/flood.js";
import { countUpdates } from "./middlewares/metrics.js";
import { answerEveryQuery, conversationPlugins, i18nMiddleware, injectDeps } from "./middlewares/inject.js";
import { minimiseUpdate } from "./middlewares/minimise-update.js";
import { sessionKey } from "./session-key.js";
import { RedisJsonStorage } from "../infra/redis-storage.js";
import type { Metrics } from "../infra/metrics.js";

/**
 * Builds the bot without connecting or listening: main.ts picks the transport, tests feed
 * updates with handleUpdate. This is the one place where middleware order is written down.
 */
export interface CreateBotOptions {
  flood?: FloodOptions;
  /** Counts updates handled and failed (khb_updates_total). */
  metrics?: Metrics;
}

/** Updates the conversations see: in private chats, what can answer a question. */
function reachesDialogue(ctx: BotContext): boolean {
  return ctx.chat?.type === "private" && Boolean(ctx.message ?? ctx.editedMessage ?? ctx.callbackQuery);
}

/**
 * The session and, for updates that reach the conversations, their state: read in one Redis round
 * trip instead of two in a row. Runs under the chat's sequentialize, so nothing writes them between.
 */
function readStateTogether(deps: Deps): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const key = sessionKey(ctx);
    if (key === undefined || !reachesDialogue(ctx)) return next();
    const forget = RedisJsonStorage.readTogether([[deps.sessions as RedisJsonStorage<unknown>, key], [deps.conversations, key]]);
    try {
      await next();
    } finally {
      forget();
    }
  };
}

export function createBot(token: string, deps: Deps, config?: BotConfig<BotContext>, options: CreateBotOptions = {}): Bot<BotContext> {
  const bot = new Bot<BotContext>(token, config);
  bot.api.config.use(...apiPlugins(deps.answered));

  // First, so every update is counted once, whatever drops or fails it later.
  if (options.metrics) bot.use(countUpdates(options.metrics));
  bot.use(injectDeps(deps), minimiseUpdate(), answerEveryQuery());
  // Before the ordering: a flooding chat's excess is dropped at once instead of queueing.
  bot.use(...floodGuard(options.flood));
  // One boundary around everything that reads storage: a Redis or database outage during the
  // session read gets the same polite answer as one inside a feature.
  const guarded = bot.errorBoundary((err) => reportFailure(err.ctx, err.error));
  // One key for ordering, session and conversations: a chat's updates never race each other.
  guarded.use(sequentialize(sessionKey));
  // Poll answers are the quiz's alone, and at a quiz's pace most of the updates: straight there,
  // in their person's order, without the session (the quiz speaks each round's language).
  guarded.on("poll_answer", quizAnswersFeature);
  guarded.use(readStateTogether(deps));
  guarded.use(session<SessionData, BotContext>({ initial: () => ({}), storage: deps.sessions, getSessionKey: sessionKey }));
  guarded.use(i18nMiddleware());

  // Conversations live in private chats and take only what can answer a question.
  const dialogue = guarded.filter(reachesDialogue);
  dialogue.use(
    conversations<BotContext, ConvContext>({
      storage: { type: "key", version: FLOW_VERSION, getStorageKey: sessionKey, adapter: deps.conversations as never },
      plugins: conversationPlugins(deps) as never,
      // A segmented flow is entered again at every question: no child logger unless it is read.
      onEnter: (id, ctx) => {
        if (ctx.deps.logger.isLevelEnabled("debug")) ctx.logger.debug({ conversation: id }, "conversation entered");
      },
    }),
  );
  // Before the conversations run, so /cancel is never swallowed as an answer.
  dialogue.use(cancelFeature);
  dialogue.use(mountFlow(REGISTRATION, registration));
  dialogue.use(mountFlow(EDIT_PROFILE, editProfile));
  dialogue.use(mountFlow(GUARDIAN_CONSENT, guardianConsent));
  dialogue.use(mountFlow(BROADCAST_FLOW, broadcastFlow));
  dialogue.use(mountFlow(CONTEST_FLOW, contestNewFlow));
  dialogue.use(mountFlow(SESSION_PLACE_FLOW, sessionPlaceFlow));
  dialogue.use(mountFlow(CENTER_NEW_FLOW, centerNewFlow));
  dialogue.use(mountFlow(CENTER_EDIT_FLOW, centerEditFlow));
  dialogue.use(mountFlow(SESSION_NEW_FLOW, sessionNewFlow));
  dialogue.use(mountFlow(SESSION_EDIT_FLOW, sessionEditFlow));
  dialogue.use(mountFlow(ELIGIBILITY_FLOW, eligibilityFlow));
  dialogue.use(mountFlow(NOMINATE_FLOW, nominateFlow));
  dialogue.use(mountFlow(ROUND_NEW_FLOW, roundNewFlow));
  dialogue.use(mountFlow(ROUND_EDIT_FLOW, roundEditFlow));
  dialogue.use(mountFlow(ROUND_EXTEND_FLOW, roundExtendFlow));
  dialogue.use(mountFlow(FAMILY_NEW_FLOW, familyNewFlow));
  dialogue.use(mountFlow(LEARNING_UNIT_FLOW, learningUnitAssessmentFlow));
  dialogue.use(mountFlow(LEARNING_UNIT_RETURN_FLOW, learningUnitReturnFlow));
  dialogue.use(mountFlow(UNIT_NEW_FLOW, unitNewFlow));
  dialogue.use(mountFlow(UNIT_EDIT_FLOW, unitEditFlow));
  dialogue.use(mountFlow(PROGRAMME_NEW_FLOW, programmeNewFlow));
  dialogue.use(mountFlow(PROGRAMME_EDIT_FLOW, programmeEditFlow));

  // Every feature narrows itself (private chats, groups, updates without a chat) on its first line.
  const features = new Composer<BotContext>();
  features.use(membershipFeature, startFeature, languageFeature, helpFeature, profileFeature, privacyFeature, officerFeature, adminFeature);
  features.use(settingsFeature);
  features.use(broadcastsFeature);
  // Before the group feature: in groups, quiz commands are the bot's only business.
  features.use(quizFeature);
  features.use(sessionsFeature);
  features.use(scholarshipsFeature);
  const download = fileDownloader(token, config?.client);
  // Before the centre and quiz imports: it takes a file only when /importunits came last (or in the caption).
  features.use(createUnitImportFeature(download));
  // Before the quiz import: both take spreadsheets, and the quiz import answers any it was not asked for.
  features.use(createCenterAdminFeature(download));
  features.use(createQuizImportFeature(download));
  features.use(leaderboardFeature);
  // After the quiz feature (its text hint wins while a poll is open); takes the tie-break number.
  features.use(contestFeature);
  features.use(sessionAdminFeature);
  features.use(nominationsFeature);
  features.use(scholarshipAdminFeature);
  features.use(familiesFeature);
  features.use(learningUnitsFeature);
  features.use(unitsFeature);
  features.use(programmesFeature);
  features.use(targetsFeature);
  features.use(reportFeature);
  features.use(groupFeature);
  features.use(unhandledFeature);
  guarded.use(features);
  return bot;
}
