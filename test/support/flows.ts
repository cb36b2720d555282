import type { TestUser } from "./harness.js";

export interface Answers {
  name?: string;
  year?: string;
  province?: string;
  communeQuery?: string;
  commune?: string;
  affiliation?: string;
  unit?: string;
  goals?: string[];
  phone?: "skip" | "share";
}

export const DEFAULTS: Required<Answers> = {
  name: "Nguyễn Thị Hoa",
  year: "1985",
  province: "Tuyên Quang",
  communeQuery: "lung cu",
  commune: "Lũng Cú",
  affiliation: "Người dân",
  unit: "",
  goals: ["Pháp luật", "Kỹ năng số"],
  phone: "skip",
};

/** Walks the Vietnamese registration up to the summary, answering like a person would. */
export async function fillRegistration(u: TestUser, answers: Answers = {}): Promise<void> {
  const a = { ...DEFAULTS, ...answers };
  await u.send("/start");
  await u.press("Đăng ký Công dân học tập");
  await u.press("Đồng ý");
  await u.send(a.name);
  await u.send(a.year);
  await u.press(a.province);
  await u.send(a.communeQuery);
  await u.press(a.commune);
  await u.press(a.affiliation);
  if (a.unit) await u.send(a.unit);
  for (const g of a.goals) await u.press(g);
  await u.press("Xong");
  if (a.phone === "share") await u.shareContact("84912345678");
  else await u.send("Bỏ qua");
}

/** Full registration, confirmed. Returns the bot's last replies (the card). */
export async function register(u: TestUser, answers: Answers = {}): Promise<string[]> {
  await fillRegistration(u, answers);
  return u.press("Xác nhận");
}

/** Starts a registration and answers up to (not including) the given step. */
export async function startAt(u: TestUser, step: "name" | "year" | "province" | "commune" | "affiliation" | "goals" | "phone"): Promise<void> {
  await u.send("/start");
  await u.press("Đăng ký");
  await u.press("Đồng ý");
  if (step === "name") return;
  await u.send("Phạm Văn Đồng");
  if (step === "year") return;
  await u.send("1990");
  if (step === "province") return;
  await u.press("Hải Phòng");
  if (step === "commune") return;
  await u.send("le chan");
  await u.press("Lê Chân");
  if (step === "affiliation") return;
  await u.press("Hội viên khuyến học");
  if (step === "goals") return;
  await u.press("Sức khỏe");
  await u.press("Xong");
}

/** What a flow keeps in Redis for a chat: the updates its stored log replays, and its arguments. */
export async function storedFlow(redis: { get(key: string): Promise<string | null> }, chatId: number, flowId: string): Promise<{ raw: string; updates: number; args: unknown[] }> {
  const raw = await redis.get(`khb:conv:${chatId}`);
  if (raw === null) throw new Error(`no flow is stored for chat ${chatId}`);
  type Run = { args?: string; replay: { receive: { returnValue?: { update_id?: number } }[] } };
  const run = (JSON.parse(raw) as { state: Record<string, Run[]> }).state[flowId]?.[0];
  if (!run) throw new Error(`flow ${flowId} is not stored for chat ${chatId}`);
  return {
    raw,
    updates: run.replay.receive.filter((r) => r.returnValue?.update_id !== undefined).length,
    args: run.args === undefined ? [] : (JSON.parse(run.args) as unknown[]),
  };
}
