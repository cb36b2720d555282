import { inflateSync } from "node:zlib";
import type { PrismaClient } from "../../src/generated/prisma/client.js";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";

/**
 * A hand-counted province for the yearly report of 2026 (each test gets its own province): two
 * communes A and B, a programme of the association and the border guard, and one of everything
 * the report counts, with decoys that must not count (another year, a cancelled session, a body
 * outside the programme, a session not held yet, a cancelled round, another province's broadcast).
 * The expected figures are written out by hand in EXPECTED.
 */
export interface ReportFixture {
  provinceCode: string;
  provinceName: string;
  communeA: { code: string; name: string; type: string };
  communeB: { code: string; name: string; type: string };
  programmeId: number;
  programmeName: string;
  people: Record<"p1" | "p2" | "p3" | "p4" | "p5", number>;
  units: Record<"u1" | "u2" | "u3" | "u4", number>;
}

/** The report's moment: 6 December 2026, 8:00 in Vietnam. */
export const FIXTURE_NOW = fromVnWallTime(2026, 12, 6, 8, 0);

export const EXPECTED = {
  // commune A, commune B, total
  registrations: { in_year: [2, 1, 3], total: [3, 1, 4] },
  targets: {
    headcount: [14, 5, 19], registered: [2, 1, 3], association_members: [1, 1, 2], units: [2, 1, 3], learning_units: [1, 0, 1],
    families: [1, 1, 2], learning_families: [1, 0, 1],
  },
  sessions: { sessions: [1, 1, 2], attendance: [2, 1, 3], hours: [3, 1, 4] },
  quizzes: { people: [1, 1, 2], rounds: [1, 1, 2], answers: [2, 2, 4], correct: [1, 2, 3] },
  scholarships: { nominations: [2, 1, 3], awards: [1, 0, 1] },
  // province level, A, B, total
  broadcasts: { broadcasts: [1, 1, 0, 2], recipients: [3, 2, 0, 5], delivered: [2, 2, 0, 4] },
} as const;

let next = 0;

