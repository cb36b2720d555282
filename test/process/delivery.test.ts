import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import { createQueueRedis } from "../../src/infra/queue-redis.js";
import { Deliveries } from "../../src/jobs/delivery-scheduler.js";
import { openQueues } from "../../src/jobs/queues.js";
import { seedBroadcast } from "../support/broadcast-seed.js";
import { BotProcess, botEnv, stopAllBotProcesses } from "../support/bot-process.js";
import { createSeededDatabase, currentLane } from "../support/database.js";
import { freePort } from "../support/ports.js";
import { startFakeBotApiServer, type FakeBotApiServer } from "../support/telegram/index.js";

const OFFICER = 990_000_101;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await stopAllBotProcesses();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fake Telegram with Telegram's limits, a seeded database with `n` people and a broadcast to them. */
async function scene(n: number, base: number, opts: { seedLater?: boolean } = {}) {
  const server = await startFakeBotApiServer({ recordCalls: false });
  server.fake.setLimits({ globalPerSecond: 30, perChatPerSecond: 1 });
  cleanups.push(() => server.close());
  server.fake.registerChat(OFFICER);
  for (let i = 1; i <= n; i++) server.fake.registerChat(base + i);
  const dataDir = mkdtempSync(path.join(tmpdir(), "khb-dlv-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const database = await createSeededDatabase(dataDir);
  cleanups.push(() => database.drop());
  const prefix = `t${randomBytes(5).toString("hex")}`;
  const seed = async () => {
    const db = await database.open();
    try {
      return await seedBroadcast(db.prisma, OFFICER, base, n);
    } finally {
      await db.close();
    }
  };
  const broadcast = opts.seedLater ? undefined : await seed();
  const env = (extra: Record<string, string | undefined> = {}) => botEnv(server, {
    DATA_DIR: dataDir, DATABASE_URL: database.url, REDIS_URL: inject("redisUrl"),
    QUEUE_PREFIX: prefix, LOG_LEVEL: "info", ...extra,
  });
  return { server, database, broadcast: broadcast!, env, seed, prefix };
}

function reached(server: FakeBotApiServer, base: number, n: number): { distinct: number; twice: number[] } {
  const perChat = server.fake.sendStats().perChat;
  let distinct = 0;
  const twice: number[] = [];
  for (let i = 1; i <= n; i++) {
    const c = perChat.get(base + i) ?? 0;
    if (c > 0) distinct++;
    if (c > 1) twice.push(base + i);
  }
  return { distinct, twice };
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("delivery across processes", () => {
  it("a broadcast survives a SIGKILL of the sending bot: after a restart everyone has it once, or it is counted ambiguous", async () => {
    const n = 90;
    const base = 510_000_000;
    const { server, database, broadcast, env } = await scene(n, base);
    const e = env({ SEND_RATE_PER_SECOND: "10" });
    const first = BotProcess.start(e);
    await until("a third delivered", () => reached(server, base, n).distinct >= 30, 60_000);
    await first.kill();
    const atKill = reached(server, base, n).distinct;
    expect(atKill).toBeLessThan(n);

    const second = BotProcess.start(e);
    await until("everyone delivered", () => reached(server, base, n).distinct === n, 90_000);
    await second.waitForOutput(/broadcast.*(done|finished)/i, 30_000).catch(() => {});
    expect(await second.stop()).toBe(0);

    const db = await database.open();
    try {
      const rows = await db.prisma.delivery.findMany({ where: { kind: "broadcast", refId: broadcast.id } });
      expect(rows).toHaveLength(n);
      expect(rows.filter((r) => r.state !== "sent")).toEqual([]);
      // A second copy only where the ledger cannot know whether Telegram took the first.
      const { twice } = reached(server, base, n);
      const ambiguous = new Set(rows.filter((r) => r.ambiguous).map((r) => Number(r.chatId)));
      for (const chat of twice) expect(ambiguous.has(chat)).toBe(true);
      expect(ambiguous.size).toBeLessThanOrEqual(20);
    } finally {
      await db.close();
    }
  }, 180_000);

  it.runIf(currentLane() === "postgres")("a bot and a separate worker share one broadcast: each person once, the rate shared", async () => {
    const n = 240;
    const base = 520_000_000;
    const { server, env, database, seed, prefix } = await scene(n, base, { seedLater: true });
    const [botPort, workerPort] = [await freePort(), await freePort()];
    const bot = BotProcess.start(env({ HTTP_PORT: String(botPort) }));
    const worker = BotProcess.start(env({ HTTP_PORT: String(workerPort) }), "src/worker.ts");
    // Both are up before the broadcast is confirmed, as in a running deployment.
    await bot.waitForOutput(/"msg":"delivery worker started"/);
    await worker.waitForOutput(/"msg":"delivery worker started"/);
    const broadcast = await seed();
    const queues = openQueues(createQueueRedis(inject("redisUrl"), "queue"), prefix);
    cleanups.push(() => queues.close());
    const db0 = await database.open();
    cleanups.push(() => db0.close());
    await new Deliveries(new Ledger(db0.prisma), queues, () => new Date()).release("broadcast", broadcast.id, new Date());
    await until("everyone delivered", () => reached(server, base, n).distinct === n, 90_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(reached(server, base, n).twice).toEqual([]);
    const sentBy = async (port: number) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^khb_sends_total\{kind="broadcast",outcome="sent"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const [byBot, byWorker] = [await sentBy(botPort), await sentBy(workerPort)];
    expect(byBot).toBeGreaterThan(0);
    expect(byWorker).toBeGreaterThan(0);
    expect(byBot + byWorker).toBe(n);
    expect(await worker.stop()).toBe(0);
    expect(await bot.stop()).toBe(0);
    const db = await database.open();
    try {
      expect(await db.prisma.delivery.count({ where: { kind: "broadcast", refId: broadcast.id, state: "sent" } })).toBe(n);
    } finally {
      await db.close();
    }
  }, 180_000);
});
