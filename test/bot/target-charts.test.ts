import { Bot } from "grammy";
import { describe, expect, it } from "vitest";
import type { BotContext } from "../../src/bot/context.js";
import { replyTargetChart, targetChart, targetChartDeps, targetChartSpec, type TargetChartArgs } from "../../src/bot/features/target-charts.js";
import { progressLineSvg, targetBarsSvg } from "../../src/domain/targets/charts.js";
import type { ProgrammeView } from "../../src/domain/targets/figures.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { ManualClock } from "../support/delivery.js";
import { useHarness } from "../support/harness.js";
import { command, createFakeFetch, DEFAULT_BOT_TOKEN, makeUser, privateChat } from "../support/telegram/index.js";

// The chart photos behind /targets' "📊" button: the figures of the scoreboard drawn as bars worst
// first (by commune for large programmes, cut at thirty with "… and N more"), the progress line
// from the daily snapshots ending at today's figure, a caption naming the scope, and the photo sent
// with "sending a photo…" shown meanwhile, or a localised "try again" when drawing fails.

const clock = new ManualClock(fromVnWallTime(2026, 6, 15, 10, 0).getTime());
const h = useHarness({ now: clock.now });

let nextId = 9_990_000;
let unitSeq = 0;
let provinceIndex = 41;

async function province(): Promise<{ code: string; communes: string[] }> {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[provinceIndex++ % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 3 });
  return { code: p.code, communes: communes.map((c) => c.code) };
}

async function programme(at: { code: string }): Promise<ProgrammeView> {
  const p = await h.db.prisma.programme.create({
    data: {
      name: `Chương trình phối hợp Hội Khuyến học & Bộ đội Biên phòng ${at.code}`, provinceCode: at.code, bodies: ["border_guard"], startYear: 2024, endYear: 2030,
      targets: { create: [{ metric: "learning_citizens", year: 0, percent: 80 }] },
    },
  });
  return (await h.deps.services.targetFigures.programme(p.id))!;
}

/** A unit of `headcount` people, `registered` of whom joined and registered. */
async function unit(at: { code: string }, commune: string, name: string, headcount: number, registered: number): Promise<number> {
  const n = ++unitSeq;
  const u = await h.db.prisma.unit.create({
    data: { name, nameKey: `tc ${n}`, kind: "border_post", body: "border_guard", provinceCode: at.code, communeCode: commune, headcount, joinToken: `tc-token-${String(n).padStart(16, "0")}` },
  });
  for (let i = 0; i < registered; i++) {
    const id = BigInt(++nextId);
    await h.db.prisma.user.create({ data: { id } });
    await h.db.prisma.unitMember.create({ data: { unitId: u.id, userId: id, displayName: `Người ${id}`, joinedAt: clock.now() } });
    await h.db.prisma.learningCitizen.create({
      data: { userId: id, registrationNumber: `TC-${id}`, fullName: `Sùng A ${id}`, birthYear: 1990, provinceCode: at.code, communeCode: commune, affiliation: "border_guard", goals: [], registeredAt: clock.now() },
    });
  }
  return u.id;
}

