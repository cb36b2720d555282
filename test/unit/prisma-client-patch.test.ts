import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const classFile = path.join(root, "src/generated/prisma/internal/class.ts");

describe("the generated Prisma client (prisma/patch-generated-client.mjs)", () => {
  it("reads the query compiler's WASM from its file instead of importing the 2.5 MB base64 module", () => {
    const source = readFileSync(classFile, "utf8");
    expect(source).toContain("khuyenhoc-bot: prisma/patch-generated-client.mjs");
    expect(source).not.toMatch(/await import\("@prisma\/client\/runtime\/query_compiler_bg\.\w+\.wasm-base64\.mjs"\)/);
    expect(source).toMatch(/readFile\(createRequire\(import\.meta\.url\)\.resolve\("@prisma\/client\/runtime\/query_compiler_bg\.postgresql\.wasm-base64\.mjs"\)/);
  });

  it("is patched once: running the patch again changes nothing", () => {
    const before = readFileSync(classFile, "utf8");
    execFileSync(process.execPath, [path.join(root, "prisma/patch-generated-client.mjs")], { cwd: root });
    expect(readFileSync(classFile, "utf8")).toBe(before);
  });
});
