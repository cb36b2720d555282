import { describe, expect, it } from "vitest";
import {
  birthYearSchema, firstErrorKey, fullNameSchema, needsGuardian, phoneSchema, unitNameSchema,
} from "../../src/domain/citizens/inputs.js";

describe("full name", () => {
  it("accepts Vietnamese names and normalises them to NFC with single spaces", () => {
    const decomposed = "Nguye\u0302\u0303n  Thi\u0323 Hoa"; // NFD, as some keyboards send it
    const r = fullNameSchema.parse(decomposed);
    expect(r).toBe("Nguyễn Thị Hoa");
    expect(r).toBe(r.normalize("NFC"));
    expect(fullNameSchema.parse("  H'Hen Niê ")).toBe("H'Hen Niê");
    expect(fullNameSchema.parse("Lò Văn-Páo")).toBe("Lò Văn-Páo");
  });

  it.each([
    ["A", "registration:errors.name_length"],
    ["x".repeat(101), "registration:errors.name_length"],
    ["Nguyễn Văn 3", "registration:errors.name_chars"],
    ["<b>Hoa</b>", "registration:errors.name_chars"],
    ["Hoa 😀", "registration:errors.name_chars"],
    ["'-", "registration:errors.name_letters"],
    ["A-", "registration:errors.name_letters"],
  ])("rejects %j with %s", (input, key) => {
    const r = fullNameSchema.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(firstErrorKey(r.error)).toBe(key);
  });
});

describe("birth year", () => {
  const schema = birthYearSchema(2026);
  it("accepts 1900 to the current year", () => {
    expect(schema.parse("1900")).toBe(1900);
    expect(schema.parse(" 2026 ")).toBe(2026);
  });
  it.each([
    ["1899", "registration:errors.year_range"],
    ["2027", "registration:errors.year_range"],
    ["85", "registration:errors.year_format"],
    ["năm 1985", "registration:errors.year_format"],
    ["1985.5", "registration:errors.year_format"],
  ])("rejects %j with %s", (input, key) => {
    const r = schema.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(firstErrorKey(r.error)).toBe(key);
  });
  it("asks for a guardian whenever the person may still be under 16", () => {
    expect(needsGuardian(2010, 2026)).toBe(true); // 15 or 16 this year
    expect(needsGuardian(2009, 2026)).toBe(false); // 16 or 17
  });
});

describe("unit name and phone", () => {
  it("accepts unit names with digits and punctuation", () => {
    expect(unitNameSchema.parse("Đồn Biên phòng Lũng Cú (Tuyên Quang)")).toBe("Đồn Biên phòng Lũng Cú (Tuyên Quang)");
    expect(unitNameSchema.safeParse("<script>").success).toBe(false);
    expect(unitNameSchema.safeParse("x").success).toBe(false);
  });
  it("stores phone numbers with a leading +", () => {
    expect(phoneSchema.parse("84912345678")).toBe("+84912345678");
    expect(phoneSchema.parse("+84 912 345 678")).toBe("+84912345678");
    expect(phoneSchema.safeParse("12ab").success).toBe(false);
  });
});

describe("names that would render wrong or impersonate", () => {
  it.each([
    ["\u3164\u3164", "registration:errors.name_chars"], // Hangul fillers: blank on screen
    ["Hoa\u3164", "registration:errors.name_chars"],
    [`Ho${"\u0301".repeat(90)}a`, "registration:errors.name_chars"], // stacked combining marks
    ["Nguy\u0435n Văn An", "registration:errors.name_scripts"], // Cyrillic "е" inside a Latin name
    ["Trần 小明", "registration:errors.name_scripts"],
  ])("refuses %j", (input, key) => {
    const r = fullNameSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe(key);
  });

  it.each(["Nguyễn Thị Hoa", "Lò Văn Páo", "Hờ A Dính", "李小明", "Ksor H'Bia", "Nguyê\u0303n Văn An"])("accepts %j", (name) => {
    expect(fullNameSchema.safeParse(name).success).toBe(true);
  });
});
