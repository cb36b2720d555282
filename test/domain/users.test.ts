import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserService } from "../../src/domain/users/user-service.js";
import type { Database } from "../../src/infra/database.js";
import { openTestDatabase } from "../support/database.js";

let db: Database;
let users: UserService;
const now = new Date("2026-11-23T03:00:00Z");
const later = (h: number) => new Date(now.getTime() + h * 3600_000);

beforeAll(async () => {
  db = await openTestDatabase();
  users = new UserService(db.prisma, new Set(["9000"]));
});
afterAll(() => db.close());

describe("roles and officer invites", () => {
  it("treats ADMIN_TELEGRAM_IDS as admins and strangers as residents", async () => {
    expect((await users.access("9000")).role).toBe("admin");
    expect((await users.access("1")).role).toBe("resident");
  });

  it("grants the officer role once, with the invite's scope", async () => {
    const { token, expiresAt } = await users.createInvite("9000", { provinceCode: "08", communeCode: "00715", unitName: "Đồn Biên phòng Lũng Cú" }, 72, now);
    expect(expiresAt.toISOString()).toBe(later(72).toISOString());
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const r = await users.redeemInvite("42", token, later(1));
    expect(r).toEqual({ status: "granted", scope: { provinceCode: "08", communeCode: "00715", unitName: "Đồn Biên phòng Lũng Cú" } });
    expect(await users.access("42")).toEqual({ role: "officer", scope: { provinceCode: "08", communeCode: "00715", unitName: "Đồn Biên phòng Lũng Cú" } });
    expect(await users.redeemInvite("43", token, later(2))).toEqual({ status: "used" });
    expect((await users.access("43")).role).toBe("resident");
  });

  it("refuses expired and unknown invites", async () => {
    const { token } = await users.createInvite("9000", { provinceCode: "01" }, 1, now);
    expect(await users.redeemInvite("44", token, later(2))).toEqual({ status: "expired" });
    expect(await users.redeemInvite("44", "A".repeat(22), later(0))).toEqual({ status: "unknown" });
    expect((await users.access("44")).role).toBe("resident");
  });

  it("lets only one of two simultaneous redeemers win", async () => {
    const { token } = await users.createInvite("9000", { provinceCode: "01" }, 1, now);
    const results = await Promise.all([users.redeemInvite("50", token, now), users.redeemInvite("51", token, now)]);
    expect(results.filter((r) => r.status === "granted")).toHaveLength(1);
    const roles = [(await users.access("50")).role, (await users.access("51")).role].sort();
    expect(roles).toEqual(["officer", "resident"]);
  });

  it("audits grants without personal data", async () => {
    const entries = await db.prisma.auditLog.findMany({ where: { action: "officer_role_granted" } });
    expect(entries.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(entries, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toMatch(/Lũng Cú/);
  });
});
