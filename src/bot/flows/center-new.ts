import { InlineKeyboard, Keyboard } from "grammy";
import type { CommuneDto } from "../../domain/geo/geo-service.js";
import {
  cleanText, coordinateProblems, parseCoordinates, scopeWhere, textProblem, type CenterActor, type CenterDto, type CenterInput, type CenterResult,
} from "../../domain/sessions/centers.js";
import { SESSION_LIMITS } from "../../domain/sessions/model.js";
import type { Access } from "../../domain/users/user-service.js";
import { escapeHtml, type TFunction } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { BotContext, ConvContext, Convo } from "../context.js";
import { describeScope } from "../features/scope.js";
import { askCommuneInScope } from "./ask-place.js";
import { askButtons, echoLine, runStep, stopFlow } from "./engine.js";

export const CENTER_NEW_FLOW = "center-new";
export const CENTER_EDIT_FLOW = "center-edit";
export const CENTER_EDIT_FIELDS = ["name", "address", "commune", "location"] as const;
export type CenterEditField = (typeof CENTER_EDIT_FIELDS)[number];

/** Times one flow may go back to a question (commune, name) before it stops. */
const MAX_TRIES = 5;
const raw = { interpolation: { escapeValue: false } } as const;
/** Six decimals: about 10 cm, more than any phone's fix. */
const coord = (n: number) => String(Math.round(n * 1e6) / 1e6);

/** A centre as officers see it (HTML), for the summary, the edit card and the list. */
export function centerCardText(t: TFunction, center: Pick<CenterDto, "name" | "address" | "lat" | "lon"> & { demo?: boolean }, place: string): string {
  return t("centers:card.text", {
    name: escapeHtml(center.name), address: escapeHtml(center.address), commune: place, lat: coord(center.lat), lon: coord(center.lon),
    demo: center.demo ? t("centers:list.demo_mark") : "", ...raw,
  });
}

/** The card's buttons: one per field (each checked again on press), the map and back to the list. */
export function centerCardKeyboard(t: TFunction, id: number): InlineKeyboard {
  const kb = new InlineKeyboard();
  CENTER_EDIT_FIELDS.forEach((f, i) => {
    kb.text(t(`centers:card.field_${f}`), cb.center.pack(`f.${id}.${f}`));
    if (i % 2 === 1) kb.row();
  });
  return kb.text(t("centers:card.to_list"), cb.center.pack("p.0"));
}

/** "Xã Lũng Cú, Tuyên Quang" (HTML-escaped) for a commune, from outside the replay. */
export const placeLabel = (o: BotContext, communeCode: string, provinceCode: string) => describeScope(o, { communeCode, provinceCode });

/** The caller's role and scope, read again from the database (never from the flow's state). */
const currentActor = async (o: BotContext, me: string): Promise<CenterActor> => ({ ...(await o.deps.services.users.access(me)), id: me });

/**
 * The commune of a centre: a commune officer's own commune without asking; a province officer
 * picks one of their province; an admin any province and commune (the registration's forgiving search).
 */
function askCenterCommune(conversation: Convo, ctx: ConvContext, access: Access): Promise<CommuneDto> {
  return askCommuneInScope(conversation, ctx, access, {
    prefix: (c) => c.t("centers:new.place_prefix"),
    ownProvinceOnly: (c, province) => c.t("centers:new.own_province_only", { province }),
  });
}

/** A name or an address, cleaned (NFC, spaces) and checked with the service's own rule. */
function askCenterText(conversation: Convo, ctx: ConvContext, field: "name" | "address", question: (c: ConvContext) => string): Promise<string> {
  const max = field === "name" ? SESSION_LIMITS.centerNameMax : SESSION_LIMITS.addressMax;
  return runStep<string>(conversation, ctx, {
    question,
    hint: "centers:new.text_hint",
    echo: (c, v) => echoLine(c, `centers:new.${field}_label`, v),
    accept: async (c) => {
      const text = c.message?.text;
      if (text === undefined) return undefined;
      const value = cleanText(text);
      const problem = textProblem(field, value);
      if (problem) return { retry: `centers:errors.${field}_${problem.reason === "required" ? "required" : "too_long"}`, params: { max } };
      return { done: value };
    },
  }) as Promise<string>;
}

/** A location shared in the chat, or coordinates typed or pasted; outside Vietnam is refused with the reason. */
function askLocation(conversation: Convo, ctx: ConvContext): Promise<{ lat: number; lon: number }> {
  return runStep<{ lat: number; lon: number }>(conversation, ctx, {
    question: (c) => c.t("centers:new.ask_location"),
    keyboard: (c) => new Keyboard().requestLocation(c.t("centers:new.send_location")).resized().oneTime(),
    hint: "centers:new.location_hint",
    echo: (c, p) => echoLine(c, "centers:new.location_label", `${coord(p.lat)}, ${coord(p.lon)}`),
    accept: async (c) => {
      const shared = c.message?.location;
      const text = c.message?.text;
      const point = shared ? { lat: shared.latitude, lon: shared.longitude } : text !== undefined ? parseCoordinates(text) : undefined;
      if (!point) return text !== undefined ? { retry: "centers:errors.coords_unreadable" } : undefined;
      const problem = coordinateProblems(point.lat, point.lon)[0];
      if (!problem) return { done: point };
      const params = { lat: coord(point.lat), lon: coord(point.lon) };
      if (problem.reason === "lat_lon_swapped") return { retry: "centers:errors.swapped", params };
      if (problem.reason === "outside_vietnam") return { retry: "centers:errors.outside_vietnam", params };
      return { retry: "centers:errors.coords_unreadable" };
    },
  }) as Promise<{ lat: number; lon: number }>;
}

