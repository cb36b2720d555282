/*
 * Learning centres imported from a CSV file (the bot's /importcenters and `npm run import:centers`).
 * Modelled on ../quizzes/question-import.ts: every row is checked, one bad row and nothing is
 * written, and the answer lists each problem (row, column, a reason key). Rows are upserted on
 * (commune_code, name) in one transaction, so the same file twice changes nothing.
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import type { GeoService } from "../geo/geo-service.js";
import { readCsvTable, TableReadError, type TableProblem } from "../quizzes/table-readers.js";
import type { Access } from "../users/user-service.js";
import { cleanText, coordinateProblems, scopeWhere, textProblem, type CenterReason } from "./centers.js";
import { placeInScope } from "./model.js";

export const CENTER_IMPORT_LIMITS = {
  /** The bot's limit: about 10,000 rows of a typical centre; the CLI passes its own. */
  maxBytes: 1024 * 1024,
  maxRows: 5_000,
  /** Rows per INSERT … SELECT FROM unnest statement (all in one transaction). */
  batch: 1_000,
} as const;

/** The template's header, in order. `commune_code`, or both `province` and `commune` names. */
export const CENTER_COLUMNS = ["commune_code", "province", "commune", "name", "address", "lat", "lon"] as const;
type Column = (typeof CENTER_COLUMNS)[number];

/** Headers people type instead (Vietnamese, English variants), after lower-casing and "_" for spaces. */
const ALIASES: Record<string, Column> = {
  ma_xa: "commune_code", "mã_xã": "commune_code", code: "commune_code", commune_id: "commune_code",
  tinh: "province", "tỉnh": "province", province_name: "province",
  xa: "commune", "xã": "commune", commune_name: "commune",
  ten: "name", "tên": "name", center_name: "name",
  dia_chi: "address", "địa_chỉ": "address",
  latitude: "lat", vi_do: "lat", "vĩ_độ": "lat",
  lng: "lon", long: "lon", longitude: "lon", kinh_do: "lon", "kinh_độ": "lon",
};

/** What can be wrong with an imported file as a whole (centres, units). */
export type ImportFileProblem =
  | TableProblem
  /** UTF-16 bytes (Excel's "Unicode text"): NULs between the letters. */
  | { kind: "utf16" }
  /** Valid UTF-8 whose Vietnamese letters were converted twice ("Trung tÃ¢m"). */
  | { kind: "mojibake"; row: number }
  | { kind: "too_big"; maxBytes: number }
  | { kind: "empty" }
  | { kind: "bad_header"; missing: string[]; unknown: string[]; duplicate: string[] }
  | { kind: "too_many_rows"; max: number; found: number };
export type CenterFileProblem = ImportFileProblem;

export type CenterRowReason =
  | CenterReason
  /** The row's commune is outside the importer's province or commune. */
  | "out_of_scope"
  /** The code names one commune and the province/commune names another. */
  | "commune_mismatch"
  /** The same commune and name as an earlier row (`limit`: that row). */
  | "duplicate_row";

/** One thing wrong in one cell: `row` as a spreadsheet numbers it (the header is row 1). */
export interface CenterRowProblem {
  row: number;
  column: string;
  reason: CenterRowReason;
  limit?: number;
  found?: number;
}

export interface CenterRow {
  row: number;
  provinceCode: string;
  communeCode: string;
  name: string;
  address: string;
  lat: number;
  lon: number;
}

export type CenterImportResult =
  | { ok: true; created: number; updated: number; unchanged: number }
  | { ok: false; reason: "forbidden"; file?: undefined; rows?: undefined }
  | { ok: false; file: CenterFileProblem; rows?: undefined; reason?: undefined }
  | { ok: false; rows: CenterRowProblem[]; file?: undefined; reason?: undefined };

export interface CenterImportOptions {
  maxBytes?: number;
  maxRows?: number;
}

