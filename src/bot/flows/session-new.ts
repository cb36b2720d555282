import { InlineKeyboard } from "grammy";
import { CENTER_PAGE_SIZE, type CenterChoice, type CreateInput } from "../../domain/sessions/session-admin.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { askButtons, BACK, echoLine, runStep, stopFlow, type Back, type Outcome } from "./engine.js";
import {
  askBody, askCapacity, askDescription, askDuration, askSpeaker, askStart, askTitle, askTopic, bodyLabel, currentActor, formatDuration,
  sendCheckinQr, sessionTime, topicLabel,
} from "./session-steps.js";

export const SESSION_NEW_FLOW = "session-new";
const NS = "session-admin";
/** Centre names on buttons are cut to fit a phone's width. */
const LABEL_MAX = 48;
const short = (s: string) => (s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s);

type CenterPage = { items: CenterChoice[]; total: number; page: number };

function centerKeyboard(list: CenterPage, paged: boolean): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const c of list.items) kb.text(short(c.name), cb.snCenter.pack(String(c.id))).row();
  const pages = Math.ceil(list.total / CENTER_PAGE_SIZE);
  if (paged && pages > 1) {
    if (list.page > 0) kb.text("◀️", cb.snCenter.pack(`p.${list.page - 1}`));
    if (list.page < pages - 1) kb.text("▶️", cb.snCenter.pack(`p.${list.page + 1}`));
  }
  return kb;
}

/**
 * The centre: its buttons by name, a page at a time (the one message is edited on ◀️ / ▶️), or
 * part of its name typed (diacritics optional). A pressed centre is checked against the
 * officer's scope again, so a forged button cannot pick another province's centre.
 */
