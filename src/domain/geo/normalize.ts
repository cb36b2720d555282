/**
 * Search form of a Vietnamese place name: no diacritics, no case, đ → d, single spaces.
 * "HẢI PHÒNG", "Hải Phòng" and "hai phong" all become "hai phong"; "Hoà" and "Hòa" agree.
 */
export function searchForm(input: string): string {
  return input
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** The search form without spaces: "Ha Noi", "hanoi" and "HÀ-NỘI" all become "hanoi". */
export function compactForm(form: string): string {
  return form.replace(/ /g, "");
}

/** As typed before a name, abbreviations included ("TP. Huế", "P. Bến Thành"). */
const UNIT_WORDS = ["thanh pho", "tinh", "tp", "dac khu", "phuong", "xa", "p"];

/** English unit words as the English labels print them, last ("Hai Phong City", "Ba Đình Ward"). */
const ENGLISH_UNIT_WORDS = ["city", "province", "special zone", "ward", "commune"];

/**
 * Drops a unit word people often type: leading Vietnamese ("TP Hải Phòng", "xã Lũng Cú") or
 * trailing English ("Tuyen Quang Province"); never the whole text.
 */
export function stripUnitWord(form: string): string {
  for (const w of UNIT_WORDS) {
    if (form.startsWith(w + " ") && form.length > w.length + 1) return form.slice(w.length + 1);
  }
  for (const w of ENGLISH_UNIT_WORDS) {
    if (form.endsWith(" " + w) && form.length > w.length + 1) return form.slice(0, -w.length - 1);
  }
  return form;
}

/** Typos tolerated for a query of this many letters (spaces excluded). */
export function maxTypos(compactLength: number): number {
  return compactLength <= 5 ? 1 : 2;
}

/**
 * Damerau–Levenshtein distance (optimal string alignment: an adjacent transposition counts 1),
 * or `max + 1` as soon as the distance is known to exceed `max`. Compares UTF-16 units, which is
 * exact for search forms (no diacritics left).
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a === b) return 0;
  // Three rolling rows: two rows back (for transpositions), previous, current.
  let prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const bj = b.charCodeAt(j - 1);
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    // No later row can cost less: even a transposition from the row before pays what a diagonal into this one did.
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  const d = prev[b.length]!;
  return d > max ? max + 1 : d;
}

const TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/u;

/**
 * Modern official tone-mark placement (the 2018 spelling rules of the Ministry of Education):
 * in a syllable ending in "oa", "oe" or "uy" the mark sits on the first vowel: "Hoá" → "Hóa",
 * "Khoẻ" → "Khỏe", "Thuỷ" → "Thủy". Not after "q" ("qu" is a consonant: "Quý" stays), and not
 * when a letter follows ("Hoàng", "Quỳnh" are already right). NFC in, NFC out.
 */
export function modernToneSpelling(name: string): string {
  return name.normalize("NFC").replace(/\p{L}+/gu, (word) => {
    const n = word.length;
    if (n < 2) return word;
    const first = word[n - 2]!.normalize("NFD");
    const second = word[n - 1]!.normalize("NFD");
    const pair = (first + second.slice(0, 1)).toLowerCase();
    if (pair !== "oa" && pair !== "oe" && pair !== "uy") return word;
    // The second vowel carries only a tone mark; the first carries nothing yet.
    if (first.length !== 1 || second.length !== 2 || !TONE_MARKS.test(second[1]!)) return word;
    if (n >= 3 && word[n - 3]!.toLowerCase() === "q") return word;
    return (word.slice(0, n - 2) + first + second[1] + second[0]).normalize("NFC");
  });
}
