/**
 * What residents and members see of scholarship rounds (issue 10): the rounds relevant to a
 * person (their province's and nationwide ones, open first, then upcoming), one round's card,
 * "remind me" subscriptions, and those subscriptions as a part of the person's data.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";
import { formatDay, readRules, roundPhase, vnDay, type Day, type RoundPhase, type RoundRules } from "./model.js";

/** Everything a round's card and its details show, with the person's subscription. */
export interface RoundCard {
  id: number;
  programme: string;
  year: number;
  organiserBody: string;
  /** Null: nationwide. */
  provinceCode: string | null;
  eligibility: string;
  rules: RoundRules;
  awardValueVnd: bigint | null;
  awardCount: number | null;
  opensOn: Day;
  deadlineOn: Day;
  awardOn: Day;
  howToApply: string;
  contact: string;
  phase: RoundPhase;
  subscribed: boolean;
}

export interface RelevantPage {
  items: RoundCard[];
  /** Rounds on all pages. */
  total: number;
  /** The province of the person's learning card (null: not registered). */
  homeProvinceCode: string | null;
  /** The province whose rounds are listed besides the nationwide ones (null: nationwide only). */
  provinceCode: string | null;
}

export interface RelevantOptions {
  page?: number;
  pageSize?: number;
  /** Another province than the person's own (someone not registered names theirs). */
  provinceCode?: string;
}

export type SubscribeResult =
  | { status: "subscribed" | "already" }
  | { status: "refused"; reason: "not_found" | "cancelled" | "closed" | "not_registered" };

export type UnsubscribeResult = { status: "unsubscribed" | "not_subscribed" } | { status: "refused"; reason: "not_found" };

interface RoundRow {
  home: string | null;
  id: number | null;
  programme: string;
  year: number;
  organiser_body: string;
  province_code: string | null;
  eligibility: string;
  rules: unknown;
  award_value_vnd: bigint | null;
  award_count: number | null;
  opens_on: Date;
  deadline_on: Date;
  award_on: Date;
  how_to_apply: string;
  contact: string;
  state: string;
  subscribed: boolean;
  total: bigint | number;
}

/**
 * The page of rounds and the person's home province in one statement: the lateral join yields
 * one row with the province even when no round is listed. Open rounds (opened by today) first,
 * by deadline; then upcoming ones by opening day. Rounds closed early or cancelled are not listed.
 */
const RELEVANT_SQL = `
WITH me AS (SELECT (SELECT province_code FROM learning_citizens WHERE user_id = $1) AS home)
SELECT me.home, r.* FROM me LEFT JOIN LATERAL (
  SELECT r.id, r.programme, r.year, r.organiser_body, r.province_code, r.eligibility, r.rules, r.award_value_vnd,
    r.award_count, r.opens_on, r.deadline_on, r.award_on, r.how_to_apply, r.contact, r.state::text AS state,
    EXISTS (SELECT 1 FROM scholarship_subscriptions s WHERE s.round_id = r.id AND s.user_id = $1) AS subscribed,
    count(*) OVER () AS total
  FROM scholarship_rounds r
  WHERE r.state = 'active' AND r.deadline_on >= $2::date
    AND (r.province_code IS NULL OR r.province_code = COALESCE($3::text, me.home))
  ORDER BY (r.opens_on > $2::date), CASE WHEN r.opens_on > $2::date THEN r.opens_on ELSE r.deadline_on END, r.id
  LIMIT $4 OFFSET $5
) r ON true`;

const isoDay = (d: Day) => d.toISOString().slice(0, 10);

export class ScholarshipListing {
  constructor(private readonly deps: { prisma: PrismaClient; now: () => Date }) {}

  /** Rounds the person can still act on, in their province and nationwide, a page at a time. */
  async relevant(userId: string, opts: RelevantOptions = {}): Promise<RelevantPage> {
    const now = this.deps.now();
    const pageSize = Math.max(1, Math.min(opts.pageSize ?? 1, 50));
    const page = Math.max(0, opts.page ?? 0);
    const rows = await this.deps.prisma.$queryRawUnsafe<RoundRow[]>(
      RELEVANT_SQL, BigInt(userId), isoDay(vnDay(now)), opts.provinceCode ?? null, pageSize, page * pageSize,
    );
    const home = rows[0]?.home ?? null;
    const items = rows.filter((r) => r.id !== null).map((r) => toCard(r, now));
    return { items, total: Number(rows.find((r) => r.id !== null)?.total ?? 0), homeProvinceCode: home, provinceCode: opts.provinceCode ?? home };
  }

