import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  chartFontFiles,
  progressLineSvg,
  renderProgressLine,
  renderTargetBars,
  targetBarsSvg,
  type BarDatum,
  type ChartText,
} from "../../src/domain/targets/charts.js";

const text: ChartText = {
  title: "Tỉ lệ hội viên khuyến học theo đơn vị",
  subtitle: "Tỉnh Lào Cai · 2026",
  targetLabel: "Chỉ tiêu 80%",
  empty: "Chưa có số liệu",
};

const POST = "Đồn Biên phòng Cửa khẩu Quốc tế Lào Cai";

function bars(count: number): BarDatum[] {
  return Array.from({ length: count }, (_, i) => {
    const value = (i * 37) % 101;
    return { label: i % 2 ? "Xã Bát Xát" : POST, value, valueLabel: `${value},5%` };
  });
}

function decode(png: Buffer) {
  // The signature and an IHDR chunk first, as Telegram expects of a photo.
  expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  expect(png.subarray(12, 16).toString("ascii")).toBe("IHDR");
  const image = PNG.sync.read(png);
  expect(image.width).toBe(png.readUInt32BE(16));
  expect(image.height).toBe(png.readUInt32BE(20));
  return image;
}

/** Pixels in rows [top, bottom) with every channel below `below`: 100 is the title's ink, 200 any grey text. */
function darkPixels(image: PNG, top: number, bottom: number, below = 100): number {
  let count = 0;
  for (let y = top; y < Math.min(bottom, image.height); y++) {
    for (let x = 0; x < image.width; x++) {
      const at = (y * image.width + x) * 4;
      if (image.data[at]! < below && image.data[at + 1]! < below && image.data[at + 2]! < below) count++;
    }
  }
  return count;
}

