import { createConversation } from "@grammyjs/conversations";
import type { MiddlewareFn } from "grammy";
import type { BotContext, ConvContext, Convo } from "../context.js";
import { reportFailure } from "../helpers/failures.js";
import { CONTINUE, FlowStopped, type Continuation } from "./engine.js";

type Builder<A extends unknown[]> = (conversation: Convo, ctx: ConvContext, ...args: A) => Promise<void>;

/**
 * A failure while handling one update (Telegram refused a message, the database was briefly
 * away) must not throw away the answers given so far. The conversations plugin leaves a flow
 * whose builder throws; instead we apologise and drop just this update (`skip`), so the flow
 * stays where it was and the person can answer again.
 */
export function keepFlowOnError<A extends unknown[]>(builder: Builder<A>): Builder<A> {
  return async (conversation, ctx, ...args) => {
    try {
      await builder(conversation, ctx, ...args);
    } catch (e) {
      if (e instanceof FlowStopped) return;
      await conversation.external((octx) => reportFailure(octx, e));
      await conversation.skip({ next: false });
    }
  };
}

/**
 * A flow as middleware: the conversation `id` built by `builder`, kept on errors, and entered
 * again at once when a run ended at one of its segment marks (see `segment` in the engine).
 * The run that ended and the new one handle the same update, in one storage write.
 */
export function mountFlow<A extends unknown[]>(id: string, builder: Builder<A>): MiddlewareFn<BotContext> {
  const conversation = createConversation<BotContext, ConvContext>(keepFlowOnError(builder) as never, { id });
  return async (ctx, next) => {
    await conversation(ctx, next);
    const slot = ctx as unknown as Record<symbol, Continuation | undefined>;
    // Set only by a run of this flow: an inner flow's wrapper has taken its own already.
    const then = slot[CONTINUE];
    if (!then) return;
    slot[CONTINUE] = undefined;
    await ctx.conversation.enter(id, ...then.args);
  };
}
