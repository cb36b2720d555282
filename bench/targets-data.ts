/**
 * A generated province for bench:targets (and tests that need volume): `units` units in 30 communes
 * of one province (a root per commune, the others under it), `people` registered learning citizens
 * plus a fifth as many unit members not yet registered, 60% of them association members, families
 * of four. Written with INSERT … SELECT generate_series: seconds, not minutes, on both lanes.
 */
import type { PrismaClient } from "../src/generated/prisma/client.js";

export interface GeneratedProvince {
  provinceCode: string;
  communeCodes: string[];
  programmeId: number;
  /** A unit with units under it (for the unit scope). */
  unitId: number;
  people: number;
  units: number;
}

export async function generateProvince(prisma: PrismaClient, opts: { units: number; people: number; provinceCode?: string; now?: Date }): Promise<GeneratedProvince> {
  const provinceCode = opts.provinceCode ?? "01";
  const now = opts.now ?? new Date();
  const communes = (await prisma.commune.findMany({ where: { provinceCode }, select: { code: true }, orderBy: { code: "asc" }, take: 30 })).map((c) => c.code);
  const nc = communes.length;
  const unregistered = Math.round(opts.people / 5);
  const all = opts.people + unregistered;
  const base = 900_000_000;
  const q = (sql: string, ...params: unknown[]) => prisma.$executeRawUnsafe(sql, ...params);
  const communeOf = (expr: string) => `($1::text[])[1 + (${expr}) % ${nc}]`;

  // Units 1..nc are the communes' roots; the others hang under the root of their commune.
  const firstUnit = Number((await prisma.$queryRawUnsafe<[{ n: bigint }]>("SELECT coalesce(max(id), 0) AS n FROM units"))[0].n) + 1;
  await q(
    `INSERT INTO units (id, name, name_key, kind, body, province_code, commune_code, parent_id, headcount, join_token, learning_status, updated_at)
     SELECT $3 + g, 'Đơn vị ' || g, 'don vi ' || g || ' ' || $3::int, 'border_post', CASE WHEN g % 3 = 0 THEN 'military_command' ELSE 'border_guard' END,
            $2, ${communeOf("g")}, CASE WHEN g < ${nc} THEN NULL ELSE $3 + (g % ${nc}) END,
            0, 'bench' || lpad(($3 + g)::text, 19, '0'), CASE WHEN g % 4 = 0 THEN 'approved' ELSE 'none' END, $4
       FROM generate_series(0, $5 - 1) g`,
    communes, provinceCode, firstUnit, now, opts.units,
  );
  await q(`SELECT setval(pg_get_serial_sequence('units', 'id'), (SELECT max(id) FROM units))`);
  await q(
    `INSERT INTO users (telegram_id, role, updated_at, association_member_since)
     SELECT $1::bigint + g, 'resident', $2::timestamp, CASE WHEN g % 10 < 6 THEN $2::timestamp END FROM generate_series(1, $3) g`,
    base, now, all,
  );
  await q(
    `INSERT INTO learning_citizens (user_id, registration_number, full_name, birth_year, province_code, commune_code, affiliation, goals, registered_at, updated_at)
     SELECT $2::bigint + g, 'BENCH-' || g, 'Người ' || g, 1960 + g % 45, $3, ${communeOf("g")}, 'border_guard', ARRAY['law'], $4::timestamp - (g % 300) * interval '1 day', $4::timestamp
       FROM generate_series(1, $5) g`,
    communes, base, provinceCode, now, opts.people,
  );
  // Every person in one unit: registered and unregistered people spread over all units.
  await q(
    `INSERT INTO unit_members (unit_id, user_id, role, display_name, joined_at)
     SELECT $1 + g % $3, $2::bigint + g, CASE WHEN g <= $3 THEN 'head' ELSE 'member' END, 'Người ' || g, $4
       FROM generate_series(1, $5) g`,
    firstUnit, base, opts.units, now, all,
  );
  // Headcount: the members and a tenth more (people not in the bot yet).
  await q(`UPDATE units u SET headcount = n.c + n.c / 10 + 1 FROM (SELECT unit_id, count(*)::int AS c FROM unit_members WHERE unit_id >= $1 GROUP BY unit_id) n WHERE n.unit_id = u.id`, firstUnit);
  const families = Math.floor(opts.people / 4);
  const firstGroup = Number((await prisma.$queryRawUnsafe<[{ n: bigint }]>("SELECT coalesce(max(id), 0) AS n FROM learning_groups"))[0].n) + 1;
  await q(
    `INSERT INTO learning_groups (id, kind, name, province_code, commune_code, invite_token, children_in_school, created_at, updated_at)
     SELECT $3 + g, 'family', 'Gia đình ' || g, $2, ${communeOf("g")}, 'benchf' || lpad(($3 + g)::text, 18, '0'), g % 3 <> 0, $4, $4
       FROM generate_series(0, $5 - 1) g`,
    communes, provinceCode, firstGroup, now, families,
  );
  await q(`SELECT setval(pg_get_serial_sequence('learning_groups', 'id'), (SELECT max(id) FROM learning_groups))`);
  await q(
    `INSERT INTO learning_group_members (group_id, user_id, kind, role, joined_at)
     SELECT $1 + (g - 1) / 4, $2::bigint + g, 'family', CASE WHEN g % 4 = 1 THEN 'owner' ELSE 'member' END, $3
       FROM generate_series(1, $4) g`,
    firstGroup, base, now, families * 4,
  );
  const programme = await prisma.programme.create({
    data: {
      name: "Chương trình phối hợp 2024–2030", provinceCode, bodies: ["association", "military_command", "border_guard"], startYear: 2024, endYear: 2030,
      targets: { create: [
        { metric: "learning_citizens", year: 0, percent: 100 }, { metric: "members", year: 0, percent: 100 },
        { metric: "learning_units", year: 0, percent: 90 }, { metric: "learning_families", year: 0, percent: 80 },
        { metric: "learning_citizens", year: now.getUTCFullYear(), percent: 80 },
      ] },
    },
  });
  await prisma.$executeRawUnsafe("ANALYZE");
  return { provinceCode, communeCodes: communes, programmeId: programme.id, unitId: firstUnit, people: opts.people, units: opts.units };
}
