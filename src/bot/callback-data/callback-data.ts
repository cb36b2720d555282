import { z } from "zod";
import { LOCALES } from "../../i18n.js";
import { AFFILIATIONS, GOALS } from "../../domain/citizens/inputs.js";
import { AUDIENCE_ROLES, SENDER_BODIES } from "../../domain/broadcasts/audience.js";
import { ORGANISER_BODIES, SESSION_TOPICS } from "../../domain/sessions/model.js";
import { CIRCUMSTANCES, RELATIONSHIPS, ROUND_BODIES, SCHOOL_LEVELS } from "../../domain/scholarships/model.js";
import { UNIT_BODIES, UNIT_KINDS } from "../../domain/units/model.js";
import { isTargetMetric, TARGET_METRICS, type ScoreScope, type TargetMetric } from "../../domain/targets/model.js";

const SCOPE_TOKEN = "(p|c\\d{5}|u\\d{1,9})";
const METRIC_TOKEN = `(${TARGET_METRICS.join("|")})`;

const MAX_BYTES = 64;

/** Typed callback data "<prefix>:<arg>": packed ≤ 64 bytes, validated with zod when it comes back. */
export interface CallbackCodec<T> {
  prefix: string;
  pack(arg: T): string;
  unpack(data: string | undefined): T | undefined;
  /** Matches any data with this prefix, valid or forged (for `bot.callbackQuery`). */
  pattern: RegExp;
}

