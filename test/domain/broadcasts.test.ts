import { describe, expect, it } from "vitest";
import { scopeCovers, unitKey } from "../../src/domain/broadcasts/audience.js";
import { toCsv } from "../../src/domain/broadcasts/csv.js";
import { checkBroadcastText, fillVariables, parseTelegramHtml } from "../../src/domain/broadcasts/text.js";
import { Ledger } from "../../src/domain/delivery/ledger.js";
import type { DeliveryEnv } from "../../src/domain/delivery/types.js";
import { parseVnDateTime } from "../../src/domain/time/vietnam-time.js";
import { useHarness } from "../support/harness.js";
import { HtmlParseError, parseTelegramHtml as parseHtml } from "../support/telegram/html-parser.js";

const ADMIN = 9_100_001;
const h = useHarness({ adminIds: [String(ADMIN)] });

let nextId = 9_200_000;
let nextProvince = 0;
const ids = () => ++nextId;

/** A province and two of its communes that no other test uses. */
async function freshPlace(): Promise<{ province: string; communes: [string, string] }> {
  const provinces = await h.db.prisma.province.findMany({ orderBy: { code: "asc" } });
  const p = provinces[nextProvince++ % provinces.length]!;
  const communes = await h.db.prisma.commune.findMany({ where: { provinceCode: p.code }, orderBy: { code: "asc" }, take: 2 });
  return { province: p.code, communes: [communes[0]!.code, communes[1]!.code] };
}

interface PersonOptions {
  province: string;
  commune: string;
  name?: string;
  role?: "resident" | "member" | "officer" | "admin";
  affiliation?: "resident" | "association_member" | "military_command" | "police" | "border_guard" | "other_organisation";
  unit?: string;
  goals?: string[];
  locale?: string;
  unreachable?: boolean;
}

async function person(o: PersonOptions): Promise<number> {
  const id = ids();
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: o.role ?? "resident", locale: o.locale ?? null, unreachableSince: o.unreachable ? new Date() : null } });
  await h.db.prisma.learningCitizen.create({
    data: {
      userId: BigInt(id), registrationNumber: `T-${id}`, fullName: o.name ?? `Người ${id}`, birthYear: 1980, provinceCode: o.province, communeCode: o.commune,
      affiliation: o.affiliation ?? "resident", unitName: o.unit ?? null, goals: o.goals ?? ["law"], registeredAt: new Date(),
    },
  });
  return id;
}

async function officer(scope: { province: string; commune?: string; unit?: string }): Promise<string> {
  const id = ids();
  await h.db.prisma.user.create({ data: { id: BigInt(id), role: "officer", scopeProvinceCode: scope.province, scopeCommuneCode: scope.commune ?? null, scopeUnit: scope.unit ?? null } });
  return String(id);
}

const svc = () => h.deps.services.broadcasts;
const now = () => h.deps.now();

function recorderEnv(): DeliveryEnv & { calls: Array<{ method: string; payload: Record<string, unknown> }> } {
  const calls: Array<{ method: string; payload: Record<string, unknown> }> = [];
  return { calls, call: async (method, payload) => (calls.push({ method, payload }), true), now: () => new Date() };
}

async function claimAll(kind: string, ref: string) {
  const ledger = new Ledger(h.db.prisma);
  const open = await ledger.openRows(kind, ref, "0", 100_000);
  return ledger.claim(open.map((r) => r.id));
}

