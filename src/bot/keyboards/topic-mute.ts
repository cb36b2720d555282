import type { InlineKeyboardButton, InlineKeyboardMarkup } from "grammy/types";
import type { TopicDefinition } from "../../domain/settings/topics.js";
import type { TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";

// Button texts are not parsed as HTML: nothing to escape.
const plain = { interpolation: { escapeValue: false } } as const;

/** A topic's label for the middle of a sentence ("thông báo từ Công an"). */
export function topicLabel(t: TFunction, topic: TopicDefinition): string {
  return t(topic.labelKey);
}

/** The same label starting a line or a button ("Thông báo từ Công an"). */
export function topicTitle(t: TFunction, topic: TopicDefinition): string {
  const label = topicLabel(t, topic);
  return label.charAt(0).toLocaleUpperCase("vi") + label.slice(1);
}

/**
 * The button under every message the bot starts on a topic (broadcasts, reminders, prompts):
 * pressing it mutes the topic for the presser and turns into the undo button.
 */
export function muteButton(t: TFunction, topic: TopicDefinition): InlineKeyboardButton.CallbackButton {
  return { text: t("settings:mute_button", { topic: topicLabel(t, topic), ...plain }), callback_data: cb.muteTopic.pack(`off:${topic.key}`) };
}

/** What the mute button becomes once pressed, so a mis-tap is undone in one more tap. */
export function unmuteButton(t: TFunction, topic: TopicDefinition): InlineKeyboardButton.CallbackButton {
  return { text: t("settings:unmute_button", { topic: topicLabel(t, topic), ...plain }), callback_data: cb.muteTopic.pack(`on:${topic.key}`) };
}

/**
 * The reply_markup for such a message. Pressing the button replaces the whole keyboard with the
 * undo button (button presses arrive without the message's keyboard), so it should be the only one.
 */
export function muteKeyboard(t: TFunction, topic: TopicDefinition): InlineKeyboardMarkup {
  return { inline_keyboard: [[muteButton(t, topic)]] };
}
