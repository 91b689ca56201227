/**
 * The CPU backend's kernel registry: every specialised loop is registered under (operation, gate
 * form, k, d) with its implementations — `js` (always) and `simd` (a WebAssembly binding, only on
 * the shapes {@link simdShape} allows) — and {@link dispatch} is the one place that chooses between
 * them. The operation files in src/em/backend/cpu/ register their variants (k = 2, 3, generic).
 */
import { SIMD_D_MAX, SIMD_K_MAX } from './simd/layout.js';
import { runSimd, commonArena, type SimdKernel } from './simd/driver.js';

/** The data-parallel operations with registered kernels. */
export type Operation =
  | 'gateProbs'
  | 'gateRows'
  | 'eStep'
  | 'logLik'
  | 'softmaxLogLik'
  | 'topkLogLik'
  | 'moments'
  | 'gradCurv'
  | 'gradHess'
  | 'hessian';
/** How the gate's logits are formed: linear (softmax), masked (top-K), activation (dense-to-sparse); none: no gate. */
export type GateForm = 'linear' | 'masked' | 'activation' | 'none';
/** A dimension of the key: a value, or '*' for every value (the generic loop). */
export type Dim = number | '*';

/** The implementations of one kernel; C is the operation's call context (reused between calls). */
export interface KernelImpl<C> {
  /** the JS kernel over every row of the call; returns the call's result (an operation's total, or 0) */
  js(c: C): number;
  /** the WebAssembly SIMD binding */
  simd?: SimdKernel<C>;
}

/**
 * The shapes of the generic SIMD kernels (loops over experts and coordinates): 2 ≤ k ≤ SIMD_K_MAX,
 * 1 ≤ d ≤ SIMD_D_MAX, except d = 1 with k ≤ 3, which keeps its specialised kernels (where an operation
 * has none, the JS loop: the papers' fits, and so the goldens, keep their bits).
 */
export function genericSimdShape(k: number, d: number): boolean {
  return k >= 2 && k <= SIMD_K_MAX && d >= 1 && d <= SIMD_D_MAX && (d > 1 || k > 3);
}

/**
 * The eligibility rule of the SIMD kernels, in one place: d = 1 and k ∈ {2, 3} (the specialised
 * kernels), or a generic shape ({@link genericSimdShape}).
 */
export function simdShape(k: number, d: number): boolean {
  return (d === 1 && (k === 2 || k === 3)) || genericSimdShape(k, d);
}

/** a generic entry: its implementations, and the same without the SIMD binding (shapes outside the rule) */
interface Entry {
  full: KernelImpl<never>;
  jsOnly: KernelImpl<never>;
  generic: boolean;
}
const table = new Map<string, Entry>();
const key = (op: Operation, form: GateForm, k: Dim, d: Dim): string => `${op}/${form}/${k}/${d}`;

/**
 * Registers a kernel. A SIMD binding of an exact shape needs {@link simdShape}; one of a generic key
 * ('*') runs only on the shapes {@link genericSimdShape} allows.
 */
export function register<C>(op: Operation, form: GateForm, k: Dim, d: Dim, impl: KernelImpl<C>): void {
  const id = key(op, form, k, d);
  if (table.has(id)) throw new Error(`kernel registry: ${id} registered twice`);
  const generic = k === '*' || d === '*';
  if (impl.simd !== undefined && !generic && !simdShape(k, d))
    throw new Error(`kernel registry: ${id} cannot have a SIMD kernel`);
  const full = impl as KernelImpl<never>;
  table.set(id, { full, jsOnly: { js: full.js }, generic });
}

/** The kernel for (op, form, k, d): the exact shape, else generic in k, else generic in k and d. */
export function lookup<C>(op: Operation, form: GateForm, k: number, d: number): KernelImpl<C> | undefined {
  const e = table.get(key(op, form, k, d)) ?? table.get(key(op, form, '*', d)) ?? table.get(key(op, form, '*', '*'));
  if (e === undefined) return undefined;
  return (e.generic && !genericSimdShape(k, d) ? e.jsOnly : e.full) as KernelImpl<C>;
}

/**
 * Runs the call c (n rows): through its SIMD kernel when `simd` is on, the kernel has one and every
 * array of the call lies in one arena, else through its JS kernel.
 */
export function dispatch<C>(impl: KernelImpl<C>, c: C, n: number, simd: boolean): number {
  const sk = impl.simd;
  if (simd && sk !== undefined) {
    const A = commonArena(sk.arrays(c));
    if (A !== undefined) {
      const out = runSimd(A, sk, c, n);
      if (out !== undefined) return out;
    }
  }
  return impl.js(c);
}
