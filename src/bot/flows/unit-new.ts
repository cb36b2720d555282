import { InlineKeyboard } from "grammy";
import type { CommuneDto } from "../../domain/geo/geo-service.js";
import { bodyOfKind, type UnitKind } from "../../domain/units/model.js";
import type { UnitActor } from "../../domain/units/units.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { describeScope } from "../features/scope.js";
import { askCommuneInScope } from "./ask-place.js";
import { askButtons, BACK, stopFlow } from "./engine.js";
import {
  NS, askHeadcount, askParent, askUnitKind, askUnitName, currentActor, failureText, NOT_ASKED, placeLabel, raw, unitCardText, type ParentChoice,
} from "./unit-steps.js";

export const UNIT_NEW_FLOW = "unit-new";
/** Times one flow may go back or be asked a name again before it stops. */
const MAX_MOVES = 30;

/**
 * The unit's commune: a commune officer's own without asking; a province officer picks one of
 * their province; an admin any province and commune. The service checks the scope again.
 */
function askUnitCommune(conversation: Convo, ctx: ConvContext, access: UnitActor): Promise<CommuneDto> {
  // Where the unit is, not where the officer lives: the questions name the unit.
  return askCommuneInScope(conversation, ctx, access, {
    provinceQuestion: (c) => c.t(`${NS}:new.ask_province`),
    communeQuestion: (c, province) => c.t(`${NS}:new.ask_commune`, { province }),
    ownProvinceOnly: (c, province) => c.t(`${NS}:new.own_province_only`, { province }),
  });
}

/**
 * /unit_new (officers in their scope, admins anywhere): commune → name → kind → parent (optional)
 * → headcount → summary and confirm; Back on every step after the first. A duplicate name asks
 * the name again. Role and scope are read again when the unit is stored.
 */
export async function unitNewFlow(conversation: Convo, ctx: ConvContext): Promise<void> {
  const access = await conversation.external((o) => currentActor(o));
  if (access.role !== "admin" && !(access.role === "officer" && access.scope.provinceCode)) {
    await ctx.reply(ctx.t(access.role === "officer" ? `${NS}:errors.no_scope` : "common:errors.forbidden"));
    return;
  }
  const scope = await conversation.external((o) => describeScope(o, access.role === "admin" ? {} : { provinceCode: access.scope.provinceCode, communeCode: access.scope.communeCode }));
  await ctx.reply(ctx.t(`${NS}:new.intro`, { scope, ...raw }));
  const askesCommune = !(access.role === "officer" && access.scope.communeCode);

  let commune: CommuneDto | undefined;
  const a: { name?: string; kind?: UnitKind; parent?: ParentChoice; headcount?: number } = {};
  // Steps by index: 0 commune, 1 name, 2 kind, 3 parent, 4 headcount, 5 summary.
  let step = 0;
  let wentBack = false;
  for (let moves = 0; moves < MAX_MOVES; moves++) {
    if (step === 0) {
      commune = await askUnitCommune(conversation, ctx, access);
      if (!askesCommune) {
        const place = await conversation.external((o) => placeLabel(o, commune!.code, commune!.provinceCode));
        await ctx.reply(ctx.t(`${NS}:new.in_commune`, { commune: place, ...raw }));
      }
      step = 1;
      continue;
    }
    if (step === 5) {
      step = await confirmAndCreate(conversation, ctx, commune!, a as Required<typeof a>);
      if (step === DONE) return;
      wentBack = true;
      continue;
    }
    let answer: unknown;
    if (step === 1) answer = await askUnitName(conversation, ctx, { back: askesCommune });
    else if (step === 2) answer = await askUnitKind(conversation, ctx, { back: true });
    else if (step === 3) answer = await askParent(conversation, ctx, { back: true });
    else answer = await askHeadcount(conversation, ctx, { back: true });
    if (answer === NOT_ASKED) {
      // No units in scope to put it under: the parent question is skipped, both ways.
      a.parent = null;
      step = wentBack ? 2 : 4;
      continue;
    }
    wentBack = answer === BACK;
    if (answer === BACK) {
      step -= 1;
      continue;
    }
    if (step === 1) a.name = answer as string;
    if (step === 2) a.kind = answer as UnitKind;
    if (step === 3) a.parent = answer as ParentChoice;
    if (step === 4) a.headcount = answer as number;
    step += 1;
  }
  await stopFlow(ctx);
}

const DONE = -1;

/** The summary, then the unit stored: DONE, or the step to ask again (Back, a duplicate name, a parent refused). */
async function confirmAndCreate(
  conversation: Convo, ctx: ConvContext, commune: CommuneDto, a: { name: string; kind: UnitKind; parent: ParentChoice; headcount: number },
): Promise<number> {
  const place = await conversation.external((o) => placeLabel(o, commune.code, commune.provinceCode));
  const confirm = await askButtons(conversation, ctx, {
    question: (c) => c.t(`${NS}:new.summary`, {
      card: unitCardText(c.t, c.locale, { name: a.name, kind: a.kind, body: bodyOfKind(a.kind), headcount: a.headcount, place, parent: a.parent?.name ?? null }), ...raw,
    }),
    keyboard: (c) => new InlineKeyboard().text(c.t(`${NS}:new.confirm`), cb.unConfirm.pack("yes")).text(c.t(`${NS}:new.drop`), cb.unConfirm.pack("no")),
    codec: cb.unConfirm,
    hint: `${NS}:new.buttons_hint`,
    back: {},
  });
  if (confirm === BACK) return 4;
  if (confirm === "no") {
    await ctx.reply(ctx.t(`${NS}:new.dropped`));
    return DONE;
  }
  const result = await conversation.external(async (o) => {
    const r = await o.deps.services.units.create(await currentActor(o), {
      name: a.name, kind: a.kind, communeCode: commune.code, parentId: a.parent?.id ?? null, headcount: a.headcount,
    });
    return r.ok ? { ok: true as const, id: r.unit.id, name: r.unit.name } : { ok: false as const, reason: r.reason, text: failureText(o.t, r) };
  });
  if (result.ok) {
    await ctx.reply(ctx.t(`${NS}:new.created`, { name: result.name, id: result.id }), {
      reply_markup: new InlineKeyboard().text(ctx.t(`${NS}:new.open_card`), cb.unit.pack(`v.${result.id}`)).text(ctx.t(`${NS}:card.qr_button`), cb.unit.pack(`q.${result.id}`)),
    });
    return DONE;
  }
  await ctx.reply(`${ctx.t(`${NS}:new.not_created`)}\n${result.text}`);
  if (result.reason === "duplicate") return 1;
  if (result.reason === "parent" || result.reason === "too_deep" || result.reason === "cycle") return 3;
  return DONE;
}