/** The text of every <text> element, unescaped, in document order. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&"),
  );
}

describe("target bar chart", () => {
  it("is a PNG 1000 px wide whose height grows with the bar count, within Telegram's photo limits", async () => {
    const heights: number[] = [];
    for (const count of [1, 10, 30]) {
      const image = decode(await renderTargetBars({ text, target: 80, bars: bars(count) }));
      expect(image.width).toBe(1000);
      expect(image.width + image.height).toBeLessThanOrEqual(10_000);
      expect(image.height / image.width).toBeLessThanOrEqual(20);
      heights.push(image.height);
    }
    expect(heights[1]! - heights[0]!).toBeGreaterThan(9 * 30);
    expect(heights[2]! - heights[1]!).toBeGreaterThan(20 * 30);
  });

  it("writes the Vietnamese labels, the target and the value labels in the order given, long labels cut at 40 characters", async () => {
    const long = "Trường Trung học phổ thông số 1 huyện Bảo Thắng, tỉnh Lào Cai";
    const svg = await targetBarsSvg({
      text,
      target: 80,
      bars: [
        { label: "Xã Bát Xát", value: 37.5, valueLabel: "37,5%" },
        { label: POST, value: 12, valueLabel: "12%" },
        { label: long, value: 91, valueLabel: "91%" },
        { label: "Công an xã <Y Tý> & Cốc Mỳ", value: 80, valueLabel: "80%" },
      ],
    });
    const shown = texts(svg);
    expect(shown).toContain(text.title);
    expect(shown).toContain(text.subtitle);
    expect(shown).toContain("Chỉ tiêu 80%");
    // Not re-sorted: the caller's order (worst first by its own rule) is kept.
    const order = ["Xã Bát Xát", POST, "Trường Trung học phổ thông số 1 huyện B…", "Công an xã <Y Tý> & Cốc Mỳ"];
    expect(shown.filter((t) => order.includes(t))).toEqual(order);
    expect(Array.from(order[2]!)).toHaveLength(40);
    expect(shown.some((t) => t.includes("Bảo Thắng"))).toBe(false);
    for (const label of ["37,5%", "12%", "91%", "80%"]) expect(shown).toContain(label);
    // Whole-number ticks on the percent axis.
    for (const tick of ["0%", "20%", "40%", "60%", "80%", "100%"]) expect(shown).toContain(tick);
    // Two bars below the target in one colour, two at or above it in another.
    expect(svg.match(/<path[^>]*fill="#e76f51"/g)).toHaveLength(2);
    expect(svg.match(/<path[^>]*fill="#2a9d8f"/g)).toHaveLength(2);
  });

  it("says there is no data when there are no bars", async () => {
    const svg = await targetBarsSvg({ text, target: 80, bars: [] });
    expect(texts(svg)).toEqual(expect.arrayContaining([text.title, "Chưa có số liệu"]));
    const image = decode(await renderTargetBars({ text, target: 80, bars: [] }));
    expect(image.width).toBe(1000);
    // The message is drawn, not only written into the SVG.
    const withoutMessage = decode(await renderTargetBars({ text: { ...text, empty: "" }, target: 80, bars: [] }));
    expect(image.height).toBe(withoutMessage.height);
    expect(darkPixels(withoutMessage, 100, image.height, 200)).toBe(0);
    expect(darkPixels(image, 100, image.height, 200)).toBeGreaterThan(200);
  });

  it("gives the same bytes for the same input, whatever was drawn in between", async () => {
    const input = { text, target: 80, bars: bars(12) };
    const first = await renderTargetBars(input);
    await renderProgressLine({ text, target: 80, locale: "vi", year: 2026, series: [{ name: "A", points: [{ day: "2026-02-01", value: 10 }] }] });
    await renderTargetBars({ text, target: 50, bars: bars(3) });
    expect((await renderTargetBars(input)).equals(first)).toBe(true);
  });
});

describe("Vietnamese glyphs", () => {
  it("draws the title's letters in the title's band, with no system font", async () => {
    const withTitle = await renderTargetBars({ text: { ...text, title: `${POST} – Xã Bát Xát`, subtitle: undefined }, target: 80, bars: bars(2) });
    const without = await renderTargetBars({ text: { ...text, title: "", subtitle: undefined }, target: 80, bars: bars(2) });
    expect(withTitle.equals(without)).toBe(false);
    const titled = decode(withTitle);
    const plain = decode(without);
    // The title sits in the top 50 px; an untitled chart has nothing dark there.
    expect(darkPixels(titled, 0, 50)).toBeGreaterThan(1500);
    expect(darkPixels(plain, 0, 50)).toBe(0);
  });

  it("draws each accented letter as its own glyph, not the one missing-glyph box", async () => {
    // A font without these letters draws every one of them as the same .notdef box; the shipped font
    // draws "ồ", "ộ" and "Đ" differently from each other and from a character no font has.
    const draw = async (title: string) => decode(await renderTargetBars({ text: { ...text, title, subtitle: undefined }, target: 80, bars: [] }));
    const band = (image: PNG) => image.data.subarray(0, image.width * 4 * 50);
    const [o1, o2, d, missing] = await Promise.all(["ồồồồ", "ộộộộ", "ĐĐĐĐ", "\uE000\uE000\uE000\uE000"].map(draw));
    expect(darkPixels(o1!, 0, 50)).toBeGreaterThan(100);
    expect(band(o1!).equals(band(o2!))).toBe(false);
    expect(band(o1!).equals(band(d!))).toBe(false);
    expect(band(o1!).equals(band(missing!))).toBe(false);
    expect(band(o2!).equals(band(missing!))).toBe(false);
  });

  it("finds the font files in node_modules from the module's own location", () => {
    const files = chartFontFiles();
    expect(files).toHaveLength(2);
    for (const file of files) {
      expect(file.endsWith(".ttf")).toBe(true);
      expect(existsSync(file)).toBe(true);
    }
    expect(files[0]).toBe(createRequire(import.meta.url).resolve("@expo-google-fonts/be-vietnam-pro/400Regular/BeVietnamPro_400Regular.ttf"));
  });
});

describe("progress line chart", () => {
  const series = [{ name: "Hội viên", points: [{ day: "2026-03-31", value: 20 }, { day: "2026-01-31", value: 10 }, { day: "2026-06-30", value: 37.5 }] }];

  it("labels the twelve months in Vietnamese or English, whole-percent ticks and the target", async () => {
    const vi = texts(await progressLineSvg({ text, target: 80, locale: "vi", year: 2026, series }));
    expect(vi.filter((t) => /^Th\d+$/.test(t))).toEqual(["Th1", "Th2", "Th3", "Th4", "Th5", "Th6", "Th7", "Th8", "Th9", "Th10", "Th11", "Th12"]);
    for (const tick of ["0%", "20%", "40%", "60%", "80%", "100%"]) expect(vi).toContain(tick);
    expect(vi).toContain("Chỉ tiêu 80%");
    // The latest figure, with a decimal comma in Vietnamese and a point in English.
    expect(vi).toContain("37,5%");
    const en = texts(await progressLineSvg({ text: { ...text, targetLabel: "Target 80%" }, target: 80, locale: "en", year: 2026, series }));
    expect(en.filter((t) => /^[A-Z][a-z]{2}$/.test(t))).toEqual(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]);
    expect(en).toContain("37.5%");
    expect(en).toContain("Target 80%");
  });

  it("names several series in a legend with their latest figure", async () => {
    const shown = texts(
      await progressLineSvg({
        text,
        target: 80,
        locale: "vi",
        year: 2026,
        series: [...series, { name: "Công dân học tập", points: [{ day: "2026-02-28", value: 5 }, { day: "2026-05-31", value: 42 }] }],
      }),
    );
    expect(shown).toContain("Hội viên · 37,5%");
    expect(shown).toContain("Công dân học tập · 42%");
  });

  it("is a PNG 1000 px wide, identical for the same input", async () => {
    const input = { text, target: 80, locale: "vi" as const, year: 2026, series };
    const first = await renderProgressLine(input);
    expect(decode(first).width).toBe(1000);
    expect((await renderProgressLine(input)).equals(first)).toBe(true);
  });

  it("says there is no data when no point falls in the year, and refuses a day that is not a date", async () => {
    const svg = await progressLineSvg({ text, target: 80, locale: "vi", year: 2027, series });
    expect(texts(svg)).toContain("Chưa có số liệu");
    expect(texts(svg).some((t) => t.startsWith("Th"))).toBe(false);
    await expect(progressLineSvg({ text, target: 80, locale: "vi", year: 2026, series: [{ name: "x", points: [{ day: "2026-02-30", value: 1 }] }] })).rejects.toThrow(RangeError);
  });
});
