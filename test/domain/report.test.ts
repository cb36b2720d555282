import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TargetFigures } from "../../src/domain/targets/figures.js";
import { reportPdf, reportXlsx } from "../../src/domain/targets/report-files.js";
import { ReportService, reportScheduleDataParts } from "../../src/domain/targets/report-service.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { parseReportYear, REPORT_SECTIONS, YearlyReports } from "../../src/domain/targets/report.js";
import { LearningGroups } from "../../src/domain/units/families.js";
import { createI18n, type I18n } from "../../src/i18n.js";
import type { Database } from "../../src/infra/database.js";
import { createLogger } from "../../src/logger.js";
import { openTestDatabase } from "../support/database.js";
import { ManualClock } from "../support/delivery.js";
import { buildReportFixture, EXPECTED, FIXTURE_NOW, pdfTexts, type ReportFixture } from "../support/report-fixture.js";

// The yearly report against a hand-counted province (test/support/report-fixture.ts): every
// sheet's cells, totals equal to the sums of the commune rows and to the scoreboard's totals at the
// same moment, a commune's report holding only that commune, the PDF's text, and the audit row.

const clock = new ManualClock(FIXTURE_NOW.getTime());
let db: Database;
let i18n: I18n;
let figures: TargetFigures;
let reports: YearlyReports;
let service: ReportService;
let nextProvince = 5;
let nextId = 9_960_000;

beforeAll(async () => {
  db = await openTestDatabase();
  i18n = await createI18n();
  const logger = createLogger("silent");
  figures = new TargetFigures({ prisma: db.prisma, families: new LearningGroups({ prisma: db.prisma, now: clock.now, logger }) });
  reports = new YearlyReports({ prisma: db.prisma, figures, now: clock.now });
  const deliveries = { release: async () => {}, schedule: async () => 0, reschedule: async () => 0, cancel: async () => 0, counts: async () => { throw new Error("unused"); } };
  service = new ReportService({ prisma: db.prisma, figures, deliveries, now: clock.now, logger });
});
afterAll(() => db.close());

async function fixture(): Promise<ReportFixture> {
  nextId += 1_000;
  return buildReportFixture(db.prisma, nextProvince++, nextId);
}

/** A cell's number: a value, or a formula's cached result. */
function num(cell: ExcelJS.Cell): number | null {
  const v = cell.value as unknown;
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "object" && v !== null && "result" in v) return Number((v as { result: unknown }).result);
  throw new Error(`not a number in ${cell.address}: ${JSON.stringify(v)}`);
}

/** A sheet's table from its header row: each column's cells by the first column's label. */
function table(sheet: ExcelJS.Worksheet, headerRow = 1): { header: string[]; rows: Map<string, Record<string, number | null>>; labels: string[] } {
  const header = (sheet.getRow(headerRow).values as unknown[]).slice(1).map(String);
  const rows = new Map<string, Record<string, number | null>>();
  const labels: string[] = [];
  for (let r = headerRow + 1; ; r++) {
    const row = sheet.getRow(r);
    const label = row.getCell(1).value;
    if (label === null || label === undefined || label === "") break;
    labels.push(String(label));
    rows.set(String(label), Object.fromEntries(header.slice(1).map((h, i) => [h, typeof row.getCell(i + 2).value === "string" ? null : num(row.getCell(i + 2))])));
    if (String(label) === "Tổng cộng") break;
  }
  return { header, rows, labels };
}

