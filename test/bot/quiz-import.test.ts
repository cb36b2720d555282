import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import { toCsv } from "../../src/domain/broadcasts/csv.js";
import { parseQuestionFile } from "../../src/domain/quizzes/question-import.js";
import { useHarness } from "../support/harness.js";

const ADMIN = 9_400_001;
const h = useHarness({ adminIds: [String(ADMIN)] });

let nextId = 9_400_100;
let nextProvince = 3;
const FORBIDDEN = "Bạn không có quyền thực hiện thao tác này.";

const HEADER = ["topic", "difficulty", "question_vi", "question_en", "option1_vi", "option2_vi", "option1_en", "option2_en", "correct", "explanation_vi", "explanation_en", "source_vi", "source_en"];
function row(tag: string, change: Record<string, string> = {}): string[] {
  const r: Record<string, string> = {
    topic: "national-borders", difficulty: "1",
    question_vi: `Câu hỏi thử ${tag}?`, question_en: `Test question ${tag}?`,
    option1_vi: "Đúng", option2_vi: "Sai", option1_en: "Right", option2_en: "Wrong", correct: "1",
    explanation_vi: "Giải thích.", explanation_en: "Explanation.", source_vi: "Luật Biên giới quốc gia 2003", source_en: "Law on National Borders 2003",
    ...change,
  };
  return HEADER.map((c) => r[c] ?? "");
}
const csv = (...rows: string[][]) => toCsv([HEADER, ...rows]);
/** The same rows as a workbook, with `correct` and `difficulty` typed as numbers, as Excel users do. */
async function xlsx(...rows: string[][]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet("Câu hỏi");
  sheet.addRow(HEADER);
  for (const r of rows) sheet.addRow(r.map((v, i) => (["correct", "difficulty"].includes(HEADER[i]!) && /^\d+$/.test(v) ? Number(v) : v)));
  return Buffer.from(await book.xlsx.writeBuffer());
}

async function freshProvince(): Promise<{ code: string; name: string }> {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  return { code: p.code, name: p.name };
}

async function officer(province: string) {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: province } });
  return h.user(id);
}

const importsOf = (userId: number) => h.db.prisma.quizQuestion.findMany({ where: { importedById: BigInt(userId) }, orderBy: { id: "asc" } });

