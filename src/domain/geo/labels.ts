/*
 * How places are written for people, in Vietnamese and English. Pure functions over names and
 * types as stored (modern tone-mark spelling); callers escape for HTML.
 */

export type PlaceLocale = "vi" | "en";

interface Named {
  name: string;
  type: string;
}

/** English drops the diacritics of province names, as maps and the press write them ("Hai Phong"). */
function plainLatin(name: string): string {
  return name.normalize("NFD").replace(/\p{M}/gu, "").replace(/Đ/g, "D").replace(/đ/g, "d").normalize("NFC");
}

/** Conventional English names that the diacritics-free rule would not produce. */
const ENGLISH_PROVINCE_NAMES: Record<string, string> = {
  "Hà Nội": "Hanoi",
};

const capitalize = (s: string) => s.charAt(0).toLocaleUpperCase("vi") + s.slice(1);

/**
 * vi full "Thành phố Hồ Chí Minh", "Tỉnh Tuyên Quang"; vi short "TP. Hồ Chí Minh", "Tuyên Quang";
 * en "Ho Chi Minh City", "Hanoi", "Tuyen Quang Province" (full) or "Tuyen Quang" (short).
 */
export function provinceLabel(p: Named, locale: PlaceLocale, form: "full" | "short"): string {
  if (locale === "en") {
    const conventional = ENGLISH_PROVINCE_NAMES[p.name];
    if (conventional) return conventional;
    const name = plainLatin(p.name);
    if (p.type === "thành phố") return `${name} City`;
    return form === "full" && p.type === "tỉnh" ? `${name} Province` : name;
  }
  if (form === "short") return p.type === "thành phố" ? `TP. ${p.name}` : p.name;
  return p.type ? `${capitalize(p.type)} ${p.name}` : p.name;
}

const ENGLISH_COMMUNE_UNITS: Record<string, string> = {
  "xã": "Commune",
  "phường": "Ward",
  "đặc khu": "Special Zone",
};

/** vi "Xã Lũng Cú", "Phường Ba Đình", "Đặc khu Cát Hải"; en "Lũng Cú Commune" (names keep their diacritics). */
export function communeLabel(c: Named, locale: PlaceLocale): string {
  if (locale === "en") {
    const unit = ENGLISH_COMMUNE_UNITS[c.type];
    return unit ? `${c.name} ${unit}` : c.name;
  }
  return c.type ? `${capitalize(c.type)} ${c.name}` : c.name;
}

/** "Phường Bến Thành, TP. Hồ Chí Minh" / "Bến Thành Ward, Ho Chi Minh City". */
export function placeLabel(commune: Named, province: Named, locale: PlaceLocale): string {
  return `${communeLabel(commune, locale)}, ${provinceLabel(province, locale, "short")}`;
}
