/**
 * The demo dataset (`npm run demo:centers`): one community learning centre per commune at the
 * commune's point, each with a few upcoming sessions. Everything is flagged demo = true and says
 * "demo" in its name, address and description; nothing here runs unless asked.
 */
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../../generated/prisma/client.js";
import { fromVnWallTime, vnParts } from "../time/vietnam-time.js";
import { firstReminderAt, refreshCenterUpcoming, type OrganiserBody, type SessionTopic } from "./model.js";

export interface DemoOptions {
  /** Centres per commune (1 by default); the extras sit a little apart from the commune's point. */
  perCommune?: number;
  /** Sessions per new centre (3 by default). */
  sessionsPerCenter?: number;
  /** Only these provinces (all by default): keeps tests small. */
  provinceCodes?: readonly string[];
}

export interface DemoCounts {
  centers: number;
  sessions: number;
}

/** Who speaks: a role at the commune ("Công an phường Ba Đình") or a fixed body. */
type Speaker = { body: OrganiserBody; at: string } | { body: OrganiserBody; name: string };

const CATALOGUE: Record<SessionTopic, Array<{ title: string; speaker: Speaker }>> = {
  law: [
    { title: "Phổ biến Luật Trật tự, an toàn giao thông đường bộ", speaker: { body: "police", at: "Công an" } },
    { title: "Pháp luật về biển, đảo và biên giới quốc gia", speaker: { body: "border_guard", name: "Bộ đội Biên phòng tỉnh" } },
    { title: "Tìm hiểu Luật Hôn nhân và gia đình", speaker: { body: "association", at: "Hội Khuyến học" } },
    { title: "Phòng, chống bạo lực gia đình", speaker: { body: "police", at: "Công an" } },
  ],
  digital: [
    { title: "Kỹ năng số: cài đặt và dùng VNeID mức 2", speaker: { body: "police", at: "Công an" } },
    { title: "Nộp hồ sơ trên Cổng Dịch vụ công quốc gia", speaker: { body: "other", at: "Tổ công nghệ số cộng đồng" } },
    { title: "Nhận diện lừa đảo qua mạng và cuộc gọi giả danh", speaker: { body: "police", at: "Công an" } },
    { title: "Thanh toán không dùng tiền mặt an toàn", speaker: { body: "association", at: "Hội Khuyến học" } },
  ],
  agriculture: [
    { title: "Kỹ thuật trồng lúa thích ứng biến đổi khí hậu", speaker: { body: "other", name: "Trung tâm Khuyến nông tỉnh" } },
    { title: "Chăn nuôi gà an toàn sinh học", speaker: { body: "other", name: "Trung tâm Khuyến nông tỉnh" } },
    { title: "Bán nông sản trên sàn thương mại điện tử", speaker: { body: "association", at: "Hội Khuyến học" } },
  ],
  health: [
    { title: "Phòng, chống sốt xuất huyết tại cộng đồng", speaker: { body: "other", at: "Trạm Y tế" } },
    { title: "Chăm sóc sức khỏe người cao tuổi", speaker: { body: "other", at: "Trạm Y tế" } },
    { title: "Sơ cấp cứu ban đầu cho người dân", speaker: { body: "military_command", at: "Ban Chỉ huy quân sự" } },
  ],
  literacy: [
    { title: "Lớp xóa mù chữ buổi tối", speaker: { body: "association", at: "Hội Khuyến học" } },
    { title: "Đọc sách cùng con", speaker: { body: "association", at: "Hội Khuyến học" } },
  ],
  life_skills: [
    { title: "Phòng, chống đuối nước cho trẻ em", speaker: { body: "military_command", at: "Ban Chỉ huy quân sự" } },
    { title: "Phòng cháy, chữa cháy trong gia đình", speaker: { body: "police", at: "Công an" } },
    { title: "Kỹ năng ứng phó thiên tai, bão lũ", speaker: { body: "military_command", at: "Ban Chỉ huy quân sự" } },
  ],
  other: [
    { title: "Sinh hoạt câu lạc bộ khuyến học – khuyến tài", speaker: { body: "association", at: "Hội Khuyến học" } },
    { title: "Giáo dục quốc phòng và an ninh cho toàn dân", speaker: { body: "military_command", at: "Ban Chỉ huy quân sự" } },
  ],
};
const TOPICS = Object.keys(CATALOGUE) as SessionTopic[];
/** Local start times (Vietnam): mornings, afternoons, evenings after work in the fields. */
const START_TIMES: ReadonlyArray<readonly [number, number]> = [[7, 30], [8, 0], [9, 0], [14, 0], [14, 30], [15, 0], [19, 0], [19, 30]];
const DURATIONS = [60, 90, 120, 150, 180];
const DESCRIPTION = "Dữ liệu demo: buổi học minh họa, không có thật. Demo data: an illustrative session, not a real one.";
/** Spread over the next four weeks, never sooner than tomorrow. */
const DAYS_AHEAD = 28;

