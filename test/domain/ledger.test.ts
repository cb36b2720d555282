import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

let db: Database;
let ledger: Ledger;
const due = new Date("2026-12-20T01:00:00.000Z");

beforeAll(async () => {
  db = await openTestDatabase();
  ledger = new Ledger(db.prisma);
});
afterAll(() => db.close());

describe("delivery ledger", () => {
  it("inserts one row per chat once, and lists the open ones in order", async () => {
    expect(await ledger.insert("broadcast", "l1", [7001, 7002, 7003], due)).toBe(3);
    expect(await ledger.insert("broadcast", "l1", [7002, 7004], due)).toBe(1);
    const rows = await ledger.openRows("broadcast", "l1", "0", 10);
    expect(rows.map((r) => r.chatId)).toEqual([7001, 7002, 7003, 7004]);
    const refs = (await ledger.openRefs()).filter((r) => r.refId === "l1");
    expect(refs).toEqual([{ kind: "broadcast", refId: "l1", dueAt: due }]);
  });

  it("claims open rows once, records outcomes, and flags a re-claimed row as ambiguous", async () => {
    await db.prisma.user.create({ data: { id: 7101n, locale: "en", unreachableSince: new Date() } });
    await ledger.insert("broadcast", "l2", [7101, 7102, 7103], due);
    const ids = (await ledger.openRows("broadcast", "l2", "0", 10)).map((r) => r.id);
    const claimed = await ledger.claim(ids);
    expect(claimed.map((c) => [c.chatId, c.attempts, c.ambiguous, c.locale, c.unreachable])).toEqual([
      [7101, 1, false, "en", true], [7102, 1, false, null, false], [7103, 1, false, null, false],
    ]);
    expect(claimed[0]!.dueAt).toEqual(due);
    const sentAt = new Date("2026-12-20T01:00:02.500Z");
    await ledger.record([
      { id: ids[0]!, state: "blocked", error: "unreachable" },
      { id: ids[1]!, state: "sent", messageId: 55, sentAt },
    ]);
    // The third was handed to Telegram when the process died: claimed again, it is ambiguous.
    const again = await ledger.claim(ids);
    expect(again.map((c) => [c.chatId, c.attempts, c.ambiguous])).toEqual([[7103, 2, true]]);
    await ledger.record([{ id: ids[2]!, state: "sent", messageId: 56, sentAt }]);
    expect(await ledger.counts("broadcast", "l2")).toMatchObject({ sent: 2, blocked: 1, queued: 0, ambiguous: 1, total: 3 });
    const row = await db.prisma.delivery.findFirstOrThrow({ where: { kind: "broadcast", refId: "l2", chatId: 7102n } });
    expect(row).toMatchObject({ state: "sent", telegramMessageId: 55, sentAt });
    expect(await ledger.hasOpen("broadcast", "l2")).toBe(false);
  });

  it("puts a row Telegram refused with 429 back without ambiguity, and cancels and moves queued rows", async () => {
    await ledger.insert("reminder", "l3", [7201, 7202], due);
    const [a] = await ledger.claim((await ledger.openRows("reminder", "l3", "0", 1)).map((r) => r.id));
    await ledger.record([{ id: a!.id, state: "queued" }]);
    expect((await ledger.claim([a!.id]))[0]).toMatchObject({ attempts: 2, ambiguous: false });
    await ledger.record([{ id: a!.id, state: "queued" }]);
    const later = new Date("2026-12-21T01:00:00.000Z");
    expect(await ledger.reschedule("reminder", "l3", later)).toBe(2);
    expect((await ledger.openRefs()).find((r) => r.refId === "l3")?.dueAt).toEqual(later);
    expect(await ledger.cancel("reminder", "l3", "session cancelled")).toBe(2);
    expect(await ledger.counts("reminder", "l3")).toMatchObject({ cancelled: 2, queued: 0 });
  });

  it("marks people unreachable in one statement", async () => {
    await db.prisma.user.createMany({ data: [{ id: 7301n }, { id: 7302n }] });
    await ledger.markUnreachable([7301, 7302, 7303], new Date("2026-12-20T01:00:00Z"));
    const users = await db.prisma.user.findMany({ where: { id: { in: [7301n, 7302n] } }, orderBy: { id: "asc" } });
    expect(users.map((u) => u.unreachableSince?.toISOString())).toEqual(["2026-12-20T01:00:00.000Z", "2026-12-20T01:00:00.000Z"]);
  });

  it("refuses kinds and refs that would break queue job ids", async () => {
    await expect(ledger.insert("broadcast", "a:b", [1], due)).rejects.toThrow(/ref/);
    await expect(ledger.insert("Broadcast", "1", [1], due)).rejects.toThrow(/kind/);
  });
});
