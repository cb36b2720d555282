/**
 * A unit head's "📣 Nhắc tất cả": one message to every member of the unit who has not registered as
 * a learning citizen yet, through the delivery engine ("unit_nudge", rendered in each person's
 * language, with the registration button). People who muted the "unit_nudges" topic or blocked the
 * bot are left out; at most one nudge per unit in 24 hours. Only the unit's heads may send it.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { DEFAULT_LOCALE, escapeHtml as h, isLocale, type I18n } from "../../i18n.js";
import type { Logger } from "../../logger.js";
import type { DeliveryKind, DeliveryScheduler, RenderOutcome } from "../delivery/types.js";

export const UNIT_NUDGE_KIND = "unit_nudge";
/** The /settings topic: "lời nhắc đăng ký từ đơn vị". */
export const UNIT_NUDGES_TOPIC = "unit_nudges";
export const NUDGE_INTERVAL_MS = 24 * 3600 * 1000;

export type NudgeResult =
  | { ok: true; sent: number; unitName: string }
  | { ok: false; reason: "not_found" | "heads_only" | "nobody"; unitName?: string }
  | { ok: false; reason: "too_soon"; unitName: string; nextAt: Date };

export interface NudgePreview {
  ok: true;
  unitName: string;
  /** Members not registered yet (all of them, muted or not). */
  unregistered: number;
  /** Of those, who would get it (not muted, reachable). */
  recipients: number;
  /** Set while the last nudge is under 24 hours old. */
  nextAt?: Date;
}

const isoNoZ = (d: Date) => d.toISOString().replace("Z", "");
/** ref: "<unit id>.<epoch seconds>": one nudge of one unit. */
export const nudgeRef = (unitId: number, at: Date) => `${unitId}.${Math.floor(at.getTime() / 1000)}`;
function parseRef(ref: string): { unitId: number } | undefined {
  const m = /^(\d{1,9})\.\d{1,12}$/.exec(ref);
  return m ? { unitId: Number(m[1]) } : undefined;
}

/** Unregistered, reachable, not muted members of unit $1 ($2 the topic). */
const RECIPIENTS = `
  FROM unit_members m
  JOIN users us ON us.telegram_id = m.user_id
 WHERE m.unit_id = $1
   AND NOT EXISTS (SELECT 1 FROM learning_citizens lc WHERE lc.user_id = m.user_id)
   AND NOT EXISTS (SELECT 1 FROM topic_mutes t WHERE t.user_id = m.user_id AND t.topic = $2)
   AND us.unreachable_since IS NULL`;

export interface UnitNudgesDeps {
  prisma: PrismaClient;
  deliveries: Pick<DeliveryScheduler, "release">;
  now: () => Date;
  logger: Logger;
}

export class UnitNudges {
  constructor(private readonly d: UnitNudgesDeps) {}

  /** What the confirm screen shows: how many would get it, and when the next nudge is allowed. */
  async preview(userId: string, unitId: number): Promise<NudgePreview | { ok: false; reason: "not_found" | "heads_only" }> {
    const unit = await this.headedUnit(userId, unitId);
    if (!unit.ok) return unit;
    const [counts, last] = await Promise.all([
      this.d.prisma.$queryRawUnsafe<Array<{ unregistered: number; recipients: number }>>(
        `SELECT (SELECT count(*)::int FROM unit_members m WHERE m.unit_id = $1 AND NOT EXISTS (SELECT 1 FROM learning_citizens lc WHERE lc.user_id = m.user_id)) AS unregistered,
                (SELECT count(*)::int ${RECIPIENTS}) AS recipients`,
        unitId, UNIT_NUDGES_TOPIC,
      ),
      this.lastNudge(unitId),
    ]);
    const nextAt = last ? new Date(last.getTime() + NUDGE_INTERVAL_MS) : undefined;
    return {
      ok: true, unitName: unit.name, unregistered: counts[0]?.unregistered ?? 0, recipients: counts[0]?.recipients ?? 0,
      ...(nextAt && nextAt > this.d.now() ? { nextAt } : {}),
    };
  }

  /**
   * Queues the nudge: one INSERT … SELECT for all the unit's unregistered, reachable, unmuted
   * members, in the transaction that checks the 24-hour limit under the unit's row lock (two heads
   * pressing at once send one), audited with the count; released after the commit.
   */
  async send(userId: string, unitId: number): Promise<NudgeResult> {
    const unit = await this.headedUnit(userId, unitId);
    if (!unit.ok) return unit;
    const now = this.d.now();
    const ref = nudgeRef(unitId, now);
    const outcome = await this.d.prisma.$transaction(async (tx) => {
      await tx.$queryRawUnsafe(`SELECT id FROM units WHERE id = $1 FOR UPDATE`, unitId);
      const last = await this.lastNudge(unitId, tx as unknown as PrismaClient);
      if (last && last.getTime() + NUDGE_INTERVAL_MS > now.getTime()) return { tooSoon: new Date(last.getTime() + NUDGE_INTERVAL_MS) };
      const sent = await tx.$executeRawUnsafe(
        `INSERT INTO deliveries (kind, ref_id, chat_id, due_at)
         SELECT $3, $4, m.user_id, $5::timestamp ${RECIPIENTS}
         ON CONFLICT (kind, ref_id, chat_id) DO NOTHING`,
        unitId, UNIT_NUDGES_TOPIC, UNIT_NUDGE_KIND, ref, isoNoZ(now),
      );
      if (sent === 0) return { sent };
      await tx.auditLog.create({ data: { actorId: BigInt(userId), action: "unit_nudge", detail: { unitId, count: sent }, at: now } });
      return { sent };
    });
    if ("tooSoon" in outcome) return { ok: false, reason: "too_soon", unitName: unit.name, nextAt: outcome.tooSoon! };
    if (outcome.sent === 0) return { ok: false, reason: "nobody", unitName: unit.name };
    await this.d.deliveries.release(UNIT_NUDGE_KIND, ref, now);
    this.d.logger.info({ unit: unitId, count: outcome.sent }, "unit nudge queued");
    return { ok: true, sent: outcome.sent, unitName: unit.name };
  }

