/**
 * "Near me": the nearest centres with upcoming sessions, sorted by great-circle distance, with
 * each centre's next few sessions. One SQL statement per page: a bounding-box search on the
 * (lat, lon) index that widens until the circle inside the box holds enough centres, then the
 * exact distances of that circle's centres only.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import { haversineKm, SESSION_LIMITS, SESSION_TOPICS, type SessionTopic } from "./model.js";

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

/** Mean Earth radius of haversineKm. */
const EARTH_KM = 6371.0088;
const DEG = 180 / Math.PI;
/** Rounding must never push a point on the circle out of its box: ~1 cm of slack. */
const BOX_SLACK_DEG = 1e-7;
/**
 * Radii of the widening: doubling from a start that a page of centres usually fits in (≈ 11 within
 * 8 km in lowland Vietnam), up to one that covers the whole country from anywhere in it; the last
 * step has no bound at all, for points far from every centre.
 */
const WIDEN_FACTOR = 2;
const COUNTRY_KM = 2_500;

export interface SearchBox {
  radiusKm: number;
  latMin: number;
  latMax: number;
  lonMin: number;
  lonMax: number;
}

/**
 * The smallest lat/lon box holding every point within `radiusKm` of the point (spherical cap,
 * J. Matuschek's bounding coordinates); the whole globe when the cap reaches a pole or the
 * antimeridian.
 */
export function boxAround(lat: number, lon: number, radiusKm: number): SearchBox {
  const all = { radiusKm, latMin: -90, latMax: 90, lonMin: -180, lonMax: 180 };
  if (!Number.isFinite(radiusKm)) return all;
  const angular = radiusKm / EARTH_KM;
  const latMin = lat - angular * DEG - BOX_SLACK_DEG;
  const latMax = lat + angular * DEG + BOX_SLACK_DEG;
  if (angular >= Math.PI / 2 || latMin <= -90 || latMax >= 90) return { ...all, latMin: Math.max(-90, latMin), latMax: Math.min(90, latMax) };
  const s = Math.sin(angular) / Math.cos(lat / DEG);
  if (!(s < 1)) return { ...all, latMin, latMax };
  const dLon = Math.asin(s) * DEG + BOX_SLACK_DEG;
  if (lon - dLon < -180 || lon + dLon > 180) return { ...all, latMin, latMax };
  return { radiusKm, latMin, latMax, lonMin: lon - dLon, lonMax: lon + dLon };
}

/** The widening's boxes for a search that needs `need` centres. */
export function widening(lat: number, lon: number, need: number): SearchBox[] {
  const boxes: SearchBox[] = [];
  // The start grows with the need: a later page starts wider instead of doubling up to it.
  let r = 4 * Math.sqrt(Math.max(need, 11) / 11);
  for (; r < COUNTRY_KM; r *= WIDEN_FACTOR) boxes.push(boxAround(lat, lon, r));
  boxes.push(boxAround(lat, lon, r));
  boxes.push(boxAround(lat, lon, Infinity));
  return boxes;
}

/** A number for an SQL constant: exact (JS prints the shortest round trip); never a parameter (see nearbySql). */
function finite(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  return String(x);
}
const float8 = (x: number) => `'${finite(x)}'::float8`;
const float8s = (xs: readonly number[]) => `'{${xs.map(finite).join(",")}}'::float8[]`;

/** A session still upcoming at $1 (not yet ended); the bound on starts_at lets the (center_id, starts_at) index do the work. */
const upcomingSession = (alias: string) =>
  `${alias}.state = 'scheduled'
   AND ${alias}.starts_at > $1::timestamp - interval '${SESSION_LIMITS.durationMinMax} minutes'
   AND ${alias}.starts_at + make_interval(mins => ${alias}.duration_min) > $1::timestamp`;

interface Search {
  lat: number;
  lon: number;
  boxes: SearchBox[];
  need: number;
  offset: number;
  limit: number;
  topic: boolean;
}

/**
 * One statement: the widening (a recursive CTE that stops at the first box whose circle holds
 * `need` centres, keeping their ids), then those centres from `offset` with their next sessions,
 * as one JSON row (PGlite pays per row and per field it hands back). The numbers are written into
 * the SQL as constants: every parameter costs Prisma a serialisation (arrays ~0.2 ms each) and
 * rounds doubles to 16 digits, and a statement is planned at each call anyway. $1 is now, $2 the topic.
 */
