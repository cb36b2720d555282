// Message ids and dates shared by the update factories and every FakeTelegram.
//
// Why module-level: in a private chat the user's and the bot's messages share
// one id sequence. If the factories and the fake counted separately, a user
// message built by `textMessage()` could get the same id as a reply the fake
// already handed out, and edits/replies would hit the wrong message. One
// per-chat counter for both sides keeps ids unique and increasing, as on
// Telegram. Counters never go back (not even on `FakeTelegram.reset()`), which
// is harmless: Telegram ids only have to increase.

const lastMessageIdByChat = new Map<number, number>();
let lastDate = 0;

/** Allocates the next message id in a chat. */
export function nextMessageId(chatId: number): number {
  const next = (lastMessageIdByChat.get(chatId) ?? 0) + 1;
  lastMessageIdByChat.set(chatId, next);
  return next;
}

/** Makes sure later allocations in the chat come after an id created elsewhere. */
export function observeMessageId(chatId: number, messageId: number): void {
  if (messageId > (lastMessageIdByChat.get(chatId) ?? 0)) lastMessageIdByChat.set(chatId, messageId);
}

/** Current Unix time in seconds, never smaller than a date handed out before. */
export function nextDate(): number {
  lastDate = Math.max(lastDate, Math.floor(Date.now() / 1000));
  return lastDate;
}
