import { Composer, InlineKeyboard } from "grammy";
import type { LearningCard } from "../../domain/citizens/citizen-service.js";
import { communeLabel, placeLabel, provinceLabel } from "../../domain/geo/labels.js";
import { initialsOf, weekStart, type BoardScope, type OwnRank, type Period } from "../../domain/quizzes/leaderboards.js";
import { cb, type BoardView } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { onButton } from "../helpers/buttons.js";
import { editOrReply } from "../helpers/edit-or-reply.js";
import { formatDate } from "../format/dates.js";
import { formatDuration, percent, rankMarker } from "../format/leaderboard.js";

/**
 * /leaderboard: quiz rankings of people, communes and units, this week or all time, nationwide or
 * in the person's province — one message edited in place, with the person's own rank and the
 * button that shows or hides their name (stored in quiz_profiles.show_name, off by default).
 */
export const leaderboardFeature = new Composer<BotContext>();
const dm = leaderboardFeature.chatType("private");

const ROWS = 10;
type Board = "p" | "c" | "u";
interface View {
  board: Board;
  period: "w" | "a";
  scope: "n" | "p";
}

const parseView = (v: BoardView): View => {
  const [board, period, scope] = v.split(".") as [Board, View["period"], View["scope"]];
  return { board, period, scope };
};
const packView = (v: View): BoardView => `${v.board}.${v.period}.${v.scope}`;
const DEFAULT_VIEW: View = { board: "p", period: "w", scope: "n" };
const BOARD_LABEL = { p: "people", c: "communes", u: "units" } as const;

// Button texts are not parsed as HTML: nothing to escape there.
const plain = { interpolation: { escapeValue: false } } as const;

async function boardLines(ctx: BotContext, view: View, period: Period, scope: BoardScope, me: string): Promise<string[]> {
  const { leaderboards, geo } = ctx.deps.services;
  const empty = [ctx.t(period === "week" ? "leaderboard:empty_week" : "leaderboard:empty_all")];
  if (view.board === "p") {
    const rows = await leaderboards.people(period, scope, ROWS);
    if (rows.length === 0) return empty;
    return rows.map((r) => {
      const line = ctx.t("leaderboard:person_line", { rank: rankMarker(r.rank), name: r.name, correct: r.correct, taken: r.taken, time: formatDuration(r.ms) });
      // The person finds themselves at a glance.
      return r.userId === me ? `<b>${line}</b>` : line;
    });
  }
  if (view.board === "c") {
    const rows = await leaderboards.communes(period, scope.provinceCode, ROWS);
    if (rows.length === 0) return empty;
    const lines: string[] = [];
    for (const r of rows) {
      const [commune, province] = await Promise.all([geo.getCommune(r.communeCode), geo.getProvince(r.provinceCode)]);
      // Commune names repeat across provinces: nationwide, each carries its province.
      const name = !commune ? r.communeCode : scope.provinceCode || !province ? communeLabel(commune, ctx.locale) : placeLabel(commune, province, ctx.locale);
      lines.push(ctx.t("leaderboard:commune_line", { rank: rankMarker(r.rank), name, correct: r.correct, people: r.people }));
    }
    return lines;
  }
  const rows = await leaderboards.units(period, scope, ROWS);
  if (rows.length === 0) return [ctx.t("leaderboard:empty_units")];
  const lines: string[] = [];
  for (const r of rows) {
    const province = scope.provinceCode ? undefined : await geo.getProvince(r.provinceCode);
    const name = province ? `${r.name} (${provinceLabel(province, ctx.locale, "short")})` : r.name;
    lines.push(ctx.t("leaderboard:unit_line", { rank: rankMarker(r.rank), name, participants: r.participants, registered: r.registered, percent: percent(r.participants, r.registered), correct: r.correct }));
  }
  return lines;
}

function ownLine(ctx: BotContext, period: Period, own: OwnRank | null): string {
  if (!own) return ctx.t(period === "week" ? "leaderboard:you_none_week" : "leaderboard:you_none_all");
  return ctx.t("leaderboard:you", { rank: own.rank, of: own.of, correct: own.correct, taken: own.taken, time: formatDuration(own.ms) });
}

