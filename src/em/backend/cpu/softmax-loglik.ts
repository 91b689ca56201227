/**
 * The observed log-likelihood of a softmax (linear, unmasked) gate's model in one pass
 * (operation 'softmaxLogLik'): Σ_i [log Σ_j e^(w_ij) − log Σ_j e^(v_ij)] with the logits
 * v_ij = β0_j + β1_j·x_i and w_ij = v_ij + c_j + h_j (y_i − (b_j + a_j·x_i))², nothing written (no
 * log π, no responsibilities). Why: the hybrid optimizer's trust-region trials need only the value,
 * and the gate pass that writes log π and π cost twice the log-likelihood pass (measured).
 * The SIMD kernels softmaxll2 / softmaxll3 (d = 1), softmaxllg_d1..d4 and softmaxllg (any k, d within
 * the generic kernels' parameter block) (simd/gen/kernels-softmaxll.ts) take the same rows with the same
 * shifts; this loop takes the rows they refuse (a maximum ±∞ or NaN) and is the JS path.
 */
import { logCore } from '../../../math/log.js';
import { GATE_DIRECT } from '../constants.js';
import { register } from '../registry.js';
import type { SimdKernel } from '../simd/driver.js';
import type { Arena } from '../simd/arena.js';
import { GPAR_LEN, SPECIALISED_D } from '../simd/layout.js';
import { logProduct, resetProductAcc } from './estep.js';
import { expRel } from './rows.js';

/** A call: the gate's and the experts' parameters (cst_j = −½ log(2πν_j), hlf_j = −1/(2ν_j)) and the data. */
export interface SoftmaxLogLikCall {
  k: number;
  d: number;
  beta0: Float64Array;
  beta1: Float64Array;
  a: Float64Array;
  b: Float64Array;
  cst: Float64Array;
  hlf: Float64Array;
  X: Float64Array;
  y: Float64Array;
  n: number;
}

/**
 * The JS loop, any k and d: per row the logits' log-sum-exp (shifted by their maximum t when some
 * logit lies outside ±GATE_DIRECT, else t = 0) and the joint terms' (formed from the shifted logits,
 * then shifted by their maximum m); the row's value is m + (log s − log g) where the SIMD kernels
 * take the log of the product of s / g.
 * @returns the total over rows [i0, i0 + len); −Infinity (NaN) when some sample has zero (NaN) density
 */
export function softmaxLogLikRows(c: SoftmaxLogLikCall, i0: number, len: number): number {
  const { k, d, beta0, beta1, a, b, cst, hlf, X, y } = c;
  // a row's logits, then its joint terms (v_j − t) + c_j + h_j (y − μ_j)²: formed from the shifted logits,
  // since v_j + c_j + … would lose the experts' terms to v_j's rounding once |v_j| ≫ 1 (a runaway gate),
  // while a direct row (t = 0) keeps its bits
  const v = new Float64Array(k);
  const w = new Float64Array(k);
  let total = 0;
  for (let i = i0; i < i0 + len; i++) {
    const yi = y[i]!;
    const xo = i * d;
    let mv = -Infinity;
    let nan = false;
    let direct = true;
    for (let j = 0; j < k; j++) {
      const vj = logit(beta0, beta1, X, xo, d, j);
      v[j] = vj;
      nan ||= Number.isNaN(vj);
      direct &&= Math.abs(vj) <= GATE_DIRECT;
      if (vj > mv) mv = vj;
    }
    const shift = direct ? 0 : mv;
    let mw = -Infinity;
    for (let j = 0; j < k; j++) {
      const r = yi - mean(a, b, X, xo, d, j);
      const wj = v[j]! - shift + cst[j]! + hlf[j]! * r * r;
      w[j] = wj;
      nan ||= Number.isNaN(wj);
      if (wj > mw) mw = wj;
    }
    if (nan || mw === Infinity || mv === Infinity) {
      total += NaN;
      continue;
    }
    if (mw === -Infinity) {
      total += -Infinity;
      continue;
    }
    let g = 0;
    let s = 0;
    for (let j = 0; j < k; j++) {
      g += expRel(v[j]! - shift);
      s += expRel(w[j]! - mw);
    }
    total += mw + (logCore(s) - logCore(g));
  }
  return total;
}

