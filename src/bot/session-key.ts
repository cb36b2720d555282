import type { Context } from "grammy";

/**
 * The one key function for `sequentialize`, sessions and conversations: the chat, else the
 * person. In private chats the chat id equals the user id, so a poll answer (no chat; its person
 * is `poll_answer.user`, which `ctx.from` does not cover) lands on that person's private key.
 */
export function sessionKey(ctx: Context): string | undefined {
  return (ctx.chatId ?? ctx.from?.id ?? ctx.pollAnswer?.user?.id)?.toString();
}
