import type { ConvContext, Convo } from "../context.js";
import { reportFailure } from "../helpers/failures.js";
import { FlowStopped } from "./engine.js";

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
