import "dotenv/config";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PGlite } from "@electric-sql/pglite";

// The CLI talks to the same database the bot uses: PostgreSQL when DATABASE_URL is set,
// otherwise the embedded PGlite under DATA_DIR (default ./data).
export default defineConfig({
  schema: path.join("prisma", "schema.prisma"),
  experimental: { adapter: true },
  engine: "js",
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (url) return new PrismaPg({ connectionString: url });
    const dir = path.join(process.env.DATA_DIR ?? "./data", "pglite");
    mkdirSync(dir, { recursive: true });
    // The bot reaches PGlite through pg and adapter-pg (src/infra/pglite-wire.ts); the CLI keeps
    // pglite-prisma-adapter, because adapter-pg cannot read introspection's `name` columns (db pull).
    // pglite-prisma-adapter 0.6 pins an older @prisma/driver-adapter-utils: same protocol, other types.
    return new PrismaPGlite(new PGlite(dir)) as unknown as PrismaPg;
  },
});
