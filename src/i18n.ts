import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import i18next, { type TFunction } from "i18next";

export type { TFunction };

export const LOCALES = ["vi", "en"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "vi";

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/** Telegram's language_code → our locale: English for English clients, Vietnamese otherwise. */
export function localeFromTelegram(languageCode: string | undefined): Locale {
  return languageCode?.toLowerCase().startsWith("en") ? "en" : DEFAULT_LOCALE;
}

/** Escapes interpolated values for Telegram's HTML parse mode (all messages use it). */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function defaultLocalesDir(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), "../locales");
}

export function loadResources(dir = defaultLocalesDir()): Record<string, Record<string, unknown>> {
  const resources: Record<string, Record<string, unknown>> = {};
  for (const locale of LOCALES) {
    const nsDir = path.join(dir, locale);
    resources[locale] = {};
    for (const file of readdirSync(nsDir).filter((f) => f.endsWith(".json"))) {
      resources[locale]![file.replace(/\.json$/, "")] = JSON.parse(readFileSync(path.join(nsDir, file), "utf8"));
    }
  }
  return resources;
}

export interface I18n {
  /** A translator fixed to one locale: call per update, never change a global language. */
  t(locale: Locale): TFunction;
}

export async function createI18n(dir?: string): Promise<I18n> {
  const resources = loadResources(dir);
  const instance = i18next.createInstance();
  await instance.init({
    resources: resources as never,
    lng: DEFAULT_LOCALE,
    fallbackLng: DEFAULT_LOCALE,
    supportedLngs: [...LOCALES],
    ns: Object.keys(resources[DEFAULT_LOCALE] ?? {}),
    defaultNS: "common",
    interpolation: { escapeValue: true, escape: escapeHtml },
    returnNull: false,
  });
  const cache = new Map<Locale, TFunction>();
  return {
    t(locale) {
      let t = cache.get(locale);
      if (!t) {
        t = memoiseTranslations(instance.getFixedT(locale));
        cache.set(locale, t);
      }
      return t;
    },
  };
}

/**
 * The same key with the same values always reads the same: look each up once. Conversations
 * replay their earlier steps on every update, so the same questions ("Bước 3/7 …"), labels and
 * echoes are asked for again and again (a tenth of the bot's CPU before this). Values must be
 * plain strings, numbers or booleans to be remembered; the remembered texts are bounded.
 */
export function memoiseTranslations(t: TFunction, max = 20_000): TFunction {
  const texts = new Map<string, string>();
  const memo = ((key: string | string[], options?: unknown) => {
    if (typeof key !== "string") return (t as (k: unknown, o?: unknown) => string)(key, options);
    let cacheKey: string | undefined = key;
    if (options !== undefined) cacheKey = plainOptionsKey(key, options);
    if (cacheKey === undefined) return (t as (k: string, o?: unknown) => string)(key, options);
    let value = texts.get(cacheKey);
    if (value === undefined) {
      value = (t as (k: string, o?: unknown) => string)(key, options);
      if (typeof value !== "string") return value;
      if (texts.size >= max) texts.clear();
      texts.set(cacheKey, value);
    }
    return value;
  }) as unknown as TFunction;
  return memo;
}

/** `key` and the options' values as one string, or undefined when a value is not plain. */
function plainOptionsKey(key: string, options: unknown): string | undefined {
  if (options === null || typeof options !== "object" || Array.isArray(options)) return undefined;
  let out = key;
  for (const [name, value] of Object.entries(options)) {
    const type = typeof value;
    if (type !== "string" && type !== "number" && type !== "boolean") return undefined;
    out += `\u0000${name}\u0001${type[0]}${String(value)}`;
  }
  return out;
}
