/**
 * npm run bench:nearby — "📍 Near me" among ≥ 11,000 centres: the demo dataset with 4 centres per
 * commune (13,284 centres, 3 sessions each) on a fresh database, then random points inside
 * Vietnam's communes (a quarter of them with a topic filter) asked through NearbySessions.nearest,
 * the code the bot calls, one at a time. Prints p50/p90/p99/max per query, checks a sample of
 * pages against a full haversine scan, and ends with one JSON line {"p50_ms","p99_ms","centers"}.
 *
 *   BENCH_LANE=pglite (default; a fresh PGlite in a temp DATA_DIR)
 *   BENCH_LANE=postgres BENCH_DATABASE_URL=postgresql://… (an empty scratch database; the default
 *     lane when BENCH_DATABASE_URL is set)
 *   BENCH_QUERIES (2000), BENCH_PER_COMMUNE (4), BENCH_LIMIT (10)
 *   It reruns itself with `npm start`'s heap flags (--max-semi-space-size, --max-old-space-size);
 *   BENCH_LIFTOFF=1 adds node --liftoff-only, as `npm start` runs the bot (PGlite's WASM then
 *     runs on V8's baseline compiler only).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { seedAdminUnits } from "../src/domain/geo/seed-admin-units.js";
import { loadDemoCenters, prng } from "../src/domain/sessions/demo-centers.js";
import { haversineKm, SESSION_TOPICS, type SessionTopic } from "../src/domain/sessions/model.js";
import { NearbySessions, type NearbyPage } from "../src/domain/sessions/nearby.js";
import { applyMigrations } from "../src/infra/migrate.js";
import { percentile, ROOT, openBenchDatabase } from "./harness.js";

// The search runs in this process, so it runs with the heap flags `npm start` gives the bot (read
// from package.json): with V8's default young generation, scavenges set the p99 (9 ms instead of 4).
if (process.env.BENCH_NEARBY_CHILD !== "1") {
  const start = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const heap = start.split(/\s+/).filter((a) => a.startsWith("--max-semi-space-size=") || a.startsWith("--max-old-space-size="));
  const flags = [...heap, ...(process.env.BENCH_LIFTOFF === "1" ? ["--liftoff-only"] : [])];
  const run = spawnSync(process.execPath, [...flags, "--import", "tsx", ...process.argv.slice(1)], { stdio: "inherit", env: { ...process.env, BENCH_NEARBY_CHILD: "1" } });
  process.exit(run.status ?? 1);
}

const QUERIES = Number(process.env.BENCH_QUERIES ?? 2000);
const PER_COMMUNE = Number(process.env.BENCH_PER_COMMUNE ?? 4);
const LIMIT = Number(process.env.BENCH_LIMIT ?? 10);
const WARMUP = 300;
const CHECKED = 100;
const TOPIC_SHARE = 0.25;

type Query = { lat: number; lon: number; topic?: SessionTopic };



/** Points near a random commune's point (within ~3 km), the way residents are spread. */
function queries(communes: Array<{ lat: number; lon: number }>, n: number, seed: number): Query[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => {
    const c = communes[Math.floor(rand() * communes.length)]!;
    const q: Query = { lat: c.lat + (rand() - 0.5) * 0.05, lon: c.lon + (rand() - 0.5) * 0.05 };
    if (rand() < TOPIC_SHARE) q.topic = SESSION_TOPICS[Math.floor(rand() * SESSION_TOPICS.length)]!;
    return q;
  });
}

