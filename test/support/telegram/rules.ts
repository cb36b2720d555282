// The simulated Telegram: state plus the rules Telegram enforces, without any
// I/O. Transports (client-fetch.ts, http-server.ts) feed it parsed payloads.
//
// Guiding rule: reject what real Telegram rejects, with its wording, and
// accept what it accepts. Where the fake cannot simulate something Telegram
// supports, it throws UnsupportedByFakeError instead of inventing a Telegram
// error, so a test never blames production for a gap in the fake.

import type {
  BotCommand,
  Chat,
  Document,
  File,
  InlineKeyboardMarkup,
  Message,
  MessageEntity,
  PhotoSize,
  ResponseParameters,
  Update,
  User,
  UserFromGetMe,
} from "grammy/types";
import { formatText, type FormattedText } from "./formatting.js";
import { BOT_API_METHODS } from "./known-methods.js";
import { DEFAULT_SEND_LIMITS, SendLimiter, type ResolvedSendLimits, type SendLimits } from "./limits.js";
import { sameMarkup, validateReplyMarkup, type ValidatedMarkup } from "./markup.js";
import {
  ApiRejection,
  badRequest,
  isRecord,
  normalizePayload,
  ok,
  Params,
  UnsupportedByFakeError,
  UploadedFile,
  utf16Length,
  type ApiResponse,
  type ApiSuccess,
} from "./params.js";
import { photoSizes, readImageInfo, validPhotoDimensions } from "./photos.js";
import { nextDate, nextMessageId, observeMessageId } from "./sequence.js";

export { ApiRejection, UnsupportedByFakeError, UploadedFile };
export { DEFAULT_SEND_LIMITS, type ResolvedSendLimits, type SendLimits };
export type { ApiFailure, ApiResponse, ApiSuccess } from "./params.js";

export const DEFAULT_BOT_TOKEN = "7000000001:AAFakeKhuyenHocTestToken_0123456789";

export const DEFAULT_BOT_INFO: UserFromGetMe = {
  id: 7000000001,
  is_bot: true,
  first_name: "Khuyến học",
  username: "khuyenhoc_test_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
};

/** An update as tests write it: update_id is assigned by the fake when missing. */
export type NewUpdate = Omit<Update, "update_id"> & { update_id?: number };

export interface RecordedCall {
  /** Canonical method name (e.g. "sendMessage" even if called as "sendmessage"). */
  method: string;
  /** Parameters with JSON-string fields decoded; uploaded files appear as UploadedFile. */
  payload: Record<string, unknown>;
  ok: boolean;
  /** Telegram's description when the call failed. */
  error?: string;
  error_code?: number;
  result?: unknown;
}

export interface InjectedFailure {
  error_code: number;
  description: string;
  parameters?: ResponseParameters;
}

export interface WebhookSettings {
  url: string;
  secret_token?: string;
  max_connections: number;
  ip_address?: string;
}

export interface StoredDocument {
  chat_id: number;
  message_id: number;
  file_id: string;
  file_unique_id: string;
  file_name: string;
  mime_type: string;
  file_size: number;
  /** Raw uploaded bytes, e.g. to parse a generated CSV/XLSX in a test. */
  content: Buffer;
}

export type FakeTelegramEvent =
  | { type: "update"; update: Update }
  | { type: "webhook"; webhook: WebhookSettings | undefined }
  | { type: "call"; call: RecordedCall };

export interface FakeTelegramOptions {
  token?: string;
  botInfo?: Partial<UserFromGetMe>;
  /** Milliseconds for the sending limits and send statistics (default Date.now). */
  clock?: () => number;
  /** Sending limits from the start (default: none); see setLimits(). */
  limits?: SendLimits;
  /**
   * Keep every call in `calls` (default true). Benchmarks pass false so tens of
   * thousands of sends do not pile up; events, waitForCall (for new calls),
   * sendStats() and acceptedSends() still work, sent()/lastText() see nothing.
   */
  recordCalls?: boolean;
}

/** One message Telegram accepted from a send method (not edits). */
export interface AcceptedSend {
  method: string;
  chat_id: number;
  message_id: number;
  /** Clock time (ms) when it was accepted. */
  at: number;
  /** Sent with allow_paid_broadcast: true. */
  paid: boolean;
  /** Visible text, caption or poll question ("" for a bare photo/document). */
  text: string;
  /** file_unique_id of the photo (largest size) or document sent. */
  file_unique_id?: string;
}

export interface SendStats {
  /** Messages accepted by send methods. */
  accepted: number;
  /** Of those, sent with allow_paid_broadcast: true. */
  paidAccepted: number;
  /** Sends refused with 429 by the configured limits (injected failures not included). */
  rateLimited: number;
  /** Refused send calls by Telegram's description, 429s and injected failures included. */
  rejected: Map<string, number>;
  /** Accepted sends per chat id. */
  perChat: Map<number, number>;
  /** Clock times (ms) of the first and last accepted send. */
  firstAcceptedAt: number | undefined;
  lastAcceptedAt: number | undefined;
}

/** A chat that received the same content more than once. */
export interface DuplicateSend {
  chat_id: number;
  method: string;
  text: string;
  file_unique_id?: string;
  count: number;
}

interface StoredMessage {
  message: Message;
  fromBot: boolean;
}

type Handler = (p: Params) => ApiSuccess;

const NOT_FOUND = { ok: false, error_code: 404, description: "Not Found" } as const;
const QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid";
const NOT_MODIFIED =
  "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
const WEBHOOK_ACTIVE =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** Update types Telegram withholds unless explicitly listed in allowed_updates. */
const OPT_IN_UPDATE_TYPES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);

/** Methods whose successful calls `sent()` reports. */
const SEND_OR_EDIT = new Set(["sendMessage", "sendPhoto", "sendDocument", "sendPoll", "sendVenue", "editMessageText", "editMessageReplyMarkup"]);

/** Methods that post a new message, so Telegram's sending limits apply (those the fake lacks throw before). */
const SEND_METHODS = new Set([
  "sendMessage", "sendPhoto", "sendDocument", "sendPoll", "sendVenue", "sendLocation", "sendContact",
  "sendDice", "sendSticker", "sendVideo", "sendAnimation", "sendAudio", "sendVoice", "sendVideoNote",
  "sendMediaGroup", "sendPaidMedia", "sendInvoice", "sendGame", "copyMessage", "copyMessages",
  "forwardMessage", "forwardMessages",
]);

/** Telegram's 403 for each kind of chat that shut the bot out. */
const SHUT_OUT: Record<string, string> = {
  private: "Forbidden: bot was blocked by the user",
  group: "Forbidden: bot was kicked from the group chat",
  supergroup: "Forbidden: bot was kicked from the supergroup chat",
  channel: "Forbidden: bot is not a member of the channel chat",
};
const DEACTIVATED = "Forbidden: user is deactivated";
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

const CHAT_ACTIONS = new Set([
  "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
  "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
]);

const COMMAND_SCOPES = new Set([
  "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
  "chat", "chat_administrators", "chat_member",
]);

const MIME_BY_EXTENSION: Record<string, string> = {
  csv: "text/csv", txt: "text/plain", json: "application/json", pdf: "application/pdf",
  xml: "application/xml", html: "text/html", zip: "application/zip",
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  xls: "application/vnd.ms-excel",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  doc: "application/msword",
};

