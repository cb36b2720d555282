import { InlineKeyboard } from "grammy";
import type { SessionPatch } from "../../domain/sessions/session-admin.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { askButtons, stopFlow } from "./engine.js";
import {
  askBody, askCapacity, askDescription, askDuration, askSpeaker, askStart, askTitle, askTopic, currentActor, sessionTime,
} from "./session-steps.js";

export const SESSION_EDIT_FLOW = "session-edit";
export const EDIT_FIELDS = ["title", "topic", "start", "duration", "capacity", "speaker", "body", "description"] as const;
export type EditField = (typeof EDIT_FIELDS)[number];
const NS = "session-admin";
/** A refused value (fewer seats than people holding one, a time that just passed) may be typed again this often. */
const MAX_TRIES = 3;

interface Current {
  title: string;
  startsAt: string;
  capacity: number;
  confirmed: number;
  waiting: number;
}

/**
 * One field of a session, from the officer's edit menu (entered with the session id and the
 * field): one question with the same validators as /session_new, then the change is stored with
 * role and scope checked again. A new time asks for a confirmation first: everyone signed up or
 * waiting is told.
 */
export async function sessionEditFlow(conversation: Convo, ctx: ConvContext, rawId: unknown, rawField: unknown): Promise<void> {
  if (typeof rawId !== "number" || !(EDIT_FIELDS as readonly unknown[]).includes(rawField)) return;
  const id = rawId;
  const field = rawField as EditField;
  const loaded = await conversation.external(async (o) => {
    const r = await o.deps.services.sessionAdmin.get(await currentActor(o), id);
    if (!r.ok) return { error: r.errors[0]!.key };
    if (r.session.state === "cancelled") return { error: `${NS}:errors.cancelled` };
    const s = r.session;
    return { current: { title: s.title, startsAt: s.startsAt.toISOString(), capacity: s.capacity, confirmed: s.confirmedCount, waiting: s.waitingCount } };
  });
  if (!loaded.current) {
    await ctx.reply(ctx.t(loaded.error ?? "common:errors.forbidden"));
    return;
  }
  const current: Current = loaded.current;

  for (let attempt = 0; ; attempt++) {
    if (attempt >= MAX_TRIES) await stopFlow(ctx);
    const patch = await askPatch(conversation, ctx, field, current);
    if (!patch) {
      await ctx.reply(ctx.t(`${NS}:edit.kept`));
      return;
    }
    const result = await conversation.external(async (o) => {
      const r = await o.deps.services.sessionAdmin.update(await currentActor(o), id, patch);
      return r.ok ? { ok: true as const, promoted: r.promoted, notified: r.notified, moved: r.moved } : { ok: false as const, reason: r.reason, errors: r.errors };
    });
    if (result.ok) {
      const lines = [ctx.t(`${NS}:edit.saved`, { id, title: patch.title ?? current.title })];
      if (result.promoted > 0) lines.push(ctx.t(`${NS}:edit.promoted`, { count: result.promoted }));
      if (result.moved) lines.push(ctx.t(`${NS}:edit.notified`, { count: result.notified }));
      await ctx.reply(lines.join("\n"));
      return;
    }
    await ctx.reply(result.errors.map((e) => ctx.t(e.key, e.params)).join("\n"));
    if (result.reason !== "invalid") return;
  }
}

/** The new value of one field as a patch; undefined when the officer kept the old one. */
async function askPatch(conversation: Convo, ctx: ConvContext, field: EditField, current: Current): Promise<SessionPatch | undefined> {
  switch (field) {
    case "title":
      return { title: (await askTitle(conversation, ctx)) as string };
    case "topic":
      return { topic: (await askTopic(conversation, ctx)) as SessionPatch["topic"] };
    case "duration":
      return { durationMin: (await askDuration(conversation, ctx)) as number };
    case "capacity":
      return {
        capacity: (await askCapacity(conversation, ctx, (c) => c.t(`${NS}:edit.ask_capacity`, { capacity: current.capacity, confirmed: current.confirmed, waiting: current.waiting }))) as number,
      };
    case "speaker":
      return { speaker: (await askSpeaker(conversation, ctx)) as string | null };
    case "body":
      return { organiserBody: (await askBody(conversation, ctx)) as SessionPatch["organiserBody"] };
    case "description":
      return { description: (await askDescription(conversation, ctx)) as string | null };
    case "start": {
      const at = (await askStart(conversation, ctx, (c) => c.t(`${NS}:edit.ask_start`, { title: current.title, time: sessionTime(current.startsAt, c.locale) }))) as string;
      const people = current.confirmed + current.waiting;
      const go = await askButtons(conversation, ctx, {
        question: (c) => c.t(`${NS}:edit.move_ask`, { title: current.title, time: sessionTime(at, c.locale), count: people }),
        keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:edit.move_yes`), cb.snConfirm.pack("yes")).text(c.t(`${NS}:edit.move_no`), cb.snConfirm.pack("no")),
        codec: cb.snConfirm,
        hint: `${NS}:new.buttons_hint`,
      });
      return go === "yes" ? { startsAt: at } : undefined;
    }
  }
}
