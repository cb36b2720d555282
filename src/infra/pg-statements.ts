import pg from "pg";

/**
 * Prepared statements for the statements a process runs again and again. node-postgres (and
 * Prisma's adapter-pg on top of it) sends every parameterised statement unnamed, so the server
 * parses and plans it on every call. A statement text seen `PROMOTE_AFTER` times in the process
 * gets a name on each connection that runs it from then on: parsed and analysed once per
 * connection, planned for each call's values (CUSTOM_PLANS).
 *
 * Why: on the embedded PGlite planning is most of a hot statement's cost. The quiz answer's
 * statement (a CTE of six parts) took 3.0 ms a call with no matching rows, 0.5 ms prepared. On
 * PostgreSQL the saving is smaller and the same.
 *
 * Bounds: at most `PER_CONNECTION` named statements a connection (each keeps a plan in the
 * server's memory), the rest stay unnamed; the count of texts seen is forgotten when it passes
 * `SEEN_MAX`, so a process that builds statement texts on the fly (IN lists of varying length)
 * does not grow. Names are per connection, so the connections the PGlite wire multiplexes onto
 * one backend never collide.
 */
const PROMOTE_AFTER = 3;

/**
 * Run on each new connection: a prepared statement is still planned for its actual values. The
 * generic plan PostgreSQL would switch to after five runs plans `unnest($1::text[])` for 100
 * rows whatever the batch, and on PGlite it made the quiz's sent-poll statement twice as slow
 * (2.8 → 1.4 ms a call); what preparing saves is the parse and analysis of the text.
 */
export const CUSTOM_PLANS = "SET plan_cache_mode TO force_custom_plan";
const PER_CONNECTION = 64;
const SEEN_MAX = 2_000;

let connections = 0;

type QueryConfig = { text?: unknown; name?: unknown; values?: unknown[]; submit?: unknown };

/** A pg.Client class that names its repeated statements (see above); one per pool. */
export function statementCachingClient(): typeof pg.Client {
  /** How often the pool's connections have run each text. */
  const seen = new Map<string, number>();
  class StatementCachingClient extends pg.Client {
    private readonly names = new Map<string, string>();
    private readonly prefix = `khb${(connections++).toString(36)}_`;

    override query(config: unknown, values?: unknown, callback?: unknown): never {
      if (typeof config === "string" && Array.isArray(values) && values.length > 0) {
        // pool.query(text, values): the form Database.read uses.
        const name = this.nameFor(config);
        if (name) return (pg.Client.prototype.query as (...a: unknown[]) => never).call(this, { text: config, values, name }, callback);
      }
      const c = config as QueryConfig | null;
      if (c && typeof c === "object" && typeof c.submit !== "function" && typeof c.text === "string" && c.name === undefined
        && Array.isArray(c.values) && c.values.length > 0) {
        const name = this.nameFor(c.text);
        if (name) config = { ...c, name };
      }
      return (pg.Client.prototype.query as (...a: unknown[]) => never).call(this, config, values, callback);
    }

    private nameFor(text: string): string | undefined {
      const known = this.names.get(text);
      if (known) return known;
      const n = (seen.get(text) ?? 0) + 1;
      if (seen.size >= SEEN_MAX && n === 1) seen.clear();
      seen.set(text, n);
      if (n < PROMOTE_AFTER || this.names.size >= PER_CONNECTION) return undefined;
      const name = `${this.prefix}${this.names.size}`;
      this.names.set(text, name);
      return name;
    }
  }
  return StatementCachingClient as unknown as typeof pg.Client;
}
