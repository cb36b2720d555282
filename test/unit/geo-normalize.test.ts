import { describe, expect, it } from "vitest";
import { compactForm, editDistance, maxTypos, modernToneSpelling, searchForm, stripUnitWord } from "../../src/domain/geo/normalize.js";
import { readAdminUnits } from "../../src/domain/geo/seed-admin-units.js";

describe("modernToneSpelling", () => {
  it.each([
    ["Hoá", "Hóa"],
    ["Hoà", "Hòa"],
    ["Hoả", "Hỏa"],
    ["Thuỷ", "Thủy"],
    ["Thuỵ", "Thụy"],
    ["Thuỳ", "Thùy"],
    ["Khoẻ", "Khỏe"],
    ["HOÀ", "HÒA"],
    ["Thanh Hoá", "Thanh Hóa"],
    ["Khánh Hoà", "Khánh Hòa"],
    ["Điềm Thuỵ", "Điềm Thụy"],
    ["Đàm Thuỷ", "Đàm Thủy"],
  ])("moves the mark of %j to the first vowel", (old, modern) => {
    expect(modernToneSpelling(old)).toBe(modern);
    expect(modernToneSpelling(modern)).toBe(modern);
  });

  it.each(["Quý", "Quỳ", "Quỹ", "Hoàng", "Hoàn", "Đoài", "Quỳnh", "Hòa", "Thủy", "Úy", "Huy", "Hoa"])("leaves %j alone", (word) => {
    expect(modernToneSpelling(word)).toBe(word);
  });

  it("works in NFC whatever the input form", () => {
    const out = modernToneSpelling("Thanh Hoá".normalize("NFD"));
    expect(out).toBe("Thanh Hóa");
    expect(out).toBe(out.normalize("NFC"));
  });

  it("changes only the oa/oe/uy syllables of the dataset: 192 names, same letters, one syllable each", () => {
    const { data } = readAdminUnits();
    const names = data.provinces.flatMap((p) => [p.name, ...p.communes.map((c) => c.name)]);
    expect(names).toHaveLength(34 + 3321);
    const changed = new Map<string, number>();
    for (const name of names) {
      const modern = modernToneSpelling(name);
      expect(searchForm(modern)).toBe(searchForm(name));
      if (modern === name) continue;
      const before = name.split(" ");
      const after = modern.split(" ");
      const diff = before.flatMap((w, i) => (w === after[i] ? [] : [`${w}→${after[i]}`]));
      expect(diff).toHaveLength(1);
      changed.set(diff[0]!, (changed.get(diff[0]!) ?? 0) + 1);
    }
    expect(Object.fromEntries(changed)).toEqual({
      "Hoà→Hòa": 141,
      "Thuỷ→Thủy": 23,
      "Hoá→Hóa": 15,
      "Thuỵ→Thụy": 10,
      "Thuỳ→Thùy": 1,
      "Luỹ→Lũy": 1,
      "Hoả→Hỏa": 1,
    });
    expect([...changed.values()].reduce((a, b) => a + b)).toBe(192);
  });
});

describe("search forms", () => {
  it("ignores case, diacritics, punctuation and (compact) spaces", () => {
    expect(searchForm("TP.HCM")).toBe("tp hcm");
    expect(compactForm(searchForm("Hà Nội"))).toBe(compactForm(searchForm("hanoi")));
    expect(searchForm("Thanh Hoá")).toBe(searchForm("Thanh Hóa"));
    expect(searchForm("Khánh Hoà")).toBe("khanh hoa");
  });

  it("drops a leading Vietnamese or trailing English unit word, never the whole text", () => {
    expect(stripUnitWord("thanh pho ho chi minh")).toBe("ho chi minh");
    expect(stripUnitWord("tp hcm")).toBe("hcm");
    expect(stripUnitWord("p ben thanh")).toBe("ben thanh");
    expect(stripUnitWord("dac khu cat hai")).toBe("cat hai");
    expect(stripUnitWord("tuyen quang province")).toBe("tuyen quang");
    expect(stripUnitWord("ben thanh ward")).toBe("ben thanh");
    expect(stripUnitWord("phuong")).toBe("phuong");
    expect(stripUnitWord("xa")).toBe("xa");
  });
});

describe("editDistance", () => {
  it("counts insertions, deletions, substitutions and adjacent transpositions as one each", () => {
    expect(editDistance("hanoi", "hanoi")).toBe(0);
    expect(editDistance("hanoii", "hanoi")).toBe(1);
    expect(editDistance("badihn", "badinh")).toBe(1);
    expect(editDistance("thanhhpa", "thanhhoa")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("ca", "abc")).toBe(3); // optimal string alignment: no edit after a transposition
  });

  it("stops early past the limit and answers limit + 1", () => {
    expect(editDistance("hanoi", "hochiminh", 2)).toBe(3);
    expect(editDistance("abcdef", "uvwxyz", 2)).toBe(3);
    expect(editDistance("abcdef", "abcdxy", 2)).toBe(2);
    expect(editDistance("ab", "ba", 1)).toBe(1);
    expect(editDistance("hanoi", "hanio", 1)).toBe(1);
  });

  it("forgives one typo in five letters or fewer, two in longer text", () => {
    expect(maxTypos(5)).toBe(1);
    expect(maxTypos(6)).toBe(2);
  });
});
