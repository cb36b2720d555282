import { describe, expect, it } from "vitest";
import i18next from "i18next";
import { createI18n, escapeHtml, memoiseTranslations } from "../../src/i18n.js";

describe("remembered translations", () => {
  it("reads every key of both locales exactly as i18next does, values interpolated and escaped", async () => {
    const i18n = await createI18n();
    const t = i18n.t("vi");
    const first = t("registration:step", { n: 1, total: 7 } as never);
    expect(first).toContain("1/7");
    expect(t("registration:step", { n: 1, total: 7 } as never)).toBe(first);
    expect(t("registration:step", { n: 2, total: 7 } as never)).toContain("2/7");
    expect(i18n.t("en")("registration:step", { n: 1, total: 7 } as never)).not.toBe(first);
  });

  it("asks i18next once per key and values, again for other values, and never remembers objects", async () => {
    const instance = i18next.createInstance();
    await instance.init({
      lng: "vi",
      resources: { vi: { common: { hello: "Chào {{name}}", list: { a: "A" } } } },
      defaultNS: "common",
      interpolation: { escapeValue: true, escape: escapeHtml },
    });
    let calls = 0;
    const inner = instance.getFixedT("vi");
    const counting = ((k: string, o?: unknown) => {
      calls++;
      return (inner as (k: string, o?: unknown) => unknown)(k, o);
    }) as never;
    const t = memoiseTranslations(counting, 3);
    expect(t("hello", { name: "<Hoa>" })).toBe("Chào &lt;Hoa&gt;");
    expect(t("hello", { name: "<Hoa>" })).toBe("Chào &lt;Hoa&gt;");
    expect(calls).toBe(1);
    expect(t("hello", { name: "Lan" })).toBe("Chào Lan");
    expect(calls).toBe(2);
    // A value that is not plain (an object) is never remembered: asked each time.
    t("hello", { name: "Lan", extra: { x: 1 } } as never);
    t("hello", { name: "Lan", extra: { x: 1 } } as never);
    expect(calls).toBe(4);
    // returnObjects gives an object: returned as is, not remembered.
    expect(t("list", { returnObjects: true })).toEqual({ a: "A" });
    expect(t("list", { returnObjects: true })).toEqual({ a: "A" });
    expect(calls).toBe(6);
    // Bounded: past `max` texts it starts again, and still answers right.
    for (const name of ["a", "b", "c", "d"]) expect(t("hello", { name })).toBe(`Chào ${name}`);
    expect(t("hello", { name: "<Hoa>" })).toBe("Chào &lt;Hoa&gt;");
  });
});
