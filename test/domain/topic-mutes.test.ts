import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notMutedSql, TopicMutes } from "../../src/domain/settings/topic-mutes.js";
import { announcementBodyOf, announcementTopic, createTopicCatalogue, TopicCatalogue, UnknownTopicError } from "../../src/domain/settings/topics.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

// One database per file; every test uses its own Telegram ids, so each passes alone.
let db: Database;
let mutes: TopicMutes;
const now = new Date("2026-12-01T01:00:00Z");

beforeAll(async () => {
  db = await openTestDatabase();
  mutes = new TopicMutes(db.prisma, createTopicCatalogue(), () => now);
});
afterAll(() => db.close());

describe("topic catalogue", () => {
  it("holds one announcement topic per sender body, and later features add theirs", () => {
    const catalogue = createTopicCatalogue();
    expect(catalogue.keys()).toEqual(["ann:association", "ann:military_command", "ann:police", "ann:border_guard", "ann:other"]);
    expect(announcementTopic("police")).toBe("ann:police");
    expect(announcementBodyOf("association_member")).toBe("association");
    expect(announcementBodyOf("other_organisation")).toBe("other");
    expect(announcementBodyOf("resident")).toBeUndefined();
    catalogue.register({ key: "quiz_daily", labelKey: "quizzes:topic", group: "quizzes" });
    // Topics stay grouped: a later announcement topic is listed with the others, before quizzes.
    catalogue.register({ key: "ann:school", labelKey: "settings:topics.ann_school", group: "announcements" });
    expect(catalogue.keys()).toEqual(["ann:association", "ann:military_command", "ann:police", "ann:border_guard", "ann:other", "ann:school", "quiz_daily"]);
    expect(() => catalogue.register({ key: "quiz_daily", labelKey: "x", group: "quizzes" })).toThrow(/twice/);
    for (const bad of ["Quiz", "a b", "ann:", "x".repeat(33), "ann:police:extra"]) {
      expect(() => new TopicCatalogue().register({ key: bad, labelKey: "x", group: "g" }), bad).toThrow(/topic key/);
    }
  });
});

describe("topic mutes", () => {
  it("mutes and unmutes idempotently, and says whether anything changed", async () => {
    expect(await mutes.isMuted(5001, "ann:police")).toBe(false);
    expect(await mutes.mute(5001, "ann:police")).toBe(true);
    expect(await mutes.mute("5001", "ann:police")).toBe(false);
    expect(await mutes.isMuted(5001n, "ann:police")).toBe(true);
    expect(await mutes.isMuted(5001, "ann:association")).toBe(false);
    const row = await db.prisma.topicMute.findUnique({ where: { userId_topic: { userId: 5001n, topic: "ann:police" } } });
    expect(row?.mutedAt.toISOString()).toBe(now.toISOString());
    expect(await mutes.unmute(5001, "ann:police")).toBe(true);
    expect(await mutes.unmute(5001, "ann:police")).toBe(false);
    expect(await mutes.isMuted(5001, "ann:police")).toBe(false);
  });

  it("lists muted topics in catalogue order and ignores topics no longer offered", async () => {
    await mutes.mute(5002, "ann:other");
    await mutes.mute(5002, "ann:association");
    await db.prisma.topicMute.create({ data: { userId: 5002n, topic: "ann:retired", mutedAt: now } });
    expect(await mutes.mutedTopics(5002)).toEqual(["ann:association", "ann:other"]);
    expect(await mutes.mutedTopics(5099)).toEqual([]);
  });

  it("refuses topics the catalogue does not know, storing nothing", async () => {
    for (const call of [() => mutes.mute(5003, "ann:nobody"), () => mutes.unmute(5003, "x"), () => mutes.isMuted(5003, "ann:"), () => mutes.mutedAmong("quiz", [5003])]) {
      await expect(call()).rejects.toBeInstanceOf(UnknownTopicError);
    }
    expect(await db.prisma.topicMute.count({ where: { userId: 5003n } })).toBe(0);
  });

  it("finds who muted a topic among a batch in one call", async () => {
    await mutes.mute(5011, "ann:border_guard");
    await mutes.mute(5013, "ann:border_guard");
    await mutes.mute(5012, "ann:police");
    expect([...(await mutes.mutedAmong("ann:border_guard", [5011, "5012", 5013n, 5014]))].sort()).toEqual(["5011", "5013"]);
    expect(await mutes.mutedAmong("ann:border_guard", [])).toEqual(new Set());
  });

  it("gives the audience query one condition that leaves muted people out", async () => {
    for (const id of [5021n, 5022n, 5023n]) await db.prisma.user.create({ data: { id } });
    await mutes.mute(5022, "ann:military_command");
    await mutes.mute(5023, "ann:police");
    const audience = async (topic: string) =>
      (await db.prisma.$queryRawUnsafe<{ id: bigint }[]>(
        `SELECT u.telegram_id AS id FROM users u WHERE u.telegram_id BETWEEN 5021 AND 5029 AND ${notMutedSql("u.telegram_id", 1)} ORDER BY 1`,
        topic,
      )).map((r) => String(r.id));
    expect(await audience("ann:military_command")).toEqual(["5021", "5023"]);
    expect(await audience("ann:police")).toEqual(["5021", "5022"]);
    expect(await audience("ann:association")).toEqual(["5021", "5022", "5023"]);
  });

  it("writes only a column name into the SQL", () => {
    expect(notMutedSql("c.user_id", 3)).toBe("NOT EXISTS (SELECT 1 FROM topic_mutes tm_mute WHERE tm_mute.user_id = c.user_id AND tm_mute.topic = $3)");
    for (const bad of ["u.id; DROP TABLE users", "1=1 OR u.id", "", "u.id --"]) expect(() => notMutedSql(bad, 1)).toThrow(/column/);
    expect(() => notMutedSql("u.id", 0)).toThrow(/parameter/);
  });
});
