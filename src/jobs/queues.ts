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

export interface SendJobData {
  id: string;
  /** For per-chat pacing before the row is claimed. */
  chatId: number;
}

/** Deterministic ids: adding the same release or send twice is a no-op while the first exists. */
export const releaseJobId = (kind: string, refId: string): string => `rel-${kind}-${refId}`;
export const sendJobId = (deliveryId: string): string => `d-${deliveryId}`;

/** Network errors and 5xx are retried this many times, with exponential backoff from 1 s. */
export const SEND_ATTEMPTS = 8;

export const SEND_JOB_OPTIONS: DefaultJobOptions = {
  attempts: SEND_ATTEMPTS,
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