/** The text of every <text> element of an SVG, in document order. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
}

const PNG_SIGNATURE = "89504e470d0a1a0a";
const deps = () => targetChartDeps(h.deps);
const args = (programme: ProgrammeView, more: Partial<TargetChartArgs> = {}): TargetChartArgs => ({
  programme, scope: { kind: "programme" }, metric: "learning_citizens", kind: "bar", locale: "vi", year: 2026, ...more,
});

describe("target charts", () => {
  it("draw the units worst first against the target, as a PNG whose caption names the scope", async () => {
    const at = await province();
    const p = await programme(at);
    await unit(at, at.communes[0]!, "Đồn Biên phòng Ka Lăng", 10, 5);
    await unit(at, at.communes[0]!, "Đồn Biên phòng Mù Cả", 10, 1);
    await unit(at, at.communes[1]!, "Đồn Biên phòng Pa Tần", 10, 8);

    const chart = await targetChart(deps(), args(p));
    expect(chart.png.subarray(0, 8).toString("hex")).toBe(PNG_SIGNATURE);
    expect(chart.caption).toBe(`📊 <b>Tỷ lệ đăng ký Công dân học tập theo đơn vị — 2026</b>\ntoàn chương trình · Chương trình phối hợp Hội Khuyến học &amp; Bộ đội Biên phòng ${at.code}`);

    const spec = await targetChartSpec(deps(), args(p));
    if (spec.kind !== "bar") throw new Error("expected a bar chart");
    const svg = texts(await targetBarsSvg(spec.input));
    const order = ["Đồn Biên phòng Mù Cả", "Đồn Biên phòng Ka Lăng", "Đồn Biên phòng Pa Tần"].map((name) => svg.indexOf(name));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(svg).toEqual(expect.arrayContaining(["10%", "50%", "80%", "Chỉ tiêu 80%"]));

    // One commune: its official name in the caption, only its units.
    const commune = await h.db.prisma.commune.findUniqueOrThrow({ where: { code: at.communes[0]! } });
    const byCommune = await targetChart(deps(), args(p, { scope: { kind: "commune", communeCode: at.communes[0]! }, locale: "en" }));
    expect(byCommune.caption).toContain(`Share registered as learning citizens by unit — 2026</b>\n${commune.name} · `);
  });

  it("draw communes for a programme of more than thirty units, and cut a long list with \"… và N đơn vị khác\"", async () => {
    const at = await province();
    const p = await programme(at);
    for (let i = 0; i < 33; i++) await unit(at, at.communes[i % 3 === 0 ? 0 : 1]!, `Đội công tác số ${String(i + 1).padStart(2, "0")}`, 20, i % 5);
    const whole = await targetChartSpec(deps(), args(p));
    if (whole.kind !== "bar") throw new Error("expected a bar chart");
    expect(whole.input.text.title).toBe("Tỷ lệ đăng ký Công dân học tập theo xã, phường — 2026");
    expect(whole.input.bars).toHaveLength(2);
    const one = await targetChartSpec(deps(), args(p, { scope: { kind: "commune", communeCode: at.communes[1]! } }));
    if (one.kind !== "bar") throw new Error("expected a bar chart");
    expect(one.input.bars).toHaveLength(22);
    const all = await targetChartSpec(deps(), args(p, { scope: { kind: "commune", communeCode: at.communes[0]! } }));
    expect(all.caption).not.toContain("khác");
    // A unit with the 32 others under it: 33 bars, cut at thirty.
    const parent = await h.db.prisma.unit.findFirstOrThrow({ where: { provinceCode: at.code }, orderBy: { id: "asc" } });
    await h.db.prisma.unit.updateMany({ where: { provinceCode: at.code, id: { not: parent.id } }, data: { parentId: parent.id } });
    const tree = await targetChartSpec(deps(), args(p, { scope: { kind: "unit", unitId: parent.id } }));
    if (tree.kind !== "bar") throw new Error("expected a bar chart");
    expect(tree.input.bars).toHaveLength(30);
    expect(tree.caption.split("\n").at(-1)).toBe("… và 3 đơn vị khác");
    expect(tree.input.bars[0]!.valueLabel).toBe("0%");
  });

  it("draw the year's progress from the snapshots up to today's figure, with no target line where the programme sets none", async () => {
    const at = await province();
    const p = await programme(at);
    const a = await unit(at, at.communes[0]!, "Đồn Biên phòng Si Pa Phìn", 10, 2);
    clock.set(fromVnWallTime(2026, 3, 1, 20, 0));
    await h.deps.services.targetSnapshots.take();
    clock.set(fromVnWallTime(2026, 6, 15, 10, 0));
    await unit(at, at.communes[0]!, "Đồn Biên phòng Chà Cang", 10, 6);

    const spec = await targetChartSpec(deps(), args(p, { kind: "line" }));
    if (spec.kind !== "line") throw new Error("expected a line chart");
    expect(spec.input.series[0]!.points).toEqual([{ day: "2026-03-01", value: 20 }, { day: "2026-06-15", value: 40 }]);
    expect(texts(await progressLineSvg(spec.input))).toEqual(expect.arrayContaining(["Chỉ tiêu 80%", "40%"]));
    const line = await targetChart(deps(), args(p, { kind: "line", scope: { kind: "unit", unitId: a } }));
    expect(line.png.subarray(0, 8).toString("hex")).toBe(PNG_SIGNATURE);
    expect(line.caption).toContain("Đồn Biên phòng Si Pa Phìn");

    // Learning units: no target in this programme, so no target line.
    const noTarget = await targetChartSpec(deps(), args(p, { metric: "learning_units" }));
    if (noTarget.kind !== "bar") throw new Error("expected a bar chart");
    expect(noTarget.input.target).toBeUndefined();
    expect(texts(await targetBarsSvg(noTarget.input)).some((t) => t.startsWith("Chỉ tiêu"))).toBe(false);
  });

  it("send the photo in the chat with \"sending a photo…\" shown, and say so when it cannot be drawn", async () => {
    const at = await province();
    const p = await programme(at);
    await unit(at, at.communes[0]!, "Đồn Biên phòng Nậm Cắn", 10, 3);
    // A bot of the test's own with the real deps: the /targets button calls the same function.
    const bot = new Bot<BotContext>(DEFAULT_BOT_TOKEN, { botInfo: h.fake.botInfo, client: { fetch: createFakeFetch(h.fake), apiRoot: "http://fake-telegram.invalid" } });
    bot.use((ctx, next) => {
      Object.assign(ctx, { deps: h.deps, logger: h.deps.logger, t: h.deps.i18n.t("vi"), locale: "vi" });
      return next();
    });
    let chartArgs = args(p);
    bot.command("chart", (ctx) => replyTargetChart(ctx, chartArgs));
    const user = makeUser(++nextId);
    h.fake.registerChat(user.id, privateChat(user));
    let updateId = 1;
    const send = async () => {
      const mark = h.fake.calls.length;
      const update = { ...command(user, "/chart"), update_id: updateId++ };
      h.fake.registerUpdate(update);
      await bot.handleUpdate(update as never);
      return h.fake.calls.slice(mark).filter((c) => c.ok).map((c) => ({ method: c.method, action: c.payload.action, text: c.payload.text ?? c.payload.caption }));
    };

    const calls = await send();
    expect(calls[0]).toMatchObject({ method: "sendChatAction", action: "upload_photo" });
    expect(calls.at(-1)).toMatchObject({ method: "sendPhoto" });
    expect(String(calls.at(-1)!.text)).toContain("toàn chương trình");

    chartArgs = args(p, { kind: "line", year: -1 }); // the database refuses a year before the era
    const failed = await send();
    expect(failed.at(-1)).toEqual({ method: "sendMessage", action: undefined, text: "Không vẽ được biểu đồ lúc này. Bạn thử lại sau ít phút nhé." });
    expect(failed.some((c) => c.method === "sendPhoto")).toBe(false);
  });
});