export async function buildReportFixture(prisma: PrismaClient, provinceIndex: number, idBase: number): Promise<ReportFixture> {
  const provinces = await prisma.province.findMany({ orderBy: { code: "asc" } });
  const province = provinces[provinceIndex % provinces.length]!;
  const [a, b] = await prisma.commune.findMany({ where: { provinceCode: province.code }, orderBy: { code: "asc" }, take: 2, select: { code: true, name: true, type: true } });
  const other = provinces[(provinceIndex + 1) % provinces.length]!;
  const at = (y: number, m: number, d: number, h = 9) => fromVnWallTime(y, m, d, h, 0);
  const tag = `${idBase}-${next++}`;

  const ids = { p1: idBase + 1, p2: idBase + 2, p3: idBase + 3, p4: idBase + 4, p5: idBase + 5 };
  const person = async (id: number, commune: string | null, registeredAt: Date | null, member: boolean) => {
    await prisma.user.create({ data: { id: BigInt(id), associationMemberSince: member ? registeredAt ?? at(2026, 1, 1) : null } });
    if (commune && registeredAt) {
      await prisma.learningCitizen.create({
        data: { userId: BigInt(id), registrationNumber: `RP-${id}`, fullName: `Người ${id}`, birthYear: 1980, provinceCode: province.code, communeCode: commune, affiliation: "resident", goals: [], registeredAt },
      });
    }
  };
  await person(ids.p1, a!.code, at(2026, 3, 1), true);
  await person(ids.p2, a!.code, at(2025, 5, 1), false);
  await person(ids.p3, b!.code, at(2026, 7, 1), true);
  await person(ids.p4, null, null, false);
  await person(ids.p5, a!.code, at(2026, 2, 1), false);

  const programme = await prisma.programme.create({
    data: {
      name: `Chương trình phối hợp Hội Khuyến học – Bộ đội Biên phòng ${tag}`, provinceCode: province.code, bodies: ["association", "border_guard"], startYear: 2024, endYear: 2030,
      targets: { create: [{ metric: "learning_citizens", year: 0, percent: 100 }, { metric: "members", year: 2026, percent: 50 }, { metric: "learning_units", year: 0, percent: 90 }, { metric: "learning_families", year: 0, percent: 80 }] },
    },
  });
  let unitN = 0;
  const unit = async (name: string, commune: string, body: string, headcount: number, approved: boolean, parentId?: number) => (await prisma.unit.create({
    data: {
      name, nameKey: `${name.toLowerCase()} ${tag}`, kind: "border_post", body, provinceCode: province.code, communeCode: commune, headcount, parentId,
      joinToken: `rpu${tag}-${unitN++}`, learningStatus: approved ? "approved" : "none",
    },
  })).id;
  const u1 = await unit("Đồn Biên phòng Cửa khẩu", a!.code, "border_guard", 10, true);
  const u2 = await unit("Trạm Kiểm soát", a!.code, "border_guard", 4, false, u1);
  const u3 = await unit("Chi hội Khuyến học thôn Bản", b!.code, "association", 5, false);
  // The police are not in this programme: their unit and member count nowhere.
  const u4 = await unit("Công an xã", b!.code, "police", 7, true);
  const join = (unitId: number, userId: number) => prisma.unitMember.create({ data: { unitId, userId: BigInt(userId), displayName: `Người ${userId}`, joinedAt: at(2026, 3, 2) } });
  await join(u1, ids.p1);
  await join(u1, ids.p2);
  await join(u3, ids.p3);
  await join(u2, ids.p4);
  await join(u4, ids.p5);

  // Families: A's two registered adults with children at school meet the criteria; B's one-person family does not.
  const family = async (commune: string, members: number[], n: number) => {
    const g = await prisma.learningGroup.create({ data: { kind: "family", name: `Gia đình ${n}`, provinceCode: province.code, communeCode: commune, inviteToken: `rpf${tag}-${n}`, childrenInSchool: true, createdAt: at(2026, 4, 1) } });
    for (const [i, m] of members.entries()) await prisma.learningGroupMember.create({ data: { groupId: g.id, userId: BigInt(m), kind: "family", role: i === 0 ? "owner" : "member", joinedAt: at(2026, 4, 1) } });
  };
  await family(a!.code, [ids.p1, ids.p2], 1);
  await family(b!.code, [ids.p3], 2);

  // Sessions: A held one of 90 minutes (p1, p2 checked in, p5 signed up only), one cancelled, one in 2025, one not held yet; B one of 60 minutes (p3).
  const centre = (commune: string, n: number) => prisma.learningCenter.create({ data: { provinceCode: province.code, communeCode: commune, name: `TTHTCĐ ${tag}-${n}`, address: "Thôn 1", lat: 21, lon: 105 } });
  const ca = await centre(a!.code, 1);
  const cbn = await centre(b!.code, 2);
  let token = 0;
  const session = async (centerId: number, startsAt: Date, durationMin: number, state: "scheduled" | "cancelled", signups: Array<[number, boolean]>) => {
    const s = await prisma.learningSession.create({ data: { centerId, title: "Pháp luật", topic: "law", startsAt, durationMin, capacity: 30, state, checkinToken: `rpc${tag}-${token++}` } });
    for (const [userId, attended] of signups) {
      await prisma.sessionSignup.create({ data: { sessionId: s.id, userId: BigInt(userId), status: "confirmed", signedUpAt: at(2026, 1, 2), attendedAt: attended ? startsAt : null } });
    }
  };
  await session(ca.id, at(2026, 6, 10), 90, "scheduled", [[ids.p1, true], [ids.p2, true], [ids.p5, false]]);
  await session(ca.id, at(2026, 6, 11), 120, "cancelled", [[ids.p1, true]]);
  await session(ca.id, at(2025, 6, 11), 120, "scheduled", [[ids.p1, true]]);
  await session(ca.id, at(2026, 12, 20), 120, "scheduled", [[ids.p2, false]]);
  await session(cbn.id, at(2026, 9, 1), 60, "scheduled", [[ids.p3, true]]);

  // Quizzes: p1 answered two of three (one right, one timed out), p3 two of two; p1's 2025 answers do not count.
  const round = BigInt(idBase) * 10n;
  const answer = (roundId: bigint, idx: number, userId: number, chosen: number | null, correct: boolean, answeredAt: Date) =>
    prisma.quizAnswer.create({ data: { roundId, idx, userId: BigInt(userId), questionId: "nb-01", topic: "law", chosen, correct, ms: 1000, answeredAt } });
  await answer(round + 1n, 0, ids.p1, 1, true, at(2026, 5, 1));
  await answer(round + 1n, 1, ids.p1, 0, false, at(2026, 5, 1));
  await answer(round + 1n, 2, ids.p1, null, false, at(2026, 5, 1));
  await answer(round + 2n, 0, ids.p3, 2, true, at(2026, 8, 1));
  await answer(round + 2n, 1, ids.p3, 3, true, at(2026, 8, 1));
  await answer(round + 3n, 0, ids.p1, 1, true, at(2025, 8, 1));

  // Scholarships: the 2026 round (deadline 31/10) has one award in A and two other nominations; a 2025 round and a cancelled one do not count.
  const scholarshipRound = (year: number, deadline: string, state: "active" | "cancelled") => prisma.scholarshipRound.create({
    data: {
      programme: `Vì em hiếu học ${tag}`, year, organiserBody: "association", provinceCode: province.code, eligibility: "Học sinh nghèo vượt khó", rules: {},
      opensOn: new Date(`${year}-09-01`), deadlineOn: new Date(deadline), awardOn: new Date(`${year}-11-20`), howToApply: "Đề cử qua bot", contact: "Hội Khuyến học", state,
    },
  });
  const r2026 = await scholarshipRound(2026, "2026-10-31", "active");
  const r2025 = await scholarshipRound(2025, "2025-10-31", "active");
  const rCancelled = await scholarshipRound(2026, "2026-11-15", "cancelled");
  let student = 0;
  const nominate = (roundId: number, commune: string, status: "received" | "awarded" | "not_selected") => prisma.nomination.create({
    data: {
      roundId, nominatorId: BigInt(ids.p1), relationship: "member", studentName: `Học sinh ${student}`, birthYear: 2014, school: "Trường THCS", schoolLevel: "lower_secondary", grade: 7,
      provinceCode: province.code, communeCode: commune, circumstances: [], guardianName: "Phụ huynh", guardianConsentAt: at(2026, 9, 2), studentKey: `hocsinh${student++}`, status, createdAt: at(2026, 9, 2),
    },
  });
  await nominate(r2026.id, a!.code, "awarded");
  await nominate(r2026.id, a!.code, "not_selected");
  await nominate(r2026.id, b!.code, "received");
  await nominate(r2025.id, a!.code, "awarded");
  await nominate(rCancelled.id, b!.code, "awarded");

  // Broadcasts: the province level's (3 addressed, 2 delivered, 1 blocked), commune A's (2 of 2); 2025's and another province's do not count.
  const broadcast = async (provinceCode: string, communeCode: string | null, startedAt: Date, outcomes: Array<"sent" | "blocked">) => {
    const b = await prisma.broadcast.create({
      data: { senderBody: "association", senderProvinceCode: provinceCode, senderCommuneCode: communeCode, audience: {}, text: "Thông báo", state: "done", recipientCount: outcomes.length, startedAt, finishedAt: startedAt },
    });
    for (const [i, state] of outcomes.entries()) {
      await prisma.delivery.create({ data: { kind: "broadcast", refId: String(b.id), chatId: BigInt(idBase + 50 + i), state, dueAt: startedAt } });
    }
  };
  await broadcast(province.code, null, at(2026, 4, 1), ["sent", "sent", "blocked"]);
  await broadcast(province.code, a!.code, at(2026, 5, 1), ["sent", "sent"]);
  await broadcast(province.code, a!.code, at(2025, 5, 1), ["sent"]);
  await broadcast(other.code, null, at(2026, 5, 1), ["sent"]);

  return {
    provinceCode: province.code, provinceName: province.name, communeA: a!, communeB: b!, programmeId: programme.id, programmeName: programme.name,
    people: ids, units: { u1, u2, u3, u4 },
  };
}

