import { autoRetry } from "@grammyjs/auto-retry";
import type { Transformer } from "grammy";

/** Waits out 429s and Telegram's 5xx (bounded); used on bot.api and inside conversations alike. */
export function retryPolitely(): Transformer {
  return autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60 });
}

/** Methods whose text or caption the bot writes in Telegram's HTML (every message it sends). */
const HTML_METHODS = new Set([
  "sendMessage", "editMessageText", "sendPhoto", "sendDocument", "sendVideo", "sendAnimation", "sendAudio", "sendVoice",
  "editMessageCaption", "copyMessage",
]);

/** Every text the bot writes is HTML (user values escaped where they are interpolated). */
export function htmlByDefault(): Transformer {
  return (prev, method, payload, signal) => {
    if (HTML_METHODS.has(method) && payload && !("parse_mode" in payload)) {
      payload = { ...payload, parse_mode: "HTML" } as typeof payload;
    }
    return prev(method, payload, signal);
  };
}

/**
 * Callback queries answered so far (by any API object: the bot's or a conversation's), so the
 * last middleware can answer those nobody answered and no query is answered twice.
 */
export class AnsweredQueries {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 10_000) {}
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!);
  }
  has(id: string): boolean {
    return this.ids.has(id);
  }
  /** Whether the query was answered; forgets it (each query is checked once, at the end). */
  take(id: string): boolean {
    return this.ids.delete(id);
  }
}

/**
 * Counts a query as answered from the moment the answer is sent, not when Telegram confirms it: a
 * flow answers a press beside its next question, and an error meanwhile must not answer it twice.
 * An answer that fails is taken back.
 */
export function recordAnswers(answered: AnsweredQueries): Transformer {
  return async (prev, method, payload, signal) => {
    const id = method === "answerCallbackQuery" ? String((payload as { callback_query_id: string }).callback_query_id) : undefined;
    if (id === undefined) return prev(method, payload, signal);
    answered.add(id);
    try {
      const result = await prev(method, payload, signal);
      if (!result.ok) answered.take(id);
      return result;
    } catch (err) {
      answered.take(id);
      throw err;
    }
  };
}

/** The plugins every API object of the bot uses, in order. */
export function apiPlugins(answered: AnsweredQueries): Transformer[] {
  return [retryPolitely(), htmlByDefault(), recordAnswers(answered)];
}
