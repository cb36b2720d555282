/**
 * "Near me": the nearest centres with upcoming sessions, sorted by great-circle distance, with
 * each centre's next few sessions.
 *
 * Each process keeps an index of the centres that have upcoming sessions (a few numbers per
 * centre: ~11,000 centres nationwide) and finds the nearest in memory; the page's centres and their
 * next sessions then come from one statement by id, which also returns the data's version
 * (nearby_version, bumped by statement triggers on every write to centres' places or to sessions'
 * times, topics and states, from any process). When the version moved, the index is rebuilt and
 * the page asked again, so a new or cancelled session shows at once in every process. Seats are
 * always read fresh; an index entry whose sessions have ended meanwhile is skipped by the time it
 * keeps.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { haversineKm, SESSION_LIMITS, SESSION_TOPICS, type SessionTopic } from "./model.js";
import { directSql, type DirectSql } from "../direct-sql.js";

export interface NearbySession {
  id: number;
  title: string;
  topic: string;
  startsAt: Date;
  durationMin: number;
  capacity: number;
  confirmedCount: number;
  waitingCount: number;
  speaker: string | null;
  organiserBody: string | null;
}

export interface NearbyCenter {
  id: number;
  name: string;
  address: string;
  provinceCode: string;
  communeCode: string;
  lat: number;
  lon: number;
  demo: boolean;
  /** haversineKm from the asked point (the same function the rest of the feature uses). */
  distanceKm: number;
  /** The centre's next sessions not yet ended (up to SESSIONS_PER_CENTER), of the topic when one is asked. */
  sessions: NearbySession[];
}

export interface NearbyPage {
  items: NearbyCenter[];
  hasMore: boolean;
}

export interface NearbyOptions {
  topic?: SessionTopic;
  limit: number;
  offset?: number;
}

export const SESSIONS_PER_CENTER = 3;
export const NEARBY_LIMIT_MAX = 50;

const RAD = Math.PI / 180;

/** Centres with upcoming sessions, as columns: position i is one centre. */
interface CentreIndex {
  version: string;
  ids: Int32Array;
  lat: Float64Array;
  lon: Float64Array;
  cosLat: Float64Array;
  /** When the centre's last scheduled session ends (epoch ms). */
  until: Float64Array;
  /** The same per topic (0 when none of that topic). */
  topicUntil: Map<string, Float64Array>;
  /** What the list shows of centre i (its name and address change rarely: the triggers bump the version). */
  info: Array<{ name: string; address: string; provinceCode: string; communeCode: string; demo: boolean }>;
  /** Centre i's upcoming sessions are positions first[i] … first[i + 1] − 1 of the session columns, by start then id. */
  first: Int32Array;
  sessionId: Int32Array;
  sessionEnd: Float64Array;
  sessionTopic: Uint8Array;
}

/** A session still upcoming at $1 (not yet ended); the bound on starts_at lets the (center_id, starts_at) index do the work. */
const upcomingSession = (alias: string) =>
  `${alias}.state = 'scheduled'
   AND ${alias}.starts_at > $1::timestamp - interval '${SESSION_LIMITS.durationMinMax} minutes'
   AND ${alias}.starts_at + make_interval(mins => ${alias}.duration_min) > $1::timestamp`;

const VERSION = `(SELECT version::text FROM nearby_version WHERE id = 1)`;

/** Everything the index holds, with the version it was read at (one statement: one snapshot). */
const INDEX_SQL = `
SELECT ${VERSION} AS version,
  (SELECT json_agg(json_build_array(t.id, t.center_id, t.topic, extract(epoch FROM t.ends_at) * 1000) ORDER BY t.center_id, t.starts_at, t.id)
     FROM (SELECT s.id, s.center_id, s.topic, s.starts_at, s.starts_at + make_interval(mins => s.duration_min) AS ends_at
             FROM learning_sessions s WHERE ${upcomingSession("s")}) t) AS sessions,
  (SELECT json_agg(json_build_array(c.id, c.lat, c.lon, c.name, c.address, c.province_code, c.commune_code, c.demo))
     FROM learning_centers c WHERE c.upcoming_until > $1::timestamp) AS centres`;

const intList = (ids: readonly number[]) => `'{${ids.map((id) => String(Math.trunc(id))).join(",")}}'::int[]`;

/**
 * The page's sessions by id (written as constants: Prisma array parameters cost ~0.2 ms each) as
 * one JSON row (PGlite pays per row and per field it hands back), and the version: primary-key
 * lookups only. The centres' own fields come from the index.
 */