describe("/quizimport", () => {
  it("refuses residents, whether they use the command, a caption or a forged button", async () => {
    const u = h.user(++nextId);
    expect(await u.send("/quizimport")).toEqual([FORBIDDEN]);
    expect(await u.send("/quizquestions")).toEqual([FORBIDDEN]);
    expect(await u.sendDocument(csv(row("resident")), "q.csv", { caption: "/quizimport" })).toEqual([FORBIDDEN]);
    expect(await u.pressData("qimp:y.0.imp-0123456789abcdef")).toEqual([`[answer] ${FORBIDDEN}`]);
    expect(await h.db.prisma.quizQuestion.count({ where: { importedById: BigInt(u.id) } })).toBe(0);
    // A resident's spreadsheet is just an unsupported message, not an import.
    const plain = await u.sendDocument(csv(row("resident-2")), "q.csv");
    expect(plain).toHaveLength(1);
    expect(plain[0]).not.toContain("/quizimport");
  });

  it("explains the format with a template that imports as is, then imports the officer's file once", async () => {
    const province = await freshProvince();
    const o = await officer(province.code);
    const how = await o.send("/quizimport");
    expect(how[0]).toContain("📥 Nhập câu hỏi trắc nghiệm cho");
    expect(how[0]).toContain(province.name);
    expect(how[0]).toContain("national-borders – ");
    const template = h.fake.lastDocument(o.id)!;
    expect(template.file_name).toBe("quiz-questions-template.csv");
    expect(await parseQuestionFile(template.content, "csv")).toMatchObject({ ok: true, questions: [{ topic: "border-guard-law" }] });
    const workbook = h.fake.documents.find((d) => d.chat_id === o.id && d.file_name === "quiz-questions-template.xlsx")!;
    expect(await parseQuestionFile(workbook.content, "xlsx")).toMatchObject({ ok: true, questions: [{ topic: "border-guard-law", options: { vi: ["3/3", "22/12", "19/8", "28/3"] } }] });

    const file = csv(row(`${o.id}-a`), row(`${o.id}-b`, { correct: "2" }));
    const done = await o.sendDocument(file, "cau-hoi.csv", { mimeType: "application/vnd.ms-excel" });
    expect(done[0]).toMatch(/^✅ Đã nhập cho .+: 2 câu mới, 0 câu đã có sẵn\./);
    expect(done[0]).toContain(province.name);
    const stored = await importsOf(o.id);
    expect(stored.map((q) => [q.provinceCode, q.origin, q.correct])).toEqual(expect.arrayContaining([[province.code, "import", 0], [province.code, "import", 1]]));
    expect(stored).toHaveLength(2);

    const again = await o.sendDocument(file, "cau-hoi (1).csv");
    expect(again[0]).toMatch(/: 0 câu mới, 2 câu đã có sẵn\./);
    expect(await importsOf(o.id)).toHaveLength(2);
  });

  it("lists every bad row and imports nothing; a long list comes as a CSV too", async () => {
    const o = await officer((await freshProvince()).code);
    await o.send("/quizimport");
    const reply = await o.sendDocument(csv(row(`${o.id}-ok`), row(`${o.id}-x`, { question_en: "x".repeat(301), correct: "3" })), "q.csv");
    expect(reply).toEqual([
      "❌ Chưa nhập câu hỏi nào: có 2 lỗi ở 1 dòng. Hãy sửa rồi gửi lại cả tệp.\n\n" +
        "• Dòng 3, question_en: 301 ký tự, tối đa 300\n" +
        "• Dòng 3, correct: không có phương án 3: chỉ có 2 phương án",
    ]);
    expect(await importsOf(o.id)).toHaveLength(0);

    const many = Array.from({ length: 25 }, (_, i) => row(`${o.id}-m${i}`, { topic: "astronomy" }));
    const long = await o.sendDocument(csv(...many), "q.csv");
    expect(long[0]).toContain("có 25 lỗi ở 25 dòng");
    expect(long[0]).toContain("• Dòng 21, topic: không phải chủ đề có sẵn");
    expect(long[0]).not.toContain("Dòng 22,");
    expect(long[0]).toContain("…và 5 lỗi khác: xem danh sách đính kèm.");
    const list = h.fake.lastDocument(o.id)!;
    expect(list.file_name).toBe("quiz-import-problems.csv");
    expect(list.content.toString("utf8")).toContain("26,topic,không phải chủ đề có sẵn");
    expect(await importsOf(o.id)).toHaveLength(0);
  });

  it("answers files that are not a question list: wrong type, XLSX, too big, empty, wrong header", async () => {
    const o = await officer((await freshProvince()).code);
    await o.send("/quizimport");
    expect(await o.sendDocument("%PDF-1.4", "cau-hoi.pdf")).toEqual(["«cau-hoi.pdf» không phải tệp Excel (.xlsx) hay CSV. Hãy gửi câu hỏi dưới dạng tệp .xlsx hoặc CSV UTF-8."]);
    expect(await o.sendDocument(Buffer.from("PK\u0003\u0004 broken"), "cau-hoi.xlsx")).toEqual([
      "Tôi không đọc được tệp: đây không phải tệp Excel (.xlsx) hợp lệ hoặc tệp đã bị hỏng. Hãy mở bằng Excel, lưu lại thành .xlsx (hoặc CSV UTF-8) rồi gửi lại.",
    ]);
    const ole2 = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);
    expect((await o.sendDocument(ole2, "cau-hoi.xls", { mimeType: "application/vnd.ms-excel" }))[0]).toMatch(/^Đây là tệp Excel 97–2003 \(\.xls\) hoặc tệp có đặt mật khẩu/);
    const calls = h.fake.calls.length;
    expect(await o.sendDocument(Buffer.alloc(1024 * 1024 + 1, 0x61), "big.csv")).toEqual(["Tệp này lớn hơn 1 MB. Hãy chia thành các tệp nhỏ hơn."]);
    // Too big is known from the message: the file is never downloaded.
    expect(h.fake.calls.slice(calls).some((c) => c.method === "getFile")).toBe(false);
    expect(await o.sendDocument("", "empty.csv")).toEqual(["Tệp này không có câu hỏi nào: cần một dòng tiêu đề và ít nhất một dòng câu hỏi."]);
    const header = await o.sendDocument("topic,question\nsea,x\n", "q.csv");
    expect(header[0]).toContain("❌ Dòng tiêu đề không khớp với tệp mẫu.");
    expect(header[0]).toContain("Thiếu cột: difficulty, question_vi");
    expect(header[0]).toContain("Cột không rõ: «question»");
    expect(await importsOf(o.id)).toHaveLength(0);
  });

  it("takes a file with the caption /quizimport at any time, and reminds an officer who sent one without it", async () => {
    const o = await officer((await freshProvince()).code);
    expect(await o.sendDocument(csv(row(`${o.id}-late`)), "q.csv")).toEqual([
      "Để nhập câu hỏi trắc nghiệm từ tệp này, hãy gửi /quizimport trước (hoặc gửi tệp kèm chú thích /quizimport).",
    ]);
    expect(await importsOf(o.id)).toHaveLength(0);
    expect((await o.sendDocument(csv(row(`${o.id}-late`)), "q.csv", { caption: "/quizimport" }))[0]).toMatch(/1 câu mới/);
    expect(await importsOf(o.id)).toHaveLength(1);
  });

  it("imports an Excel workbook like the CSV, and reports its bad rows by the sheet's row numbers", async () => {
    const province = await freshProvince();
    const o = await officer(province.code);
    await o.send("/quizimport");
    const bad = await o.sendDocument(await xlsx(row(`${o.id}-x1`), row(`${o.id}-x2`, { correct: "3" })), "Bộ câu hỏi.xlsx", {
      mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    });
    expect(bad).toEqual(["❌ Chưa nhập câu hỏi nào: có 1 lỗi ở 1 dòng. Hãy sửa rồi gửi lại cả tệp.\n\n• Dòng 3, correct: không có phương án 3: chỉ có 2 phương án"]);
    expect(await importsOf(o.id)).toHaveLength(0);

    const file = await xlsx(row(`${o.id}-x1`), row(`${o.id}-x2`, { correct: "2" }));
    const done = await o.sendDocument(file, "Bộ câu hỏi.xlsx");
    expect(done[0]).toMatch(/^✅ Đã nhập cho .+: 2 câu mới, 0 câu đã có sẵn\./);
    expect(done[0]).toContain(province.name);
    const stored = await importsOf(o.id);
    expect(stored.map((q) => [(q.question as { vi: string }).vi, q.correct]).sort()).toEqual([[`Câu hỏi thử ${o.id}-x1?`, 0], [`Câu hỏi thử ${o.id}-x2?`, 1]]);
    // The same questions as CSV are the same questions: nothing new.
    expect((await o.sendDocument(csv(row(`${o.id}-x1`), row(`${o.id}-x2`, { correct: "2" })), "q.csv"))[0]).toMatch(/: 0 câu mới, 2 câu đã có sẵn\./);
    expect(await importsOf(o.id)).toHaveLength(2);
  });

  it("imports nationwide for an admin", async () => {
    const a = h.user(ADMIN);
    await a.send("/quizimport");
    const done = await a.sendDocument(csv(row(`admin-${Date.now()}`)), "q.csv");
    expect(done[0]).toMatch(/^✅ Đã nhập cho toàn quốc: 1 câu mới/);
    const [q] = await h.db.prisma.quizQuestion.findMany({ where: { importedById: BigInt(ADMIN) }, orderBy: { createdAt: "desc" }, take: 1 });
    expect(q?.provinceCode).toBeNull();
  });
});

