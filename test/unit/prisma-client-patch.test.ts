import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const classFile = path.join(root, "src/generated/prisma/internal/class.ts");

describe("the generated Prisma client (prisma/patch-generated-client.mjs)", () => {
  it("compiles the query compiler from a WASM file decoded at generate time, not from the 2.5 MB base64 module", () => {
    const source = readFileSync(classFile, "utf8");
    expect(source).toContain("khuyenhoc-bot: prisma/patch-generated-client.mjs");
    expect(source).not.toMatch(/await import\("@prisma\/client\/runtime\/query_compiler_bg\.\w+\.wasm-base64\.mjs"\)/);
    expect(source).toContain("new URL('../../../../prisma/generated/query_compiler_bg.wasm', import.meta.url)");
    // Four levels up from src/generated/prisma/internal/ (and dist/…) is the project root.
    const wasm = path.join(root, "prisma/generated/query_compiler_bg.wasm");
    expect(existsSync(wasm)).toBe(true);
    const bytes = readFileSync(wasm);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x00, 0x61, 0x73, 0x6d])); // "\0asm"
    // Node's type definitions (no DOM library) do not declare the WebAssembly global.
    const wasmApi = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(wasmApi.validate(bytes)).toBe(true);
  });

  it("is patched once: running the patch again changes nothing", () => {
    const before = readFileSync(classFile, "utf8");
    execFileSync(process.execPath, [path.join(root, "prisma/patch-generated-client.mjs")], { cwd: root });
    expect(readFileSync(classFile, "utf8")).toBe(before);
  });
});
