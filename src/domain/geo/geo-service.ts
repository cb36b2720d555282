import type { PrismaClient } from "../../generated/prisma/client.js";
import { compactForm, editDistance, maxTypos, searchForm, stripUnitWord } from "./normalize.js";

export interface ProvinceDto {
  code: string;
  name: string;
  type: string;
}

export interface CommuneDto {
  code: string;
  provinceCode: string;
  name: string;
  type: string;
}

/**
 * Names people type for the provinces besides their own, by province code (search forms). No need
 * for run-together or unit-word variants: "hanoi", "saigon", "tp hcm", "Hue City" match anyway.
 */
const PROVINCE_ALIASES: Record<string, string[]> = {
  "01": ["hn"],
  "79": ["hcm", "tphcm", "hcmc", "sai gon"],
  "31": ["hp"],
  "48": ["dn"],
};

export interface ProvinceSearch {
  /** Best matches first: exact, then prefix, word prefix, contains; typo matches only when nothing else matched. */
  matches: ProvinceDto[];
  /** The text names this one province outright ("hai phong", "TP.HCM", "hanoi"). */
  exact?: ProvinceDto;
  /** Nothing matched as typed, but one province is the single closest with a typo or two: "Có phải bạn ở …?" */
  suggestion?: ProvinceDto;
}

export interface CommuneSearch {
  /** Best matches first; at most `limit`. */
  matches: CommuneDto[];
  /** How many communes matched in all (to say "be more specific"). */
  total: number;
  /** Exactly one commune of the province bears the typed name (unit word ignored). */
  exact?: CommuneDto;
  /** Nothing matched as typed, but one commune is the single closest with a typo or two. */
  suggestion?: CommuneDto;
}

const EXACT = 0;
const FUZZY = 4;

/** A name prepared for matching: its compact form and the compact form from each later word on. */
interface Searchable {
  compact: string;
  wordTails: string[];
}

function searchable(form: string): Searchable {
  const words = form.split(" ");
  return { compact: words.join(""), wordTails: words.slice(1).map((_, i) => words.slice(i + 1).join("")) };
}

/** The forms of what was typed, compact: as typed and without its unit word. */
interface Query {
  compacts: string[];
}

function parseQuery(query: string): Query {
  const form = searchForm(query);
  const compacts = [...new Set([compactForm(form), compactForm(stripUnitWord(form))])].filter((q) => q.length > 0);
  return { compacts };
}

/**
 * 0: exact, 1: starts with, 2: a word starts with, 3: contains; undefined: no literal match.
 * Spaces are ignored ("hanoi", "ha noi"); a word start counts only at a word of the name.
 */
function literalRank(name: Searchable, q: Query): number | undefined {
  let best: number | undefined;
  for (const c of q.compacts) {
    const r =
      name.compact === c ? 0
      : name.compact.startsWith(c) ? 1
      : name.wordTails.some((t) => t.startsWith(c)) ? 2
      : name.compact.includes(c) ? 3
      : undefined;
    if (r !== undefined && (best === undefined || r < best)) best = r;
  }
  return best;
}

/** Fewest typos between the text and the whole name, if within what the text's length allows. */
function typos(nameCompact: string, q: Query): number | undefined {
  let best: number | undefined;
  for (const c of q.compacts) {
    // One or two letters are too little to guess from.
    if (c.length < 3) continue;
    const max = maxTypos(c.length);
    const d = editDistance(c, nameCompact, max);
    if (d <= max && (best === undefined || d < best)) best = d;
  }
  return best;
}

type Ranked<T> = { item: T; rank: number; typos: number };

function byRank<T extends { name: string }>(a: Ranked<T>, b: Ranked<T>): number {
  return a.rank - b.rank || a.typos - b.typos || a.item.name.localeCompare(b.item.name, "vi");
}

/**
 * Ranks candidates for typed text. Typo matches are a fallback, used only when no name matches
 * as typed, so they never push a real match off a short list.
 */
function rank<T extends { name: string }>(
  candidates: Array<{ item: T; names: Searchable[] }>,
  q: Query,
): Ranked<T>[] {
  const literal: Ranked<T>[] = [];
  const fuzzy: Ranked<T>[] = [];
  for (const { item, names } of candidates) {
    let best: number | undefined;
    for (const n of names) {
      const r = literalRank(n, q);
      if (r !== undefined && (best === undefined || r < best)) best = r;
    }
    if (best !== undefined) literal.push({ item, rank: best, typos: 0 });
  }
  if (literal.length === 0 && q.compacts.length > 0) {
    for (const { item, names } of candidates) {
      let best: number | undefined;
      for (const n of names) {
        const d = typos(n.compact, q);
        if (d !== undefined && (best === undefined || d < best)) best = d;
      }
      if (best !== undefined) fuzzy.push({ item, rank: FUZZY, typos: best });
    }
  }
  return (literal.length > 0 ? literal : fuzzy).sort(byRank);
}

