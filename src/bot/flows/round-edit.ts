import type { RoundRules } from "../../domain/scholarships/model.js";
import { dayKey, type RoundPatch } from "../../domain/scholarships/rounds.js";
import type { ConvContext, Convo } from "../context.js";
import { BACK, stopFlow } from "./engine.js";
import { refuseAsker, roundAsker } from "./round-new.js";
import {
  NS, askAwardCount, askAwardValue, askBody, askContact, askDay, askEligibility, askHowToApply, askProgramme, askRules, askScope, askYear, dayText,
} from "./round-steps.js";
import { currentActor } from "./session-steps.js";

export { ROUND_EDIT_FLOW } from "./scholarship-flow-names.js";
export const ROUND_EDIT_FIELDS = ["programme", "year", "body", "scope", "eligibility", "rules", "award", "dates", "apply", "contact"] as const;
export type RoundEditField = (typeof ROUND_EDIT_FIELDS)[number];

/** What the edit questions need of the round (plain JSON: conversation state). */
export interface RoundSnapshot {
  id: number;
  programme: string;
  state: string;
  opensOn: string;
  deadlineOn: string;
  awardOn: string;
  rules: RoundRules;
  provinceCode: string | null;
}

/** The round, if the caller manages it and it is not cancelled; otherwise the reason (an i18n key). */
export async function loadRound(conversation: Convo, id: number): Promise<{ round: RoundSnapshot } | { error: string }> {
  return conversation.external(async (o) => {
    const r = await o.deps.services.scholarshipRounds.get(await currentActor(o), id);
    if (!r.ok) return { error: r.errors[0]!.key };
    const x = r.round;
    if (x.state === "cancelled") return { error: `${NS}:errors.cancelled` };
    return {
      round: { id: x.id, programme: x.programme, state: x.state, opensOn: dayKey(x.opensOn), deadlineOn: dayKey(x.deadlineOn), awardOn: dayKey(x.awardOn), rules: r.rules, provinceCode: x.provinceCode },
    };
  });
}

/**
 * One group of a round's fields, from the officer's edit menu (entered with the round id and the
 * field): the same questions as /scholarship_new, then the change is stored with role and scope
 * checked again. A later deadline is an extension: everyone following the round is told.
 */
export async function roundEditFlow(conversation: Convo, ctx: ConvContext, rawId: unknown, rawField: unknown): Promise<void> {
  if (typeof rawId !== "number" || !(ROUND_EDIT_FIELDS as readonly unknown[]).includes(rawField)) return;
  const field = rawField as RoundEditField;
  const loaded = await loadRound(conversation, rawId);
  if ("error" in loaded) {
    await ctx.reply(ctx.t(loaded.error));
    return;
  }
  const round = loaded.round;
  if (field === "scope") {
    const asker = await roundAsker(conversation);
    if (!asker.may) return refuseAsker(ctx, asker);
    if (asker.role !== "admin") {
      await ctx.reply(ctx.t(`${NS}:edit.scope_admins_only`));
      return;
    }
  }
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 3) await stopFlow(ctx);
    const patch = await askPatch(conversation, ctx, field, round);
    if (!patch) {
      await ctx.reply(ctx.t(`${NS}:edit.kept`));
      return;
    }
    const result = await conversation.external(async (o) => {
      const r = await o.deps.services.scholarshipRounds.update(await currentActor(o), round.id, patch);
      return r.ok ? { ok: true as const, extended: r.extended, notified: r.notified } : { ok: false as const, reason: r.reason, errors: r.errors };
    });
    if (result.ok) {
      const lines = [ctx.t(`${NS}:edit.saved`, { id: round.id, programme: patch.programme ?? round.programme })];
      if (result.extended) lines.push(ctx.t(`${NS}:edit.extended`, { count: result.notified }));
      await ctx.reply(lines.join("\n"));
      return;
    }
    await ctx.reply(result.errors.map((e) => ctx.t(e.key, e.params)).join("\n"));
    // Dates refused in the meantime (a deadline that just passed) may be typed again; other refusals end here.
    if (!["deadline_before_open", "award_before_deadline", "deadline_past", "too_far", "invalid"].includes(result.reason)) return;
  }
}

/** The new value(s) of one field group; undefined when the officer went back without a change. */
async function askPatch(conversation: Convo, ctx: ConvContext, field: RoundEditField, round: RoundSnapshot): Promise<RoundPatch | undefined> {
  const got = <T>(v: T | typeof BACK): v is T => v !== BACK;
  switch (field) {
    case "programme": {
      const v = await askProgramme(conversation, ctx);
      return got(v) ? { programme: v } : undefined;
    }
    case "year": {
      const v = await askYear(conversation, ctx);
      return got(v) ? { year: v } : undefined;
    }
    case "body": {
      const v = await askBody(conversation, ctx);
      return got(v) ? { organiserBody: v as RoundPatch["organiserBody"] } : undefined;
    }
    case "scope": {
      const v = await askScope(conversation, ctx);
      return got(v) ? { provinceCode: v.provinceCode } : undefined;
    }
    case "eligibility": {
      const v = await askEligibility(conversation, ctx);
      return got(v) ? { eligibility: v } : undefined;
    }
    case "rules": {
      const v = await askRules(conversation, ctx, undefined, round.provinceCode);
      return got(v) ? { rules: v } : undefined;
    }
    case "apply": {
      const v = await askHowToApply(conversation, ctx);
      return got(v) ? { howToApply: v } : undefined;
    }
    case "contact": {
      const v = await askContact(conversation, ctx);
      return got(v) ? { contact: v } : undefined;
    }
    case "award": {
      for (let i = 0; i < 10; i++) {
        const value = await askAwardValue(conversation, ctx);
        const count = await askAwardCount(conversation, ctx, {});
        if (got(value) && got(count)) return { awardValueVnd: value, awardCount: count };
      }
      return undefined;
    }
    case "dates": {
      for (let i = 0; i < 10; i++) {
        const opensOn = await askDay(conversation, ctx, {
          question: (c) => c.t(`${NS}:edit.ask_opens`, { day: dayText(round.opensOn) }), label: `${NS}:new.opens_label`, today: true, keep: round.opensOn,
        });
        if (!got(opensOn)) continue;
        const deadlineOn = await askDay(conversation, ctx, {
          question: (c) => c.t(`${NS}:edit.ask_deadline`, { day: dayText(round.deadlineOn) }), label: `${NS}:new.deadline_label`,
          after: { day: opensOn, reason: "deadline_before_open" }, back: {},
        });
        if (!got(deadlineOn)) continue;
        const awardOn = await askDay(conversation, ctx, {
          question: (c) => c.t(`${NS}:edit.ask_award_on`, { day: dayText(round.awardOn) }), label: `${NS}:new.award_on_label`,
          after: { day: deadlineOn, reason: "award_before_deadline" }, back: {},
        });
        if (!got(awardOn)) continue;
        return { opensOn, deadlineOn, awardOn };
      }
      return undefined;
    }
  }
}
