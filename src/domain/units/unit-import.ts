/*
 * Units imported from a spreadsheet (the bot's /importunits): CSV in UTF-8 or XLSX, read with the
 * quiz import's readers and checked for the centre import's encoding accidents. Every row is
 * checked (text, kind, body, headcount, the commune and the importer's scope, repeated names, the
 * parent tree); one problem and nothing is written. Rows upsert on (commune, name key) in one
 * transaction, a few statements per thousand rows; a row equal to the stored unit is not touched,
 * so the same file twice reports "0 new, 0 updated, N unchanged".
 */
import type { PrismaClient } from "../../generated/prisma/client.js";
import type { GeoService } from "../geo/geo-service.js";
import { sniffedKind, TABLE_READERS, TableReadError, type ImportFileKind } from "../quizzes/table-readers.js";
import { describeImportFileProblem, encodingProblem, MOJIBAKE, placeImportRows, type ImportFileProblem } from "../sessions/center-import.js";
import type { Access } from "../users/user-service.js";
import { bodyOfKind, newToken, UNIT_BODIES, UNIT_KINDS, UNIT_LIMITS, unitNameKey, unitPlaceInScope, type UnitBody, type UnitKind } from "./model.js";

export const UNIT_IMPORT_LIMITS = {
  /** The bot's limit: 5,000 rows of a typical unit list are well under it. */
  maxBytes: 1024 * 1024,
  maxRows: UNIT_LIMITS.importRowsMax,
  /** Rows per INSERT … SELECT FROM unnest statement (all in one transaction). */
  batch: 1_000,
} as const;

/** The template's header, in order: `commune_code`, or both `province` and `commune` names. */
export const UNIT_COLUMNS = ["commune_code", "province", "commune", "name", "kind", "body", "headcount", "parent"] as const;
type Column = (typeof UNIT_COLUMNS)[number];

/** Headers people type instead (Vietnamese with or without marks, English variants), after unitNameKey with "_" for spaces. */
const ALIASES: Record<string, Column> = {
  ma_xa: "commune_code", code: "commune_code", commune_id: "commune_code",
  tinh: "province", tinh_thanh: "province", province_name: "province",
  xa: "commune", xa_phuong: "commune", commune_name: "commune",
  ten: "name", ten_don_vi: "name", unit_name: "name", don_vi: "name",
  loai: "kind", loai_don_vi: "kind", unit_kind: "kind",
  khoi: "body", co_quan_chu_quan: "body",
  so_nguoi: "headcount", quan_so: "headcount", people: "headcount",
  don_vi_cap_tren: "parent", cap_tren: "parent", parent_unit: "parent", parent_name: "parent",
};

/** Words people write for a kind (folded with unitNameKey), besides the keys themselves. */
const KIND_WORDS: Record<UnitKind, string[]> = {
  military_unit: ["quan doi", "don vi quan doi", "quan su", "don vi quan su", "military", "military unit"],
  police_unit: ["cong an", "don vi cong an", "police", "police unit"],
  border_post: ["don bien phong", "bien phong", "border post", "border guard post"],
  school: ["truong hoc", "truong", "school"],
  agency: ["co quan", "agency"],
  enterprise: ["doanh nghiep", "cong ty", "enterprise", "company"],
  residential_group: ["thon", "to dan pho", "thon to dan pho", "ban", "ap", "khu dan cu", "residential group", "village"],
};
const BODY_WORDS: Record<UnitBody, string[]> = {
  association: ["hoi khuyen hoc", "khuyen hoc", "association"],
  military_command: ["quan su", "bo chi huy quan su", "quan doi", "military command", "military"],
  police: ["cong an", "police"],
  border_guard: ["bien phong", "bo doi bien phong", "border guard"],
  other: ["khac", "other"],
};
const byWord = <T extends string>(words: Record<T, string[]>): Map<string, T> =>
  new Map((Object.entries(words) as Array<[T, string[]]>).flatMap(([key, list]) => [key, ...list].map((w) => [unitNameKey(w), key] as const)));
