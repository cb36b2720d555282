import { beforeAll, describe, expect, it } from "vitest";
import { LEARNING_UNIT_DECISION_KIND } from "../../src/domain/units/learning-units.js";
import { newToken, unitNameKey } from "../../src/domain/units/model.js";
import { useHarness, type TestUser } from "../support/harness.js";

const ADMIN = 9_610_001;
const h = useHarness({ adminIds: [String(ADMIN)] });
const FORBIDDEN = "Bạn không có quyền thực hiện thao tác này.";

let nextId = 9_610_100;
let nextUnit = 0;

beforeAll(async () => {
  await h.deps.services.geo.listProvinces();
  await h.deps.services.geo.getCommune("00004");
});

async function person(role: "resident" | "officer" = "resident", scope: { provinceCode?: string; communeCode?: string } = {}): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role, scopeProvinceCode: scope.provinceCode ?? null, scopeCommuneCode: scope.communeCode ?? null } });
  return h.user(id);
}

async function unit(provinceCode = "01", opts: { head?: TestUser; headcount?: number; citizens?: number } = {}) {
  const commune = (await h.db.prisma.commune.findFirstOrThrow({ where: { provinceCode }, orderBy: { code: "asc" } }));
  const name = `Trường Bot-Học-Tập-${++nextUnit}`;
  const u = await h.db.prisma.unit.create({
    data: { name, nameKey: unitNameKey(name), kind: "school", body: "other", provinceCode, communeCode: commune.code, headcount: opts.headcount ?? 10, joinToken: newToken() },
  });
  if (opts.head) await h.db.prisma.unitMember.create({ data: { unitId: u.id, userId: BigInt(opts.head.id), role: "head", displayName: "Trưởng", joinedAt: new Date() } });
  for (let i = 0; i < (opts.citizens ?? 0); i++) {
    const m = await person();
    await h.db.prisma.unitMember.create({ data: { unitId: u.id, userId: BigInt(m.id), displayName: "Người", joinedAt: new Date() } });
    await h.db.prisma.learningCitizen.create({
      data: { userId: BigInt(m.id), registrationNumber: `CDHT-B-${m.id}`, fullName: "Lê Thị B", birthYear: 1995, provinceCode, communeCode: commune.code, affiliation: "resident", registeredAt: new Date() },
    });
  }
  return u;
}

