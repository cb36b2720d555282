import type { ConvContext, Convo } from "../context.js";
import { loadRound } from "./round-edit.js";
import { NS, askDay, dayText } from "./round-steps.js";
import { currentActor } from "./session-steps.js";

export { ROUND_EXTEND_FLOW } from "./scholarship-flow-names.js";

/**
 * A later deadline for a round (entered with its id): the new day must be after the current
 * deadline and not past; a deadline after the award day asks for a new award day too. Reopens a
 * round closed early; subscribers and nominators are told through the delivery engine.
 */
export async function roundExtendFlow(conversation: Convo, ctx: ConvContext, rawId: unknown): Promise<void> {
  if (typeof rawId !== "number") return;
  const loaded = await loadRound(conversation, rawId);
  if ("error" in loaded) {
    await ctx.reply(ctx.t(loaded.error));
    return;
  }
  const round = loaded.round;
  const deadlineOn = (await askDay(conversation, ctx, {
    question: (c) => c.t(`${NS}:extend.ask_deadline`, { programme: round.programme, day: dayText(round.deadlineOn) }),
    label: `${NS}:new.deadline_label`,
    after: { day: round.deadlineOn, reason: "not_later", strict: true },
  })) as string;
  let awardOn: string | undefined;
  if (deadlineOn > round.awardOn) {
    awardOn = (await askDay(conversation, ctx, {
      question: (c) => c.t(`${NS}:extend.ask_award_on`, { day: dayText(round.awardOn) }),
      label: `${NS}:new.award_on_label`,
      after: { day: deadlineOn, reason: "award_before_deadline" },
    })) as string;
  }
  const result = await conversation.external(async (o) => {
    const r = await o.deps.services.scholarshipRounds.extend(await currentActor(o), round.id, deadlineOn, awardOn);
    return r.ok ? { ok: true as const, notified: r.notified } : { ok: false as const, errors: r.errors };
  });
  if (!result.ok) {
    await ctx.reply(result.errors.map((e) => ctx.t(e.key, e.params)).join("\n"));
    return;
  }
  await ctx.reply(ctx.t(`${NS}:extend.result`, { programme: round.programme, day: dayText(deadlineOn), count: result.notified }));
}
