import { describe, expect, it } from "vitest";
import {
  canManageRound, checkRoundDates, daysUntil, firstRoundReminderAt, formatDay, formatVnd, parseNominationStatusRef, parseRoundNoticeRef,
  parseRoundReminderRef, parseVnDate, readRules, roundPhase, roundReminderRef, slotTime, studentKey,
} from "../../src/domain/scholarships/model.js";
import { gradesFor, nextQuestion, verdict } from "../../src/domain/scholarships/eligibility.js";

// 28/11/2026 10:00 in Vietnam.
const now = new Date("2026-11-28T03:00:00Z");
const day = (s: string) => new Date(`${s}T00:00:00Z`);
const parsed = (input: string, opts = {}) => {
  const r = parseVnDate(input, now, opts);
  return r.ok ? formatDay(r.day) : r.reason;
};

describe("scholarship dates", () => {
  it("reads a day typed the ways people write it", () => {
    expect(parsed("20/12/2026")).toBe("20/12/2026");
    expect(parsed("20-12-26")).toBe("20/12/2026");
    expect(parsed("20.12")).toBe("20/12/2026");
    expect(parsed("5/1")).toBe("05/01/2027");
    expect(parsed("ngày 20 tháng 12 năm 2026")).toBe("20/12/2026");
    expect(parsed("20 tháng 12")).toBe("20/12/2026");
    expect(parsed("2026-12-20")).toBe("20/12/2026");
    expect(parsed("28/11")).toBe("28/11/2026");
  });

  it("refuses what is not a day, a day that does not exist, the past and typos of the year", () => {
    expect(parsed("next friday")).toBe("format");
    expect(parsed("31/11/2026")).toBe("invalid_date");
    expect(parsed("29/2/2027")).toBe("invalid_date");
    expect(parsed("27/11/2026")).toBe("past");
    expect(parsed("27/11/2026", { allowPast: true })).toBe("27/11/2026");
    expect(parsed("20/12/2062")).toBe("too_far");
    expect(parsed("13/13/2026")).toBe("invalid_date");
  });

  it("orders a round's days and counts down in Vietnam's calendar", () => {
    expect(checkRoundDates({ opensOn: day("2026-12-10"), deadlineOn: day("2026-12-01"), awardOn: day("2027-01-01") }, now)).toBe("deadline_before_open");
    expect(checkRoundDates({ opensOn: day("2026-12-01"), deadlineOn: day("2026-12-10"), awardOn: day("2026-12-09") }, now)).toBe("award_before_deadline");
    expect(checkRoundDates({ opensOn: day("2026-11-01"), deadlineOn: day("2026-11-20"), awardOn: day("2026-12-09") }, now)).toBe("deadline_past");
    expect(checkRoundDates({ opensOn: day("2026-11-01"), deadlineOn: day("2026-12-03"), awardOn: day("2026-12-09") }, now)).toBeUndefined();
    expect(daysUntil(day("2026-12-03"), now)).toBe(5);
    // 23:30 on 28/11 in Vietnam is still the 28th.
    expect(daysUntil(day("2026-11-29"), new Date("2026-11-28T16:30:00Z"))).toBe(1);
    const round = { state: "active", opensOn: day("2026-12-01"), deadlineOn: day("2026-12-10") };
    expect(roundPhase(round, now)).toBe("upcoming");
    expect(roundPhase(round, new Date("2026-11-30T17:00:00Z"))).toBe("open");
    expect(roundPhase(round, new Date("2026-12-10T16:59:00Z"))).toBe("open");
    expect(roundPhase(round, new Date("2026-12-10T17:00:00Z"))).toBe("closed");
    expect(roundPhase({ ...round, state: "cancelled" }, now)).toBe("cancelled");
  });

  it("puts reminders at 8:00 Vietnam time on the opening day and 7 and 1 days before the deadline", () => {
    const d = { opensOn: day("2026-12-01"), deadlineOn: day("2026-12-20") };
    expect(slotTime("open", d).at.toISOString()).toBe("2026-12-01T01:00:00.000Z");
    expect(slotTime("7d", d).at.toISOString()).toBe("2026-12-13T01:00:00.000Z");
    expect(slotTime("1d", d).at.toISOString()).toBe("2026-12-19T01:00:00.000Z");
    expect(firstRoundReminderAt(d, now)?.toISOString()).toBe("2026-12-01T01:00:00.000Z");
    expect(firstRoundReminderAt(d, new Date("2026-12-19T02:00:00Z"))).toBeNull();
    const ref = roundReminderRef(7, "7d", d.deadlineOn);
    expect(parseRoundReminderRef(ref)).toEqual({ roundId: 7, slot: "7d", day: 20807 });
    expect(parseRoundReminderRef("shr.7.2d.20807")).toBeUndefined();
    expect(parseRoundNoticeRef("shn.3.extended.20810")).toEqual({ roundId: 3, event: "extended", stamp: 20810 });
    expect(parseNominationStatusRef("shs.9.awarded.123")).toEqual({ nominationId: 9, status: "awarded", stamp: 123 });
  });
});

