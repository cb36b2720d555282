import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis, startLocalRedis, type LocalRedis } from "../../src/infra/redis.js";
import { startAt } from "../support/flows.js";
import { Harness } from "../support/harness.js";

let dir: string;
let local: LocalRedis;
let h: Harness;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "khb-outage-"));
  local = await startLocalRedis("redis-server", path.join(dir, "redis"));
  h = await Harness.create({ redis: createRedis(local.connection) });
});
afterAll(async () => {
  await h?.close();
  await local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("did not recover in time");
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("Redis going away", () => {
  it("answers 'try again in a moment' within a second, logs the outage once, keeps the flow and recovers by itself", async () => {
    const u = h.user(8001);
    await startAt(u, "name");
    h.clearLog();
    await local.stop();

    const started = Date.now();
    expect(await u.send("Nguyễn Văn Minh")).toEqual(["Hệ thống đang bận trong giây lát. Bạn vui lòng gửi lại sau một chút; những gì đã lưu không bị mất."]);
    expect(Date.now() - started).toBeLessThan(1_000);
    // A button pressed meanwhile is answered too, not left spinning.
    expect((await u.pressData("f:back:go")).at(0)).toBe("[answer] Hệ thống đang bận, vui lòng thử lại sau một chút.");
    expect(await u.send("/help")).toHaveLength(1);
    const outageLines = h.logged(40).filter((l) => /storage unavailable/.test(String(l.msg)));
    expect(outageLines).toHaveLength(1);
    expect(h.logged(50)).toEqual([]);

    local = await startLocalRedis("redis-server", path.join(dir, "redis"));
    await eventually(async () => (await u.send("/help"))[0]?.startsWith("Các lệnh") ?? false);
    // The registration kept its place: the name is asked for again, then the year.
    expect(await u.send("Nguyễn Văn Minh")).toEqual(["Bước 2/7. Bạn sinh năm nào? (4 chữ số, ví dụ: 1985)"]);
  });
});
