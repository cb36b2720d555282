import type { InlineKeyboardMarkup, Message } from "grammy/types";
import { describe, expect, it } from "vitest";
import { fromVnWallTime } from "../../src/domain/time/vietnam-time.js";
import { ManualClock } from "../support/delivery.js";
import { DEFAULTS } from "../support/flows.js";
import { useHarness, type TestUser } from "../support/harness.js";

// Learning families through the whole stack: /family without and with a family, creating one (the
// name asked and checked), the invite link (text and share button), joining by the deep link for a
// registered person and for someone who registers first, the family line on the learning card,
// the owner's buttons (children at school, remove, new link, leave with the handover), and stale
// or forged buttons answered without changing anything.

// Sunday 6 December 2026, 09:00 in Vietnam.
const clock = new ManualClock(fromVnWallTime(2026, 12, 6, 9, 0).getTime());
const h = useHarness({ now: clock.now });
const BOT = "khuyenhoc_test_bot";

let nextId = 9_940_000;

async function citizen(name = `Lò Văn ${nextId + 1}`): Promise<TestUser> {
  const id = ++nextId;
  const commune = await h.db.prisma.commune.findFirstOrThrow({ orderBy: { code: "asc" } });
  await h.db.prisma.user.create({ data: { id: BigInt(id) } });
  await h.db.prisma.learningCitizen.create({
    data: { userId: BigInt(id), registrationNumber: `GDB-${id}`, fullName: name, birthYear: 1982, provinceCode: commune.provinceCode, communeCode: commune.code, affiliation: "resident", goals: ["law"], registeredAt: clock.now() },
  });
  h.fake.registerChat(id);
  return h.user(id);
}

function stranger(): TestUser {
  const id = ++nextId;
  h.fake.registerChat(id);
  return h.user(id);
}

/** An owner with a family made through the bot; returns its row. */
async function withFamily(owner: TestUser, name = "Gia đình ông Lò Văn Páo") {
  await owner.send("/family");
  await owner.press("Tạo Gia đình học tập");
  await owner.send(name);
  return h.db.prisma.learningGroup.findFirstOrThrow({ where: { members: { some: { userId: BigInt(owner.id) } } } });
}

/** The newest message in the person's chat as it stands now (after edits). */
function lastMessage(u: TestUser): Message {
  const m = h.fake.sent(u.id).at(-1)!.result as Message;
  return h.fake.getMessage(u.id, m.message_id) ?? m;
}

async function roles(groupId: number) {
  const rows = await h.db.prisma.learningGroupMember.findMany({ where: { groupId }, orderBy: { joinedAt: "asc" } });
  return rows.map((r) => [r.userId.toString(), r.role]);
}

describe("/family", () => {
  it("tells someone not registered to register first, with the button; the greeting names the feature", async () => {
    const u = stranger();
    expect((await u.send("/start")).join("\n")).toContain("• liên kết người trong nhà thành Gia đình học tập bằng một link mời (/family).");
    const replies = await u.send("/family");
    expect(replies.join("\n")).toContain("dành cho người đã đăng ký Công dân học tập");
    expect(u.buttons()).toContain("📝 Đăng ký Công dân học tập");
  });

  it("creates a family: shows the criteria, asks the name, refuses a bad one, then shows the family with the owner's buttons", async () => {
    const owner = await citizen("Lò Văn Páo");
    const intro = (await owner.send("/family")).join("\n");
    expect(intro).toContain("Có ít nhất 2 thành viên");
    expect(intro).toContain("Mọi thành viên từ 16 tuổi trở lên");
    await owner.press("Tạo Gia đình học tập");
    expect((await owner.send("G")).join("\n")).toContain("Tên gia đình cần từ 2 đến 80 ký tự");
    const done = (await owner.send("Gia đình ông Lò Văn Páo")).join("\n");
    expect(done).toContain("✅ Đã tạo Gia đình ông Lò Văn Páo");
    expect(done).toContain("Lò Văn Páo 👑 chủ gia đình (bạn)");
    expect(done).toContain("🔸 Đang phấn đấu: cần ít nhất 2 thành viên (hiện có 1); chưa khai trẻ em trong độ tuổi đi học có đến trường không");
    expect(owner.buttons()).toEqual(["🔗 Link mời thành viên", "🎒 Trẻ em đi học", "🔄 Đổi link mời", "🚪 Rời gia đình"]);
    const row = await h.db.prisma.learningGroup.findFirstOrThrow({ where: { name: "Gia đình ông Lò Văn Páo", members: { some: { userId: BigInt(owner.id), role: "owner" } } } });
    expect(row.kind).toBe("family");
  });

  it("gives the owner the invite link as text and as a share button", async () => {
    const owner = await citizen();
    const f = await withFamily(owner);
    const replies = (await owner.press("Link mời thành viên")).join("\n");
    const link = `https://t.me/${BOT}?start=f_${f.inviteToken}`;
    expect(replies).toContain(link);
    const button = (lastMessage(owner).reply_markup as InlineKeyboardMarkup).inline_keyboard[0]![0]!;
    expect(button.text).toBe("📤 Gửi link cho người nhà");
    expect("url" in button && button.url).toBe(`https://t.me/share/url?url=${encodeURIComponent(link)}&text=${encodeURIComponent("Mời bạn vào Gia đình ông Lò Văn Páo — Gia đình học tập trên bot Khuyến học")}`);
  });
});

