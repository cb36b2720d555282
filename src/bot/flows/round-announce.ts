import type { Audience, SenderBody } from "../../domain/broadcasts/audience.js";
import { provinceLabel } from "../../domain/geo/labels.js";
import { formatDay, formatVnd } from "../../domain/scholarships/model.js";
import { escapeHtml } from "../../i18n.js";
import type { BotContext } from "../context.js";
import { NS, bodyLabel } from "./round-steps.js";
import { currentActor } from "./session-steps.js";

/** The broadcast flow's mode for announcing a round: `ctx.conversation.enter(BROADCAST_FLOW, { scholarshipRoundId })`. */
export interface RoundAnnounceMode {
  scholarshipRoundId: number;
}

export function announcedRound(mode: unknown): number | undefined {
  const id = (mode as Partial<RoundAnnounceMode> | undefined)?.scholarshipRoundId;
  return typeof mode === "object" && mode !== null && Number.isSafeInteger(id) ? id : undefined;
}

/** The deep link that opens a round's card for residents (the residents' part handles `sch_<id>`). */
export function roundLink(botUsername: string, id: number): string {
  return `https://t.me/${botUsername}?start=sch_${id}`;
}

/** Officer text as broadcast HTML: escaped, and braces written as entities so they are never read as {variables}. */
const literal = (s: string) => escapeHtml(s).replace(/\{/g, "&#123;").replace(/\}/g, "&#125;");

export type Announcement = { ok: true; text: string; audience: Audience; body: SenderBody } | { ok: false; error: string };

/**
 * A round's announcement in the officer's language: programme, body and place, eligibility,
 * award, days, how to apply, contact and the link to its card; the audience starts at the round's
 * province (nationwide rounds: everyone). Only for rounds the caller manages and that still run.
 */
export async function roundAnnouncement(o: BotContext, id: number): Promise<Announcement> {
  const r = await o.deps.services.scholarshipRounds.get(await currentActor(o), id);
  if (!r.ok) return { ok: false, error: r.errors[0]!.key };
  const x = r.round;
  if (r.phase === "cancelled" || r.phase === "closed") return { ok: false, error: `${NS}:errors.announce_closed` };
  const province = x.provinceCode ? await o.deps.services.geo.getProvince(x.provinceCode) : undefined;
  const t = o.t;
  const award = x.awardValueVnd === null
    ? t(`${NS}:new.unknown`)
    : x.awardCount ? t(`${NS}:announce.award_count`, { value: formatVnd(x.awardValueVnd, o.locale), count: x.awardCount }) : formatVnd(x.awardValueVnd, o.locale);
  const text = t(`${NS}:announce.text`, {
    programme: literal(x.programme), year: x.year, body: literal(bodyLabel(t, x.organiserBody)),
    place: literal(province ? provinceLabel(province, o.locale, "full") : t(`${NS}:card.nationwide`)),
    eligibility: literal(x.eligibility), award: literal(award), opens: formatDay(x.opensOn), deadline: formatDay(x.deadlineOn), awardOn: formatDay(x.awardOn),
    apply: literal(x.howToApply), contact: literal(x.contact), link: roundLink(o.me.username, x.id),
    interpolation: { escapeValue: false },
  });
  // The broadcast checks it all again (scope, length, approval) when it is created.
  return { ok: true, text, audience: x.provinceCode ? { provinceCode: x.provinceCode } : {}, body: x.organiserBody as SenderBody };
}
