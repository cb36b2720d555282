import type { Redis } from "ioredis";
import { CitizenService } from "../domain/citizens/citizen-service.js";
import { GeoService } from "../domain/geo/geo-service.js";
import { PrivacyService } from "../domain/privacy/privacy-service.js";
import { UserService } from "../domain/users/user-service.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { I18n } from "../i18n.js";
import { ChangedOnlyJsonStorage, RedisJsonStorage } from "../infra/redis-storage.js";
import type { Logger } from "../logger.js";
import { LocaleMemo, type Deps, type SessionData } from "./context.js";

/** Redis key prefixes: sessions and conversations never share keys. */
export const SESSION_PREFIX = "khb:session:";
export const CONVERSATION_PREFIX = "khb:conv:";
/** Unfinished flows are dropped after a month of silence; sessions hold only a language choice. */
const CONVERSATION_TTL_SECONDS = 30 * 24 * 3600;

export interface DepsInput {
  prisma: PrismaClient;
  redis: Redis;
  i18n: I18n;
  logger: Logger;
  adminIds: ReadonlySet<string>;
  inviteTtlHours?: number;
  now?: () => Date;
}

export function createDeps(input: DepsInput): Deps {
  const geo = new GeoService(input.prisma);
  return {
    services: {
      geo,
      citizens: new CitizenService(input.prisma, geo),
      users: new UserService(input.prisma, input.adminIds),
      privacy: new PrivacyService(input.prisma),
    },
    i18n: input.i18n,
    logger: input.logger,
    sessions: new ChangedOnlyJsonStorage<SessionData>(input.redis, SESSION_PREFIX),
    conversations: new RedisJsonStorage<unknown>(input.redis, CONVERSATION_PREFIX, CONVERSATION_TTL_SECONDS),
    localeMemo: new LocaleMemo(),
    inviteTtlHours: input.inviteTtlHours ?? 72,
    now: input.now ?? (() => new Date()),
  };
}
