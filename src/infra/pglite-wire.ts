import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { CUSTOM_PLANS, statementCachingClient } from "./pg-statements.js";

/**
 * node-postgres connections to an open PGlite, over the in-process wire (PgliteWire below): one
 * driver and one Prisma adapter for both lanes. Pooled connections never idle out, since each
 * opening is a startup exchange.
 */
export function pglitePool(db: PGlite): pg.Pool {
  const wire = new PgliteWire(db);
  return new pg.Pool({
    max: 10, idleTimeoutMillis: 0, user: "postgres", password: "postgres", database: "template1", stream: () => wire.stream() as unknown as Duplex,
    Client: statementCachingClient(), // planning is most of a hot statement's cost on PGlite
    // PGlite's startup leaves client_min_messages at debug3 (startup options are ignored): every
    // statement would answer with DEBUG notices. The pool runs this before lending the connection.
    onConnect: async (client: pg.ClientBase) => void (await client.query(`SET client_min_messages TO warning; ${CUSTOM_PLANS}`)),
  });
}

/**
 * The embedded PGlite behind node-postgres: every pooled `pg` connection gets an in-process stream
 * (no socket) whose PostgreSQL wire messages go to PGlite's backend in one `execProtocolRaw` call
 * per batch, and whose answers come back as the stream's data.
 *
 * Why: PGlite's own `query` makes six trips into the WASM backend per statement (parse, describe,
 * bind, describe, execute, sync) and parses every reply in JavaScript, about 1 ms a statement; the
 * same statement sent by `pg` as one batch is one trip, about a third of that. It also puts both
 * lanes on one driver and one Prisma adapter (@prisma/adapter-pg): the same rows, types and error
 * shapes whether the database is PostgreSQL or the embedded PGlite.
 *
 * PGlite has one backend, so the connections take turns by batch (a batch ends with Sync or a
 * simple Query, so the unnamed statement and portal never mix). A connection whose batch leaves the
 * backend anything but idle (a transaction open, a startup waiting for its password) owns it until
 * its ReadyForQuery says idle again; the others wait, as they would for PGlite's own transaction
 * lock. A connection that goes away inside a transaction is rolled back. Session settings (`SET`
 * outside a transaction) are shared: the pool sets the same ones on every connection, and the
 * project's statements use only `SET LOCAL`.
 */
export class PgliteWire {
  private readonly queue: Batch[] = [];
  private owner: WireStream | undefined;
  private running = false;

  constructor(private readonly db: PGlite) {}

  /** A new connection's stream, for `pg`'s `stream` option. */
  stream(): WireStream {
    return new WireStream(this);
  }

  /** @internal */
  enqueue(batch: Batch): void {
    this.queue.push(batch);
    if (!this.running) void this.pump();
  }

  /** @internal A connection closed: drop its waiting batches and end a transaction it left open. */
  closed(conn: WireStream): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.conn === conn) this.queue.splice(i, 1);
    if (this.owner === conn) this.enqueue({ conn, bytes: ROLLBACK, discard: true });
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      await this.db.waitReady; // a pool may be handed a PGlite still starting (the Prisma CLI's)
      for (;;) {
        const owner = this.owner;
        const at = owner ? this.queue.findIndex((b) => b.conn === owner) : 0;
        if (at < 0 || this.queue.length === 0) return;
        const batch = this.queue.splice(at, 1)[0]!;
        let out: Uint8Array;
        try {
          out = await this.db.runExclusive(() => this.db.execProtocolRaw(batch.bytes));
        } catch (err) {
          // The backend itself failed (not an SQL error, which comes back as a message).
          if (this.owner === batch.conn) this.owner = undefined;
          batch.conn.fail(err instanceof Error ? err : new Error(String(err)));
          continue;
        }
        // Idle ('I'): the next batch may come from any connection. Anything else (a transaction
        // block, a failed one, a startup waiting for its password, an extended query before its
        // Sync) is this connection's state in the one backend: it keeps the backend until idle.
        if (readyStatus(out) === 0x49 /* I */) {
          if (this.owner === batch.conn) this.owner = undefined;
        } else this.owner = batch.conn;
        if (!batch.discard && out.length > 0) batch.conn.deliver(Buffer.from(out));
      }
    } finally {
      this.running = false;
    }
  }
}

