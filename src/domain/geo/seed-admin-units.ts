import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { PrismaClient } from "../../generated/prisma/client.js";
import { modernToneSpelling, searchForm } from "./normalize.js";

export const ADMIN_UNITS_DATASET = "vn-admin-units-2025";

/**
 * Bumped when the seed stores the same file differently (v2: modern tone-mark spelling), so a
 * database seeded by an older version loads once more although the file did not change.
 */
export const ADMIN_UNITS_SEED_VERSION = 2;

const communeSchema = z.object({
  code: z.string().regex(/^\d{5}$/),
  name: z.string().min(1),
  type: z.enum(["xã", "phường", "đặc khu"]),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});
const datasetSchema = z.object({
  provinces: z
    .array(
      z.object({
        code: z.string().regex(/^\d{2}$/),
        name: z.string().min(1),
        type: z.enum(["tỉnh", "thành phố"]),
        communes: z.array(communeSchema).min(1),
      }),
    )
    .min(1),
});

export type AdminUnitsDataset = z.infer<typeof datasetSchema>;

export function defaultDatasetPath(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../prisma/seed/vn-admin-units-2025.json");
}

export function readAdminUnits(file = defaultDatasetPath()): { data: AdminUnitsDataset; checksum: string } {
  const raw = readFileSync(file);
  return {
    data: datasetSchema.parse(JSON.parse(raw.toString("utf8"))),
    checksum: createHash("sha256").update(raw).digest("hex"),
  };
}

/** What dataset_imports records: the file's SHA-256 and the seed version that stored it. */
export function seedChecksum(fileChecksum: string): string {
  return `${fileChecksum}:v${ADMIN_UNITS_SEED_VERSION}`;
}

/**
 * Loads provinces and communes unless this exact file was loaded before by this seed version.
 * Names are stored in the modern tone-mark spelling ("Thanh Hóa", not the file's "Thanh Hoá").
 * Rows are upserted by code, never deleted: registrations keep pointing at the codes they were
 * made with.
 */
export async function seedAdminUnits(prisma: PrismaClient, file?: string): Promise<"loaded" | "unchanged"> {
  const { data, checksum: fileChecksum } = readAdminUnits(file);
  const checksum = seedChecksum(fileChecksum);
  const previous = await prisma.datasetImport.findUnique({ where: { name: ADMIN_UNITS_DATASET } });
  if (previous?.checksum === checksum) return "unchanged";

  const provinceRows = data.provinces.map((p) => [p.code, modernToneSpelling(p.name), p.type, searchForm(p.name)]);
  const communeRows = data.provinces.flatMap((p) =>
    p.communes.map((c) => [c.code, p.code, modernToneSpelling(c.name), c.type, searchForm(c.name), c.lat, c.lon]),
  );
  await prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(
      upsertSql("provinces", ["code", "name", "type", "search_name"], provinceRows.length),
      ...provinceRows.flat(),
    );
    for (let i = 0; i < communeRows.length; i += 500) {
      const chunk = communeRows.slice(i, i + 500);
      await tx.$executeRawUnsafe(
        upsertSql("communes", ["code", "province_code", "name", "type", "search_name", "lat", "lon"], chunk.length),
        ...chunk.flat(),
      );
    }
    await tx.datasetImport.upsert({
      where: { name: ADMIN_UNITS_DATASET },
      create: { name: ADMIN_UNITS_DATASET, checksum, importedAt: new Date() },
      update: { checksum, importedAt: new Date() },
    });
  }, { timeout: 60_000 });
  return "loaded";
}

function upsertSql(table: string, columns: string[], rows: number): string {
  const width = columns.length;
  const values = Array.from({ length: rows }, (_, r) =>
    `(${columns.map((_, c) => `$${r * width + c + 1}`).join(", ")})`,
  ).join(",\n");
  const updates = columns.slice(1).map((c) => `"${c}" = EXCLUDED."${c}"`).join(", ");
  return `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES ${values}
    ON CONFLICT ("${columns[0]}") DO UPDATE SET ${updates}`;
}
