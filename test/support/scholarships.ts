import type { PrismaClient } from "../../src/generated/prisma/client.js";
import { addDays, firstRoundReminderAt, vnDay } from "../../src/domain/scholarships/model.js";

/**
 * A scholarship round stored directly (for tests of the parts that read rounds). Days are
 * relative to `now`'s Vietnamese day: by default open since 2 days ago, deadline in 10 days,
 * award in 30; next_reminder_at set as an officer's create would.
 */
export async function makeRound(prisma: PrismaClient, now: Date, over: {
  programme?: string; provinceCode?: string | null; rules?: Record<string, unknown>; opensIn?: number; deadlineIn?: number; awardIn?: number;
  state?: "active" | "closed" | "cancelled"; createdById?: bigint | null; organiserBody?: string; awardValueVnd?: bigint | null; awardCount?: number | null;
} = {}): Promise<{ id: number; opensOn: Date; deadlineOn: Date; awardOn: Date }> {
  const today = vnDay(now);
  const opensOn = addDays(today, over.opensIn ?? -2);
  const deadlineOn = addDays(today, over.deadlineIn ?? 10);
  const awardOn = addDays(today, over.awardIn ?? 30);
  const row = await prisma.scholarshipRound.create({
    data: {
      programme: over.programme ?? "Vì em hiếu học",
      year: today.getUTCFullYear(),
      organiserBody: over.organiserBody ?? "association",
      provinceCode: over.provinceCode === undefined ? "31" : over.provinceCode,
      eligibility: "Học sinh nghèo vượt khó, học lực khá trở lên.",
      rules: (over.rules ?? {}) as object,
      awardValueVnd: over.awardValueVnd === undefined ? 2_000_000n : over.awardValueVnd,
      awardCount: over.awardCount === undefined ? 20 : over.awardCount,
      opensOn, deadlineOn, awardOn,
      howToApply: "Nộp hồ sơ tại Hội Khuyến học xã.",
      contact: "Hội Khuyến học xã, 0225 3 123 456",
      state: over.state ?? "active",
      nextReminderAt: firstRoundReminderAt({ opensOn, deadlineOn }, now),
      createdById: over.createdById ?? null,
    },
  });
  return { id: row.id, opensOn, deadlineOn, awardOn };
}