const normaliseHeader = (s: string) => s.replace(/^\uFEFF/, "").normalize("NFC").trim().toLowerCase().replace(/[\s-]+/g, "_");
const normaliseCell = (s: string | undefined) => (s ?? "").normalize("NFC").trim();
/** A decimal as typed: "21.0285", or "21,0285" from a spreadsheet set to Vietnamese. */
const DECIMAL = /^[+-]?\d{1,3}([.,]\d+)?$/;
const parseDecimal = (s: string) => (DECIMAL.test(s) ? Number(s.replace(",", ".")) : Number.NaN);
/** Letters that only appear when UTF-8 was read as Windows-1252 and saved again ("Ã¢", "áº¡", "Ä‘"). */
export const MOJIBAKE = /[\u00C2-\u00C6\u00E1][\u0080-\u00BF\u2018-\u203A\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u02C6\u02DC]/;

/** The problems of the bytes themselves, before any cell is read (shared with the unit import). */
export function encodingProblem(bytes: Uint8Array): { kind: "utf16" } | undefined {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return { kind: "utf16" };
  // Without its BOM, UTF-16 text shows as a NUL in every other byte of its ASCII letters.
  const sample = bytes.subarray(0, 512);
  let nuls = 0;
  for (const b of sample) if (b === 0) nuls++;
  if (sample.length >= 4 && nuls * 4 >= sample.length) return { kind: "utf16" };
  return undefined;
}

/** A row as read: `placeOk` when its commune columns are worth looking up, `ok` when nothing else is wrong. */
export interface ParsedRow {
  row: number;
  communeCode: string;
  provinceName: string;
  communeName: string;
  name: string;
  address: string;
  lat: number;
  lon: number;
  placeOk: boolean;
  ok: boolean;
}

/** Reads and checks a file's rows without the database: header, text lengths, numbers, Vietnam's bounds. */
export function parseCenterFile(bytes: Uint8Array, options: CenterImportOptions = {}):
  | { ok: true; rows: ParsedRow[]; problems: CenterRowProblem[] }
  | { ok: false; file: CenterFileProblem } {
  const maxBytes = options.maxBytes ?? CENTER_IMPORT_LIMITS.maxBytes;
  const maxRows = options.maxRows ?? CENTER_IMPORT_LIMITS.maxRows;
  if (bytes.byteLength > maxBytes) return { ok: false, file: { kind: "too_big", maxBytes } };
  if (bytes.byteLength === 0) return { ok: false, file: { kind: "empty" } };
  const encoding = encodingProblem(bytes);
  if (encoding) return { ok: false, file: encoding };
  let table: string[][];
  try {
    table = readCsvTable(bytes);
  } catch (e) {
    if (e instanceof TableReadError) return { ok: false, file: e.problem };
    throw e;
  }
  const isBlank = (r: readonly string[]) => r.every((c) => normaliseCell(c) === "");
  const headerIndex = table.findIndex((r) => !isBlank(r));
  if (headerIndex === -1) return { ok: false, file: { kind: "empty" } };

  const header = table[headerIndex]!.map(normaliseHeader).map((h) => ALIASES[h] ?? h);
  const named = header.filter((h) => h !== "");
  const known = new Set<string>(CENTER_COLUMNS);
  const duplicate = [...new Set(named.filter((h, i) => named.indexOf(h) !== i))];
  const unknown = named.filter((h) => !known.has(h));
  const byNames = header.includes("province") && header.includes("commune");
  const required: string[] = ["name", "address", "lat", "lon"];
  if (!header.includes("commune_code") && !byNames) required.unshift("commune_code");
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length || unknown.length || duplicate.length) return { ok: false, file: { kind: "bad_header", missing, unknown, duplicate } };

  const dataRows = table.map((cells, i) => ({ cells, row: i + 1 })).slice(headerIndex + 1).filter((r) => !isBlank(r.cells));
  if (dataRows.length === 0) return { ok: false, file: { kind: "empty" } };
  if (dataRows.length > maxRows) return { ok: false, file: { kind: "too_many_rows", max: maxRows, found: dataRows.length } };

  const problems: CenterRowProblem[] = [];
  const rows: ParsedRow[] = [];
  for (const { cells, row } of dataRows) {
    const get = (column: Column) => {
      const i = header.indexOf(column);
      return i === -1 ? "" : normaliseCell(cells[i]);
    };
    if (cells.some((c) => MOJIBAKE.test(c))) return { ok: false, file: { kind: "mojibake", row } };
    const before = problems.length;
    const communeCode = get("commune_code");
    const provinceName = cleanText(get("province"));
    const communeName = cleanText(get("commune"));
    if (communeCode === "" && (provinceName === "" || communeName === "")) {
      problems.push({ row, column: header.includes("commune_code") ? "commune_code" : provinceName === "" ? "province" : "commune", reason: "required" });
    } else if (communeCode !== "" && !/^\d{5}$/.test(communeCode)) {
      problems.push({ row, column: "commune_code", reason: "unknown_commune" });
    }
    const placeOk = problems.length === before;
    const name = cleanText(get("name"));
    const address = cleanText(get("address"));
    for (const [field, value] of [["name", name], ["address", address]] as const) {
      const p = textProblem(field, value);
      if (p) problems.push({ row, column: field, reason: p.reason, limit: p.limit, found: p.found });
    }
    const rawLat = get("lat");
    const rawLon = get("lon");
    if (rawLat === "") problems.push({ row, column: "lat", reason: "required" });
    if (rawLon === "") problems.push({ row, column: "lon", reason: "required" });
    const lat = parseDecimal(rawLat);
    const lon = parseDecimal(rawLon);
    if (rawLat !== "" && rawLon !== "") {
      for (const p of coordinateProblems(lat, lon)) problems.push({ row, column: p.field, reason: p.reason });
    }
    rows.push({ row, communeCode, provinceName, communeName, name, address, lat, lon, placeOk, ok: problems.length === before });
  }
  return { ok: true, rows, problems };
}

