import { defineConfig } from "vitest/config";

/**
 * Two database lanes over the same tests: the embedded PGlite and a real PostgreSQL server.
 * Both use a real redis-server. Started by test/support/global-setup.ts.
 */
export default defineConfig({
  test: {
    // Most tests wait on Redis, the database, timers or a child process rather than the CPU: three
    // files at a time on two cores finish the suite in about two thirds of the time of two, and a
    // test that starts bot processes gets a minute under that load.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: "pglite", env: { TEST_DB_LANE: "pglite" }, globalSetup: ["test/support/global-setup.ts"] },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          env: { TEST_DB_LANE: "postgres" },
          globalSetup: ["test/support/global-setup.ts"],
          // Process-level and pure tests do not depend on the database lane.
          exclude: ["**/node_modules/**", "test/support-telegram.test.ts", "test/locales.test.ts", "test/unit/**", "test/process/startup.test.ts"],
        },
      },
    ],
  },
});
