/**
 * The one driver of the SIMD kernels: a kernel binding ({@link SimdKernel}) says how to load a
 * call's parameters into the arena, which export to run on which arrays, which rows fall back to
 * its JS twin, and how to read the result back; {@link runSimd} does the rest, for every kernel.
 *
 * Two kinds of kernels (src/em/backend/simd/gen):
 * - 'rows' kernels run row pairs [p, pairs) and return the first pair they refuse (a row that needs
 *   the JS kernel's guarded path): refused pairs and an odd last row go to JS (simd/pairs.ts);
 * - 'sums' kernels run every pair in one call (they refuse nothing); an odd last row goes to JS.
 * Per-row values are the JS kernels' bits; sums over rows are added lane by lane (rows 0, 2, 4… and
 * 1, 3, 5…), then lane 0 + lane 1, then the JS rows — another order than the JS kernels', so totals
 * differ from theirs in the last bits, deterministically.
 */
import { arenaOf, type Arena, type KernelExports } from './arena.js';
import { wasmCalls } from './calls.js';
import { runPairs } from './pairs.js';

/** What a binding's setup hands the driver: the export and its leading arguments (byte offsets, flags). */
export interface SimdSetup {
  kernel: KernelExports[keyof KernelExports];
  args: number[];
}

/** How one operation runs through its SIMD kernel; C is the operation's call context. */
export interface SimdKernel<C> {
  readonly mode: 'rows' | 'sums';
  /** the family counted in wasmCalls (tests: that the fast path was taken) */
  readonly counter: 'eStep' | 'gate' | 'sums' | 'logLik' | 'hessian';
  /** the arrays that must lie in one arena for the kernel to run */
  arrays(c: C): readonly ArrayBufferView[];
  /** loads par / resets acc; null: no kernel for this call (the JS kernel takes every row) */
  setup(A: Arena, c: C): SimdSetup | null;
  /**
   * 'rows' kernels that stop for a second reason (topkll3: cpu/topk-loglik.ts): runs the kernel
   * from pair p, deals with those stops itself, and returns the first pair for `rows` (or ≥ pairs)
   */
  resume?(A: Arena, c: C, run: (p: number, pairs: number) => number, p: number, pairs: number): number;
  /** the JS kernel on rows [row0, row0 + rows): their share of the call's sum (0 if none) */
  rows(c: C, row0: number, rows: number): number;
  /** the call's result from the accumulators and the JS rows' share */
  finish(A: Arena, c: C, jsSum: number): number;
}

/** The arena that holds every one of these arrays, if any. */
export function commonArena(arrays: readonly ArrayBufferView[]): Arena | undefined {
  const A = arenaOf(arrays[0]!);
  if (A === undefined) return undefined;
  for (let t = 1; t < arrays.length; t++) if (arrays[t]!.buffer !== A.memory.buffer) return undefined;
  return A;
}

/**
 * Runs the call c over its n rows through the kernel in arena A; undefined when the binding has no
 * kernel for it (the caller runs its JS kernel on every row).
 */
export function runSimd<C>(A: Arena, sk: SimdKernel<C>, c: C, n: number): number | undefined {
  const s = sk.setup(A, c);
  if (s === null) return undefined;
  wasmCalls[sk.counter]++;
  const run = s.kernel as (...a: number[]) => number;
  const args = s.args;
  let jsSum: number;
  if (sk.mode === 'rows') {
    const call = (p: number, pairs: number): number => run(...args, p, pairs);
    const resume = sk.resume;
    jsSum = runPairs(n, resume ? (p, pairs) => resume(A, c, call, p, pairs) : call, (i0, len) => sk.rows(c, i0, len));
  } else {
    run(...args, 0, n >> 1);
    jsSum = n & 1 ? sk.rows(c, n - 1, 1) : 0;
  }
  return sk.finish(A, c, jsSum);
}
