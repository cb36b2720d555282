import type { Api } from "grammy";
import type { BotCommand } from "grammy/types";
import type { Role } from "../domain/users/user-service.js";
import { DEFAULT_LOCALE, LOCALES, type I18n, type Locale } from "../i18n.js";

export const PUBLIC_COMMANDS = ["start", "me", "edit", "language", "mydata", "deleteme", "privacy", "cancel", "help"] as const;
const ROLE_COMMANDS: Partial<Record<Role, readonly string[]>> = {
  officer: ["unit"],
  admin: ["unit", "invite", "officers"],
};

export function commandList(i18n: I18n, locale: Locale, role: Role = "resident"): BotCommand[] {
  const t = i18n.t(locale);
  return [...PUBLIC_COMMANDS, ...(ROLE_COMMANDS[role] ?? [])].map((command) => ({ command, description: t(`common:commands.${command}`) }));
}

/** Command menus per language: Vietnamese is the default for every client, English for English ones. */
export async function setCommandMenus(api: Api, i18n: I18n): Promise<void> {
  await api.setMyCommands(commandList(i18n, DEFAULT_LOCALE), { scope: { type: "all_private_chats" } });
  for (const locale of LOCALES) {
    await api.setMyCommands(commandList(i18n, locale), { scope: { type: "all_private_chats" }, language_code: locale });
  }
}

/**
 * The menu of one person's chat, by role: officers and admins see their commands too; others get
 * the public menu back. Only a convenience: every command checks the role again on the server.
 */
export async function setChatMenu(api: Api, i18n: I18n, chatId: number, role: Role): Promise<void> {
  const scope = { type: "chat" as const, chat_id: chatId };
  if (!ROLE_COMMANDS[role]) {
    await api.deleteMyCommands({ scope });
    for (const locale of LOCALES) await api.deleteMyCommands({ scope, language_code: locale });
    return;
  }
  await api.setMyCommands(commandList(i18n, DEFAULT_LOCALE, role), { scope });
  for (const locale of LOCALES) await api.setMyCommands(commandList(i18n, locale, role), { scope, language_code: locale });
}