describe("joining by the link", () => {
  it("adds a registered person at once and shows the family; the status and the card line follow", async () => {
    const owner = await citizen("Lò Văn Páo");
    const f = await withFamily(owner);
    const wife = await citizen("Lò Thị Mai");
    const joined = (await wife.send(`/start f_${f.inviteToken}`)).join("\n");
    expect(joined).toContain("✅ Bạn đã vào Gia đình ông Lò Văn Páo");
    expect(joined).toContain("• Lò Văn Páo 👑 chủ gia đình\n• Lò Thị Mai (bạn)");
    expect(wife.buttons()).toEqual(["🚪 Rời gia đình"]);
    expect((await wife.send("/me")).join("\n")).toContain("👪 Gia đình học tập: Gia đình ông Lò Văn Páo — 🔸 Đang phấn đấu: chưa khai trẻ em trong độ tuổi đi học có đến trường không");

    // The owner declares the children at school: every member's card shows the family as met.
    await owner.send("/family");
    await owner.press("Trẻ em đi học");
    const saved = await owner.press("Có, đều đến trường");
    expect(saved).toContain("[answer] Đã lưu.");
    expect(saved.join("\n")).toContain("Trạng thái: ✅ Gia đình học tập");
    expect((await wife.send("/me")).join("\n")).toContain("👪 Gia đình học tập: Gia đình ông Lò Văn Páo — ✅ Gia đình học tập");
    // Someone in no family has no such line.
    expect((await (await citizen()).send("/me")).join("\n")).not.toContain("👪");
  });

  it("offers registration to someone not registered, and joins them right after the card is saved", async () => {
    const owner = await citizen();
    const f = await withFamily(owner, "Gia đình bà Hoa");
    const u = stranger();
    expect((await u.send(`/start f_${f.inviteToken}`)).join("\n")).toContain("Để vào Gia đình bà Hoa, bạn cần đăng ký Công dân học tập trước");
    expect(await h.db.prisma.learningGroupMember.count({ where: { userId: BigInt(u.id) } })).toBe(0);
    await u.press("Đồng ý");
    await u.send(DEFAULTS.name);
    await u.send(DEFAULTS.year);
    await u.press(DEFAULTS.province);
    await u.send(DEFAULTS.communeQuery);
    await u.press(DEFAULTS.commune);
    await u.press(DEFAULTS.affiliation);
    for (const g of DEFAULTS.goals) await u.press(g);
    await u.press("Xong");
    await u.send("Bỏ qua");
    const done = (await u.press("Xác nhận")).join("\n");
    expect(done).toContain("THẺ CÔNG DÂN HỌC TẬP");
    expect(done).toContain("✅ Bạn đã vào Gia đình bà Hoa. Gõ /family để xem gia đình.");
    expect(await roles(f.id)).toEqual([[String(owner.id), "owner"], [String(u.id), "member"]]);
  });

  it("refuses someone already in another family (naming it), a wrong link and a replaced one", async () => {
    const first = await withFamily(await citizen(), "Gia đình ông Páo");
    const second = await withFamily(await citizen(), "Gia đình bà Mai");
    const u = await citizen();
    await u.send(`/start f_${first.inviteToken}`);
    expect((await u.send(`/start f_${second.inviteToken}`)).join("\n")).toContain("Bạn đang ở trong Gia đình ông Páo. Mỗi người chỉ ở một Gia đình học tập");
    expect((await (await citizen()).send(`/start f_${"B".repeat(24)}`)).join("\n")).toContain("Link mời không đúng hoặc đã được đổi");
    // A new link: the old one stops working.
    const owner = h.user(Number((await h.db.prisma.learningGroupMember.findFirstOrThrow({ where: { groupId: second.id, role: "owner" } })).userId));
    await owner.send("/family");
    await owner.press("Đổi link mời");
    const fresh = (await owner.press("🔄 Đổi link")).join("\n");
    const token = (await h.db.prisma.learningGroup.findUniqueOrThrow({ where: { id: second.id } })).inviteToken;
    expect(token).not.toBe(second.inviteToken);
    expect(fresh).toContain(`?start=f_${token}`);
    expect((await (await citizen()).send(`/start f_${second.inviteToken}`)).join("\n")).toContain("Link mời không đúng hoặc đã được đổi");
  });
});

