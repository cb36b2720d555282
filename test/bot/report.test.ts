import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TargetFigures } from "../../src/domain/targets/figures.js";
import { ReportService } from "../../src/domain/targets/report-service.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { LearningGroups } from "../../src/domain/units/families.js";
import { createLogger } from "../../src/logger.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";
import { buildReportFixture, FIXTURE_NOW, pdfTexts, type ReportFixture } from "../support/report-fixture.js";

// /report and /report_schedule through the real bot and the fake Bot API: documents a province
// officer gets, a commune officer's commune only, residents refused, a bad year explained, and a
// scheduled report delivered by the engine to the programme's officers once, not again after a
// second tick or a restart.

const clock = new ManualClock(FIXTURE_NOW.getTime());
const h = useHarness({ now: clock.now });
let engine: TestEngine;
let nextProvince = 11;
let nextId = 9_980_000;
/** Officers and residents: ids apart from the fixtures' people (nextId + 1…), e.g. 9_999_001. */
let nextPerson = 9_999_000;

beforeAll(async () => {
  engine = TestEngine.start({ db: h.db, fake: h.fake, now: clock.now, kinds: h.deps.deliveryKinds, queues: h.queues, prefix: h.queuePrefix });
  await h.deps.services.geo.listProvinces();
});
afterAll(() => engine.stop());

async function fixture(): Promise<ReportFixture> {
  clock.set(FIXTURE_NOW);
  nextId += 1_000;
  return buildReportFixture(h.db.prisma, nextProvince++, nextId);
}

async function officer(provinceCode: string, communeCode?: string): Promise<TestUser> {
  const id = ++nextPerson;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: provinceCode, scopeCommuneCode: communeCode ?? null } });
  h.fake.registerChat(id);
  return h.user(id);
}

function documents(u: TestUser) {
  return h.fake.documents.filter((d) => d.chat_id === u.id);
}

async function sheetRows(xlsx: Buffer, sheet: string): Promise<string[]> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(xlsx as never);
  const rows: string[] = [];
  book.getWorksheet(sheet)!.eachRow((row) => rows.push(String(row.getCell(1).value)));
  return rows;
}

describe("/report", () => {
  it("sends a province officer the XLSX and the PDF of the programme's province, and audits it", async () => {
    const f = await fixture();
    const o = await officer(f.provinceCode);
    const replies = await o.send("/report 2026");
    const docs = documents(o);
    expect(docs.map((d) => d.file_name)).toEqual([`bao-cao-2026-ct${f.programmeId}-${f.provinceCode}.xlsx`, `bao-cao-2026-ct${f.programmeId}-${f.provinceCode}.pdf`]);
    expect(docs.map((d) => d.mime_type)).toEqual(["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf"]);
    expect(replies[0]).toMatch(/^📊 Báo cáo năm 2026: Chương trình phối hợp .* – (Tỉnh|Thành phố) /);
    const communes = await h.db.prisma.commune.count({ where: { provinceCode: f.provinceCode } });
    const rows = await sheetRows(docs[0]!.content, "Đăng ký CDHT");
    expect(rows.length).toBe(communes + 2);
    expect(rows.at(-1)).toBe("Tổng cộng");
    expect(pdfTexts(docs[1]!.content).join("\n")).toContain(f.programmeName);
    expect(await h.db.prisma.auditLog.count({ where: { actorId: BigInt(o.id), action: "report_exported" } })).toBe(1);
    expect(h.logged()).toEqual([]);
  });

  it("gives a commune officer their commune only; this year when no year is given", async () => {
    const f = await fixture();
    const o = await officer(f.provinceCode, f.communeA.code);
    await o.send("/report");
    const docs = documents(o);
    expect(docs.map((d) => d.file_name)).toEqual([`bao-cao-2026-ct${f.programmeId}-${f.communeA.code}.xlsx`, `bao-cao-2026-ct${f.programmeId}-${f.communeA.code}.pdf`]);
    const rows = await sheetRows(docs[0]!.content, "Đăng ký CDHT");
    expect(rows).toEqual(["Xã/phường", expect.stringContaining(f.communeA.name), "Tổng cộng"]);
    expect(await sheetRows(docs[0]!.content, "Theo đơn vị")).toEqual(["Đơn vị", "Đồn Biên phòng Cửa khẩu", "Trạm Kiểm soát", "Tổng cộng"]);
  });

  it("refuses residents and officers of another province; explains a bad year; lets an admin pick among programmes", async () => {
    const f = await fixture();
    const resident = h.user(++nextPerson);
    expect(await resident.send("/report 2026")).toEqual([expect.stringMatching(/^Báo cáo năm dành cho cán bộ/)]);
    expect(documents(resident)).toEqual([]);

    const o = await officer(f.provinceCode);
    expect(await o.send("/report 2031")).toEqual(["Năm 2026 là năm gần nhất có thể báo cáo.\nGõ /report để lấy báo cáo năm nay, hoặc /report 2026 kèm năm cần báo cáo."]);
    expect((await o.send("/report 1990"))[0]).toMatch(/^Báo cáo có từ năm 2000\./);
    expect((await o.send("/report năm ngoái"))[0]).toMatch(/^Năm báo cáo gõ bằng 4 chữ số/);
    expect(documents(o)).toEqual([]);

    // An admin sees every programme: picking one by its button; a forged id of a deleted programme is refused.
    const admin = await officer(f.provinceCode);
    await h.db.prisma.user.update({ where: { id: BigInt(admin.id) }, data: { role: "admin" } });
    expect((await admin.send("/report 2026"))[0]).toBe("Lập báo cáo năm 2026 của chương trình nào?");
    expect(admin.buttons()).toContain(`${f.programmeName.slice(0, 55)}… (2024–2030)`);
    await admin.press(`rp:g.${f.programmeId}.2026`);
    expect(documents(admin).map((d) => d.file_name)).toEqual([`bao-cao-2026-ct${f.programmeId}-${f.provinceCode}.xlsx`, `bao-cao-2026-ct${f.programmeId}-${f.provinceCode}.pdf`]);
    const other = await officer(f.provinceCode === "01" ? "04" : "01");
    expect(await other.pressData(`rp:g.${f.programmeId}.2026`)).toEqual(["[answer] Chương trình này không thuộc địa bàn của bạn."]);
    expect(documents(other)).toEqual([]);
    expect(h.unansweredCallbackQueries()).toEqual([]);
  });
});

