import { afterEach, describe, expect, it, vi } from "vitest";
import { collectWhenQuiet, fullCollection } from "../../src/infra/quiet-collection.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("quiet-time collection", () => {
  it("collects once the bot has been quiet since start-up, and not again until an update comes", () => {
    vi.useFakeTimers();
    const collect = vi.fn();
    const quiet = collectWhenQuiet({ quietMs: 10_000, checkMs: 1_000, collect });
    vi.advanceTimersByTime(9_000);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(collect).toHaveBeenCalledTimes(1);
    // Still quiet: nothing new to give back.
    vi.advanceTimersByTime(60_000);
    expect(collect).toHaveBeenCalledTimes(1);
    quiet.touch();
    vi.advanceTimersByTime(10_000);
    expect(collect).toHaveBeenCalledTimes(2);
    quiet.stop();
  });

  it("never collects while updates keep coming, and does once they stop", () => {
    vi.useFakeTimers();
    const collect = vi.fn();
    const quiet = collectWhenQuiet({ quietMs: 10_000, checkMs: 1_000, collect });
    for (let s = 0; s < 120; s += 3) {
      quiet.touch();
      vi.advanceTimersByTime(3_000);
    }
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10_000);
    expect(collect).toHaveBeenCalledTimes(1);
    quiet.stop();
  });

  it("stops: no collection after stop()", () => {
    vi.useFakeTimers();
    const collect = vi.fn();
    collectWhenQuiet({ quietMs: 1_000, checkMs: 100, collect }).stop();
    vi.advanceTimersByTime(10_000);
    expect(collect).not.toHaveBeenCalled();
  });

  it("V8's collection really frees unreachable objects, and leaves no gc global behind", async () => {
    const collect = fullCollection();
    expect(collect).toBeTypeOf("function");
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const ref = (() => new WeakRef({ big: new Array(100_000).fill(1) }))();
    // A WeakRef keeps its target until the current job ends.
    await new Promise((r) => setTimeout(r, 0));
    collect!();
    expect(ref.deref()).toBeUndefined();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
