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
    expect(cb.province.unpack("p:prov:999")).toBeUndefined();
    expect(cb.province.unpack("p:prov:")).toBeUndefined();
    expect(cb.province.unpack("r:prov:01")).toBeUndefined();
    expect(cb.commune.unpack("p:com:0000")).toBeUndefined();
    expect(cb.adminRevoke.unpack(`adm:rev:${"9".repeat(17)}`)).toBeUndefined();
    expect(cb.language.unpack("lang:fr")).toBeUndefined();
    expect(cb.officerStats.unpack("off:stats")).toBe("stats");
    expect(cb.officerStats.unpack("off:drop-table")).toBeUndefined();
    expect(() => cb.province.pack("1".repeat(70))).toThrow(/64 bytes/);
  });

  it("gives every feature its own prefix: no button can be taken for another's", () => {
    const codecs = Object.entries(cb);
    for (const [name, codec] of codecs) {
      for (const [other, otherCodec] of codecs) {
        if (name === other) continue;
        // "<prefix>:" must not start another codec's data, or both would claim its buttons.
        expect(`${otherCodec.prefix}:`.startsWith(`${codec.prefix}:`), `${name} (${codec.prefix}) vs ${other} (${otherCodec.prefix})`).toBe(false);
      }
    }
    expect(new Set(codecs.map(([, c]) => c.prefix)).size).toBe(codecs.length);
  });
});
