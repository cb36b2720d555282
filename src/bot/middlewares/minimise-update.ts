import type { Context, MiddlewareFn } from "grammy";
import type { Message, Update } from "grammy/types";

/**
 * Keeps of each incoming update only what a handler or a flow step reads, before anything stores
 * it. Conversations store every update they see (for 7 days) and /mydata exports them, so what is
 * dropped here is never kept: a neighbour's contact (phone and name), forwarded senders' names,
 * quoted and replied-to messages, media and captions. A button press loses the message it was on
 * (a province keyboard alone is ~3 KB, replayed on every later step) except its identity.
 */
export function minimiseUpdate(): MiddlewareFn<Context> {
  return (ctx, next) => {
    const u = ctx.update as Update & Record<string, unknown>;
    if (u.message) u.message = minimalMessage(u.message) as typeof u.message;
    if (u.edited_message) u.edited_message = identity(u.edited_message) as typeof u.edited_message;
    const query = u.callback_query;
    // The bot's own message: its sender is the bot, which nothing reads.
    if (query?.message) query.message = identity(query.message as Message, false) as typeof query.message;
    return next();
  };
}

function identity(m: Message, withSender = true): Message {
  const kept: Record<string, unknown> = { message_id: m.message_id, date: m.date, chat: m.chat };
  if (m.from && withSender) kept.from = m.from;
  return kept as unknown as Message;
}

/** Formatting a person applies in their Telegram app: an officer's broadcast keeps it (as HTML). */
const FORMATTING = new Set(["bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link", "blockquote", "expandable_blockquote"]);

function minimalMessage(m: Message): Message {
  const kept = identity(m) as unknown as Record<string, unknown>;
  if (m.text !== undefined) {
    kept.text = m.text;
    // A leading command's entity (the command and its arguments) and formatting; never mentions.
    const read = m.entities?.filter((e) => (e.type === "bot_command" && e.offset === 0) || FORMATTING.has(e.type));
    if (read?.length) kept.entities = read;
  }
  if (m.contact) {
    // The person's own contact (the phone step); anyone else's is only marked as not theirs.
    kept.contact = m.contact.user_id !== undefined && m.contact.user_id === m.from?.id
      ? { phone_number: m.contact.phone_number, first_name: m.contact.first_name, user_id: m.contact.user_id }
      : { phone_number: "", first_name: "" };
  }
  // A photo or a file (an officer's broadcast, an import): the largest size's file id, the file's
  // name and type, and the caption; never the bytes, which stay with Telegram.
  if (m.photo?.length) {
    const { file_id, file_unique_id, width, height } = m.photo.at(-1)!;
    kept.photo = [{ file_id, file_unique_id, width, height }];
  }
  if (m.document) {
    const { file_id, file_unique_id, file_name, mime_type, file_size } = m.document;
    kept.document = { file_id, file_unique_id, file_name, mime_type, file_size };
  }
  if ((m.photo?.length || m.document) && m.caption !== undefined) {
    kept.caption = m.caption;
    const formatting = m.caption_entities?.filter((e) => FORMATTING.has(e.type));
    if (formatting?.length) kept.caption_entities = formatting;
  }
  // A location shared in the chat (a centre's place, "near me"): the point only, never live-location details.
  if (m.location) kept.location = { latitude: m.location.latitude, longitude: m.location.longitude };
  // Other kinds (stickers, voice, venues…) keep only their identity: a message without text,
  // contact or file is answered as "I can only read text and buttons".
  // Group service messages the features read (the bot added to or removed from a group).
  if (m.new_chat_members) kept.new_chat_members = m.new_chat_members;
  if (m.left_chat_member) kept.left_chat_member = m.left_chat_member;
  return kept as unknown as Message;
}
