import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHealthCheck } from "../../src/infra/health.js";
import { createMetrics, type Metrics } from "../../src/infra/metrics.js";
import { createRedis } from "../../src/infra/redis.js";
import { createLogger } from "../../src/logger.js";
import { closeServer, createStatusServer, HttpListenError, listen } from "../../src/server/status.js";
import { startAt } from "../support/flows.js";
import { useHarness } from "../support/harness.js";

const metrics: Metrics = createMetrics();
const h = useHarness({ metrics });
const logger = createLogger("silent");
let server: Server;
let base: string;

beforeAll(async () => {
  server = createStatusServer({ health: createHealthCheck(h.redis, h.db), metrics, logger });
  // Port 0: the OS picks a free one, with no race between choosing and binding.
  await listen(server, 0, "127.0.0.1");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => closeServer(server));

async function scrape(): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

const count = (body: string, outcome: string) => Number(new RegExp(`^khb_updates_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(body)?.[1] ?? 0);

describe("the status server (polling mode's /healthz and /metrics)", () => {
  it("answers /healthz and /metrics over HTTP; other paths 404, other methods 405", async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    expect(await scrape()).toMatch(/^khb_process_resident_memory_bytes \d+/m);
    expect((await fetch(`${base}/telegram/webhook`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await fetch(`${base}/`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect((await fetch(`${base}/healthz`, { method: "DELETE" })).status).toBe(405);
  });

  it("counts the real bot's updates as handled or failed, and shows nothing of the people", async () => {
    const before = await scrape();
    const u = h.user(9101, { first_name: "Trần Văn", last_name: "Khoa", username: "khoa_hoc_tap" });
    expect((await u.send("/help"))[0]).toMatch(/^Các lệnh/);
    // Telegram refuses the answer: the person gets an apology, and the update counts as failed.
    h.fake.failNext("sendMessage", { error_code: 400, description: "Bad Request: chat not found" });
    expect((await u.send("/help"))[0]).toMatch(/^Xin lỗi, đã có lỗi/);
    // The same inside a conversation, where keepFlowOnError contains the failure.
    await startAt(u, "name");
    h.fake.failNext("sendMessage", { error_code: 400, description: "Bad Request: chat not found" });
    expect((await u.send("Trần Văn Khoa"))[0]).toMatch(/^Xin lỗi, đã có lỗi/);

    const after = await scrape();
    expect(count(after, "failed") - count(before, "failed")).toBe(2);
    // /help, and the updates startAt needed to reach the name step.
    expect(count(after, "handled") - count(before, "handled")).toBeGreaterThanOrEqual(2);
    // No person reaches the metrics: no label carries their id (values may hold any digits), no text their name.
    const labels = after.split("\n").map((line) => /\{([^}]*)\}/.exec(line)?.[1] ?? "").join(" ");
    expect(labels).toContain("outcome=");
    expect(labels).not.toContain("9101");
    for (const personal of ["Trần", "Khoa", "khoa_hoc_tap", "chat not found"]) expect(after).not.toContain(personal);
  });

  it("answers /healthz 503 when Redis does not answer, and /metrics still works", async () => {
    const away = createRedis("redis://127.0.0.1:1", { lazyConnect: true, retryStrategy: () => null });
    away.on("error", () => undefined);
    const sick = createStatusServer({ health: createHealthCheck(away, h.db, { timeoutMs: 1_000, cacheMs: 0 }), metrics, logger });
    await listen(sick, 0, "127.0.0.1");
    const url = `http://127.0.0.1:${(sick.address() as AddressInfo).port}`;
    try {
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ ok: false });
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
    } finally {
      await closeServer(sick);
      away.disconnect();
    }
  });

  it("refuses a port that is in use with a line that names HTTP_PORT", async () => {
    const port = (server.address() as AddressInfo).port;
    const second = createStatusServer({ health: createHealthCheck(h.redis, h.db), metrics, logger });
    const err = await listen(second, port, "127.0.0.1").then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HttpListenError);
    expect((err as Error).message).toBe(`HTTP_PORT ${port} on 127.0.0.1 is already in use: set HTTP_PORT to a free port (or HTTP_PORT=off in polling mode)`);
    // The first server is unharmed.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