/** β0_j + Σ_l β1_jl x_l, summed in the SIMD kernels' order */
function logit(beta0: Float64Array, beta1: Float64Array, X: Float64Array, xo: number, d: number, j: number): number {
  let v = beta0[j]!;
  for (let l = 0; l < d; l++) v += beta1[j * d + l]! * X[xo + l]!;
  return v;
}

/** b_j + Σ_l a_jl x_l, summed in the SIMD kernels' order */
function mean(a: Float64Array, b: Float64Array, X: Float64Array, xo: number, d: number, j: number): number {
  let mu = b[j]!;
  for (let l = 0; l < d; l++) mu += a[j * d + l]! * X[xo + l]!;
  return mu;
}

/** Whether the generic kernel's parameters (β0, β1, a, b, c, h: k(2d + 4) doubles) fit its block. */
export function softmaxLogLikFits(k: number, d: number): boolean {
  return k * (2 * d + 4) <= GPAR_LEN;
}

/** The SIMD binding of softmaxll2 / softmaxll3: Σ m + log Π (s / g) + the JS rows. */
function softmaxLogLikSimd(k: 2 | 3): SimdKernel<SoftmaxLogLikCall> {
  return {
    mode: 'rows',
    counter: 'logLik',
    arrays: (c) => [c.X, c.y],
    setup(A, c) {
      const par = A.par;
      for (let j = 0; j < k; j++) {
        par[j] = c.beta0[j]!;
        par[k + j] = c.beta1[j]!;
        par[2 * k + j] = c.a[j]!;
        par[3 * k + j] = c.b[j]!;
        par[4 * k + j] = c.cst[j]!;
        par[5 * k + j] = c.hlf[j]!;
      }
      resetProductAcc(A);
      return { kernel: k === 3 ? A.kernels.softmaxll3 : A.kernels.softmaxll2, args: [c.X.byteOffset, c.y.byteOffset] };
    },
    rows: softmaxLogLikRows,
    finish,
  };
}

const finish = (A: Arena, _c: SoftmaxLogLikCall, llJs: number): number => A.acc[2]! + A.acc[3]! + logProduct(A) + llJs;

/**
 * The SIMD binding of softmaxllg (any k and d that {@link softmaxLogLikFits}) or softmaxllg_d<d> (the same
 * kernel specialised to d = 1..4: its loops over the coordinates unrolled, the same bits).
 */
const softmaxLogLikSimdG = (name: 'softmaxllg' | `softmaxllg_d${1 | 2 | 3 | 4}`): SimdKernel<SoftmaxLogLikCall> => ({
  mode: 'rows',
  counter: 'logLik',
  arrays: (c) => [c.X, c.y],
  setup(A, c) {
    const { k, d } = c;
    if (!softmaxLogLikFits(k, d)) return null;
    const g = A.gpar;
    const kd = k * d;
    g.set(c.beta0.subarray(0, k), 0);
    g.set(c.beta1.subarray(0, kd), k);
    g.set(c.a.subarray(0, kd), k + kd);
    g.set(c.b.subarray(0, k), k + 2 * kd);
    g.set(c.cst.subarray(0, k), 2 * k + 2 * kd);
    g.set(c.hlf.subarray(0, k), 3 * k + 2 * kd);
    resetProductAcc(A);
    return { kernel: A.kernels[name], args: [c.X.byteOffset, c.y.byteOffset, k, d] };
  },
  rows: softmaxLogLikRows,
  finish,
});

const js = (c: SoftmaxLogLikCall): number => softmaxLogLikRows(c, 0, c.n);
register<SoftmaxLogLikCall>('softmaxLogLik', 'linear', 3, 1, { js, simd: softmaxLogLikSimd(3) });
register<SoftmaxLogLikCall>('softmaxLogLik', 'linear', 2, 1, { js, simd: softmaxLogLikSimd(2) });
// d = 1..4 (k ≥ 4 at d = 1, the generic shapes): softmaxllg specialised to d
for (const d of SPECIALISED_D)
  register<SoftmaxLogLikCall>('softmaxLogLik', 'linear', '*', d, { js, simd: softmaxLogLikSimdG(`softmaxllg_d${d}`) });
register<SoftmaxLogLikCall>('softmaxLogLik', 'linear', '*', '*', { js, simd: softmaxLogLikSimdG('softmaxllg') });
