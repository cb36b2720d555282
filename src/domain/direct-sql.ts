import type { PrismaClient } from "../generated/prisma/client.js";

/**
 * One statement (a read or a write) straight through the database driver: `Database.read`, the
 * `pg` pool (on PGlite too, over its in-process wire). The hottest statements take it (the nearby
 * page, the registration's two, a quiz answer's two): Prisma's interpreter costs more than such a
 * statement on the embedded database. Rows come as the driver gives them (see `Database.read`).
 */
export type DirectSql = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

/** `read` when the caller has the driver, else the same statement through Prisma (tests, tools). */
export function directSql(prisma: Pick<PrismaClient, "$queryRawUnsafe">, read?: DirectSql): DirectSql {
  return read ?? (<T>(sql: string, params: unknown[] = []) => prisma.$queryRawUnsafe<T[]>(sql, ...params));
}
