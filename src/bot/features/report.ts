import { Composer, InlineKeyboard, InputFile } from "grammy";
import { dayNumber, formatDay, parseVnDate, type Day } from "../../domain/scholarships/model.js";
import { reportFileName, reportPlace } from "../../domain/targets/report-files.js";
import { parseReportYear, REPORT_FIRST_YEAR, currentVnYear } from "../../domain/targets/report.js";
import type { ProgrammeChoice, ReportActor, ReportRefusal } from "../../domain/targets/report-service.js";
import { escapeHtml } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { formatDateTime } from "../format/dates.js";
import { onButton } from "../helpers/buttons.js";

const NS = "report";
const raw = { interpolation: { escapeValue: false } } as const;

/**
 * The yearly report (issue 11): /report [year] sends the caller's report as an XLSX workbook and a
 * one-page PDF; /report_schedule <day> [year] (or /report schedule …) has it built and sent at 8:00
 * that day to the programme's officers, lists the schedules and cancels one. The scope is decided
 * on the server from the caller's role and place on every command and button: admins and province
 * officers get the programme's province, commune officers their commune, anyone else a refusal.
 */
export const reportFeature = new Composer<BotContext>();
const privateChats = reportFeature.chatType("private");

async function actorOf(ctx: BotContext): Promise<ReportActor | undefined> {
  const id = String(ctx.from!.id);
  const access = await ctx.deps.services.users.access(id);
  if (access.role === "admin" || (access.role === "officer" && access.scope.provinceCode)) return { ...access, id };
  ctx.logger.info({ user: ctx.from!.id, role: access.role }, "refused a yearly report to someone who is not an officer");
  await say(ctx, ctx.t(`${NS}:bot.forbidden`));
  return undefined;
}

/** A reply, or for a button its answer (then a message, the query being answered already). */
async function say(ctx: BotContext, text: string, keyboard?: InlineKeyboard): Promise<void> {
  if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => {});
  await ctx.reply(text, keyboard ? { reply_markup: keyboard } : {});
}

function refusal(ctx: BotContext, reason: ReportRefusal | "year" | "not_scheduled"): string {
  return ctx.t(`${NS}:bot.refused.${reason}`, { first: REPORT_FIRST_YEAR });
}

/** A programme or schedule outside the officer's province is logged (a forged id or a stale button). */
function warnIfForbidden(ctx: BotContext, reason: string, subject: { programme: number } | { schedule: number }): void {
  if (reason !== "forbidden") return;
  const what = "programme" in subject ? "a programme" : "a report schedule";
  ctx.logger.warn({ ...subject, user: ctx.from!.id }, `refused ${what} outside the officer's province`);
}

/** A refused button: logged as above, and answered as an alert. */
async function refuseButton(ctx: BotContext, reason: ReportRefusal | "not_scheduled", subject: { programme: number } | { schedule: number }): Promise<void> {
  warnIfForbidden(ctx, reason, subject);
  await ctx.answerCallbackQuery({ text: refusal(ctx, reason), show_alert: true });
}

function yearProblem(ctx: BotContext, reason: "format" | "too_early" | "future"): string {
  const thisYear = currentVnYear(ctx.deps.now());
  return `${ctx.t(`${NS}:bot.year.${reason}`, { first: REPORT_FIRST_YEAR, this_year: thisYear })}\n${ctx.t(`${NS}:bot.usage`, { this_year: thisYear })}`;
}

privateChats.command("report", async (ctx) => {
  const arg = ctx.match.trim();
  const sub = /^(schedule|lich|lịch|hẹn|hen)\b\s*(.*)$/iu.exec(arg);
  if (sub) return scheduleCommand(ctx, sub[2]!);
  const actor = await actorOf(ctx);
  if (!actor) return;
  const year = parseReportYear(arg, ctx.deps.now());
  if (!year.ok) return say(ctx, yearProblem(ctx, year.reason));
  const programmes = await ctx.deps.services.reports.programmesFor(actor);
  if (programmes.length === 0) return say(ctx, ctx.t(`${NS}:bot.no_programme`));
  if (programmes.length === 1) return sendReport(ctx, actor, programmes[0]!.id, year.year);
  await say(ctx, ctx.t(`${NS}:bot.pick`, { year: year.year }), pickKeyboard(ctx, programmes, (p) => cb.report.pack(`g.${p.id}.${year.year}`)));
});

privateChats.command("report_schedule", (ctx) => scheduleCommand(ctx, ctx.match.trim()));