const messageKey = (chatId: number, messageId: number): string => `${chatId}:${messageId}`;
const clone = <T>(value: T): T => structuredClone(value);

/** The field naming an update's type ("message", "callback_query", ...). */
export function updateType(update: NewUpdate): string | undefined {
  return Object.keys(update).find((key) => key !== "update_id");
}

export class FakeTelegram {
  readonly token: string;
  readonly botInfo: UserFromGetMe;
  /** Every API call in order, successful or not. */
  readonly calls: RecordedCall[] = [];
  /** Every document the bot sent, with its bytes. */
  readonly documents: StoredDocument[] = [];

  /** False: `calls` stays empty (see FakeTelegramOptions.recordCalls). */
  recordCalls: boolean;

  private readonly chats = new Map<number, Chat>();
  /** Chats that blocked the bot or whose account is gone. */
  private readonly unreachableChats = new Map<number, "blocked" | "deactivated">();
  /** Files the bot may re-send by file_id: photos (every size's id) and documents, sent or seen in updates. */
  private readonly photoFiles = new Map<string, PhotoSize[]>();
  private readonly documentFiles = new Map<string, DocumentFile>();
  private readonly clock: () => number;
  private botAsUser: User | undefined;
  private limiter: SendLimiter | undefined;
  private acceptedLog: AcceptedSend[] = [];
  private readonly acceptedPerChat = new Map<number, number>();
  private readonly rejectedSends = new Map<string, number>();
  private rateLimitedCount = 0;
  private paidAcceptedCount = 0;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly callbackQueries = new Map<string, { answered: boolean }>();
  private readonly failures = new Map<string, InjectedFailure[]>();
  private readonly commands = new Map<string, BotCommand[]>();
  /** The bot's description and short description, per language ("" = default). */
  private readonly descriptions = new Map<string, string>();
  private readonly menuButtons = new Map<string, unknown>();
  private readonly listeners = new Set<(event: FakeTelegramEvent) => void>();
  private updates: Update[] = [];
  /** Never reset: a bot that keeps polling across reset() must still see new updates. */
  private nextUpdateId = 1;
  private allowedUpdates: string[] | undefined;
  private webhookSettings: WebhookSettings | undefined;
  private webhookError: { date: number; message: string } | undefined;
  private fileCounter = 0;
  private pollCounter = 0;

  private readonly handlers: Record<string, Handler> = {
    getMe: () => ok(clone(this.botInfo)),
    logOut: () => ok(true),
    close: () => ok(true),
    getUpdates: (p) => this.getUpdates(p),
    setWebhook: (p) => this.setWebhook(p),
    deleteWebhook: (p) => this.removeWebhook(p.bool("drop_pending_updates")),
    getWebhookInfo: () => ok(this.webhookInfo()),
    sendMessage: (p) => this.sendMessage(p),
    editMessageText: (p) => this.editMessageText(p),
    editMessageReplyMarkup: (p) => this.editMessageReplyMarkup(p),
    deleteMessage: (p) => this.deleteMessage(p),
    answerCallbackQuery: (p) => this.answerCallbackQuery(p),
    setMyCommands: (p) => this.setMyCommands(p),
    getMyCommands: (p) => ok(clone(this.commands.get(this.commandsKey(p)) ?? [])),
    deleteMyCommands: (p) => {
      this.commands.delete(this.commandsKey(p));
      return ok(true);
    },
    sendDocument: (p) => this.sendDocument(p),
    sendVenue: (p) => this.sendVenue(p),
    getFile: (p) => this.getFile(p),
    sendPhoto: (p) => this.sendPhoto(p),
    sendChatAction: (p) => this.sendChatAction(p),
    sendPoll: (p) => this.sendPoll(p),
    setMyDescription: (p) => this.setDescription(p, "description", 512),
    getMyDescription: (p) => ok({ description: this.descriptions.get(`description:${this.languageOf(p)}`) ?? "" }),
    setMyShortDescription: (p) => this.setDescription(p, "short_description", 120),
    getMyShortDescription: (p) => ok({ short_description: this.descriptions.get(`short_description:${this.languageOf(p)}`) ?? "" }),
    setChatMenuButton: (p) => this.setChatMenuButton(p),
    getChatMenuButton: (p) => ok(clone(this.menuButtons.get(this.menuButtonKey(p)) ?? { type: "commands" })),
  };
  private readonly handlerByLowerName = new Map(
    Object.keys(this.handlers).map((name) => [name.toLowerCase(), name] as const),
  );
  private readonly realMethodsLower = new Set(BOT_API_METHODS.map((name) => name.toLowerCase()));

  constructor(options: FakeTelegramOptions = {}) {
    this.token = options.token ?? DEFAULT_BOT_TOKEN;
    this.botInfo = { ...DEFAULT_BOT_INFO, ...options.botInfo };
    this.clock = options.clock ?? Date.now;
    this.recordCalls = options.recordCalls ?? true;
    if (options.limits !== undefined) this.setLimits(options.limits);
  }

  // ---------------------------------------------------------------- dispatch

  isAuthorized(token: string): boolean {
    return token === this.token;
  }

  /**
   * Runs one Bot API method like Telegram would. Method names are
   * case-insensitive. Returns Telegram's JSON body; throws
   * UnsupportedByFakeError for real methods/features the fake lacks.
   * `record: false` is for transports that re-run a call (long polling) and
   * record the final outcome themselves via recordCall().
   */
  call(method: string, payload: Record<string, unknown> = {}, options: { record?: boolean } = {}): ApiResponse {
    const name = this.handlerByLowerName.get(method.toLowerCase());
    const normalized = normalizePayload(payload);
    const record = (response: ApiResponse) => {
      if (!response.ok && name !== undefined && SEND_METHODS.has(name)) {
        this.rejectedSends.set(response.description, (this.rejectedSends.get(response.description) ?? 0) + 1);
      }
      if (options.record !== false) this.recordCall(name ?? method, normalized, response);
      return response;
    };
    if (name === undefined) {
      if (this.realMethodsLower.has(method.toLowerCase())) {
        const error = new UnsupportedByFakeError(`method ${method}`);
        record({ ok: false, error_code: 501, description: error.message });
        throw error;
      }
      return record({ ...NOT_FOUND });
    }
    const injected = this.takeInjectedFailure(name);
    if (injected !== undefined) return record(injected);
    try {
      return record(this.handlers[name]!(new Params(normalized)));
    } catch (error) {
      if (error instanceof ApiRejection) return record(error.toResponse());
      if (error instanceof UnsupportedByFakeError) record({ ok: false, error_code: 501, description: error.message });
      throw error;
    }
  }

  recordCall(method: string, payload: Record<string, unknown>, response: ApiResponse): void {
    const call: RecordedCall = response.ok
      ? { method, payload, ok: true, result: response.result }
      : { method, payload, ok: false, error: response.description, error_code: response.error_code };
    if (this.recordCalls) this.calls.push(call);
    this.emit({ type: "call", call });
  }

  // ---------------------------------------------------------- test helpers

