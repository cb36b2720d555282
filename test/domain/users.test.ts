import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserService } from "../../src/domain/users/user-service.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

// One database per file; every test uses its own Telegram ids, so each passes alone.
let db: Database;
const ADMIN = "9000";
let users: UserService;
const now = new Date("2026-11-23T03:00:00Z");
const later = (h: number) => new Date(now.getTime() + h * 3600_000);
const LUNG_CU = { provinceCode: "08", communeCode: "00715", unitName: "Đồn Biên phòng Lũng Cú" };

beforeAll(async () => {
  db = await openTestDatabase();
  users = new UserService(db.prisma, new Set([ADMIN]));
});
afterAll(() => db.close());

describe("roles and officer invites", () => {
  it("treats ADMIN_TELEGRAM_IDS as admins and strangers as residents", async () => {
    expect((await users.access(ADMIN)).role).toBe("admin");
    expect((await users.access("101")).role).toBe("resident");
  });

  it("grants the officer role once, with the invite's scope", async () => {
    const { token, expiresAt } = await users.createInvite(ADMIN, LUNG_CU, 72, now);
    expect(expiresAt.toISOString()).toBe(later(72).toISOString());
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await users.redeemInvite("201", token, later(1))).toEqual({ status: "granted", scope: LUNG_CU });
    expect(await users.access("201")).toEqual({ role: "officer", scope: LUNG_CU });
    expect(await users.redeemInvite("202", token, later(2))).toEqual({ status: "used" });
    expect((await users.access("202")).role).toBe("resident");
  });

  it("refuses expired and unknown invites", async () => {
    const { token } = await users.createInvite(ADMIN, { provinceCode: "01" }, 1, now);
    expect(await users.redeemInvite("301", token, later(2))).toEqual({ status: "expired" });
    expect(await users.redeemInvite("301", "A".repeat(22), later(0))).toEqual({ status: "unknown" });
    expect((await users.access("301")).role).toBe("resident");
  });

  it("lets only one of two simultaneous redeemers win", async () => {
    const { token } = await users.createInvite(ADMIN, { provinceCode: "01" }, 1, now);
    const results = await Promise.all([users.redeemInvite("401", token, now), users.redeemInvite("402", token, now)]);
    expect(results.map((r) => r.status).sort()).toEqual(["granted", "used"]);
    const roles = [(await users.access("401")).role, (await users.access("402")).role].sort();
    expect(roles).toEqual(["officer", "resident"]);
  });

  it("audits grants without personal data", async () => {
    const officers = ["501", "502"];
    for (const id of officers) {
      const { token } = await users.createInvite(ADMIN, LUNG_CU, 1, now);
      expect((await users.redeemInvite(id, token, now)).status).toBe("granted");
    }
    const entries = await db.prisma.auditLog.findMany({ where: { action: "officer_role_granted", actorId: { in: officers.map(BigInt) } } });
    expect(entries.map((e) => String(e.actorId)).sort()).toEqual(officers);
    expect(entries.map((e) => e.detail)).toEqual([
      { provinceCode: "08", communeCode: "00715" },
      { provinceCode: "08", communeCode: "00715" },
    ]);
    expect(JSON.stringify(entries, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toMatch(/Lũng Cú/);
  });
});
