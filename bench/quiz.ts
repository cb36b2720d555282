/**
 * npm run bench:quiz — N simulated people answer a round of 10 quiz polls at once: each answer is
 * a poll_answer update through the full stack (the real `npm start` in its own process, webhook on
 * loopback, real Redis, real database) and is answered with the next sendPoll (the tenth with the
 * score). In the same run a reference: a bare grammY bot that keeps the round in the same Redis (no
 * database) and answers each poll_answer with the next sendPoll (bench/reference-quiz-bot.ts).
 * Prints answers/s, p50/p99 (saturated, and paced like people), the ratio ours/reference and the
 * bot's peak RSS; the last line is one JSON object with the figures.
 *
 *   BENCH_PEOPLE=1000 BENCH_ROUNDS=3 BENCH_REDIS_URL=redis://… BENCH_DATABASE_URL=postgresql://… npm run bench:quiz
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Message, Update } from "grammy/types";
import { openDatabase } from "../src/infra/database.js";
import { startFakeBotApiServer, type FakeBotApiServer, type FakeTelegram } from "../test/support/telegram/index.js";
import {
  from, nextUpdateId, percentile, press, startBot, startTcpRedis, text, type Target, startReferenceProcess,
} from "./harness.js";
import { procMemory, resetPeak } from "./proc-memory.js";

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const QUESTIONS = 10;
/**
 * Paced: a person reads the question and its options before tapping, 5–15 s (the poll gives 30 s);
 * 1,000 such people offer about 100 answers a second.
 */
const THINK_MS: [number, number] = [Number(process.env.BENCH_THINK_MIN_MS ?? 5000), Number(process.env.BENCH_THINK_MAX_MS ?? 15000)];

/** The newest poll and message the bot sent to each chat, kept from the fake's call events. */
class Screens {
  readonly poll = new Map<number, string>();
  readonly message = new Map<number, Message>();
  polls = 0;
  constructor(fake: FakeTelegram) {
    fake.on((e) => {
      if (e.type !== "call" || !e.call.ok) return;
      const chat = Number(e.call.payload.chat_id);
      if (e.call.method === "sendPoll") {
        this.poll.set(chat, (e.call.result as Message).poll!.id);
        this.polls++;
      } else if (e.call.method === "sendMessage") this.message.set(chat, e.call.result as Message);
    });
  }
}

async function post(target: Target, fake: FakeTelegram, u: Omit<Update, "update_id">): Promise<number> {
  const update = { ...u, update_id: nextUpdateId() } as Update;
  fake.registerUpdate(update);
  const start = performance.now();
  await target.handleUpdate(update);
  return performance.now() - start;
}

/** Every person opens a round (/quiz, then the "mixed" topic): not timed. */
async function openRounds(target: Target, fake: FakeTelegram, screens: Screens, firstId: number): Promise<void> {
  await Promise.all(
    Array.from({ length: PEOPLE }, async (_, i) => {
      const id = firstId + i;
      const a = await post(target, fake, text(id, "/quiz"));
      const b = await post(target, fake, press(id, "qz:t:mixed", screens.message.get(id)));
      if (!screens.poll.has(id)) throw new Error(`no first poll for ${id} (${a.toFixed(0)} ms, ${b.toFixed(0)} ms, last: ${JSON.stringify(fake.lastText(id))}, failures ${target.failures})`);
    }),
  );
}

/** Everyone answers their ten polls, each answer as soon as the next poll is there (or after a think). */
async function answerRounds(target: Target, fake: FakeTelegram, screens: Screens, firstId: number, think?: [number, number]): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PEOPLE }, async (_, i) => {
      const id = firstId + i;
      for (let q = 0; q < QUESTIONS; q++) {
        if (think) await new Promise((r) => setTimeout(r, think[0] + Math.random() * (think[1] - think[0])));
        const pollId = screens.poll.get(id)!;
        latencies.push(await post(target, fake, { poll_answer: { poll_id: pollId, user: from(id), option_ids: [Math.floor(Math.random() * 2)] } } as never));
      }
    }),
  );
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

