import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/infra/database.js";
import { isStorageUnavailable } from "../../src/infra/unavailable.js";
import { currentLane, openTestDatabase } from "../support/database.js";

/** A loopback port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
}

describe("isStorageUnavailable", () => {
  it("recognises Prisma's errors when PostgreSQL is unreachable", async () => {
    const db = await openDatabase({ url: `postgresql://postgres@127.0.0.1:${await closedPort()}/none` });
    try {
      expect(isStorageUnavailable(await errorOf(db.prisma.user.findFirst()))).toBe(true);
      expect(isStorageUnavailable(await errorOf(db.prisma.$queryRawUnsafe("SELECT 1")))).toBe(true);
      expect(isStorageUnavailable(await errorOf(db.exec("SELECT 1")))).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("recognises a closed database (a query racing shutdown), through Prisma and through the driver", async () => {
    const db = await openDatabase({ pgliteDir: "memory://" });
    await db.close();
    expect(isStorageUnavailable(await errorOf(db.prisma.user.findFirst()))).toBe(true);
    expect(isStorageUnavailable(await errorOf(db.read("SELECT 1")))).toBe(true);
  });

  it(`does not mistake a bug or bad data for an outage (${currentLane()})`, async () => {
    const db = await openTestDatabase();
    try {
      expect(isStorageUnavailable(await errorOf(db.prisma.$queryRawUnsafe("SELEC 1")))).toBe(false);
      expect(isStorageUnavailable(await errorOf(db.prisma.$queryRawUnsafe("SELECT * FROM no_such_table")))).toBe(false);
      await db.prisma.user.create({ data: { id: 42n } });
      expect(isStorageUnavailable(await errorOf(db.prisma.user.create({ data: { id: 42n } })))).toBe(false);
    } finally {
      await db.close();
    }
    expect(isStorageUnavailable(new Error("boom"))).toBe(false);
    expect(isStorageUnavailable(Object.assign(new Error("no such file"), { code: "ENOENT", syscall: "open" }))).toBe(false);
    expect(isStorageUnavailable(undefined)).toBe(false);
    expect(isStorageUnavailable("ECONNREFUSED")).toBe(false);
  });
});
