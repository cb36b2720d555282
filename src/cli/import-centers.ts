import { readFileSync } from "node:fs";
import { GeoService } from "../domain/geo/geo-service.js";
import { CenterImportService, describeCenterImport, type CenterImportResult } from "../domain/sessions/center-import.js";
import { createI18n, localeFromTelegram } from "../i18n.js";
import { openCliDatabase, readCliConfig } from "./cli-database.js";

/**
 * `npm run import:centers -- <file.csv>`: the bot's centre import for a whole country's list, run
 * at the server with nationwide (admin) scope. Same checks, same all-or-nothing, same counts;
 * exit code 1 when anything was refused.
 */
const CLI_LIMITS = { maxBytes: 32 * 1024 * 1024, maxRows: 50_000 };

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  process.stderr.write("usage: npm run import:centers -- <file.csv>\n");
  process.exit(2);
}
const config = readCliConfig();
let bytes: Uint8Array;
try {
  bytes = readFileSync(file);
} catch (e) {
  process.stderr.write(`Cannot read ${file}: ${(e as Error).message}\n`);
  process.exit(1);
}
const { db, close } = await openCliDatabase(config, "Stop it to run this, or send the file to the bot with /importcenters.");
let result: CenterImportResult;
try {
  const service = new CenterImportService(db.prisma, new GeoService(db.prisma));
  result = await service.importFile(bytes, { role: "admin", scope: {}, id: null }, CLI_LIMITS);
} finally {
  await close();
}
// Vietnamese unless the shell speaks English; every problem listed, as plain text.
const t = (await createI18n()).t(localeFromTelegram(process.env.LC_ALL || process.env.LANG));
const plain = (html: string) => html.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
process.stdout.write(plain(describeCenterImport(t, result, Number.MAX_SAFE_INTEGER).text) + "\n");
process.exitCode = result.ok ? 0 : 1;
