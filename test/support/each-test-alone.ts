/**
 * Runs every test of the given files alone, one vitest run per test (both database lanes), and
 * fails unless each run passed exactly that test: tests must not lean on data of earlier tests.
 *   npx tsx test/support/each-test-alone.ts test/domain
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const targets = process.argv.slice(2);
if (targets.length === 0) throw new Error("usage: each-test-alone.ts <test files or folders>");
const dir = mkdtempSync(path.join(tmpdir(), "khb-alone-"));
const vitest = (args: string[]) => spawnSync("npx", ["vitest", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const listFile = path.join(dir, "list.json");
vitest(["list", ...targets, `--json=${listFile}`]);
const listed = JSON.parse(readFileSync(listFile, "utf8")) as Array<{ name: string; file: string }>;
// The same test in two projects is one entry here.
const tests = [...new Map(listed.map((t) => [`${t.file}\0${t.name}`, t])).values()];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
let failures = 0;
for (const [i, t] of tests.entries()) {
  const fullName = t.name.split(" > ").join(" ");
  const out = path.join(dir, `run-${i}.json`);
  const run = vitest(["run", t.file, "-t", `^${escape(fullName)}$`, "--reporter=json", `--outputFile=${out}`]);
  let passed: string[] = [];
  let failed: string[] = [];
  try {
    const report = JSON.parse(readFileSync(out, "utf8")) as { testResults: Array<{ assertionResults: Array<{ fullName: string; status: string }> }> };
    const results = report.testResults.flatMap((f) => f.assertionResults);
    passed = results.filter((r) => r.status === "passed").map((r) => r.fullName);
    failed = results.filter((r) => r.status === "failed").map((r) => r.fullName);
  } catch {
    failed = ["(no report)"];
  }
  // Exactly this test passed, in at least one lane, and nothing failed.
  const ok = run.status === 0 && failed.length === 0 && passed.length > 0 && passed.every((n) => n === fullName);
  if (!ok) failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${path.relative(process.cwd(), t.file)} › ${fullName} (passed in ${passed.length} lane(s))`);
  if (!ok) console.log(run.stdout.slice(-3000), run.stderr.slice(-3000));
}
rmSync(dir, { recursive: true, force: true });
console.log(`${tests.length - failures} of ${tests.length} tests pass alone`);
process.exit(failures === 0 ? 0 : 1);
