import { readAdminUnits } from "../../src/domain/geo/seed-admin-units.js";
import type { PrismaClient } from "../../src/generated/prisma/client.js";

export interface SeededBroadcast {
  id: string;
  provinceCode: string;
  communeCode: string;
}

/**
 * `n` registered people (ids base+1 … base+n) and one confirmed broadcast to them from `officerId`,
 * frozen in the ledger as the compose flow leaves it: what benchmarks and process tests start from.
 */
export async function seedBroadcast(prisma: PrismaClient, officerId: number, base: number, n: number): Promise<SeededBroadcast> {
  const { data } = readAdminUnits();
  const province = data.provinces[0]!;
  const commune = province.communes[0]!;
  await prisma.$executeRawUnsafe(
    `INSERT INTO users (telegram_id, role, scope_province_code, updated_at) VALUES ($1, 'officer', $2, now()) ON CONFLICT DO NOTHING`,
    officerId, province.code);
  await prisma.$executeRawUnsafe(
    `INSERT INTO users (telegram_id, role, updated_at) SELECT $1::bigint + g, 'resident', now() FROM generate_series(1, $2::int) g`, base, n);
  await prisma.$executeRawUnsafe(
    `INSERT INTO learning_citizens (user_id, registration_number, full_name, birth_year, province_code, commune_code, affiliation, goals, registered_at, updated_at)
     SELECT $1::bigint + g, 'SEED-' || ($1::bigint + g), 'Người nhận ' || g, 1990, $3, $4, 'resident', ARRAY['digital'], now(), now()
       FROM generate_series(1, $2::int) g`, base, n, province.code, commune.code);
  const [b] = await prisma.$queryRawUnsafe<Array<{ id: number }>>(
    `INSERT INTO broadcasts (author_id, sender_body, sender_province_code, audience, text, state, recipient_count, started_at)
     VALUES ($1, 'association', $2, $3::jsonb, $4, 'sending', $5, now()) RETURNING id`,
    officerId, province.code, JSON.stringify({ provinceCode: province.code }),
    "Kính gửi {name}: Hội Khuyến học mời bà con dự buổi tuyên truyền <b>Luật Biên phòng</b> tại {commune}.", n);
  await prisma.$executeRawUnsafe(
    `INSERT INTO deliveries (kind, ref_id, chat_id, due_at) SELECT 'broadcast', $1, $2::bigint + g, now() FROM generate_series(1, $3::int) g`,
    String(b!.id), base, n);
  return { id: String(b!.id), provinceCode: province.code, communeCode: commune.code };
}