  private async lastNudge(unitId: number, db: PrismaClient = this.d.prisma): Promise<Date | undefined> {
    const rows = await db.$queryRawUnsafe<Array<{ at: Date | null }>>(
      `SELECT max(at) AS at FROM audit_log WHERE action = 'unit_nudge' AND (detail->>'unitId') = $1`, String(unitId),
    );
    const at = rows[0]?.at;
    return at ? new Date(at) : undefined;
  }

  private async headedUnit(userId: string, unitId: number): Promise<{ ok: true; name: string } | { ok: false; reason: "not_found" | "heads_only" }> {
    if (!Number.isSafeInteger(unitId) || unitId <= 0 || unitId > 2_147_483_647 || !/^\d{1,16}$/.test(userId)) return { ok: false, reason: "not_found" };
    const unit = await this.d.prisma.unit.findFirst({ where: { id: unitId, deletedAt: null }, select: { name: true } });
    if (!unit) return { ok: false, reason: "not_found" };
    const head = await this.d.prisma.unitMember.count({ where: { unitId, userId: BigInt(userId), role: "head" } });
    if (!head) {
      this.d.logger.warn({ unit: unitId, user: userId }, "refused a unit nudge to someone not its head");
      return { ok: false, reason: "heads_only" };
    }
    return { ok: true, name: unit.name };
  }
}

export interface UnitNudgeKindDeps {
  prisma: PrismaClient;
  i18n: I18n;
  /** Callback data of the registration button (the start feature handles it). */
  registerButton: () => string;
  /** Callback data of the mute button for a topic (the settings feature handles it). */
  mute: (topic: string) => string;
}

/**
 * "unit_nudge": "Đơn vị X mời bạn đăng ký Công dân học tập", in the person's language, with the
 * registration button. Skipped when the person registered, left the unit or muted the topic since.
 */
export function unitNudgeKind(d: UnitNudgeKindDeps): DeliveryKind {
  return {
    kind: UNIT_NUDGE_KIND,
    priority: 5,
    async render(rows) {
      const out = new Map<string, RenderOutcome>();
      const parsed = rows.map((row) => ({ row, ref: parseRef(row.refId) }));
      const valid = parsed.filter((p) => p.ref);
      const state = valid.length === 0 ? [] : await d.prisma.$queryRawUnsafe<Array<{ unit_id: number; chat_id: string; name: string | null; member: boolean; registered: boolean; muted: boolean }>>(
        `SELECT x.unit_id, x.chat_id::text AS chat_id, u.name,
                EXISTS (SELECT 1 FROM unit_members m WHERE m.unit_id = x.unit_id AND m.user_id = x.chat_id) AS member,
                EXISTS (SELECT 1 FROM learning_citizens lc WHERE lc.user_id = x.chat_id) AS registered,
                EXISTS (SELECT 1 FROM topic_mutes t WHERE t.user_id = x.chat_id AND t.topic = $3) AS muted
           FROM unnest($1::int[], $2::bigint[]) AS x(unit_id, chat_id)
           LEFT JOIN units u ON u.id = x.unit_id AND u.deleted_at IS NULL`,
        valid.map((p) => p.ref!.unitId), valid.map((p) => String(p.row.chatId)), UNIT_NUDGES_TOPIC,
      );
      const byKey = new Map(state.map((s) => [`${s.unit_id}:${s.chat_id}`, s]));
      for (const { row, ref } of parsed) {
        const s = ref ? byKey.get(`${ref.unitId}:${row.chatId}`) : undefined;
        if (!s || s.name === null) out.set(row.id, { skip: "unit gone" });
        else if (!s.member) out.set(row.id, { skip: "left the unit" });
        else if (s.registered) out.set(row.id, { skip: "registered" });
        else if (s.muted) out.set(row.id, { skip: "muted" });
        else {
          const t = d.i18n.t(isLocale(row.locale) ? row.locale : DEFAULT_LOCALE);
          out.set(row.id, {
            method: "sendMessage",
            payload: {
              text: t("targets:nudge.message", { unit: h(s.name), interpolation: { escapeValue: false } }),
              parse_mode: "HTML",
              reply_markup: {
                inline_keyboard: [
                  [{ text: t("common:start.register_button"), callback_data: d.registerButton() }],
                  [{ text: t("settings:mute_button", { topic: t("targets:nudge.settings_topic"), interpolation: { escapeValue: false } }), callback_data: d.mute(UNIT_NUDGES_TOPIC) }],
                ],
              },
            },
          });
        }
      }
      return out;
    },
  };
}
