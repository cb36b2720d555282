// Factories for realistic incoming updates. They return updates without
// update_id; FakeTelegram.enqueueUpdate() assigns one. Private chats use
// chat.id === user.id as on Telegram. Message ids come from the same per-chat
// sequence the fake uses for the bot's own messages (see sequence.ts), so the
// two never collide; dates never go backwards.

import type { Chat, Document, Message, MessageEntity, PollAnswer, User } from "grammy/types";
import { DEFAULT_BOT_INFO, type NewUpdate } from "./rules.js";
import { nextDate, nextMessageId } from "./sequence.js";

export interface MakeUserOptions {
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export function makeUser(id: number, options: MakeUserOptions = {}): User {
  const user: User = { id, is_bot: false, first_name: options.first_name ?? `Người dùng ${id}` };
  if (options.last_name !== undefined) user.last_name = options.last_name;
  if (options.username !== undefined) user.username = options.username;
  if (options.language_code !== undefined) user.language_code = options.language_code;
  return user;
}

export function privateChat(user: User): Chat.PrivateChat {
  const chat: Chat.PrivateChat = { id: user.id, type: "private", first_name: user.first_name };
  if (user.last_name !== undefined) chat.last_name = user.last_name;
  if (user.username !== undefined) chat.username = user.username;
  return chat;
}

/** Fields every user message in a private chat has. */
function baseMessage(from: User): { message_id: number; date: number; chat: Chat.PrivateChat; from: User } {
  const chat = privateChat(from);
  return { message_id: nextMessageId(chat.id), date: nextDate(), chat, from };
}

type IncomingMessage = Message & { chat: Chat.PrivateChat; from: User };

const messageUpdate = (message: Record<string, unknown>): NewUpdate => ({ message: message as unknown as IncomingMessage });

export interface TextMessageOptions {
  entities?: MessageEntity[];
  reply_to_message?: Message;
}

export function textMessage(from: User, text: string, options: TextMessageOptions = {}): NewUpdate {
  const message: Record<string, unknown> = { ...baseMessage(from), text };
  if (options.entities !== undefined && options.entities.length > 0) message.entities = options.entities;
  if (options.reply_to_message !== undefined) message.reply_to_message = options.reply_to_message;
  return messageUpdate(message);
}

/** `/cmd args` with the bot_command entity Telegram attaches. `cmd` may include the leading slash. */
export function command(from: User, cmd: string, args?: string): NewUpdate {
  const name = cmd.startsWith("/") ? cmd : `/${cmd}`;
  const text = args === undefined || args === "" ? name : `${name} ${args}`;
  return textMessage(from, text, { entities: [{ type: "bot_command", offset: 0, length: name.length }] });
}

let callbackCounter = 0;

/**
 * A button press. `message` should be the bot message carrying the keyboard
 * (e.g. the result of the sendMessage call); without it a stand-in bot
 * message is created, which the fake treats as editable.
 */
export function callbackQuery(from: User, data: string, message?: Message): NewUpdate {
  const id = `${from.id}${String(++callbackCounter).padStart(6, "0")}`;
  const { id: botId, is_bot, first_name, username } = DEFAULT_BOT_INFO;
  const carrier =
    message ??
    ({
      message_id: nextMessageId(from.id),
      date: nextDate(),
      chat: privateChat(from),
      from: { id: botId, is_bot, first_name, username },
      text: "…",
    } as Message);
  return {
    callback_query: { id, from, chat_instance: `ci${from.id}`, data, message: carrier },
  } as NewUpdate;
}

export interface ContactOptions {
  phone_number: string;
  /** Set to the sender's id when users share their own contact (the usual case). */
  user_id?: number;
  first_name?: string;
}

export function contactMessage(from: User, contact: ContactOptions): NewUpdate {
  const shared: Record<string, unknown> = {
    phone_number: contact.phone_number,
    first_name: contact.first_name ?? from.first_name,
  };
  if (contact.user_id !== undefined) shared.user_id = contact.user_id;
  return messageUpdate({ ...baseMessage(from), contact: shared });
}

let fileCounter = 0;
const fakeFileIds = (prefix: string) => {
  const n = (++fileCounter).toString(36).padStart(6, "0");
  return { file_id: `${prefix}AgADAgAD${n}UserFile`, file_unique_id: `AQAD${n}` };
};

/** A location shared with the attachment menu or a "request_location" button. */
export function locationMessage(from: User, latitude: number, longitude: number): NewUpdate {
  return messageUpdate({ ...baseMessage(from), location: { latitude, longitude } });
}

export function stickerMessage(from: User, emoji = "👍"): NewUpdate {
  const sticker = {
    ...fakeFileIds("CAAC"),
    type: "regular",
    width: 512,
    height: 512,
    is_animated: false,
    is_video: false,
    emoji,
    file_size: 24_000,
  };
  return messageUpdate({ ...baseMessage(from), sticker });
}

export function photoMessage(from: User, caption?: string): NewUpdate {
  const sizes = [
    { width: 90, height: 68, file_size: 1_500 },
    { width: 320, height: 240, file_size: 18_000 },
    { width: 1280, height: 960, file_size: 120_000 },
  ].map((size) => ({ ...fakeFileIds("AgAC"), ...size }));
  const message: Record<string, unknown> = { ...baseMessage(from), photo: sizes };
  if (caption !== undefined) message.caption = caption;
  return messageUpdate(message);
}

/**
 * An edit of one of the user's messages. Pass the original message id to
 * edit a specific message; otherwise a fresh id is used.
 */
export function editedMessage(from: User, text: string, messageId?: number): NewUpdate {
  const base = messageId === undefined ? baseMessage(from) : { message_id: messageId, date: nextDate(), chat: privateChat(from), from };
  const edited = { ...base, text, edit_date: nextDate() };
  return { edited_message: edited as unknown as NonNullable<NewUpdate["edited_message"]> };
}

/** A vote in a non-anonymous poll the bot sent (poll id from the sendPoll result). */
export function pollAnswer(user: User, pollId: string, optionIds: number[]): NewUpdate {
  const answer: PollAnswer = {
    poll_id: pollId,
    user,
    option_ids: optionIds,
    option_persistent_ids: optionIds.map(String),
  };
  return { poll_answer: answer };
}

/** A file a user sends; make `document` with fake.userDocument() so the bot can download it. */
export function documentMessage(from: User, document: Document, caption?: string): NewUpdate {
  const message: Record<string, unknown> = { ...baseMessage(from), document };
  if (caption !== undefined) message.caption = caption;
  return messageUpdate(message);
}
