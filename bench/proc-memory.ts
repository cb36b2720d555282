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

/** CPU time (user + system) the process has used so far, in milliseconds. */
export function procCpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces): state is field 3; utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Linux's USER_HZ: 100 on every architecture Node runs on. */
const CLOCK_TICKS = 100;