function stats(ms: number[]): string {
  return `p50 ${percentile(ms, 50).toFixed(2)} ms, p90 ${percentile(ms, 90).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms, max ${Math.max(...ms).toFixed(2)} ms (${ms.length} queries)`;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), "khb-bench-nearby-"));
  const db = await openBenchDatabase(scratch);
  try {
    const lane = db.lane === "postgres" ? "PostgreSQL" : "PGlite";
    console.log(`lane: ${lane}; node ${process.execArgv.filter((a) => a.startsWith("--max-") || a === "--liftoff-only").join(" ")} (npm start's flags)`);
    await applyMigrations(db);
    await seedAdminUnits(db.prisma);
    const now = () => new Date();
    let t0 = performance.now();
    const loaded = await loadDemoCenters(db.prisma, now, { perCommune: PER_COMMUNE });
    await db.prisma.$executeRawUnsafe("ANALYZE learning_centers");
    await db.prisma.$executeRawUnsafe("ANALYZE learning_sessions");
    const [counts] = await db.prisma.$queryRawUnsafe<Array<{ centers: number; upcoming: number; sessions: number }>>(
      `SELECT (SELECT count(*)::int FROM learning_centers) AS centers,
              (SELECT count(*)::int FROM learning_centers WHERE upcoming_until > now()) AS upcoming,
              (SELECT count(*)::int FROM learning_sessions) AS sessions`,
    );
    console.log(
      `demo data: ${loaded.centers} centres and ${loaded.sessions} sessions added in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `${counts!.centers} centres (${counts!.upcoming} with upcoming sessions), ${counts!.sessions} sessions`,
    );

    const communes = await db.prisma.commune.findMany({ select: { lat: true, lon: true } });
    const nearby = new NearbySessions(db.prisma, now, process.env.BENCH_NEARBY_PRISMA === "1" ? undefined : db.read);

    // Correctness first: pages must equal a full scan ordered by haversineKm, ties by id.
    const all = await db.prisma.$queryRawUnsafe<Array<{ id: number; lat: number; lon: number; topics: string[] }>>(
      `SELECT c.id, c.lat, c.lon, array_agg(DISTINCT s.topic) AS topics
         FROM learning_centers c JOIN learning_sessions s ON s.center_id = c.id
        WHERE s.state = 'scheduled' AND s.starts_at + make_interval(mins => s.duration_min) > $1::timestamp
        GROUP BY c.id`,
      now().toISOString().replace("Z", ""),
    );
    let mismatches = 0;
    for (const q of queries(communes, CHECKED, 7)) {
      const offset = Math.floor(Math.random() * 3) * LIMIT;
      const page = await nearby.nearest(q, { limit: LIMIT, offset, topic: q.topic });
      const expected = all
        .filter((c) => !q.topic || c.topics.includes(q.topic))
        .map((c) => ({ id: Number(c.id), d: haversineKm(q.lat, q.lon, c.lat, c.lon) }))
        .sort((a, b) => a.d - b.d || a.id - b.id)
        .slice(offset, offset + LIMIT + 1);
      const got = page.items.map((c) => c.id);
      if (JSON.stringify(got) !== JSON.stringify(expected.slice(0, LIMIT).map((e) => e.id)) || page.hasMore !== expected.length > LIMIT) mismatches++;
    }
    console.log(`checked ${CHECKED} pages against a full haversine scan: ${mismatches} differ`);
    if (mismatches > 0) process.exitCode = 1;

    for (const q of queries(communes, WARMUP, 11)) await nearby.nearest(q, { limit: LIMIT, topic: q.topic });

    const any: number[] = [];
    const topical: number[] = [];
    // PGlite runs in this process: its CPU time per query tells the work from the wait on a busy machine.
    const cpu: number[] = [];
    let sessions = 0;
    let last: NearbyPage | undefined;
    const load = loadavg()[0]!;
    t0 = performance.now();
    for (const q of queries(communes, QUERIES, 42)) {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      last = await nearby.nearest(q, { limit: LIMIT, topic: q.topic });
      (q.topic ? topical : any).push(performance.now() - start);
      const used = process.cpuUsage(cpu0);
      cpu.push((used.user + used.system) / 1000);
      sessions += last.items.reduce((n, c) => n + c.sessions.length, 0);
    }
    const seconds = (performance.now() - t0) / 1000;
    const every = [...any, ...topical];
    console.log(`nearest ${LIMIT}, any topic:   ${stats(any)}`);
    console.log(`nearest ${LIMIT}, one topic:   ${stats(topical)}`);
    console.log(`nearest ${LIMIT}, all:         ${stats(every)}`);
    if (db.lane === "pglite") console.log(`CPU time per query (PGlite runs in this process): p50 ${percentile(cpu, 50).toFixed(2)} ms, p99 ${percentile(cpu, 99).toFixed(2)} ms`);
    // The floor on this machine right now: the cheapest statement through the same client.
    const floor: number[] = [];
    for (let i = 0; i < 500; i++) {
      const start = performance.now();
      await db.prisma.$queryRawUnsafe("SELECT 1");
      floor.push(performance.now() - start);
    }
    console.log(`for scale, SELECT 1 through the same client: ${stats(floor)}`);
    console.log(`${(every.length / seconds).toFixed(0)} queries/s one at a time; ${(sessions / every.length).toFixed(1)} sessions per page; one SQL statement per query; load average ${load.toFixed(2)} at the start (2 cores shared)`);
    console.log(JSON.stringify({ p50_ms: round(percentile(every, 50)), p99_ms: round(percentile(every, 99)), centers: counts!.centers }));
  } finally {
    await db.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

await main();
