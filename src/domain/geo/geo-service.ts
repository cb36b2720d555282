import type { PrismaClient } from "../../generated/prisma/client.js";
import { searchForm, stripUnitWord } from "./normalize.js";

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

/** Short names people type for the big cities, by province code. */
const PROVINCE_ALIASES: Record<string, string[]> = {
  "01": ["hn"],
  "79": ["hcm", "tphcm", "tp hcm", "sai gon", "saigon", "ho chi minh city"],
  "31": ["hp"],
  "48": ["dn"],
};

export interface CommuneSearch {
  /** Best matches first; at most `limit`. */
  matches: CommuneDto[];
  /** How many communes matched in all (to say "be more specific"). */
  total: number;
}

type Ranked<T> = { item: T; rank: number };

/** 0: exact, 1: starts with, 2: a word starts with, 3: contains; undefined: no match. */
function rankName(nameForm: string, queries: string[]): number | undefined {
  let best: number | undefined;
  for (const q of queries) {
    if (!q) continue;
    const r =
      nameForm === q ? 0
      : nameForm.startsWith(q) ? 1
      : nameForm.includes(" " + q) ? 2
      : nameForm.includes(q) ? 3
      : undefined;
    if (r !== undefined && (best === undefined || r < best)) best = r;
  }
  return best;
}

function queryForms(query: string): string[] {
  const form = searchForm(query);
  const stripped = stripUnitWord(form);
  return stripped === form ? [form] : [form, stripped];
}

type CommuneRow = CommuneDto & { form: string };

/**
 * Provinces and communes, read from the database once and then served from memory: the units
 * are reference data that change only with a new dataset (and a restart), and the pickers look
 * them up on nearly every registration step.
 */
export class GeoService {
  private provinces?: Array<ProvinceDto & { form: string }>;
  private communes?: Promise<{ byCode: Map<string, CommuneRow>; byProvince: Map<string, CommuneRow[]> }>;

  constructor(private readonly prisma: PrismaClient) {}

  async listProvinces(): Promise<ProvinceDto[]> {
    if (!this.provinces) {
      const rows = await this.prisma.province.findMany({ orderBy: { code: "asc" } });
      this.provinces = rows.map((r) => ({ code: r.code, name: r.name, type: r.type, form: r.searchName }));
    }
    return this.provinces.map(({ code, name, type }) => ({ code, name, type }));
  }

  async getProvince(code: string): Promise<ProvinceDto | undefined> {
    return (await this.listProvinces()).find((p) => p.code === code);
  }

  /**
   * Provinces matching typed text, best first; diacritics and case are ignored. `exact` is set
   * when the text names one province outright ("hai phong", "TP HCM").
   */
  async findProvinces(query: string): Promise<{ matches: ProvinceDto[]; exact?: ProvinceDto }> {
    await this.listProvinces();
    const qs = queryForms(query);
    const ranked: Ranked<ProvinceDto>[] = [];
    for (const p of this.provinces ?? []) {
      const aliases = PROVINCE_ALIASES[p.code] ?? [];
      const rank = aliases.some((a) => qs.includes(a)) ? 0 : rankName(p.form, qs);
      if (rank !== undefined) ranked.push({ item: { code: p.code, name: p.name, type: p.type }, rank });
    }
    ranked.sort((a, b) => a.rank - b.rank || a.item.name.localeCompare(b.item.name, "vi"));
    const exact = ranked.filter((r) => r.rank === 0);
    return { matches: ranked.map((r) => r.item), exact: exact.length === 1 ? exact[0]!.item : undefined };
  }

  private loadCommunes() {
    this.communes ??= this.prisma.commune
      .findMany({ select: { code: true, provinceCode: true, name: true, type: true, searchName: true }, orderBy: { code: "asc" } })
      .then((rows) => {
        const byCode = new Map<string, CommuneRow>();
        const byProvince = new Map<string, CommuneRow[]>();
        for (const r of rows) {
          const row = { code: r.code, provinceCode: r.provinceCode, name: r.name, type: r.type, form: r.searchName };
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
    return row ? { code: row.code, provinceCode: row.provinceCode, name: row.name, type: row.type } : undefined;
  }

  /** Communes of one province matching typed text; names repeat across provinces, so always scoped. */
  async searchCommunes(provinceCode: string, query: string, limit = 8): Promise<CommuneSearch> {
    const qs = queryForms(query).filter((q) => q.length > 0);
    if (qs.length === 0) return { matches: [], total: 0 };
    const rows = (await this.loadCommunes()).byProvince.get(provinceCode) ?? [];
    const ranked: Ranked<CommuneDto>[] = [];
    for (const r of rows) {
      const rank = rankName(r.form, qs);
      if (rank !== undefined) ranked.push({ item: { code: r.code, provinceCode: r.provinceCode, name: r.name, type: r.type }, rank });
    }
    ranked.sort((a, b) => a.rank - b.rank || a.item.name.localeCompare(b.item.name, "vi"));
    // Too many to show: an exact name match is what the user meant, even inside longer names.
    const exact = ranked.filter((r) => r.rank === 0);
    const chosen = ranked.length > limit && exact.length > 0 ? exact : ranked;
    return { matches: chosen.slice(0, limit).map((r) => r.item), total: chosen.length };
  }
}
