/**
 * What a session card shows (the session, its centre and place) and its calendar file. The `ics`
 * library writes the iCalendar text (escaping, line folding, UID/DTSTAMP): times are written in
 * UTC ("…Z"), which every calendar shows in the reader's own zone, so 8:00 in Vietnam stays 8:00
 * there and is right anywhere else.
 */
import type { EventAttributes } from "ics";
import type { PrismaClient } from "../../generated/prisma/client.js";
import type { SessionTopic } from "./model.js";
import type { NearbySessions } from "./nearby.js";

export interface SessionView {
  id: number;
  title: string;
  topic: SessionTopic | string;
  startsAt: Date;
  durationMin: number;
  capacity: number;
  confirmedCount: number;
  waitingCount: number;
  speaker: string | null;
  organiserBody: string | null;
  description: string | null;
  state: "scheduled" | "cancelled";
  demo: boolean;
  center: { id: number; name: string; address: string; lat: number; lon: number; provinceCode: string; communeCode: string };
}

/** The nearby search (src/domain/sessions/nearby.ts), as the residents' feature uses it. */
export type NearbyFinder = Pick<NearbySessions, "nearest" | "forCommune">;

export class SessionCards {
  constructor(private readonly prisma: PrismaClient) {}

  /** The registered person's own commune: where the list starts without a shared location. */
  async homeCommune(userId: string): Promise<string | undefined> {
    const c = await this.prisma.learningCitizen.findUnique({ where: { userId: BigInt(userId) }, select: { communeCode: true } });
    return c?.communeCode;
  }

  async get(sessionId: number): Promise<SessionView | undefined> {
    const s = await this.prisma.learningSession.findUnique({
      where: { id: sessionId },
      include: { center: { select: { id: true, name: true, address: true, lat: true, lon: true, provinceCode: true, communeCode: true } } },
    });
    if (!s) return undefined;
    return {
      id: s.id, title: s.title, topic: s.topic, startsAt: s.startsAt, durationMin: s.durationMin, capacity: s.capacity,
      confirmedCount: s.confirmedCount, waitingCount: s.waitingCount, speaker: s.speaker, organiserBody: s.organiserBody,
      description: s.description, state: s.state, demo: s.demo, center: s.center,
    };
  }
}

/** An iCalendar file for one session (a cancelled one is written as CANCELLED, so calendars drop it). */
export async function sessionIcs(s: SessionView, opts: { placeLabel: string; url?: string; description?: string }): Promise<string> {
  // Loaded when a calendar file is asked for: the library (and its validator) stays out of memory until then.
  const { createEvent } = await import("ics");
  const start = s.startsAt;
  const event: EventAttributes = {
    uid: `session-${s.id}@khuyenhoc-bot`,
    start: [start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate(), start.getUTCHours(), start.getUTCMinutes()],
    startInputType: "utc",
    startOutputType: "utc",
    duration: { hours: Math.floor(s.durationMin / 60), minutes: s.durationMin % 60 },
    title: s.title,
    location: `${s.center.name}, ${s.center.address}, ${opts.placeLabel}`,
    geo: { lat: s.center.lat, lon: s.center.lon },
    status: s.state === "cancelled" ? "CANCELLED" : "CONFIRMED",
    productId: "khuyenhoc-bot",
    ...(opts.description ? { description: opts.description } : {}),
    ...(opts.url ? { url: opts.url } : {}),
    alarms: [{ action: "display", description: s.title, trigger: { hours: 1, minutes: 0, before: true } }],
  };
  const { error, value } = createEvent(event);
  if (error || !value) throw error ?? new Error("ics: no calendar produced");
  return value;
}
