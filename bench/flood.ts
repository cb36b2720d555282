/**
 * `npm run bench:flood`: one chat floods the bot with 2,000 updates while 50 other people
 * register; the others' latency and throughput are compared with the same run without the flood.
 * The bot runs as `npm start` does, in its own process, in webhook mode on loopback (as the
 * registration benchmark), so the flood takes real in-flight slots: `BENCH_FLOOD_CONCURRENCY`
 * posts at a time (default 40, Telegram's default webhook max_connections).
 *
 *   BENCH_USERS (50), BENCH_FLOOD (2000), BENCH_DATABASE_URL, BENCH_REDIS_URL as for bench:updates
 *
 * Prints readable figures, then as its last line one JSON object:
 * {"others_p99_ms":…,"baseline_p99_ms":…,"ratio":…}
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Update } from "grammy/types";
import { readAdminUnits } from "../src/domain/geo/seed-admin-units.js";
import { searchForm } from "../src/domain/geo/normalize.js";
import { startFakeBotApiServer } from "../test/support/telegram/index.js";
import { drive, nextUpdateId, percentile, registrationScript, startBot, startTcpRedis, text, type RunResult } from "./harness.js";

const USERS = Number(process.env.BENCH_USERS ?? 50);
const FLOOD = Number(process.env.BENCH_FLOOD ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_FLOOD_CONCURRENCY ?? 40);
const FLOODER = 777_000_001;

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), "khb-flood-"));
  const local = process.env.BENCH_REDIS_URL ? undefined : await startTcpRedis(path.join(scratch, "redis"));
  const redisUrl = process.env.BENCH_REDIS_URL ?? local!.url;
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const idBase = 1_000_000_000 * (1 + Math.floor(Math.random() * 1000));
  const { data } = readAdminUnits();
  const places = data.provinces.map((p) => ({ provinceCode: p.code, query: searchForm(p.communes[0]!.name), communeCode: p.communes[0]!.code }));
  const scripts = Array.from({ length: USERS }, (_, i) => registrationScript(places[i % places.length]!));

  const api = await startFakeBotApiServer();
  const bot = await startBot(api, path.join(scratch, "data"), redisUrl, databaseUrl);
  try {
    // Warm-up, then the baseline: the same people's registrations with nobody flooding.
    await drive(bot.target, api.fake, scripts.slice(0, 5), idBase);
    const baseline = await drive(bot.target, api.fake, scripts, idBase + 100_000);
    api.fake.reset();

    let sent = 0;
    let flooderAnswers = 0;
    const flood = async () => {
      for (;;) {
        const i = sent++;
        if (i >= FLOOD) return;
        const update = { ...text(FLOODER, `spam ${i}`), update_id: nextUpdateId() } as Update;
        api.fake.registerUpdate(update);
        await bot.target.handleUpdate(update);
      }
    };
    const flooding = Promise.all(Array.from({ length: CONCURRENCY }, flood));
    const others = await drive(bot.target, api.fake, scripts, idBase + 200_000);
    await flooding;
    flooderAnswers = api.fake.sent(FLOODER).length;

    const p99 = (r: RunResult) => Math.round(percentile(r.latencies, 99) * 100) / 100;
    const rate = (r: RunResult) => r.updates / r.seconds;
    const ratio = Math.round((rate(others) / rate(baseline)) * 1000) / 1000;
    console.log(`khuyenhoc-bot flood benchmark: ${USERS} people register (${scripts[0]!.length} updates each) while one chat sends ${FLOOD} updates, ${CONCURRENCY} at a time; ${databaseUrl ? "postgres" : "pglite"}, webhook`);
    console.log(`  without the flood: ${Math.round(rate(baseline))} updates/s, p99 ${p99(baseline)} ms`);
    console.log(`  during the flood:  ${Math.round(rate(others))} updates/s, p99 ${p99(others)} ms`);
    console.log(`  ratio of the others' throughput: ${ratio} (goal ≥ 0.8)`);
    console.log(`  the flooder got ${flooderAnswers} messages back for ${FLOOD} updates; failed webhook posts: ${bot.target.failures}`);
    console.log(JSON.stringify({ others_p99_ms: p99(others), baseline_p99_ms: p99(baseline), ratio, flood_updates: FLOOD, flooder_answers: flooderAnswers, users: USERS }));
    if (bot.target.failures > 0) process.exitCode = 1;
  } finally {
    await bot.stop();
    await api.close();
    await local?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
