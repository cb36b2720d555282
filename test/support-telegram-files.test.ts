import { describe, expect, it } from "vitest";
import { FakeTelegram, makeUser, documentMessage, startFakeBotApiServer } from "./support/telegram/index.js";

describe("fake Bot API: files users send", () => {
  it("gives a user's document a file_path with getFile and serves its bytes over HTTP, like Telegram", async () => {
    const server = await startFakeBotApiServer();
    try {
      const fake = server.fake;
      const doc = fake.userDocument(Buffer.from("topic,question\n"), "cau hỏi.csv");
      expect(doc).toMatchObject({ file_name: "cau hỏi.csv", mime_type: "text/csv", file_size: 15 });
      fake.enqueueUpdate(documentMessage(makeUser(42), doc));
      const file = fake.call("getFile", { file_id: doc.file_id });
      expect(file).toMatchObject({ ok: true, result: { file_id: doc.file_id, file_size: 15, file_path: expect.stringMatching(/^documents\/file_.+\.csv$/) } });
      const path = (file as { result: { file_path: string } }).result.file_path;
      const bytes = await fetch(`${server.url}/file/bot${fake.token}/${path}`);
      expect(bytes.status).toBe(200);
      expect(await bytes.text()).toBe("topic,question\n");
      expect((await fetch(`${server.url}/file/bot123:wrong/${path}`)).status).toBe(401);
      expect(await (await fetch(`${server.url}/file/bot${fake.token}/documents/nothing.csv`)).json()).toEqual({ ok: false, error_code: 404, description: "Not Found" });
      expect(fake.call("getFile", { file_id: "no-such-file" })).toEqual({ ok: false, error_code: 400, description: "Bad Request: invalid file_id" });
    } finally {
      await server.close();
    }
  });

  it("does not pretend to know the bytes of a document it never saw", () => {
    const fake = new FakeTelegram();
    const update = documentMessage(makeUser(43), { file_id: "BQAChandmade", file_unique_id: "AgADhand", file_name: "x.csv", file_size: 10 });
    fake.enqueueUpdate(update);
    expect(() => fake.call("getFile", { file_id: "BQAChandmade" })).toThrow(/userDocument/);
  });
});