describe("yearly report", () => {
  it("puts the hand-counted figures of each section in its sheet, totals equal to the commune rows and to the scoreboard", async () => {
    const f = await fixture();
    const programme = (await figures.programme(f.programmeId))!;
    const report = await reports.build(programme, { kind: "programme" }, 2026);
    const board = await figures.scoreboard(programme, { kind: "programme" }, 2026);
    expect(report.totals).toEqual(board.totals);

    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await reportXlsx(report, i18n.t("vi"), "vi") as never);
    expect(book.worksheets.map((s) => s.name)).toEqual(["Chỉ tiêu", "Đăng ký CDHT", "Hội viên và ĐVHT", "Theo đơn vị", "Gia đình học tập", "Sinh hoạt TTHTCĐ", "Thi tìm hiểu", "Học bổng", "Thông báo"]);
    expect(book.worksheets).toHaveLength(REPORT_SECTIONS.length);
    const A = `${f.communeA.type === "phường" ? "Phường" : f.communeA.type === "đặc khu" ? "Đặc khu" : "Xã"} ${f.communeA.name}`;
    const B = `${f.communeB.type === "phường" ? "Phường" : f.communeB.type === "đặc khu" ? "Đặc khu" : "Xã"} ${f.communeB.name}`;
    const communes = await db.prisma.commune.count({ where: { provinceCode: f.provinceCode } });

    /** Checks a commune sheet's columns for A, B and the total, and that the total is the sum of every commune row. */
    const check = (sheetName: string, columns: Record<string, readonly number[]>, firstRow: string[] = [A, B], headerRow = 1) => {
      const t = table(book.getWorksheet(sheetName)!, headerRow);
      const total = t.rows.get("Tổng cộng")!;
      expect(t.labels.at(-1), sheetName).toBe("Tổng cộng");
      expect(book.getWorksheet(sheetName)!.getRow(headerRow + t.labels.length).font?.bold, `${sheetName}: bold total`).toBe(true);
      for (const [column, expected] of Object.entries(columns)) {
        expect(firstRow.map((label) => t.rows.get(label)![column]), `${sheetName} ${column}`).toEqual(expected.slice(0, firstRow.length).map(Number));
        expect(total[column], `${sheetName} total ${column}`).toBeCloseTo(expected.at(-1)!, 9);
        const sum = [...t.rows].filter(([label]) => label !== "Tổng cộng").reduce((n, [, r]) => n + (r[column] ?? 0), 0);
        expect(sum, `${sheetName} sum ${column}`).toBeCloseTo(total[column]!, 9);
      }
      return t;
    };

    const targets = check("Chỉ tiêu", {
      "Quân số (người)": EXPECTED.targets.headcount, "Đã đăng ký Công dân học tập": EXPECTED.targets.registered, "Hội viên khuyến học": EXPECTED.targets.association_members,
      "Số đơn vị": EXPECTED.targets.units, "Đơn vị học tập (đã duyệt)": EXPECTED.targets.learning_units, "Số gia đình": EXPECTED.targets.families,
      "Gia đình học tập (đạt tiêu chí)": EXPECTED.targets.learning_families,
    });
    // Every commune of the province has a row, with zeros where nothing happened.
    expect(targets.labels).toHaveLength(communes + 1);
    expect(targets.rows.get(A)!["Tỷ lệ CDHT"]).toBeCloseTo(2 / 14, 9);
    expect(targets.rows.get("Tổng cộng")!["Tỷ lệ CDHT"]).toBeCloseTo(3 / 19, 9);
    expect(book.getWorksheet("Chỉ tiêu")!.getRow(2).getCell(4).numFmt).toBe("0.0%");
    // The targets block under the table: figure, whole, share, target and gap, as the scoreboard has them.
    const sheet = book.getWorksheet("Chỉ tiêu")!;
    const blockHeader = communes + 4;
    expect((sheet.getRow(blockHeader).values as unknown[]).slice(1)).toEqual(["Chỉ tiêu", "Đạt", "Trên tổng số", "Tỷ lệ", "Mục tiêu", "Còn thiếu"]);
    const block = [1, 2, 3, 4].map((i) => (sheet.getRow(blockHeader + i).values as unknown[]).slice(1));
    expect(block.map((r) => r[0])).toEqual(["Công dân học tập", "Hội viên khuyến học", "Đơn vị học tập", "Gia đình học tập"]);
    expect(block.map((r) => [r[1], r[2], r[4], r[5]])).toEqual([[3, 19, 1, 16], [2, 19, 0.5, 8], [1, 3, 0.9, 2], [1, 2, 0.8, 1]]);
    expect(board.totals.map((m) => [m.part, m.whole, m.gap])).toEqual([[3, 19, 16], [2, 19, 8], [1, 3, 2], [1, 2, 1]]);

    check("Đăng ký CDHT", { "Đăng ký trong năm": EXPECTED.registrations.in_year, "Tổng số đến cuối năm": EXPECTED.registrations.total });
    check("Hội viên và ĐVHT", { "Số đơn vị": EXPECTED.targets.units, "Đơn vị học tập (đã duyệt)": EXPECTED.targets.learning_units, "Hội viên khuyến học": EXPECTED.targets.association_members });
    check("Gia đình học tập", { "Số gia đình": EXPECTED.targets.families, "Gia đình học tập (đạt tiêu chí)": EXPECTED.targets.learning_families });
    check("Sinh hoạt TTHTCĐ", { "Buổi sinh hoạt đã tổ chức": EXPECTED.sessions.sessions, "Lượt tham dự (đã điểm danh)": EXPECTED.sessions.attendance, "Giờ học (tổng)": EXPECTED.sessions.hours });
    const quizzes = check("Thi tìm hiểu", { "Người tham gia": EXPECTED.quizzes.people, "Lượt thi": EXPECTED.quizzes.rounds, "Câu trả lời": EXPECTED.quizzes.answers, "Trả lời đúng": EXPECTED.quizzes.correct });
    expect(quizzes.rows.get("Tổng cộng")!["Tỷ lệ đúng"]).toBeCloseTo(0.75, 9);
    const scholarships = check("Học bổng", { "Đề cử": EXPECTED.scholarships.nominations, "Được trao học bổng": EXPECTED.scholarships.awards });
    // Under the communes, the rounds: only the 2026 round, its awards the same as the communes'.
    const rounds = table(book.getWorksheet("Học bổng")!, scholarships.labels.length + 3);
    expect(rounds.header).toEqual(["Đợt học bổng", "Hạn nhận đề cử", "Đề cử", "Được trao học bổng"]);
    expect(rounds.labels).toEqual([expect.stringMatching(/^Vì em hiếu học .* 2026$/), "Tổng cộng"]);
    expect(rounds.rows.get("Tổng cộng")).toEqual({ "Hạn nhận đề cử": null, "Đề cử": 3, "Được trao học bổng": 1 });
    check("Thông báo", { "Thông báo đã gửi": EXPECTED.broadcasts.broadcasts, "Người nhận": EXPECTED.broadcasts.recipients, "Đã chuyển đến": EXPECTED.broadcasts.delivered }, ["Cấp tỉnh/thành", A, B]);

    // By unit: the programme's three units (not the police's), their sums equal to the scoreboard's.
    const units = table(book.getWorksheet("Theo đơn vị")!);
    expect(units.labels).toEqual(["Đồn Biên phòng Cửa khẩu", "Trạm Kiểm soát", "Chi hội Khuyến học thôn Bản", "Tổng cộng"]);
    expect(units.rows.get("Tổng cộng")).toMatchObject({ "Quân số (người)": 19, "Đã tham gia trên bot": 4, "Đã đăng ký Công dân học tập": 3, "Hội viên khuyến học": 2, "Đơn vị học tập (1 = đã duyệt)": 1 });
    expect(units.rows.get("Đồn Biên phòng Cửa khẩu")).toMatchObject({ "Xã/phường": null, "Quân số (người)": 10, "Đã đăng ký Công dân học tập": 2, "Đơn vị học tập (1 = đã duyệt)": 1 });
    expect(book.getWorksheet("Theo đơn vị")!.getRow(2).getCell(2).value).toBe(A);

    // No person's name anywhere in the workbook.
    for (const s of book.worksheets) s.eachRow((row) => row.eachCell((cell) => expect(String(cell.value)).not.toMatch(/Người \d|Học sinh \d|Phụ huynh/)));
  });

  it("gives a commune's report that commune only, its numbers equal to the commune's scoreboard", async () => {
    const f = await fixture();
    const programme = (await figures.programme(f.programmeId))!;
    const report = await reports.build(programme, { kind: "commune", communeCode: f.communeB.code }, 2026);
    const board = await figures.scoreboard(programme, { kind: "commune", communeCode: f.communeB.code }, 2026);
    expect(report.totals).toEqual(board.totals);
    expect(report.communes.map((c) => c.code)).toEqual([f.communeB.code]);
    expect(report.tables.registrations.total).toEqual({ in_year: 1, total: 1 });
    expect(report.tables.sessions.total).toMatchObject({ sessions: 1, attendance: 1, hours: 1 });
    expect(report.tables.quizzes.total).toMatchObject({ people: 1, answers: 2, correct: 2, accuracy: 1 });
    expect(report.tables.scholarships.total).toEqual({ nominations: 1, awards: 0 });
    expect(report.rounds.map((r) => [r.nominations, r.awards])).toEqual([[1, 0]]);
    // B sent nothing itself; the province level's broadcast is not B's.
    expect(report.tables.broadcasts.rows.map((r) => r.code)).toEqual([f.communeB.code]);
    expect(report.tables.broadcasts.total).toEqual({ broadcasts: 0, recipients: 0, delivered: 0 });
    expect(report.units.map((u) => u.name)).toEqual(["Chi hội Khuyến học thôn Bản"]);
    // Another year: the year's sections are empty, the targets are the live figures with that year's targets.
    const earlier = await reports.build(programme, { kind: "programme" }, 2025);
    expect(earlier.tables.registrations.total).toEqual({ in_year: 1, total: 1 });
    expect(earlier.tables.sessions.total).toMatchObject({ sessions: 1, attendance: 1, hours: 2 });
    expect(earlier.totals.find((m) => m.metric === "members")!.target).toBeUndefined();
  });

  it("writes a one-page PDF with the programme, the place, the year and the targets, its Vietnamese text extractable; the export is audited", async () => {
    const f = await fixture();
    const officer = { role: "officer" as const, scope: { provinceCode: f.provinceCode }, id: String(f.people.p1) };
    const r = await service.export(officer, f.programmeId, 2026, i18n.t("vi"), "vi");
    if (!r.ok) throw new Error(r.reason);
    expect(r.files.pdf.subarray(0, 5).toString()).toBe("%PDF-");
    const raw = r.files.pdf.toString("latin1");
    expect(raw).toContain("/FontFile2");
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+BeVietnamPro-Bold/);
    expect(raw.match(/\/Type \/Page\b/g)).toHaveLength(1);
    const text = pdfTexts(r.files.pdf).join("\n");
    expect(text).toContain(f.programmeName);
    expect(text).toContain("Báo cáo kết quả năm 2026");
    expect(text).toContain("Công dân học tập");
    expect(text).toContain("còn 16 người");
    expect(text).toContain("3 / 19");
    expect(text).toMatch(/2 buổi sinh hoạt, 3 lượt tham dự, 4 giờ học/);
    expect(text).not.toMatch(/Người \d/);

    const audit = await db.prisma.auditLog.findFirstOrThrow({ where: { actorId: BigInt(f.people.p1), action: "report_exported" } });
    expect(audit.detail).toEqual({ programmeId: f.programmeId, year: 2026, scope: "programme", formats: ["xlsx", "pdf"], communes: expect.any(Number), units: 3 });

    // The English files: English sheet names and labels.
    const en = await reports.build((await figures.programme(f.programmeId))!, { kind: "programme" }, 2026);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await reportXlsx(en, i18n.t("en"), "en") as never);
    expect(book.worksheets.map((s) => s.name)[0]).toBe("Targets");
    expect(table(book.getWorksheet("Registrations")!).labels.at(-1)).toBe("Total");
    expect(pdfTexts(await reportPdf(en, i18n.t("en"), "en")).join("\n")).toContain("16 people short");
  });

  it("decides the scope on the server: province officers the programme, commune officers their commune, others nothing", async () => {
    const f = await fixture();
    const province = { role: "officer" as const, scope: { provinceCode: f.provinceCode } };
    expect(await service.resolve(province, f.programmeId)).toMatchObject({ ok: true, scope: { kind: "programme" } });
    expect(await service.resolve({ role: "officer", scope: { provinceCode: f.provinceCode, communeCode: f.communeA.code } }, f.programmeId)).toMatchObject({ ok: true, scope: { kind: "commune", communeCode: f.communeA.code } });
    expect(await service.resolve({ role: "officer", scope: { provinceCode: f.provinceCode === "01" ? "04" : "01" } }, f.programmeId)).toEqual({ ok: false, reason: "forbidden" });
    expect(await service.resolve({ role: "resident", scope: {} }, f.programmeId)).toEqual({ ok: false, reason: "forbidden" });
    expect(await service.resolve({ role: "member", scope: { provinceCode: f.provinceCode } }, f.programmeId)).toEqual({ ok: false, reason: "forbidden" });
    expect(await service.resolve({ role: "admin", scope: {} }, f.programmeId)).toMatchObject({ ok: true, scope: { kind: "programme" } });
    expect((await service.programmesFor(province)).map((p) => p.id)).toEqual([f.programmeId]);
    await db.prisma.programme.update({ where: { id: f.programmeId }, data: { deletedAt: FIXTURE_NOW } });
    expect(await service.programmesFor(province)).toEqual([]);
    expect(await service.resolve(province, f.programmeId)).toEqual({ ok: false, reason: "not_found" });
  });

  it("schedules a report once per programme, year and day; a province officer only; cancelled ones come back; the creator is erasable", async () => {
    const f = await fixture();
    const officer = { role: "officer" as const, scope: { provinceCode: f.provinceCode }, id: String(f.people.p2) };
    const day = new Date(Date.UTC(2026, 11, 15));
    const first = await service.schedule(officer, f.programmeId, 2026, day);
    expect(first).toEqual({ ok: true, id: expect.any(Number), created: true, dueAt: fromVnWallTime(2026, 12, 15, 8, 0) });
    expect(await service.schedule(officer, f.programmeId, 2026, day)).toEqual({ ...first, created: false });
    expect(await service.schedule({ ...officer, scope: { provinceCode: f.provinceCode, communeCode: f.communeA.code } }, f.programmeId, 2026, day)).toEqual({ ok: false, reason: "commune_officer" });
    expect(await service.schedule(officer, f.programmeId, 2027, day)).toEqual({ ok: false, reason: "year" });
    expect((await service.schedules(officer)).map((s) => s.id)).toEqual([first.ok && first.id]);
    const id = first.ok ? first.id : 0;
    expect(await service.cancel(officer, id)).toMatchObject({ ok: true, schedule: { state: "cancelled" } });
    expect(await service.cancel(officer, id)).toEqual({ ok: false, reason: "not_scheduled" });
    expect(await service.schedule(officer, f.programmeId, 2026, day)).toEqual({ ok: true, id, created: true, dueAt: fromVnWallTime(2026, 12, 15, 8, 0) });
    expect(await db.prisma.auditLog.count({ where: { actorId: BigInt(officer.id), action: { in: ["report_scheduled", "report_schedule_cancelled"] } } })).toBe(3);

    const [part] = reportScheduleDataParts(db.prisma);
    expect(await part!.export(officer.id)).toEqual([expect.objectContaining({ id, programmeId: f.programmeId, year: 2026, state: "scheduled" })]);
    expect(await part!.erase(officer.id)).toBe(true);
    expect((await db.prisma.reportSchedule.findUniqueOrThrow({ where: { id } })).createdById).toBeNull();
    expect(await part!.exists(officer.id)).toBe(false);
  });

  it("takes a year from 2000 to this year (Vietnam's), this year when none is given", () => {
    const newYearsEveUtc = new Date("2026-12-31T18:00:00Z"); // already 1 January 2027 in Vietnam
    expect(parseReportYear("", newYearsEveUtc)).toEqual({ ok: true, year: 2027 });
    expect(parseReportYear(" 2026 ", FIXTURE_NOW)).toEqual({ ok: true, year: 2026 });
    expect(parseReportYear("2027", FIXTURE_NOW)).toEqual({ ok: false, reason: "future" });
    expect(parseReportYear("1999", FIXTURE_NOW)).toEqual({ ok: false, reason: "too_early" });
    expect(parseReportYear("năm ngoái", FIXTURE_NOW)).toEqual({ ok: false, reason: "format" });
  });
});
