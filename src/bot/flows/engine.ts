import { GrammyError, InlineKeyboard, Keyboard } from "grammy";
import type { Message } from "grammy/types";
import type { ZodType } from "zod";
import { searchForm } from "../../domain/geo/normalize.js";
import { LOCALES } from "../../i18n.js";
import { cb, type CallbackCodec } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";

/**
 * The step engine every conversation is built from: a question, the answers it accepts, a
 * localised reason when an answer is refused, an optional Back button, and the question edited
 * in place once answered (its keyboard gone, the choice shown).
 */

/** Returned by a step whose Back button was pressed. */
export const BACK = Symbol("back");
export type Back = typeof BACK;

/** Ends a flow on purpose (declined, too many attempts); the person was already told. */
export class FlowStopped extends Error {}

/**
 * Ends this run of a segmented flow once its next question is on screen: the flow is entered
 * again at once with where it stood (see `segment`), so its stored log starts afresh.
 */
export class FlowContinued extends FlowStopped {}

/** Invalid answers allowed in one step before the flow stops. */
export const MAX_ATTEMPTS = 10;
/**
 * Updates one step may take in all, valid ones included (toggles, "show me the list again"):
 * a conversation replays every update it stored on each new one, so a step must stay bounded.
 */
export const MAX_UPDATES_PER_STEP = 40;
/** Updates one whole flow may take (its stored log, replayed on every update, stays bounded). */
export const MAX_UPDATES_PER_FLOW = 200;

/**
 * Updates taken so far, per run of a builder. A conversation replays every stored update through a
 * fresh `conversation` object, so counting on that object counts the whole log.
 */
const taken = new WeakMap<Convo, number>();

export type Outcome<T> =
  | { done: T }
  /** Re-ask with this reason (a namespaced i18n key); counts as an invalid attempt. */
  | { retry: string; params?: Record<string, unknown> }
  /** Handled without an answer yet; `shown` is a message with buttons to tidy up once answered. */
  | { wait: true; shown?: Message }
  | undefined;

export interface BackOption {
  /** Label key of the Back button (default "common:flow.back"). */
  label?: string;
}

export interface Step<T> {
  question(c: ConvContext): string;
  /** An inline keyboard under the question, or a reply keyboard (then Back is a text button). */
  keyboard?(c: ConvContext): InlineKeyboard | Keyboard | undefined;
  /** Callback codecs this step answers; other buttons go on to the features. */
  codecs?: CallbackCodec<string>[];
  accept(c: ConvContext): Promise<Outcome<T>>;
  /** i18n key saying what kind of answer the step wants (for stickers, photos…). */
  hint: string;
  back?: BackOption;
  /** Replaces the question once answered, e.g. "✅ Tỉnh/thành: Hải Phòng". */
  echo?(c: ConvContext, value: T): string | undefined;
}

function isCommand(c: ConvContext): boolean {
  const e = c.message?.entities?.[0];
  return e?.type === "bot_command" && e.offset === 0;
}

/** Only messages, edits and button presses can answer a question; service updates cannot. */
function isAnswer(c: ConvContext): boolean {
  return Boolean(c.message ?? c.editedMessage ?? c.callbackQuery);
}

function backLabels(key: string, c: ConvContext): string[] {
  return LOCALES.map((l) => c.deps.i18n.t(l)(key));
}

function markup(step: Step<unknown>, c: ConvContext): InlineKeyboard | Keyboard | undefined {
  const kb = step.keyboard?.(c);
  if (!step.back) return kb;
  const label = c.t(step.back.label ?? "common:flow.back");
  if (kb instanceof Keyboard) return kb.row().text(label);
  return (kb ?? new InlineKeyboard()).row().text(label, cb.flowBack.pack("go"));
}

/** Edits are a courtesy: an old or unchanged message must not break the flow. */
async function tidy(edit: Promise<unknown>): Promise<void> {
  await edit.catch((e: unknown) => {
    if (!(e instanceof GrammyError) || e.error_code !== 400) throw e;
  });
}

