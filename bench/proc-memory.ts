/** Memory of other processes, read from Linux's /proc (the benchmark measures the bot apart). */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

export interface ProcMemory {
  pid: number;
  name: string;
  cmdline: string;
  /** Resident set now, MB. */
  rssMb: number;
  /** Peak resident set since start (or since resetPeak), MB. */
  hwmMb: number;
}

export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return {
    pid,
    name: /^Name:\s+(\S+)/m.exec(status)?.[1] ?? "?",
    cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim(),
    rssMb: kb("VmRSS") / 1024,
    hwmMb: kb("VmHWM") / 1024,
  };
}

/** The process and all its descendants, parents first. */
export function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    // exited meanwhile
  }
  return [pid, ...children.flatMap(processTree)];
}

/** Restarts VmHWM from the current RSS (Linux ≥ 4.0), so a later peak excludes start-up. */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}
