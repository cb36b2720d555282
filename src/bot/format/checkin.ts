import { formatSessionTime } from "../../domain/sessions/model.js";
import type { CheckInResult } from "../../domain/sessions/signups.js";
import { escapeHtml, type TFunction } from "../../i18n.js";

const raw = { interpolation: { escapeValue: false } } as const;

/** What the person is told after scanning a check-in QR code. */
export function checkInText(t: TFunction, locale: string, r: CheckInResult): string {
  const title = "title" in r ? escapeHtml(r.title) : "";
  switch (r.status) {
    case "checked_in":
      return t(r.walkIn ? "sessions:checkin.done_walk_in" : "sessions:checkin.done", { title, ...raw });
    case "already":
      return t("sessions:checkin.already", { title, when: formatSessionTime(r.at, locale), ...raw });
    case "outside":
      return r.ended
        ? t("sessions:checkin.ended", { title, closes: formatSessionTime(r.closesAt, locale), ...raw })
        : t("sessions:checkin.not_yet", { title, opens: formatSessionTime(r.opensAt, locale), closes: formatSessionTime(r.closesAt, locale), ...raw });
    case "cancelled":
      return t("sessions:checkin.cancelled", { title, ...raw });
    case "not_found":
      return t("sessions:checkin.not_found");
  }
}
