/*
 * Officers' side of learning centres (TTHTCĐ): create, edit, look up and list the centres of their
 * scope. Role and scope are checked here, on every call, not only in the bot: buttons can be forged.
 * The province of a centre always comes from its commune, never from the input.
 */
import { isUniqueViolation } from "../citizens/citizen-service.js";
import { z } from "zod";
import type { LearningCenter, Prisma, PrismaClient } from "../../generated/prisma/client.js";
import type { Access } from "../users/user-service.js";
import { insideVietnam, placeInScope, SESSION_LIMITS, VIETNAM_BOUNDS } from "./model.js";
import { toPlainJson, type PersonalDataPart } from "../privacy/registry.js";

export type CenterField = "communeCode" | "name" | "address" | "lat" | "lon";

/** Why a value was refused: each has a localised text under centers:reason.<reason>. */
export type CenterReason =
  | "required"
  | "too_long"
  | "unknown_commune"
  | "not_a_number"
  | "outside_vietnam"
  | "lat_lon_swapped";

export interface CenterProblem {
  field: CenterField;
  reason: CenterReason;
  limit?: number;
  found?: number;
}

export interface CenterInput {
  communeCode: string;
  name: string;
  address: string;
  lat: number;
  lon: number;
}

export interface CenterDto {
  id: number;
  provinceCode: string;
  communeCode: string;
  name: string;
  address: string;
  lat: number;
  lon: number;
  demo: boolean;
}

export interface CenterPage {
  items: CenterDto[];
  page: number;
  pages: number;
  total: number;
}

export type CenterActor = Access & { id: string };

export type CenterResult =
  | { ok: true; center: CenterDto; changed: CenterField[] }
  /** Not an officer or admin at all. */
  | { ok: false; reason: "forbidden" }
  /** The centre, or the commune it would move to, is outside the officer's scope. */
  | { ok: false; reason: "out_of_scope" }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "invalid"; problems: CenterProblem[] }
  /** The commune already has a centre of this name. */
  | { ok: false; reason: "duplicate"; existingId: number };

/** Names and addresses as typed: NFC (some systems send decomposed letters), spaces collapsed. */
export function cleanText(s: string): string {
  return s.normalize("NFC").replace(/\s+/g, " ").trim();
}

/** The text checks shared by the service and the CSV import; `undefined` when the value is fine. */
export function textProblem(field: "name" | "address", value: string): CenterProblem | undefined {
  const max = field === "name" ? SESSION_LIMITS.centerNameMax : SESSION_LIMITS.addressMax;
  if (value === "") return { field, reason: "required" };
  if ([...value].length > max) return { field, reason: "too_long", limit: max, found: [...value].length };
  return undefined;
}

/** Coordinates inside Vietnam; a pair that fits only the other way round is called swapped. */
export function coordinateProblems(lat: number, lon: number): CenterProblem[] {
  const problems: CenterProblem[] = [];
  if (!Number.isFinite(lat)) problems.push({ field: "lat", reason: "not_a_number" });
  if (!Number.isFinite(lon)) problems.push({ field: "lon", reason: "not_a_number" });
  if (problems.length > 0 || insideVietnam(lat, lon)) return problems;
  if (insideVietnam(lon, lat)) return [{ field: "lat", reason: "lat_lon_swapped" }];
  const latOut = lat < VIETNAM_BOUNDS.latMin || lat > VIETNAM_BOUNDS.latMax;
  return [{ field: latOut ? "lat" : "lon", reason: "outside_vietnam" }];
}

const HEMISPHERE: Record<string, "lat" | "lon"> = { n: "lat", s: "lat", b: "lat", e: "lon", w: "lon", "đ": "lon" };
const NEGATIVE = new Set(["s", "w"]);

/**
 * Coordinates as people type or paste them: "21.0285, 105.8542", "21.0285 105.8542",
 * "21.0285N 105.8542E", "21.0285°B, 105.8542°Đ" (Bắc/Đông), a decimal comma ("21,0285 105,8542"),
 * or a Google Maps link ("…/@21.0285,105.8542,17z", "…?q=21.0285,105.8542"). Undefined when
 * the text is not two numbers; the bounds are checked by coordinateProblems.
 */