const KINDS = byWord(KIND_WORDS);
const BODIES = byWord(BODY_WORDS);
// Every kind and body has its words: a new key in model.ts without words fails here, at load.
for (const k of UNIT_KINDS) if (KINDS.get(unitNameKey(k)) !== k) throw new Error(`no import words for the unit kind ${k}`);
for (const b of UNIT_BODIES) if (BODIES.get(unitNameKey(b)) !== b) throw new Error(`no import words for the body ${b}`);

export type UnitFileProblem = ImportFileProblem;

export type UnitRowReason =
  | "required"
  | "too_short"
  | "too_long"
  /** Only punctuation: nothing to tell two units apart by. */
  | "bad_name"
  | "unknown_commune"
  | "commune_mismatch"
  | "out_of_scope"
  | "unknown_kind"
  | "unknown_body"
  | "not_a_number"
  /** Headcount outside UNIT_LIMITS (`limit` the bound broken). */
  | "headcount_range"
  /** Fewer people than the unit's members already joined (`limit`: how many joined). */
  | "headcount_below_members"
  /** The same name in the same commune as an earlier row (`limit`: that row). */
  | "duplicate_name"
  /** A deleted unit of the commune has this name: it is not brought back by an import. */
  | "deleted_unit"
  | "parent_missing"
  /** Several units of the province have that name (`found`: how many). */
  | "parent_ambiguous"
  | "parent_self"
  | "parent_cycle"
  /** The tree would be deeper than UNIT_LIMITS.depthMax (`limit`) below this row (`found`). */
  | "too_deep";

/** One thing wrong in one cell: `row` as a spreadsheet numbers it (the header is row 1). */
export interface UnitRowProblem {
  row: number;
  column: string;
  reason: UnitRowReason;
  limit?: number;
  found?: number;
}

export type UnitImportResult =
  | { ok: true; created: number; updated: number; unchanged: number }
  | { ok: false; reason: "forbidden"; file?: undefined; rows?: undefined }
  | { ok: false; file: UnitFileProblem; rows?: undefined; reason?: undefined }
  | { ok: false; rows: UnitRowProblem[]; file?: undefined; reason?: undefined };

export interface UnitImportOptions {
  maxBytes?: number;
  maxRows?: number;
}

/** The importer: admins anywhere, province officers in their province; `id` null for a CLI run. */
export type UnitImporter = Access & { id: string | null };

const normaliseHeader = (s: string) => unitNameKey(s.replace(/^\uFEFF/, "")).replace(/ /g, "_");
const cleanText = (s: string | undefined) => (s ?? "").normalize("NFC").replace(/\s+/g, " ").trim();
/** "1200", "1.200" or "1,200" (a thousands separator either way), "1 200". */
const HEADCOUNT = /^(\d{1,7}|\d{1,3}([.,\s]\d{3})+)$/;

/** A row as read, before the database: `placeOk` when its commune columns are worth looking up. */
interface ParsedRow {
  row: number;
  communeCode: string;
  provinceName: string;
  communeName: string;
  name: string;
  nameKey: string;
  kind?: UnitKind;
  body?: UnitBody;
  headcount: number;
  parent: string;
  placeOk: boolean;
  ok: boolean;
}

type Parsed = { ok: true; rows: ParsedRow[]; problems: UnitRowProblem[] } | { ok: false; file: UnitFileProblem };

/** Reads the file and checks each row's cells on their own (no database). */
export async function parseUnitFile(bytes: Uint8Array, fileKind: ImportFileKind, options: UnitImportOptions = {}): Promise<Parsed> {
  const maxBytes = options.maxBytes ?? UNIT_IMPORT_LIMITS.maxBytes;
  const maxRows = options.maxRows ?? UNIT_IMPORT_LIMITS.maxRows;
  if (bytes.byteLength > maxBytes) return { ok: false, file: { kind: "too_big", maxBytes } };
  if (bytes.byteLength === 0) return { ok: false, file: { kind: "empty" } };
  const kind = sniffedKind(bytes, fileKind);
  if (kind === "csv") {
    const encoding = encodingProblem(bytes);
    if (encoding) return { ok: false, file: encoding };
  }
  const reader = TABLE_READERS[kind];
  if (!reader) return { ok: false, file: { kind: "xls_binary" } };
  let table: string[][];
  try {
    table = await reader(bytes, { maxRows });
  } catch (e) {
    if (e instanceof TableReadError) return { ok: false, file: e.problem };
    throw e;
  }
  return parseUnitTable(table, maxRows);
}

