import type { Scope } from "../../domain/users/user-service.js";
import { communeLabel, provinceLabel } from "../../domain/geo/labels.js";
import { escapeHtml } from "../../i18n.js";
import type { BotContext } from "../context.js";

/** "Xã Lũng Cú, Tuyên Quang — Đồn Biên phòng Lũng Cú", HTML-escaped, for officer scopes. */
export async function describeScope(ctx: BotContext, scope: Scope): Promise<string> {
  const geo = ctx.deps.services.geo;
  const parts: string[] = [];
  const commune = scope.communeCode ? await geo.getCommune(scope.communeCode) : undefined;
  if (commune) parts.push(communeLabel(commune, ctx.locale));
  const province = scope.provinceCode ? await geo.getProvince(scope.provinceCode) : undefined;
  if (province) parts.push(provinceLabel(province, ctx.locale, commune ? "short" : "full"));
  let text = parts.join(", ") || ctx.t("admin:scope.nationwide");
  if (scope.unitName) text += ` — ${scope.unitName}`;
  return escapeHtml(text);
}
