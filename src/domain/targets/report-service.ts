/**
 * Who may see which yearly report, the audited exports, and reports scheduled for a day (the
 * association's yearly deadline) delivered to the programme's officers through the delivery
 * engine. The scope is decided here, on the server, from the caller's role and place: admins and
 * province officers get a programme's whole province, commune officers their commune; anyone else
 * nothing. Audit rows hold ids and counts only.
 */
import type { Prisma, PrismaClient } from "../../generated/prisma/client.js";
import type { Locale, TFunction } from "../../i18n.js";
import type { Logger } from "../../logger.js";
import { PendingReleases } from "../delivery/pending-releases.js";
import type { DeliveryScheduler } from "../delivery/types.js";
import { vnDayAt, type Day } from "../scholarships/model.js";
import type { Access } from "../users/user-service.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";
import type { ProgrammeView, TargetFigures } from "./figures.js";
import { reportPdf, reportXlsx } from "./report-files.js";
import { REPORT_FIRST_YEAR, YearlyReports, type ReportScope, type YearlyReport } from "./report.js";

/** The delivery kind of a scheduled report (ref: the schedule's id). */
export const PROGRAMME_REPORT_KIND = "programme_report";
/** Scheduled reports are built and sent at 8:00 Vietnam time of the chosen day. */
export const REPORT_SEND_HOUR = 8;
/** Schedules claimed per tick (the rest follow at the next one). */
const TICK_BATCH = 20;

export type ReportActor = Access & { id: string };

export interface ProgrammeChoice {
  id: number;
  name: string;
  provinceCode: string;
  startYear: number;
  endYear: number;
}

export type ReportRefusal = "forbidden" | "no_programme" | "not_found" | "commune_officer";

export type Resolved = { ok: true; programme: ProgrammeView; scope: ReportScope } | { ok: false; reason: ReportRefusal };

export interface ReportFiles {
  report: YearlyReport;
  xlsx: Buffer;
  pdf: Buffer;
}

export interface ScheduleView {
  id: number;
  programmeId: number;
  programmeName: string;
  year: number;
  dueAt: Date;
  state: string;
}

export interface ReportServiceDeps {
  prisma: PrismaClient;
  figures: TargetFigures;
  deliveries: DeliveryScheduler;
  now: () => Date;
  logger: Logger;
}

const iso = (d: Date) => d.toISOString().replace("Z", "");

export class ReportService {
  readonly reports: YearlyReports;
  private readonly pending: PendingReleases;

  constructor(private readonly d: ReportServiceDeps) {
    this.reports = new YearlyReports({ prisma: d.prisma, figures: d.figures, now: d.now });
    this.pending = new PendingReleases(d.deliveries, PROGRAMME_REPORT_KIND);
  }

  /** The live programmes the caller may report on: their province's (admins: all). */
  async programmesFor(access: Access): Promise<ProgrammeChoice[]> {
    if (access.role === "admin") return this.programmes({});
    if (access.role !== "officer" || !access.scope.provinceCode) return [];
    return this.programmes({ provinceCode: access.scope.provinceCode });
  }

  private programmes(where: { provinceCode?: string }): Promise<ProgrammeChoice[]> {
    return this.d.prisma.programme.findMany({
      where: { ...where, deletedAt: null },
      select: { id: true, name: true, provinceCode: true, startYear: true, endYear: true },
      orderBy: [{ provinceCode: "asc" }, { startYear: "desc" }, { id: "asc" }],
    });
  }

  /** The programme and the scope the caller sees it in, checked again on every call (a forged id is refused). */
  async resolve(access: Access, programmeId: number): Promise<Resolved> {
    if (access.role !== "admin" && (access.role !== "officer" || !access.scope.provinceCode)) return { ok: false, reason: "forbidden" };
    const programme = await this.d.figures.programme(programmeId);
    if (!programme) return { ok: false, reason: "not_found" };
    if (access.role === "admin") return { ok: true, programme, scope: { kind: "programme" } };
    if (programme.provinceCode !== access.scope.provinceCode) return { ok: false, reason: "forbidden" };
    return { ok: true, programme, scope: access.scope.communeCode ? { kind: "commune", communeCode: access.scope.communeCode } : { kind: "programme" } };
  }

  /** The XLSX and PDF of the caller's report for the year; audited (ids and counts only). */
  async export(actor: ReportActor, programmeId: number, year: number, t: TFunction, locale: Locale): Promise<{ ok: true; files: ReportFiles } | { ok: false; reason: ReportRefusal }> {
    const r = await this.resolve(actor, programmeId);
    if (!r.ok) return r;
    const report = await this.reports.build(r.programme, r.scope, year);
    const [xlsx, pdf] = [await reportXlsx(report, t, locale), await reportPdf(report, t, locale)];
    await this.audit(this.d.prisma, actor.id, "report_exported", {
      programmeId, year, scope: r.scope.kind, ...(r.scope.kind === "commune" ? { communeCode: r.scope.communeCode } : {}),
      formats: ["xlsx", "pdf"], communes: report.communes.length, units: report.units.length,
    });
    return { ok: true, files: { report, xlsx, pdf } };
  }

