import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, MAX_UPDATES_PER_FLOW, MAX_UPDATES_PER_STEP } from "../../src/bot/flows/engine.js";
import { startAt } from "../support/flows.js";
import { useHarness } from "../support/harness.js";
import type { Message } from "grammy/types";
import { stickerMessage, photoMessage, editedMessage } from "../support/telegram/index.js";

const year = new Date().getUTCFullYear();
const h = useHarness();


describe("every text step validates and re-asks with a reason", () => {
  it("full name", async () => {
    const u = h.user(2001);
    await startAt(u, "name");
    // The reason alone, said once: it tells what is wrong and what to do.
    expect(await u.send("A")).toEqual(["Họ tên cần từ 2 đến 100 ký tự. Gõ lại họ và tên của bạn."]);
    expect((await u.send("x".repeat(101)))[0]).toMatch(/^Họ tên cần từ 2 đến 100 ký tự/);
    expect((await u.send("Nguyễn Văn 3"))[0]).toMatch(/^Họ tên chỉ gồm chữ cái/);
    expect((await u.send("<b>Hoa</b>"))[0]).toMatch(/^Họ tên chỉ gồm chữ cái/);
    expect((await u.sendUpdate(stickerMessage(u.tg)))[0]).toBe("Tôi chỉ đọc được chữ và nút bấm ở bước này. Gõ họ và tên của bạn.");
    expect((await u.sendUpdate(photoMessage(u.tg, "Hoa")))[0]).toMatch(/^Tôi chỉ đọc được chữ và nút bấm ở bước này/);
    expect(await u.sendUpdate(editedMessage(u.tg, "Hoa"))).toEqual(["Tôi không đọc tin nhắn đã sửa. Vui lòng gửi lại thành tin nhắn mới."]);
    expect((await u.send("Nguyễn Thị Hoa"))[0]).toMatch(/^Bước 2\/7/);
  });

  it("year of birth", async () => {
    const u = h.user(2002);
    await startAt(u, "year");
    expect(await u.send("85")).toEqual(["Năm sinh cần đúng 4 chữ số, ví dụ: 1985."]);
    expect((await u.send("1899"))[0]).toMatch(/^Năm sinh phải từ 1900 đến năm nay/);
    expect((await u.send(String(year + 1)))[0]).toMatch(/^Năm sinh phải từ 1900 đến năm nay/);
    expect((await u.send("năm 1990"))[0]).toMatch(/^Năm sinh cần đúng 4 chữ số/);
    expect((await u.send("1990"))[0]).toMatch(/^Bước 3\/7/);
  });

  it("province: typed search ignores diacritics and case, offers choices, explains misses", async () => {
    const u = h.user(2003);
    await startAt(u, "province");
    expect((await u.send("x"))[0]).toMatch(/^Gõ ít nhất 2 chữ cái/);
    expect(await u.send("atlantis")).toEqual(["Không tìm thấy tỉnh/thành nào tên «atlantis». Gõ lại tên (không cần dấu) hoặc chọn một nút ở trên."]);
    expect(await u.send("ninh")).toEqual(["Bạn chọn tỉnh/thành nào?"]);
    expect(u.buttons().sort()).toEqual(["Bắc Ninh", "Ninh Bình", "Quảng Ninh", "Tây Ninh"]);
    expect((await u.send("HẢI PHÒNG"))[1]).toMatch(/của Thành phố Hải Phòng\?/);
    // The choices offered for "ninh" are tidied away once the province is chosen.
    expect(u.buttons()).toEqual(["↩️ Đổi tỉnh/thành"]);
  });

  it("commune: at most 8 matches on buttons; none-of-these and misses re-ask", async () => {
    const u = h.user(2004);
    await startAt(u, "commune");
    expect((await u.send("zzz"))[0]).toMatch(/^Không có xã\/phường\/đặc khu nào ở Thành phố Hải Phòng khớp «zzz»/);
    // Too many to list: the first ones are shown on buttons, with what to do if yours is not there.
    expect((await u.send("an"))[0]).toMatch(/^Có \d+ nơi khớp; đây là 8 nơi đầu\. Nếu không thấy nơi của bạn, gõ thêm chữ để thu hẹp\.$/);
    expect(u.buttons()).toHaveLength(9);
    await u.send("le chan");
    expect(u.buttons()).toEqual(["Phường Lê Chân", "Không có trong danh sách"]);
    expect(await u.press("Không có trong danh sách")).toEqual(["Gõ lại tên xã/phường/đặc khu của bạn ở Thành phố Hải Phòng (có thể gõ một phần tên)."]);
    // A forged commune of another province (Ba Đình, Hà Nội) is refused server-side.
    expect((await u.pressData("p:com:00004"))[0]).toMatch(/^Lựa chọn không hợp lệ/);
    expect(await u.pressData("p:com:12")).toEqual(["[answer] Nút không hợp lệ."]);
    expect(await u.press("Phường Lê Chân")).toEqual(["✅ Xã/phường: Phường Lê Chân", "Bước 5/7. Bạn là:"]);
  });

  it("unit name", async () => {
    const u = h.user(2005);
    await startAt(u, "affiliation");
    await u.press("Công an");
    expect((await u.send("x"))[0]).toMatch(/^Tên đơn vị cần từ 2 đến 120 ký tự/);
    expect((await u.send("<script>"))[0]).toMatch(/^Tên đơn vị chỉ gồm chữ, số/);
    expect((await u.send("Công an phường Lê Chân"))[0]).toMatch(/^Bước 6\/7/);
  });

  it("goals: at least one; 'other' asks for text", async () => {
    const u = h.user(2006);
    await startAt(u, "goals");
    expect((await u.press("Xong"))[0]).toMatch(/^Hãy chọn ít nhất một mục tiêu học tập/);
    expect(await u.send("ngoại ngữ")).toEqual(["Vui lòng bấm một nút ở trên."]);
    await u.press("Khác");
    expect((await u.press("Xong"))[1]).toMatch(/Mục tiêu khác/);
    expect((await u.send("a"))[0]).toMatch(/^Mục tiêu cần từ 2 đến 200 ký tự/);
    expect((await u.send("Trồng cà phê bền vững"))[0]).toMatch(/^Bước 7\/7/);
  });

  it("phone: only the person's own contact, through the button", async () => {
    const u = h.user(2007);
    await startAt(u, "phone");
    expect((await u.send("0912345678"))[0]).toMatch(/^Để bảo đảm đúng số của bạn, hãy bấm «📱 Chia sẻ số của tôi»/);
    expect((await u.shareContact("84987654321", 999))[0]).toMatch(/^Đây không phải số của bạn/);
    const summary = await u.shareContact("84912345678");
    expect(summary.at(-1)).toContain("Điện thoại: +84912345678");
    expect(summary.at(-1)).toContain("Mục tiêu học tập: Sức khỏe, gia đình");
    const removal = u.callsSince().find((c) => c.method === "sendMessage" && (c.payload.reply_markup as { remove_keyboard?: boolean })?.remove_keyboard);
    expect(removal).toBeDefined();
  });

  it(`stops after ${MAX_ATTEMPTS} invalid answers in one step and stores nothing`, async () => {
    const u = h.user(2008);
    await startAt(u, "year");
    let last: string[] = [];
    for (let i = 0; i < MAX_ATTEMPTS; i++) last = await u.send("abc");
    expect(last[0]).toMatch(/quá nhiều câu trả lời chưa hợp lệ/);
    expect(await h.deps.conversations.read("2008")).toBeUndefined();
    expect(await h.db.prisma.user.findUnique({ where: { id: 2008n } })).toBeNull();
  });

  it.each([["bỏ qua", 2011], ["Bo qua", 2012], ["skip", 2013], ["không", 2014]])("phone: %j typed means skip", async (typed, id) => {
    const u = h.user(id);
    await startAt(u, "phone");
    const r = await u.send(typed);
    expect(r[0]).toBe("✅ Đã bỏ qua số điện thoại.");
    expect(r[1]).toContain("Điện thoại: không cung cấp");
  });

  it(`ends a runaway step after ${MAX_UPDATES_PER_STEP} updates, valid ones included`, async () => {
    const u = h.user(2010);
    await startAt(u, "goals");
    let last: string[] = [];
    for (let i = 0; i < MAX_UPDATES_PER_STEP + 1; i++) last = await u.press("Pháp luật");
    expect(last).toEqual(["Có quá nhiều câu trả lời chưa hợp lệ nên tôi dừng tại đây, chưa lưu gì. Gõ /start để bắt đầu lại."]);
    expect(await h.deps.conversations.read("2010")).toBeUndefined();
  });

  it(`ends a flow after ${MAX_UPDATES_PER_FLOW} updates in all, counted across its questions`, async () => {
    // Each question starts a fresh stored log (segments), yet the flow's count goes on: one goal,
    // then 38 toggles and "Xong" at the goals and Back from the phone, again and again.
    const u = h.user(2015);
    await startAt(u, "goals");
    let sent = 0;
    let last: string[] = [];
    const stop = "Có quá nhiều câu trả lời chưa hợp lệ nên tôi dừng tại đây, chưa lưu gì. Gõ /start để bắt đầu lại.";
    const act = async (f: () => Promise<string[]>) => {
      sent++;
      last = await f();
      return last.includes(stop);
    };
    await act(() => u.press("Sức khỏe"));
    cycle: for (let cycle = 0; cycle < 8; cycle++) {
      for (let i = 0; i < MAX_UPDATES_PER_STEP - 2; i++) if (await act(() => u.press("Pháp luật"))) break cycle;
      if (await act(() => u.press("Xong"))) break;
      if (await act(() => u.send("↩️ Quay lại"))) break;
    }
    expect(last).toEqual([stop]);
    // Seven updates were taken before the goals question, so this was the flow's 201st.
    expect(sent).toBe(MAX_UPDATES_PER_FLOW + 1 - 7);
    expect(await h.deps.conversations.read("2015")).toBeUndefined();
  });
});

