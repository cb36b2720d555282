import { describe, expect, it } from "vitest";
import { cb } from "../../src/bot/callback-data/callback-data.js";

describe("callback data", () => {
  it("round-trips and stays within Telegram's 64 bytes", () => {
    for (const [codec, value] of [
      [cb.province, "79"], [cb.commune, "26740"], [cb.commune, "none"], [cb.affiliation, "other_organisation"],
      [cb.goal, "vocational"], [cb.summaryField, "affiliation"], [cb.language, "en"], [cb.adminInvite, "01"],
    ] as const) {
      const data = (codec.pack as (v: string) => string)(value);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(codec.unpack(data)).toBe(value);
    }
  });

  it("refuses forged or malformed data", () => {
    expect(cb.province.unpack("r:prov:999")).toBeUndefined();
    expect(cb.province.unpack("r:prov:")).toBeUndefined();
    expect(cb.commune.unpack("r:com:0000")).toBeUndefined();
    expect(cb.language.unpack("lang:fr")).toBeUndefined();
    expect(cb.officerStats.unpack("off:stats")).toBe("stats");
    expect(cb.officerStats.unpack("off:drop-table")).toBeUndefined();
    expect(() => cb.province.pack("1".repeat(70))).toThrow(/64 bytes/);
  });
});
