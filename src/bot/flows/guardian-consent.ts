import { AlreadyRegisteredError } from "../../domain/citizens/citizen-service.js";
import { isLocale } from "../../i18n.js";
import { cb } from "../callback-data/callback-data.js";
import type { ConvContext, Convo } from "../context.js";
import { formatCard, formatSummary } from "../format/card.js";
import { guardianKeyboard } from "../keyboards/registration.js";
import { askFullName } from "./citizen-fields.js";
import { askButtons, BACK } from "./engine.js";

export const GUARDIAN_CONSENT = "guardian-consent";
/** `/start g_<token>`: the link a child forwards to a parent or guardian. */
export const GUARDIAN_PAYLOAD_PREFIX = "g_";
export const GUARDIAN_PAYLOAD = /^g_([A-Za-z0-9_-]{16,43})$/;

/**
 * A parent or guardian, from their own Telegram account, sees what a child under 16 asked to
 * register and agrees (then gives their name) or refuses. Only then is anything about the child
 * stored; the child is told either way.
 */
export async function guardianConsent(conversation: Convo, ctx: ConvContext, token: unknown): Promise<void> {
  if (typeof token !== "string") return;
  type Shown = { invalid: true } | { own: true } | { summary: string };
  const shown = await conversation.external(async (octx): Promise<Shown> => {
    const request = await octx.deps.services.guardianRequests.get(token, octx.deps.now());
    if (!request) return { invalid: true };
    if (request.childId === String(octx.from!.id)) return { own: true };
    const geo = octx.deps.services.geo;
    const [province, commune] = await Promise.all([geo.getProvince(request.draft.provinceCode), geo.getCommune(request.draft.communeCode)]);
    const place = { provinceName: province?.name ?? "", provinceType: province?.type ?? "", communeName: commune?.name ?? "", communeType: commune?.type ?? "" };
    return { summary: formatSummary(octx.t, request.draft, place, octx.locale) };
  });
  if ("invalid" in shown || "own" in shown) {
    await ctx.reply(ctx.t("invalid" in shown ? "registration:guardian.invalid" : "registration:guardian.own_link"));
    return;
  }
  const answer = await askButtons(conversation, ctx, {
    question: (c) => c.t("registration:guardian.review", { summary: shown.summary, interpolation: { escapeValue: false } }),
    keyboard: (c) => guardianKeyboard(c.t),
    codec: cb.guardian,
    hint: "common:flow.use_buttons",
    echo: (c, v) => (v === "yes" ? c.t("registration:guardian.echo_agree") : undefined),
  });
  let guardianName: string | undefined;
  if (answer === "yes") {
    const name = await askFullName(conversation, ctx, {}, "registration:guardian.your_name");
    guardianName = name === BACK ? undefined : name;
  }
  type Outcome = { gone: true } | { registered: true } | { already: true } | { refused: true };
  const outcome = await conversation.external(async (octx): Promise<Outcome> => {
    const deps = octx.deps;
    // Taken once: a second press, or a second guardian, finds nothing.
    const request = await deps.services.guardianRequests.take(token, deps.now());
    if (!request) return { gone: true };
    const childT = deps.i18n.t(isLocale(request.locale) ? request.locale : "vi");
    const tell = (text: string) =>
      octx.api.sendMessage(Number(request.childId), text).catch((err: unknown) => octx.logger.info({ err }, "could not tell the child"));
    if (!guardianName) {
      await tell(childT("registration:guardian.refused_child"));
      return { refused: true };
    }
    try {
      const card = await deps.services.citizens.register(request.childId, { ...request.draft, guardianName, consentAt: deps.now().toISOString() }, deps.now(), request.locale);
      await deps.services.users.audit("guardian_consent_given", deps.now());
      await tell(`${childT("registration:guardian.approved_child", { name: guardianName })}\n\n${childT("registration:card.saved")}\n\n${formatCard(childT, card, isLocale(request.locale) ? request.locale : "vi")}`);
      return { registered: true };
    } catch (e) {
      if (e instanceof AlreadyRegisteredError) return { already: true };
      throw e;
    }
  });
  const key = "gone" in outcome ? "registration:guardian.invalid"
    : "registered" in outcome ? "registration:guardian.done_guardian"
    : "already" in outcome ? "registration:guardian.already_registered"
    : "registration:guardian.refused_guardian";
  await ctx.reply(ctx.t(key));
}
