import type { CommuneDto, ProvinceDto } from "../../domain/geo/geo-service.js";
import { communeLabel, provinceLabel } from "../../domain/geo/labels.js";
import { placeQuerySchema } from "../../domain/citizens/inputs.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { communeKeyboard, provinceKeyboard, provinceSuggestionKeyboard } from "../keyboards/place.js";
import { BACK, echoLine, parseWith, runStep, stopFlow, type Back, type BackOption } from "./engine.js";

export interface Place {
  province: ProvinceDto;
  commune: CommuneDto;
}

export interface PlaceOptions {
  back?: BackOption;
  /** Put before each question, e.g. "Bước 3/7." in the registration. */
  prefix?(c: ConvContext, part: "province" | "commune"): string;
  /** The province question when it is not the person's own ("Which province is the round for?"). */
  provinceQuestion?(c: ConvContext): string;
  /** The commune question when it is not the person's own ("Which commune does the student live in?"). */
  communeQuestion?(c: ConvContext, province: string): string;
  /** Back at the commune step when it does not lead to the province (default "↩️ Đổi tỉnh/thành"). */
  communeBack?: BackOption;
}

const COMMUNE_BUTTONS = 8;
/** Province ↔ commune round trips allowed in one place question. */
const MAX_ROUNDS = 10;

/** Province, then commune of that province; "↩️ Đổi tỉnh/thành" at the commune goes back one. */
export async function askPlace(conversation: Convo, ctx: ConvContext, opts: PlaceOptions = {}): Promise<Place | Back> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const province = await askProvince(conversation, ctx, opts);
    if (province === BACK) return BACK;
    const commune = await askCommune(conversation, ctx, province, opts);
    if (commune !== BACK) return { province, commune };
  }
  return stopFlow(ctx);
}

export async function askProvince(conversation: Convo, ctx: ConvContext, opts: PlaceOptions = {}): Promise<ProvinceDto | Back> {
  const provinces = await conversation.external((octx) => octx.deps.services.geo.listProvinces());
  return runStep<ProvinceDto>(conversation, ctx, {
    question: (c) => `${opts.prefix?.(c, "province") ?? ""}${opts.provinceQuestion?.(c) ?? c.t("place:province.ask")}`,
    keyboard: (c) => provinceKeyboard(provinces, c.locale),
    codecs: [cb.province],
    hint: "place:province.hint",
    back: opts.back,
    echo: (c, p) => echoLine(c, "place:province.label", provinceLabel(p, c.locale, "short")),
    accept: async (c) => {
      const code = cb.province.unpack(c.callbackQuery?.data);
      if (code === "retype") {
        await c.reply(c.t("place:province.retype"));
        return { wait: true };
      }
      if (code) {
        const p = provinces.find((x) => x.code === code);
        return p ? { done: p } : { retry: "common:flow.invalid_choice" };
      }
      const text = c.message?.text;
      if (text === undefined) return undefined;
      const q = parseWith(placeQuerySchema, text);
      if (!q || !("done" in q)) return q;
      const found = await conversation.external((octx) => octx.deps.services.geo.findProvinces(q.done));
      if (found.exact) return { done: found.exact };
      if (found.matches.length === 1 && !found.suggestion) return { done: found.matches[0]! };
      if (found.suggestion) {
        const shown = await c.reply(c.t("place:province.did_you_mean", { name: provinceLabel(found.suggestion, c.locale, "full") }), {
          reply_markup: provinceSuggestionKeyboard(c.t, found.suggestion, c.locale),
        });
        return { wait: true, shown };
      }
      if (found.matches.length > 1) {
        const shown = await c.reply(c.t("place:province.choose"), { reply_markup: provinceKeyboard(found.matches.slice(0, 9), c.locale) });
        return { wait: true, shown };
      }
      return { retry: "place:province.not_found", params: { query: q.done } };
    },
  });
}

export async function askCommune(conversation: Convo, ctx: ConvContext, province: ProvinceDto, opts: PlaceOptions = {}): Promise<CommuneDto | Back> {
  const where = (c: ConvContext) => provinceLabel(province, c.locale, "full");
  return runStep<CommuneDto>(conversation, ctx, {
    question: (c) => `${opts.prefix?.(c, "commune") ?? ""}${opts.communeQuestion?.(c, where(c)) ?? c.t("place:commune.ask", { province: where(c) })}`,
    codecs: [cb.commune],
    hint: "place:commune.hint",
    back: opts.communeBack ?? { label: "place:commune.change_province" },
    echo: (c, m) => echoLine(c, "place:commune.label", communeLabel(m, c.locale)),
    accept: async (c) => {
      const code = cb.commune.unpack(c.callbackQuery?.data);
      if (code === "none") {
        await c.reply(c.t("place:commune.retype", { province: where(c) }));
        return { wait: true };
      }
      if (code) {
        // Server-side check: a forged or stale code from another province is refused.
        const commune = await conversation.external((octx) => octx.deps.services.geo.getCommune(code));
        return commune && commune.provinceCode === province.code ? { done: commune } : { retry: "common:flow.invalid_choice" };
      }
      const text = c.message?.text;
      if (text === undefined) return undefined;
      const q = parseWith(placeQuerySchema, text);
      if (!q || !("done" in q)) return q;
      const found = await conversation.external((octx) => octx.deps.services.geo.searchCommunes(province.code, q.done, COMMUNE_BUTTONS));
      if (found.matches.length === 0) {
        return { retry: "place:commune.not_found", params: { query: q.done, province: where(c) } };
      }
      const message = found.suggestion && found.matches.length === 1
        ? c.t("place:commune.did_you_mean", { name: communeLabel(found.suggestion, c.locale) })
        : found.total > found.matches.length
          ? c.t("place:commune.too_many", { count: found.total, shown: found.matches.length })
          : c.t("place:commune.choose", { count: found.matches.length });
      const shown = await c.reply(message, { reply_markup: communeKeyboard(c.t, found.matches, c.locale) });
      return { wait: true, shown };
    },
  });
}

/** Times a province officer may press the commune step's Back before a scoped question stops. */
const SCOPED_TRIES = 5;

/**
 * The commune of something an officer adds in their scope (a centre, a unit): a commune officer's
 * own commune without asking; a province officer picks one of their province (Back there is
 * answered with `ownProvinceOnly`); an admin any province and commune. The service checks the
 * scope again when it stores.
 */
export async function askCommuneInScope(
  conversation: Convo,
  ctx: ConvContext,
  access: { role: string; scope: { provinceCode?: string; communeCode?: string } },
  opts: PlaceOptions & { ownProvinceOnly(c: ConvContext, province: string): string },
): Promise<CommuneDto> {
  const s = access.scope;
  if (access.role === "officer" && s.communeCode) {
    const own = await conversation.external((o) => o.deps.services.geo.getCommune(s.communeCode!));
    if (own) return own;
  }
  if (access.role === "officer" && s.provinceCode) {
    const province = await conversation.external((o) => o.deps.services.geo.getProvince(s.provinceCode!));
    if (!province) return stopFlow(ctx);
    for (let tries = 0; tries < SCOPED_TRIES; tries++) {
      const commune = await askCommune(conversation, ctx, province, opts);
      if (commune !== BACK) return commune;
      await ctx.reply(opts.ownProvinceOnly(ctx, province.name));
    }
    return stopFlow(ctx);
  }
  const place = await askPlace(conversation, ctx, opts);
  if (place === BACK) return stopFlow(ctx);
  return place.commune;
}
