import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packTargetChart, unpackTargetChart } from "../../src/bot/callback-data/callback-data.js";
import type { ProgrammeInput } from "../../src/domain/targets/programmes.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { UNIT_NUDGE_KIND } from "../../src/domain/targets/nudge.js";
import { eventually, ManualClock, TestEngine } from "../support/delivery.js";
import { useHarness, type TestUser } from "../support/harness.js";

// Tuesday 1 December 2026, 10:00 in Vietnam: the scoreboard's year is 2026.
const clock = new ManualClock(fromVnWallTime(2026, 12, 1, 10, 0).getTime());
const h = useHarness({ now: clock.now });
let engine: TestEngine;
beforeAll(async () => {
  engine = TestEngine.start({ db: h.db, fake: h.fake, now: clock.now, kinds: h.deps.deliveryKinds, queues: h.queues, prefix: h.queuePrefix });
  await h.deps.services.geo.listProvinces();
});
afterAll(() => engine.stop());

let nextId = 9_810_000;
let nextProvince = 7;

async function officer(provinceCode: string, communeCode?: string): Promise<TestUser> {
  const id = ++nextId;
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: provinceCode, scopeCommuneCode: communeCode ?? null } });
  return h.user(id);
}
const actorOf = async (u: TestUser) => ({ ...(await h.deps.services.users.access(String(u.id))), id: String(u.id) });

/** Someone who joined a unit by its link; registered ones have a learning card too. */
async function member(token: string, name: string, opts: { registered?: boolean; associationMember?: boolean } = {}): Promise<number> {
  const id = ++nextId;
  if (opts.registered) {
    await h.db.prisma.user.create({ data: { id: BigInt(id), associationMemberSince: opts.associationMember ? clock.now() : null } });
    await h.db.prisma.learningCitizen.create({
      data: { userId: BigInt(id), registrationNumber: `TG-${id}`, fullName: name, birthYear: 1995, provinceCode: "01", communeCode: "00004", affiliation: "border_guard", goals: [], registeredAt: clock.now() },
    });
  }
  const r = await h.deps.services.units.join(String(id), token, name);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  h.fake.registerChat(id);
  return id;
}

/**
 * A province of its own: border posts A (commune 1, headcount 8: 2 of 5 members registered, three
 * not — one of them muted the nudges) and B (commune 2, headcount 8: 4 registered, one an
 * association member, and one not registered), and a school (not a participating body).
 * Learning citizens 6/16 = 37,5%, target 80% → ceil(12,8) = 13 → "còn 7 người".
 */
async function fixture() {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const province = provinces[nextProvince++ % provinces.length]!;
  const [c1, c2] = await h.db.prisma.commune.findMany({ where: { provinceCode: province.code }, orderBy: { code: "asc" }, take: 2 });
  const provincial = await officer(province.code);
  const actor = await actorOf(provincial);
  const input: ProgrammeInput = {
    name: "Phối hợp Biên phòng – Khuyến học", provinceCode: province.code, bodies: ["border_guard", "association"], startYear: 2024, endYear: 2030,
    targets: [{ metric: "learning_citizens", percent: 80 }, { metric: "members", percent: 50 }],
  };
  const prog = await h.deps.services.programmes.create(actor, input);
  if (!prog.ok) throw new Error(JSON.stringify(prog.errors));
  const mk = async (communeCode: string, name: string, kind: "border_post" | "school") => {
    const r = await h.deps.services.units.create(actor, { communeCode, name, kind, headcount: 8 });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.unit;
  };
  const a = await mk(c1!.code, "Đồn Biên phòng A", "border_post");
  const b = await mk(c2!.code, "Đồn Biên phòng B", "border_post");
  const school = await mk(c1!.code, "Trường C", "school");
  const headId = await member(a.joinToken, "Trưởng đồn Lò Văn Sáng", { registered: true });
  await h.deps.services.units.addHead(actor, a.id, String(headId));
  await member(a.joinToken, "Đã đăng ký A", { registered: true });
  const dinh = await member(a.joinToken, "Vàng Seo Dính");
  const pao = await member(a.joinToken, "Giàng A Páo");
  const lu = await member(a.joinToken, "Sùng Mí Lử");
  await h.db.prisma.topicMute.create({ data: { userId: BigInt(lu), topic: "unit_nudges" } });
  const bPeople = [
    await member(b.joinToken, "B1", { registered: true, associationMember: true }),
    await member(b.joinToken, "B2", { registered: true }),
    await member(b.joinToken, "B3", { registered: true }),
    await member(b.joinToken, "B4", { registered: true }),
  ];
  const mai = await member(b.joinToken, "Lý Thị Mai");
  const schoolPerson = await member(school.joinToken, "Học sinh C");
  return {
    province, c1: c1!, c2: c2!, provincial, programme: prog.programme, a, b, school,
    head: h.user(headId), unregisteredA: { dinh, pao, lu }, bPeople, mai, schoolPerson,
  };
}

