import type { Api } from "grammy";
import type { BotCommand } from "grammy/types";
import { roleAtLeast, type Role } from "../domain/users/user-service.js";
import { DEFAULT_LOCALE, LOCALES, type I18n, type Locale, type TFunction } from "../i18n.js";

/**
 * The bot's commands in one place: the menus, /help and the greeting are all built from here.
 * `role` is the least role that may use the command (every command checks it again on the server).
 */
export const COMMANDS: ReadonlyArray<{ command: string; role: Role }> = [
  { command: "start", role: "resident" },
  { command: "me", role: "resident" },
  { command: "edit", role: "resident" },
  { command: "language", role: "resident" },
  { command: "quiz", role: "resident" },
  { command: "myquiz", role: "resident" },
  { command: "sessions", role: "resident" },
  { command: "mysessions", role: "resident" },
  { command: "scholarships", role: "resident" },
  { command: "family", role: "resident" },
  { command: "settings", role: "resident" },
  { command: "leaderboard", role: "resident" },
  { command: "mydata", role: "resident" },
  { command: "deleteme", role: "resident" },
  { command: "privacy", role: "resident" },
  { command: "cancel", role: "resident" },
  { command: "help", role: "resident" },
  { command: "unit", role: "officer" },
  { command: "broadcast", role: "officer" },
  { command: "broadcasts", role: "officer" },
  { command: "quizprompt", role: "officer" },
  { command: "quizimport", role: "officer" },
  { command: "quizquestions", role: "officer" },
  { command: "invite", role: "admin" },
  { command: "officers", role: "admin" },
  { command: "contest", role: "resident" },
  { command: "contest_new", role: "officer" },
  { command: "contests", role: "officer" },
  { command: "centers", role: "officer" },
  { command: "center_new", role: "officer" },
  { command: "importcenters", role: "officer" },
  { command: "session_new", role: "officer" },
  { command: "sessions_admin", role: "officer" },
  { command: "mynominations", role: "resident" },
  // Anyone may nominate (residents their own child, from a round's card); the menu shows it to officers.
  { command: "nominate", role: "officer" },
  { command: "scholarship_new", role: "officer" },
  { command: "scholarships_admin", role: "officer" },
  // Units (issue 11), import and learning units: a unit's heads are residents as often as officers.
  { command: "learning_unit", role: "resident" },
  { command: "learning_units", role: "officer" },
  { command: "importunits", role: "officer" },
  { command: "myunits", role: "resident" },
  { command: "unit_new", role: "officer" },
  { command: "units", role: "officer" },
  // Programmes and targets (issue 11): a unit's heads see their unit's scoreboard without a role.
  { command: "targets", role: "resident" },
  { command: "programmes", role: "officer" },
  { command: "programme_new", role: "officer" },
  { command: "report", role: "officer" },
  { command: "report_schedule", role: "officer" },
];

/**
 * What the bot can do, one line each in the greeting: only what exists. A feature adds its
 * line here when it lands (sessions, quizzes, scholarships…).
 */
export const GREETING_LINES: readonly string[] = ["common:start.line_register", "common:start.line_quiz", "common:start.line_sessions", "common:start.line_scholarships", "families:start_line"];

export function commandList(i18n: I18n, locale: Locale, role: Role = "resident"): BotCommand[] {
  const t = i18n.t(locale);
  return COMMANDS.filter((c) => roleAtLeast(role, c.role)).map(({ command }) => ({ command, description: t(`common:commands.${command}`) }));
}

/** /help: the caller's commands, grouped by the role that opens them. */
export function helpText(t: TFunction, role: Role): string {
  const sections: Role[] = ["resident", "officer", "admin"];
  return sections
    .filter((section) => roleAtLeast(role, section))
    .map((section) => {
      const lines = COMMANDS.filter((c) => c.role === section).map(({ command }) => `/${command} – ${t(`common:commands.${command}`)}`);
      const extra = t(`common:help.extra_${section}`, { defaultValue: "" });
      return [t(`common:help.title_${section}`), ...lines, ...(extra ? [extra] : [])].join("\n");
    })
    .join("\n\n");
}

/** Command menus per language: Vietnamese is the default for every client, English for English ones. */
export async function setCommandMenus(api: Api, i18n: I18n): Promise<void> {
  await api.setMyCommands(commandList(i18n, DEFAULT_LOCALE), { scope: { type: "all_private_chats" } });
  for (const locale of LOCALES) {
    await api.setMyCommands(commandList(i18n, locale), { scope: { type: "all_private_chats" }, language_code: locale });
  }
}

/** The texts of the empty chat screen and of the bot's profile, in both languages. */
export async function setBotProfile(api: Api, i18n: I18n): Promise<void> {
  const t = i18n.t(DEFAULT_LOCALE);
  await api.setMyDescription(t("common:profile.description"));
  await api.setMyShortDescription(t("common:profile.short_description"));
  for (const locale of LOCALES) {
    const tl = i18n.t(locale);
    await api.setMyDescription(tl("common:profile.description"), { language_code: locale });
    await api.setMyShortDescription(tl("common:profile.short_description"), { language_code: locale });
  }
}

/**
 * The menu of one person's chat, by role: officers and admins see their commands too; others get
 * the public menu back. Only a convenience: every command checks the role again on the server.
 */
export async function setChatMenu(api: Api, i18n: I18n, chatId: number, role: Role): Promise<void> {
  const scope = { type: "chat" as const, chat_id: chatId };
  if (!roleAtLeast(role, "officer")) {
    await api.deleteMyCommands({ scope });
    for (const locale of LOCALES) await api.deleteMyCommands({ scope, language_code: locale });
    return;
  }
  await api.setMyCommands(commandList(i18n, DEFAULT_LOCALE, role), { scope });
  for (const locale of LOCALES) await api.setMyCommands(commandList(i18n, locale, role), { scope, language_code: locale });
}