  /** Makes the next `times` calls of `method` fail with this error (e.g. a 429 with retry_after). */
  failNext(method: string, failure: InjectedFailure, times = 1): void {
    const key = method.toLowerCase();
    const queue = this.failures.get(key) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.failures.set(key, queue);
  }

  /** Lets the bot talk to a chat, as if the user had started it. */
  registerChat(id: number, chat: Partial<Chat> = {}): Chat {
    const existing = this.chats.get(id) ?? defaultChat(id);
    const merged = { ...existing, ...chat, id } as Chat;
    this.chats.set(id, merged);
    return merged;
  }

  /** From now on sending to this chat fails with 403, like a user who blocked the bot (or a group that removed it). */
  blockChat(id: number): void {
    this.unreachableChats.set(id, "blocked");
  }

  /** From now on sending to this chat fails with 403 "Forbidden: user is deactivated" (a deleted account). */
  deactivateChat(id: number): void {
    this.unreachableChats.set(id, "deactivated");
  }

  /** Undoes blockChat() or deactivateChat(): the person is reachable again. */
  unblockChat(id: number): void {
    this.unreachableChats.delete(id);
  }

  /**
   * Enforces Telegram's sending limits on send methods (not edits, not
   * answerCallbackQuery): over a limit the call gets 429 "Too Many Requests:
   * retry after N" with parameters.retry_after = N. Unset fields take
   * Telegram's values (DEFAULT_SEND_LIMITS); Infinity switches one limit off;
   * `undefined` switches all of them off (the default). Windows restart on
   * every call.
   */
  setLimits(limits: SendLimits | undefined): void {
    if (limits === undefined) {
      this.limiter = undefined;
      return;
    }
    const defined = Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
    this.limiter = new SendLimiter({ ...DEFAULT_SEND_LIMITS, ...defined });
  }

  /** The limits in force, or undefined when sending is unlimited. */
  get limits(): ResolvedSendLimits | undefined {
    return this.limiter === undefined ? undefined : { ...this.limiter.limits };
  }

  /** Counters a delivery benchmark needs, whether or not limits are on and calls recorded. */
  sendStats(): SendStats {
    return {
      accepted: this.acceptedLog.length,
      paidAccepted: this.paidAcceptedCount,
      rateLimited: this.rateLimitedCount,
      rejected: new Map(this.rejectedSends),
      perChat: new Map(this.acceptedPerChat),
      firstAcceptedAt: this.acceptedLog[0]?.at,
      lastAcceptedAt: this.acceptedLog.at(-1)?.at,
    };
  }

  /** Every message send methods delivered, in order, optionally only those to one chat. */
  acceptedSends(chatId?: number): AcceptedSend[] {
    const sends = chatId === undefined ? this.acceptedLog : this.acceptedLog.filter((send) => send.chat_id === chatId);
    return sends.map((send) => ({ ...send }));
  }

  /** Chats that got the same method, text and file more than once (e.g. a broadcast re-sent after a crash). */
  duplicateSends(): DuplicateSend[] {
    const seen = new Map<string, DuplicateSend>();
    for (const send of this.acceptedLog) {
      const key = JSON.stringify([send.chat_id, send.method, send.text, send.file_unique_id ?? null]);
      const entry = seen.get(key);
      if (entry !== undefined) entry.count++;
      else {
        const first: DuplicateSend = { chat_id: send.chat_id, method: send.method, text: send.text, count: 1 };
        if (send.file_unique_id !== undefined) first.file_unique_id = send.file_unique_id;
        seen.set(key, first);
      }
    }
    return [...seen.values()].filter((entry) => entry.count > 1);
  }

  /** Zeroes sendStats() and forgets acceptedSends(); limits and their windows stay. */
  resetSendStats(): void {
    this.acceptedLog = [];
    this.acceptedPerChat.clear();
    this.rejectedSends.clear();
    this.rateLimitedCount = 0;
    this.paidAcceptedCount = 0;
  }

  /** Makes a callback query id answerable (once). enqueueUpdate does this for callback_query updates. */
  registerCallbackQuery(id: string): void {
    if (!this.callbackQueries.has(id)) this.callbackQueries.set(id, { answered: false });
  }

  /**
   * Learns what an update implies (known chats, user message ids, callback
   * query ids) without queueing it — for tests that call bot.handleUpdate()
   * directly instead of polling/webhooks.
   */
  registerUpdate(update: NewUpdate): void {
    for (const message of updateMessages(update)) this.learnMessage(message);
    const query = update.callback_query;
    if (query !== undefined) {
      this.registerCallbackQuery(query.id);
      this.registerChat(query.from.id, privateChatOf(query.from));
    }
    const voter = update.poll_answer?.user;
    if (voter !== undefined) this.registerChat(voter.id, privateChatOf(voter));
    for (const member of [update.my_chat_member, update.chat_member]) {
      if (member !== undefined) this.registerChat(member.chat.id, member.chat);
    }
  }

  /** Queues an update for getUpdates/webhook delivery; assigns update_id when missing. */
  enqueueUpdate(update: NewUpdate): Update {
    const { update_id: given, ...content } = update;
    const id = given ?? this.nextUpdateId;
    this.nextUpdateId = Math.max(this.nextUpdateId, id + 1);
    const full = { update_id: id, ...content } as Update;
    this.registerUpdate(full);
    this.updates.push(full);
    this.emit({ type: "update", update: full });
    return full;
  }

  /** Successful send/edit calls, optionally only those for one chat. */
  sent(chatId?: number): RecordedCall[] {
    return this.calls.filter(
      (call) => call.ok && SEND_OR_EDIT.has(call.method) && (chatId === undefined || Number(call.payload.chat_id) === chatId),
    );
  }

  /** The visible text (or caption) of the bot's latest sent/edited message in a chat. */
  lastText(chatId: number): string | undefined {
    for (const call of [...this.sent(chatId)].reverse()) {
      const message = call.result as { text?: string; caption?: string; poll?: { question: string } } | undefined;
      const text = message?.text ?? message?.caption ?? message?.poll?.question;
      if (text !== undefined) return text;
    }
    return undefined;
  }

  /** The most recent document sent to a chat. */
  lastDocument(chatId: number): StoredDocument | undefined {
    return this.documents.filter((doc) => doc.chat_id === chatId).at(-1);
  }

  /** A message the bot sent (or a user message it saw), as currently stored. */
  getMessage(chatId: number, messageId: number): Message | undefined {
    const stored = this.messages.get(messageKey(chatId, messageId));
    return stored === undefined ? undefined : clone(stored.message);
  }

  /** Commands as set for a scope/language (defaults: default scope, no language). */
  getCommands(scope: Record<string, unknown> = { type: "default" }, languageCode = ""): BotCommand[] {
    return clone(this.commands.get(JSON.stringify([normalizeScope(scope), languageCode])) ?? []);
  }

  /**
   * Clears all simulated state, recorded calls and send statistics; keeps
   * token, bot info, clock, the update_id counter and the configured limits
   * (with empty windows).
   */
  reset(): void {
    this.calls.length = 0;
    this.documents.length = 0;
    for (const map of [this.chats, this.messages, this.callbackQueries, this.failures, this.commands, this.menuButtons, this.descriptions]) {
      map.clear();
    }
    this.unreachableChats.clear();
    this.photoFiles.clear();
    this.documentFiles.clear();
    this.resetSendStats();
    this.setLimits(this.limits);
    this.updates = [];
    this.allowedUpdates = undefined;
    this.webhookSettings = undefined;
    this.webhookError = undefined;
    this.emit({ type: "webhook", webhook: undefined });
  }

