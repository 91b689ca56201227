/**
 * Test-only fault injection (issue 16), read from the environment variable GMOE_TEST_FAULT, so that
 * the reliability tests drive real faults through the real CLI, worker threads and Slurm tasks.
 * Unset (always, outside tests) it costs one lookup per cell. Comma-separated items:
 *   delay=MS               every cell sleeps MS milliseconds first (a slow sweep, to interrupt it)
 *   throw@N:R              the cell (n = N, rep = R) throws inside the evaluator
 *   exit@N:R               the worker thread evaluating that cell calls process.exit(3) mid-cell
 *   crash@N:R              the worker thread throws an uncaught error mid-cell
 *   stall-write=NAME:MS    an atomic write of file NAME writes half, then stalls MS ms (a window for SIGTERM)
 */
export const FAULT_ENV = 'GMOE_TEST_FAULT';

export type CellFault = 'throw' | 'exit' | 'crash';

export interface Faults {
  delayMs: number;
  cells: Map<string, CellFault>;
  stallWrite?: { name: string; ms: number };
}

/**
 * Parses a GMOE_TEST_FAULT value.
 * @throws Error naming the item for a malformed value (a typo must not silently disable a test)
 */
export function parseFaults(text: string | undefined): Faults {
  const faults: Faults = { delayMs: 0, cells: new Map() };
  if (!text) return faults;
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let m: RegExpMatchArray | null;
    if ((m = /^delay=(\d+)$/.exec(item))) faults.delayMs = Number(m[1]);
    else if ((m = /^(throw|exit|crash)@(\d+):(\d+)$/.exec(item)))
      faults.cells.set(`${m[2]}:${m[3]}`, m[1] as CellFault);
    else if ((m = /^stall-write=([^:]+):(\d+)$/.exec(item))) faults.stallWrite = { name: m[1]!, ms: Number(m[2]) };
    else throw new Error(`${FAULT_ENV}: unknown item. Value: ${item}`);
  }
  return faults;
}

let cached: { text: string | undefined; faults: Faults } | undefined;
/** The faults of this process's environment (parsed once per value). */
export function activeFaults(): Faults {
  const text = process.env[FAULT_ENV];
  if (!cached || cached.text !== text) cached = { text, faults: parseFaults(text) };
  return cached.faults;
}

/** Blocks the calling thread for `ms` milliseconds (a worker thread: nothing else runs there). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