function keyboard(ctx: BotContext, view: View, card: LearningCard | undefined, showsName: boolean): InlineKeyboard {
  const button = (label: string, selected: boolean) => (selected ? ctx.t("leaderboard:buttons.selected", { label, ...plain }) : label);
  const kb = new InlineKeyboard();
  const to = (patch: Partial<View>) => cb.leaderboard.pack(packView({ ...view, ...patch }));
  kb.text(button(ctx.t("leaderboard:buttons.week"), view.period === "w"), to({ period: "w" }))
    .text(button(ctx.t("leaderboard:buttons.all"), view.period === "a"), to({ period: "a" }))
    .row();
  for (const board of ["p", "c", "u"] as const) kb.text(button(ctx.t(`leaderboard:buttons.${BOARD_LABEL[board]}`), view.board === board), to({ board }));
  kb.row();
  if (card) {
    const province = provinceLabel({ name: card.provinceName, type: card.provinceType }, ctx.locale, "short");
    kb.text(button(ctx.t("leaderboard:buttons.nation"), view.scope === "n"), to({ scope: "n" }))
      .text(button(province, view.scope === "p"), to({ scope: "p" }))
      .row();
    const name = showsName ? "leaderboard:buttons.hide_name" : "leaderboard:buttons.show_name";
    kb.text(ctx.t(name), cb.leaderboardName.pack(`${showsName ? "0" : "1"}.${packView(view)}`));
  }
  return kb;
}

/** The whole message for one view; a province view for someone with no province falls back to nationwide. */
async function render(ctx: BotContext, userId: number, asked: View): Promise<{ text: string; keyboard: InlineKeyboard; fellBack: boolean }> {
  const { citizens, leaderboards } = ctx.deps.services;
  const me = String(userId);
  const card = await citizens.getCard(me);
  const fellBack = asked.scope === "p" && !card;
  const view: View = fellBack ? { ...asked, scope: "n" } : asked;
  const scope: BoardScope = view.scope === "p" && card ? { provinceCode: card.provinceCode } : {};
  const period: Period = view.period === "w" ? "week" : "all";
  const [lines, own, showsName] = await Promise.all([boardLines(ctx, view, period, scope, me), leaderboards.rankOf(me, period, scope), leaderboards.showsName(me)]);

  const scopeLabel = card && view.scope === "p" ? provinceLabel({ name: card.provinceName, type: card.provinceType }, ctx.locale, "short") : ctx.t("leaderboard:nationwide");
  const periodLabel = period === "week" ? ctx.t("leaderboard:period_week", { date: formatDate(weekStart(ctx.deps.now()), ctx.locale) }) : ctx.t("leaderboard:period_all");
  const heading = ctx.t("leaderboard:heading", { board: ctx.t(`leaderboard:buttons.${BOARD_LABEL[view.board]}`), scope: scopeLabel, period: periodLabel, ...plain });
  const nameLine = !card
    ? ctx.t("leaderboard:name_unregistered")
    : showsName
      ? ctx.t("leaderboard:name_shown")
      : ctx.t("leaderboard:name_hidden", { initials: initialsOf(card.fullName) || "—" });
  const text = [ctx.t("leaderboard:title"), heading, "", ...lines, "", ownLine(ctx, period, own), nameLine].join("\n");
  return { text, keyboard: keyboard(ctx, view, card, showsName), fellBack };
}

dm.command("leaderboard", async (ctx) => {
  const { text, keyboard } = await render(ctx, ctx.from.id, DEFAULT_VIEW);
  await ctx.reply(text, { reply_markup: keyboard });
});

leaderboardFeature.use(
  onButton(cb.leaderboard, async (ctx, value) => {
    const { text, keyboard, fellBack } = await render(ctx, ctx.from.id, parseView(value));
    await ctx.answerCallbackQuery(fellBack ? { text: ctx.t("leaderboard:answers.no_province") } : undefined);
    await editOrReply(ctx, text, keyboard);
  }),
);

leaderboardFeature.use(
  onButton(cb.leaderboardName, async (ctx, value) => {
    const show = value.startsWith("1");
    const view = parseView(value.slice(2) as BoardView);
    // The name shown is the registered one: without a registration there is nothing to show.
    if (!(await ctx.deps.services.citizens.isRegistered(String(ctx.from.id)))) {
      await ctx.answerCallbackQuery({ text: ctx.t("leaderboard:answers.register_first") });
      return;
    }
    // The button names the state it asks for: a stale copy pressed again changes nothing more.
    await ctx.deps.services.leaderboards.setShowName(ctx.from.id, show);
    await ctx.answerCallbackQuery({ text: ctx.t(show ? "leaderboard:answers.name_shown" : "leaderboard:answers.name_hidden") });
    const { text, keyboard } = await render(ctx, ctx.from.id, view);
    await editOrReply(ctx, text, keyboard);
  }),
);
