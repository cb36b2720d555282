// Strict fake Telegram Bot API for tests. See rules.ts for the simulated
// behaviour, client-fetch.ts for in-process grammY use and http-server.ts for
// running the real bot process against it.

export * from "./rules.js";
export { parseTelegramHtml, HtmlParseError, type ParsedEntity, type ParsedText } from "./html-parser.js";
export { createFakeFetch } from "./client-fetch.js";
export { fileDownload, type FileDownload } from "./files.js";
export { startFakeBotApiServer, type FakeBotApiServer, type FakeBotApiServerOptions } from "./http-server.js";
export { WebhookDeliverer, type WebhookDelivery, type WebhookDeliveryOptions } from "./webhook-delivery.js";
export { LongPollCoordinator, longPollFor, type AbortSignalLike } from "./long-poll.js";
export { parseBotApiPath, parseMultipart, parseRequestBody } from "./transport.js";
export * from "./updates.js";