function pageSql(sessionIds: readonly number[]): string {
  return `
SELECT ${VERSION} AS version,
  (SELECT json_agg(json_build_array(s.id, s.center_id, s.title, s.topic, extract(epoch FROM s.starts_at) * 1000, s.duration_min, s.capacity,
                                    s.confirmed_count, s.waiting_count, s.speaker, s.organiser_body))
     FROM learning_sessions s WHERE s.id = ANY(${intList(sessionIds)}) AND s.state = 'scheduled') AS sessions`;
}

type SessionJson = [number, number, string, string, number, number, number, number, number, string | null, string | null];
const iso = (d: Date) => d.toISOString().replace("Z", "");
const json = <T>(v: T | string | null | undefined): T | null => (typeof v === "string" ? (JSON.parse(v) as T) : (v ?? null));

export class NearbySessions {
  private index: CentreIndex | undefined;
  private building: Promise<CentreIndex> | undefined;

  /** The page's one statement (see DirectSql). */
  private readonly sql: DirectSql;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => Date,
    read?: DirectSql,
  ) {
    this.sql = directSql(prisma, read);
  }

  /**
   * The nearest centres with upcoming sessions (of `topic` when given), by distance then id, from
   * `offset`; `hasMore` when a further page exists.
   */
  async nearest(point: { lat: number; lon: number }, opts: NearbyOptions): Promise<NearbyPage> {
    const { lat, lon } = point;
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) throw new RangeError(`not a point: ${lat}, ${lon}`);
    const limit = opts.limit;
    const offset = opts.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > NEARBY_LIMIT_MAX) throw new RangeError(`limit must be 1–${NEARBY_LIMIT_MAX}`);
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError("offset must be a whole number ≥ 0");
    if (opts.topic !== undefined && !(SESSION_TOPICS as readonly string[]).includes(opts.topic)) throw new RangeError(`unknown topic ${opts.topic}`);

    const now = this.now();
    const nowMs = now.getTime();
    const topicCode = opts.topic === undefined ? -1 : SESSION_TOPICS.indexOf(opts.topic);
    for (let attempt = 0; ; attempt++) {
      const index = this.index ?? (await this.rebuild(now));
      const ranked = nearestIn(index, lat, lon, offset + limit + 1, nowMs, opts.topic).slice(offset);
      const sessionIds: number[] = [];
      for (const i of ranked) {
        let taken = 0;
        for (let k = index.first[i]!; k < index.first[i + 1]! && taken < SESSIONS_PER_CENTER; k++) {
          if (index.sessionEnd[k]! > nowMs && (topicCode < 0 || index.sessionTopic[k] === topicCode)) {
            sessionIds.push(index.sessionId[k]!);
            taken++;
          }
        }
      }
      const [row] = await this.sql<{ version: string; sessions: unknown }>(pageSql(sessionIds));
      if (row && row.version !== index.version && attempt < 2) {
        // Centres or sessions changed since the index was read (here or in another process).
        await this.rebuild(now);
        continue;
      }
      const byCentre = new Map<number, NearbySession[]>();
      for (const [sid, centerId, title, topic, startsMs, durationMin, capacity, confirmedCount, waitingCount, speaker, organiserBody] of json<SessionJson[]>(row?.sessions as string) ?? []) {
        const list = byCentre.get(centerId) ?? [];
        list.push({ id: sid, title, topic, startsAt: new Date(Math.round(startsMs)), durationMin, capacity, confirmedCount, waitingCount, speaker, organiserBody });
        byCentre.set(centerId, list);
      }
      const listed: NearbyCenter[] = ranked
        .map((i) => {
          const id = index.ids[i]!;
          return {
            id, ...index.info[i]!, lat: index.lat[i]!, lon: index.lon[i]!,
            distanceKm: haversineKm(lat, lon, index.lat[i]!, index.lon[i]!),
            sessions: (byCentre.get(id) ?? []).sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id - b.id),
          };
        })
        // A centre whose sessions were cancelled between the index and this read has none: not listed.
        .filter((c) => c.sessions.length > 0);
      return { items: listed.slice(0, limit), hasMore: listed.length > limit };
    }
  }

  /** The nearest to a commune's point, for people who share no location; undefined for an unknown commune. */
  async forCommune(communeCode: string, opts: NearbyOptions): Promise<NearbyPage | undefined> {
    const commune = await this.prisma.commune.findUnique({ where: { code: communeCode }, select: { lat: true, lon: true } });
    return commune ? this.nearest(commune, opts) : undefined;
  }

  /** Reads the index again (one statement); concurrent callers share one read. */
  private rebuild(now: Date): Promise<CentreIndex> {
    this.building ??= this.readIndex(now).then(
      (index) => {
        this.index = index;
        this.building = undefined;
        return index;
      },
      (err: unknown) => {
        this.building = undefined;
        throw err;
      },
    );
    return this.building;
  }

  private async readIndex(now: Date): Promise<CentreIndex> {
    const [row] = await this.prisma.$queryRawUnsafe<Array<{ version: string; centres: unknown; sessions: unknown }>>(INDEX_SQL, iso(now));
    const centres = json<Array<[number, number, number, string, string, string, string, boolean]>>(row?.centres as string) ?? [];
    const sessions = json<Array<[number, number, string, number]>>(row?.sessions as string) ?? [];
    const n = centres.length;
    const at = new Map<number, number>();
    centres.forEach(([id], i) => at.set(id, i));
    // Sessions by centre position (the query sorts them by centre, start, id; positions follow ids' order).
    const count = new Int32Array(n + 1);
    for (const [, centerId] of sessions) {
      const i = at.get(centerId);
      if (i !== undefined) count[i + 1]!++;
    }
    const first = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) first[i + 1] = first[i]! + count[i + 1]!;
    const m = first[n]!;
    const index: CentreIndex = {
      version: row?.version ?? "0",
      ids: new Int32Array(n), lat: new Float64Array(n), lon: new Float64Array(n), cosLat: new Float64Array(n), until: new Float64Array(n),
      topicUntil: new Map(SESSION_TOPICS.map((t) => [t, new Float64Array(n)])),
      info: centres.map(([, , , name, address, provinceCode, communeCode, demo]) => ({ name, address, provinceCode, communeCode, demo })),
      first, sessionId: new Int32Array(m), sessionEnd: new Float64Array(m), sessionTopic: new Uint8Array(m),
    };
    centres.forEach(([id, cLat, cLon], i) => {
      index.ids[i] = id;
      index.lat[i] = cLat;
      index.lon[i] = cLon;
      index.cosLat[i] = Math.cos(cLat * RAD);
    });
    const next = first.slice(0, n);
    for (const [id, centerId, topic, endsMs] of sessions) {
      const i = at.get(centerId);
      if (i === undefined) continue;
      const k = next[i]!++;
      index.sessionId[k] = id;
      index.sessionEnd[k] = endsMs;
      index.sessionTopic[k] = SESSION_TOPICS.indexOf(topic as SessionTopic);
      if (endsMs > index.until[i]!) index.until[i] = endsMs;
      const column = index.topicUntil.get(topic);
      if (column && endsMs > column[i]!) column[i] = endsMs;
    }
    return index;
  }
}

