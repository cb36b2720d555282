import type { ConvContext, Convo } from "../context.js";
import { FlowStopped } from "./steps.js";

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
      await conversation.external(async (octx) => {
        octx.logger.error({ err: e }, "a flow step failed: the update is dropped, the flow kept");
        await octx.reply(octx.t("common:errors.internal"), { parse_mode: "HTML" }).catch(() => undefined);
      });
      await conversation.skip({ next: false });
    }
  };
}
