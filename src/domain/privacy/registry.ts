import type { PrismaClient } from "../../generated/prisma/client.js";

/** A transaction client: database parts of an erasure run in one transaction. */
export type Tx = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

/**
 * One module's share of a person's data (Decree 13/2023/NĐ-CP): what `/mydata` exports and what
 * `/deleteme` erases. Every module that stores something about a person registers one, so a new
 * feature cannot forget either.
 */
export interface PersonalDataPart {
  /** Key in the export file, e.g. "learning_citizen". */
  key: string;
  /** i18n key naming this data for the person ("thẻ Công dân học tập"), shown by /deleteme. */
  label: string;
  /** The data as plain JSON, or null when there is none. */
  export(telegramId: string): Promise<unknown>;
  /** Whether anything is stored (cheap; decides whether /deleteme has anything to do). */
  exists(telegramId: string): Promise<boolean>;
  /** Database parts erase inside the shared transaction; others get no `tx` and run after it. */
  erase(telegramId: string, tx?: Tx): Promise<boolean>;
  /** "database" parts share one transaction; "store" parts (Redis) are erased after it commits. */
  kind: "database" | "store";
}

export interface ErasureResult {
  /** Labels (i18n keys) of the parts that held something and were erased. */
  erased: string[];
}

export class PersonalDataRegistry {
  private readonly parts: PersonalDataPart[] = [];
  private readonly listeners: Array<(result: ErasureResult) => void> = [];

  constructor(private readonly prisma: PrismaClient) {}

  register(part: PersonalDataPart): this {
    if (this.parts.some((p) => p.key === part.key)) throw new Error(`personal data part "${part.key}" registered twice`);
    this.parts.push(part);
    return this;
  }

  /** Called after each erasure that erased something (e.g. to compact the files it leaves). */
  onErased(listener: (result: ErasureResult) => void): void {
    this.listeners.push(listener);
  }

  keys(): string[] {
    return this.parts.map((p) => p.key);
  }

  async exportAll(telegramId: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const part of this.parts) out[part.key] = (await part.export(telegramId)) ?? null;
    return out;
  }

  /** Labels of the parts that hold something about the person. */
  async held(telegramId: string): Promise<string[]> {
    const held = await Promise.all(this.parts.map(async (p) => ((await p.exists(telegramId)) ? p.label : undefined)));
    return held.filter((l): l is string => l !== undefined);
  }

  /**
   * Erases everything about the person: database parts in one transaction (all or nothing), then
   * the stores. The audit row records that an erasure happened, never whose, and only when
   * something was erased.
   */
  async erase(telegramId: string, now: Date): Promise<ErasureResult> {
    const database = this.parts.filter((p) => p.kind === "database");
    const stores = this.parts.filter((p) => p.kind === "store");
    const erased: string[] = [];
    await this.prisma.$transaction(async (tx) => {
      for (const part of database) if (await part.erase(telegramId, tx)) erased.push(part.label);
      if (erased.length > 0) await tx.auditLog.create({ data: { action: "personal_data_erased", at: now } });
    });
    for (const part of stores) if (await part.erase(telegramId)) erased.push(part.label);
    const result = { erased: [...new Set(erased)] };
    if (result.erased.length > 0) for (const l of this.listeners) l(result);
    return result;
  }
}

export function toPlainJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
}
