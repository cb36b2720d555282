import { Bot, type Context } from "grammy";
import { describe, expect, it } from "vitest";
import { countUpdates, markUpdateFailed } from "../../src/bot/middlewares/metrics.js";
import { createMetrics, type QueueProbe } from "../../src/infra/metrics.js";
import { command, DEFAULT_BOT_TOKEN, FakeTelegram, makeUser } from "../support/telegram/index.js";

/** The sample lines of one metric family (name followed by labels or a space). */
function samples(body: string, name: string): string[] {
  return body.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe("the metrics text", () => {
  it("shows every counter with its labels, the lateness histogram and the process metrics", async () => {
    const m = createMetrics();
    m.updates.inc({ outcome: "handled" }, 2);
    m.updates.inc({ outcome: "failed" });
    m.sends.inc({ kind: "broadcast", outcome: "sent" }, 3);
    m.sends.inc({ kind: "broadcast", outcome: "blocked" });
    m.rateLimited.inc();
    m.pausedSeconds.inc(4.5);
    m.lateness.observe(0.3);
    m.lateness.observe(45);

    const { contentType, body } = await m.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(samples(body, "khb_updates_total").sort()).toEqual(['khb_updates_total{outcome="failed"} 1', 'khb_updates_total{outcome="handled"} 2']);
    expect(samples(body, "khb_sends_total").sort()).toEqual([
      'khb_sends_total{kind="broadcast",outcome="blocked"} 1',
      'khb_sends_total{kind="broadcast",outcome="sent"} 3',
    ]);
    expect(samples(body, "khb_telegram_429_total")).toEqual(["khb_telegram_429_total 1"]);
    expect(samples(body, "khb_send_paused_seconds_total")).toEqual(["khb_send_paused_seconds_total 4.5"]);
    expect(body).toContain('khb_delivery_lateness_seconds_bucket{le="0.1"} 0');
    expect(body).toContain('khb_delivery_lateness_seconds_bucket{le="0.5"} 1');
    expect(body).toContain('khb_delivery_lateness_seconds_bucket{le="60"} 2');
    expect(body).toContain('khb_delivery_lateness_seconds_bucket{le="600"} 2');
    expect(body).toContain("khb_delivery_lateness_seconds_count 2");
    expect(body).toMatch(/^khb_process_resident_memory_bytes \d+/m);
    expect(body).toMatch(/^khb_nodejs_eventloop_lag_seconds /m);
  });

  it("keeps each instance's counts to itself (no global registry)", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.updates.inc({ outcome: "handled" }, 5);
    expect(samples((await a.render()).body, "khb_updates_total")).toEqual(['khb_updates_total{outcome="handled"} 5']);
    expect(samples((await b.render()).body, "khb_updates_total")).toEqual([]);
  });
});

describe("the queue gauges", () => {
  it("read the probe at each scrape, once per scrape", async () => {
    const m = createMetrics();
    let calls = 0;
    let now: QueueProbe = { waiting: 120, delayed: 7, active: 3, oldestDueAgeSeconds: 2.5 };
    m.setQueueProbe(async () => (calls++, now));

    const first = (await m.render()).body;
    expect(samples(first, "khb_queue_jobs").sort()).toEqual([
      'khb_queue_jobs{state="active"} 3',
      'khb_queue_jobs{state="delayed"} 7',
      'khb_queue_jobs{state="waiting"} 120',
    ]);
    expect(samples(first, "khb_queue_oldest_due_age_seconds")).toEqual(["khb_queue_oldest_due_age_seconds 2.5"]);

    now = { waiting: 0, delayed: 1, active: 0, oldestDueAgeSeconds: 0 };
    const second = (await m.render()).body;
    expect(samples(second, "khb_queue_jobs")).toContain('khb_queue_jobs{state="waiting"} 0');
    expect(samples(second, "khb_queue_oldest_due_age_seconds")).toEqual(["khb_queue_oldest_due_age_seconds 0"]);
    expect(calls).toBe(2);
  });

  it("say 'unknown' when the probe fails or hangs, and the scrape still answers", async () => {
    const errors: unknown[] = [];
    const m = createMetrics({ probeTimeoutMs: 100, onProbeError: (e) => errors.push(e) });
    m.setQueueProbe(async () => ({ waiting: 9, delayed: 0, active: 0, oldestDueAgeSeconds: 1 }));
    expect(samples((await m.render()).body, "khb_queue_jobs")).toHaveLength(3);

    m.setQueueProbe(() => Promise.reject(new Error("redis is away")));
    const failed = (await m.render()).body;
    // A depth from before the outage would be a lie: the series go away, the age is NaN.
    expect(samples(failed, "khb_queue_jobs")).toEqual([]);
    // prom-client writes "Nan"; Prometheus reads NaN in any case.
    expect(samples(failed, "khb_queue_oldest_due_age_seconds")).toEqual([expect.stringMatching(/^khb_queue_oldest_due_age_seconds nan$/i)]);
    expect(samples(failed, "khb_process_resident_memory_bytes")).toHaveLength(1);

    m.setQueueProbe(() => new Promise<never>(() => undefined));
    const started = Date.now();
    const hung = (await m.render()).body;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(samples(hung, "khb_queue_jobs")).toEqual([]);
    expect(errors.map((e) => (e as Error).message)).toEqual(["redis is away", "queue probe timed out after 100 ms"]);
  });
});

describe("countUpdates", () => {
  it("counts handled and failed updates and shows nothing of the person", async () => {
    const m = createMetrics();
    const fake = new FakeTelegram();
    const bot = new Bot<Context>(DEFAULT_BOT_TOKEN, { botInfo: fake.botInfo });
    bot.use(countUpdates(m));
    bot.command("ok", () => undefined);
    bot.command("boom", () => {
      throw new Error("bug");
    });
    // What the error boundary and keepFlowOnError do: the person got an apology, nothing threw.
    bot.command("contained", (ctx) => markUpdateFailed(ctx));

    const person = makeUser(987_654_321, { first_name: "Nguyễn Thị", last_name: "Hoa", username: "hoa_khuyenhoc" });
    let id = 1;
    const send = (cmd: string) => bot.handleUpdate({ ...command(person, cmd), update_id: id++ } as never);
    await send("/ok");
    await send("/ok");
    await expect(send("/boom")).rejects.toThrow("bug");
    await send("/contained");

    const { body } = await m.render();
    expect(samples(body, "khb_updates_total").sort()).toEqual(['khb_updates_total{outcome="failed"} 2', 'khb_updates_total{outcome="handled"} 2']);
    for (const personal of ["987654321", "Nguyễn", "Hoa", "hoa_khuyenhoc", "/boom", "bug"]) expect(body).not.toContain(personal);
    // Every label value is a short closed-set word or number, never free text.
    const values = [...body.matchAll(/="([^"]*)"/g)].map((v) => v[1]!);
    expect(values.length).toBeGreaterThan(10);
    for (const v of values) expect(v).toMatch(/^[A-Za-z0-9_.+-]{1,24}$/);
  });
});
