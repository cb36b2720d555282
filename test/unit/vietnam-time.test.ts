import { describe, expect, it } from "vitest";
import { formatDate, formatDateTime } from "../../src/bot/format/dates.js";
import { fromVnWallTime, parseVnDateTime } from "../../src/domain/time/vietnam-time.js";

// 10:00 on 28/11/2026 in Vietnam.
const now = new Date("2026-11-28T03:00:00Z");

describe("dates and times typed the Vietnamese way (Asia/Ho_Chi_Minh)", () => {
  it.each([
    ["20/12 8:00", [2026, 12, 20, 8, 0]],
    ["8h ngày 20/12", [2026, 12, 20, 8, 0]],
    ["20/12/2026 08:30", [2026, 12, 20, 8, 30]],
    ["8h30 20-12", [2026, 12, 20, 8, 30]],
    ["14 giờ 20.12.2026", [2026, 12, 20, 14, 0]],
    ["2pm 20/12", [2026, 12, 20, 14, 0]],
    ["lúc 7 giờ tối 1/1", [2027, 1, 1, 19, 0]],
    ["15:00 28/11", [2026, 11, 28, 15, 0]],
    ["9:00 28/11", [2027, 11, 28, 9, 0]], // this morning has passed: next year's
  ] as const)("reads %j", (typed, [y, mo, d, h, mi]) => {
    const r = parseVnDateTime(typed, now);
    expect(r).toEqual({ ok: true, at: fromVnWallTime(y, mo, d, h, mi) });
  });

  it.each([
    ["ngày mai", "format"],
    ["20/12", "format"],
    ["8:00", "format"],
    ["31/11 8:00", "invalid_date"],
    ["29/2/2027 8:00", "invalid_date"],
    ["20/12 25:00", "invalid_date"],
    ["20/12/2025 8:00", "past"],
    ["20/12 8:00 và thêm chữ", "format"],
  ])("refuses %j (%s)", (typed, reason) => {
    expect(parseVnDateTime(typed, now)).toEqual({ ok: false, reason });
  });

  it("writes dates one way everywhere: '14:16 ngày 01/12/2026'", () => {
    const at = new Date("2026-12-01T07:16:52Z");
    expect(formatDateTime(at, "vi")).toBe("14:16 ngày 01/12/2026");
    expect(formatDateTime(at, "en")).toBe("14:16 on 01/12/2026");
    // Just after midnight in Vietnam is still the previous day in UTC.
    expect(formatDate("2026-12-31T17:30:00Z", "vi")).toBe("01/01/2027");
  });
});
