// getUpdates long polling on top of the pure FakeTelegram, shared by the
// in-process fetch and the HTTP server so both behave like Telegram:
// - the request is held up to `timeout` seconds (clamped to 0..50) and answered
//   as soon as an update arrives;
// - a newer getUpdates terminates the held one with 409 "terminated by other
//   getUpdates request", which is what a second bot instance causes in production;
// - a caller that goes away (abort, socket closed) just drops its poll.

import { normalizePayload } from "./params.js";
import { ApiRejection, type ApiResponse, type FakeTelegram } from "./rules.js";

/** Structural AbortSignal: grammY passes the `abort-controller` polyfill's signal, not a native one. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

const TERMINATED = new ApiRejection(
  409,
  "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
).toResponse();

const MAX_TIMEOUT_SECONDS = 50;

interface HeldPoll {
  payload: Record<string, unknown>;
  finish(response: ApiResponse, record: boolean): void;
}

export class LongPollCoordinator {
  private held: HeldPoll | undefined;

  constructor(private readonly fake: FakeTelegram) {}

  /** Answers getUpdates, waiting for updates when `timeout` asks for it. */
  getUpdates(payload: Record<string, unknown>, signal?: AbortSignalLike): Promise<ApiResponse> {
    this.held?.finish(TERMINATED, true);
    const first = this.fake.call("getUpdates", payload, { record: false });
    const timeoutSeconds = Math.min(MAX_TIMEOUT_SECONDS, Math.max(0, Number(payload.timeout ?? 0) || 0));
    if (!first.ok || hasUpdates(first) || timeoutSeconds === 0 || signal?.aborted === true) {
      this.record(payload, first);
      return Promise.resolve(first);
    }
    return this.hold(payload, timeoutSeconds, first, signal);
  }

  /** Answers a held poll right away with whatever is pending (used when a server shuts down). */
  releaseHeld(): void {
    const held = this.held;
    if (held !== undefined) held.finish(this.fake.call("getUpdates", held.payload, { record: false }), true);
  }

  private record(payload: Record<string, unknown>, response: ApiResponse): void {
    this.fake.recordCall("getUpdates", normalizePayload(payload), response);
  }

  private hold(
    payload: Record<string, unknown>,
    timeoutSeconds: number,
    empty: ApiResponse,
    signal: AbortSignalLike | undefined,
  ): Promise<ApiResponse> {
    return new Promise((resolve) => {
      const poll: HeldPoll = {
        payload,
        finish: (response, record) => {
          clearTimeout(timer);
          unsubscribe();
          signal?.removeEventListener("abort", onAbort);
          if (this.held === poll) this.held = undefined;
          if (record) this.record(payload, response);
          resolve(response);
        },
      };
      // Re-running the call is idempotent: offset/limit/filter give the same view.
      const recheck = () => {
        const response = this.fake.call("getUpdates", payload, { record: false });
        if (!response.ok || hasUpdates(response)) poll.finish(response, true);
      };
      const unsubscribe = this.fake.on((event) => {
        if (event.type === "update" || event.type === "webhook") recheck();
      });
      const timer = setTimeout(() => poll.finish(this.fake.call("getUpdates", payload, { record: false }), true), timeoutSeconds * 1000);
      const onAbort = () => poll.finish(empty, false);
      signal?.addEventListener("abort", onAbort);
      this.held = poll;
    });
  }
}

function hasUpdates(response: ApiResponse): boolean {
  return response.ok && Array.isArray(response.result) && response.result.length > 0;
}

const coordinators = new WeakMap<FakeTelegram, LongPollCoordinator>();

/** One coordinator per fake, so an in-process bot and an HTTP bot on the same fake conflict like on Telegram. */
export function longPollFor(fake: FakeTelegram): LongPollCoordinator {
  let coordinator = coordinators.get(fake);
  if (coordinator === undefined) {
    coordinator = new LongPollCoordinator(fake);
    coordinators.set(fake, coordinator);
  }
  return coordinator;
}
