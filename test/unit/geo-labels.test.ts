import { describe, expect, it } from "vitest";
import { communeLabel, placeLabel, provinceLabel } from "../../src/domain/geo/labels.js";
import { readAdminUnits } from "../../src/domain/geo/seed-admin-units.js";

const hcm = { name: "Hồ Chí Minh", type: "thành phố" };
const hanoi = { name: "Hà Nội", type: "thành phố" };
const haiPhong = { name: "Hải Phòng", type: "thành phố" };
const hue = { name: "Huế", type: "thành phố" };
const tuyenQuang = { name: "Tuyên Quang", type: "tỉnh" };
const daNang = { name: "Đà Nẵng", type: "thành phố" };
const dakLak = { name: "Đắk Lắk", type: "tỉnh" };

describe("provinceLabel", () => {
  it("writes the unit in full or as TP. in Vietnamese", () => {
    expect(provinceLabel(hcm, "vi", "full")).toBe("Thành phố Hồ Chí Minh");
    expect(provinceLabel(tuyenQuang, "vi", "full")).toBe("Tỉnh Tuyên Quang");
    expect(provinceLabel(hcm, "vi", "short")).toBe("TP. Hồ Chí Minh");
    expect(provinceLabel(tuyenQuang, "vi", "short")).toBe("Tuyên Quang");
  });

  it("uses English names without diacritics, keeping City in both forms and the conventional Hanoi", () => {
    for (const form of ["full", "short"] as const) {
      expect(provinceLabel(hcm, "en", form)).toBe("Ho Chi Minh City");
      expect(provinceLabel(haiPhong, "en", form)).toBe("Hai Phong City");
      expect(provinceLabel(hanoi, "en", form)).toBe("Hanoi");
      expect(provinceLabel(hue, "en", form)).toBe("Hue City");
      expect(provinceLabel(daNang, "en", form)).toBe("Da Nang City");
    }
    expect(provinceLabel(tuyenQuang, "en", "full")).toBe("Tuyen Quang Province");
    expect(provinceLabel(tuyenQuang, "en", "short")).toBe("Tuyen Quang");
    expect(provinceLabel(dakLak, "en", "full")).toBe("Dak Lak Province");
  });

  it("labels every province of the dataset, English in plain Latin letters", () => {
    const { data } = readAdminUnits();
    for (const p of data.provinces) {
      expect(provinceLabel(p, "vi", "full")).toMatch(/^(Tỉnh|Thành phố) \S/);
      expect(provinceLabel(p, "en", "full")).toMatch(/^[A-Za-z ]+$/);
      expect(provinceLabel(p, "en", "short").length).toBeGreaterThan(2);
    }
  });
});

describe("communeLabel and placeLabel", () => {
  it("puts the unit first in Vietnamese and last in English, names keeping their diacritics", () => {
    expect(communeLabel({ name: "Lũng Cú", type: "xã" }, "vi")).toBe("Xã Lũng Cú");
    expect(communeLabel({ name: "Ba Đình", type: "phường" }, "vi")).toBe("Phường Ba Đình");
    expect(communeLabel({ name: "Cát Hải", type: "đặc khu" }, "vi")).toBe("Đặc khu Cát Hải");
    expect(communeLabel({ name: "Lũng Cú", type: "xã" }, "en")).toBe("Lũng Cú Commune");
    expect(communeLabel({ name: "Ba Đình", type: "phường" }, "en")).toBe("Ba Đình Ward");
    expect(communeLabel({ name: "Cát Hải", type: "đặc khu" }, "en")).toBe("Cát Hải Special Zone");
  });

  it("joins the commune with the province's short label", () => {
    const benThanh = { name: "Bến Thành", type: "phường" };
    expect(placeLabel(benThanh, hcm, "vi")).toBe("Phường Bến Thành, TP. Hồ Chí Minh");
    expect(placeLabel(benThanh, hcm, "en")).toBe("Bến Thành Ward, Ho Chi Minh City");
    expect(placeLabel({ name: "Lũng Cú", type: "xã" }, tuyenQuang, "vi")).toBe("Xã Lũng Cú, Tuyên Quang");
    expect(placeLabel({ name: "Lũng Cú", type: "xã" }, tuyenQuang, "en")).toBe("Lũng Cú Commune, Tuyen Quang");
  });
});