function parseUnitTable(table: readonly (readonly string[])[], maxRows: number): Parsed {
  const isBlank = (r: readonly string[]) => r.every((c) => cleanText(c) === "");
  const headerIndex = table.findIndex((r) => !isBlank(r));
  if (headerIndex === -1) return { ok: false, file: { kind: "empty" } };
  const header = table[headerIndex]!.map(normaliseHeader).map((h) => ALIASES[h] ?? h);
  const named = header.filter((h) => h !== "");
  const known = new Set<string>(UNIT_COLUMNS);
  const duplicate = [...new Set(named.filter((h, i) => named.indexOf(h) !== i))];
  const unknown = named.filter((h) => !known.has(h));
  const byNames = header.includes("province") && header.includes("commune");
  const required: string[] = ["name", "kind", "headcount"];
  if (!header.includes("commune_code") && !byNames) required.unshift("commune_code");
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length || unknown.length || duplicate.length) return { ok: false, file: { kind: "bad_header", missing, unknown, duplicate } };

  const dataRows = table.map((cells, i) => ({ cells, row: i + 1 })).slice(headerIndex + 1).filter((r) => !isBlank(r.cells));
  if (dataRows.length === 0) return { ok: false, file: { kind: "empty" } };
  if (dataRows.length > maxRows) return { ok: false, file: { kind: "too_many_rows", max: maxRows, found: dataRows.length } };

  const problems: UnitRowProblem[] = [];
  const rows: ParsedRow[] = [];
  for (const { cells, row } of dataRows) {
    if (cells.some((c) => MOJIBAKE.test(c))) return { ok: false, file: { kind: "mojibake", row } };
    const get = (column: Column) => {
      const i = header.indexOf(column);
      return i === -1 ? "" : cleanText(cells[i]);
    };
    const before = problems.length;
    const add = (column: Column, reason: UnitRowReason, extra: { limit?: number; found?: number } = {}) => problems.push({ row, column, reason, ...extra });
    const communeCode = get("commune_code");
    const provinceName = get("province");
    const communeName = get("commune");
    if (communeCode === "" && (provinceName === "" || communeName === "")) {
      add(header.includes("commune_code") ? "commune_code" : provinceName === "" ? "province" : "commune", "required");
    } else if (communeCode !== "" && !/^\d{5}$/.test(communeCode)) {
      add("commune_code", "unknown_commune");
    }
    const placeOk = problems.length === before;

    const name = get("name");
    const nameKey = unitNameKey(name);
    if (name === "") add("name", "required");
    else if (name.length > UNIT_LIMITS.nameMax) add("name", "too_long", { limit: UNIT_LIMITS.nameMax, found: name.length });
    else if (name.length < UNIT_LIMITS.nameMin) add("name", "too_short", { limit: UNIT_LIMITS.nameMin, found: name.length });
    else if (nameKey === "") add("name", "bad_name");

    const rawKind = get("kind");
    const kind = KINDS.get(unitNameKey(rawKind));
    if (rawKind === "") add("kind", "required");
    else if (!kind) add("kind", "unknown_kind");

    const rawBody = get("body");
    const body = rawBody === "" ? (kind ? bodyOfKind(kind) : undefined) : BODIES.get(unitNameKey(rawBody));
    if (rawBody !== "" && !body) add("body", "unknown_body");

    const rawHeadcount = get("headcount");
    const headcount = HEADCOUNT.test(rawHeadcount) ? Number(rawHeadcount.replace(/[.,\s]/g, "")) : Number.NaN;
    if (rawHeadcount === "") add("headcount", "required");
    else if (Number.isNaN(headcount)) add("headcount", "not_a_number");
    else if (headcount < UNIT_LIMITS.headcountMin) add("headcount", "headcount_range", { limit: UNIT_LIMITS.headcountMin, found: headcount });
    else if (headcount > UNIT_LIMITS.headcountMax) add("headcount", "headcount_range", { limit: UNIT_LIMITS.headcountMax, found: headcount });

    const parent = get("parent");
    if (parent !== "" && unitNameKey(parent) === "") add("parent", "parent_missing");
    rows.push({ row, communeCode, provinceName, communeName, name, nameKey, kind, body, headcount, parent, placeOk, ok: problems.length === before });
  }
  return { ok: true, rows, problems };
}