describe("button-only questions point typed text back to the buttons", () => {
  it("consent, who-you-are and the summary", async () => {
    const u = h.user(2201);
    await u.send("/start");
    await u.press("Đăng ký");
    expect(await u.send("vâng")).toEqual(["Vui lòng bấm một nút ở trên."]);
    // Typing a button's exact label is the same as pressing it.
    expect((await u.send("đồng ý")).join("\n")).toMatch(/họ và tên/i);
    await u.send("Phạm Văn Đồng");
    await u.send("1990");
    await u.press("Hải Phòng");
    await u.send("le chan");
    await u.press("Lê Chân");
    expect(await u.send("công an")).toEqual(["Vui lòng bấm một nút ở trên."]);
    await u.press("Người dân");
    await u.press("Pháp luật");
    await u.press("Xong");
    await u.send("Bỏ qua");
    expect(await u.send("ok")).toEqual(["Vui lòng bấm một nút ở trên."]);
    await u.press("Sửa");
    expect(await u.send("tên")).toEqual(["Vui lòng bấm một nút ở trên."]);
    // The field's label typed picks it, as the button does.
    expect((await u.send("họ tên")).join("\n")).toMatch(/họ và tên/i);
    expect((await u.send("Phạm Văn Đông")).at(-1)).toContain("Họ tên: Phạm Văn Đông");
    expect((await u.press("Xác nhận"))[0]).toContain("Chúc mừng");
  });
});