describe("scholarship rules, access and formats", () => {
  it("reads stored rules forgivingly and refuses a reversed grade range", () => {
    expect(readRules({ levels: ["primary"] })).toMatchObject({ levels: ["primary"], communeCodes: [], circumstances: [], circumstancesMode: "any" });
    expect(readRules({ gradeMin: 9, gradeMax: 3 }).gradeMin).toBeUndefined();
    expect(readRules(null).levels).toEqual([]);
  });

  it("lets admins run every round and province officers their province's only", () => {
    const round = { provinceCode: "31" };
    expect(canManageRound({ role: "admin", scope: {} }, { provinceCode: null })).toBe(true);
    expect(canManageRound({ role: "officer", scope: { provinceCode: "31" } }, round)).toBe(true);
    expect(canManageRound({ role: "officer", scope: { provinceCode: "01" } }, round)).toBe(false);
    expect(canManageRound({ role: "officer", scope: { provinceCode: "31", communeCode: "11311" } }, round)).toBe(false);
    expect(canManageRound({ role: "officer", scope: { provinceCode: "31" } }, { provinceCode: null })).toBe(false);
    expect(canManageRound({ role: "member", scope: { provinceCode: "31" } }, round)).toBe(false);
  });

  it("treats one student typed two ways as one and writes money the local way", () => {
    expect(studentKey("Nguyễn Văn  An", 2014)).toBe(studentKey("nguyen van an", 2014));
    expect(studentKey("Nguyễn Văn An", 2014)).not.toBe(studentKey("Nguyễn Văn An", 2015));
    expect(formatVnd(2_000_000n, "vi")).toBe("2.000.000 đồng");
    expect(formatVnd(2_000_000, "en")).toBe("2,000,000 VND");
  });
});

describe("am I eligible?", () => {
  const rules = readRules({ levels: ["primary", "lower_secondary"], gradeMin: 3, gradeMax: 7, circumstances: ["poor", "near_poor"], circumstancesMode: "any" });

  it("asks level, grade within the level, place, then each circumstance", () => {
    expect(nextQuestion(rules, "31", {})).toMatchObject({ kind: "level" });
    expect(nextQuestion(rules, "31", { level: "primary" })).toEqual({ kind: "grade", options: [1, 2, 3, 4, 5] });
    expect(nextQuestion(rules, "31", { level: "primary", grade: 4 })).toMatchObject({ kind: "place", provinceCode: "31" });
    expect(nextQuestion(rules, "31", { level: "primary", grade: 4, place: "yes" })).toEqual({ kind: "circumstance", circumstance: "poor" });
    expect(nextQuestion(rules, "31", { level: "primary", grade: 4, place: "yes", circumstances: { poor: "no" } })).toEqual({ kind: "circumstance", circumstance: "near_poor" });
    expect(nextQuestion(rules, "31", { level: "primary", grade: 4, place: "yes", circumstances: { poor: "no", near_poor: "yes" } })).toBeUndefined();
  });

  it("says yes, no with the failed rule, or maybe with what was left open", () => {
    expect(verdict(rules, "31", { level: "primary", grade: 4, place: "yes", circumstances: { poor: "no", near_poor: "yes" } })).toEqual({ result: "yes", because: [] });
    expect(verdict(rules, "31", { level: "upper_secondary" })).toEqual({ result: "no", because: [{ rule: "level", outcome: "fail" }] });
    expect(verdict(rules, "31", { level: "primary", grade: 2 })).toEqual({ result: "no", because: [{ rule: "grade", outcome: "fail" }] });
    expect(verdict(rules, "31", { level: "primary", grade: 4, place: "yes", circumstances: { poor: "no", near_poor: "no" } }))
      .toEqual({ result: "no", because: [{ rule: "circumstances", outcome: "fail" }] });
    expect(verdict(rules, "31", { level: "primary", grade: 4, place: "unsure", circumstances: { poor: "no", near_poor: "unsure" } }))
      .toEqual({ result: "maybe", because: [{ rule: "place", outcome: "unsure" }, { rule: "near_poor", outcome: "unsure" }] });
    // A clear no ends the questions at once.
    expect(nextQuestion(rules, "31", { level: "university" })).toBeUndefined();
  });

  it("needs every circumstance in mode all, and nothing at all for a round without rules", () => {
    const all = readRules({ circumstances: ["poor", "border_commune"], circumstancesMode: "all" });
    expect(verdict(all, null, { circumstances: { poor: "yes", border_commune: "no" } })).toEqual({ result: "no", because: [{ rule: "border_commune", outcome: "fail" }] });
    expect(verdict(all, null, { circumstances: { poor: "yes", border_commune: "yes" } }).result).toBe("yes");
    expect(nextQuestion(readRules({}), null, {})).toBeUndefined();
    expect(verdict(readRules({}), null, {}).result).toBe("yes");
    // A grade range alone asks the level first, then the grade.
    const grades = readRules({ gradeMin: 10, gradeMax: 12 });
    expect(verdict(grades, null, { level: "primary" }).result).toBe("no");
    expect(gradesFor(grades, "upper_secondary")).toEqual([10, 11, 12]);
  });
});