describe("/report_schedule", () => {
  it("delivers a scheduled report to the programme's officers through the engine once, not again after a second tick or a restart", async () => {
    const f = await fixture();
    const o = await officer(f.provinceCode);
    const follower = await officer(f.provinceCode);
    const away = await officer(f.provinceCode);
    for (const u of [o, follower, away]) await h.db.prisma.programmeOfficer.create({ data: { programmeId: f.programmeId, userId: BigInt(u.id), addedAt: FIXTURE_NOW } });
    // A commune officer may not schedule; an empty list shows how to.
    const communeOfficer = await officer(f.provinceCode, f.communeA.code);
    expect((await communeOfficer.send("/report_schedule 15/12/2026"))[0]).toMatch(/^Hẹn gửi báo cáo là việc của cán bộ cấp tỉnh/);
    expect((await o.send("/report_schedule"))[0]).toMatch(/^Chưa có báo cáo nào được hẹn gửi\.\n\nHẹn gửi: \/report_schedule/);
    expect((await o.send("/report_schedule 01/12/2026"))[0]).toMatch(/^Ngày này đã qua/);

    const scheduled = await o.send("/report schedule 15/12/2026");
    expect(scheduled).toEqual([expect.stringMatching(/^✅ Đã hẹn: báo cáo năm 2026 của «.*» được lập và gửi lúc 08:00 ngày 15\/12\/2026 cho 3 cán bộ theo dõi chương trình\.$/)]);
    expect((await o.send("/report_schedule 15/12/2026"))[0]).toMatch(/^ℹ️ Báo cáo năm 2026 .* đã được hẹn gửi lúc 08:00 ngày 15\/12\/2026/);
    expect(await h.db.prisma.reportSchedule.count({ where: { programmeId: f.programmeId } })).toBe(1);
    // A second one, cancelled from the list.
    await o.send("/report_schedule 20/12/2026");
    expect((await o.send("/report_schedule")).join("\n")).toMatch(/1\. Năm 2026 – .*: 08:00 ngày 15\/12\/2026\n2\. Năm 2026 – .*: 08:00 ngày 20\/12\/2026/);
    expect(await o.press("Hủy 2")).toEqual(["[answer] Đã hủy lịch gửi.", expect.stringMatching(/^❌ Đã hủy lịch gửi báo cáo năm 2026/)]);

    // Before 8:00 nothing goes; an officer who blocked the bot gets no row.
    clock.set(fromVnWallTime(2026, 12, 15, 7, 59));
    expect(await h.deps.services.reports.tick()).toBe(0);
    await h.db.prisma.user.update({ where: { id: BigInt(away.id) }, data: { unreachableSince: FIXTURE_NOW } });
    clock.set(fromVnWallTime(2026, 12, 15, 8, 0));
    expect(await h.deps.services.reports.tick()).toBe(1);
    await eventually(async () => (await h.db.prisma.delivery.count({ where: { kind: "programme_report", state: "sent", chatId: { in: [o.id, follower.id].map(BigInt) } } })) === 2, "the report's rows recorded");
    expect(await h.db.prisma.delivery.count({ where: { kind: "programme_report", chatId: BigInt(away.id) } })).toBe(0);
    for (const u of [o, follower]) {
      const docs = documents(u).filter((d) => d.file_name.endsWith(".xlsx") && d.file_name.startsWith("bao-cao-2026"));
      expect(docs, `officer ${u.id}`).toHaveLength(1);
      expect(await sheetRows(docs[0]!.content, "Chỉ tiêu")).toContain("Tổng cộng");
    }
    expect(documents(away)).toEqual([]);
    const caption = h.fake.sent(follower.id).find((c) => c.method === "sendDocument")!.payload.caption;
    expect(caption).toMatch(/^📊 Báo cáo năm 2026 theo lịch: /);
    expect((await h.db.prisma.reportSchedule.findFirstOrThrow({ where: { programmeId: f.programmeId, state: { not: "cancelled" } } })).state).toBe("sent");

    // Another tick, and a restarted process's service over the same database: nothing more.
    clock.advance(60_000);
    expect(await h.deps.services.reports.tick()).toBe(0);
    const logger = createLogger("silent");
    const restarted = new ReportService({
      prisma: h.db.prisma, figures: new TargetFigures({ prisma: h.db.prisma, families: new LearningGroups({ prisma: h.db.prisma, now: clock.now, logger }) }),
      deliveries: h.deps.deliveries, now: clock.now, logger,
    });
    expect(await restarted.tick()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(h.fake.sent(follower.id).filter((c) => c.method === "sendDocument")).toHaveLength(1);
    expect(await h.db.prisma.delivery.count({ where: { kind: "programme_report", chatId: BigInt(follower.id) } })).toBe(1);
    // The cancelled one never goes out.
    clock.set(fromVnWallTime(2026, 12, 20, 9, 0));
    expect(await h.deps.services.reports.tick()).toBe(0);
  });
});