/** What the service refused, said to the officer; true when the flow should ask the name again. */
async function explainRefusal(ctx: ConvContext, conversation: Convo, result: Exclude<CenterResult, { ok: true }>, input: Pick<CenterInput, "name" | "communeCode">): Promise<boolean> {
  switch (result.reason) {
    case "duplicate": {
      const commune = await conversation.external(async (o) => {
        const c = await o.deps.services.geo.getCommune(input.communeCode);
        return c ? placeLabel(o, c.code, c.provinceCode) : input.communeCode;
      });
      await ctx.reply(ctx.t("centers:errors.duplicate", { commune, name: escapeHtml(input.name), id: result.existingId, ...raw }));
      return true;
    }
    case "invalid":
      await ctx.reply([ctx.t("centers:errors.not_saved"), ...result.problems.map((p) =>
        ctx.t("centers:errors.problem_line", { field: ctx.t(`centers:field.${p.field}`), reason: ctx.t(`centers:reason.${p.reason}`, { limit: p.limit, found: p.found }) }))].join("\n"));
      return false;
    case "not_found":
      await ctx.reply(ctx.t("centers:errors.not_found"));
      return false;
    case "out_of_scope":
      await ctx.reply(ctx.t("centers:errors.out_of_scope"));
      return false;
    default:
      await ctx.reply(ctx.t("common:errors.forbidden"));
      return false;
  }
}

/**
 * /center_new (officers in their scope, admins anywhere): commune → name → address → location →
 * summary and confirm. Role and scope are checked again when the centre is stored.
 */
export async function centerNewFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const me = String(ctx.from!.id);
  const access = await conversation.external((o) => currentActor(o, me));
  if (!scopeWhere(access)) {
    await ctx.reply(ctx.t(access.role === "officer" ? "centers:errors.no_scope" : "common:errors.forbidden"));
    return;
  }
  const scope = await conversation.external((o) => describeScope(o, access.role === "admin" ? {} : { provinceCode: access.scope.provinceCode, communeCode: access.scope.communeCode }));
  await ctx.reply(ctx.t("centers:new.intro", { scope, ...raw }));

  const commune = await askCenterCommune(conversation, ctx, access);
  const place = await conversation.external((o) => placeLabel(o, commune.code, commune.provinceCode));
  if (access.role === "officer" && access.scope.communeCode === commune.code) await ctx.reply(ctx.t("centers:new.in_commune", { commune: place, ...raw }));

  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const name = await askCenterText(conversation, ctx, "name", (c) => c.t("centers:new.ask_name", { max: SESSION_LIMITS.centerNameMax }));
    const address = await askCenterText(conversation, ctx, "address", (c) => c.t("centers:new.ask_address", { max: SESSION_LIMITS.addressMax }));
    const point = await askLocation(conversation, ctx);
    const input: CenterInput = { communeCode: commune.code, name, address, ...point };
    const confirm = await askButtons(conversation, ctx, {
      question: (c) => c.t("centers:new.summary", { card: centerCardText(c.t, input, place), ...raw }),
      keyboard: (c) => new InlineKeyboard().text(c.t("centers:new.confirm"), cb.centerConfirm.pack("yes")).text(c.t("centers:new.cancel_no"), cb.centerConfirm.pack("no")),
      codec: cb.centerConfirm,
      hint: "centers:new.buttons_hint",
    });
    if (confirm === "no") {
      await ctx.reply(ctx.t("centers:new.cancelled"));
      return;
    }
    const result = await conversation.external(async (o) => o.deps.services.centers.create(await currentActor(o, me), input));
    if (result.ok) {
      await ctx.reply(ctx.t("centers:new.created", { name, id: result.center.id }));
      return;
    }
    if (!(await explainRefusal(ctx, conversation, result, input))) return;
  }
  await stopFlow(ctx);
}

/**
 * Changes one field of a centre (entered from its card's button, which the feature checked);
 * the service checks role and scope again, for the centre and for a new commune.
 */
export async function centerEditFlow(conversation: Convo, ctx: ConvContext, centerId: number, field: CenterEditField): Promise<void> {
  const me = String(ctx.from!.id);
  const start = await conversation.external(async (o) => {
    const actor = await currentActor(o, me);
    return { actor, found: await o.deps.services.centers.find(actor, centerId) };
  });
  if (!start.found.ok) {
    await explainRefusal(ctx, conversation, start.found, { name: "", communeCode: "" });
    return;
  }
  const current = start.found.center;
  let patch: Partial<CenterInput>;
  if (field === "name" || field === "address") {
    const max = field === "name" ? SESSION_LIMITS.centerNameMax : SESSION_LIMITS.addressMax;
    const value = await askCenterText(conversation, ctx, field, (c) => c.t(`centers:edit.ask_${field}`, { current: current[field], max }));
    patch = { [field]: value };
  } else if (field === "commune") {
    patch = { communeCode: (await askCenterCommune(conversation, ctx, start.actor)).code };
  } else {
    patch = await askLocation(conversation, ctx);
  }
  const result = await conversation.external(async (o) => o.deps.services.centers.update(await currentActor(o, me), centerId, patch));
  if (!result.ok) {
    await explainRefusal(ctx, conversation, result, { name: patch.name ?? current.name, communeCode: patch.communeCode ?? current.communeCode });
    return;
  }
  const center = result.center;
  const place = await conversation.external((o) => placeLabel(o, center.communeCode, center.provinceCode));
  const done = ctx.t(result.changed.length ? "centers:edit.saved" : "centers:edit.unchanged");
  await ctx.reply(`${done}\n\n${centerCardText(ctx.t, center, place)}\n\n${ctx.t("centers:card.choose_field")}`, { reply_markup: centerCardKeyboard(ctx.t, center.id) });
}