function codec<T extends string>(prefix: string, schema: z.ZodType<T>): CallbackCodec<T> {
  return {
    prefix,
    pack(arg) {
      // The type checks what we pack; zod checks what comes back (unpack), which may be forged.
      const data = `${prefix}:${arg}`;
      if (Buffer.byteLength(data, "utf8") > MAX_BYTES) throw new Error(`callback data over ${MAX_BYTES} bytes: ${data}`);
      return data;
    },
    unpack(data) {
      if (!data?.startsWith(prefix + ":")) return undefined;
      const parsed = schema.safeParse(data.slice(prefix.length + 1));
      return parsed.success ? parsed.data : undefined;
    },
    pattern: new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:`),
  };
}

const provinceCode = z.string().regex(/^\d{2}$/);
const communeCode = z.string().regex(/^\d{5}$/);
export const EDITABLE_FIELDS = ["fullName", "birthYear", "place", "affiliation", "goals", "phone"] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];
/** "on:<topic>" / "off:<topic>": the state a button asks for, so a double tap cannot flip it back. */
export type TopicSwitch = `${"on" | "off"}:${string}`;
// Only the shape is checked here; the handler checks the topic against the catalogue.
const topicSwitch = z.string().max(36).regex(/^(on|off):[a-z][a-z_]*(:[a-z][a-z_]*)?$/) as unknown as z.ZodType<TopicSwitch>;

/** A leaderboard view: board (people, communes, units), period (week, all time), scope (nationwide, my province). */
export type BoardView = `${"p" | "c" | "u"}.${"w" | "a"}.${"n" | "p"}`;
const boardView = z.string().regex(/^[pcu]\.[wa]\.[np]$/) as unknown as z.ZodType<BoardView>;
/** The name opt-in asked for ("1" show, "0" hide), with the view to redraw. */
export type BoardNameSwitch = `${"0" | "1"}.${BoardView}`;
const boardNameSwitch = z.string().regex(/^[01]\.[pcu]\.[wa]\.[np]$/) as unknown as z.ZodType<BoardNameSwitch>;

export const cb = {
  // outside conversations
  language: codec("lang", z.enum(LOCALES)),
  register: codec("reg", z.literal("start")),
  privacyNotice: codec("pn", z.literal("full")),
  editField: codec("edit", z.enum(EDITABLE_FIELDS)),
  deleteMe: codec("del", z.enum(["yes", "no"])),
  officerStats: codec("off", z.literal("stats")),
  adminInvite: codec("adm:inv", provinceCode),
  // Telegram ids fit in 52 bits: at most 16 digits, so a forged id cannot overflow a bigint.
  adminRevoke: codec("adm:rev", z.string().regex(/^\d{1,16}$/)),
  // /settings toggles, and the mute button under messages the bot starts (broadcasts, reminders)
  settingsTopic: codec("set", topicSwitch),
  muteTopic: codec("mute", topicSwitch),
  // the step engine
  flowBack: codec("f:back", z.literal("go")),
  // inside the registration and edit conversations
  consent: codec("r:consent", z.enum(["yes", "no", "full"])),
  guardian: codec("r:guard", z.enum(["yes", "no"])),
  oneWordName: codec("r:name1", z.enum(["yes", "retype"])),
  province: codec("p:prov", z.union([provinceCode, z.literal("retype")])),
  commune: codec("p:com", z.union([communeCode, z.literal("none")])),
  affiliation: codec("r:aff", z.enum(AFFILIATIONS)),
  goal: codec("r:goal", z.union([z.enum(GOALS), z.literal("done")])),
  summary: codec("r:sum", z.enum(["ok", "edit"])),
  summaryField: codec("r:ef", z.enum(EDITABLE_FIELDS)),
  // broadcasts: the /broadcast conversation
  bcBody: codec("bc:body", z.enum(SENDER_BODIES)),
  bcAudience: codec("bc:aud", z.union([
    z.enum(["prov", "com", "wide", "nation", "unit", "goal", "next", "cancel"]),
    z.templateLiteral(["role.", z.enum(AUDIENCE_ROLES)]),
    z.templateLiteral(["aff.", z.enum(AFFILIATIONS)]),
  ])),
  bcGoal: codec("bc:goal", z.union([z.enum(GOALS), z.literal("any")])),
  bcSend: codec("bc:send", z.enum(["now", "later", "cancel"])),
  // broadcasts: approvers' decisions (a/r + id), stop (id), failures' CSV (id)
  bcDecide: codec("bca", z.string().regex(/^[ar]\.\d{1,9}$/)),
  bcCancel: codec("bcx", z.string().regex(/^\d{1,9}$/)),
  bcCsv: codec("bcr", z.string().regex(/^\d{1,9}$/)),
  // quizzes: a topic for /quiz, the round in progress, the daily question's time ("HHMM") or off
  quizTopic: codec("qz:t", z.union([z.literal("mixed"), z.string().regex(/^[a-z0-9-]{1,32}$/)])),
  quizRound: codec("qz:r", z.enum(["go", "stop"])),
  quizDaily: codec("qz:d", z.union([z.enum(["off", "menu"]), z.string().regex(/^([01]\d|2[0-3])[0-5]\d$/)])),
  // quiz prompts (/quizprompt): topic, question toggles (index in the topic's list), close time
  bcQuizTopic: codec("bc:qt", z.string().regex(/^[a-z0-9-]{1,32}$/)),
  bcQuizPick: codec("bc:qq", z.union([z.enum(["done", "topic", "prev", "next"]), z.string().regex(/^t\.\d{1,2}$/)])),
  bcQuizClose: codec("bc:qc", z.enum(["1h", "24h", "3d"])),
  // a quiz prompt's figures: r = refresh the message it is on, n = a new message (from /broadcasts)
  bcResults: codec("bcq", z.string().regex(/^[nr]\.\d{1,9}$/)),
  // /quizquestions: a page (p.<page>), retire? (r.<page>.<id>), retire! (y.<page>.<id>)
  quizQuestions: codec("qimp", z.string().regex(/^(p\.\d{1,4}|[ry]\.\d{1,4}\.[a-z0-9-]{1,40})$/)),
  // quiz leaderboards: switching the view in place, and the name opt-in
  leaderboard: codec("lb", boardView),
  leaderboardName: codec("lbn", boardNameSwitch),
  // contests: the /contest_new conversation (scope, topic, how many questions, when it opens, confirm)
  ctScope: codec("ct:sc", z.enum(["nation", "own"])),
  ctTopic: codec("ct:t", z.union([z.literal("mixed"), z.string().regex(/^[a-z0-9-]{1,32}$/)])),
  ctCount: codec("ct:n", z.string().regex(/^\d{1,2}$/)),
  ctOpen: codec("ct:o", z.enum(["now", "later"])),
  ctConfirm: codec("ct:ok", z.enum(["yes", "no"])),
  // contests: an attempt (contest id), an officer's ranking and CSV export (contest id)
  ctPlay: codec("ctp", z.string().regex(/^\d{1,9}$/)),
  ctRank: codec("ctr", z.string().regex(/^\d{1,9}$/)),
  ctCsv: codec("ctc", z.string().regex(/^\d{1,9}$/)),
  // contests: an officer's XLSX export (contest id)
  ctXlsx: codec("ctx", z.string().regex(/^\d{1,9}$/)),
  // sessions (issue 9): a resident's actions on a session card ("<action>.<session id>"); "leave"
  // also gives back a seat a promotion brought
  session: codec("ses", z.string().regex(/^(open|join|leave|map|ics|share)\.\d{1,9}$/)),
  // sessions: the nearby list's page and topic filter: "<where>|<topic|all>|<page>", where is
  // "g<lat>,<lon>" (a shared location, 4 decimals) or "c<commune code>"
  nearby: codec("nb", z.string().regex(/^(g-?\d{1,2}\.\d{1,4},-?\d{1,3}\.\d{1,4}|c\d{5})\|[a-z_]{1,16}\|\d{1,3}$/)),
  // learning centres (officers): a list page (p.<page>), a centre's card (e.<id>), change a field
  // of it (f.<id>.<field>); every press checks role and scope again
  center: codec("ce", z.string().regex(/^(p\.\d{1,4}|e\.\d{1,9}|f\.\d{1,9}\.(name|address|commune|location))$/)),
  // the /center_new conversation's confirm
  centerConfirm: codec("cen", z.enum(["yes", "no"])),
  // sessions, officers: an action on one session ("<action>.<session id>"; "…ok" confirms)
  sessionAdmin: codec("sa", z.string().regex(/^(menu|stats|edit|move|cancel|cancelok|qr|rotate|rotateok|csv)\.\d{1,9}$/)),
  // sessions, officers: the list (u = upcoming, p = past) and its page
  sessionAdminList: codec("sal", z.string().regex(/^[up]\.\d{1,3}$/)),
  // sessions, officers: the field to edit ("<field>.<session id>")
  sessionAdminEdit: codec("sae", z.string().regex(/^(title|topic|start|duration|capacity|speaker|body|description)\.\d{1,9}$/)),
  // inside the /session_new and edit conversations: centre (id or "p.<page>"), topic, duration,
  // organiser body, skip an optional answer, confirm
  snCenter: codec("sn:c", z.string().regex(/^(\d{1,9}|p\.\d{1,3})$/)),
  snTopic: codec("sn:t", z.enum(SESSION_TOPICS)),
  snDuration: codec("sn:d", z.enum(["30", "60", "90", "120"])),
  snBody: codec("sn:b", z.union([z.enum(ORGANISER_BODIES), z.literal("skip")])),
  snSkip: codec("sn:s", z.literal("skip")),
  snConfirm: codec("sn:ok", z.enum(["yes", "no"])),
  // scholarships (issue 10), residents: the /scholarships list page (p.<page>) and a round card's
  // actions ("<action>.<round id>"): open, details, remind me, stop reminding, am I eligible, nominate
  scholarship: codec("sch", z.string().regex(/^(p\.\d{1,3}|(open|det|rem|unrem|elig|nom)\.\d{1,9})$/)),
  // "Am I eligible?" conversation: level (or none), grade, a yes / no / not sure answer
  elLevel: codec("el:l", z.union([z.enum(SCHOOL_LEVELS), z.literal("none")])),
  elGrade: codec("el:g", z.string().regex(/^([1-9]|1[0-2])$/)),
  elAnswer: codec("el:a", z.enum(["yes", "no", "unsure"])),
  // scholarships, officers: the list of their rounds (l.<page>) and an action on one round
  roundAdmin: codec("shra", z.string().regex(/^(l\.\d{1,3}|(v|edit|close|closeok|ext|cancel|cancelok|ann)\.\d{1,9})$/)),
  // scholarships, officers: the field of a round to edit ("<field>.<round id>")
  roundAdminEdit: codec("shre", z.string().regex(/^(programme|year|body|scope|eligibility|rules|award|dates|apply|contact)\.\d{1,9}$/)),
  // the round conversation (/round_new and edit): body, scope, level and circumstance toggles,
  // any/all, skip an optional answer, confirm
  rfBody: codec("rf:b", z.enum(ROUND_BODIES)),
  rfScope: codec("rf:sc", z.enum(["nation", "own"])),
  rfLevel: codec("rf:lv", z.union([z.enum(SCHOOL_LEVELS), z.literal("done")])),
  rfCircumstance: codec("rf:ci", z.union([z.enum(CIRCUMSTANCES), z.literal("done")])),
  rfMode: codec("rf:m", z.enum(["any", "all"])),
  rfSkip: codec("rf:s", z.literal("skip")),
  rfConfirm: codec("rf:ok", z.enum(["yes", "no"])),
  // the round conversation's communes: the whole province, pick some, add another, done
  rfCommunes: codec("rf:cm", z.enum(["all", "pick", "more", "done"])),
  // nominations, the nominator: their list, one nomination, withdraw (ask, then confirm)
  nomination: codec("nom", z.string().regex(/^(list|(v|wd|wdok)\.\d{1,9})$/)),
  // nominations, the round's officers: the list of a round (l.<round>.<page>), one nomination,
  // its status, counts by commune, CSV and XLSX exports
  nominationAdmin: codec("nomo", z.string().regex(/^(l\.\d{1,9}\.\d{1,3}|(v|by|csv|xlsx)\.\d{1,9}|st\.\d{1,9}\.(received|shortlisted|awarded|not_selected))$/)),
  // the nominate conversation: relationship, school level, grade, circumstance toggles, consent, confirm
  nfRelationship: codec("nf:r", z.enum(RELATIONSHIPS)),
  nfLevel: codec("nf:l", z.enum(SCHOOL_LEVELS)),
  nfGrade: codec("nf:g", z.string().regex(/^([1-9]|1[0-2])$/)),
  nfCircumstance: codec("nf:ci", z.union([z.enum(CIRCUMSTANCES), z.literal("done")])),
  nfConsent: codec("nf:cs", z.enum(["yes", "no"])),
  nfConfirm: codec("nf:ok", z.enum(["yes", "no"])),
  // scholarships, residents: the /scholarships list of a province named in the command
  // ("<province>.<page>"), for people not registered or looking at another province than theirs
  scholarshipProvince: codec("schv", z.string().regex(/^\d{2}\.\d{1,3}$/)),
  // scholarships, residents: a button on a card or a verdict that redraws its own message
  // ("<action>.<round id>.<where>"): button presses arrive without their message, so <where> says
  // what it shows: c card, d details (then the list page, and "p<province>" for a named province),
  // v / w the eligibility verdict with / without the nominate button
  scholarshipCard: codec("schc", z.string().regex(/^(open|det|rem|unrem)\.\d{1,9}\.([cd](\d{1,3}(p\d{2})?)?|[vw])$/)),
  // scholarships, officers (added by the rounds part): the round conversation's year buttons (this year, next year)
  rfYear: codec("rf:y", z.string().regex(/^\d{4}$/)),
  // learning families (issue 11, families part): create ("new"), then "<action>.<family id>" —
  // view, invite link, new link (ask, confirm), children in school (ask; yes, no, none), remove
  // (list; "<ask|ok>.<family id>.<member>"), leave (ask, confirm). The family id makes a button of
  // a family the person has since left stale rather than acting on their new one.
  family: codec("fm", z.string().regex(/^(new|(view|inv|rot|rotok|kids|kidy|kidn|kidz|rm|leave|leaveok)\.\d{1,9}|(rmask|rmok)\.\d{1,9}\.\d{1,16})$/)),
  // units, import and learning units (issue 11): the /learning_unit flow's unit (its id) and
  // checklist toggles (item index) or send; officers' pending list (p.<page>), a unit's
  // self-assessment (v.<id>), approve (a.<id>), return with a reason (r.<id>)
  ulUnit: codec("ulu", z.string().regex(/^\d{1,9}$/)),
  ulCheck: codec("ulc", z.union([z.string().regex(/^\d{1,2}$/), z.literal("send")])),
  ulDecide: codec("uld", z.string().regex(/^(p\.\d{1,3}|[var]\.\d{1,9})$/)),
  // units (issue 11), the units part: officers' /units page (l.<page>) and an action on one unit
  // ("<action>.<unit id>", then a field, a page or a member's Telegram id); heads open the member
  // actions from /myunits. Every press re-reads role, scope and headship.
  unit: codec("un", z.string().regex(/^(l\.\d{1,4}|(v|e|q|r|ro|d|do|h|m|t)\.\d{1,9}|f\.\d{1,9}\.(name|kind|body|parent|headcount)|(ha|ml)\.\d{1,9}\.\d{1,3}|(hp|hr|mr|mo)\.\d{1,9}\.\d{1,16})$/)),
  // a unit's join link opened: join (the token, checked again on press) or not now
  unitJoin: codec("unj", z.union([z.string().regex(/^[A-Za-z0-9_-]{24}$/), z.literal("no")])),
  // /myunits: the list again, leave a unit (ask, then confirm)
  myUnits: codec("unm", z.string().regex(/^(l|(lv|lo)\.\d{1,9})$/)),
  // the registration's "join unit X?" (the unit id, matched again from the saved card on press) or no
  unitOffer: codec("uno", z.union([z.string().regex(/^\d{1,9}$/), z.literal("no")])),
  // the /unit_new and unit edit conversations: kind, body, parent (id, page, none), confirm
  unKind: codec("unk", z.enum(UNIT_KINDS)),
  unBody: codec("unb", z.enum(UNIT_BODIES)),
  unParent: codec("unp", z.string().regex(/^(\d{1,9}|p\.\d{1,3}|none)$/)),
  unConfirm: codec("unc", z.enum(["yes", "no"])),
  // programmes and targets (issue 11), the programmes part. /programmes: the list (l), a card
  // (v.<id>), edit menu (e.<id>) and a field (f.<id>.<field>), follow / unfollow (fo, uf), delete
  // (d ask, do confirm). Every press re-reads role and scope.
  programme: codec("pg", z.string().regex(/^(l|(v|e|fo|uf|d|do)\.\d{1,9}|f\.\d{1,9}\.(name|bodies|period|targets|year))$/)),
  // the /programme_new and edit conversations: a body toggled or done, a metric's target skipped, confirm
  pgBody: codec("pgb", z.union([z.enum(UNIT_BODIES), z.literal("done")])),
  pgSkip: codec("pgs", z.literal("skip")),
  pgMetric: codec("pgm", z.enum(TARGET_METRICS)),
  pgConfirm: codec("pgc", z.enum(["yes", "no"])),
  // /targets: pick a programme (l), a scoreboard (v.<programme>.<scope>), by unit / by commune of a
  // metric a page at a time (u|c.<programme>.<scope>.<metric>.<page>), a unit's unregistered names
  // (r.<programme>.<unit>), the nudge's confirm (n.…) and send (ny.…). Scope: p, c<commune>, u<unit>.
  targets: codec("tg", z.string().regex(new RegExp(`^(l|v\\.\\d{1,9}\\.${SCOPE_TOKEN}|[uc]\\.\\d{1,9}\\.${SCOPE_TOKEN}\\.${METRIC_TOKEN}\\.\\d{1,3}|(r|n|ny)\\.\\d{1,9}\\.\\d{1,9})$`))),
  // the scoreboard's "📊 Biểu đồ" (the charts part handles it): programme, scope, metric, bar|line —
  // build and read it with packTargetChart / unpackTargetChart below.
  targetChart: codec("tgc", z.string().regex(new RegExp(`^\\d{1,9}\\.${SCOPE_TOKEN}\\.${METRIC_TOKEN}\\.(bar|line)$`))),
  // /myunits: "I am an association member" (ask), set (on) or clear (off)
  associationMember: codec("pgam", z.enum(["ask", "on", "off"])),
  // the yearly report (issue 11, report part): the programme picked for /report (g.<programme>.<year>)
  // or for /report_schedule (s.<programme>.<day number>.<year>), cancel a schedule (x.<schedule>).
  // Every press checks role and scope again.
  report: codec("rp", z.string().regex(/^(g\.\d{1,9}\.\d{4}|s\.\d{1,9}\.\d{1,6}\.\d{4}|x\.\d{1,9})$/)),
} as const;

/** A scoreboard scope in callback data: "p" the programme, "c<commune code>", "u<unit id>". */
export type ScopeToken = "p" | `c${string}` | `u${string}`;

export function packScope(scope: ScoreScope): ScopeToken {
  if (scope.kind === "programme") return "p";
  return scope.kind === "commune" ? `c${scope.communeCode}` : `u${scope.unitId}`;
}

export function unpackScope(token: string): ScoreScope | undefined {
  if (token === "p") return { kind: "programme" };
  if (/^c\d{5}$/.test(token)) return { kind: "commune", communeCode: token.slice(1) };
  if (/^u\d{1,9}$/.test(token)) return { kind: "unit", unitId: Number(token.slice(1)) };
  return undefined;
}

export interface TargetChartRequest {
  programmeId: number;
  scope: ScoreScope;
  metric: TargetMetric;
  chart: "bar" | "line";
}

/** "tgc:<programme>.<scope>.<metric>.<bar|line>" (at most 50 bytes). */
export function packTargetChart(r: TargetChartRequest): string {
  return cb.targetChart.pack(`${r.programmeId}.${packScope(r.scope)}.${r.metric}.${r.chart}`);
}

/** The request behind a chart button, or undefined for forged data (the handler re-checks the scope). */
export function unpackTargetChart(data: string | undefined): TargetChartRequest | undefined {
  const value = cb.targetChart.unpack(data);
  if (!value) return undefined;
  const [id, scope, metric, chart] = value.split(".") as [string, string, string, string];
  const s = unpackScope(scope);
  if (!s || !isTargetMetric(metric) || (chart !== "bar" && chart !== "line")) return undefined;
  return { programmeId: Number(id), scope: s, metric, chart };
}