/** The single closest typo match, when no other is as close. */
function soleClosest<T>(ranked: Ranked<T>[]): T | undefined {
  const [first, second] = ranked;
  if (!first || first.rank !== FUZZY) return undefined;
  return second && second.typos === first.typos ? undefined : first.item;
}

type ProvinceRow = ProvinceDto & { names: Searchable[] };
type CommuneRow = CommuneDto & { names: Searchable[] };

const provinceDto = (r: ProvinceRow): ProvinceDto => ({ code: r.code, name: r.name, type: r.type });
const communeDto = (r: CommuneRow): CommuneDto => ({ code: r.code, provinceCode: r.provinceCode, name: r.name, type: r.type });

/**
 * Provinces and communes, read from the database once and then served from memory: the units
 * are reference data that change only with a new dataset (and a restart), and the pickers look
 * them up on nearly every registration step.
 */
export class GeoService {
  private provinces?: ProvinceRow[];
  private communes?: Promise<{ byCode: Map<string, CommuneRow>; byProvince: Map<string, CommuneRow[]> }>;

  constructor(private readonly prisma: PrismaClient) {}

  private async loadProvinces(): Promise<ProvinceRow[]> {
    if (!this.provinces) {
      const rows = await this.prisma.province.findMany({ orderBy: { code: "asc" } });
      this.provinces = rows.map((r) => ({
        code: r.code,
        name: r.name,
        type: r.type,
        names: [r.searchName, ...(PROVINCE_ALIASES[r.code] ?? [])].map(searchable),
      }));
    }
    return this.provinces;
  }

  async listProvinces(): Promise<ProvinceDto[]> {
    return (await this.loadProvinces()).map(provinceDto);
  }

  async getProvince(code: string): Promise<ProvinceDto | undefined> {
    return (await this.listProvinces()).find((p) => p.code === code);
  }

  /**
   * Provinces matching typed text, best first. Case, diacritics, spaces, punctuation and a unit
   * word are ignored ("TP.HCM", "danang", "tinh thanh hoa"); one typo is forgiven in up to five
   * letters, two in longer text ("ha noii" suggests Hà Nội).
   */
  async findProvinces(query: string): Promise<ProvinceSearch> {
    const q = parseQuery(query);
    if (q.compacts.length === 0) return { matches: [] };
    const rows = await this.loadProvinces();
    const ranked = rank(rows.map((r) => ({ item: provinceDto(r), names: r.names })), q);
    const exact = ranked.filter((r) => r.rank === EXACT);
    return {
      matches: ranked.map((r) => r.item),
      exact: exact.length === 1 ? exact[0]!.item : undefined,
      suggestion: soleClosest(ranked),
    };
  }

  private loadCommunes() {
    this.communes ??= this.prisma.commune
      .findMany({ select: { code: true, provinceCode: true, name: true, type: true, searchName: true }, orderBy: { code: "asc" } })
      .then((rows) => {
        const byCode = new Map<string, CommuneRow>();
        const byProvince = new Map<string, CommuneRow[]>();
        for (const r of rows) {
          const row = { code: r.code, provinceCode: r.provinceCode, name: r.name, type: r.type, names: [searchable(r.searchName)] };
          byCode.set(r.code, row);
          const list = byProvince.get(r.provinceCode) ?? [];
          list.push(row);
          byProvince.set(r.provinceCode, list);
        }
        return { byCode, byProvince };
      })
      .catch((e: unknown) => {
        this.communes = undefined;
        throw e;
      });
    return this.communes;
  }

  async getCommune(code: string): Promise<CommuneDto | undefined> {
    const row = (await this.loadCommunes()).byCode.get(code);
    return row ? communeDto(row) : undefined;
  }

  /**
   * Communes of one province matching typed text, with the same forgiveness as findProvinces;
   * names repeat across provinces, so always scoped.
   */
  async searchCommunes(provinceCode: string, query: string, limit = 8): Promise<CommuneSearch> {
    const q = parseQuery(query);
    if (q.compacts.length === 0) return { matches: [], total: 0 };
    const rows = (await this.loadCommunes()).byProvince.get(provinceCode) ?? [];
    const ranked = rank(rows.map((r) => ({ item: communeDto(r), names: r.names })), q);
    const exact = ranked.filter((r) => r.rank === EXACT);
    // Too many to show: an exact name match is what the user meant, even inside longer names.
    const chosen = ranked.length > limit && exact.length > 0 ? exact : ranked;
    return {
      matches: chosen.slice(0, limit).map((r) => r.item),
      total: chosen.length,
      exact: exact.length === 1 ? exact[0]!.item : undefined,
      suggestion: soleClosest(ranked),
    };
  }
}