/** A row ready to write: its place resolved, its parent a row of the file or a stored unit. */
interface UnitRow {
  row: number;
  provinceCode: string;
  communeCode: string;
  name: string;
  nameKey: string;
  kind: UnitKind;
  body: UnitBody;
  headcount: number;
  parentName: string;
  /** Set once resolved: another file row (its index) or a stored unit id. */
  parent?: { row: number } | { id: number };
}

interface StoredUnit {
  id: number;
  province_code: string;
  commune_code: string;
  name_key: string;
  parent_id: number | null;
  deleted: boolean;
  members: number;
}

const nodeOfStored = (id: number) => `s${id}`;
const nodeOfRow = (row: number) => `r${row}`;

export class UnitImportService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly geo: GeoService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether this caller may import at all: admins, and officers with a province but no commune. */
  static mayImport(by: Access): boolean {
    if (by.role === "admin") return true;
    return by.role === "officer" && Boolean(by.scope.provinceCode) && !by.scope.communeCode;
  }

  /**
   * Checks every row, then writes them all in one transaction. The caller checked the role; it is
   * checked again here (commune officers may not import: units of a province are the province's).
   */
  async importFile(bytes: Uint8Array, fileKind: ImportFileKind, by: UnitImporter, options: UnitImportOptions = {}): Promise<UnitImportResult> {
    if (!UnitImportService.mayImport(by)) return { ok: false, reason: "forbidden" };
    const parsed = await parseUnitFile(bytes, fileKind, options);
    if (!parsed.ok) return parsed;
    const checked = await placeImportRows(this.geo, parsed.rows, { inScope: (place) => unitPlaceInScope(by, place), key: (r) => r.nameKey, duplicate: "duplicate_name" });
    const problems: UnitRowProblem[] = [...parsed.problems, ...checked.problems];
    const rows: UnitRow[] = checked.placed.map(({ r, commune }) => ({
      row: r.row, provinceCode: commune.provinceCode, communeCode: commune.code, name: r.name, nameKey: r.nameKey,
      kind: r.kind!, body: r.body!, headcount: r.headcount, parentName: r.parent,
    }));
    // The tree is checked only on rows that are otherwise fine (a parent named on a bad row is not looked for).
    const stored = problems.length > 0 ? [] : await this.storedUnits([...new Set(rows.map((r) => r.provinceCode))]);
    if (problems.length === 0) problems.push(...checkAgainstStored(rows, stored), ...resolveTree(rows, stored));
    if (problems.length > 0) return { ok: false, rows: problems.sort((a, b) => a.row - b.row || UNIT_COLUMNS.indexOf(a.column as Column) - UNIT_COLUMNS.indexOf(b.column as Column)) };
    const counts = await this.write(rows, stored, by.id);
    return { ok: true, ...counts };
  }

  /** Every unit of these provinces (deleted ones too: their names are taken), with its member count: one query. */
  private async storedUnits(provinceCodes: string[]): Promise<StoredUnit[]> {
    if (provinceCodes.length === 0) return [];
    // members_count is kept by the database's triggers (migration 20261128230000_target_counters).
    const rows = await this.prisma.$queryRawUnsafe<Array<Omit<StoredUnit, "members"> & { members: bigint | number }>>(
      `SELECT u.id, u.province_code, u.commune_code, u.name_key, u.parent_id, (u.deleted_at IS NOT NULL) AS deleted, u.members_count AS members
         FROM units u WHERE u.province_code = ANY($1::varchar[])`,
      provinceCodes,
    );
    return rows.map((r) => ({ ...r, members: Number(r.members) }));
  }

  /**
   * Rows grouped by their depth among the file's rows (a row after its parent), each level in
   * batches of INSERT … SELECT FROM unnest … ON CONFLICT DO UPDATE; a row whose values equal the
   * stored unit's is not touched (updated_at kept), and `xmax = 0` tells a new row from an updated one.
   */
  private async write(rows: UnitRow[], stored: StoredUnit[], byId: string | null): Promise<{ created: number; updated: number; unchanged: number }> {
    const now = this.now();
    const at = now.toISOString().replace("Z", "");
    const storedByKey = new Map(stored.map((s) => [`${s.commune_code}\n${s.name_key}`, s.id]));
    const idOfRow = new Map<number, number>();
    for (const r of rows) {
      const id = storedByKey.get(`${r.communeCode}\n${r.nameKey}`);
      if (id !== undefined) idOfRow.set(r.row, id);
    }
    const levels = levelsOf(rows);
    let created = 0;
    let updated = 0;
    await this.prisma.$transaction(async (tx) => {
      for (const level of levels) {
        for (let i = 0; i < level.length; i += UNIT_IMPORT_LIMITS.batch) {
          const batch = level.slice(i, i + UNIT_IMPORT_LIMITS.batch);
          const parentIds = batch.map((r) => (!r.parent ? null : "id" in r.parent ? r.parent.id : idOfRow.get(r.parent.row)!));
          const written = await tx.$queryRawUnsafe<Array<{ id: number; commune_code: string; name_key: string; inserted: boolean }>>(
            `INSERT INTO units (name, name_key, kind, body, province_code, commune_code, parent_id, headcount, join_token, created_by_id, created_at, updated_at)
             SELECT n, k, ki, b, p, c, pa, h, t, $10::bigint, $11::timestamp, $11::timestamp
               FROM unnest($1::text[], $2::text[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::int[], $8::int[], $9::varchar[])
                    AS x(n, k, ki, b, p, c, pa, h, t)
             ON CONFLICT (commune_code, name_key) DO UPDATE
                SET name = EXCLUDED.name, kind = EXCLUDED.kind, body = EXCLUDED.body, parent_id = EXCLUDED.parent_id,
                    headcount = EXCLUDED.headcount, updated_at = EXCLUDED.updated_at
              WHERE units.deleted_at IS NULL
                AND (units.name, units.kind, units.body, units.parent_id, units.headcount)
                    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.body, EXCLUDED.parent_id, EXCLUDED.headcount)
             RETURNING id, commune_code, name_key, (xmax = 0) AS inserted`,
            batch.map((r) => r.name), batch.map((r) => r.nameKey), batch.map((r) => r.kind), batch.map((r) => r.body),
            batch.map((r) => r.provinceCode), batch.map((r) => r.communeCode), parentIds, batch.map((r) => r.headcount),
            batch.map(() => newToken()), byId, at,
          );
          const rowOfKey = new Map(batch.map((r) => [`${r.communeCode}\n${r.nameKey}`, r.row]));
          for (const w of written) {
            idOfRow.set(rowOfKey.get(`${w.commune_code}\n${w.name_key}`)!, w.id);
            if (w.inserted) created++;
            else updated++;
          }
        }
      }
      await tx.auditLog.create({
        data: { actorId: byId === null ? null : BigInt(byId), action: "units_imported", detail: { created, updated, unchanged: rows.length - created - updated }, at: now },
      });
    }, { timeout: 120_000 });
    return { created, updated, unchanged: rows.length - created - updated };
  }
}