const BATCH = 4_000;
const iso = (d: Date) => d.toISOString().replace("Z", "");

/** A small deterministic generator (mulberry32), so the same centre gets the same sessions. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const seedOf = (s: string) => [...s].reduce((h, ch) => Math.imul(h ^ ch.codePointAt(0)!, 16777619) >>> 0, 2166136261);

/**
 * Loads the demo centres and their sessions; a second run adds nothing (centres are keyed by
 * (commune_code, name); sessions go only to demo centres that have none). One transaction.
 */
export async function loadDemoCenters(prisma: PrismaClient, now: () => Date, opts: DemoOptions = {}): Promise<DemoCounts> {
  const perCommune = opts.perCommune ?? 1;
  const perCenter = opts.sessionsPerCenter ?? 3;
  if (!Number.isInteger(perCommune) || perCommune < 1 || perCommune > 20) throw new RangeError("perCommune must be 1–20");
  if (!Number.isInteger(perCenter) || perCenter < 1 || perCenter > 20) throw new RangeError("sessionsPerCenter must be 1–20");
  const provinces = opts.provinceCodes ? [...opts.provinceCodes] : null;
  const at = now();

  return prisma.$transaction(async (tx) => {
    // The k-th extra centre sits 1.1·k km from the commune's point, turned by the golden angle.
    const centers = await tx.$executeRawUnsafe(
      `INSERT INTO learning_centers (province_code, commune_code, name, address, lat, lon, demo, updated_at)
       SELECT m.province_code, m.code,
              'TTHTCĐ ' || m.type || ' ' || m.name || CASE WHEN k = 1 THEN '' ELSE ' – điểm ' || k END || ' (demo)',
              'Địa chỉ minh họa (dữ liệu demo), ' || m.type || ' ' || m.name || ', ' || p.name,
              m.lat + 0.01 * (k - 1) * sin(2.399963 * k), m.lon + 0.01 * (k - 1) * cos(2.399963 * k),
              true, $1::timestamp
         FROM communes m JOIN provinces p ON p.code = m.province_code CROSS JOIN generate_series(1, $2::int) AS k
        WHERE $3::text[] IS NULL OR m.province_code = ANY($3::text[])
       ON CONFLICT (commune_code, name) DO NOTHING`,
      iso(at), perCommune, provinces,
    );

    const bare = await tx.$queryRawUnsafe<Array<{ id: number; name: string; type: string }>>(
      `SELECT c.id, m.name, m.type FROM learning_centers c JOIN communes m ON m.code = c.commune_code
        WHERE c.demo AND NOT EXISTS (SELECT 1 FROM learning_sessions s WHERE s.center_id = c.id)
        ORDER BY c.id`,
    );
    let sessions = 0;
    for (let i = 0; i < bare.length; i += BATCH) {
      const chunk = bare.slice(i, i + BATCH);
      const rows = chunk.flatMap((c) => demoSessions(Number(c.id), `${c.type} ${c.name}`, perCenter, at));
      sessions += await tx.$executeRawUnsafe(
        `INSERT INTO learning_sessions (center_id, title, topic, starts_at, duration_min, capacity, speaker, organiser_body,
                                        description, checkin_token, next_reminder_at, demo, updated_at)
         SELECT center_id, title, topic, starts_at, duration_min, capacity, speaker, organiser_body, $9, checkin_token, next_reminder_at, true, $10::timestamp
           FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamp[], $5::int[], $6::int[], $7::text[], $8::text[], $11::text[], $12::timestamp[])
             AS r(center_id, title, topic, starts_at, duration_min, capacity, speaker, organiser_body, checkin_token, next_reminder_at)`,
        rows.map((r) => r.centerId), rows.map((r) => r.title), rows.map((r) => r.topic), rows.map((r) => iso(r.startsAt)),
        rows.map((r) => r.durationMin), rows.map((r) => r.capacity), rows.map((r) => r.speaker), rows.map((r) => r.organiserBody),
        DESCRIPTION, iso(at), rows.map((r) => r.checkinToken), rows.map((r) => (r.nextReminderAt ? iso(r.nextReminderAt) : null)),
      );
      await refreshCenterUpcoming(tx, chunk.map((c) => Number(c.id)));
    }
    return { centers, sessions };
  }, { timeout: 300_000, maxWait: 60_000 });
}

