import { conversations, createConversation } from "@grammyjs/conversations";
import { sequentialize } from "@grammyjs/runner";
import { Bot, BotError, Composer, GrammyError, HttpError, session, type BotConfig } from "grammy";
import type { BotContext, ConvContext, Deps, SessionData } from "./context.js";
import { EDIT_PROFILE, editProfile } from "./conversations/edit-profile.js";
import { CONVERSATION_VERSION, REGISTRATION, registration } from "./conversations/registration.js";
import { keepFlowOnError } from "./conversations/resilient.js";
import { adminFeature } from "./features/admin.js";
import { cancelFeature } from "./features/cancel.js";
import { helpFeature } from "./features/help.js";
import { languageFeature } from "./features/language.js";
import { officerFeature } from "./features/officer.js";
import { privacyFeature } from "./features/privacy.js";
import { profileFeature } from "./features/profile.js";
import { startFeature } from "./features/start.js";
import { unhandledFeature } from "./features/unhandled.js";
import { conversationPlugins, i18nMiddleware, injectDeps, retryPolitely, trimCallbackMessages } from "./middlewares/inject.js";
import { sessionKey } from "./session-key.js";

/**
 * Builds the bot without connecting or listening: main.ts picks the transport, tests feed
 * updates with handleUpdate. This is the one place where middleware order is written down.
 */
export function createBot(token: string, deps: Deps, config?: BotConfig<BotContext>): Bot<BotContext> {
  const bot = new Bot<BotContext>(token, config);
  bot.api.config.use(retryPolitely());

  bot.use(injectDeps(deps), trimCallbackMessages());
  // One key for ordering, session and conversations: a chat's updates never race each other.
  bot.use(sequentialize(sessionKey));
  bot.use(session<SessionData, BotContext>({ initial: () => ({}), storage: deps.sessions, getSessionKey: sessionKey }));
  bot.use(i18nMiddleware());

  const privateChats = bot.chatType("private");
  // Groups and channels: the bot handles people one by one, in private.
  bot.drop((ctx) => ctx.chat?.type === "private" || !ctx.chat).on("message::bot_command", (ctx) =>
    ctx.reply(ctx.t("common:errors.private_only"), { parse_mode: "HTML" }),
  );

  const features = new Composer<BotContext>();
  features.use(
    conversations<BotContext, ConvContext>({
      storage: { type: "key", version: CONVERSATION_VERSION, getStorageKey: sessionKey, adapter: deps.conversations as never },
      plugins: conversationPlugins(deps) as never,
      onEnter: (id, ctx) => ctx.logger.debug({ conversation: id }, "conversation entered"),
    }),
  );
  // Before the conversations run, so /cancel is never swallowed as an answer.
  features.use(cancelFeature);
  features.use(createConversation<BotContext, ConvContext>(keepFlowOnError(registration), { id: REGISTRATION }));
  features.use(createConversation<BotContext, ConvContext>(keepFlowOnError(editProfile), { id: EDIT_PROFILE }));
  features.use(startFeature, languageFeature, helpFeature, profileFeature, privacyFeature, officerFeature, adminFeature);
  features.use(unhandledFeature);

  privateChats.errorBoundary(apologise).use(features);
  return bot;
}

/** Contains a failed update: logged with the update, and the person gets a polite answer. */
async function apologise(err: BotError<BotContext>): Promise<void> {
  const ctx = err.ctx;
  const e = err.error;
  const kind = e instanceof GrammyError ? "telegram" : e instanceof HttpError ? "network" : "internal";
  ctx.logger.error({ err: e, kind, update_id: ctx.update.update_id }, "update failed");
  try {
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: ctx.t("common:errors.internal_short") }).catch(() => {});
    if (ctx.chat) await ctx.reply(ctx.t("common:errors.internal"), { parse_mode: "HTML" });
  } catch (replyError) {
    ctx.logger.warn({ err: replyError }, "could not apologise for a failed update");
  }
}
