// CPU time of processes from /proc, for the benchmarks that report CPU per request (Linux: USER_HZ 100).
import fs from "node:fs";

const TICK_MS = 10;

/** CPU time (user + system, ms) of a process, and with `children` that of its children that have ended. */
export function cpuMs(pid: number, children = false): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
    return ticks * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU time of a process, its live children and the children it reaped (the PostgreSQL postmaster, say). */
export function treeCpuMs(pid: number): number {
  let total = cpuMs(pid, true);
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = fs.readFileSync(`/proc/${entry}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
      if (Number(fields[1]) === pid) total += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    } catch {
      // ended meanwhile
    }
  }
  return total;
}