/** Rows naming a deleted unit, or shrinking a unit below the members who joined it. */
function checkAgainstStored(rows: UnitRow[], stored: StoredUnit[]): UnitRowProblem[] {
  const byKey = new Map(stored.map((s) => [`${s.commune_code}\n${s.name_key}`, s]));
  const problems: UnitRowProblem[] = [];
  for (const r of rows) {
    const s = byKey.get(`${r.communeCode}\n${r.nameKey}`);
    if (!s) continue;
    if (s.deleted) problems.push({ row: r.row, column: "name", reason: "deleted_unit" });
    else if (r.headcount < s.members) problems.push({ row: r.row, column: "headcount", reason: "headcount_below_members", limit: s.members, found: r.headcount });
  }
  return problems;
}

/**
 * Resolves each row's parent by name in its province (a row of the file wins over the stored unit
 * it updates), then checks the whole tree as it would be after the import: no cycle, no branch
 * deeper than UNIT_LIMITS.depthMax, stored units below an imported row included.
 */
function resolveTree(rows: UnitRow[], stored: StoredUnit[]): UnitRowProblem[] {
  const problems: UnitRowProblem[] = [];
  const rowKeys = new Set(rows.map((r) => `${r.communeCode}\n${r.nameKey}`));
  // Candidates by (province, name key): the file's rows, and live stored units the file does not rewrite.
  const candidates = new Map<string, Array<{ row: number } | { id: number }>>();
  const addCandidate = (province: string, key: string, c: { row: number } | { id: number }) => {
    const k = `${province}\n${key}`;
    candidates.set(k, [...(candidates.get(k) ?? []), c]);
  };
  for (const r of rows) addCandidate(r.provinceCode, r.nameKey, { row: r.row });
  for (const s of stored) if (!s.deleted && !rowKeys.has(`${s.commune_code}\n${s.name_key}`)) addCandidate(s.province_code, s.name_key, { id: s.id });

  // parent edges of the tree after the import: node → parent node
  const parentOf = new Map<string, string | undefined>();
  const rowOfKey = new Map(rows.map((r) => [`${r.communeCode}\n${r.nameKey}`, r.row]));
  // A stored unit the file rewrites is the same node as its row.
  const nodeOfStoredId = new Map<number, string>();
  for (const s of stored) {
    const row = rowOfKey.get(`${s.commune_code}\n${s.name_key}`);
    nodeOfStoredId.set(s.id, row !== undefined ? nodeOfRow(row) : nodeOfStored(s.id));
  }
  for (const r of rows) {
    if (r.parentName === "") {
      parentOf.set(nodeOfRow(r.row), undefined);
      continue;
    }
    const found = candidates.get(`${r.provinceCode}\n${unitNameKey(r.parentName)}`) ?? [];
    const only = found.length === 1 ? found[0]! : undefined;
    if (found.length === 0) problems.push({ row: r.row, column: "parent", reason: "parent_missing" });
    else if (!only) problems.push({ row: r.row, column: "parent", reason: "parent_ambiguous", found: found.length });
    else if ("row" in only && only.row === r.row) problems.push({ row: r.row, column: "parent", reason: "parent_self" });
    else {
      r.parent = only;
      parentOf.set(nodeOfRow(r.row), "row" in only ? nodeOfRow(only.row) : nodeOfStoredId.get(only.id));
    }
  }
  if (problems.length > 0) return problems;
  for (const s of stored) {
    const node = nodeOfStoredId.get(s.id)!;
    if (node.startsWith("r") || s.deleted) continue;
    // A stored parent outside these provinces (or unknown) ends the chain where it is.
    parentOf.set(node, s.parent_id === null ? undefined : nodeOfStoredId.get(s.parent_id));
  }

  // Depth of every node (1 = a root), following parents; a node met twice on one walk is a cycle.
  const depth = new Map<string, number>();
  const inCycle = new Set<string>();
  for (const start of parentOf.keys()) {
    const path: string[] = [];
    const onPath = new Set<string>();
    let node: string | undefined = start;
    while (node !== undefined && !depth.has(node) && !inCycle.has(node)) {
      if (onPath.has(node)) {
        for (const n of path.slice(path.indexOf(node))) inCycle.add(n);
        break;
      }
      onPath.add(node);
      path.push(node);
      node = parentOf.get(node);
    }
    let d = node === undefined || inCycle.has(node) ? 0 : depth.get(node)!;
    for (const n of path.reverse()) {
      if (inCycle.has(n)) continue;
      depth.set(n, ++d);
    }
  }
  const rowOf = (node: string) => Number(node.slice(1));
  for (const n of inCycle) if (n.startsWith("r")) problems.push({ row: rowOf(n), column: "parent", reason: "parent_cycle" });
  // Too deep: reported on the nearest imported row at or above the node, with the depth reached.
  const deepest = new Map<number, number>();
  for (const [node, d] of depth) {
    if (d <= UNIT_LIMITS.depthMax) continue;
    let at: string | undefined = node;
    while (at !== undefined && !at.startsWith("r")) at = parentOf.get(at);
    if (at !== undefined) deepest.set(rowOf(at), Math.max(deepest.get(rowOf(at)) ?? 0, d));
  }
  for (const [row, d] of deepest) problems.push({ row, column: "parent", reason: "too_deep", limit: UNIT_LIMITS.depthMax, found: d });
  return problems;
}

