/**
 * The fast path of {@link logLikDerivatives} for the softmax (linear, unmasked) gate: the per-sample
 * pass as weighted moment sums in the kernel registry (operation 'hessian', src/em/backend/cpu/hessian.ts:
 * a JS loop and a WebAssembly SIMD kernel), then the P × P Hessian assembled here from the blocks,
 * in O(P²) whatever n. Same value as the reference (hessian.ts) up to rounding (the sums are taken in
 * another order; test/em/hessian-kernel.test.ts holds them to 1e-10 relative).
 */
import { getGate } from '../../models/gates/index.js';
import type { Dataset, Model } from '../../models/types.js';
import {
  HESS_SIMD_D_MAX,
  HESS_SIMD_K_MAX,
  hessSums,
  hessSumsCall,
  hessSumsLayout,
  hessSumsParams,
} from '../backend/cpu/hessian.js';
import { commonArena } from '../backend/simd/driver.js';
import { toLogScales, type LogLikDerivatives } from './hessian.js';
import { nuIndex, type ParamLayout } from './params.js';

/** Whether the fast path covers this model and layout: the softmax (linear) gate with no free τ. */
export function fastHessianCovers(L: ParamLayout, m: Model): boolean {
  return getGate(m.gate).form === 'linear' && L.gate.tauIndex < 0 && L.k === m.k && L.d === m.d;
}

/**
 * Whether the fast path runs its WebAssembly kernel here: covered, k ≤ 8, d ≤ 4, and data.X, data.y in
 * one arena (a fit's data with the SIMD backend). Its JS loop alone is no faster than the reference
 * (measured: 0.8–0.9×), so callers that want speed ask this first.
 */
export function fastHessianSimd(L: ParamLayout, m: Model, data: Dataset): boolean {
  return (
    fastHessianCovers(L, m) &&
    m.k <= HESS_SIMD_K_MAX &&
    m.d <= HESS_SIMD_D_MAX &&
    commonArena([data.X, data.y]) !== undefined
  );
}

/**
 * L, ∇L and ∇²L at the model (as logLikDerivatives with hessian = true), or null where
 * {@link fastHessianCovers} says no or where L is not finite (callers then take the reference, which
 * gives the same NaN or infinity or handles the row exactly). `simd`: use the WebAssembly kernel when data.X and data.y lie in
 * one arena (a fit's data with the SIMD backend), else the JS loop.
 */
export function fastLogLikDerivatives(L: ParamLayout, m: Model, data: Dataset, simd = true): LogLikDerivatives | null {
  if (!fastHessianCovers(L, m)) return null;
  const { k, d } = m;
  if (data.d !== d) throw new Error(`data.d must equal the model's d = ${d}. Value: ${data.d}`);
  const par = hessSumsParams(k, d, m.beta0, m.beta1, m.a, m.b, m.nu);
  const call = hessSumsCall(k, d, data.X, data.y, data.n, par);
  // the layout holds the reference's gate coordinates: assemble never reads their sums
  call.skipRef = [...Array(d + 1).keys()].every((a) => gateIndex(L, k - 1, a) < 0);
  const S = hessSums(call, simd);
  // a non-finite row (overflowing logits, NaN parameters): the reference says what that gives
  const ll = S[hessSumsLayout(k, d).ll]!;
  if (!Number.isFinite(ll)) return null;
  const P = L.P;
  const grad = new Float64Array(P);
  const H = new Float64Array(P * P);
  assemble(L, S, grad, H);
  toLogScales(L, m, grad, H);
  return { logLik: ll, gradient: grad, hessian: H };
}

/** θ index of the gate's coefficient of φ_a for expert l (φ_0 = 1: β0; else β1_{a−1}); −1 when fixed. */
function gateIndex(L: ParamLayout, l: number, a: number): number {
  if (a === 0) return L.gate.b0Index[l]!;
  const b1 = L.gate.b1Index[l]!;
  return b1 < 0 ? -1 : b1 + a - 1;
}

/** θ index of expert j's coefficient of φ_a (φ_0 = 1: b_j; else a_j,a−1). */
function expertIndex(L: ParamLayout, j: number, a: number): number {
  const eo = L.expertOffset + j * (L.d + 2);
  return a === 0 ? eo + L.d : eo + a - 1;
}

/** grad and H (natural ν) from the sums S of hessian.ts (layout hessSumsLayout). */
export function assemble(L: ParamLayout, S: Float64Array, grad: Float64Array, H: Float64Array): void {
  const { k, d, P } = L;
  const Ls = hessSumsLayout(k, d);
  const { m, nm } = Ls;
  // monomial index of (a, b): row a of the upper triangle
  const mono = (a: number, b: number): number => {
    const lo = Math.min(a, b),
      hi = Math.max(a, b);
    return lo * m - (lo * (lo - 1)) / 2 + (hi - lo);
  };
  const put = (s: number, t: number, v: number): void => {
    if (s < 0 || t < 0) return;
    H[s * P + t] = v;
    H[t * P + s] = v;
  };
  let o = Ls.gg;
  for (let l = 0; l < k; l++)
    for (let l2 = l; l2 < k; l2++, o += nm)
      for (let a = 0; a < m; a++)
        for (let b = 0; b < m; b++) put(gateIndex(L, l, a), gateIndex(L, l2, b), S[o + mono(a, b)]!);
  for (let j = 0; j < k; j++)
    for (let l = 0; l < k; l++) {
      const og = Ls.ge + (j * k + l) * nm;
      const on = Ls.gn + (j * k + l) * m;
      for (let a = 0; a < m; a++) {
        const g = gateIndex(L, l, a);
        for (let b = 0; b < m; b++) put(g, expertIndex(L, j, b), S[og + mono(a, b)]!);
        put(g, nuIndex(L, j), S[on + a]!);
      }
    }
  o = Ls.ee;
  let os = Ls.nn;
  for (let j = 0; j < k; j++)
    for (let j2 = 0; j2 < k; j2++) {
      const ov = Ls.en + (j * k + j2) * m;
      for (let a = 0; a < m; a++) put(expertIndex(L, j, a), nuIndex(L, j2), S[ov + a]!);
      if (j2 < j) continue;
      for (let a = 0; a < m; a++)
        for (let b = 0; b < m; b++) put(expertIndex(L, j, a), expertIndex(L, j2, b), S[o + mono(a, b)]!);
      put(nuIndex(L, j), nuIndex(L, j2), S[os]!);
      o += nm;
      os++;
    }
  for (let l = 0; l < k; l++) {
    for (let a = 0; a < m; a++) {
      const g = gateIndex(L, l, a);
      if (g >= 0) grad[g] = S[Ls.gradG + l * m + a]!;
      grad[expertIndex(L, l, a)] = S[Ls.gradE + l * m + a]!;
    }
    grad[nuIndex(L, l)] = S[Ls.gradN + l]!;
  }
}