describe("the owner's buttons and leaving", () => {
  it("removes a member after confirming, and an owner leaving hands the family to the longest-standing member", async () => {
    const owner = await citizen("Lò Văn Páo");
    const f = await withFamily(owner);
    const mai = await citizen("Lò Thị Mai");
    await mai.send(`/start f_${f.inviteToken}`);
    clock.advance(60_000);
    const anh = await citizen("Lò Văn Anh");
    await anh.send(`/start f_${f.inviteToken}`);

    await owner.send("/family");
    await owner.press("Bớt thành viên");
    await owner.press("Lò Văn Anh");
    expect(lastMessage(owner).text).toContain("Bớt Lò Văn Anh khỏi Gia đình ông Lò Văn Páo?");
    const removed = await owner.press("➖ Bớt");
    expect(removed).toContain("[answer] Đã bớt Lò Văn Anh khỏi gia đình.");
    expect(await roles(f.id)).toEqual([[String(owner.id), "owner"], [String(mai.id), "member"]]);

    await owner.send("/family");
    await owner.press("Rời gia đình");
    expect(lastMessage(owner).text).toContain("Quyền chủ gia đình sẽ chuyển cho Lò Thị Mai");
    expect((await owner.press("🚪 Rời gia đình")).join("\n")).toContain("Lò Thị Mai nay là chủ gia đình");
    expect(await roles(f.id)).toEqual([[String(mai.id), "owner"]]);
    await mai.send("/family");
    expect(mai.buttons()).toContain("🔗 Link mời thành viên");
  });

  it("answers forged and stale buttons without changing anything", async () => {
    const owner = await citizen();
    const f = await withFamily(owner);
    const member = await citizen();
    await member.send(`/start f_${f.inviteToken}`);

    // A member forging the owner's buttons.
    expect(await member.pressData(`fm:kidy.${f.id}`)).toEqual(["[answer] Chỉ chủ gia đình làm được việc này."]);
    expect(await member.pressData(`fm:rmok.${f.id}.${owner.id}`)).toEqual(["[answer] Chỉ chủ gia đình làm được việc này."]);
    expect(await member.pressData(`fm:rotok.${f.id}`)).toEqual(["[answer] Chỉ chủ gia đình làm được việc này."]);
    expect(await member.pressData(`fm:inv.${f.id}`)).toEqual(["[answer] Chỉ chủ gia đình làm được việc này."]);
    // Data that is no button of ours at all.
    expect((await member.pressData("fm:drop.1")).join("\n")).toMatch(/^\[answer\] /);
    // Someone of another family pressing this family's buttons.
    const other = await citizen();
    await withFamily(other, "Gia đình khác");
    expect(await other.pressData(`fm:leaveok.${f.id}`)).toEqual(["[answer] Nút này của một gia đình bạn không còn ở trong. Gõ /family để xem gia đình hiện tại."]);
    expect(await (await citizen()).pressData(`fm:view.${f.id}`)).toEqual(["[answer] Bạn không còn ở trong Gia đình học tập nào. Gõ /family."]);

    const row = await h.db.prisma.learningGroup.findUniqueOrThrow({ where: { id: f.id } });
    expect(row).toMatchObject({ childrenInSchool: null, inviteToken: f.inviteToken });
    expect(await roles(f.id)).toEqual([[String(owner.id), "owner"], [String(member.id), "member"]]);
    expect(await h.db.prisma.learningGroupMember.count({ where: { userId: BigInt(other.id) } })).toBe(1);
  });
});