/**
 * The commune a row names: by its code (names given too must agree with it: a code copied from the
 * wrong line is caught), or by province and commune names. Shared with the unit import.
 */
export async function resolveImportCommune(geo: GeoService, r: { communeCode: string; provinceName: string; communeName: string }):
  Promise<{ commune: { code: string; provinceCode: string } } | { problem: { column: string; reason: "unknown_commune" | "commune_mismatch" } }> {
  if (r.communeCode !== "") {
    const commune = await geo.getCommune(r.communeCode);
    if (!commune) return { problem: { column: "commune_code", reason: "unknown_commune" } };
    if (r.provinceName !== "") {
      const province = await geo.findProvinces(r.provinceName);
      if (province.exact?.code !== commune.provinceCode) return { problem: { column: "province", reason: "commune_mismatch" } };
    }
    if (r.communeName !== "") {
      const named = await geo.searchCommunes(commune.provinceCode, r.communeName);
      if (named.exact?.code !== commune.code) return { problem: { column: "commune", reason: "commune_mismatch" } };
    }
    return { commune };
  }
  const province = (await geo.findProvinces(r.provinceName)).exact;
  if (!province) return { problem: { column: "province", reason: "unknown_commune" } };
  const commune = (await geo.searchCommunes(province.code, r.communeName)).exact;
  if (!commune) return { problem: { column: "commune", reason: "unknown_commune" } };
  return { commune };
}

/**
 * The rows of an import whose place checks out, each with its commune. Every row's commune is
 * resolved (each distinct place once) and checked against the importer's scope, even on rows with
 * other problems, so one answer lists them all; rows with other problems (`ok` false) are checked
 * but not returned. A row with the same commune and `key` as an earlier one is a duplicate of it.
 * Shared with the unit import.
 */