export function parseCoordinates(text: string): { lat: number; lon: number } | undefined {
  const t = text.normalize("NFC").trim();
  if (t.length > 2000) return undefined;
  const link = /@(-?\d{1,3}\.\d+),\s*(-?\d{1,3}\.\d+)/.exec(t) ??
    /[?&](?:q|ll|query|destination|center)=(?:loc:)?(-?\d{1,3}\.\d+)(?:,|%2C)\s*(?:\+|%20)?(-?\d{1,3}\.\d+)/i.exec(t);
  if (link) return { lat: Number(link[1]), lon: Number(link[2]) };
  const token = /([NSEWBĐ])?\s*(-?\d{1,3}(?:[.,]\d+)?)\s*°?\s*([NSEWBĐ](?![a-zđ]))?/giu;
  const found: Array<{ value: number; axis?: "lat" | "lon" }> = [];
  let rest = t;
  for (const m of t.matchAll(token)) {
    const letter = (m[1] ?? m[3])?.toLowerCase();
    let value = Number(m[2]!.replace(",", "."));
    if (letter && NEGATIVE.has(letter)) value = -Math.abs(value);
    found.push({ value, axis: letter ? HEMISPHERE[letter] : undefined });
    rest = rest.replace(m[0], " ");
  }
  // Anything but separators left over (words, a third number) is not a pair of coordinates.
  if (found.length !== 2 || !/^[\s,;]*$/.test(rest)) return undefined;
  const [a, b] = found as [{ value: number; axis?: "lat" | "lon" }, { value: number; axis?: "lat" | "lon" }];
  if (a.axis === "lon" || b.axis === "lat") return { lat: b.value, lon: a.value };
  return { lat: a.value, lon: b.value };
}

const inputSchema = z.object({
  communeCode: z.string().trim(),
  name: z.string().transform(cleanText),
  address: z.string().transform(cleanText),
  // NaN passes here: coordinateProblems names it not_a_number.
  lat: z.union([z.number(), z.nan()]),
  lon: z.union([z.number(), z.nan()]),
});

const PAGE_SIZE = 8;

function dto(row: LearningCenter): CenterDto {
  return { id: row.id, provinceCode: row.provinceCode, communeCode: row.communeCode, name: row.name, address: row.address, lat: row.lat, lon: row.lon, demo: row.demo };
}

/** The Prisma `where` that limits centres to a scope; undefined when the caller manages none. */
export function scopeWhere(access: Access): Prisma.LearningCenterWhereInput | undefined {
  if (access.role === "admin") return {};
  if (access.role !== "officer" || !access.scope.provinceCode) return undefined;
  return access.scope.communeCode ? { communeCode: access.scope.communeCode } : { provinceCode: access.scope.provinceCode };
}