/** The file's rows by their depth among themselves: a parent row is always written before its children. */
function levelsOf(rows: UnitRow[]): UnitRow[][] {
  const byRow = new Map(rows.map((r) => [r.row, r]));
  const level = new Map<number, number>();
  const levelOf = (r: UnitRow): number => {
    const known = level.get(r.row);
    if (known !== undefined) return known;
    const l = r.parent && "row" in r.parent ? levelOf(byRow.get(r.parent.row)!) + 1 : 0;
    level.set(r.row, l);
    return l;
  };
  const levels: UnitRow[][] = [];
  for (const r of rows) (levels[levelOf(r)] ??= []).push(r);
  return levels.filter(Boolean);
}

/** A template officers fill in: the header and examples (a parent by name, the commune by code). */
export function unitTemplateRows(example: { communeCode: string; province: string; commune: string }): string[][] {
  return [
    [...UNIT_COLUMNS],
    [example.communeCode, example.province, example.commune, `Ban Chỉ huy Quân sự ${example.commune}`, "quân đội", "", "25", ""],
    [example.communeCode, "", "", `Trường THCS ${example.commune}`, "trường học", "", "48", ""],
    [example.communeCode, "", "", "Thôn 1", "thôn", "", "320", ""],
  ];
}

type Translate = (key: string, options?: Record<string, unknown>) => string;