describe("leaving and interrupting flows", () => {
  it("/cancel leaves at any step, stores nothing, and old buttons go stale", async () => {
    const u = h.user(2101);
    await startAt(u, "goals");
    expect(await u.send("/cancel")).toEqual(["Đã dừng. Những gì bạn vừa nhập chưa được lưu. Gõ /start để bắt đầu lại."]);
    expect(await h.db.prisma.user.findUnique({ where: { id: 2101n } })).toBeNull();
    expect(await u.press("Pháp luật")).toEqual(["[answer] Nút này đã hết hiệu lực. Gõ /help để xem các lệnh."]);
    expect(await u.send("/cancel")).toEqual(["Không có việc nào đang làm dở để dừng. Gõ /help để xem các lệnh."]);
  });

  it("other commands work mid-flow and the flow continues", async () => {
    const u = h.user(2102);
    await startAt(u, "year");
    expect((await u.send("/help"))[0]).toMatch(/^Các lệnh/);
    expect(await u.send("/start")).toEqual(["Bạn đang đăng ký dở. Hãy trả lời câu hỏi gần nhất ở trên, hoặc gõ /cancel để dừng."]);
    expect((await u.send("/foo"))[0]).toBe("Tôi chưa hiểu lệnh này. Gõ /help để xem các lệnh có thể dùng.");
    expect((await u.send("1990"))[0]).toMatch(/^Bước 3\/7/);
  });

  it("a stale button from an earlier step is answered, not taken as an answer", async () => {
    const u = h.user(2103);
    await startAt(u, "name");
    expect(await u.pressData("p:prov:01")).toEqual(["[answer] Nút này đã hết hiệu lực. Gõ /help để xem các lệnh."]);
    expect((await u.send("Phạm Văn Đồng"))[0]).toMatch(/^Bước 2\/7/);
    // So is the Back button of a question already answered.
    const backOfName = h.fake.sent(2103).map((c) => c.result as Message).find((m) => m.text?.startsWith("Bước 1/7"))!;
    expect(await u.pressData("f:back:go", backOfName)).toEqual(["[answer] Nút này đã hết hiệu lực. Gõ /help để xem các lệnh."]);
    expect((await u.send("1990"))[0]).toMatch(/^Bước 3\/7/);
  });
});