function nearbySql(q: Search): string {
  // a = sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2), the haversine term: distance grows with it, so
  // filtering and ordering need neither asin nor sqrt.
  const half = float8(Math.PI / 360);
  const hav = `(power(sin((c.lat - ${float8(q.lat)}) * ${half}), 2) + ${float8(Math.cos(q.lat / DEG))} * cos(c.lat * 2 * ${half}) * power(sin((c.lon - ${float8(q.lon)}) * ${half}), 2))`;
  // upcoming_until is kept by every session write, so no join is needed unless a topic narrows it.
  const eligible = `c.upcoming_until > $1::timestamp${q.topic ? `
      AND EXISTS (SELECT 1 FROM learning_sessions t WHERE t.center_id = c.id AND t.topic = $2 AND ${upcomingSession("t")})` : ""}`;
  const b = q.boxes;
  const k = "w.i + 1";
  const within = `c.lat BETWEEN (${float8s(b.map((x) => x.latMin))})[${k}] AND (${float8s(b.map((x) => x.latMax))})[${k}]
     AND c.lon BETWEEN (${float8s(b.map((x) => x.lonMin))})[${k}] AND (${float8s(b.map((x) => x.lonMax))})[${k}]
     AND ${eligible} AND ${hav} <= (${float8s(b.map((x) => havOf(x.radiusKm)))})[${k}]`;
  return `
WITH RECURSIVE w(i, ids) AS (
  SELECT 0, '{}'::int[]
  UNION ALL
  SELECT w.i + 1, ARRAY(SELECT c.id FROM learning_centers c WHERE ${within} ORDER BY ${hav}, c.id LIMIT ${q.need})
    FROM w WHERE cardinality(w.ids) < ${q.need} AND w.i < ${b.length}
)
SELECT json_agg(json_build_array(c.id, c.name, c.address, c.province_code, c.commune_code, c.lat, c.lon, c.demo,
         (SELECT json_agg(json_build_array(s.id, s.title, s.topic, extract(epoch FROM s.starts_at) * 1000, s.duration_min, s.capacity,
                                           s.confirmed_count, s.waiting_count, s.speaker, s.organiser_body))
            FROM (SELECT s.id, s.title, s.topic, s.starts_at, s.duration_min, s.capacity, s.confirmed_count, s.waiting_count, s.speaker, s.organiser_body
                    FROM learning_sessions s
                   WHERE s.center_id = c.id AND ${upcomingSession("s")}${q.topic ? " AND s.topic = $2" : ""}
                   ORDER BY s.starts_at, s.id
                   LIMIT ${SESSIONS_PER_CENTER}) s))) AS page
  FROM learning_centers c
 WHERE c.id = ANY((SELECT ids FROM w ORDER BY i DESC LIMIT 1)[${q.offset + 1} : ${q.offset + q.limit}])`;
}

type CentreJson = [number, string, string, string, string, number, number, boolean, SessionJson[] | null];
type SessionJson = [number, string, string, number, number, number, number, number, string | null, string | null];

/** sin²(r/2R): the haversine term of a circle of radius r km; 1 (everything) for the unbounded last step. */
const havOf = (radiusKm: number) => (Number.isFinite(radiusKm) ? Math.sin(Math.min(radiusKm / EARTH_KM, Math.PI) / 2) ** 2 : 1);

const iso = (d: Date) => d.toISOString().replace("Z", "");

export class NearbySessions {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => Date,
  ) {}

  /**
   * The nearest centres with upcoming sessions (of `topic` when given), by distance then id, from
   * `offset`; `hasMore` when a further page exists. The caller checks the point is in Vietnam
   * (insideVietnam); any point works, a far one only costs a scan.
   */
  async nearest(point: { lat: number; lon: number }, opts: NearbyOptions): Promise<NearbyPage> {
    const { lat, lon } = point;
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) throw new RangeError(`not a point: ${lat}, ${lon}`);
    const limit = opts.limit;
    const offset = opts.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > NEARBY_LIMIT_MAX) throw new RangeError(`limit must be 1–${NEARBY_LIMIT_MAX}`);
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError("offset must be a whole number ≥ 0");
    if (opts.topic !== undefined && !(SESSION_TOPICS as readonly string[]).includes(opts.topic)) throw new RangeError(`unknown topic ${opts.topic}`);

    const need = offset + limit + 1;
    const sql = nearbySql({ lat, lon, boxes: widening(lat, lon, need), need, offset, limit: limit + 1, topic: opts.topic !== undefined });
    const params: unknown[] = opts.topic ? [iso(this.now()), opts.topic] : [iso(this.now())];
    const [row] = await this.prisma.$queryRawUnsafe<Array<{ page: CentreJson[] | string | null }>>(sql, ...params);
    const page: CentreJson[] = typeof row?.page === "string" ? JSON.parse(row.page) : (row?.page ?? []);

    const centres: NearbyCenter[] = page.map(([id, name, address, provinceCode, communeCode, cLat, cLon, demo, sessions]) => ({
      id, name, address, provinceCode, communeCode, lat: cLat, lon: cLon, demo,
      distanceKm: haversineKm(lat, lon, cLat, cLon),
      sessions: (sessions ?? []).map(([sid, title, topic, startsMs, durationMin, capacity, confirmedCount, waitingCount, speaker, organiserBody]) => ({
        id: sid, title, topic, startsAt: new Date(Math.round(startsMs)), durationMin, capacity, confirmedCount, waitingCount, speaker, organiserBody,
      })),
    }));
    // Ordered by the distances shown: SQL's and V8's sin/cos may differ in the last bit.
    centres.sort((a, b) => a.distanceKm - b.distanceKm || a.id - b.id);
    for (const c of centres) c.sessions.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id - b.id);
    return { items: centres.slice(0, limit), hasMore: centres.length > limit };
  }

  /** The nearest to a commune's point, for people who share no location; undefined for an unknown commune. */
  async forCommune(communeCode: string, opts: NearbyOptions): Promise<NearbyPage | undefined> {
    const commune = await this.prisma.commune.findUnique({ where: { code: communeCode }, select: { lat: true, lon: true } });
    return commune ? this.nearest(commune, opts) : undefined;
  }
}