/**
 * Calls whose order on screen does not matter (answering the button press, editing an answered
 * question) run beside the next question instead of before it: a button step then waits for one
 * Telegram round trip, not three. The calls are started in the same order on every replay, so the
 * conversation's log stays deterministic; the conversation waits for them before it stores its
 * state. A failure is logged: a press already answered, an edit already shown, the flow goes on.
 */
const alongside = new WeakMap<Convo, Promise<void>>();

function beside(conversation: Convo, c: ConvContext, call: Promise<unknown>): void {
  const done = call.then(
    () => undefined,
    (err: unknown) => c.logger.warn({ err }, "a call beside the flow failed (button answer or tidying edit)"),
  );
  const earlier = alongside.get(conversation);
  alongside.set(conversation, earlier ? Promise.all([earlier, done]).then(() => undefined) : done);
}

async function besideDone(conversation: Convo): Promise<void> {
  const pending = alongside.get(conversation);
  alongside.delete(conversation);
  await pending;
}

/**
 * Segments. A conversation replays every update it stored, through a fresh context each, on
 * every new update: a flow of ten questions redoes nine questions' work at its tenth. A long flow
 * therefore marks, between its questions, where it stands (`segment`). Once the next question is
 * on screen, that run ends and the flow is entered again with the mark as its last argument
 * (`Resume`); the new run takes the question as already asked and waits for its answer. So each
 * stored log holds one question's updates, whatever the flow's length, and the person sees no
 * difference: the same messages, edited in place as before, Back and all.
 */
export interface Resume<S> {
  /** What the flow had collected, as its builder's loop needs it to carry on. */
  state: S;
  /** The question already on screen, which the first step of the new run takes as asked. */
  asked: number;
  /** Updates the whole flow has taken so far (MAX_UPDATES_PER_FLOW counts across runs). */
  taken: number;
}

/**
 * The outside context's slot where a run that ended at a mark leaves the arguments to enter the
 * flow again with; `mountFlow` enters the flow it mounts.
 */
export const CONTINUE = Symbol("flow.continue");
export interface Continuation {
  args: unknown[];
}

interface Mark {
  /** The builder's arguments before the Resume. */
  args: unknown[];
  state: unknown;
}
const marks = new WeakMap<Convo, Mark>();
/** The question a resumed run takes as already asked. */
const resumedAsk = new WeakMap<Convo, number>();
/** Updates taken when this run began: a run ends at a mark only once it has taken one itself. */
const runStart = new WeakMap<Convo, number>();

/**
 * Marks where a segmented flow (mounted with `mountFlow`) stands between two questions: the next
 * question asked ends this run once sent, and the flow is entered again with `[...args, Resume]`. Call it where the builder's loop can carry on from `state` alone, and send
 * or store nothing between the mark and that question: the resumed run does that stretch again,
 * live (reads through `external` are fine), and its first question must be the one on screen.
 */
export function segment<S>(conversation: Convo, args: unknown[], state: S): void {
  marks.set(conversation, { args, state });
}

/** At the start of a segmented builder: the state to carry on from, or undefined on a fresh entry. */
export function resumeFrom<S>(conversation: Convo, resume: Resume<S> | undefined): S | undefined {
  if (!resume) return undefined;
  resumedAsk.set(conversation, resume.asked);
  taken.set(conversation, resume.taken);
  runStart.set(conversation, resume.taken);
  return resume.state;
}

/** Sends the step's question, unless a resumed run already has it on screen; ends the run at a mark. */
async function ask(conversation: Convo, ctx: ConvContext, question: string, kb: InlineKeyboard | Keyboard | undefined): Promise<Pick<Message, "message_id">> {
  const already = resumedAsk.get(conversation);
  if (already !== undefined) {
    resumedAsk.delete(conversation);
    marks.delete(conversation);
    return { message_id: already };
  }
  const asked = await ctx.reply(question, { reply_markup: kb });
  await besideDone(conversation);
  const mark = marks.get(conversation);
  marks.delete(conversation);
  const count = taken.get(conversation) ?? 0;
  if (mark && count > (runStart.get(conversation) ?? 0)) {
    const resume: Resume<unknown> = { state: mark.state, asked: asked.message_id, taken: count };
    const next: Continuation = { args: [...mark.args, resume] };
    await conversation.external((octx) => {
      (octx as unknown as Record<symbol, Continuation>)[CONTINUE] = next;
    });
    throw new FlowContinued();
  }
  return asked;
}