export class CenterService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Validates the input, the commune and the scope, then stores the centre (audited). */
  async create(actor: CenterActor, input: CenterInput): Promise<CenterResult> {
    if (!scopeWhere(actor)) return { ok: false, reason: "forbidden" };
    const checked = await this.check(input);
    if (!checked.ok) return checked;
    const { value, provinceCode } = checked;
    if (!placeInScope(actor, { provinceCode, communeCode: value.communeCode })) return { ok: false, reason: "out_of_scope" };
    const existing = await this.prisma.learningCenter.findUnique({ where: { communeCode_name: { communeCode: value.communeCode, name: value.name } }, select: { id: true } });
    if (existing) return { ok: false, reason: "duplicate", existingId: existing.id };
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const created = await tx.learningCenter.create({ data: { ...value, provinceCode, createdById: BigInt(actor.id) } });
        await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "center_created", detail: { centerId: created.id, communeCode: value.communeCode }, at: this.now() } });
        return created;
      });
      return { ok: true, center: dto(row), changed: ["communeCode", "name", "address", "lat", "lon"] };
    } catch (e) {
      return this.duplicateOr(e, value);
    }
  }

  /**
   * Changes some fields of a centre the officer manages; a new commune must be in scope too.
   * Nothing changed is not an error (and not audited).
   */
  async update(actor: CenterActor, id: number, patch: Partial<CenterInput>): Promise<CenterResult> {
    const found = await this.find(actor, id);
    if (!found.ok) return found;
    const current = found.center;
    const merged = { communeCode: current.communeCode, name: current.name, address: current.address, lat: current.lat, lon: current.lon, ...patch };
    const checked = await this.check(merged);
    if (!checked.ok) return checked;
    const { value, provinceCode } = checked;
    if (!placeInScope(actor, { provinceCode, communeCode: value.communeCode })) return { ok: false, reason: "out_of_scope" };
    const changed = (["communeCode", "name", "address", "lat", "lon"] as const).filter((f) => value[f] !== current[f]);
    if (changed.length === 0) return { ok: true, center: current, changed };
    if (changed.includes("communeCode") || changed.includes("name")) {
      const clash = await this.prisma.learningCenter.findUnique({ where: { communeCode_name: { communeCode: value.communeCode, name: value.name } }, select: { id: true } });
      if (clash && clash.id !== id) return { ok: false, reason: "duplicate", existingId: clash.id };
    }
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const updated = await tx.learningCenter.update({ where: { id }, data: { ...value, provinceCode } });
        // Field names only: what changed, not the values (names and addresses are not the officer's, but keep the log lean).
        await tx.auditLog.create({ data: { actorId: BigInt(actor.id), action: "center_updated", detail: { centerId: id, communeCode: value.communeCode, fields: changed }, at: this.now() } });
        return updated;
      });
      return { ok: true, center: dto(row), changed };
    } catch (e) {
      return this.duplicateOr(e, value);
    }
  }

  async get(id: number): Promise<CenterDto | undefined> {
    const row = await this.prisma.learningCenter.findUnique({ where: { id } });
    return row ? dto(row) : undefined;
  }

  /** A centre the caller may manage, or why not (a forged id of another commune's centre: out_of_scope). */
  async find(access: Access, id: number): Promise<{ ok: true; center: CenterDto } | { ok: false; reason: "forbidden" | "not_found" | "out_of_scope" }> {
    if (!scopeWhere(access)) return { ok: false, reason: "forbidden" };
    const center = await this.get(id);
    if (!center) return { ok: false, reason: "not_found" };
    if (!placeInScope(access, center)) return { ok: false, reason: "out_of_scope" };
    return { ok: true, center };
  }

  /** The centres of the caller's scope (optionally one commune of it), by commune then name. */
  async listInScope(access: Access, opts: { communeCode?: string; page?: number; pageSize?: number } = {}): Promise<CenterPage> {
    const pageSize = opts.pageSize ?? PAGE_SIZE;
    const scope = scopeWhere(access);
    if (!scope) return { items: [], page: 0, pages: 1, total: 0 };
    const where: Prisma.LearningCenterWhereInput = opts.communeCode ? { AND: [scope, { communeCode: opts.communeCode }] } : scope;
    const total = await this.prisma.learningCenter.count({ where });
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const page = Math.min(Math.max(0, Math.trunc(opts.page ?? 0)), pages - 1);
    const rows = await this.prisma.learningCenter.findMany({ where, orderBy: [{ communeCode: "asc" }, { name: "asc" }, { id: "asc" }], skip: page * pageSize, take: pageSize });
    return { items: rows.map(dto), page, pages, total };
  }

  /** A commune of the caller's scope for the import template's example row (its own point). */
  async exampleCommune(access: Access): Promise<{ communeCode: string; province: string; commune: string; lat: number; lon: number } | undefined> {
    const s = access.scope;
    const where = access.role === "officer" && s.communeCode ? { code: s.communeCode } : s.provinceCode ? { provinceCode: s.provinceCode } : {};
    const c = await this.prisma.commune.findFirst({ where, orderBy: { code: "asc" }, include: { province: true } });
    return c ? { communeCode: c.code, province: c.province.name, commune: c.name, lat: c.lat, lon: c.lon } : undefined;
  }

  private async check(input: CenterInput): Promise<{ ok: true; value: CenterInput; provinceCode: string } | { ok: false; reason: "invalid"; problems: CenterProblem[] }> {
    const parsed = inputSchema.safeParse(input);
    if (!parsed.success) return { ok: false, reason: "invalid", problems: [{ field: (parsed.error.issues[0]?.path[0] as CenterField) ?? "name", reason: "required" }] };
    const value = parsed.data;
    const problems: CenterProblem[] = [];
    const commune = /^\d{5}$/.test(value.communeCode)
      ? await this.prisma.commune.findUnique({ where: { code: value.communeCode }, select: { provinceCode: true } })
      : null;
    if (!commune) problems.push({ field: "communeCode", reason: value.communeCode === "" ? "required" : "unknown_commune" });
    for (const field of ["name", "address"] as const) {
      const p = textProblem(field, value[field]);
      if (p) problems.push(p);
    }
    problems.push(...coordinateProblems(value.lat, value.lon));
    if (problems.length > 0 || !commune) return { ok: false, reason: "invalid", problems };
    return { ok: true, value, provinceCode: commune.provinceCode };
  }

  /** Two officers adding the same centre at once: the unique index decides, the loser is told. */
  private async duplicateOr(e: unknown, value: CenterInput): Promise<CenterResult> {
    if (!isUniqueViolation(e)) throw e;
    const clash = await this.prisma.learningCenter.findUnique({ where: { communeCode_name: { communeCode: value.communeCode, name: value.name } }, select: { id: true } });
    if (!clash) throw e;
    return { ok: false, reason: "duplicate", existingId: clash.id };
  }
}

/** Centres an officer created: exported on /mydata; erasure keeps the centres, drops the creator. */
export function centerDataParts(prisma: PrismaClient): PersonalDataPart[] {
  return [
    {
      key: "learning_centers",
      label: "centers:personal_data",
      kind: "database",
      export: async (id) => toPlainJson(await prisma.learningCenter.findMany({ where: { createdById: BigInt(id) }, orderBy: { id: "asc" }, select: { id: true, communeCode: true, name: true, createdAt: true } })),
      exists: async (id) => (await prisma.learningCenter.count({ where: { createdById: BigInt(id) } })) > 0,
      erase: async (id, tx) => (await (tx ?? prisma).learningCenter.updateMany({ where: { createdById: BigInt(id) }, data: { createdById: null } })).count > 0,
    },
  ];
}
