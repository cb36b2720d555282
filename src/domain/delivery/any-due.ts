import type { PrismaClient } from "../../generated/prisma/client.js";

/** Tables whose rows carry their next reminder's time in an indexed `next_reminder_at`. */
export type ReminderTable = "learning_sessions" | "scholarship_rounds";

/**
 * Whether any row's next reminder falls by `until` (a timestamp without zone, UTC). One look at
 * the index: the ticks run every second in every process, and nearly all of them find nothing,
 * so they open their locking transaction only when this says there is work.
 */
export async function anyDue(prisma: Pick<PrismaClient, "$queryRawUnsafe">, table: ReminderTable, until: string): Promise<boolean> {
  const rows = await prisma.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM ${table} WHERE next_reminder_at <= $1::timestamp LIMIT 1`, until);
  return rows.length > 0;
}
