import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { AbortController as PolyfillAbortController } from "abort-controller";
import { Api, GrammyError, HttpError, InputFile } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { botApiFetch, httpFetch } from "../../src/infra/http-fetch.js";
import { startFakeBotApiServer, type FakeBotApiServer } from "../support/telegram/index.js";

// The bot's Bot API transport (node's http client instead of node-fetch). The bot's process tests
// and benchmarks go through it against the fake Bot API over HTTP; these pin down its own rules.

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function server(handler: http.RequestListener): Promise<{ url: string; connections: () => number }> {
  const s = http.createServer(handler);
  let connections = 0;
  s.on("connection", () => connections++);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, connections: () => connections };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

async function fakeApi(): Promise<FakeBotApiServer> {
  const api = await startFakeBotApiServer();
  closers.push(() => api.close());
  return api;
}

describe("the Bot API transport", () => {
  it("sends a JSON body with its headers and reads the answer", async () => {
    let seen: { method?: string; type?: string; length?: string; body?: string } = {};
    const { url } = await server(async (req, res) => {
      seen = { method: req.method, type: req.headers["content-type"], length: req.headers["content-length"], body: await readBody(req) };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, result: { text: "Xin chào" } }));
    });
    const body = JSON.stringify({ chat_id: 1, text: "Đăng ký công dân học tập" });
    const res = await httpFetch(`${url}/botTOKEN/sendMessage`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(seen).toEqual({ method: "POST", type: "application/json", length: String(Buffer.byteLength(body)), body });
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, result: { text: "Xin chào" } });
  });

  it("keeps one connection for calls made one after another", async () => {
    const { url, connections } = await server((_req, res) => res.end("{}"));
    for (let i = 0; i < 5; i++) await (await httpFetch(`${url}/x`, { method: "POST", body: "{}" })).json();
    expect(connections()).toBe(1);
  });

  it("reports a failed status and decompresses a gzip answer", async () => {
    const { url } = await server((req, res) => {
      if (req.url === "/missing") return void res.writeHead(404).end("not found");
      res.writeHead(200, { "content-encoding": "gzip" }).end(zlib.gzipSync(JSON.stringify({ ok: true, result: "nén" })));
    });
    const missing = await httpFetch(`${url}/missing`);
    expect([missing.ok, missing.status, await missing.text()]).toEqual([false, 404, "not found"]);
    expect(await (await httpFetch(`${url}/gz`)).json()).toEqual({ ok: true, result: "nén" });
  });

  it("gives the bytes of a download", async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
    const { url } = await server((_req, res) => res.end(bytes));
    const got = new Uint8Array(await (await httpFetch(`${url}/file/botTOKEN/doc.xlsx`)).arrayBuffer());
    expect([...got]).toEqual([...bytes]);
  });

  it("stops waiting when grammY's (polyfill) signal aborts, and the connection error keeps its code", async () => {
    const { url } = await server(() => {
      // never answers
    });
    const controller = new PolyfillAbortController();
    const pending = httpFetch(`${url}/slow`, { method: "POST", body: "{}", signal: controller.signal as never });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    const aborted = new PolyfillAbortController();
    aborted.abort();
    await expect(httpFetch(`${url}/x`, { signal: aborted.signal as never })).rejects.toMatchObject({ name: "AbortError" });

    const closed = await server(() => {});
    const port = new URL(closed.url).port;
    await closers.pop()!();
    await expect(httpFetch(`http://127.0.0.1:${port}/x`)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(httpFetch("ftp://example.org/x")).rejects.toThrow(/unsupported protocol/);
  });

  it("carries grammY's calls to the fake Bot API: messages, errors, uploads and time-outs", async () => {
    const { fake, url } = await fakeApi();
    const api = new Api(fake.token, { apiRoot: url, fetch: botApiFetch });
    fake.registerChat(501);
    const sent = await api.sendMessage(501, "<b>Chào</b> bạn", { parse_mode: "HTML" });
    expect(sent.text).toBe("Chào bạn");
    expect(fake.lastText(501)).toBe("Chào bạn");

    // Telegram's errors come back as GrammyError with Telegram's description.
    const refused = await api.sendMessage(501, "").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GrammyError);
    expect((refused as GrammyError).description).toMatch(/message text is empty/);

    // An upload is a multipart stream.
    const csv = Buffer.from("họ tên,năm sinh\nNguyễn Văn A,1990\n");
    await api.sendDocument(501, new InputFile(csv, "danh-sach.csv"), { caption: "Danh sách" });
    expect(fake.lastDocument(501)?.content.equals(csv)).toBe(true);
    expect(fake.lastDocument(501)?.file_name).toBe("danh-sach.csv");

    // grammY's own time-out aborts through the signal and becomes an HttpError.
    const { url: silent } = await server(() => {});
    const slow = new Api(fake.token, { apiRoot: silent, fetch: botApiFetch, timeoutSeconds: 1 });
    await expect(slow.getMe()).rejects.toBeInstanceOf(HttpError);
  });
});
