// Telegram's sending limits (Bot FAQ): ~30 messages/s in bulk, 1/s per private
// chat, 20/min per group; allow_paid_broadcast raises bulk sending to 1,000/s.
// Sliding windows of accepted-send timestamps, read from an injectable clock so
// tests can step time instead of sleeping.

import type { Chat } from "grammy/types";

export interface SendLimits {
  /** Sends per second over all chats (default 30). */
  globalPerSecond?: number;
  /** Sends per second to one private chat (default 1). */
  perChatPerSecond?: number;
  /** Sends per minute to one group, supergroup or channel (default 20). */
  perGroupPerMinute?: number;
  /** Sends per second over all chats when the call carries allow_paid_broadcast: true (default 1000). */
  paidGlobalPerSecond?: number;
  /** retry_after in a 429: a fixed number of seconds, or (default) the whole seconds until the window frees. */
  retryAfterSeconds?: number | "computed";
}

export type ResolvedSendLimits = Required<SendLimits>;

export const DEFAULT_SEND_LIMITS: ResolvedSendLimits = {
  globalPerSecond: 30,
  perChatPerSecond: 1,
  perGroupPerMinute: 20,
  paidGlobalPerSecond: 1000,
  retryAfterSeconds: "computed",
};

/** Ascending timestamps of the sends still inside a window of `spanMs`. */
class SlidingWindow {
  private times: number[] = [];
  private head = 0;

  constructor(private readonly spanMs: number) {}

  count(now: number): number {
    while (this.head < this.times.length && this.times[this.head]! + this.spanMs <= now) this.head++;
    // Compact now and then so a long benchmark does not keep every timestamp ever seen.
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  /** Milliseconds until fewer than `limit` sends remain in the window (0: there is room now). */
  waitMs(now: number, limit: number): number {
    const count = this.count(now);
    if (count < limit) return 0;
    if (limit <= 0) return Number.POSITIVE_INFINITY;
    // The oldest (count - limit + 1) sends must age out before one more fits.
    return Math.max(1, this.times[this.head + count - limit]! + this.spanMs - now);
  }

  add(now: number): void {
    this.times.push(now);
  }
}

const isPrivate = (chat: Chat): boolean => chat.type === "private";

/** Admits or refuses sends against the configured limits; knows nothing about the Bot API otherwise. */
export class SendLimiter {
  private readonly global = new SlidingWindow(1000);
  private readonly perChat = new Map<number, SlidingWindow>();
  private admissions = 0;

  constructor(readonly limits: ResolvedSendLimits) {}

  /** Records the send and returns undefined, or returns retry_after (seconds) without recording it. */
  admit(chat: Chat, paid: boolean, now: number): number | undefined {
    const { globalPerSecond, paidGlobalPerSecond, perChatPerSecond, perGroupPerMinute } = this.limits;
    const chatWindow = this.chatWindow(chat);
    const wait = Math.max(
      this.global.waitMs(now, paid ? paidGlobalPerSecond : globalPerSecond),
      chatWindow.waitMs(now, isPrivate(chat) ? perChatPerSecond : perGroupPerMinute),
    );
    if (wait > 0) {
      const fixed = this.limits.retryAfterSeconds;
      return fixed === "computed" ? Math.max(1, Math.ceil(Math.min(wait, 86_400_000) / 1000)) : fixed;
    }
    this.global.add(now);
    chatWindow.add(now);
    if (++this.admissions % 4096 === 0) this.forgetIdleChats(now);
    return undefined;
  }

  private chatWindow(chat: Chat): SlidingWindow {
    let window = this.perChat.get(chat.id);
    if (window === undefined) {
      window = new SlidingWindow(isPrivate(chat) ? 1000 : 60_000);
      this.perChat.set(chat.id, window);
    }
    return window;
  }

  /** A broadcast touches each chat once: drop windows that emptied so 20,000 chats do not pile up. */
  private forgetIdleChats(now: number): void {
    for (const [id, window] of this.perChat) if (window.count(now) === 0) this.perChat.delete(id);
  }
}
