// Run after `prisma generate` (npm run prisma:generate): one change to the generated client.
//
// The generated client gets Prisma's query compiler (WASM) by importing a module that holds it as
// one 2.5 MB base64 string literal. An imported module's source text stays in memory for the life
// of the process, and so does the literal: about 5 MB of the bot's resident memory, for bytes that
// are needed once, to compile the module. Decoding it at run time instead still makes two 2.5 MB
// strings of garbage, which an idle bot keeps until a collection that may not come for hours.
//
// So the bytes are decoded here, once, into prisma/generated/query_compiler_bg.wasm, and the client
// compiles that file (both are written by this script, on every `npm run prisma:generate`).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const file = path.join(root, "src/generated/prisma/internal/class.ts");
const source = readFileSync(file, "utf8");
const MARK = "khuyenhoc-bot: prisma/patch-generated-client.mjs";

const original = /getQueryCompilerWasmModule: async \(\) => \{\n\s*const \{ wasm \} = await import\("(@prisma\/client\/runtime\/query_compiler_bg\.\w+\.wasm-base64\.mjs)"\)\n\s*return await decodeBase64AsWasm\(wasm\)\n\s*\}/;
const match = original.exec(source);
if (!match && !source.includes(MARK)) {
  console.error(`${file}: the query compiler's loader is not the one this patch knows (a Prisma upgrade?); update prisma/patch-generated-client.mjs`);
  process.exit(1);
}
// Patched already: the module is named in the patch's comment.
const base64Module = match?.[1] ?? /(@prisma\/client\/runtime\/query_compiler_bg\.\w+\.wasm-base64\.mjs)/.exec(source)?.[1];
if (!base64Module) {
  console.error(`${file}: patched, but the base64 module it names is not found`);
  process.exit(1);
}

// The WASM file, decoded from the module this Prisma version ships (written on every generate).
const text = readFileSync(createRequire(import.meta.url).resolve(base64Module), "latin1");
const base64 = /"([A-Za-z0-9+/=]+)"/.exec(text)?.[1];
if (!base64) {
  console.error(`${base64Module}: no base64 WASM in it`);
  process.exit(1);
}
const wasmFile = path.join(root, "prisma/generated/query_compiler_bg.wasm");
const bytes = Buffer.from(base64, "base64");
// Unchanged: left alone. Changed: replaced whole (rename), so a process compiling it meanwhile
// never reads half a file.
if (!existsSync(wasmFile) || !readFileSync(wasmFile).equals(bytes)) {
  mkdirSync(path.dirname(wasmFile), { recursive: true });
  writeFileSync(`${wasmFile}.tmp`, bytes);
  renameSync(`${wasmFile}.tmp`, wasmFile);
}

if (match) {
  // class.ts sits four levels below the project root in src/ (src/generated/prisma/internal/) and
  // in dist/ alike, so one relative URL finds prisma/generated/ from both.
  const replacement = `getQueryCompilerWasmModule: async () => {
    // ${MARK}: the WASM decoded once at generate time
    // from ${base64Module}, so that neither that 2.5 MB module nor its strings stay in memory.
    const { readFile } = await import('node:fs/promises')
    const file = new URL('../../../../prisma/generated/query_compiler_bg.wasm', import.meta.url)
    const bytes = await readFile(file).catch((err: unknown) => {
      throw new Error(\`\${file.pathname} is missing: run npm run prisma:generate\`, { cause: err })
    })
    return new WebAssembly.Module(bytes)
  }`;
  writeFileSync(file, source.replace(original, replacement));
}
console.log(`${path.relative(process.cwd(), file)}: query compiler WASM compiled from ${path.relative(process.cwd(), wasmFile)}`);