/**
 * The index positions of the `need` nearest centres still upcoming at `nowMs` (of the topic), nearest first,
 * ties by id. Ranked by the haversine term (distance grows with it), then ordered by haversineKm,
 * the distance shown. About half a millisecond for 13,000 centres.
 */
function nearestIn(index: CentreIndex, lat: number, lon: number, need: number, nowMs: number, topic?: SessionTopic): number[] {
  const until = topic ? index.topicUntil.get(topic)! : index.until;
  const cos0 = Math.cos(lat * RAD);
  // The best `need` so far, sorted by (term, id): small, so insertion beats a heap.
  const bestTerm: number[] = [];
  const bestPos: number[] = [];
  for (let i = 0; i < index.ids.length; i++) {
    if (!(until[i]! > nowMs)) continue;
    const sLat = Math.sin((index.lat[i]! - lat) * RAD * 0.5);
    const sLon = Math.sin((index.lon[i]! - lon) * RAD * 0.5);
    const term = sLat * sLat + cos0 * index.cosLat[i]! * sLon * sLon;
    if (bestTerm.length === need && term > bestTerm[need - 1]!) continue;
    let k = bestTerm.length;
    while (k > 0 && (bestTerm[k - 1]! > term || (bestTerm[k - 1] === term && index.ids[bestPos[k - 1]!]! > index.ids[i]!))) k--;
    bestTerm.splice(k, 0, term);
    bestPos.splice(k, 0, i);
    if (bestTerm.length > need) {
      bestTerm.pop();
      bestPos.pop();
    }
  }
  // Near-equal terms may round the other way in the distance shown: order by that, then id.
  return bestPos
    .map((i) => ({ i, id: index.ids[i]!, km: haversineKm(lat, lon, index.lat[i]!, index.lon[i]!) }))
    .sort((a, b) => a.km - b.km || a.id - b.id)
    .map((x) => x.i);
}
