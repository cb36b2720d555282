// Run after `prisma generate` (npm run prisma:generate): one change to the generated client.
//
// The generated client gets Prisma's query compiler (WASM) by importing a module that holds it as
// one 2.5 MB base64 string literal. An imported module's source text stays in memory for the life
// of the process, and so does the literal: about 5 MB of the bot's resident memory, for bytes that
// are needed once, to compile the module. Here the same file is read as text, decoded and
// compiled; the text and the string are garbage once start-up is over.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/generated/prisma/internal/class.ts");
const source = readFileSync(file, "utf8");
const MARK = "khuyenhoc-bot: prisma/patch-generated-client.mjs";
if (source.includes(MARK)) process.exit(0);

const original = /getQueryCompilerWasmModule: async \(\) => \{\n\s*const \{ wasm \} = await import\("(@prisma\/client\/runtime\/query_compiler_bg\.\w+\.wasm-base64\.mjs)"\)\n\s*return await decodeBase64AsWasm\(wasm\)\n\s*\}/;
const match = original.exec(source);
if (!match) {
  console.error(`${file}: the query compiler's loader is not the one this patch knows (a Prisma upgrade?); update prisma/patch-generated-client.mjs`);
  process.exit(1);
}
const replacement = `getQueryCompilerWasmModule: async () => {
    // ${MARK}: read and decoded, not imported, so that
    // the 2.5 MB base64 source does not stay in memory.
    const { readFile } = await import('node:fs/promises')
    const { createRequire } = await import('node:module')
    const text = await readFile(createRequire(import.meta.url).resolve(${JSON.stringify(match[1])}), 'latin1')
    const base64 = /"([A-Za-z0-9+/=]+)"/.exec(text)?.[1]
    if (!base64) throw new Error('no base64 WASM in ${match[1]}')
    return await decodeBase64AsWasm(base64)
  }`;
writeFileSync(file, source.replace(original, replacement));
console.log(`patched ${path.relative(process.cwd(), file)}: query compiler WASM read from its file, not imported`);
