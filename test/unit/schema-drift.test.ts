import { spawnSync } from "node:child_process";
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "../../src/infra/database.js";
import { applyMigrations } from "../../src/infra/migrate.js";

/**
 * prisma/migrations must build exactly prisma/schema.prisma: a schema change without its
 * migration would pass every test (they migrate with the SQL) and break production databases.
 * Checked by introspecting a freshly migrated PGlite with the Prisma CLI (offline, WASM engines);
 * the cluster comes from the global setup's empty dump, which saves an initdb.
 */
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const dir = mkdtempSync(path.join(tmpdir(), "khb-drift-"));
const cliEnv = {
  ...process.env, DATA_DIR: dir, DATABASE_URL: "", PRISMA_SCHEMA_ENGINE_BINARY: "/dev/null",
  PRISMA_QUERY_ENGINE_LIBRARY: "/dev/null", PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1",
};
const prisma = (args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, "node_modules/prisma/build/index.js"), ...args], { cwd: ROOT, env: cliEnv, encoding: "utf8" });

let pulled: string;

beforeAll(async () => {
  const empty = inject("pgliteDumps")?.empty;
  const db = await openDatabase({ pgliteDir: path.join(dir, "pglite"), pgliteLoadDataDir: empty ? await openAsBlob(empty, { type: "application/x-tar" }) : undefined });
  await applyMigrations(db);
  await db.close();
  const pull = prisma(["db", "pull", "--print"]);
  expect(pull.status, pull.stderr).toBe(0);
  pulled = path.join(dir, "pulled.prisma");
  // The CLI prints a warning about the adapter before the schema.
  writeFileSync(pulled, pull.stdout.slice(pull.stdout.indexOf("generator client")));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("migrations and schema", () => {
  it("the migrations produce exactly the Prisma schema", () => {
    const diff = prisma(["migrate", "diff", "--from-schema-datamodel", pulled, "--to-schema-datamodel", "prisma/schema.prisma", "--exit-code"]);
    expect(diff.stdout + diff.stderr).toContain("No difference detected");
    expect(diff.status).toBe(0);
  }, 60_000);

  it("would notice a model added without a migration", () => {
    const changed = path.join(dir, "changed.prisma");
    writeFileSync(changed, readFileSync(path.join(ROOT, "prisma/schema.prisma"), "utf8") + "\nmodel Unmigrated {\n  id Int @id\n}\n");
    const diff = prisma(["migrate", "diff", "--from-schema-datamodel", pulled, "--to-schema-datamodel", changed, "--exit-code"]);
    expect(diff.status).toBe(2);
  }, 60_000);
});
