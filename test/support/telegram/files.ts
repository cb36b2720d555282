// File downloads: `<apiRoot>/file/bot<token>/<file_path>`, where file_path comes from getFile.
// Telegram answers with the raw bytes; a wrong token or path gets its JSON error.

import type { FakeTelegram } from "./rules.js";

export interface FileDownload {
  status: number;
  contentType: string;
  body: Buffer;
}

/** The download of a path like `/file/bot<token>/documents/file_1.csv`, or undefined for any other path. */
export function fileDownload(fake: FakeTelegram, pathname: string): FileDownload | undefined {
  const match = /\/file\/bot([^/]+)\/(.+)$/.exec(pathname);
  if (match === null) return undefined;
  const json = (status: number, description: string): FileDownload => ({
    status,
    contentType: "application/json",
    body: Buffer.from(JSON.stringify({ ok: false, error_code: status, description })),
  });
  if (!fake.isAuthorized(decodeURIComponent(match[1] ?? ""))) return json(401, "Unauthorized");
  const content = fake.fileContent(decodeURIComponent(match[2] ?? ""));
  if (content === undefined) return json(404, "Not Found");
  return { status: 200, contentType: "application/octet-stream", body: content };
}
