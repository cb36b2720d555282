import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { RegistrationDraft } from "./citizen-service.js";

/**
 * A child's registration waiting for a parent's or guardian's consent (Decree 13/2023/NĐ-CP,
 * art. 20: a child under 16 needs it). Nothing about the child is written to the database until
 * the guardian agrees from their own Telegram account; until then the answers wait here, in Redis,
 * and expire on their own. One request per child; a one-time link carries its token, and only the
 * token's hash is a key, so reading Redis does not give a working link.
 */
export interface GuardianRequest {
  childId: string;
  draft: RegistrationDraft;
  locale: string;
  createdAt: string;
  expiresAt: string;
}

const REQUEST_PREFIX = "khb:guardian:";
const CHILD_PREFIX = "khb:guardian-child:";

function hash(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

export class GuardianRequests {
  constructor(
    private readonly redis: Redis,
    readonly ttlHours = 72,
  ) {}

  /** A new request replaces the child's earlier one (its link stops working). */
  async create(childId: string, draft: RegistrationDraft, locale: string, now: Date): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(16).toString("base64url");
    const expiresAt = new Date(now.getTime() + this.ttlHours * 3600_000);
    const request: GuardianRequest = { childId, draft, locale, createdAt: now.toISOString(), expiresAt: expiresAt.toISOString() };
    const seconds = this.ttlHours * 3600;
    const previous = await this.redis.get(CHILD_PREFIX + childId);
    const tx = this.redis.multi();
    if (previous) tx.del(REQUEST_PREFIX + previous);
    tx.set(REQUEST_PREFIX + hash(token), JSON.stringify(request), "EX", seconds);
    tx.set(CHILD_PREFIX + childId, hash(token), "EX", seconds);
    await tx.exec();
    return { token, expiresAt };
  }

  /** The request behind a link, unless it is unknown, used or expired. */
  async get(token: string, now: Date): Promise<GuardianRequest | undefined> {
    const raw = await this.redis.get(REQUEST_PREFIX + hash(token));
    const request = raw ? (JSON.parse(raw) as GuardianRequest) : undefined;
    return request && new Date(request.expiresAt) > now ? request : undefined;
  }

  /** Takes the request once: of two guardians pressing at the same moment, one gets it. */
  async take(token: string, now: Date): Promise<GuardianRequest | undefined> {
    const raw = await this.redis.getdel(REQUEST_PREFIX + hash(token));
    if (!raw) return undefined;
    const request = JSON.parse(raw) as GuardianRequest;
    await this.redis.del(CHILD_PREFIX + request.childId);
    return new Date(request.expiresAt) > now ? request : undefined;
  }

  async ofChild(childId: string): Promise<GuardianRequest | undefined> {
    const key = await this.redis.get(CHILD_PREFIX + childId);
    const raw = key ? await this.redis.get(REQUEST_PREFIX + key) : null;
    return raw ? (JSON.parse(raw) as GuardianRequest) : undefined;
  }

  async deleteOfChild(childId: string): Promise<boolean> {
    const key = await this.redis.get(CHILD_PREFIX + childId);
    if (!key) return false;
    await this.redis.del(REQUEST_PREFIX + key, CHILD_PREFIX + childId);
    return true;
  }
}