/** Runs one step to its answer, or BACK. */
export async function runStep<T>(conversation: Convo, ctx: ConvContext, step: Step<T>): Promise<T | Back> {
  const kb = markup(step as Step<unknown>, ctx);
  // The question's text is made only when it is sent (a resumed run has it on screen already).
  const asked = await ask(conversation, ctx, resumedAsk.has(conversation) ? "" : step.question(ctx), kb);
  const replyKeyboard = kb instanceof Keyboard;
  const shown: Message[] = [];
  const codecs = step.codecs ?? [];
  let invalid = 0;
  let received = 0;

  const settle = async (c: ConvContext, echo: string | undefined) => {
    const chat = c.chat!.id;
    // A new message must come before the next question: it is awaited. Edits go beside it.
    if (replyKeyboard) {
      if (echo) await c.reply(echo, { reply_markup: { remove_keyboard: true } });
    } else if (echo) {
      beside(conversation, c, tidy(c.api.editMessageText(chat, asked.message_id, echo)));
    } else if (kb) {
      beside(conversation, c, tidy(c.api.editMessageReplyMarkup(chat, asked.message_id)));
    }
    for (const m of shown) beside(conversation, c, tidy(c.api.editMessageReplyMarkup(chat, m.message_id)));
  };

  for (;;) {
    const c = await conversation.wait();
    const total = (taken.get(conversation) ?? 0) + 1;
    taken.set(conversation, total);
    // Commands (/help, /me…), service updates (my_chat_member) and other features' buttons are
    // not answers: they go on to the features.
    if (!isAnswer(c) || isCommand(c)) await conversation.skip({ next: true });
    const query = c.callbackQuery;
    if (query) {
      const data = query.data ?? "";
      if (step.back && cb.flowBack.pattern.test(data)) {
        const onScreen = query.message?.message_id === asked.message_id || shown.some((m) => m.message_id === query.message?.message_id);
        if (!onScreen) {
          await c.answerCallbackQuery({ text: c.t("common:errors.stale_button") });
          continue;
        }
        beside(conversation, c, c.answerCallbackQuery());
        await settle(c, undefined);
        return BACK;
      }
      const mine = codecs.find((codec) => codec.pattern.test(data));
      if (!mine) await conversation.skip({ next: true });
      if (mine!.unpack(data) === undefined) {
        await c.answerCallbackQuery({ text: c.t("common:errors.invalid_button") });
        continue;
      }
      beside(conversation, c, c.answerCallbackQuery());
    }
    if (++received > MAX_UPDATES_PER_STEP || total > MAX_UPDATES_PER_FLOW) await stopFlow(c);
    if (c.editedMessage) {
      await c.reply(c.t("common:errors.edited_ignored"));
      continue;
    }
    const text = c.message?.text;
    if (step.back && replyKeyboard && text !== undefined && backLabels(step.back.label ?? "common:flow.back", c).includes(text.trim())) {
      await settle(c, undefined);
      await c.reply(c.t("common:flow.going_back"), { reply_markup: { remove_keyboard: true } });
      return BACK;
    }
    const outcome = await step.accept(c);
    if (outcome && "done" in outcome) {
      await settle(c, step.echo?.(c, outcome.done));
      return outcome.done;
    }
    if (outcome && "wait" in outcome) {
      if (outcome.shown) shown.push(outcome.shown);
      continue;
    }
    if (++invalid >= MAX_ATTEMPTS) await stopFlow(c);
    // The reason alone: it says what is wrong and what to do. The hint is for other kinds of input.
    await c.reply(outcome ? c.t(outcome.retry, outcome.params) : `${c.t("common:flow.unexpected")} ${c.t(step.hint)}`);
  }
}