async function startReference(api: FakeBotApiServer, redisUrl: string): Promise<{ pid: number; target: Target; stop(): Promise<void> }> {
  return startReferenceProcess("bench/reference-quiz-bot.ts", api, redisUrl);
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), "khb-bench-quiz-"));
  let localRedis: { url: string; stop(): Promise<void> } | undefined;
  const redisUrl = process.env.BENCH_REDIS_URL ?? (localRedis = await startTcpRedis(path.join(scratch, "redis"))).url;
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const lane = databaseUrl ? "postgres" : "pglite";
  const idBase = 1_000_000_000 * (1 + Math.floor(Math.random() * 1000));

  const oursApi = await startFakeBotApiServer();
  const refApi = await startFakeBotApiServer();
  const ours = await startBot(oursApi, path.join(scratch, "data"), redisUrl, databaseUrl);
  let oursStopped = false;
  const stopOurs = async () => {
    if (!oursStopped) await ours.stop();
    oursStopped = true;
  };
  children.push(stopOurs);
  const reference = await startReference(refApi, redisUrl);
  let refStopped = false;
  const stopRef = async () => {
    if (!refStopped) await reference.stop();
    refStopped = true;
  };
  children.push(stopRef);
  const redisToStop = localRedis;
  let redisStopped = false;
  if (redisToStop) children.push(async () => {
    if (!redisStopped) await redisToStop.stop();
    redisStopped = true;
  });
  const oursScreens = new Screens(oursApi.fake);
  const refScreens = new Screens(refApi.fake);
  await new Promise((r) => setTimeout(r, Number(process.env.BENCH_SETTLE_MS ?? 2000)));
  resetPeak(ours.pid);

  let rejected = 0;
  const reasons = new Map<string, number>();
  const clear = () => {
    const failed = oursApi.fake.calls.filter((c) => !c.ok);
    rejected += failed.length;
    for (const c of failed) reasons.set(`${c.method}: ${c.error}`, (reasons.get(`${c.method}: ${c.error}`) ?? 0) + 1);
    oursApi.fake.reset();
    refApi.fake.reset();
  };
  // Warm-up: a tenth of the people, once each.
  const warm = async (target: Target, fake: FakeTelegram, screens: Screens, first: number) => {
    await openRounds(target, fake, screens, first);
    await answerRounds(target, fake, screens, first);
  };
  const people = PEOPLE;
  const runs: Array<{ ours: number; ref: number; oursLat: number[]; refLat: number[] }> = [];
  await warm(ours.target, oursApi.fake, oursScreens, idBase + 1_000_000);
  await warm(reference.target, refApi.fake, refScreens, idBase + 1_000_000);
  clear();
  for (let round = 0; round < ROUNDS; round++) {
    const first = idBase + 10_000_000 * (round + 1);
    await openRounds(ours.target, oursApi.fake, oursScreens, first);
    const o = await answerRounds(ours.target, oursApi.fake, oursScreens, first);
    clear();
    await openRounds(reference.target, refApi.fake, refScreens, first);
    const r = await answerRounds(reference.target, refApi.fake, refScreens, first);
    clear();
    runs.push({ ours: o.latencies.length / o.seconds, ref: r.latencies.length / r.seconds, oursLat: o.latencies, refLat: r.latencies });
  }
  const median = [...runs].sort((a, b) => a.ours - b.ours)[Math.floor(runs.length / 2)]!;
  const refMedian = [...runs].sort((a, b) => a.ref - b.ref)[Math.floor(runs.length / 2)]!;

  const pacedFirst = idBase + 90_000_000;
  await openRounds(ours.target, oursApi.fake, oursScreens, pacedFirst);
  clear();
  const paced = await answerRounds(ours.target, oursApi.fake, oursScreens, pacedFirst, THINK_MS);
  clear();

  const mem = procMemory(ours.pid);
  const refPeak = procMemory(reference.pid).hwmMb;
  await stopRef();
  await stopOurs();
  await Promise.all([oursApi.close(), refApi.close()]);

  // What the database holds: every timed answer, once.
  const db = await openDatabase(databaseUrl ? { url: databaseUrl } : { pgliteDir: path.join(scratch, "data", "pglite") });
  const stored = await db.prisma.quizAnswer.count({ where: { userId: { gte: BigInt(idBase + 10_000_000) } } });
  const finished = await db.prisma.quizRound.count({ where: { userId: { gte: BigInt(idBase + 10_000_000) }, state: "finished" } });
  await db.close();
  const expectedAnswers = people * QUESTIONS * (ROUNDS + 1);

  const figures = {
    people,
    answers: median.oursLat.length,
    answers_per_s: Math.round(median.ours),
    p50_ms: Number(percentile(median.oursLat, 50).toFixed(2)),
    p99_ms: Number(percentile(median.oursLat, 99).toFixed(2)),
    paced_answers_per_s: Math.round(paced.latencies.length / paced.seconds),
    paced_p50_ms: Number(percentile(paced.latencies, 50).toFixed(2)),
    paced_p99_ms: Number(percentile(paced.latencies, 99).toFixed(2)),
    ref_answers_per_s: Math.round(refMedian.ref),
    ref_p99_ms: Number(percentile(refMedian.refLat, 99).toFixed(2)),
    ratio: Number((median.ours / refMedian.ref).toFixed(3)),
    peak_rss_mb: Math.round(mem.hwmMb),
    ref_peak_rss_mb: Math.round(refPeak),
    stored_answers: stored,
    expected_answers: expectedAnswers,
    finished_rounds: finished,
    db: lane,
    telegram_rejections: rejected,
    // The reference's failed posts are reported, not failed on (see bench/updates.ts).
    webhook_errors: ours.target.failures,
    ref_webhook_errors: reference.target.failures,
  };
  console.log(`khuyenhoc-bot quiz benchmark: ${people} people × ${QUESTIONS} quiz polls, ${lane}, real Redis, median of ${ROUNDS} rounds`);
  console.log(`  bot: \`${ours.command}\` in its own process, webhook on loopback, fake Bot API over HTTP`);
  console.log(`  saturated (everyone answers the moment the next poll arrives):`);
  console.log(`    ours:      ${figures.answers_per_s} answers/s   p50 ${figures.p50_ms} ms   p99 ${figures.p99_ms} ms`);
  console.log(`    reference: ${figures.ref_answers_per_s} answers/s   p99 ${figures.ref_p99_ms} ms   (bare grammY, round in Redis, no database)`);
  console.log(`    ratio ours/reference: ${figures.ratio}   (goal ≥ 0.5)`);
  console.log(`  paced (each person thinks ${THINK_MS[0]}–${THINK_MS[1]} ms before answering):`);
  console.log(`    ours:      ${figures.paced_answers_per_s} answers/s   p50 ${figures.paced_p50_ms} ms   p99 ${figures.paced_p99_ms} ms   (goal p99 ≤ 50 ms)`);
  console.log(`  stored answers: ${stored}/${expectedAnswers}; finished rounds: ${finished}/${people * (ROUNDS + 1)}`);
  console.log(`  bot peak RSS ${figures.peak_rss_mb} MB (reference ${figures.ref_peak_rss_mb} MB); calls Telegram would reject: ${rejected}; failed webhook posts: ours ${figures.webhook_errors}, reference ${figures.ref_webhook_errors}`);
  if (reasons.size) console.log(`  what Telegram would have refused: ${[...reasons].map(([r, n]) => `${n}× ${r}`).join("; ")}`);
  if (stored < expectedAnswers) console.log(`  answers not stored: ${expectedAnswers - stored} (they reached the bot after their poll had closed, and were refused as late)`);
  console.log(JSON.stringify(figures));

  await children.at(-1)?.();
  rmSync(scratch, { recursive: true, force: true });
  if (stored !== expectedAnswers || rejected > 0 || figures.webhook_errors > 0) process.exitCode = 1;
}

/** Children this run started, stopped however it ends (a failed run must not leave bots behind). */
const children: Array<() => Promise<void>> = [];
try {
  await main();
} finally {
  for (const stop of children.splice(0)) await stop().catch(() => {});
}