/**
 * The text a PDF shows, as a reader extracts it: its content streams' glyph strings mapped through
 * each embedded font's ToUnicode table (one decoding per font; the text drawn in that font reads right).
 */
export function pdfTexts(pdf: Buffer): string[] {
  const latin = pdf.toString("latin1");
  const streams: string[] = [];
  const re = /(?<!end)stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(latin))) {
    const start = m.index + m[0].length;
    const end = latin.indexOf("endstream", start);
    if (end < 0) break;
    const body = pdf.subarray(start, end);
    try {
      streams.push(inflateSync(body).toString("latin1"));
    } catch {
      streams.push(body.toString("latin1"));
    }
    re.lastIndex = end;
  }
  const cmaps = streams.filter((s) => s.includes("begincmap")).map((s) => {
    const map = new Map<number, string>();
    const hex = (h: string) => parseInt(h, 16);
    const utf16 = (h: string) => String.fromCharCode(...(h.match(/.{4}/g) ?? []).map(hex));
    for (const block of s.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
      for (const line of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)/g)) {
        const lo = hex(line[1]!), hi = hex(line[2]!);
        if (line[3]!.startsWith("[")) [...line[3]!.matchAll(/<([0-9a-fA-F]+)>/g)].forEach((d, i) => map.set(lo + i, utf16(d[1]!)));
        else for (let c = lo; c <= hi; c++) map.set(c, String.fromCharCode(hex(line[3]!.slice(1, -1)) + (c - lo)));
      }
    }
    for (const block of s.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
      for (const line of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(hex(line[1]!), utf16(line[2]!));
    }
    return map;
  });
  const content = streams.filter((s) => /\bT[Jj]\b/.test(s));
  return cmaps.map((map) => content.map((s) => [...s.matchAll(/\[([^\]]*)\]\s*TJ|<([0-9a-fA-F]+)>\s*Tj/g)].map((op) => {
    const hexes = op[1] !== undefined ? [...op[1].matchAll(/<([0-9a-fA-F]+)>/g)].map((x) => x[1]!) : [op[2]!];
    return hexes.map((h) => (h.match(/.{4}/g) ?? []).map((g) => map.get(parseInt(g, 16)) ?? "").join("")).join("");
  }).join("\n")).join("\n").normalize("NFC"));
}