reportFeature.use(onButton(cb.report, async (ctx, value) => {
  const [verb, a, b, c] = value.split(".") as ["g" | "s" | "x", string, string?, string?];
  const actor = await actorOf(ctx);
  if (!actor) return;
  if (verb === "g") {
    // A year pressed long after: still no later than this year.
    const year = parseReportYear(b!, ctx.deps.now());
    if (!year.ok) return say(ctx, yearProblem(ctx, year.reason));
    const resolved = await ctx.deps.services.reports.resolve(actor, Number(a));
    if (!resolved.ok) return refuseButton(ctx, resolved.reason, { programme: Number(a) });
    await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:bot.building_short`) });
    return sendReport(ctx, actor, Number(a), year.year);
  }
  if (verb === "s") return schedule(ctx, actor, Number(a), new Date(Number(b) * 86_400_000), Number(c));
  const r = await ctx.deps.services.reports.cancel(actor, Number(a));
  if (!r.ok) return refuseButton(ctx, r.reason, { schedule: Number(a) });
  await ctx.answerCallbackQuery({ text: ctx.t(`${NS}:bot.cancelled_short`) });
  await ctx.reply(ctx.t(`${NS}:bot.cancelled`, { programme: escapeHtml(r.schedule.programmeName), year: r.schedule.year, at: formatDateTime(r.schedule.dueAt, ctx.locale), ...raw }));
}));

function pickKeyboard(ctx: BotContext, programmes: readonly ProgrammeChoice[], data: (p: ProgrammeChoice) => string): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const p of programmes.slice(0, 20)) {
    const name = p.name.length > 56 ? `${p.name.slice(0, 55)}…` : p.name;
    keyboard.text(ctx.t(`${NS}:bot.programme_button`, { name, start: p.startYear, end: p.endYear, ...raw }), data(p)).row();
  }
  return keyboard;
}

async function sendReport(ctx: BotContext, actor: ReportActor, programmeId: number, year: number): Promise<void> {
  const r = await ctx.deps.services.reports.export(actor, programmeId, year, ctx.t, ctx.locale);
  if (!r.ok) {
    warnIfForbidden(ctx, r.reason, { programme: programmeId });
    return say(ctx, refusal(ctx, r.reason));
  }
  const { report, xlsx, pdf } = r.files;
  const values = { programme: escapeHtml(report.programme.name), place: escapeHtml(reportPlace(report, ctx.locale)), year, ...raw };
  await ctx.replyWithDocument(new InputFile(xlsx, reportFileName(report, "xlsx")), { caption: ctx.t(`${NS}:bot.xlsx_caption`, values) });
  await ctx.replyWithDocument(new InputFile(pdf, reportFileName(report, "pdf")), { caption: ctx.t(`${NS}:bot.pdf_caption`, values) });
}

async function scheduleCommand(ctx: BotContext, arg: string): Promise<void> {
  const actor = await actorOf(ctx);
  if (!actor) return;
  if (actor.role !== "admin" && actor.scope.communeCode) return say(ctx, refusal(ctx, "commune_officer"));
  const now = ctx.deps.now();
  if (arg === "") return listSchedules(ctx, actor);
  // "15/12/2026" or "15/12/2026 2026": the day, then the year the report covers (default: the day's year).
  const m = /^(.*?)(?:\s+(\d{4}))?$/u.exec(arg)!;
  const parsed = parseVnDate(m[1]!, now);
  if (!parsed.ok) return say(ctx, `${ctx.t(`${NS}:bot.day.${parsed.reason}`)}\n${ctx.t(`${NS}:bot.schedule_usage`)}`);
  const year = m[2] ? Number(m[2]) : parsed.day.getUTCFullYear();
  if (year < REPORT_FIRST_YEAR || year > parsed.day.getUTCFullYear()) return say(ctx, `${refusal(ctx, "year")}\n${ctx.t(`${NS}:bot.schedule_usage`)}`);
  const programmes = await ctx.deps.services.reports.programmesFor(actor);
  if (programmes.length === 0) return say(ctx, ctx.t(`${NS}:bot.no_programme`));
  if (programmes.length === 1) return schedule(ctx, actor, programmes[0]!.id, parsed.day, year);
  await say(ctx, ctx.t(`${NS}:bot.pick_schedule`, { year, day: formatDay(parsed.day) }), pickKeyboard(ctx, programmes, (p) => cb.report.pack(`s.${p.id}.${dayNumber(parsed.day)}.${year}`)));
}

async function schedule(ctx: BotContext, actor: ReportActor, programmeId: number, day: Day, year: number): Promise<void> {
  // A day pressed after it passed is refused like a typed one.
  if (!parseVnDate(formatDay(day), ctx.deps.now()).ok) return say(ctx, ctx.t(`${NS}:bot.day.past`));
  const services = ctx.deps.services.reports;
  const r = await services.schedule(actor, programmeId, year, day);
  if (!r.ok) {
    warnIfForbidden(ctx, r.reason, { programme: programmeId });
    return say(ctx, refusal(ctx, r.reason));
  }
  const programme = (await services.programme(programmeId))!;
  const officers = await services.officerCount(programmeId);
  const values = { programme: escapeHtml(programme.name), year, at: formatDateTime(r.dueAt, ctx.locale), count: officers, ...raw };
  const lines = [ctx.t(r.created ? `${NS}:bot.scheduled` : `${NS}:bot.already_scheduled`, values)];
  if (officers === 0) lines.push(ctx.t(`${NS}:bot.no_officers`));
  await say(ctx, lines.join("\n"));
}

async function listSchedules(ctx: BotContext, actor: ReportActor): Promise<void> {
  const list = await ctx.deps.services.reports.schedules(actor);
  const usage = ctx.t(`${NS}:bot.schedule_usage`);
  if (list.length === 0) return say(ctx, `${ctx.t(`${NS}:bot.no_schedules`)}\n\n${usage}`);
  const keyboard = new InlineKeyboard();
  const lines = list.map((s, i) => {
    keyboard.text(ctx.t(`${NS}:bot.cancel_button`, { n: i + 1 }), cb.report.pack(`x.${s.id}`));
    if (i % 3 === 2) keyboard.row();
    return ctx.t(`${NS}:bot.schedule_line`, { n: i + 1, programme: escapeHtml(s.programmeName), year: s.year, at: formatDateTime(s.dueAt, ctx.locale), ...raw });
  });
  await say(ctx, [ctx.t(`${NS}:bot.schedules_title`), ...lines, "", usage].join("\n"), keyboard);
}