  /** Subscribes to updates, webhook changes and recorded calls; returns an unsubscribe function. */
  on(listener: (event: FakeTelegramEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves with the first recorded call matching `predicate` — including
   * calls already recorded (pass `since: fake.calls.length` to skip those).
   */
  waitForCall(
    predicate: (call: RecordedCall) => boolean,
    timeoutMs = 5000,
    options: { since?: number } = {},
  ): Promise<RecordedCall> {
    const earlier = this.calls.slice(options.since ?? 0).find(predicate);
    if (earlier !== undefined) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        const recent = this.calls.slice(-10).map((c) => `${c.method}${c.ok ? "" : ` (${c.error})`}`);
        reject(new Error(`No matching Telegram call within ${timeoutMs} ms. Recent calls: ${recent.join(", ") || "none"}`));
      }, timeoutMs);
      const unsubscribe = this.on((event) => {
        if (event.type === "call" && predicate(event.call)) {
          clearTimeout(timer);
          unsubscribe();
          resolve(event.call);
        }
      });
    });
  }

  // ------------------------------------------------- webhook delivery hooks

  get webhook(): WebhookSettings | undefined {
    return this.webhookSettings === undefined ? undefined : { ...this.webhookSettings };
  }

  /** The oldest update the webhook should get next (updates the bot did not subscribe to are dropped). */
  nextWebhookUpdate(): Update | undefined {
    this.dropUnsubscribedUpdates();
    return this.updates[0];
  }

  /** Removes a delivered (or given-up) update from the queue. */
  acknowledgeUpdate(updateId: number): void {
    this.updates = this.updates.filter((update) => update.update_id !== updateId);
  }

  /** Shown in getWebhookInfo as last_error_date/last_error_message, like Telegram does. */
  noteWebhookError(message: string): void {
    this.webhookError = { date: nextDate(), message };
  }

  // ------------------------------------------------------------- internals

  private emit(event: FakeTelegramEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private takeInjectedFailure(method: string): ApiResponse | undefined {
    const failure = this.failures.get(method.toLowerCase())?.shift();
    if (failure === undefined) return undefined;
    return new ApiRejection(failure.error_code, failure.description, failure.parameters).toResponse();
  }

  private learnMessage(message: Message): void {
    const chat = this.registerChat(message.chat.id, message.chat);
    observeMessageId(chat.id, message.message_id);
    const key = messageKey(chat.id, message.message_id);
    this.learnFiles(message);
    // An inaccessible callback message (date 0) only names the chat; there is nothing to store.
    if (message.date !== 0 && !this.messages.has(key)) {
      // A callback query's message came from the bot, so the bot may edit it.
      this.messages.set(key, { message: clone(message), fromBot: message.from?.id === this.botInfo.id });
    }
  }

  /** The chat_id parameter as a number, without checking that the chat is known. */
  private chatIdOf(p: Params): number {
    const raw = p.raw.chat_id;
    if (raw === undefined || raw === "") throw badRequest("chat_id is empty");
    if (typeof raw === "number" && Number.isInteger(raw)) return raw;
    if (typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw)) return Number(raw);
    if (typeof raw === "string" && raw.startsWith("@")) {
      for (const chat of this.chats.values()) if ("username" in chat && `@${chat.username}` === raw) return chat.id;
    }
    throw badRequest("chat not found");
  }

  /** A photo or document a user sent can be re-sent by the bot with its file_id, as on Telegram. */
  private learnFiles(message: Message): void {
    if (message.photo !== undefined && message.photo.length > 0) {
      for (const size of message.photo) this.photoFiles.set(size.file_id, clone(message.photo));
    }
    const doc = message.document;
    if (doc !== undefined && !this.documentFiles.has(doc.file_id)) {
      this.documentFiles.set(doc.file_id, {
        file_id: doc.file_id,
        file_unique_id: doc.file_unique_id,
        file_name: doc.file_name ?? "file",
        mime_type: doc.mime_type ?? "application/octet-stream",
        file_size: doc.file_size ?? 0,
        // The fake never saw the bytes of a user's file.
        content: Buffer.alloc(0),
      });
    }
  }

  /** A chat the bot may write to: registered (or seen in an update) and not blocking the bot. */
  private requireChat(chatId: number): Chat {
    const chat = this.chats.get(chatId);
    if (chat === undefined) throw badRequest("chat not found");
    const state = this.unreachableChats.get(chatId);
    if (state === "deactivated") throw new ApiRejection(403, DEACTIVATED);
    if (state === "blocked") throw new ApiRejection(403, SHUT_OUT[chat.type] ?? SHUT_OUT.private!);
    return chat;
  }

  /**
   * Posts a validated new message: the last step of every send method, so a
   * call that fails validation never uses up rate-limit budget.
   */
  private deliver(method: string, chat: Chat, p: Params, content: Record<string, unknown>): Message {
    const paid = p.bool("allow_paid_broadcast");
    const now = this.clock();
    const retryAfter = this.limiter?.admit(chat, paid, now);
    if (retryAfter !== undefined) {
      this.rateLimitedCount++;
      throw new ApiRejection(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    const message = this.storeBotMessage(chat, content);
    const send: AcceptedSend = {
      method,
      chat_id: chat.id,
      message_id: message.message_id,
      at: now,
      paid,
      text: message.text ?? message.caption ?? message.poll?.question ?? "",
    };
    const file = message.photo?.at(-1)?.file_unique_id ?? message.document?.file_unique_id;
    if (file !== undefined) send.file_unique_id = file;
    this.acceptedLog.push(send);
    this.acceptedPerChat.set(chat.id, (this.acceptedPerChat.get(chat.id) ?? 0) + 1);
    if (paid) this.paidAcceptedCount++;
    return message;
  }

  private botUser(): User {
    const { id, is_bot, first_name, username } = this.botInfo;
    return { id, is_bot, first_name, username };
  }

  private storeBotMessage(chat: Chat, content: Record<string, unknown>): Message {
    const message = {
      message_id: nextMessageId(chat.id),
      // Shared, not copied: stored messages are cloned on the way out and chats are replaced, never
      // mutated (registerChat), so 20,000 broadcast messages need not carry 20,000 copies.
      from: (this.botAsUser ??= this.botUser()),
      chat,
      date: nextDate(),
      ...content,
    } as unknown as Message;
    this.messages.set(messageKey(chat.id, message.message_id), { message, fromBot: true });
    return clone(message);
  }

  // ------------------------------------------------------------ updates

  private getUpdates(p: Params): ApiSuccess<Update[]> {
    if (this.webhookSettings !== undefined) throw new ApiRejection(409, WEBHOOK_ACTIVE);
    if (p.has("allowed_updates")) this.setAllowedUpdates(p.json("allowed_updates"));
    const offset = p.int("offset") ?? 0;
    if (offset > 0) this.updates = this.updates.filter((update) => update.update_id >= offset);
    // A negative offset keeps only the last -offset updates and forgets the rest.
    if (offset < 0) this.updates = this.updates.slice(offset);
    const requested = p.int("limit") ?? 100;
    const limit = requested < 1 || requested > 100 ? 100 : requested; // Telegram clamps, it doesn't reject
    this.dropUnsubscribedUpdates();
    return ok(clone(this.updates.slice(0, limit)));
  }

  private setAllowedUpdates(value: unknown): void {
    if (!Array.isArray(value)) throw badRequest("can't parse allowed updates");
    const types = value.filter((item): item is string => typeof item === "string");
    this.allowedUpdates = types.length === 0 ? undefined : types;
  }

  private isSubscribed(type: string | undefined): boolean {
    if (type === undefined) return false;
    return this.allowedUpdates === undefined ? !OPT_IN_UPDATE_TYPES.has(type) : this.allowedUpdates.includes(type);
  }

  /** Telegram never generates updates the bot did not subscribe to, so they vanish from the queue. */
  private dropUnsubscribedUpdates(): void {
    this.updates = this.updates.filter((update) => this.isSubscribed(updateType(update)));
  }

  // ------------------------------------------------------------ webhooks

  private setWebhook(p: Params): ApiSuccess<boolean> {
    const url = p.string("url") ?? "";
    // Like Telegram: an empty url removes the webhook.
    if (url === "") return this.removeWebhook(p.bool("drop_pending_updates"));
    const problem = checkWebhookUrl(url);
    if (problem !== undefined) throw badRequest(`bad webhook: ${problem}`);
    const secret = p.string("secret_token") ?? "";
    if (secret.length > 256) throw badRequest("secret token is too long");
    if (secret !== "" && !/^[A-Za-z0-9_-]+$/.test(secret)) throw badRequest("secret token contains unallowed characters");
    if (p.has("allowed_updates")) this.setAllowedUpdates(p.json("allowed_updates"));
    if (p.bool("drop_pending_updates")) this.updates = [];

    const settings: WebhookSettings = { url, max_connections: clampInt(p.int("max_connections") ?? 40, 1, 100) };
    if (secret !== "") settings.secret_token = secret;
    const ip = p.string("ip_address");
    if (ip !== undefined && ip !== "") settings.ip_address = ip;
    const unchanged = JSON.stringify(settings) === JSON.stringify(this.webhookSettings);
    this.webhookSettings = settings;
    this.webhookError = undefined;
    this.emit({ type: "webhook", webhook: { ...settings } });
    return ok(true, unchanged ? "Webhook is already set" : "Webhook was set");
  }

  private removeWebhook(dropPending: boolean): ApiSuccess<boolean> {
    const wasSet = this.webhookSettings !== undefined;
    this.webhookSettings = undefined;
    this.webhookError = undefined;
    if (dropPending) this.updates = [];
    if (wasSet) this.emit({ type: "webhook", webhook: undefined });
    return ok(true, wasSet ? "Webhook was deleted" : "Webhook is already deleted");
  }

  private webhookInfo(): Record<string, unknown> {
    this.dropUnsubscribedUpdates();
    const info: Record<string, unknown> = {
      url: this.webhookSettings?.url ?? "",
      has_custom_certificate: false,
      pending_update_count: this.updates.length,
    };
    if (this.webhookSettings === undefined) return info;
    if (this.webhookSettings.ip_address !== undefined) info.ip_address = this.webhookSettings.ip_address;
    if (this.webhookError !== undefined) {
      info.last_error_date = this.webhookError.date;
      info.last_error_message = this.webhookError.message;
    }
    info.max_connections = this.webhookSettings.max_connections;
    if (this.allowedUpdates !== undefined) info.allowed_updates = [...this.allowedUpdates];
    return info;
  }

  // ------------------------------------------------------------ messages

  /** text + parse_mode/entities of a message, with sendMessage's limits. */
  private messageText(p: Params): FormattedText {
    const text = p.string("text");
    if (text === undefined || text === "") throw badRequest("message text is empty");
    const formatted = formatText(text, p.raw.parse_mode, p.json("entities"));
    if (formatted.text === "") throw badRequest("text must be non-empty");
    if (utf16Length(formatted.text) > MAX_TEXT_LENGTH) throw badRequest("message is too long");
    return formatted;
  }

  private caption(p: Params): FormattedText | undefined {
    const caption = p.string("caption");
    if (caption === undefined || caption === "") return undefined;
    const formatted = formatText(caption, p.raw.parse_mode, p.json("caption_entities"));
    if (utf16Length(formatted.text) > MAX_CAPTION_LENGTH) throw badRequest("message caption is too long");
    return formatted.text === "" ? undefined : formatted;
  }

  /** reply_parameters / reply_to_message_id must point at a message in the chat. */
  private replyTarget(chatId: number, p: Params): Message | undefined {
    const params = p.json("reply_parameters");
    let messageId: number | undefined;
    let allowMissing = p.bool("allow_sending_without_reply");
    if (isRecord(params)) {
      if (params.message_id === undefined) throw badRequest('can\'t find field "message_id"');
      messageId = Number(params.message_id);
      allowMissing = params.allow_sending_without_reply === true;
    } else {
      messageId = p.int("reply_to_message_id");
    }
    if (messageId === undefined) return undefined;
    const target = this.messages.get(messageKey(chatId, messageId));
    if (target === undefined && !allowMissing) throw badRequest("message to be replied not found");
    return target === undefined ? undefined : clone(target.message);
  }

  /** Fields shared by every sent message: formatted text/caption, reply, inline keyboard. */
  private sentContent(
    chatId: number,
    p: Params,
    markup: ValidatedMarkup,
    body: Record<string, unknown>,
  ): Record<string, unknown> {
    const content: Record<string, unknown> = {};
    const replyTo = this.replyTarget(chatId, p);
    if (replyTo !== undefined) content.reply_to_message = replyTo;
    Object.assign(content, body);
    const inline = echoedMarkup(markup);
    if (inline !== undefined) content.reply_markup = inline;
    return content;
  }

  private sendMessage(p: Params): ApiSuccess<Message> {
    const chatId = this.chatIdOf(p);
    const formatted = this.messageText(p);
    const markup = validateReplyMarkup(p.json("reply_markup"));
    const chat = this.requireChat(chatId);
    const content = this.sentContent(chatId, p, markup, withEntities("text", formatted));
    return ok(this.deliver("sendMessage", chat, p, content));
  }

  /** Finds the bot message an edit refers to, with Telegram's errors. */
  private editTarget(p: Params): StoredMessage {
    if (p.has("inline_message_id")) throw new UnsupportedByFakeError("editing inline messages (inline_message_id)");
    const chatId = this.chatIdOf(p);
    const messageId = p.int("message_id");
    if (messageId === undefined) throw badRequest("message identifier is not specified");
    this.requireChat(chatId);
    const stored = this.messages.get(messageKey(chatId, messageId));
    if (stored === undefined) throw badRequest("message to edit not found");
    if (!stored.fromBot) throw badRequest("message can't be edited");
    return stored;
  }

  private editMarkup(p: Params): InlineKeyboardMarkup | undefined {
    const markup = validateReplyMarkup(p.json("reply_markup"));
    if (markup.kind !== "none" && markup.kind !== "inline") throw badRequest("inline keyboard expected");
    return echoedMarkup(markup);
  }

  private editMessageText(p: Params): ApiSuccess<Message> {
    const formatted = this.messageText(p);
    const markup = this.editMarkup(p);
    const stored = this.editTarget(p);
    const current = stored.message;
    if (current.text === undefined) throw badRequest("there is no text in the message to edit");
    if (
      current.text === formatted.text &&
      sameEntities(current.entities, formatted.entities) &&
      sameMarkup(current.reply_markup, markup)
    ) {
      throw badRequest(NOT_MODIFIED);
    }
    // Editing without reply_markup removes the inline keyboard, as on Telegram.
    const { entities: _oldEntities, reply_markup: _oldMarkup, ...rest } = current;
    stored.message = { ...rest, ...withEntities("text", formatted), edit_date: nextDate() } as Message;
    if (markup !== undefined) stored.message.reply_markup = markup;
    return ok(clone(stored.message));
  }

  private editMessageReplyMarkup(p: Params): ApiSuccess<Message> {
    const markup = this.editMarkup(p);
    const stored = this.editTarget(p);
    if (sameMarkup(stored.message.reply_markup, markup)) throw badRequest(NOT_MODIFIED);
    const { reply_markup: _oldMarkup, ...rest } = stored.message;
    stored.message = { ...rest, edit_date: nextDate() } as Message;
    if (markup !== undefined) stored.message.reply_markup = markup;
    return ok(clone(stored.message));
  }

  private deleteMessage(p: Params): ApiSuccess<boolean> {
    const chatId = this.chatIdOf(p);
    const messageId = p.int("message_id");
    if (messageId === undefined) throw badRequest("message identifier is not specified");
    this.requireChat(chatId);
    if (!this.messages.delete(messageKey(chatId, messageId))) throw badRequest("message to delete not found");
    return ok(true);
  }

  private answerCallbackQuery(p: Params): ApiSuccess<boolean> {
    const state = this.callbackQueries.get(p.string("callback_query_id") ?? "");
    if (state === undefined || state.answered) throw badRequest(QUERY_TOO_OLD);
    if (utf16Length(p.string("text") ?? "") > 200) throw badRequest("MESSAGE_TOO_LONG");
    state.answered = true;
    return ok(true);
  }

  private sendChatAction(p: Params): ApiSuccess<boolean> {
    const chatId = this.chatIdOf(p);
    if (!CHAT_ACTIONS.has(p.string("action") ?? "")) throw badRequest("wrong parameter action in request");
    this.requireChat(chatId);
    return ok(true);
  }

  // ---------------------------------------------------------------- venues

  /**
   * A venue: a point with a title and an address. Telegram's wording for out-of-range or
   * missing fields is not known here, so such calls fail loudly instead of being guessed.
   */
  private sendVenue(p: Params): ApiSuccess<Message> {
    const chatId = this.chatIdOf(p);
    const latitude = Number(p.string("latitude"));
    const longitude = Number(p.string("longitude"));
    if (!p.has("latitude") || !p.has("longitude") || !Number.isFinite(latitude) || !Number.isFinite(longitude) ||
        Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
      throw new UnsupportedByFakeError("sendVenue with a missing or out-of-range latitude/longitude");
    }
    const title = p.string("title") ?? "";
    const address = p.string("address") ?? "";
    if (title.trim() === "" || address.trim() === "") throw new UnsupportedByFakeError("sendVenue without a title or an address");
    const markup = validateReplyMarkup(p.json("reply_markup"));
    const chat = this.requireChat(chatId);
    const location = { latitude, longitude };
    const body = { location, venue: { location, title, address } };
    return ok(this.deliver("sendVenue", chat, p, this.sentContent(chatId, p, markup, body)));
  }

  // ------------------------------------------------------------ documents

  private sendDocument(p: Params): ApiSuccess<Message> {
    const chatId = this.chatIdOf(p);
    const source = this.inputFile(p, "document");
    const known = typeof source === "string" ? this.knownFile(source, this.documentFiles, this.photoFiles) : undefined;
    const caption = this.caption(p);
    const markup = validateReplyMarkup(p.json("reply_markup"));
    const chat = this.requireChat(chatId);

    // Re-sending a known file_id reuses the same file, as on Telegram.
    const document = known ?? this.newDocumentFile(source as UploadedFile);
    const body: Record<string, unknown> = { document: documentMeta(document) };
    if (caption !== undefined) Object.assign(body, withEntities("caption", caption));
    const message = this.deliver("sendDocument", chat, p, this.sentContent(chatId, p, markup, body));
    this.documentFiles.set(document.file_id, document);
    this.documents.push({ ...document, chat_id: chatId, message_id: message.message_id });
    return ok(message);
  }

  private sendPhoto(p: Params): ApiSuccess<Message> {
    const chatId = this.chatIdOf(p);
    const source = this.inputFile(p, "photo");
    const known = typeof source === "string" ? this.knownFile(source, this.photoFiles, this.documentFiles) : undefined;
    const sizes = known ?? this.newPhoto(source as UploadedFile);
    const caption = this.caption(p);
    const markup = validateReplyMarkup(p.json("reply_markup"));
    const chat = this.requireChat(chatId);

    const body: Record<string, unknown> = { photo: clone(sizes) };
    if (caption !== undefined) Object.assign(body, withEntities("caption", caption));
    if (caption !== undefined && p.bool("show_caption_above_media")) body.show_caption_above_media = true;
    if (p.bool("has_spoiler")) body.has_media_spoiler = true;
    const message = this.deliver("sendPhoto", chat, p, this.sentContent(chatId, p, markup, body));
    for (const size of sizes) this.photoFiles.set(size.file_id, sizes);
    return ok(message);
  }

  /** A file_id the bot may send with this method; one of the other kind is a type mismatch. */
  private knownFile<T>(fileId: string, own: Map<string, T>, other: Map<string, unknown>): T {
    const file = own.get(fileId);
    if (file !== undefined) return file;
    if (other.has(fileId)) throw badRequest("type of file mismatch");
    throw badRequest("wrong file identifier/HTTP URL specified");
  }

  /** An uploaded photo: Telegram decodes it and stores several sizes. */
  private newPhoto(upload: UploadedFile): PhotoSize[] {
    if (upload.content.length > MAX_PHOTO_BYTES) throw new UnsupportedByFakeError("photos over 10 MB (Telegram's wording unknown)");
    const info = readImageInfo(upload.content);
    if (info === undefined) throw badRequest("IMAGE_PROCESS_FAILED");
    if (!validPhotoDimensions(info)) throw badRequest("PHOTO_INVALID_DIMENSIONS");
    const n = ++this.fileCounter;
    return photoSizes(info, upload.content.length, (index) => ({
      file_id: `AgACAgIAAxkDAAI${n.toString(36).padStart(6, "0")}${index}FakePhoto`,
      file_unique_id: `AQAD${n.toString(36).padStart(6, "0")}${index}`,
    }));
  }

  /** Resolves a file parameter: a multipart upload (direct or attach://), or a file_id to look up. */
  private inputFile(p: Params, field: string): UploadedFile | string {
    const value = p.raw[field];
    const upload =
      typeof value === "string" && value.startsWith("attach://") ? p.raw[value.slice("attach://".length)] : value;
    if (upload instanceof UploadedFile) {
      if (upload.content.length === 0) throw badRequest("file must be non-empty");
      if (upload.content.length > MAX_UPLOAD_BYTES) throw new ApiRejection(413, "Request Entity Too Large");
      return upload;
    }
    if (typeof value !== "string" || value === "" || value.startsWith("attach://")) {
      throw badRequest(`there is no ${field} in the request`);
    }
    if (/^https?:\/\//i.test(value)) throw new UnsupportedByFakeError(`sending a ${field} by URL`);
    return value;
  }

  private newDocumentFile(upload: UploadedFile): DocumentFile {
    const n = ++this.fileCounter;
    const extension = upload.filename.split(".").pop()?.toLowerCase() ?? "";
    const partType = upload.contentType.toLowerCase();
    return {
      file_id: `BQACAgIAAxkDAAI${n.toString(36).padStart(6, "0")}FakeDocument`,
      file_unique_id: `AgAD${n.toString(36).padStart(6, "0")}`,
      file_name: upload.filename,
      // Telegram derives the type from the name; grammY always sends application/octet-stream.
      mime_type: MIME_BY_EXTENSION[extension] ?? (partType === "" ? "application/octet-stream" : partType),
      file_size: upload.content.length,
      content: upload.content,
    };
  }

  // ------------------------------------------- files users send (getFile and the file URL)

  /**
   * A document as a user sends it, with its bytes: put it in a message update, and the bot can
   * fetch it with getFile and `<apiRoot>/file/bot<token>/<file_path>`, as on Telegram.
   */
  userDocument(content: Buffer, fileName: string, mimeType?: string): Document {
    const n = ++this.fileCounter;
    const extension = fileName.split(".").pop()?.toLowerCase() ?? "";
    const file: DocumentFile = {
      file_id: `BQACAgIAAxkBAAI${n.toString(36).padStart(6, "0")}UserDocument`,
      file_unique_id: `AgADu${n.toString(36).padStart(6, "0")}`,
      file_name: fileName,
      mime_type: mimeType ?? MIME_BY_EXTENSION[extension] ?? "application/octet-stream",
      file_size: content.length,
      content,
    };
    this.documentFiles.set(file.file_id, file);
    return documentMeta(file) as unknown as Document;
  }

  /** The bytes Telegram serves at a file_path that getFile gave out, or undefined (404). */
  fileContent(filePath: string): Buffer | undefined {
    for (const file of this.documentFiles.values()) {
      if (filePathOf(file) === filePath) return file.content;
    }
    return undefined;
  }

  private getFile(p: Params): ApiSuccess<File> {
    const fileId = p.string("file_id") ?? "";
    if (fileId === "") throw badRequest("file_id is empty");
    if (this.photoFiles.has(fileId)) throw new UnsupportedByFakeError("getFile for photos");
    const file = this.documentFiles.get(fileId);
    if (file === undefined) throw badRequest("invalid file_id");
    // Seen only in an update the test wrote by hand: the fake never had its bytes.
    if (file.content.length === 0 && file.file_size > 0) throw new UnsupportedByFakeError("getFile for a document not made with userDocument()");
    if (file.file_size > MAX_DOWNLOAD_BYTES) throw badRequest("file is too big");
    return ok({ file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: filePathOf(file) });
  }

  // ------------------------------------------------------------ polls

  private sendPoll(p: Params): ApiSuccess<Message> {
    const chatId = this.chatIdOf(p);
    const question = p.string("question") ?? "";
    if (question.trim() === "") throw badRequest("text must be non-empty");
    if (utf16Length(question) > 300) throw badRequest("poll question length must not exceed 300");
    const options = pollOptions(p.json("options"));
    const type = p.string("type") === "quiz" ? "quiz" : "regular";
    const correct = type === "quiz" ? correctOptionIds(p, options.length) : undefined;
    const explanation = p.string("explanation");
    if (explanation !== undefined && utf16Length(explanation) > 200) throw badRequest("explanation is too long");
    if (explanation !== undefined && (explanation.match(/\n/g) ?? []).length > 2) throw badRequest("explanation must not contain more than 2 line feeds");
    if (options.length < 2) throw badRequest("poll must have at least 2 options");
    const openPeriod = p.int("open_period");
    if (openPeriod !== undefined && (openPeriod < 5 || openPeriod > 600)) throw badRequest("open_period must be between 5 and 600");
    const markup = validateReplyMarkup(p.json("reply_markup"));
    const chat = this.requireChat(chatId);

    const poll: Record<string, unknown> = {
      id: String(5_000_000_000_000_000 + ++this.pollCounter),
      question,
      options: options.map((text, index) => ({ persistent_id: String(index), text, voter_count: 0 })),
      total_voter_count: 0,
      is_closed: false,
      is_anonymous: p.has("is_anonymous") ? p.bool("is_anonymous") : true,
      type,
      allows_multiple_answers: p.bool("allows_multiple_answers"),
      allows_revoting: p.has("allows_revoting") ? p.bool("allows_revoting") : type === "regular",
      members_only: false,
    };
    if (correct !== undefined) poll.correct_option_ids = correct;
    if (explanation !== undefined && explanation !== "") poll.explanation = explanation;
    return ok(this.deliver("sendPoll", chat, p, this.sentContent(chatId, p, markup, { poll })));
  }

  // ------------------------------------------------------------ bot settings

  private commandsKey(p: Params): string {
    const scope = p.json("scope");
    const language = p.string("language_code") ?? "";
    if (language !== "" && !/^[a-z]{2}$/.test(language)) throw badRequest("invalid language code specified");
    return JSON.stringify([normalizeScope(scope === undefined ? { type: "default" } : scope), language]);
  }

  private languageOf(p: Params): string {
    const language = p.string("language_code") ?? "";
    if (language !== "" && !/^[a-z]{2}$/.test(language)) throw badRequest("invalid language code specified");
    return language;
  }

  /** Telegram's limits: description 0–512 characters, short description 0–120. */
  private setDescription(p: Params, field: "description" | "short_description", max: number): ApiSuccess<boolean> {
    const text = p.string(field) ?? "";
    if (utf16Length(text) > max) throw badRequest(field === "description" ? "BOT_DESCRIPTION_INVALID" : "BOT_SHORT_DESCRIPTION_INVALID");
    const key = `${field}:${this.languageOf(p)}`;
    if (text === "") this.descriptions.delete(key);
    else this.descriptions.set(key, text);
    return ok(true);
  }

  /** The description shown in an empty chat with the bot, for a language (falls back to the default). */
  getDescription(language = "", field: "description" | "short_description" = "description"): string {
    return this.descriptions.get(`${field}:${language}`) ?? this.descriptions.get(`${field}:`) ?? "";
  }

  private setMyCommands(p: Params): ApiSuccess<boolean> {
    const commands = p.json("commands");
    if (!Array.isArray(commands)) throw badRequest("can't parse commands JSON object");
    if (commands.length > 100) throw badRequest("BOT_COMMANDS_TOO_MUCH");
    const validated = commands.map(validateBotCommand);
    const key = this.commandsKey(p);
    const scope = p.json("scope");
    if (isRecord(scope) && scope.chat_id !== undefined) this.requireChat(this.chatIdOf(new Params(scope)));
    if (validated.length === 0) this.commands.delete(key);
    else this.commands.set(key, validated);
    return ok(true);
  }

  private menuButtonKey(p: Params): string {
    return p.has("chat_id") ? String(this.requireChat(this.chatIdOf(p)).id) : "default";
  }

  private setChatMenuButton(p: Params): ApiSuccess<boolean> {
    const key = this.menuButtonKey(p);
    const button = p.json("menu_button") ?? { type: "default" };
    if (!isRecord(button)) throw badRequest("can't parse menu button JSON object");
    if (button.type === "web_app") {
      if (typeof button.text !== "string" || button.text === "") throw badRequest("can't parse menu button: Can't find field \"text\"");
      const url = isRecord(button.web_app) ? button.web_app.url : undefined;
      if (typeof url !== "string" || !/^https:\/\//i.test(url)) {
        throw badRequest(`menu button Web App URL '${String(url)}' is invalid: Only HTTPS links are allowed`);
      }
    } else if (button.type !== "commands" && button.type !== "default") {
      throw badRequest("can't parse menu button: Unsupported type specified");
    }
    this.menuButtons.set(key, clone(button));
    return ok(true);
  }
}

// ------------------------------------------------------------------ helpers

function defaultChat(id: number): Chat {
  return id > 0
    ? ({ id, type: "private", first_name: `User ${id}` } as Chat)
    : ({ id, type: "group", title: `Group ${id}` } as Chat);
}

function privateChatOf(user: User): Partial<Chat> {
  const chat: Record<string, unknown> = { type: "private", first_name: user.first_name };
  if (user.last_name !== undefined) chat.last_name = user.last_name;
  if (user.username !== undefined) chat.username = user.username;
  return chat as Partial<Chat>;
}

/** Messages carried by an update, whatever its type. */
function updateMessages(update: NewUpdate): Message[] {
  const candidates = [
    update.message, update.edited_message, update.channel_post, update.edited_channel_post,
    update.business_message, update.edited_business_message, update.callback_query?.message,
  ];
  return candidates.filter((message): message is Message => message !== undefined && "chat" in message);
}

function withEntities(field: "text" | "caption", formatted: FormattedText): Record<string, unknown> {
  const body: Record<string, unknown> = { [field]: formatted.text };
  if (formatted.entities.length > 0) body[field === "text" ? "entities" : "caption_entities"] = formatted.entities;
  return body;
}

/** Telegram echoes only non-empty inline keyboards in the sent Message. */
function echoedMarkup(markup: ValidatedMarkup): InlineKeyboardMarkup | undefined {
  const inline = markup.inline;
  return inline !== undefined && inline.inline_keyboard.some((row) => row.length > 0) ? clone(inline) : undefined;
}

function sameEntities(a: MessageEntity[] | undefined, b: MessageEntity[]): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b);
}

