import { describe, expect, it } from "vitest";
import { Batcher } from "../../src/jobs/batcher.js";

// The batcher behind the quiz's answer statements and the delivery worker's claim/record batches.

function recorder(ms = 0) {
  const batches: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = async (items: number[]) => {
    batches.push(items);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((r) => setTimeout(r, ms));
    inFlight--;
    return items.map((i) => i * 10);
  };
  return { batches, run, maxInFlight: () => maxInFlight };
}

describe("Batcher", () => {
  it("runs calls of the same turn as one batch and hands each caller its own result", async () => {
    const r = recorder();
    const b = new Batcher(r.run);
    expect(await Promise.all([b.push(1), b.push(2), b.push(3)])).toEqual([10, 20, 30]);
    expect(r.batches).toEqual([[1, 2, 3]]);
  });

  it("never makes a batch larger than its maximum", async () => {
    const r = recorder();
    const b = new Batcher(r.run, 2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((i) => b.push(i)))).toEqual([10, 20, 30, 40, 50]);
    expect(r.batches.map((x) => x.length).every((n) => n <= 2)).toBe(true);
    expect(r.batches.flat().sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it("one at a time: calls made while a batch runs go together in the next, at once when it ends", async () => {
    const r = recorder(30);
    const b = new Batcher(r.run, 100, 0, true);
    const first = b.push(1);
    await new Promise((resolve) => setImmediate(resolve));
    // The first batch is running: these three wait for it, then go as one.
    const later = [b.push(2), b.push(3), b.push(4)];
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40]);
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    expect(r.maxInFlight()).toBe(1);
  });

  it("one at a time: a failed batch rejects its callers and the next batch still runs", async () => {
    let calls = 0;
    const b = new Batcher<number, number>(async (items) => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      if (items.includes(1)) throw new Error("database away");
      return items;
    }, 100, 0, true);
    const failed = b.push(1);
    await new Promise((resolve) => setImmediate(resolve));
    const next = b.push(2);
    await expect(failed).rejects.toThrow("database away");
    expect(await next).toBe(2);
    expect(calls).toBe(2);
  });
});