  /** One round as its card shows it; undefined for a missing or cancelled round. */
  async card(userId: string, roundId: number): Promise<RoundCard | undefined> {
    const r = await this.deps.prisma.scholarshipRound.findUnique({
      where: { id: roundId },
      include: { subscriptions: { where: { userId: BigInt(userId) }, select: { userId: true } } },
    });
    if (!r || r.state === "cancelled") return undefined;
    return {
      id: r.id, programme: r.programme, year: r.year, organiserBody: r.organiserBody, provinceCode: r.provinceCode,
      eligibility: r.eligibility, rules: readRules(r.rules), awardValueVnd: r.awardValueVnd, awardCount: r.awardCount,
      opensOn: r.opensOn, deadlineOn: r.deadlineOn, awardOn: r.awardOn, howToApply: r.howToApply, contact: r.contact,
      phase: roundPhase(r, this.deps.now()), subscribed: r.subscriptions.length > 0,
    };
  }

  /**
   * "Remind me": idempotent. Refused for a round that is cancelled, closed or past its deadline,
   * and for someone the bot does not know yet (no user row: people are stored once they register).
   */
  async subscribe(userId: string, roundId: number): Promise<SubscribeResult> {
    const now = this.deps.now();
    const round = await this.deps.prisma.scholarshipRound.findUnique({ where: { id: roundId }, select: { state: true, opensOn: true, deadlineOn: true } });
    if (!round) return { status: "refused", reason: "not_found" };
    const phase = roundPhase(round, now);
    if (phase === "cancelled" || phase === "closed") return { status: "refused", reason: phase };
    // One statement: the row only when the user row exists; a second tap changes nothing.
    const added = await this.deps.prisma.$executeRawUnsafe(
      `INSERT INTO scholarship_subscriptions (round_id, user_id, created_at)
       SELECT $1, u.telegram_id, $3::timestamp FROM users u WHERE u.telegram_id = $2
       ON CONFLICT (round_id, user_id) DO NOTHING`,
      roundId, BigInt(userId), now.toISOString().replace("Z", ""),
    );
    if (added > 0) return { status: "subscribed" };
    const known = await this.deps.prisma.user.count({ where: { id: BigInt(userId) } });
    return known ? { status: "already" } : { status: "refused", reason: "not_registered" };
  }

  /** Stops the reminders of a round; never refused for a round that exists (stopping is always allowed). */
  async unsubscribe(userId: string, roundId: number): Promise<UnsubscribeResult> {
    const removed = await this.deps.prisma.scholarshipSubscription.deleteMany({ where: { roundId, userId: BigInt(userId) } });
    if (removed.count > 0) return { status: "unsubscribed" };
    const exists = await this.deps.prisma.scholarshipRound.count({ where: { id: roundId } });
    return exists ? { status: "not_subscribed" } : { status: "refused", reason: "not_found" };
  }

  /** The person's "remind me" subscriptions, for /mydata and /deleteme. */
  dataParts(): PersonalDataPart[] {
    const prisma = this.deps.prisma;
    return [
      {
        key: "scholarship_subscriptions",
        label: "scholarships:privacy_part",
        kind: "database",
        export: async (id) => {
          const rows = await prisma.scholarshipSubscription.findMany({
            where: { userId: BigInt(id) },
            orderBy: { createdAt: "asc" },
            select: { createdAt: true, round: { select: { programme: true, year: true, deadlineOn: true } } },
          });
          return rows.length
            ? toPlainJson(rows.map((r) => ({ programme: r.round.programme, year: r.round.year, deadline: formatDay(r.round.deadlineOn), since: r.createdAt })))
            : null;
        },
        exists: async (id) => (await prisma.scholarshipSubscription.count({ where: { userId: BigInt(id) } })) > 0,
        erase: async (id, tx) => (await (tx ?? prisma).scholarshipSubscription.deleteMany({ where: { userId: BigInt(id) } })).count > 0,
      },
    ];
  }
}

function toCard(r: RoundRow, now: Date): RoundCard {
  return {
    id: r.id!, programme: r.programme, year: r.year, organiserBody: r.organiser_body, provinceCode: r.province_code,
    eligibility: r.eligibility, rules: readRules(r.rules), awardValueVnd: r.award_value_vnd === null ? null : BigInt(r.award_value_vnd),
    awardCount: r.award_count, opensOn: r.opens_on, deadlineOn: r.deadline_on, awardOn: r.award_on, howToApply: r.how_to_apply,
    contact: r.contact, phase: roundPhase({ state: r.state, opensOn: r.opens_on, deadlineOn: r.deadline_on }, now), subscribed: r.subscribed,
  };
}