async function askCenter(conversation: Convo, ctx: ConvContext, first: CenterPage): Promise<CenterChoice> {
  const pages = Math.max(1, Math.ceil(first.total / CENTER_PAGE_SIZE));
  const picked = await runStep<CenterChoice>(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.ask_center`, { count: first.total, page: 1, pages }),
    keyboard: () => centerKeyboard(first, true),
    codecs: [cb.snCenter],
    hint: `${NS}:new.center_hint`,
    echo: (c, v) => echoLine(c, `${NS}:new.center_label`, v.name),
    accept: async (c): Promise<Outcome<CenterChoice>> => {
      const data = cb.snCenter.unpack(c.callbackQuery?.data);
      if (data?.startsWith("p.")) {
        const page = Number(data.slice(2));
        const list = await conversation.external(async (o) => {
          const r = await o.deps.services.sessionAdmin.centersInScope(await currentActor(o), { page });
          return r.ok ? { items: r.items, total: r.total, page: r.page } : undefined;
        });
        if (!list) return { retry: "common:errors.forbidden" };
        const text = c.t(`${NS}:new.ask_center`, { count: list.total, page: list.page + 1, pages: Math.max(1, Math.ceil(list.total / CENTER_PAGE_SIZE)) });
        await c.editMessageText(text, { reply_markup: centerKeyboard(list, true) }).catch(() => undefined);
        return { wait: true };
      }
      if (data) {
        const r = await conversation.external(async (o) => {
          const found = await o.deps.services.sessionAdmin.centerInScope(await currentActor(o), Number(data));
          return found.ok ? { center: found.center } : { error: found.errors[0]!.key };
        });
        return r.center ? { done: r.center } : { retry: r.error ?? "common:errors.forbidden" };
      }
      const query = c.message?.text?.trim();
      if (query === undefined) return undefined;
      if (query.length < 2 || query.length > 100) return { retry: `${NS}:new.center_query_length` };
      const found = await conversation.external(async (o) => {
        const r = await o.deps.services.sessionAdmin.centersInScope(await currentActor(o), { query });
        return r.ok ? { items: r.items, total: r.total, page: 0 } : undefined;
      });
      if (!found) return { retry: "common:errors.forbidden" };
      if (found.items.length === 0) return { retry: `${NS}:new.center_no_match`, params: { query } };
      const lines = [c.t(`${NS}:new.center_matches`, { query })];
      if (found.total > found.items.length) lines.push(c.t(`${NS}:new.center_more`, { count: found.total, shown: found.items.length }));
      const shown = await c.reply(lines.join("\n"), { reply_markup: centerKeyboard(found, false) });
      return { wait: true, shown };
    },
  });
  return picked as CenterChoice;
}

/**
 * /session_new (officers in their province or commune, admins anywhere): centre → title → topic →
 * start → duration → seats → speaker → organising body → description → summary and confirm; then
 * the check-in QR. Role and scope are read again when the session is stored.
 */
export async function sessionNewFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const first = await conversation.external(async (o) => {
    const r = await o.deps.services.sessionAdmin.centersInScope(await currentActor(o), { page: 0 });
    return r.ok ? { items: r.items, total: r.total, page: r.page } : undefined;
  });
  if (!first) {
    await ctx.reply(ctx.t("common:errors.forbidden"));
    return;
  }
  if (first.total === 0) {
    await ctx.reply(ctx.t(`${NS}:new.no_centers`));
    return;
  }
  await ctx.reply(ctx.t(`${NS}:new.intro`));
  const center = await askCenter(conversation, ctx, first);

  // Each question after the title can go back one (the centre is chosen again with /session_new).
  const answers: {
    title?: string; topic?: string; startsAt?: string; durationMin?: number; capacity?: number;
    speaker?: string | null; organiserBody?: string | null; description?: string | null;
  } = {};
  type Answers = typeof answers;
  const take = async <K extends keyof Answers>(key: K, asked: Promise<Answers[K] | Back>): Promise<boolean> => {
    const v = await asked;
    if (v === BACK) return false;
    answers[key] = v as Answers[K];
    return true;
  };
  const steps: Array<() => Promise<boolean>> = [
    () => take("title", askTitle(conversation, ctx)),
    () => take("topic", askTopic(conversation, ctx, {})),
    () => take("startsAt", askStart(conversation, ctx, undefined, {})),
    () => take("durationMin", askDuration(conversation, ctx, {})),
    () => take("capacity", askCapacity(conversation, ctx, undefined, {})),
    () => take("speaker", askSpeaker(conversation, ctx, {})),
    () => take("organiserBody", askBody(conversation, ctx, {})),
    () => take("description", askDescription(conversation, ctx, {})),
  ];
  let backs = 0;
  for (let i = 0; i < steps.length; ) {
    if (await steps[i]!()) i++;
    else {
      if (++backs > 20) await stopFlow(ctx);
      i = Math.max(0, i - 1);
    }
  }

  for (let attempt = 0; ; attempt++) {
    if (attempt >= 5) await stopFlow(ctx);
    const confirm = await askButtons(conversation, ctx, {
      question: (c) =>
        c.t(`${NS}:new.summary`, {
          center: center.name, title: answers.title, topic: topicLabel(c.t, answers.topic!), time: sessionTime(answers.startsAt!, c.locale),
          duration: formatDuration(c.t, answers.durationMin!), capacity: answers.capacity, speaker: answers.speaker ?? c.t(`${NS}:new.none`),
          body: bodyLabel(c.t, answers.organiserBody), description: answers.description ?? c.t(`${NS}:new.none`),
        }),
      keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:new.create_button`), cb.snConfirm.pack("yes")).text(c.t(`${NS}:new.drop_button`), cb.snConfirm.pack("no")),
      codec: cb.snConfirm,
      hint: `${NS}:new.buttons_hint`,
    });
    if (confirm === "no") {
      await ctx.reply(ctx.t(`${NS}:new.dropped`));
      return;
    }
    const input: CreateInput = {
      centerId: center.id, title: answers.title!, topic: answers.topic as CreateInput["topic"], startsAt: answers.startsAt!,
      durationMin: answers.durationMin!, capacity: answers.capacity!, speaker: answers.speaker ?? null,
      organiserBody: (answers.organiserBody ?? null) as CreateInput["organiserBody"], description: answers.description ?? null,
    };
    const result = await conversation.external(async (o) => {
      const r = await o.deps.services.sessionAdmin.create(await currentActor(o), input);
      if (!r.ok) return { ok: false as const, reason: r.reason, errors: r.errors };
      const s = r.session;
      return { ok: true as const, session: { id: s.id, title: s.title, startsAt: s.startsAt.toISOString(), durationMin: s.durationMin, checkinToken: s.checkinToken } };
    });
    if (result.ok) {
      await ctx.reply(ctx.t(`${NS}:new.created`, { id: result.session.id, title: result.session.title, time: sessionTime(result.session.startsAt, ctx.locale) }));
      await sendCheckinQr(ctx, { ...result.session, startsAt: new Date(result.session.startsAt) });
      return;
    }
    await ctx.reply([ctx.t(`${NS}:new.not_created`), ...result.errors.map((e) => `• ${ctx.t(e.key, e.params)}`)].join("\n"));
    // The time passed while the summary was open: ask it again, then confirm again.
    if (result.reason === "invalid" && result.errors.some((e) => e.key.endsWith("start_past"))) {
      answers.startsAt = (await askStart(conversation, ctx)) as string;
      continue;
    }
    return;
  }
}