interface Batch {
  conn: WireStream;
  bytes: Uint8Array;
  /** The answer goes nowhere (the rollback of a closed connection). */
  discard?: boolean;
}

/** `Q ROLLBACK\0`: a simple query message. */
const ROLLBACK = simpleQuery("ROLLBACK");

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const msg = Buffer.alloc(5 + text.length);
  msg.write("Q", 0);
  msg.writeInt32BE(4 + text.length, 1);
  text.copy(msg, 5);
  return msg;
}

/** The transaction status of the answer's closing ReadyForQuery ('I', 'T', 'E'), or 0 if none. */
function readyStatus(out: Uint8Array): number {
  const n = out.length;
  if (n < 6 || out[n - 6] !== 0x5a) return 0;
  if (out[n - 5] !== 0 || out[n - 4] !== 0 || out[n - 3] !== 0 || out[n - 2] !== 5) return 0;
  return out[n - 1]!;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/**
 * One connection's end, with the parts of net.Socket that `pg` uses. Writes are framed into whole
 * protocol messages; a batch goes to the backend when it ends with a message that asks for an
 * answer (Sync, Query, Flush, a password).
 */
export class WireStream extends EventEmitter {
  writable = true;
  private pending: Buffer = Buffer.alloc(0);
  private started = false;
  private ended = false;

  constructor(private readonly wire: PgliteWire) {
    super();
  }

  connect(): this {
    process.nextTick(() => this.emit("connect"));
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  write(chunk: Uint8Array | string, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    const done = typeof encoding === "function" ? encoding : cb;
    if (this.ended) {
      const err = Object.assign(new Error("write after end"), { code: "EPIPE" });
      if (done) process.nextTick(done, err);
      return false;
    }
    const data = typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : Buffer.from(data);
    this.frame();
    if (done) process.nextTick(done);
    return true;
  }

  end(cb?: () => void): this {
    this.close();
    if (cb) process.nextTick(cb);
    return this;
  }

  destroy(err?: Error): this {
    if (err) this.fail(err);
    else this.close();
    return this;
  }

  /** @internal */
  deliver(data: Buffer): void {
    if (!this.ended) this.emit("data", data);
  }

  /** @internal */
  fail(err: Error): void {
    if (this.ended) return;
    this.emit("error", err);
    this.close();
  }

  private close(): void {
    if (this.ended) return;
    this.ended = true;
    this.writable = false;
    this.pending = Buffer.alloc(0);
    this.wire.closed(this);
    process.nextTick(() => {
      this.emit("end");
      this.emit("close", false);
    });
  }

  /** Cuts whole messages off `pending` and hands complete batches to the wire. */
  private frame(): void {
    let at = 0;
    let batchEnd = 0;
    const buf = this.pending;
    for (;;) {
      if (!this.started) {
        if (buf.length - at < 8) break;
        const len = buf.readInt32BE(at);
        if (buf.length - at < len) break;
        const code = buf.readInt32BE(at + 4);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          // Not offered: answer "N" and wait for the plain startup message.
          at += len;
          batchEnd = at;
          process.nextTick(() => this.deliver(Buffer.from("N")));
          continue;
        }
        if (code === CANCEL_REQUEST) {
          // Nothing to cancel: a batch runs to its end. The server closes a cancel connection.
          this.pending = Buffer.alloc(0);
          this.close();
          return;
        }
        at += len;
        this.started = true;
        this.wire.enqueue({ conn: this, bytes: buf.subarray(batchEnd, at) });
        batchEnd = at;
        continue;
      }
      if (buf.length - at < 5) break;
      const type = buf[at]!;
      const len = buf.readInt32BE(at + 1);
      if (buf.length - at < len + 1) break;
      at += len + 1;
      if (type === 0x58 /* X: Terminate */) {
        this.pending = Buffer.alloc(0);
        this.close();
        return;
      }
      // Sync, Query and Flush ask for answers; so does a password message during the startup.
      if (type === 0x53 /* S */ || type === 0x51 /* Q */ || type === 0x48 /* H */ || type === 0x70 /* p */) {
        this.wire.enqueue({ conn: this, bytes: buf.subarray(batchEnd, at) });
        batchEnd = at;
      }
    }
    this.pending = batchEnd === 0 ? buf : buf.subarray(batchEnd);
  }
}