/** Ends a runaway flow politely: says so, takes any reply keyboard away, stops the builder. */
export async function stopFlow(c: ConvContext): Promise<never> {
  await c.reply(c.t("common:flow.too_many_attempts"), { reply_markup: { remove_keyboard: true } });
  throw new FlowStopped();
}

/** "✅ Tỉnh/thành: Hải Phòng": what replaces an answered question. */
export function echoLine(c: ConvContext, labelKey: string, value: string): string {
  return c.t("common:flow.echo", { label: c.t(labelKey), value });
}

export interface ButtonsOptions<T extends string> {
  question(c: ConvContext): string;
  keyboard(c: ConvContext): InlineKeyboard;
  codec: CallbackCodec<T>;
  hint: string;
  back?: BackOption;
  echo?(c: ConvContext, value: T): string | undefined;
  /** Some values show something and keep the question open (e.g. "read the full notice"). */
  onPress?(c: ConvContext, value: T): Promise<Outcome<T>>;
}

/**
 * A question answered with its buttons. Typing a button's label does the same as pressing it
 * ("thcs", "có", "Không chắc": case, diacritics, emoji and punctuation ignored) when exactly one
 * button of the question matches; other text is pointed back to the buttons.
 */
export function askButtons<T extends string>(conversation: Convo, ctx: ConvContext, opts: ButtonsOptions<T> & { back?: undefined }): Promise<T>;
export function askButtons<T extends string>(conversation: Convo, ctx: ConvContext, opts: ButtonsOptions<T>): Promise<T | Back>;
export function askButtons<T extends string>(conversation: Convo, ctx: ConvContext, opts: ButtonsOptions<T>): Promise<T | Back> {
  return runStep<T>(conversation, ctx, {
    ...opts,
    codecs: [opts.codec as CallbackCodec<string>],
    accept: async (c) => {
      const value = opts.codec.unpack(c.callbackQuery?.data) ?? typedButton(c, opts);
      if (value !== undefined) return opts.onPress ? opts.onPress(c, value) : { done: value };
      return c.message?.text !== undefined ? { retry: "common:flow.use_buttons" } : undefined;
    },
  });
}

export interface TextOptions<T> {
  question(c: ConvContext): string;
  /** Validates and normalises; its error messages are namespaced i18n keys. */
  schema: ZodType<T>;
  hint: string;
  back?: BackOption;
  keyboard?(c: ConvContext): InlineKeyboard | Keyboard | undefined;
  echo?(c: ConvContext, value: T): string | undefined;
}

/** A typed answer, validated with zod; a refused one is re-asked with its localised reason. */
export function askText<T>(conversation: Convo, ctx: ConvContext, opts: TextOptions<T> & { back?: undefined }): Promise<T>;
export function askText<T>(conversation: Convo, ctx: ConvContext, opts: TextOptions<T>): Promise<T | Back>;
export function askText<T>(conversation: Convo, ctx: ConvContext, opts: TextOptions<T>): Promise<T | Back> {
  return runStep<T>(conversation, ctx, {
    ...opts,
    accept: async (c) => {
      const text = c.message?.text;
      return text === undefined ? undefined : parseWith(opts.schema, text);
    },
  });
}

export function parseWith<T>(schema: ZodType<T>, value: unknown): Outcome<T> {
  const r = schema.safeParse(value);
  return r.success ? { done: r.data } : { retry: r.error.issues[0]?.message ?? "common:flow.invalid" };
}

/** The value of the one button of this question whose label is the typed text, if exactly one is. */
function typedButton<T extends string>(c: ConvContext, opts: ButtonsOptions<T>): T | undefined {
  const typed = searchForm(c.message?.text ?? "");
  if (!typed) return undefined;
  const values = opts.keyboard(c).inline_keyboard.flat()
    .filter((b) => "callback_data" in b && searchForm(b.text) === typed)
    .map((b) => opts.codec.unpack((b as { callback_data: string }).callback_data))
    .filter((v): v is T => v !== undefined);
  return new Set(values).size === 1 ? values[0] : undefined;
}
