import { Composer, GrammyError, InlineKeyboard } from "grammy";
import type { TopicDefinition } from "../../domain/settings/topics.js";
import type { TFunction } from "../../i18n.js";
import { cb, type TopicSwitch } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { onButton, type ButtonContext } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { topicLabel, topicTitle, unmuteButton, muteButton } from "../keyboards/topic-mute.js";

/**
 * Recipients stay in control: /settings switches each kind of message the bot starts on or off,
 * and the mute button under such a message switches its kind off (with an undo). Works for
 * anyone who writes to the bot, registered or not: a mute is stored by Telegram id alone.
 */
export const settingsFeature = new Composer<BotContext>();
const dm = settingsFeature.chatType("private");

const raw = { interpolation: { escapeValue: false } } as const;

/** The /settings message: every topic with its state, and one button per topic asking for the other state. */
export function settingsView(t: TFunction, topics: readonly TopicDefinition[], muted: ReadonlySet<string>): { text: string; keyboard: InlineKeyboard } {
  const keyboard = new InlineKeyboard();
  const lines: string[] = [];
  let group: string | undefined;
  for (const topic of topics) {
    // A blank line between groups (announcements, later sessions, quizzes…).
    if (group !== undefined && topic.group !== group) lines.push("");
    group = topic.group;
    const off = muted.has(topic.key);
    const title = topicTitle(t, topic);
    lines.push(`${off ? "🔕" : "✅"} ${title}`);
    const label = topicLabel(t, topic);
    keyboard.text(t(off ? "settings:unmute_button" : "settings:mute_button", { topic: label, ...raw }), cb.settingsTopic.pack(`${off ? "on" : "off"}:${topic.key}`)).row();
  }
  return { text: `${t("settings:title")}\n\n${lines.join("\n")}`, keyboard };
}

async function currentView(ctx: BotContext, userId: number) {
  const { topics, topicMutes } = ctx.deps.services;
  return settingsView(ctx.t, topics.list(), new Set(await topicMutes.mutedTopics(userId)));
}

function splitSwitch(value: TopicSwitch): { on: boolean; topic: string } {
  const colon = value.indexOf(":");
  return { on: value.slice(0, colon) === "on", topic: value.slice(colon + 1) };
}

/** The topic a button names, or undefined after answering politely (a removed topic, forged data). */
async function knownTopic(ctx: ButtonContext, topic: string): Promise<TopicDefinition | undefined> {
  const found = ctx.deps.services.topics.get(topic);
  if (found) return found;
  ctx.logger.info({ prefix: ctx.callbackQuery.data?.split(":")[0] }, "refused a button for an unknown topic");
  await ctx.answerCallbackQuery({ text: ctx.t("settings:unknown_topic") });
  return undefined;
}

dm.command("settings", async (ctx) => {
  const view = await currentView(ctx, ctx.from.id);
  await ctx.reply(view.text, { reply_markup: view.keyboard });
});

settingsFeature.use(
  onButton(cb.settingsTopic, async (ctx, value) => {
    const { on, topic } = splitSwitch(value);
    if (!(await knownTopic(ctx, topic))) return;
    await ctx.answerCallbackQuery();
    // The button names the state it asks for: pressing a stale one twice changes nothing.
    if (on) await ctx.deps.services.topicMutes.unmute(ctx.from.id, topic);
    else await ctx.deps.services.topicMutes.mute(ctx.from.id, topic);
    const view = await currentView(ctx, ctx.from.id);
    await editOrReply(ctx, view.text, view.keyboard);
  }),
);

settingsFeature.use(
  onButton(cb.muteTopic, async (ctx, value) => {
    const { on, topic } = splitSwitch(value);
    const def = await knownTopic(ctx, topic);
    if (!def) return;
    // Stored before the answer says so.
    if (on) await ctx.deps.services.topicMutes.unmute(ctx.from.id, topic);
    else await ctx.deps.services.topicMutes.mute(ctx.from.id, topic);
    const label = topicLabel(ctx.t, def);
    await ctx.answerCallbackQuery({ text: ctx.t(on ? "settings:unmuted_answer" : "settings:muted_answer", { topic: label, ...raw }) });
    const button = on ? muteButton(ctx.t, def) : unmuteButton(ctx.t, def);
    try {
      await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [[button]] } });
    } catch (e) {
      // A deleted or already switched message: the mute is stored and was confirmed all the same.
      if (!(e instanceof GrammyError) || e.error_code !== 400) throw e;
      ctx.logger.debug({ description: e.description }, "could not swap the mute button");
    }
  }),
);