type DocumentFile = Omit<StoredDocument, "chat_id" | "message_id">;

/** Bots may download files of up to 20 MB (getFile). */
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

const filePathOf = (file: DocumentFile): string => `documents/file_${file.file_unique_id}.${file.file_name.split(".").pop()?.toLowerCase() ?? "bin"}`;

function documentMeta(doc: Omit<StoredDocument, "chat_id" | "message_id" | "content">): Record<string, unknown> {
  const { file_id, file_unique_id, file_name, mime_type, file_size } = doc;
  return { file_name, mime_type, file_id, file_unique_id, file_size };
}

function clampInt(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Only https (or, as a test-only allowance, http to a loopback address) on Telegram's ports. */
function checkWebhookUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "Wrong HTTP URL";
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol === "http:") return loopback ? undefined : "An HTTPS URL must be provided for webhook";
  if (parsed.protocol !== "https:") return "Unsupported URL protocol";
  const port = parsed.port === "" ? "443" : parsed.port;
  if (!loopback && !["80", "88", "443", "8443"].includes(port)) {
    return "Webhook can be set up only on ports 80, 88, 443 or 8443";
  }
  return undefined;
}

function validateBotCommand(command: unknown): BotCommand {
  if (!isRecord(command)) throw badRequest("can't parse BotCommand: BotCommand must be an Object");
  const rawName = typeof command.command === "string" ? command.command : "";
  const name = rawName.startsWith("/") ? rawName.slice(1) : rawName;
  const description = typeof command.description === "string" ? command.description : "";
  if (name === "") throw badRequest("command must be non-empty");
  // Documented rule: 1-32 characters, only lowercase English letters, digits and underscores.
  if (name.length > 32 || !/^[a-z0-9_]+$/.test(name)) throw badRequest("BOT_COMMAND_INVALID");
  if (description.trim() === "") throw badRequest("command description must be non-empty");
  if (utf16Length(description) > 256) throw badRequest("BOT_COMMAND_DESCRIPTION_INVALID");
  return { command: name, description };
}