/** An unreadable file's answer (HTML). */
export function describeUnitFileProblem(t: Translate, p: UnitFileProblem): string {
  return describeImportFileProblem(t, p, "unit-import:errors", true);
}

export const unitRowReasonText = (t: Translate, p: UnitRowProblem) =>
  t(`unit-import:reason.${p.reason}`, { limit: p.limit, found: p.found, depth: UNIT_LIMITS.depthMax });

/**
 * The answer to an import (HTML): the counts, or why nothing was imported with the first `shown`
 * problems; `more` > 0 when the rest should go in an attached list.
 */
export function describeUnitImport(t: Translate, r: UnitImportResult, shown = 20): { text: string; more: number } {
  if (r.ok) return { text: t("unit-import:imported", { created: r.created, updated: r.updated, unchanged: r.unchanged }), more: 0 };
  if (r.reason) return { text: t("unit-import:errors.forbidden"), more: 0 };
  if (r.file) return { text: describeUnitFileProblem(t, r.file), more: 0 };
  const lines = r.rows.slice(0, shown).map((p) => t("unit-import:row_line", { row: p.row, column: p.column, reason: unitRowReasonText(t, p) }));
  const more = Math.max(0, r.rows.length - shown);
  const text = [t("unit-import:rows_title", { problems: r.rows.length, rows: new Set(r.rows.map((p) => p.row)).size }), "", ...lines];
  if (more > 0) text.push("", t("unit-import:rows_more", { count: more }));
  return { text: text.join("\n"), more };
}