describe("/learning_unit", () => {
  it("lets a head pick one of their units, tick the checklist in place with the share shown, and send it", async () => {
    const head = await person();
    const first = await unit("01", { head, headcount: 8, citizens: 3 });
    const second = await unit("01", { head });
    const asked = await head.send("/learning_unit");
    expect(asked).toEqual(["Bạn là trưởng của nhiều đơn vị. Đăng ký «Đơn vị học tập» cho đơn vị nào?"]);
    // A forged id of a unit the person does not head is refused like an invalid choice.
    const stranger = await unit("01");
    expect(await head.pressData(`ulu:${stranger.id}`, h.fake.sent(head.id).at(-1)!.result as never)).toEqual(["Lựa chọn không hợp lệ. Vui lòng chọn lại."]);
    const checklist = await head.press(first.name);
    expect(checklist[0]).toBe(`✅ Đơn vị: ${first.name}`);
    expect(checklist[1]).toContain(`📝 Tự đánh giá «Đơn vị học tập»: ${first.name}`);
    expect(checklist[1]).toContain("Hiện nay: 37,5% (3/8 người đã đăng ký Công dân học tập): ❌ chưa đạt mục tiêu 80%");
    expect(checklist[1]).toContain("⬜ 2. Đơn vị hướng dẫn cán bộ, người lao động tự đánh giá");
    expect(head.buttons()).toEqual(["⬜ 2. Tự đánh giá CDHT", "⬜ 3. Kỹ năng số", "⬜ 4. Chương trình QĐ 387", "⬜ 5. Phong trào thi đua", "⬜ 6. Tuần lễ học tập suốt đời", "📤 Gửi"]);

    const ticked = await head.press("Kỹ năng số");
    expect(ticked).toHaveLength(1);
    expect(ticked[0]).toContain("☑️ 3. Đơn vị giúp người lao động học kỹ năng số");
    const edits = head.callsSince().filter((c) => c.method === "editMessageText");
    expect(edits).toHaveLength(1);
    await head.press("Tuần lễ học tập suốt đời");
    await head.press("Tự đánh giá CDHT");
    await head.press("Tự đánh giá CDHT");
    expect(head.buttons()).toEqual(["⬜ 2. Tự đánh giá CDHT", "☑️ 3. Kỹ năng số", "⬜ 4. Chương trình QĐ 387", "⬜ 5. Phong trào thi đua", "☑️ 6. Tuần lễ học tập suốt đời", "📤 Gửi"]);
    const sent = await head.press("📤 Gửi");
    expect(sent.at(-1)).toMatch(new RegExp(`^📤 Đã gửi bản tự đánh giá của «${first.name}» \\(2/6 tiêu chí đạt\\)\\. Cán bộ phụ trách .+ sẽ duyệt hoặc trả lại kèm lý do`));
    const stored = await h.db.prisma.unit.findUniqueOrThrow({ where: { id: first.id } });
    expect(stored.learningStatus).toBe("pending");
    expect(stored.learningAssessment).toMatchObject({ answers: { digital_skills: true, lifelong_learning_week: true, self_assessment: false, staff_learning_citizens: false }, measured: { citizens: 3, headcount: 8 } });
    expect((await h.db.prisma.unit.findUniqueOrThrow({ where: { id: second.id } })).learningStatus).toBe("none");

    // The checklist's buttons are spent: a late press is answered, changes nothing.
    expect(await head.pressData("ulc:2")).toEqual(["[answer] Bản tự đánh giá này đã đóng. Gửi /learning_unit để làm lại."]);
    expect(await head.pressData("ulc:all")).toEqual(["[answer] Nút không hợp lệ."]);
    // Pending: the head is told, not asked again.
    await head.send("/learning_unit");
    expect(await head.press(first.name)).toContain(`«${first.name}» đã gửi bản tự đánh giá ngày ${new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Ho_Chi_Minh" }).format(new Date())} và đang chờ cán bộ duyệt. Tôi sẽ báo bạn khi có kết quả.`);
  });

  it("tells a person who heads no unit what the command is for", async () => {
    const p = await person();
    expect(await p.send("/learning_unit")).toEqual(["Lệnh này dành cho trưởng đơn vị (cơ quan, trường học, đồn biên phòng, thôn…). Bạn chưa là trưởng đơn vị nào: hãy nhờ cán bộ phụ trách đơn vị thêm bạn làm trưởng đơn vị."]);
  });
});