describe("/targets", () => {
  it("shows a province officer each metric with the figure, '37,5%', the target and the gap; by unit worst first, edited in place", async () => {
    const f = await fixture();
    const board = (await f.provincial.send("/targets")).join("\n");
    expect(board).toContain("Phối hợp Biên phòng – Khuyến học");
    expect(board).toContain("năm 2026");
    expect(board).toContain("Công dân học tập: 6/16 người — 37,5% · chỉ tiêu 80% · còn 7 người");
    // 1 association member of 16: 6,25% shown "6,3%"; 50% of 16 is 8 → 7 more.
    expect(board).toContain("Hội viên khuyến học: 1/16 người — 6,3% · chỉ tiêu 50% · còn 7 người");
    expect(board).toContain("Đơn vị học tập: 0/2 đơn vị — 0% · chưa đặt chỉ tiêu");
    // No family in the province yet: nothing to count, neither a percentage nor "reached".
    expect(board).toContain("Gia đình học tập: chưa có số liệu");
    expect(board).not.toContain("0/0");
    expect(board).not.toContain("Trường C");
    expect(f.provincial.buttons()).toEqual(expect.arrayContaining(["🏢 CDHT: theo đơn vị", "🗺 CDHT: theo xã/phường", "📊 Biểu đồ"]));
    // Officers see counts, never the names: no "not registered" button.
    expect(f.provincial.buttons().some((b) => b.includes("Chưa đăng ký"))).toBe(false);
    const byUnit = await f.provincial.press("🏢 CDHT: theo đơn vị");
    expect(h.fake.calls.at(-1)!.method).toBe("editMessageText");
    const text = byUnit.join("\n");
    expect(text).toContain("1. Đồn Biên phòng A — 2/8 (25%) · còn 5 người");
    expect(text).toContain("2. Đồn Biên phòng B — 4/8 (50%) · còn 3 người");
    expect(text.indexOf("Đồn Biên phòng A")).toBeLessThan(text.indexOf("Đồn Biên phòng B"));
    const byCommune = (await f.provincial.press("↩️ Bảng chỉ tiêu").then(() => f.provincial.press("🗺 CDHT: theo xã/phường"))).join("\n");
    expect(byCommune).toMatch(new RegExp(`1\\. Xã ${f.c1.name}|1\\. Phường ${f.c1.name}|1\\. Đặc khu ${f.c1.name}`));
    // The chart button carries the programme, the scope, a metric and the chart kind.
    const chart = h.fake.calls.filter((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === f.provincial.id).at(-1);
    expect(JSON.stringify(chart?.payload.reply_markup)).toContain(packTargetChart({ programmeId: f.programme.id, scope: { kind: "programme" }, metric: "learning_citizens", chart: "bar" }));
    // A forged request for a unit's names is refused, with a localised answer.
    expect(await f.provincial.pressData(`tg:r.${f.programme.id}.${f.a.id}`)).toEqual(["[answer] Chỉ người phụ trách đơn vị mới xem được danh sách này."]);
    expect(h.logged()).toEqual([]);
  });

  it("gives a commune officer their commune only; forged scopes and programmes are refused", async () => {
    const f = await fixture();
    const communal = await officer(f.province.code, f.c1.code);
    const board = (await communal.send("/targets")).join("\n");
    expect(board).toContain("Công dân học tập: 2/8 người — 25% · chỉ tiêu 80% · còn 5 người");
    expect(board).not.toContain("6/16");
    const byUnit = (await communal.press("🏢 CDHT: theo đơn vị")).join("\n");
    expect(byUnit).toContain("Đồn Biên phòng A");
    expect(byUnit).not.toContain("Đồn Biên phòng B");
    expect(await communal.pressData(`tg:v.${f.programme.id}.c${f.c2.code}`)).toEqual(["[answer] Bạn không xem được bảng chỉ tiêu này."]);
    expect(await communal.pressData(`tg:u.${f.programme.id}.u${f.b.id}.learning_citizens.0`)).toEqual(["[answer] Bạn không xem được bảng chỉ tiêu này."]);
    const other = await fixture();
    expect(await communal.pressData(`tg:v.${other.programme.id}.p`)).toEqual(["[answer] Bạn không xem được bảng chỉ tiêu này."]);
    expect(await communal.pressData(`tg:v.99999999.p`)).toEqual(["[answer] Chương trình này không còn nữa."]);
    expect(await communal.pressData(`tg:v.${f.programme.id}.x1`)).toEqual(["[answer] Nút không hợp lệ."]);
  });

  it("shows a unit's head their unit and its unregistered names; a resident without a unit gets nothing", async () => {
    const f = await fixture();
    const board = (await f.head.send("/targets")).join("\n");
    expect(board).toContain("Đồn Biên phòng A");
    expect(board).toContain("Công dân học tập: 2/8 người — 25% · chỉ tiêu 80% · còn 5 người");
    expect(board).not.toContain("Gia đình học tập");
    const names = (await f.head.press("Chưa đăng ký (3)")).join("\n");
    expect(names).toContain("Chưa đăng ký Công dân học tập (3)");
    for (const n of ["Vàng Seo Dính", "Giàng A Páo", "Sùng Mí Lử"]) expect(names).toContain(n);
    expect(names).not.toContain("Lý Thị Mai");
    // Another unit's scoreboard is not theirs.
    expect(await f.head.pressData(`tg:v.${f.programme.id}.u${f.b.id}`)).toEqual(["[answer] Bạn không xem được bảng chỉ tiêu này."]);
    expect(await f.head.pressData(`tg:r.${f.programme.id}.${f.b.id}`)).toEqual(["[answer] Bạn không xem được bảng chỉ tiêu này."]);
    expect(await h.user(f.unregisteredA.dinh).send("/targets")).toEqual([expect.stringContaining("Chưa có bảng chỉ tiêu nào cho bạn.")]);
  });

  it("nudges exactly the unit's unregistered, unmuted members through the engine, once a day", async () => {
    const f = await fixture();
    await f.head.send("/targets");
    await f.head.press("Chưa đăng ký (3)");
    const confirm = (await f.head.press("Nhắc tất cả")).join("\n");
    expect(confirm).toContain("📣 Đơn vị Đồn Biên phòng A mời bạn đăng ký Công dân học tập: /start");
    expect(confirm).toContain("Gửi tới 2 người (bỏ qua 1 người đã tắt loại tin này hoặc đã chặn bot)");
    const sentReply = await f.head.press("📣 Gửi");
    expect(sentReply).toEqual(["✅ Đã gửi lời nhắc tới 2 người."]);
    const { dinh, pao, lu } = f.unregisteredA;
    await eventually(async () => h.fake.sent(dinh).length === 1 && h.fake.sent(pao).length === 1, "the nudge reaches both");
    expect(h.fake.lastText(dinh)).toBe("📣 Đơn vị Đồn Biên phòng A mời bạn đăng ký Công dân học tập: /start");
    const rows = await h.db.prisma.delivery.findMany({ where: { kind: UNIT_NUDGE_KIND, refId: { startsWith: `${f.a.id}.` } }, orderBy: { chatId: "asc" } });
    expect(rows.map((r) => Number(r.chatId)).sort()).toEqual([dinh, pao].sort());
    // Nobody else: the muted member, the head, the other unit's unregistered member, the school's, the registered.
    const nudges = (chat: number) => h.fake.sent(chat).filter((c) => c.method === "sendMessage" && String(c.payload.text ?? "").includes("mời bạn đăng ký"));
    for (const other of [lu, f.head.id, f.mai, f.schoolPerson, ...f.bPeople]) expect(nudges(other)).toEqual([]);
    expect(nudges(dinh)).toHaveLength(1);
    // The message's registration button is the start feature's.
    const sent = h.fake.sent(pao)[0]!;
    expect(JSON.stringify(sent.payload.reply_markup)).toContain("reg:start");
    const audit = await h.db.prisma.auditLog.findFirstOrThrow({ where: { action: "unit_nudge", actorId: BigInt(f.head.id) } });
    expect(audit.detail).toEqual({ unitId: f.a.id, count: 2 });
    // A second nudge within 24 hours is refused with when the next one is allowed.
    await f.head.send("/targets");
    await f.head.press("Chưa đăng ký (3)");
    const again = (await f.head.press("Nhắc tất cả")).join("\n");
    expect(again).toContain("Lần nhắc tiếp theo được gửi từ 10:00 02/12/2026.");
    expect((await f.head.pressData(`tg:ny.${f.programme.id}.${f.a.id}`)).join("\n")).toContain("Lần nhắc tiếp theo được gửi từ 10:00 02/12/2026.");
    // Officers of the province cannot send it.
    expect(await f.provincial.pressData(`tg:n.${f.programme.id}.${f.a.id}`)).toEqual(["[answer] Chỉ người phụ trách đơn vị mới xem được danh sách này."]);
  });

  it("draws the chart the 📊 button asks for, with buttons to switch the metric and to the year's line; forged charts refused", async () => {
    const f = await fixture();
    await f.provincial.send("/targets");
    const replies = await f.provincial.press("📊 Biểu đồ");
    const photo = h.fake.sent(f.provincial.id).filter((c) => c.method === "sendPhoto").at(-1)!;
    expect(replies.at(-1)).toContain("Công dân học tập");
    expect(String(photo.payload.caption)).toContain("Phối hợp Biên phòng – Khuyến học");
    expect(f.provincial.buttons()).toEqual(["• CDHT", "Hội viên", "ĐVHT", "GĐHT", "📈 Tiến độ trong năm"]);
    await f.provincial.press("Hội viên");
    const second = h.fake.sent(f.provincial.id).filter((c) => c.method === "sendPhoto").at(-1)!;
    expect(second).not.toBe(photo);
    expect(String(second.payload.caption)).toContain("hội viên khuyến học");
    await f.provincial.press("📈 Tiến độ trong năm");
    expect(f.provincial.buttons()).toContain("📊 Biểu đồ cột theo đơn vị");
    // Another province's officer forging the same button gets a refusal, no photo.
    const other = await officer(f.province.code === "01" ? "04" : "01");
    const before = h.fake.sent(other.id).filter((c) => c.method === "sendPhoto").length;
    const forged = packTargetChart({ programmeId: f.programme.id, scope: { kind: "programme" }, metric: "members", chart: "bar" });
    expect(await other.pressData(forged)).toEqual([expect.stringMatching(/^\[answer\] /)]);
    expect(h.fake.sent(other.id).filter((c) => c.method === "sendPhoto").length).toBe(before);
    expect(h.logged()).toEqual([]);
  });

  it("packs and unpacks the chart button within 64 bytes; forged chart data reads as nothing", () => {
    const data = packTargetChart({ programmeId: 123456789, scope: { kind: "unit", unitId: 987654321 }, metric: "learning_families", chart: "line" });
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    expect(unpackTargetChart(data)).toEqual({ programmeId: 123456789, scope: { kind: "unit", unitId: 987654321 }, metric: "learning_families", chart: "line" });
    expect(unpackTargetChart(packTargetChart({ programmeId: 1, scope: { kind: "commune", communeCode: "00004" }, metric: "members", chart: "bar" }))).toMatchObject({ scope: { kind: "commune", communeCode: "00004" } });
    expect(unpackTargetChart("tgc:1.p.learning_citizens.pie")).toBeUndefined();
    expect(unpackTargetChart("tgc:1.z9.learning_citizens.bar")).toBeUndefined();
  });
});
