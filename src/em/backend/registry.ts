/**
 * The CPU backend's kernel registry: every specialised loop is registered under (operation, gate
 * form, k, d) with its implementations — `js` (always) and `simd` (a WebAssembly binding, only on
 * the shapes {@link simdShape} allows) — and {@link dispatch} is the one place that chooses between
 * them. The operation files in src/em/backend/cpu/ register their variants (k = 2, 3, generic).
 */
import { runSimd, commonArena, type SimdKernel } from './simd/driver.js';

/** The data-parallel operations with registered kernels. */
export type Operation = 'gateProbs' | 'eStep' | 'logLik' | 'moments' | 'gradCurv' | 'gradHess';
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

/** The eligibility rule of the SIMD kernels, in one place: d = 1 and k ∈ {2, 3}. */
export function simdShape(k: number, d: number): boolean {
  return d === 1 && (k === 2 || k === 3);
}

const table = new Map<string, KernelImpl<never>>();
const key = (op: Operation, form: GateForm, k: Dim, d: Dim): string => `${op}/${form}/${k}/${d}`;

/** Registers a kernel; a SIMD binding only where {@link simdShape} holds. */
export function register<C>(op: Operation, form: GateForm, k: Dim, d: Dim, impl: KernelImpl<C>): void {
  const id = key(op, form, k, d);
  if (table.has(id)) throw new Error(`kernel registry: ${id} registered twice`);
  if (impl.simd !== undefined && (k === '*' || d === '*' || !simdShape(k, d)))
    throw new Error(`kernel registry: ${id} cannot have a SIMD kernel`);
  table.set(id, impl as KernelImpl<never>);
}

/** The kernel for (op, form, k, d): the exact shape, else generic in k, else generic in k and d. */
export function lookup<C>(op: Operation, form: GateForm, k: number, d: number): KernelImpl<C> | undefined {
  return (table.get(key(op, form, k, d)) ?? table.get(key(op, form, '*', d)) ?? table.get(key(op, form, '*', '*'))) as
    KernelImpl<C> | undefined;
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