describe("/learning_units", () => {
  async function sentBy(head: TestUser, provinceCode = "01") {
    const u = await unit(provinceCode, { head });
    await head.send("/learning_unit");
    await head.press("Kỹ năng số");
    await head.press("📤 Gửi");
    return u;
  }

  it("shows an officer the units waiting in their place, a unit's answers, and approves it; the heads' notice is queued", async () => {
    const head = await person();
    const u = await sentBy(head);
    const o = await person("officer", { provinceCode: "01" });
    const list = await o.send("/learning_units");
    expect(list[0]).toMatch(/^📋 Đơn vị chờ duyệt «Đơn vị học tập» ở .*Hà Nội/);
    expect(list[0]).toContain(u.name);
    const n = /(\d+)\. [^\n]*/.exec(list[0]!.split("\n").find((l) => l.includes(u.name))!)![1];
    const card = await o.press(`🔍 ${n}`);
    expect(card[0]).toContain(`🏢 ${u.name}`);
    expect(card[0]).toContain("⏳ Gửi ngày");
    expect(card[0]).toContain("☑️ 3. Đơn vị giúp người lao động học kỹ năng số");
    expect(o.buttons()).toEqual(["✅ Duyệt", "↩️ Trả lại", "⬅️ Danh sách chờ duyệt"]);
    const approved = await o.press("✅ Duyệt");
    expect(approved[0]).toBe("[answer] Đã duyệt.");
    expect(approved[1]).toMatch(new RegExp(`^✅ Đã duyệt «${u.name}» là «Đơn vị học tập» ngày \\d\\d/\\d\\d/\\d{4}\\. Đã báo cho 1 trưởng đơn vị\\.$`));
    const stored = await h.db.prisma.unit.findUniqueOrThrow({ where: { id: u.id } });
    expect([stored.learningStatus, stored.learningDecidedById]).toEqual(["approved", BigInt(o.id)]);
    expect(await h.db.prisma.delivery.findMany({ where: { kind: LEARNING_UNIT_DECISION_KIND, refId: { startsWith: `lud.${u.id}.a.` } }, select: { chatId: true } })).toEqual([{ chatId: BigInt(head.id) }]);
    // Pressed again from the old card: already decided.
    expect(await o.pressData(`uld:a.${u.id}`)).toEqual(["[answer] Đơn vị này không còn chờ duyệt (đã có quyết định)."]);
  });

  it("returns a unit with a reason asked for, refusing one too short", async () => {
    const head = await person();
    const u = await sentBy(head);
    const o = await person("officer", { provinceCode: "01" });
    await o.pressData(`uld:v.${u.id}`);
    const ask = await o.press("↩️ Trả lại");
    expect(ask.at(-1)).toBe(`↩️ Trả lại bản tự đánh giá của «${u.name}». Lý do (từ 5 đến 500 ký tự) để trưởng đơn vị biết cần sửa gì? Gõ /cancel để thôi.`);
    expect(await o.send("Sai")).toEqual(["Lý do quá ngắn: hãy viết ít nhất 5 ký tự để đơn vị biết cần sửa gì."]);
    const done = await o.send("Chưa có minh chứng cho Tuần lễ học tập suốt đời");
    expect(done).toEqual([`↩️ Đã trả lại bản tự đánh giá của «${u.name}» với lý do: Chưa có minh chứng cho Tuần lễ học tập suốt đời\nĐã báo cho 1 trưởng đơn vị.`]);
    expect(await h.db.prisma.unit.findUniqueOrThrow({ where: { id: u.id } })).toMatchObject({ learningStatus: "returned", learningReturnReason: "Chưa có minh chứng cho Tuần lễ học tập suốt đời" });
    // The head starts again from the returned answers, the reason shown.
    const again = await head.send("/learning_unit");
    expect(again[0]).toContain("↩️ Lần trước cán bộ trả lại với lý do: Chưa có minh chứng cho Tuần lễ học tập suốt đời");
    expect(head.buttons()).toContain("☑️ 3. Kỹ năng số");
  });

  it("refuses forged and out-of-scope ids, residents, and invalid data, answering every press", async () => {
    const head = await person();
    const u = await sentBy(head);
    const other = await person("officer", { provinceCode: "79" });
    expect((await other.send("/learning_units"))[0]).not.toContain(u.name);
    for (const data of [`uld:v.${u.id}`, `uld:a.${u.id}`, `uld:r.${u.id}`]) expect(await other.pressData(data)).toEqual(["[answer] Đơn vị này không thuộc địa bàn của bạn."]);
    const o = await person("officer", { provinceCode: "01" });
    expect(await o.pressData("uld:a.999999999")).toEqual(["[answer] Đơn vị này không còn tồn tại."]);
    expect(await o.pressData("uld:x.1")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(await head.pressData(`uld:a.${u.id}`)).toEqual([`[answer] ${FORBIDDEN}`]);
    expect(await head.send("/learning_units")).toEqual([FORBIDDEN]);
    expect(await h.db.prisma.unit.findUniqueOrThrow({ where: { id: u.id } })).toMatchObject({ learningStatus: "pending", learningDecidedById: null });
    expect(h.logged(40).some((l) => l.msg === "refused a unit outside the officer's place")).toBe(true);
    const unscoped = await person("officer");
    expect(await unscoped.send("/learning_units")).toEqual(["Bạn chưa được giao địa bàn nên chưa xem được đơn vị nào."]);
  });
});