interface DemoSession {
  centerId: number;
  title: string;
  topic: SessionTopic;
  startsAt: Date;
  durationMin: number;
  capacity: number;
  speaker: string;
  organiserBody: OrganiserBody;
  checkinToken: string;
  nextReminderAt: Date | null;
}

/** A centre's sessions: different topics, on different days, at local hours people come to. */
function demoSessions(centerId: number, commune: string, count: number, now: Date): DemoSession[] {
  const rand = prng(seedOf(`${centerId}:${commune}`));
  const today = vnParts(now);
  const firstTopic = Math.floor(rand() * TOPICS.length);
  const out: DemoSession[] = [];
  for (let j = 0; j < count; j++) {
    const topic = TOPICS[(firstTopic + j * 3) % TOPICS.length]!;
    const pick = CATALOGUE[topic][Math.floor(rand() * CATALOGUE[topic].length)]!;
    const [hour, minute] = START_TIMES[Math.floor(rand() * START_TIMES.length)]!;
    // Day 1 + a share of the four weeks per session, so a centre's sessions come in order.
    const day = 1 + Math.floor(((j + rand()) * (DAYS_AHEAD - 1)) / count);
    const startsAt = fromVnWallTime(today.year, today.month, today.day + day, hour, minute);
    out.push({
      centerId,
      title: pick.title,
      topic,
      startsAt,
      durationMin: DURATIONS[Math.floor(rand() * DURATIONS.length)]!,
      capacity: 20 + 5 * Math.floor(rand() * 9),
      speaker: "name" in pick.speaker ? pick.speaker.name : `${pick.speaker.at} ${commune}`,
      organiserBody: pick.speaker.body,
      // 18 random bytes are 24 base64url characters: unguessable, like the officers' sessions.
      checkinToken: randomBytes(18).toString("base64url"),
      nextReminderAt: firstReminderAt(startsAt, now),
    });
  }
  return out;
}

/**
 * Removes every demo centre (their sessions and sign-ups go with them) and any demo session at
 * another centre. Queued reminders of removed sessions stay in the ledger: the reminder kind finds
 * no session and skips them.
 */
export async function removeDemoCenters(prisma: PrismaClient): Promise<DemoCounts> {
  return prisma.$transaction(async (tx) => {
    const strays = await tx.$queryRawUnsafe<Array<{ center_id: number }>>(
      `DELETE FROM learning_sessions s USING learning_centers c
        WHERE s.center_id = c.id AND s.demo AND NOT c.demo
       RETURNING s.center_id`,
    );
    const [counted] = await tx.$queryRawUnsafe<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM learning_sessions s JOIN learning_centers c ON c.id = s.center_id WHERE c.demo`,
    );
    const centers = await tx.$executeRawUnsafe(`DELETE FROM learning_centers WHERE demo`);
    await refreshCenterUpcoming(tx, [...new Set(strays.map((r) => Number(r.center_id)))]);
    return { centers, sessions: Number(counted?.n ?? 0) + strays.length };
  }, { timeout: 300_000, maxWait: 60_000 });
}
