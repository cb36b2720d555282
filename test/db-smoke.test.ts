import { expect, it } from "vitest";
import { openTestDatabase } from "./support/database.js";

it("migrates and seeds", async () => {
  const t0 = Date.now();
  const db = await openTestDatabase();
  console.log("open+migrate+seed ms", Date.now() - t0, db.lane);
  expect(await db.prisma.commune.count()).toBe(3321);
  await db.close();
});
