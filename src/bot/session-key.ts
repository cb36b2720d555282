import type { Context } from "grammy";

/**
 * The one key function for `sequentialize`, sessions and conversations. In private chats the
 * chat id equals the user id, so updates without a chat (poll answers) land on the same key.
 */
export function sessionKey(ctx: Context): string | undefined {
  return (ctx.chatId ?? ctx.from?.id)?.toString();
}
