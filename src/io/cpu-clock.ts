/**
 * CPU time of the calling thread. A sweep's cells run on worker threads that share the machine's
 * cores with each other and with whatever else runs there, so a cell's wall time measures the load
 * as much as the work; the planner turns work into CPU time and needs the latter.
 */
import { readFileSync } from 'node:fs';

/** Linux: the first field of /proc/thread-self/schedstat is the thread's time on a CPU, in ns. */
const SCHEDSTAT = '/proc/thread-self/schedstat';

/** CPU seconds the calling thread has used so far, or null where the OS does not say (not Linux). */
export function threadCpuSeconds(): number | null {
  try {
    const ns = Number(readFileSync(SCHEDSTAT, 'utf8').split(' ', 1)[0]);
    return Number.isFinite(ns) && ns >= 0 ? ns / 1e9 : null;
  } catch {
    return null;
  }
}

/**
 * A stopwatch started now: each call returns the seconds since, as the calling thread's CPU time
 * where the OS reports it, else as wall time (say which through `cpu`).
 */
export function startCpuClock(): { elapsed: () => number; cpu: boolean } {
  const c0 = threadCpuSeconds();
  if (c0 !== null) return { elapsed: () => (threadCpuSeconds() ?? c0) - c0, cpu: true };
  const t0 = performance.now();
  return { elapsed: () => (performance.now() - t0) / 1000, cpu: false };
}
