import type { Api } from "grammy";
import type { BotCommand } from "grammy/types";
import { DEFAULT_LOCALE, LOCALES, type I18n } from "../i18n.js";

export const PUBLIC_COMMANDS = ["start", "me", "edit", "language", "mydata", "deleteme", "privacy", "cancel", "help"] as const;

export function commandList(i18n: I18n, locale: (typeof LOCALES)[number]): BotCommand[] {
  const t = i18n.t(locale);
  return PUBLIC_COMMANDS.map((command) => ({ command, description: t(`common:commands.${command}`) }));
}

/** Command menus per language: Vietnamese is the default for every client, English for English ones. */
export async function setCommandMenus(api: Api, i18n: I18n): Promise<void> {
  await api.setMyCommands(commandList(i18n, DEFAULT_LOCALE), { scope: { type: "all_private_chats" } });
  for (const locale of LOCALES) {
    await api.setMyCommands(commandList(i18n, locale), { scope: { type: "all_private_chats" }, language_code: locale });
  }
}
