import { describe, expect, it } from "vitest";
import { bodyOfKind, formatPercent, gapTo, newToken, UNIT_JOIN_PAYLOAD, unitNameKey, unitPlaceInScope } from "../../src/domain/units/model.js";

describe("units model", () => {
  it("writes percentages the Vietnamese way and counts the people still missing", () => {
    expect(formatPercent(3, 8, "vi")).toBe("37,5%");
    expect(formatPercent(3, 8, "en")).toBe("37.5%");
    expect(formatPercent(8, 8, "vi")).toBe("100%");
    expect(formatPercent(1, 3, "vi")).toBe("33,3%");
    expect(formatPercent(2, 3, "vi")).toBe("66,7%");
    expect(formatPercent(0, 0, "vi")).toBe("—");
    // 100% of 120 with 83 registered: 37 to go; 80% of 120 = 96: 13 to go; reached: 0.
    expect(gapTo(100, 83, 120)).toBe(37);
    expect(gapTo(80, 83, 120)).toBe(13);
    expect(gapTo(80, 100, 120)).toBe(0);
    // 90% of 7 people is 6.3: 7 are needed.
    expect(gapTo(90, 6, 7)).toBe(1);
  });

  it("compares unit names without case, diacritics or punctuation, and scopes officers by place", () => {
    expect(unitNameKey("Đồn Biên phòng  Cát Bà")).toBe(unitNameKey("don bien phong cat ba"));
    expect(unitNameKey("Trường THCS A")).not.toBe(unitNameKey("Trường THCS B"));
    const place = { provinceCode: "31", communeCode: "11311" };
    expect(unitPlaceInScope({ role: "admin", scope: {} }, place)).toBe(true);
    expect(unitPlaceInScope({ role: "officer", scope: { provinceCode: "31" } }, place)).toBe(true);
    expect(unitPlaceInScope({ role: "officer", scope: { provinceCode: "31", communeCode: "11311" } }, place)).toBe(true);
    expect(unitPlaceInScope({ role: "officer", scope: { provinceCode: "31", communeCode: "11312" } }, place)).toBe(false);
    expect(unitPlaceInScope({ role: "officer", scope: { provinceCode: "01" } }, place)).toBe(false);
    expect(unitPlaceInScope({ role: "member", scope: { provinceCode: "31" } }, place)).toBe(false);
    expect(bodyOfKind("border_post")).toBe("border_guard");
    expect(bodyOfKind("school")).toBe("other");
    const token = newToken();
    expect(UNIT_JOIN_PAYLOAD.test(`u_${token}`)).toBe(true);
    expect(newToken()).not.toBe(token);
  });
});
