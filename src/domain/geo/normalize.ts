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

const UNIT_WORDS = ["thanh pho", "tinh", "tp", "dac khu", "phuong", "xa"];

/** Drops a leading unit word people often type ("TP Hải Phòng", "xã Lũng Cú"). */
export function stripUnitWord(form: string): string {
  for (const w of UNIT_WORDS) {
    if (form.startsWith(w + " ") && form.length > w.length + 1) return form.slice(w.length + 1);
  }
  return form;
}