export async function placeImportRows<R extends { row: number; placeOk: boolean; ok: boolean; communeCode: string; provinceName: string; communeName: string }, D extends string>(
  geo: GeoService,
  rows: readonly R[],
  o: { inScope(place: { provinceCode: string; communeCode: string }): boolean; key(r: R): string; duplicate: D },
): Promise<{
  placed: Array<{ r: R; commune: { code: string; provinceCode: string } }>;
  problems: Array<{ row: number; column: string; reason: "unknown_commune" | "commune_mismatch" | "out_of_scope" | D; limit?: number }>;
}> {
  const placed: Array<{ r: R; commune: { code: string; provinceCode: string } }> = [];
  const problems: Array<{ row: number; column: string; reason: "unknown_commune" | "commune_mismatch" | "out_of_scope" | D; limit?: number }> = [];
  const places = new Map<string, Awaited<ReturnType<typeof resolveImportCommune>>>();
  const seen = new Map<string, number>();
  for (const r of rows) {
    if (!r.placeOk) continue;
    const placeKey = `${r.communeCode}\n${r.provinceName}\n${r.communeName}`;
    let resolved = places.get(placeKey);
    if (!resolved) places.set(placeKey, (resolved = await resolveImportCommune(geo, r)));
    if ("problem" in resolved) {
      problems.push({ row: r.row, ...resolved.problem });
      continue;
    }
    const { commune } = resolved;
    if (!o.inScope({ provinceCode: commune.provinceCode, communeCode: commune.code })) {
      problems.push({ row: r.row, column: r.communeCode ? "commune_code" : "commune", reason: "out_of_scope" });
      continue;
    }
    if (!r.ok) continue;
    const key = `${commune.code}\n${o.key(r)}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ row: r.row, column: "name", reason: o.duplicate, limit: first });
      continue;
    }
    seen.set(key, r.row);
    placed.push({ r, commune });
  }
  return { placed, problems };
}

export class CenterImportService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly geo: GeoService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Checks every row (communes exist, inside the importer's scope, no repeated centre), then
   * upserts them all in one transaction. The caller checked the role; it is checked again here.
   * `by.id` null: the CLI (an admin at the server, no Telegram id to record).
   */
  async importFile(bytes: Uint8Array, by: Access & { id: string | null }, options: CenterImportOptions = {}): Promise<CenterImportResult> {
    if (!scopeWhere(by)) return { ok: false, reason: "forbidden" };
    const parsed = parseCenterFile(bytes, options);
    if (!parsed.ok) return parsed;
    const checked = await placeImportRows(this.geo, parsed.rows, { inScope: (place) => placeInScope(by, place), key: (r) => r.name, duplicate: "duplicate_row" });
    const problems: CenterRowProblem[] = [...parsed.problems, ...checked.problems];
    const rows: CenterRow[] = checked.placed.map(({ r, commune }) => (
      { row: r.row, provinceCode: commune.provinceCode, communeCode: commune.code, name: r.name, address: r.address, lat: r.lat, lon: r.lon }
    ));
    if (problems.length > 0) return { ok: false, rows: problems.sort((a, b) => a.row - b.row) };
    const counts = await this.upsert(rows, by.id);
    return { ok: true, ...counts };
  }

  /**
   * INSERT … SELECT FROM unnest in batches, one transaction: a row whose address and point are
   * unchanged is not touched (updated_at kept); `xmax = 0` tells a new row from an updated one.
   */
  private async upsert(rows: CenterRow[], byId: string | null): Promise<{ created: number; updated: number; unchanged: number }> {
    const now = this.now().toISOString().replace("Z", "");
    let created = 0;
    let updated = 0;
    await this.prisma.$transaction(async (tx) => {
      for (let i = 0; i < rows.length; i += CENTER_IMPORT_LIMITS.batch) {
        const batch = rows.slice(i, i + CENTER_IMPORT_LIMITS.batch);
        const written = await tx.$queryRawUnsafe<Array<{ inserted: boolean }>>(
          `INSERT INTO learning_centers (province_code, commune_code, name, address, lat, lon, created_by_id, created_at, updated_at)
           SELECT p, c, n, a, la, lo, $7::bigint, $8::timestamp, $8::timestamp
             FROM unnest($1::varchar[], $2::varchar[], $3::text[], $4::text[], $5::float8[], $6::float8[]) AS t(p, c, n, a, la, lo)
           ON CONFLICT (commune_code, name) DO UPDATE
              SET address = EXCLUDED.address, lat = EXCLUDED.lat, lon = EXCLUDED.lon, updated_at = EXCLUDED.updated_at
            WHERE (learning_centers.address, learning_centers.lat, learning_centers.lon)
                  IS DISTINCT FROM (EXCLUDED.address, EXCLUDED.lat, EXCLUDED.lon)
           RETURNING (xmax = 0) AS inserted`,
          batch.map((r) => r.provinceCode), batch.map((r) => r.communeCode), batch.map((r) => r.name), batch.map((r) => r.address),
          batch.map((r) => r.lat), batch.map((r) => r.lon), byId, now,
        );
        for (const w of written) {
          if (w.inserted) created++;
          else updated++;
        }
      }
      if (created + updated > 0) {
        await tx.auditLog.create({ data: { actorId: byId === null ? null : BigInt(byId), action: "centers_imported", detail: { created, updated, unchanged: rows.length - created - updated }, at: this.now() } });
      }
    }, { timeout: 120_000 });
    return { created, updated, unchanged: rows.length - created - updated };
  }
}

/** A template officers fill in: the header and one example row (the code alone names the commune). */
export function centerTemplateRows(example: { communeCode: string; province: string; commune: string; lat: number; lon: number }): string[][] {
  return [
    [...CENTER_COLUMNS],
    [example.communeCode, example.province, example.commune, `Trung tâm học tập cộng đồng ${example.commune}`, `Trụ sở UBND ${example.commune}`, example.lat.toFixed(4), example.lon.toFixed(4)],
  ];
}

type Translate = (key: string, options?: Record<string, unknown>) => string;

const mb = (bytes: number) => String(Math.round((bytes / (1024 * 1024)) * 10) / 10);

/** An unreadable file's answer (HTML), for the bot and the CLI alike. */
export function describeFileProblem(t: Translate, p: CenterFileProblem): string {
  return describeImportFileProblem(t, p, "centers:import.errors", false);
}

/**
 * An unreadable import file's answer (HTML) from the keys under `ns` (centres and units share the
 * wording's shape); `xlsx`: the importer reads Excel files and has their own messages.
 */
export function describeImportFileProblem(t: Translate, p: ImportFileProblem, ns: string, xlsx: boolean): string {
  const k = (key: string, o?: Record<string, unknown>) => t(`${ns}.${key}`, o);
  switch (p.kind) {
    case "not_utf8":
    case "utf16":
    case "empty":
      return k(p.kind);
    case "xls_binary":
    case "xlsx_unreadable":
      return k(xlsx ? p.kind : "unreadable");
    case "xlsx_too_large":
      return xlsx ? k("xlsx_too_large", { rows: p.maxRows, columns: p.maxColumns }) : k("unreadable");
    case "mojibake":
    case "csv_unclosed_quote":
      return k(p.kind, { row: p.row });
    case "too_big":
      return k("too_big", { size: mb(p.maxBytes) });
    case "too_many_rows":
      return k("too_many_rows", { max: p.max, found: p.found });
    case "bad_header": {
      const list = (names: string[]) => names.map((n) => `«${n}»`).join(", ");
      return [
        k("bad_header"),
        ...(p.missing.length ? [k("header_missing", { columns: list(p.missing) })] : []),
        ...(p.unknown.length ? [k("header_unknown", { columns: list(p.unknown) })] : []),
        ...(p.duplicate.length ? [k("header_duplicate", { columns: list(p.duplicate) })] : []),
        k("see_template"),
      ].join("\n");
    }
    default:
      return k("unreadable");
  }
}

export const rowReasonText = (t: Translate, p: CenterRowProblem) => t(`centers:reason.${p.reason}`, { limit: p.limit, found: p.found });

/**
 * The answer to an import (HTML): the counts, or why nothing was imported with the first `shown`
 * problems; `more` > 0 when the rest should go in an attached list.
 */
export function describeCenterImport(t: Translate, r: CenterImportResult, shown = 20): { text: string; more: number } {
  if (r.ok) return { text: t("centers:import.imported", { created: r.created, updated: r.updated, unchanged: r.unchanged }), more: 0 };
  if (r.reason) return { text: t("centers:import.errors.forbidden"), more: 0 };
  if (r.file) return { text: describeFileProblem(t, r.file), more: 0 };
  const lines = r.rows.slice(0, shown).map((p) => t("centers:import.row_line", { row: p.row, column: p.column, reason: rowReasonText(t, p) }));
  const more = Math.max(0, r.rows.length - shown);
  const text = [t("centers:import.rows_title", { problems: r.rows.length, rows: new Set(r.rows.map((p) => p.row)).size }), "", ...lines];
  if (more > 0) text.push("", t("centers:import.rows_more", { count: more }));
  return { text: text.join("\n"), more };
}
