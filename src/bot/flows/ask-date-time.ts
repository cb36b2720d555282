import { z } from "zod";
import { parseVnDateTime } from "../../domain/time/vietnam-time.js";
import type { ConvContext, Convo } from "../context.js";
import { formatDateTime } from "../format/dates.js";
import { runStep, type Back, type BackOption } from "./engine.js";

export interface DateTimeOptions {
  question(c: ConvContext): string;
  back?: BackOption;
  /** Echo label, e.g. "Thời gian" → "✅ Thời gian: 08:00 ngày 20/12/2026". */
  label?: string;
}

const input = z.string().trim().min(3).max(60);

/** A future date and time in Vietnam's time zone, as an ISO string (conversation state is JSON). */
export async function askDateTime(conversation: Convo, ctx: ConvContext, opts: DateTimeOptions): Promise<string | Back> {
  return runStep<string>(conversation, ctx, {
    question: opts.question,
    back: opts.back,
    hint: "common:datetime.hint",
    echo: opts.label ? (c, iso) => c.t("common:flow.echo", { label: c.t(opts.label!), value: formatDateTime(iso, c.locale) }) : undefined,
    accept: async (c) => {
      const text = c.message?.text;
      if (text === undefined) return undefined;
      if (!input.safeParse(text).success) return { retry: "common:datetime.format" };
      const now = new Date(await conversation.now());
      const parsed = parseVnDateTime(text, now);
      return parsed.ok ? { done: parsed.at.toISOString() } : { retry: `common:datetime.${parsed.reason}` };
    },
  });
}
