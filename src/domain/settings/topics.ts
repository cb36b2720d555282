/**
 * The kinds of messages a person can switch off in /settings. Data, not code: each feature that
 * starts messages of its own registers its topic (in createDeps), and /settings, the mute button
 * and the audience queries all read this one catalogue.
 */

/** Topic keys: ≤ 32 characters (topic_mutes.topic), lower case, one optional ":" ("ann:police"). */
const TOPIC_KEY = /^[a-z][a-z_]*(:[a-z][a-z_]*)?$/;
export const TOPIC_KEY_MAX = 32;

export interface TopicDefinition {
  /** Stored in topic_mutes.topic and carried in callback data, e.g. "ann:police", "quiz_daily". */
  key: string;
  /** Full i18n key (with namespace) naming what is switched off, e.g. "settings:topics.ann_police". */
  labelKey: string;
  /** Section of /settings it is listed in; its heading is `settings:groups.<group>` when that exists. */
  group: string;
}

export class UnknownTopicError extends Error {
  constructor(readonly topic: string) {
    super(`unknown topic: ${JSON.stringify(topic).slice(0, 80)}`);
    this.name = "UnknownTopicError";
  }
}

export function isTopicKeyShape(key: string): boolean {
  return key.length <= TOPIC_KEY_MAX && TOPIC_KEY.test(key);
}

export class TopicCatalogue {
  private readonly topics = new Map<string, TopicDefinition>();

  register(topic: TopicDefinition): this {
    if (!isTopicKeyShape(topic.key)) throw new Error(`topic key must match ${TOPIC_KEY} and be ≤ ${TOPIC_KEY_MAX} characters: ${topic.key}`);
    if (this.topics.has(topic.key)) throw new Error(`topic "${topic.key}" registered twice`);
    this.topics.set(topic.key, { ...topic });
    return this;
  }

  has(key: string): boolean {
    return this.topics.has(key);
  }

  get(key: string): TopicDefinition | undefined {
    return this.topics.get(key);
  }

  /** The topic, or UnknownTopicError: for data that came from outside (callback data, job payloads). */
  require(key: string): TopicDefinition {
    const topic = this.topics.get(key);
    if (!topic) throw new UnknownTopicError(key);
    return topic;
  }

  /** Every topic, grouped: groups in the order they first appeared, topics in registration order. */
  list(): TopicDefinition[] {
    const groups = [...new Set([...this.topics.values()].map((t) => t.group))];
    return groups.flatMap((g) => [...this.topics.values()].filter((t) => t.group === g));
  }

  keys(): string[] {
    return this.list().map((t) => t.key);
  }
}

/**
 * The bodies officers broadcast in the name of (the Affiliation enum without "resident", with
 * shorter names); Broadcast.senderBody holds one of them.
 */
export const ANNOUNCEMENT_BODIES = ["association", "military_command", "police", "border_guard", "other"] as const;
export type AnnouncementBody = (typeof ANNOUNCEMENT_BODIES)[number];

export const ANNOUNCEMENTS_GROUP = "announcements";

/** The topic of announcements sent in the name of one body: "ann:police". */
export function announcementTopic(body: AnnouncementBody): string {
  return `ann:${body}`;
}

/** The sender body for an officer's affiliation (association_member → association, …); residents have none. */
export function announcementBodyOf(affiliation: string): AnnouncementBody | undefined {
  switch (affiliation) {
    case "association_member":
      return "association";
    case "other_organisation":
      return "other";
    case "military_command":
    case "police":
    case "border_guard":
      return affiliation;
    default:
      return undefined;
  }
}

/** A catalogue holding today's topics (one per announcing body); features add theirs with register(). */
export function createTopicCatalogue(): TopicCatalogue {
  const catalogue = new TopicCatalogue();
  for (const body of ANNOUNCEMENT_BODIES) {
    catalogue.register({ key: announcementTopic(body), labelKey: `settings:topics.ann_${body}`, group: ANNOUNCEMENTS_GROUP });
  }
  return catalogue;
}