  // ---- scheduled reports ----------------------------------------------------------------------

  /** Admins and the province's officers (not a commune's) schedule its programmes' reports. */
  private async schedulable(actor: ReportActor, programmeId: number): Promise<{ ok: true; programme: ProgrammeView } | { ok: false; reason: ReportRefusal }> {
    const r = await this.resolve(actor, programmeId);
    if (!r.ok) return r;
    if (r.scope.kind !== "programme") return { ok: false, reason: "commune_officer" };
    return { ok: true, programme: r.programme };
  }

  /**
   * The report of `year` built and sent at 8:00 of `day` to the programme's officers. The same
   * programme, year and day twice is one schedule (a cancelled one comes back).
   */
  async schedule(actor: ReportActor, programmeId: number, year: number, day: Day): Promise<{ ok: true; id: number; created: boolean; dueAt: Date } | { ok: false; reason: ReportRefusal | "year" }> {
    const s = await this.schedulable(actor, programmeId);
    if (!s.ok) return s;
    if (year < REPORT_FIRST_YEAR || year > day.getUTCFullYear()) return { ok: false, reason: "year" };
    const dueAt = vnDayAt(day, REPORT_SEND_HOUR);
    return this.d.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<Array<{ id: number }>>(
        `INSERT INTO report_schedules (programme_id, year, due_at, state, created_by_id, created_at)
         VALUES ($1, $2, $3::timestamp, 'scheduled', $4::bigint, $5::timestamp)
         ON CONFLICT (programme_id, year, due_at) DO UPDATE SET state = 'scheduled', created_by_id = EXCLUDED.created_by_id
           WHERE report_schedules.state = 'cancelled'
         RETURNING id`,
        programmeId, year, iso(dueAt), actor.id, iso(this.d.now()),
      );
      if (rows[0]) {
        await this.audit(tx, actor.id, "report_scheduled", { programmeId, year, scheduleId: rows[0].id, dueAt: dueAt.toISOString() });
        return { ok: true as const, id: rows[0].id, created: true, dueAt };
      }
      // Already scheduled (or already sent) for that moment: a no-op.
      const existing = await tx.reportSchedule.findUniqueOrThrow({ where: { programmeId_year_dueAt: { programmeId, year, dueAt } }, select: { id: true } });
      return { ok: true as const, id: existing.id, created: false, dueAt };
    });
  }

  /** The schedules still to send of the programmes the caller may schedule. */
  async schedules(actor: ReportActor): Promise<ScheduleView[]> {
    if (actor.role !== "admin" && (actor.role !== "officer" || !actor.scope.provinceCode || actor.scope.communeCode)) return [];
    const rows = await this.d.prisma.reportSchedule.findMany({
      where: { state: "scheduled", programme: { deletedAt: null, ...(actor.role === "admin" ? {} : { provinceCode: actor.scope.provinceCode }) } },
      select: { id: true, programmeId: true, year: true, dueAt: true, state: true, programme: { select: { name: true } } },
      orderBy: [{ dueAt: "asc" }, { id: "asc" }],
      take: 20,
    });
    return rows.map((r) => ({ id: r.id, programmeId: r.programmeId, programmeName: r.programme.name, year: r.year, dueAt: r.dueAt, state: r.state }));
  }

  async cancel(actor: ReportActor, scheduleId: number): Promise<{ ok: true; schedule: ScheduleView } | { ok: false; reason: ReportRefusal | "not_scheduled" }> {
    const row = await this.d.prisma.reportSchedule.findUnique({ where: { id: scheduleId }, select: { id: true, programmeId: true, year: true, dueAt: true, state: true, programme: { select: { name: true } } } });
    if (!row) return { ok: false, reason: "not_found" };
    const s = await this.schedulable(actor, row.programmeId);
    if (!s.ok) return s;
    const n = await this.d.prisma.reportSchedule.updateMany({ where: { id: scheduleId, state: "scheduled" }, data: { state: "cancelled" } });
    if (n.count === 0) return { ok: false, reason: "not_scheduled" };
    await this.audit(this.d.prisma, actor.id, "report_schedule_cancelled", { programmeId: row.programmeId, year: row.year, scheduleId });
    return { ok: true, schedule: { id: row.id, programmeId: row.programmeId, programmeName: row.programme.name, year: row.year, dueAt: row.dueAt, state: "cancelled" } };
  }

  /**
   * Due schedules become ledger rows, one per programme officer who can still be reached: one
   * transaction claims them (UPDATE … SET state = 'sending' over FOR UPDATE SKIP LOCKED, so two
   * processes never take the same one), writes the rows in one statement and marks them sent; a
   * crash before the commit leaves them scheduled for the next tick. Released after the commit.
   */
  async tick(): Promise<number> {
    await this.pending.flush();
    const now = this.d.now();
    const claimed = await this.d.prisma.$transaction(async (tx) => {
      const due = await tx.$queryRawUnsafe<Array<{ id: number }>>(
        `UPDATE report_schedules SET state = 'sending'
          WHERE id IN (SELECT id FROM report_schedules WHERE state = 'scheduled' AND due_at <= $1::timestamp
                        ORDER BY due_at, id LIMIT ${TICK_BATCH} FOR UPDATE SKIP LOCKED)
          RETURNING id`,
        iso(now),
      );
      if (due.length === 0) return [];
      const ids = due.map((r) => r.id);
      const rows = await tx.$queryRawUnsafe<Array<{ ref_id: string; n: number }>>(
        `WITH ins AS (
           INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
           SELECT $1, s.id::text, o.user_id, $3::timestamp
             FROM report_schedules s
             JOIN programmes p ON p.id = s.programme_id AND p.deleted_at IS NULL
             JOIN programme_officers o ON o.programme_id = s.programme_id
             JOIN users u ON u.telegram_id = o.user_id AND u.unreachable_since IS NULL
            WHERE s.id = ANY($2::int[])
           ON CONFLICT (kind, ref_id, chat_id) DO NOTHING
           RETURNING ref_id)
         SELECT ref_id, count(*)::int AS n FROM ins GROUP BY ref_id`,
        PROGRAMME_REPORT_KIND, ids, iso(now),
      );
      await tx.$executeRawUnsafe(`UPDATE report_schedules SET state = 'sent', sent_at = $2::timestamp WHERE id = ANY($1::int[])`, ids, iso(now));
      const counts = new Map(rows.map((r) => [r.ref_id, r.n]));
      return ids.map((id) => ({ id, recipients: counts.get(String(id)) ?? 0 }));
    });
    for (const c of claimed) {
      this.d.logger.info({ schedule: c.id, recipients: c.recipients }, "scheduled yearly report queued");
      if (c.recipients > 0) this.pending.add(String(c.id), now);
    }
    await this.pending.flush();
    return claimed.length;
  }

  /** A live programme (deleted ones send no scheduled report). */
  programme(id: number): Promise<ProgrammeView | undefined> {
    return this.d.figures.programme(id);
  }

  /** How many officers follow the programme (they get its scheduled reports). */
  officerCount(programmeId: number): Promise<number> {
    return this.d.prisma.programmeOfficer.count({ where: { programmeId } });
  }

  /** A scheduled report's programme and year, for the delivery kind (one query for a batch). */
  async scheduled(ids: readonly number[]): Promise<Map<number, { programmeId: number; year: number; state: string }>> {
    const rows = await this.d.prisma.reportSchedule.findMany({ where: { id: { in: [...ids] } }, select: { id: true, programmeId: true, year: true, state: true } });
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Of these chats, the programme's officers now (someone removed since the schedule fell due gets nothing). */
  async officersOf(programmeId: number, chatIds: readonly number[]): Promise<Set<number>> {
    const rows = await this.d.prisma.programmeOfficer.findMany({ where: { programmeId, userId: { in: chatIds.map((c) => BigInt(c)) } }, select: { userId: true } });
    return new Set(rows.map((r) => Number(r.userId)));
  }

  private async audit(db: PrismaClient | Prisma.TransactionClient, actorId: string, action: string, detail: Record<string, unknown>): Promise<void> {
    await db.auditLog.create({ data: { actorId: BigInt(actorId), action, detail: detail as Prisma.InputJsonValue, at: this.d.now() } });
  }
}

/** Who scheduled a report (kept as a creator id; /mydata shows it, /deleteme drops it). */
export function reportScheduleDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "report_schedules",
      label: "report:personal_data",
      kind: "database",
      export: async (id) => {
        const rows = await prisma.reportSchedule.findMany({
          where: { createdById: BigInt(id) }, orderBy: { id: "asc" },
          select: { id: true, programmeId: true, year: true, dueAt: true, state: true, createdAt: true },
        });
        return rows.length ? toPlainJson(rows) : null;
      },
      exists: async (id) => (await prisma.reportSchedule.count({ where: { createdById: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).reportSchedule.updateMany({ where: { createdById: BigInt(id) }, data: { createdById: null } })).count > 0,
    },
  ];
}
