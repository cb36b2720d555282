import { Composer, GrammyError, InputFile } from "grammy";
import { formatCount } from "../../domain/broadcasts/format.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { requireRole } from "../filters/roles.js";
import { onButton } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { formatDateTime } from "../format/dates.js";
import { BROADCAST_FLOW, QUIZ_MODE } from "../flows/broadcast.js";
import { listKeyboard, quizStatusKeyboard } from "../keyboards/broadcast.js";

/** /broadcast, /broadcasts, and the buttons of approval requests, progress messages and reports. */
export const broadcastsFeature = new Composer<BotContext>();
const privateChats = broadcastsFeature.chatType("private");

privateChats.command("broadcast", async (ctx) => {
  if (!(await requireRole(ctx, "officer"))) return;
  await ctx.conversation.enter(BROADCAST_FLOW);
});

/** A quiz prompt: the broadcast flow with questions instead of a message. */
privateChats.command("quizprompt", async (ctx) => {
  if (!(await requireRole(ctx, "officer"))) return;
  await ctx.conversation.enter(BROADCAST_FLOW, QUIZ_MODE);
});

async function listText(ctx: BotContext): Promise<{ text: string; keyboard: ReturnType<typeof listKeyboard> }> {
  const items = await ctx.deps.services.broadcasts.list(String(ctx.from!.id));
  if (items.length === 0) return { text: ctx.t("broadcast:list.empty"), keyboard: listKeyboard(ctx.t, []) };
  const n = (x: number) => formatCount(x, ctx.locale);
  const lines = items.map((b) =>
    (b.quiz ? "❓ " : "") + ctx.t("broadcast:list.line", {
      id: b.id, state: ctx.t(`broadcast:list.state.${b.state}`), created: formatDateTime(b.scheduledAt ?? b.createdAt, ctx.locale),
      recipients: n(b.recipients), sent: n(b.counts.sent), failed: n(b.counts.failed + b.counts.blocked), queued: n(b.counts.queued + b.counts.sending),
    }),
  );
  return { text: [ctx.t("broadcast:list.title"), ...lines].join("\n\n"), keyboard: listKeyboard(ctx.t, items) };
}

privateChats.command("broadcasts", async (ctx) => {
  if (!(await requireRole(ctx, "officer"))) return;
  const { text, keyboard } = await listText(ctx);
  await ctx.reply(text, { reply_markup: keyboard });
});

broadcastsFeature.use(
  onButton(cb.bcCancel, async (ctx, value) => {
    if (!(await requireRole(ctx, "officer"))) return;
    const id = Number(value);
    const result = await ctx.deps.services.broadcasts.cancel(id, String(ctx.from.id));
    if (!result.ok) {
      await ctx.answerCallbackQuery({ text: ctx.t(result.reason === "forbidden" ? "common:errors.forbidden" : `broadcast:errors.${result.reason}`), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t("broadcast:list.cancelled", { id, count: formatCount(result.cancelled, ctx.locale) }));
    // The message the button was on (progress or list) loses its now useless Stop button.
    await ctx.editMessageReplyMarkup().catch(() => {});
  }),
  onButton(cb.bcDecide, async (ctx, value) => {
    if (!(await requireRole(ctx, "officer"))) return;
    const [verb, raw] = value.split(".") as ["a" | "r", string];
    const id = Number(raw);
    const service = ctx.deps.services.broadcasts;
    const result = verb === "a" ? await service.approve(id, String(ctx.from.id)) : await service.reject(id, String(ctx.from.id));
    if (!result.ok) {
      await ctx.answerCallbackQuery({ text: ctx.t(result.reason === "forbidden" ? "common:errors.forbidden" : `broadcast:approval.${result.reason}`), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery();
    await editOrReply(ctx, ctx.t(verb === "a" ? "broadcast:approval.approved" : "broadcast:approval.rejected", { id }));
  }),
  onButton(cb.bcResults, async (ctx, value) => {
    if (!(await requireRole(ctx, "officer"))) return;
    const [how, raw] = value.split(".") as ["n" | "r", string];
    const id = Number(raw);
    const result = await ctx.deps.services.broadcasts.quizResults(id, String(ctx.from.id), ctx.locale);
    if (!result.ok) {
      await ctx.answerCallbackQuery({ text: ctx.t(result.reason === "forbidden" ? "common:errors.forbidden" : "quiz-prompt:errors.not_found"), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery({ text: ctx.t("quiz-prompt:refreshed") });
    const reply_markup = quizStatusKeyboard(ctx.t, id, result.cancellable);
    if (how === "n") await ctx.reply(result.text, { reply_markup });
    // Unchanged figures: Telegram refuses the edit, and nothing needs to change.
    else {
      await ctx.editMessageText(result.text, { reply_markup }).catch((e: unknown) => {
        if (!(e instanceof GrammyError) || e.error_code !== 400) throw e;
      });
    }
  }),
  onButton(cb.bcCsv, async (ctx, value) => {
    if (!(await requireRole(ctx, "officer"))) return;
    const id = Number(value);
    const csv = await ctx.deps.services.broadcasts.failuresCsv(id, String(ctx.from.id));
    if (csv === undefined) {
      ctx.logger.warn({ broadcast: id, user: ctx.from.id }, "refused a broadcast's failures to someone else");
      await ctx.answerCallbackQuery({ text: ctx.t("common:errors.forbidden"), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery();
    if (csv.split("\r\n").length <= 2) {
      await ctx.reply(ctx.t("broadcast:report.csv_empty", { id }));
      return;
    }
    await ctx.replyWithDocument(new InputFile(Buffer.from(csv, "utf8"), `broadcast-${id}-failures.csv`), { caption: ctx.t("broadcast:report.csv_caption", { id }) });
  }),
);
