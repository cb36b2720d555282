import type { BotConfig } from "grammy";
import type { BotContext } from "../context.js";

/** The bytes of a file a person sent (getFile, then the file URL); throws when Telegram cannot give them. */
export type FileDownloader = (ctx: BotContext, fileId: string) => Promise<Uint8Array>;

const DOWNLOAD_TIMEOUT_MS = 30_000;

/**
 * Downloads through the same API root and fetch as the bot's API client, so a local Bot API server
 * and the tests' fake Telegram serve files too. (A local server in --local mode hands out absolute
 * disk paths instead: not supported here.)
 */
export function fileDownloader(token: string, client: BotConfig<BotContext>["client"] = {}): FileDownloader {
  const apiRoot = client.apiRoot ?? "https://api.telegram.org";
  const fetchFn = (client.fetch as typeof fetch | undefined) ?? fetch;
  return async (ctx, fileId) => {
    const file = await ctx.api.getFile(fileId);
    if (!file.file_path) throw new Error("getFile returned no file_path");
    const response = await fetchFn(`${apiRoot}/file/bot${token}/${file.file_path}`, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`file download failed with HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
}
