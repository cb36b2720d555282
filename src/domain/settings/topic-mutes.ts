import type { PrismaClient } from "../../generated/prisma/client.js";
import type { TopicCatalogue } from "./topics.js";

/** A Telegram user id as the bot gets it (number from grammY, string from JSON, bigint from Prisma). */
export type UserId = string | number | bigint;

const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/**
 * SQL condition, true when the person in `userColumn` has NOT muted the topic bound to
 * `$<topicParamIndex>`, for the one statement that selects an audience (no per-person lookups):
 *
 *   const sql = `SELECT u.telegram_id FROM users u JOIN learning_citizens c ON c.user_id = u.telegram_id
 *                WHERE c.province_code = $1 AND u.unreachable_since IS NULL AND ${notMutedSql("u.telegram_id", 2)}`;
 *   await prisma.$queryRawUnsafe(sql, "08", announcementTopic("police"));
 *
 * `userColumn` is written into the SQL as is, so it must be a (qualified) column name, never
 * input: anything else throws. The topic is always a bound parameter; validate it with the
 * catalogue first. Uses topic_mutes' primary key (user_id, topic).
 */
export function notMutedSql(userColumn: string, topicParamIndex: number): string {
  if (!COLUMN.test(userColumn)) throw new Error(`not a column name: ${userColumn}`);
  if (!Number.isInteger(topicParamIndex) || topicParamIndex < 1) throw new Error(`not a parameter index: ${topicParamIndex}`);
  return `NOT EXISTS (SELECT 1 FROM topic_mutes tm_mute WHERE tm_mute.user_id = ${userColumn} AND tm_mute.topic = $${topicParamIndex})`;
}

/** Who switched off which topic (table topic_mutes). Every topic is checked against the catalogue. */
export class TopicMutes {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly catalogue: TopicCatalogue,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async isMuted(userId: UserId, topic: string): Promise<boolean> {
    this.catalogue.require(topic);
    return (await this.prisma.topicMute.count({ where: { userId: BigInt(userId), topic } })) > 0;
  }

  /** The person's muted topics that still exist, in catalogue order. */
  async mutedTopics(userId: UserId): Promise<string[]> {
    const rows = await this.prisma.topicMute.findMany({ where: { userId: BigInt(userId) }, select: { topic: true } });
    const muted = new Set(rows.map((r) => r.topic));
    return this.catalogue.keys().filter((k) => muted.has(k));
  }

  /** Idempotent; true when the topic was on until now. */
  async mute(userId: UserId, topic: string): Promise<boolean> {
    this.catalogue.require(topic);
    const { count } = await this.prisma.topicMute.createMany({ data: [{ userId: BigInt(userId), topic, mutedAt: this.now() }], skipDuplicates: true });
    return count > 0;
  }

  /** Idempotent; true when the topic was muted until now. */
  async unmute(userId: UserId, topic: string): Promise<boolean> {
    this.catalogue.require(topic);
    const { count } = await this.prisma.topicMute.deleteMany({ where: { userId: BigInt(userId), topic } });
    return count > 0;
  }

  /**
   * Which of these people muted the topic, in one query: for a sender that checks a claimed
   * batch again at send time (someone may mute after the recipient list was frozen).
   */
  async mutedAmong(topic: string, userIds: readonly UserId[]): Promise<Set<string>> {
    this.catalogue.require(topic);
    if (userIds.length === 0) return new Set();
    const rows = await this.prisma.topicMute.findMany({ where: { topic, userId: { in: userIds.map((id) => BigInt(id)) } }, select: { userId: true } });
    return new Set(rows.map((r) => r.userId.toString()));
  }
}
