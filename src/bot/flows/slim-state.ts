import { RedisJsonStorage } from "../../infra/redis-storage.js";

/**
 * What a flow reads of a message the bot sent or edited: which message it is, in which chat
 * (to edit it in place, or to tell its buttons from older ones). Conversations store every Bot
 * API result they see and parse the whole log again on each update; the rest of a sent message
 * (its text, entities, the keyboard — a province keyboard alone is ~3 KB — and the bot's own
 * profile) is never read back, so it is not kept.
 */
const KEPT_MESSAGE_FIELDS = new Set(["message_id", "chat", "date", "message_thread_id", "photo", "document", "poll"]);

function slimMessage(result: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(result)) {
    if (!KEPT_MESSAGE_FIELDS.has(key)) continue;
    const value = result[key];
    if (key === "chat" && value && typeof value === "object") {
      const { id, type } = value as { id: unknown; type: unknown };
      out.chat = { id, type };
    } else {
      out[key] = value;
    }
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A recorded Bot API call's return value with its message slimmed, or the value itself. */
function slimReturnValue(value: unknown): unknown {
  // The conversations plugin records a call as { ok: true, res: <Telegram's response> }.
  if (!isObject(value) || value.ok !== true || !isObject(value.res)) return value;
  const response = value.res;
  if (response.ok !== true || !isObject(response.result) || typeof response.result.message_id !== "number") return value;
  return { ...value, res: { ...response, result: slimMessage(response.result) } };
}

/**
 * The conversations plugin's stored state with every recorded sent message slimmed. Copies
 * what it changes (the plugin may still hold the original); anything of an unknown shape is
 * left as it is.
 */
export function slimConversationState(state: unknown): unknown {
  if (!isObject(state) || !isObject(state.state)) return state;
  const conversations: Record<string, unknown> = {};
  for (const [id, runs] of Object.entries(state.state)) {
    conversations[id] = Array.isArray(runs) ? runs.map(slimRun) : runs;
  }
  return { ...state, state: conversations };
}

function slimRun(run: unknown): unknown {
  if (!isObject(run) || !isObject(run.replay) || !Array.isArray(run.replay.receive)) return run;
  const receive = run.replay.receive.map((entry: unknown) =>
    isObject(entry) && "returnValue" in entry ? { ...entry, returnValue: slimReturnValue(entry.returnValue) } : entry,
  );
  return { ...run, replay: { ...run.replay, receive } };
}

/** The conversations' Redis storage, writing the slimmed state. */
export class ConversationStateStorage extends RedisJsonStorage<unknown> {
  override write(k: string, value: unknown): Promise<void> {
    return super.write(k, slimConversationState(value));
  }
}