/** Canonical form of a BotCommandScope, used as part of the storage key. */
function normalizeScope(scope: unknown): Record<string, unknown> {
  if (!isRecord(scope) || typeof scope.type !== "string" || !COMMAND_SCOPES.has(scope.type)) {
    throw badRequest("unsupported bot command scope type");
  }
  const normalized: Record<string, unknown> = { type: scope.type };
  if (scope.type === "chat" || scope.type === "chat_administrators" || scope.type === "chat_member") {
    if (scope.chat_id === undefined) throw badRequest("chat_id is empty");
    normalized.chat_id = Number(scope.chat_id);
  }
  if (scope.type === "chat_member") {
    if (scope.user_id === undefined) throw badRequest("user not found");
    normalized.user_id = Number(scope.user_id);
  }
  return normalized;
}

/** sendPoll options: strings or InputPollOption objects, 1-12 of them, 1-100 characters each. */
function pollOptions(value: unknown): string[] {
  if (!Array.isArray(value)) throw badRequest("can't parse options JSON object");
  if (value.length === 0) throw badRequest("poll must have at least one answer option");
  if (value.length > 12) throw badRequest("poll can't have more than 12 options");
  return value.map((option: unknown) => {
    const text = typeof option === "string" ? option : isRecord(option) ? option.text : undefined;
    if (typeof text !== "string" || text.trim() === "") throw badRequest("poll options must be non-empty");
    if (utf16Length(text) > 100) throw badRequest("poll options length must not exceed 100");
    return text;
  });
}

/** correct_option_ids (Bot API 9.6+) or the older single correct_option_id. */
function correctOptionIds(p: Params, optionCount: number): number[] {
  const many = p.json("correct_option_ids");
  const single = p.int("correct_option_id");
  const ids = Array.isArray(many) ? many.map(Number) : single !== undefined ? [single] : [];
  if (ids.length === 0) throw badRequest("quiz poll must have a correct option");
  const increasing = ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? -1));
  if (!increasing || ids.some((id) => !Number.isInteger(id) || id < 0 || id >= optionCount)) {
    throw badRequest("wrong correct option ID specified");
  }
  return ids;
}