describe("/quizquestions", () => {
  it("lets an officer retire one of their province's questions after confirming; stale and forged buttons are answered", async () => {
    const province = await freshProvince();
    const o = await officer(province.code);
    const other = await officer((await freshProvince()).code);
    await o.send("/quizimport");
    await o.sendDocument(csv(row(`${o.id}-keep`), row(`${o.id}-drop`)), "q.csv");
    await other.send("/quizimport");
    await other.sendDocument(csv(row(`${other.id}-theirs`)), "q.csv");
    const [theirs] = await importsOf(other.id);

    const list = await o.send("/quizquestions");
    expect(list[0]).toContain("2 câu đang dùng (trang 1/1)");
    expect(list[0]).toContain(`Câu hỏi thử ${o.id}-drop?`);
    expect(list[0]).not.toContain(`${other.id}-theirs`);
    expect(o.buttons()).toEqual(["🗑 1", "🗑 2"]);
    const position = list[0]!.split("\n").find((l) => l.includes(`${o.id}-drop`))!.split(".")[0]!;

    const ask = await o.press(`🗑 ${position}`);
    expect(ask[0]).toContain("🗑 Ngừng dùng câu hỏi này?");
    expect(ask[0]).toContain(`Câu hỏi thử ${o.id}-drop?`);
    expect(ask[0]).toContain("✅ Đúng");
    const confirm = o.buttons();
    expect(confirm).toEqual(["🗑 Đồng ý, ngừng dùng", "↩️ Quay lại"]);
    const confirmMessage = h.fake.sent(o.id).at(-1)!.result as never;
    const confirmData = `qimp:y.0.${(await importsOf(o.id)).find((q) => (q.question as { vi: string }).vi.includes("-drop"))!.id}`;

    const done = await o.press("Đồng ý");
    expect(done[0]).toBe("[answer] Đã ngừng dùng.");
    expect(done[1]).toContain(`🗑 Đã ngừng dùng: «Câu hỏi thử ${o.id}-drop?»`);
    expect(done[1]).toContain("1 câu đang dùng");
    const dropped = (await importsOf(o.id)).find((q) => (q.question as { vi: string }).vi.includes("-drop"))!;
    expect(dropped.retiredAt).not.toBeNull();
    expect(dropped.retiredById).toBe(BigInt(o.id));

    // The same confirm button again (a double tap, or an old message): nothing changes, the person is told.
    expect((await o.pressData(confirmData, confirmMessage))[0]).toBe("[answer] Câu hỏi này đã ngừng dùng từ trước.");
    // Another province's question, forged into the data: refused and logged; a bank-like row too.
    expect((await o.pressData(`qimp:y.0.${theirs!.id}`))[0]).toBe("[answer] Câu hỏi này không thuộc các câu tỉnh bạn đã nhập: bạn không thể ngừng dùng.");
    expect(h.logged(40).some((l) => l.msg === "refused to retire a question outside the officer's scope")).toBe(true);
    expect((await h.db.prisma.quizQuestion.findUniqueOrThrow({ where: { id: theirs!.id } })).retiredAt).toBeNull();
    expect(await o.pressData("qimp:y.0.DROP TABLE")).toEqual(["[answer] Nút không hợp lệ."]);
    expect((await o.pressData("qimp:r.0.imp-ffffffffffffffff"))[0]).toBe("[answer] Câu hỏi này không (còn) tồn tại.");
  });

  it("lets an admin retire a bank question; an officer cannot", async () => {
    const id = `test-bank-${++nextId}`;
    await h.db.prisma.quizQuestion.create({
      data: { id, topic: "sea", difficulty: 1, factId: "B1", question: { vi: `Câu ngân hàng ${id}?`, en: `Bank question ${id}?` }, options: { vi: ["a", "b"], en: ["a", "b"] }, correct: 0, explanation: { vi: "", en: "" }, source: { vi: "s", en: "s" }, origin: "bank" },
    });
    const o = await officer((await freshProvince()).code);
    expect((await o.pressData(`qimp:y.0.${id}`))[0]).toBe("[answer] Câu hỏi này không thuộc các câu tỉnh bạn đã nhập: bạn không thể ngừng dùng.");
    const a = h.user(ADMIN);
    expect((await a.pressData(`qimp:r.0.${id}`)).join("\n")).toContain(`Câu ngân hàng ${id}?`);
    expect((await a.press("Đồng ý"))[0]).toBe("[answer] Đã ngừng dùng.");
    expect((await h.db.prisma.quizQuestion.findUniqueOrThrow({ where: { id } })).retiredById).toBe(BigInt(ADMIN));
  });

  it("pages a long list", async () => {
    const o = await officer((await freshProvince()).code);
    await o.send("/quizimport");
    await o.sendDocument(csv(...Array.from({ length: 7 }, (_, i) => row(`${o.id}-p${i}`))), "q.csv");
    expect((await o.send("/quizquestions"))[0]).toContain("7 câu đang dùng (trang 1/2)");
    expect(o.buttons()).toEqual(["🗑 1", "🗑 2", "🗑 3", "🗑 4", "🗑 5", "Trang sau ▶️"]);
    const second = await o.press("Trang sau");
    expect(second[0]).toContain("(trang 2/2)");
    expect(second[0]).toMatch(/^6\. \[/m);
    expect(o.buttons()).toEqual(["🗑 6", "🗑 7", "◀️ Trang trước"]);
  });
});