describe("audience selection", () => {
  it("counts registered people in the filters, never the unreachable or those who muted the sender's topic", async () => {
    const { province, communes: [a, b] } = await freshPlace();
    await person({ province, commune: a, affiliation: "police", unit: "Đồn Công an Lũng Cú", goals: ["digital", "law"] });
    const muted = await person({ province, commune: a, affiliation: "police" });
    await person({ province, commune: a, unreachable: true });
    await person({ province, commune: b, role: "member", affiliation: "association_member", goals: ["health"] });
    await h.db.prisma.topicMute.create({ data: { userId: BigInt(muted), topic: "ann:police" } });

    expect(await svc().count({ provinceCode: province }, "police")).toBe(2);
    expect(await svc().count({ provinceCode: province }, "association")).toBe(3);
    expect(await svc().count({ provinceCode: province, communeCode: a }, "association")).toBe(2);
    expect(await svc().count({ provinceCode: province, roles: ["member"] }, "association")).toBe(1);
    expect(await svc().count({ provinceCode: province, affiliations: ["police", "border_guard"] }, "association")).toBe(2);
    expect(await svc().count({ provinceCode: province, goal: "digital" }, "association")).toBe(1);
    // Unit names match without case, diacritics or punctuation.
    expect(await svc().count({ provinceCode: province, unitName: "don cong an  LUNG-CU" }, "association")).toBe(1);
    expect(await svc().count({ provinceCode: province, unitName: "Đồn Công an Lũng Hồ" }, "association")).toBe(0);
    expect(unitKey("Đồn Biên phòng Lũng Cú")).toBe("don bien phong lung cu");
  });

  it("keeps officers inside their scope: a commune officer cannot target the province", async () => {
    const { province, communes: [a, b] } = await freshPlace();
    await person({ province, commune: a });
    await person({ province, commune: b });
    const communeOfficer = await officer({ province, commune: a });
    const provinceOfficer = await officer({ province });
    const unitOfficer = await officer({ province, unit: "Đồn Biên phòng X" });
    const draft = (audience: object) => ({ senderBody: "border_guard" as const, audience, text: "Xin chào {name}" });

    expect(await svc().create(communeOfficer, draft({ provinceCode: province }))).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await svc().create(communeOfficer, draft({ provinceCode: province, communeCode: b }))).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await svc().create(unitOfficer, draft({ provinceCode: province }))).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await svc().create(provinceOfficer, draft({}))).toEqual({ ok: false, reason: "out_of_scope" });
    // A commune paired with another province is refused as forged.
    const other = await freshPlace();
    expect(await svc().create(provinceOfficer, draft({ provinceCode: province, communeCode: other.communes[0] }))).toEqual({ ok: false, reason: "invalid" });
    expect(await h.db.prisma.broadcast.count({ where: { authorId: { in: [BigInt(communeOfficer), BigInt(unitOfficer), BigInt(provinceOfficer)] } } })).toBe(0);

    const ok = await svc().create(communeOfficer, draft({ provinceCode: province, communeCode: a }));
    expect(ok).toMatchObject({ ok: true, state: "sending", recipients: 1 });
    const access = (scope: object) => ({ role: "officer" as const, scope });
    expect(scopeCovers(access({ provinceCode: province }), { provinceCode: province, communeCode: b })).toBe(true);
    expect(scopeCovers(access({ provinceCode: province, unitName: "Đồn X" }), { provinceCode: province, unitName: "don x" })).toBe(true);
    expect(scopeCovers({ role: "admin", scope: {} }, {})).toBe(true);
    expect(scopeCovers({ role: "member", scope: {} }, { provinceCode: province })).toBe(false);
  });

  it("freezes 10,000 recipients with one INSERT … SELECT inside the broadcast's transaction", async () => {
    const { province, communes: [a] } = await freshPlace();
    const first = nextId + 1;
    nextId += 10_000;
    const userIds = Array.from({ length: 10_000 }, (_, i) => BigInt(first + i));
    await h.db.prisma.user.createMany({ data: userIds.map((id) => ({ id })) });
    await h.db.prisma.learningCitizen.createMany({
      data: userIds.map((id) => ({ userId: id, registrationNumber: `B-${id}`, fullName: `Người ${id}`, birthYear: 1990, provinceCode: province, communeCode: a, affiliation: "resident" as const, goals: ["law"], registeredAt: new Date() })),
    });
    const started = performance.now();
    const created = await svc().create(String(ADMIN), { senderBody: "association", audience: { provinceCode: province, communeCode: a }, text: "Chào {name}" });
    const ms = performance.now() - started;
    expect(created).toMatchObject({ ok: true, recipients: 10_000, state: "pending_approval" }); // over the threshold of 1,000
    const id = (created as { id: number }).id;
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast", refId: String(id) } })).toBe(10_000);
    expect((await svc().get(id))?.recipientCount).toBe(10_000);
    console.log(`froze 10,000 recipients in ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(5_000);
  });
});

describe("broadcast texts", () => {
  const opts = { media: false, reserve: 50 };

  it("refuses unknown variables by name and fills the known ones escaped", () => {
    expect(checkBroadcastText("Chào {name}, hẹn ở {xa}", opts)).toMatchObject({ ok: false, key: "broadcast:errors.unknown_variable", params: { name: "{xa}" } });
    expect(checkBroadcastText("Chào {name} ở {commune}, {province}", opts)).toMatchObject({ ok: true });
    expect(fillVariables("<b>{name}</b> {commune} {x}", { name: "A <B> & C", commune: "Xã Lũng Cú", province: "" })).toBe("<b>A &lt;B&gt; &amp; C</b> Xã Lũng Cú {x}");
  });

  it("says where broken HTML breaks, as Telegram would refuse it", () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ["Xin <b>chào</i>", "html_unexpected_end_tag", { offset: 12, tag: "i", expected: "b" }],
      ["Họp <p>lúc 8h</p>", "html_unsupported_tag", { offset: 5, tag: "p" }],
      ["Điểm < 5 thì học lại", "html_unsupported_tag", { offset: 6, tag: "" }],
      ["<b>Thông báo", "html_missing_end_tag", { offset: 1, tag: "b" }],
      ["<a href=\"https://x.vn\"", "html_unclosed_start_tag", { offset: 1, tag: "a" }],
      ["<span>bí mật</span>", "html_span_class", { offset: 1, tag: "span" }],
    ];
    for (const [text, reason, params] of cases) {
      expect(checkBroadcastText(text, opts), text).toMatchObject({ ok: false, key: `broadcast:errors.${reason}`, params });
      // The fake Bot API (TDLib's rules) refuses it too.
      expect(() => parseHtml(text), text).toThrow(HtmlParseError);
    }
    const good = 'A &lt; B &amp; <b>đậm <i>nghiêng</i></b> <a href="https://khuyenhoc.vn">web</a> <span class="tg-spoiler">x</span> <blockquote expandable>q</blockquote> &#128512; R&D';
    const parsed = parseTelegramHtml(good);
    expect(parsed).toEqual({ ok: true, text: parseHtml(good).text });
  });

  it("checks the length with every variable filled with a long value, and the caption limit with media", () => {
    const base = "x".repeat(4000);
    expect(checkBroadcastText(base, opts)).toMatchObject({ ok: true, length: 4000 });
    expect(checkBroadcastText(base + "{name}{name}", opts)).toMatchObject({ ok: false, key: "broadcast:errors.too_long", params: { length: 4120, limit: 4046 } });
    expect(checkBroadcastText("<b>" + "y".repeat(970) + "</b>", { media: true, reserve: 50 })).toMatchObject({ ok: true, length: 970 });
    expect(checkBroadcastText("y".repeat(1000), { media: true, reserve: 50 })).toMatchObject({ ok: false, key: "broadcast:errors.caption_too_long", params: { limit: 974 } });
  });

  it("writes RFC 4180 CSV", () => {
    expect(toCsv([["a", 'say "hi"', "x,y", null], ["=1+1", "line\nbreak", 3, undefined]])).toBe('a,"say ""hi""","x,y",\r\n\'=1+1,"line\nbreak",3,\r\n');
  });
});

describe("the two-person rule", () => {
  it("a whole province waits for another covering officer or an admin; the author and outsiders cannot approve", async () => {
    const { province, communes: [a] } = await freshPlace();
    const other = await freshPlace();
    for (let i = 0; i < 3; i++) await person({ province, commune: a });
    const author = await officer({ province });
    const colleague = await officer({ province, commune: a });
    const covering = await officer({ province });
    const outsider = await officer({ province: other.province });

    const created = await svc().create(author, { senderBody: "military_command", audience: { provinceCode: province }, text: "Tuyển sinh" });
    expect(created).toMatchObject({ ok: true, state: "pending_approval", recipients: 3 });
    const id = (created as { id: number }).id;
    // Approvers asked: the covering officer and the admin (not the author, nor the commune officer).
    const asked = await h.db.prisma.delivery.findMany({ where: { kind: "broadcast_approval", refId: String(id) } });
    expect(asked.map((r) => Number(r.chatId)).sort()).toEqual([ADMIN, Number(covering)].sort());
    // Nothing can go out while it waits.
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast", refId: String(id), state: "queued" } })).toBe(0);

    expect(await svc().approve(id, author)).toEqual({ ok: false, reason: "own" });
    expect(await svc().approve(id, colleague)).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await svc().approve(id, outsider)).toEqual({ ok: false, reason: "out_of_scope" });
    expect(await svc().approve(id, String(ids()))).toEqual({ ok: false, reason: "forbidden" });
    expect(await svc().approve(id, covering)).toEqual({ ok: true, state: "sending" });
    expect(await svc().approve(id, String(ADMIN))).toEqual({ ok: false, reason: "not_pending" });

    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast", refId: String(id), state: "queued" } })).toBe(3);
    expect(await svc().get(id)).toMatchObject({ state: "sending", approvedById: BigInt(covering) });
    expect(await h.db.prisma.auditLog.count({ where: { action: "broadcast_approved", actorId: BigInt(covering) } })).toBe(1);
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast_notice", refId: `${id}-approved`, chatId: BigInt(author) } })).toBe(1);
    // The other approval requests are withdrawn.
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast_approval", refId: String(id), state: "queued" } })).toBe(0);
  });

  it("an admin rejects; a commune-wide broadcast under the threshold goes without approval", async () => {
    const { province, communes: [a] } = await freshPlace();
    await person({ province, commune: a });
    const author = await officer({ province });
    const big = await svc().create(author, { senderBody: "police", audience: { provinceCode: province }, text: "A" });
    const id = (big as { id: number }).id;
    expect(await svc().reject(id, String(ADMIN), "trùng lịch")).toEqual({ ok: true, state: "rejected" });
    expect(await h.db.prisma.delivery.count({ where: { kind: "broadcast", refId: String(id), state: { in: ["queued", "sending"] } } })).toBe(0);
    expect(await h.db.prisma.auditLog.findFirst({ where: { action: "broadcast_rejected", actorId: BigInt(ADMIN) } })).toMatchObject({ detail: { broadcastId: id, reason: "trùng lịch" } });

    const small = await svc().create(author, { senderBody: "police", audience: { provinceCode: province, communeCode: a }, text: "B" });
    expect(small).toMatchObject({ ok: true, state: "sending", recipients: 1 });
  });

  it("a scheduled broadcast's rows fall due at the Vietnam time typed", async () => {
    const { province, communes: [a] } = await freshPlace();
    await person({ province, commune: a });
    await person({ province, commune: a });
    const author = await officer({ province, commune: a });
    const parsed = parseVnDateTime("20/12 8:00", now());
    if (!parsed.ok) throw new Error("unparsed");
    const created = await svc().create(author, { senderBody: "association", audience: { provinceCode: province, communeCode: a }, text: "Họp", scheduledAt: parsed.at.toISOString() });
    expect(created).toMatchObject({ ok: true, state: "scheduled", recipients: 2 });
    const rows = await h.db.prisma.delivery.findMany({ where: { kind: "broadcast", refId: String((created as { id: number }).id) } });
    expect(rows.map((r) => r.dueAt.toISOString().slice(4))).toEqual(["-12-20T01:00:00.000Z", "-12-20T01:00:00.000Z"]);
    expect(await svc().create(author, { senderBody: "association", audience: { provinceCode: province, communeCode: a }, text: "Họp", scheduledAt: new Date(now().getTime() - 60_000).toISOString() })).toEqual({ ok: false, reason: "past" });
  });
});

describe("delivery kinds", () => {
  it("renders each recipient's message in their language: sender line, variables, mute button; skips the muted", async () => {
    const { province, communes: [a] } = await freshPlace();
    const vi = await person({ province, commune: a, name: "Lò Thị <Mai>" });
    const en = await person({ province, commune: a, name: "John Smith", locale: "en" });
    const mutedLater = await person({ province, commune: a });
    const author = await officer({ province, commune: a });
    const created = await svc().create(author, { senderBody: "border_guard", audience: { provinceCode: province, communeCode: a }, text: "Chào <b>{name}</b> ở {commune}, {province}." });
    const id = String((created as { id: number }).id);
    await h.db.prisma.topicMute.create({ data: { userId: BigInt(mutedLater), topic: "ann:border_guard" } });

    const kind = h.deps.deliveryKinds.get("broadcast")!;
    const claimed = await claimAll("broadcast", id);
    const out = await kind.render(claimed, recorderEnv());
    const byChat = new Map(claimed.map((c) => [c.chatId, out.get(c.id)]));
    const place = await h.db.prisma.commune.findUniqueOrThrow({ where: { code: a } });
    const prov = await h.db.prisma.province.findUniqueOrThrow({ where: { code: province } });

    const mine = byChat.get(vi) as { method: string; payload: { text: string; reply_markup: { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> } } };
    expect(mine.method).toBe("sendMessage");
    const [first, , body] = mine.payload.text.split("\n");
    expect(first).toMatch(/^📢 Bộ đội Biên phòng · (Xã|Phường|Đặc khu) .+, .+$/);
    expect(first).toContain(place.name);
    expect(body).toBe(`Chào <b>Lò Thị &lt;Mai&gt;</b> ở ${place.type === "xã" ? "Xã" : place.type === "phường" ? "Phường" : "Đặc khu"} ${place.name}, ${prov.type === "tỉnh" ? "Tỉnh" : "Thành phố"} ${prov.name}.`);
    expect(mine.payload.reply_markup.inline_keyboard[0]![0]).toEqual({ text: "🔕 Tắt thông báo từ Bộ đội Biên phòng", callback_data: "mute:off:ann:border_guard" });
    // The fake Bot API accepts the HTML.
    expect(parseHtml(mine.payload.text).text.split("\n")[2]).toContain("Lò Thị <Mai>");

    const theirs = byChat.get(en) as unknown as { payload: { text: string; reply_markup: { inline_keyboard: Array<Array<{ text: string }>> } } };
    expect(theirs.payload.text.split("\n")[0]).toMatch(/^📢 Border Guard · .+ (Commune|Ward|Special Zone), /);
    expect(theirs.payload.text).toContain("Chào <b>John Smith</b>");
    expect(theirs.payload.reply_markup.inline_keyboard[0]![0]!.text).toBe("🔕 Mute announcements from Border Guard");
    expect(byChat.get(mutedLater)).toEqual({ skip: "muted" });
  });

  it("sends a photo with the message as its caption, and skips every row of a cancelled broadcast", async () => {
    const { province, communes: [a] } = await freshPlace();
    await person({ province, commune: a });
    const author = await officer({ province, commune: a });
    const created = await svc().create(author, { senderBody: "police", audience: { provinceCode: province, communeCode: a }, text: "Ảnh {name}", media: { kind: "photo", fileId: "AgACAgIAAxkBAAIB" } });
    const id = String((created as { id: number }).id);
    const kind = h.deps.deliveryKinds.get("broadcast")!;
    const claimed = await claimAll("broadcast", id);
    const [rendered] = [...(await kind.render(claimed, recorderEnv())).values()] as Array<{ method: string; payload: Record<string, unknown> }>;
    expect(rendered!.method).toBe("sendPhoto");
    expect(rendered!.payload).toMatchObject({ photo: "AgACAgIAAxkBAAIB", parse_mode: "HTML" });
    expect(String(rendered!.payload.caption)).toMatch(/^📢 Công an · .+\n\nẢnh Người \d+$/);

    const second = await svc().create(author, { senderBody: "police", audience: { provinceCode: province, communeCode: a }, text: "Hủy" });
    const sid = (second as { id: number }).id;
    const rows = await claimAll("broadcast", String(sid));
    await h.db.prisma.broadcast.update({ where: { id: sid }, data: { state: "cancelled" } });
    expect([...(await kind.render(rows, recorderEnv())).values()]).toEqual([{ skip: "broadcast cancelled" }]);
  });

  it("edits the author's progress at most every 3 s, then finishes once with a report and a CSV of failures", async () => {
    const { province, communes: [a] } = await freshPlace();
    const people = [];
    for (let i = 0; i < 4; i++) people.push(await person({ province, commune: a }));
    const author = await officer({ province, commune: a });
    const created = await svc().create(author, { senderBody: "association", audience: { provinceCode: province, communeCode: a }, text: "Tin" });
    const id = (created as { id: number }).id;
    await svc().setProgressMessage(id, author, Number(author), 77);
    const kind = h.deps.deliveryKinds.get("broadcast")!;
    const ledger = new Ledger(h.db.prisma);
    const claimed = await claimAll("broadcast", String(id));
    const at = new Date();
    await ledger.record([{ id: claimed[0]!.id, state: "sent", messageId: 1, sentAt: at }]);
    const env = recorderEnv();
    await kind.onRecorded!([String(id)], env);
    await kind.onRecorded!([String(id)], env); // within 3 s: not edited again
    expect(env.calls).toHaveLength(1);
    expect(env.calls[0]).toMatchObject({ method: "editMessageText", payload: { chat_id: Number(author), message_id: 77 } });
    expect(String(env.calls[0]!.payload.text)).toMatch(new RegExp(`^📤 Đang gửi thông báo #${id}\\n1 / 4 · ✓ 1 · ✗ 0 · còn ~\\d+ phút$`));
    expect(JSON.stringify(env.calls[0]!.payload.reply_markup)).toContain(`bcx:${id}`);

    await ledger.record([
      { id: claimed[1]!.id, state: "sent", messageId: 2, sentAt: at },
      { id: claimed[2]!.id, state: "blocked", error: "Forbidden: bot was blocked by the user" },
      { id: claimed[3]!.id, state: "failed", error: "Bad Request: chat not found, \"x\"" },
    ]);
    await kind.onRecorded!([String(id)], env);
    await kind.onRecorded!([String(id)], env); // done exactly once
    expect(await svc().get(id)).toMatchObject({ state: "done" });
    expect(env.calls.at(-1)).toMatchObject({ method: "editMessageText" });
    expect(String(env.calls.at(-1)!.payload.text)).toBe(`✅ Đã gửi xong thông báo #${id}\n4 / 4 · ✓ 2 · ✗ 2`);
    expect(env.calls).toHaveLength(2);
    const report = await claimAll("broadcast_report", String(id));
    expect(report.map((r) => r.chatId)).toEqual([Number(author)]);
    const message = [...(await h.deps.deliveryKinds.get("broadcast_report")!.render(report, env)).values()][0] as unknown as { payload: { text: string; reply_markup: unknown } };
    expect(message.payload.text).toContain("✓ Đã gửi: 2");
    expect(message.payload.text).toContain("🚫 Không liên lạc được (đã chặn bot): 1");
    expect(message.payload.text).toContain("✗ Lỗi: 1");
    expect(message.payload.text).toContain("❔ Không chắc chắn (có thể nhận 2 lần): 0");
    expect(JSON.stringify(message.payload.reply_markup)).toContain(`bcr:${id}`);

    const csv = (await svc().failuresCsv(id, author))!.split("\r\n");
    expect(csv[0]).toBe("registration_number,commune,outcome,telegram_reason,attempts,at_utc");
    expect(csv[1]).toMatch(new RegExp(`^T-${people[2]},[^,]+,blocked,Forbidden: bot was blocked by the user,1,`));
    expect(csv[2]).toMatch(new RegExp(`^T-${people[3]},[^,]+,failed,"Bad Request: chat not found, ""x""",1,`));
    expect(await svc().failuresCsv(id, await officer({ province: (await freshPlace()).province }))).toBeUndefined();
  });
});
