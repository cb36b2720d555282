import { Queue, type ConnectionOptions, type DefaultJobOptions } from "bullmq";

/** Releases the rows of one (kind, ref) when they fall due: one small job however many people. */
export const RELEASE_QUEUE = "release";
/** One job per ledger row, worked at Telegram's limits by every worker of every process. */
export const SEND_QUEUE = "send";
/** BullMQ key prefix (BullMQ refuses ioredis' keyPrefix); tests and benches use their own. */
export const DEFAULT_QUEUE_PREFIX = "khb-bull";

export interface ReleaseJobData {
  kind: string;
  refId: string;
}

/** A chunk of ledger rows of one (kind, ref): one job per chunk, not per person. */
export interface SendJobData {
  kind: string;
  refId: string;
  ids: string[];
  /** For per-chat pacing before a row is claimed (same order as ids). */
  chatIds: number[];
}

/** Deterministic ids: adding the same release or send twice is a no-op while the first exists. */
export const releaseJobId = (kind: string, refId: string): string => `rel-${kind}-${refId}`;
export const sendJobId = (kind: string, refId: string, firstId: string): string => `s-${kind}-${refId}-${firstId}`;
/** A single row sent again later (a retry after a 5xx, a row moved to a later time). */
export const retryJobId = (deliveryId: string, tag: string): string => `r-${deliveryId}-${tag}`;
/** Rows per send job. */
export const SEND_CHUNK = 50;

/** Network errors and 5xx are tried this many times in all, with exponential backoff from 1 s. */
export const SEND_ATTEMPTS = 8;
export const retryDelayMs = (attempt: number): number => 1_000 * 2 ** Math.max(0, attempt - 1);

export const SEND_JOB_OPTIONS: DefaultJobOptions = {
  // A chunk job fails only when the database or Redis is away: then it runs again.
  attempts: 20,
  backoff: { type: "exponential", delay: 1_000 },
  // The ledger is the record; finished jobs would only fill Redis (and block re-adding the id).
  removeOnComplete: true,
  removeOnFail: true,
};

export const RELEASE_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 20,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: 1_000,
};

export interface DeliveryQueues {
  release: Queue<ReleaseJobData>;
  send: Queue<SendJobData>;
  close(): Promise<void>;
}

export function openQueues(connection: ConnectionOptions, prefix = DEFAULT_QUEUE_PREFIX): DeliveryQueues {
  const release = new Queue<ReleaseJobData>(RELEASE_QUEUE, { connection, prefix, defaultJobOptions: RELEASE_JOB_OPTIONS });
  const send = new Queue<SendJobData>(SEND_QUEUE, { connection, prefix, defaultJobOptions: SEND_JOB_OPTIONS });
  // Errors reach callers through their promises; the 'error' events only repeat them.
  release.on("error", () => {});
  send.on("error", () => {});
  return {
    release,
    send,
    close: async () => {
      await Promise.all([release.close(), send.close()]);
    },
  };
}
