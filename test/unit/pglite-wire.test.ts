import type { Duplex } from "node:stream";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PgliteWire } from "../../src/infra/pglite-wire.js";

// The embedded lane's driver: node-postgres talking to PGlite through PgliteWire. Every database
// test of the PGlite lane goes through it too; these pin down the wire's own rules.

let db: PGlite;
let wire: PgliteWire;
const clients: pg.Client[] = [];

beforeAll(async () => {
  db = new PGlite("memory://");
  await db.waitReady;
});
afterAll(() => db.close());

beforeEach(async () => {
  wire = new PgliteWire(db);
  await db.exec("DROP TABLE IF EXISTS t; CREATE TABLE t (id int PRIMARY KEY, v text)");
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => {});
});

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ user: "postgres", password: "postgres", database: "template1", stream: () => wire.stream() as unknown as Duplex });
  c.on("error", () => {});
  await c.connect();
  clients.push(c);
  return c;
}

const tick = () => new Promise((r) => setTimeout(r, 20));

/** b counts t's rows while a holds the backend; resolves to what b saw once a lets go. */
async function countAfter(b: pg.Client, release: () => Promise<unknown>): Promise<unknown> {
  let seen: unknown;
  const waiting = b.query("SELECT count(*)::int AS n FROM t").then((r) => (seen = r.rows));
  await tick();
  expect(seen).toBeUndefined(); // b would otherwise run inside a's open transaction
  await release();
  await waiting;
  return seen;
}

describe("PGlite behind node-postgres (PgliteWire)", () => {
  it("runs parameterised statements and returns rows with PostgreSQL's types", async () => {
    const c = await connect();
    await c.query("INSERT INTO t VALUES ($1, $2), ($3, $4)", [1, "Hà Nội", 2, "Huế"]);
    const { rows } = await c.query("SELECT id, v, 12345678901234::bigint AS big, now() AS at FROM t WHERE id = $1", [1]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 1, v: "Hà Nội", big: "12345678901234" });
    expect(rows[0].at).toBeInstanceOf(Date);
  });

  it("gives SQL errors PostgreSQL's shape (SQLSTATE, constraint) and the connection stays usable", async () => {
    const c = await connect();
    await c.query("INSERT INTO t VALUES (1, 'a')");
    const err = await c.query("INSERT INTO t VALUES (1, 'b')").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "23505", constraint: "t_pkey" });
    expect((await c.query("SELECT count(*)::int AS n FROM t")).rows).toEqual([{ n: 1 }]);
  });

  it("a statement written a byte at a time is framed whole and answered once", async () => {
    const s = wire.stream();
    const replies: Buffer[] = [];
    s.on("data", (b: Buffer) => replies.push(b));
    // startup (protocol 3.0, user postgres) then a simple query, split into single bytes
    const params = Buffer.from("user\0postgres\0database\0template1\0\0");
    const startup = Buffer.alloc(8 + params.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    params.copy(startup, 8);
    for (const byte of startup) s.write(Buffer.from([byte]));
    await tick();
    expect(replies.map((b) => String.fromCharCode(b[0]!))).toEqual(["R"]); // the password request
    replies.length = 0;
    const pass = Buffer.from("p\0\0\0\x0dpostgres\0", "latin1");
    const text = Buffer.from("SELECT 41 + 1 AS x\0");
    const query = Buffer.alloc(5 + text.length);
    query.write("Q");
    query.writeInt32BE(4 + text.length, 1);
    text.copy(query, 5);
    for (const byte of Buffer.concat([pass, query])) s.write(Buffer.from([byte]));
    await tick();
    const all = Buffer.concat(replies).toString("latin1");
    expect(all).toContain("42");
    expect(all.endsWith("Z\0\0\0\x05I")).toBe(true);
    s.end();
  });

  it("a connection inside a transaction has the backend to itself; others wait until it commits", async () => {
    const a = await connect();
    const b = await connect();
    await a.query("BEGIN");
    await a.query("INSERT INTO t VALUES (1, 'from a')");
    const seen = await countAfter(b, async () => {
      await a.query("INSERT INTO t VALUES (2, 'from a')");
      await a.query("COMMIT");
    });
    expect(seen).toEqual([{ n: 2 }]);
  });

  it("a failed transaction keeps the backend until it is rolled back", async () => {
    const a = await connect();
    const b = await connect();
    await a.query("BEGIN");
    await a.query("SELECT 1/0").catch(() => {});
    expect(await countAfter(b, () => a.query("ROLLBACK"))).toEqual([{ n: 0 }]);
  });

  it("a connection that goes away inside a transaction is rolled back and frees the backend", async () => {
    const a = await connect();
    const b = await connect();
    await a.query("BEGIN");
    await a.query("INSERT INTO t VALUES (7, 'never committed')");
    const waiting = b.query("SELECT count(*)::int AS n FROM t");
    await a.end();
    expect((await waiting).rows).toEqual([{ n: 0 }]);
    expect((await b.query("SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
  });

  it("a pool of connections takes turns: concurrent statements and transactions all land", async () => {
    const pool = new pg.Pool({ max: 4, user: "postgres", password: "postgres", database: "template1", stream: () => wire.stream() as unknown as Duplex });
    try {
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          if (i % 4 === 0) {
            const c = await pool.connect();
            try {
              await c.query("BEGIN");
              await c.query("INSERT INTO t VALUES ($1, 'tx')", [i]);
              await c.query("COMMIT");
            } finally {
              c.release();
            }
          } else {
            await pool.query("INSERT INTO t VALUES ($1, 'auto')", [i]);
          }
        }),
      );
      expect((await pool.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE v = 'tx')::int AS tx FROM t")).rows).toEqual([{ n: 40, tx: 10 }]);
    } finally {
      await pool.end();
    }
  });

  it("refuses TLS as a server without it would, and the plain startup still works", async () => {
    const s = wire.stream();
    const replies: string[] = [];
    s.on("data", (b: Buffer) => replies.push(b.toString("latin1")));
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    s.write(ssl);
    await tick();
    expect(replies).toEqual(["N"]);
    s.end();
  });
});
