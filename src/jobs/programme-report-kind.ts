/**
 * "programme_report": a scheduled yearly report (ref: the schedule's id) sent to a programme's
 * officers as an XLSX document. It lives beside the worker, not in the domain, because the upload
 * is a grammY InputFile: the worker passes the payload to api.raw.sendDocument, and grammY sends
 * an InputFile found in a payload as a multipart upload. The report is built once per schedule
 * and language, not once per officer: batches of the same ref within a few minutes reuse it.
 */
import { InputFile } from "grammy";
import type { ClaimedDelivery, DeliveryKind, RenderOutcome } from "../domain/delivery/types.js";
import { reportFileName, reportPlace, reportXlsx } from "../domain/targets/report-files.js";
import { PROGRAMME_REPORT_KIND, type ReportService } from "../domain/targets/report-service.js";
import { DEFAULT_LOCALE, isLocale, type I18n, type Locale } from "../i18n.js";

export interface ProgrammeReportKindDeps {
  reports: ReportService;
  i18n: I18n;
  /** How long a built workbook is reused for later batches of the same schedule (default 10 minutes). */
  cacheMs?: number;
}

interface Built {
  at: number;
  file: Promise<{ xlsx: Buffer; name: string; caption: string } | undefined>;
}

const CACHE_SIZE = 16;

export function programmeReportKind(d: ProgrammeReportKindDeps): DeliveryKind {
  const cache = new Map<string, Built>();
  const cacheMs = d.cacheMs ?? 10 * 60_000;

  const build = (scheduleId: number, programmeId: number, year: number, locale: Locale, now: number): Built["file"] => {
    const key = `${scheduleId}.${locale}`;
    const hit = cache.get(key);
    if (hit && now - hit.at < cacheMs) return hit.file;
    const file = (async () => {
      const programme = await d.reports.programme(programmeId);
      if (!programme) return undefined;
      const report = await d.reports.reports.build(programme, { kind: "programme" }, year);
      const t = d.i18n.t(locale);
      const xlsx = await reportXlsx(report, t, locale);
      const caption = t("report:scheduled_caption", {
        programme: programme.name, place: reportPlace(report, locale), year, interpolation: { escapeValue: false },
      });
      return { xlsx, name: reportFileName(report, "xlsx"), caption };
    })();
    // A failed build is not kept: the rows are retried and build again.
    file.catch(() => cache.delete(key));
    cache.set(key, { at: now, file });
    while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return file;
  };

  return {
    kind: PROGRAMME_REPORT_KIND,
    priority: 2,
    async render(rows: readonly ClaimedDelivery[], env) {
      const out = new Map<string, RenderOutcome>();
      const ids = [...new Set(rows.map((r) => Number(r.refId)).filter((n) => Number.isInteger(n) && n > 0))];
      const schedules = await d.reports.scheduled(ids);
      const now = env.now().getTime();
      const byRef = new Map<number, ClaimedDelivery[]>();
      for (const row of rows) {
        const s = schedules.get(Number(row.refId));
        if (!s) out.set(row.id, { skip: "schedule missing" });
        else if (s.state === "cancelled") out.set(row.id, { skip: "schedule cancelled" });
        else byRef.set(Number(row.refId), [...(byRef.get(Number(row.refId)) ?? []), row]);
      }
      for (const [id, batch] of byRef) {
        const s = schedules.get(id)!;
        const officers = await d.reports.officersOf(s.programmeId, batch.map((r) => r.chatId));
        for (const row of batch) {
          if (!officers.has(row.chatId)) {
            out.set(row.id, { skip: "no longer a programme officer" });
            continue;
          }
          const locale = isLocale(row.locale) ? row.locale : DEFAULT_LOCALE;
          const file = await build(id, s.programmeId, s.year, locale, now);
          if (!file) {
            out.set(row.id, { skip: "programme deleted" });
            continue;
          }
          out.set(row.id, { method: "sendDocument", payload: { document: new InputFile(file.xlsx, file.name), caption: file.caption } });
        }
      }
      return out;
    },
  };
}
