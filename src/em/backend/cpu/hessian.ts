/**
 * The per-sample pass of the observed log-likelihood's exact Hessian for the softmax (linear, unmasked)
 * gate, as weighted moment sums (operation 'hessian'); src/em/inference/hessian-fast.ts assembles the
 * P × P Hessian from them (O(P²), independent of n). The reference is src/em/inference/hessian.ts.
 *
 * Per sample, with φ = (1, x_1..x_d) (m = d + 1), the gate's probabilities π_l, the responsibilities
 * r_j, the residuals e_j, ε_j = e_j/ν_j, q_j = (e_j ε_j − 1)/(2ν_j), δ the Kronecker delta and
 * C_jl = r_j (δ_jl − r_l), Louis' identity gives every block of ∇² log p_i as a scalar times φφᵀ, φ or 1:
 *   gate l × gate l'      A_ll' = δ(r_l − π_l) − r_l r_l' + π_l π_l'                  (φφᵀ, l ≤ l')
 *   gate l × (a, b)_j     C_jl ε_j                                                    (φφᵀ)
 *   (a, b)_j × (a, b)_j'  C_jj' ε_j ε_j' − δ r_j/ν_j                                  (φφᵀ, j ≤ j')
 *   gate l × ν_j          C_jl q_j                                                    (φ)
 *   (a, b)_j × ν_j'       C_jj' ε_j q_j' − δ r_j ε_j/ν_j                              (φ)
 *   ν_j × ν_j'            C_jj' q_j q_j' + δ r_j (1/(2ν_j²) − ε_j²/ν_j)               (1, j ≤ j')
 * and the gradient: gate l (r_l − π_l) φ, (a, b)_j r_j ε_j φ, ν_j r_j q_j. (φ's first entry is the
 * intercept: β0 / b; the others β1 / a.) The sums, in this order ({@link hessSumsLayout}): the
 * φφᵀ blocks over the monomials φ_a φ_b (a ≤ b), the φ blocks, the gradient, the scalars, then L.
 *
 * One loop for every k and d. Its SIMD twins (kernels-hessian.ts: hessg, and hessg1–hessg4 for d = 1–4
 * with the loops over d unrolled; kernels-hessian1.ts: hess1k2 / hess1k3, d = 1 and k = 2, 3 fully unrolled; each
 * with a _noref variant without the reference's gate sums, HessSumsCall.skipRef)
 * compute the same per-row values in the same order (expCore / logCore, terms below −EXP_CUTOFF taken
 * as 0); only the order of the sums over rows differs.
 */
import { logCore } from '../../../math/log.js';
import { dispatch, lookup, register } from '../registry.js';
import type { SimdKernel } from '../simd/driver.js';
import { GACC, GACC_LEN, SPECIALISED_D } from '../simd/layout.js';
import { LOG_2PI, expRel } from './rows.js';
import { hessSumsLayout, type HessSumsLayout } from './hessian-layout.js';

export { hessSumsLayout, type HessSumsLayout } from './hessian-layout.js';

/**
 * Largest k and d the SIMD kernel takes (its parameter, scratch and sum regions; d: the hessg<d> the generator
 * builds, one per SPECIALISED_D); larger shapes run in JS.
 */
export const HESS_SIMD_K_MAX = 8;
export const HESS_SIMD_D_MAX: number = Math.max(...SPECIALISED_D);

/** A call: the data, the parameters and the sums. */
export interface HessSumsCall {
  k: number;
  d: number;
  n: number;
  X: Float64Array;
  y: Float64Array;
  /** β0 (k), β1 (k·d), a (k·d), b (k), c_j = −(log 2π + log ν_j)/2 (k), h_j = −1/(2ν_j) (k), 1/ν_j (k) */
  par: Float64Array;
  /** the sums ({@link hessSumsLayout}) */
  out: Float64Array;
  /** the odd last row's sums (SIMD path) */
  last: Float64Array;
  /** per-row scratch: 7k + m + nm doubles */
  scr: Float64Array;
  /**
   * true: the caller never reads the sums of the reference's (k − 1) gate coordinates (gg pairs with it,
   * ge / gn with it on the gate side, its gradG: its layout holds β0_{k−1} and β1_{k−1}); the SIMD kernel
   * then leaves them out (hessg<d>_noref, hess1k<k>_noref: zero there). Unset: every sum.
   */
  skipRef?: boolean;
}

/** The parameter vector of a call (see {@link HessSumsCall.par}). */
export function hessSumsParams(
  k: number,
  d: number,
  beta0: Float64Array,
  beta1: Float64Array,
  a: Float64Array,
  b: Float64Array,
  nu: Float64Array,
): Float64Array {
  const par = new Float64Array(k * (5 + 2 * d));
  par.set(beta0.subarray(0, k), 0);
  par.set(beta1.subarray(0, k * d), k);
  par.set(a.subarray(0, k * d), k + k * d);
  const pb = k + 2 * k * d;
  par.set(b.subarray(0, k), pb);
  for (let j = 0; j < k; j++) {
    par[pb + k + j] = -0.5 * (LOG_2PI + Math.log(nu[j]!));
    par[pb + 2 * k + j] = -0.5 / nu[j]!;
    par[pb + 3 * k + j] = 1 / nu[j]!;
  }
  return par;
}

/** A call record with its scratch and sums allocated (out zeroed by the kernels). */
export function hessSumsCall(k: number, d: number, X: Float64Array, y: Float64Array, n: number, par: Float64Array) {
  const L = hessSumsLayout(k, d);
  const c: HessSumsCall = {
    k,
    d,
    n,
    X,
    y,
    par,
    out: new Float64Array(L.total),
    last: new Float64Array(L.total),
    scr: new Float64Array(7 * k + L.m + L.nm),
  };
  return c;
}

/** Rows [i0, i0 + len) of the call into sums `out` (added; the caller zeroes it). */
function hessRows(c: HessSumsCall, i0: number, len: number, out: Float64Array): void {
  const { k, d, X, y, par, scr } = c;
  const Ls = hessSumsLayout(k, d);
  const { m, nm } = Ls;
  const pb1 = k,
    pa = k + k * d,
    pb = pa + k * d,
    pc = pb + k,
    ph = pc + k,
    piv = ph + k;
  // scratch: gate logits / exponentials, t_j, r, π, ε, q, φ, monomials
  const sv = 0,
    st = k,
    sr = 2 * k,
    sp = 3 * k,
    se = 4 * k,
    sq = 5 * k,
    sg = 6 * k,
    sphi = 7 * k,
    szz = sphi + m;
  scr[sphi] = 1;
  for (let i = i0; i < i0 + len; i++) {
    const xo = i * d;
    for (let a = 0; a < d; a++) scr[sphi + 1 + a] = X[xo + a]!;
    for (let a = 0, t = 0; a < m; a++) for (let b = a; b < m; b++, t++) scr[szz + t] = scr[sphi + a]! * scr[sphi + b]!;
    // the gate: log-sum-exp at the exact maximum
    let mx = -Infinity;
    for (let l = 0; l < k; l++) {
      let v = par[l]!;
      for (let a = 0; a < d; a++) v += par[pb1 + l * d + a]! * scr[sphi + 1 + a]!;
      scr[sv + l] = v;
      mx = Math.max(mx, v);
    }
    let s = 0;
    for (let l = 0; l < k; l++) {
      const e = expRel(scr[sv + l]! - mx);
      scr[sg + l] = e;
      s += e;
    }
    const lsg = mx + (s === s ? logCore(s) : s);
    const inv = 1 / s;
    for (let l = 0; l < k; l++) scr[sp + l] = scr[sg + l]! * inv;
    // the experts: t_j = log π_j + log f_j, ε_j, q_j
    const yi = y[i]!;
    let mx2 = -Infinity;
    for (let j = 0; j < k; j++) {
      let mu = par[pb + j]!;
      for (let a = 0; a < d; a++) mu += par[pa + j * d + a]! * scr[sphi + 1 + a]!;
      const e = yi - mu;
      const t = scr[sv + j]! - lsg + par[pc + j]! + par[ph + j]! * e * e;
      scr[st + j] = t;
      mx2 = Math.max(mx2, t);
      const iv = par[piv + j]!;
      const eps = e * iv;
      scr[se + j] = eps;
      scr[sq + j] = (e * eps - 1) * 0.5 * iv;
    }
    let s2 = 0;
    for (let j = 0; j < k; j++) {
      const e = expRel(scr[st + j]! - mx2);
      scr[sr + j] = e;
      s2 += e;
    }
    const inv2 = 1 / s2;
    for (let j = 0; j < k; j++) scr[sr + j] = scr[sr + j]! * inv2;
    out[Ls.ll] = out[Ls.ll]! + (mx2 + (s2 === s2 ? logCore(s2) : s2));
    sumRow(k, Ls, scr, piv, par, out);
  }
}

/** One row's coefficients times φφᵀ, φ, 1 into the sums (scratch as hessRows leaves it). */
function sumRow(
  k: number,
  Ls: HessSumsLayout,
  scr: Float64Array,
  piv: number,
  par: Float64Array,
  out: Float64Array,
): void {
  const { m, nm } = Ls;
  const sr = 2 * k,
    sp = 3 * k,
    se = 4 * k,
    sq = 5 * k,
    sphi = 7 * k,
    szz = sphi + m;
  const mat = (o: number, c: number): void => {
    for (let t = 0; t < nm; t++) out[o + t] = out[o + t]! + c * scr[szz + t]!;
  };
  const vec = (o: number, c: number): void => {
    for (let t = 0; t < m; t++) out[o + t] = out[o + t]! + c * scr[sphi + t]!;
  };
  let o = Ls.gg;
  for (let l = 0; l < k; l++) {
    const rl = scr[sr + l]!,
      pl = scr[sp + l]!;
    for (let l2 = l; l2 < k; l2++, o += nm) {
      const dl = l === l2 ? rl - pl : 0;
      mat(o, dl - rl * scr[sr + l2]! + pl * scr[sp + l2]!);
    }
  }
  o = Ls.ge;
  let ov = Ls.gn;
  for (let j = 0; j < k; j++) {
    const rj = scr[sr + j]!,
      ej = scr[se + j]!,
      qj = scr[sq + j]!;
    for (let l = 0; l < k; l++, o += nm, ov += m) {
      const C = rj * ((j === l ? 1 : 0) - scr[sr + l]!);
      mat(o, C * ej);
      vec(ov, C * qj);
    }
  }
  o = Ls.ee;
  ov = Ls.en;
  let os = Ls.nn;
  for (let j = 0; j < k; j++) {
    const rj = scr[sr + j]!,
      ej = scr[se + j]!,
      qj = scr[sq + j]!,
      iv = par[piv + j]!;
    for (let j2 = 0; j2 < k; j2++, ov += m) {
      const dj = j === j2 ? 1 : 0;
      const C = rj * (dj - scr[sr + j2]!);
      vec(ov, C * ej * scr[sq + j2]! - dj * rj * ej * iv);
      if (j2 < j) continue;
      mat(o, C * ej * scr[se + j2]! - dj * rj * iv);
      out[os] = out[os]! + (C * qj * scr[sq + j2]! + dj * rj * iv * (0.5 * iv - ej * ej));
      o += nm;
      os++;
    }
  }
  for (let l = 0; l < k; l++) {
    vec(Ls.gradG + l * m, scr[sr + l]! - scr[sp + l]!);
    vec(Ls.gradE + l * m, scr[sr + l]! * scr[se + l]!);
    out[Ls.gradN + l] = out[Ls.gradN + l]! + scr[sr + l]! * scr[sq + l]!;
  }
}

/** The SIMD binding of hessg<d> (k ≤ HESS_SIMD_K_MAX, d ≤ HESS_SIMD_D_MAX; parameters at GPAR, per-lane sums at GACC). */
const hessSimd: SimdKernel<HessSumsCall> = {
  mode: 'sums',
  counter: 'hessian',
  arrays: (c) => [c.X, c.y],
  setup(A, c) {
    if (c.k > HESS_SIMD_K_MAX || c.d > HESS_SIMD_D_MAX || 2 * c.out.length > GACC_LEN) return null;
    A.gpar.set(c.par);
    A.gacc.fill(0, 0, 2 * c.out.length);
    const L = hessSumsLayout(c.k, c.d);
    const blocks = [L.gg, L.ge, L.ee, L.gn, L.en, L.gradG, L.gradE, L.nn, L.gradN, L.ll].map((o) => GACC + 16 * o);
    return { kernel: A.kernels[hessgExport(c)], args: [c.X.byteOffset, c.y.byteOffset, c.k, c.d, ...blocks] };
  },
  rows(c, i0, len) {
    c.last.fill(0);
    hessRows(c, i0, len, c.last);
    return 0;
  },
  finish(A, c) {
    const g = A.gacc;
    const T = c.out.length;
    if (c.n & 1) for (let t = 0; t < T; t++) c.out[t] = g[2 * t]! + g[2 * t + 1]! + c.last[t]!;
    else for (let t = 0; t < T; t++) c.out[t] = g[2 * t]! + g[2 * t + 1]!;
    return 0;
  },
};

/** An export's suffix: without the reference's gate sums when the caller skips them. */
const norefSuffix = (c: Pick<HessSumsCall, 'skipRef'>) => (c.skipRef ? '_noref' : '') as '' | '_noref';

/** The kernel of a call, any k (d ≤ HESS_SIMD_D_MAX): hessg<d>, its loops over d and the monomials unrolled; _noref on skipRef. */
export function hessgExport(c: Pick<HessSumsCall, 'd' | 'skipRef'>): `hessg${1 | 2 | 3 | 4}${'' | '_noref'}` {
  if (!(c.d >= 1 && c.d <= HESS_SIMD_D_MAX))
    throw new Error(`hessgExport: d must be 1–${HESS_SIMD_D_MAX}. Value: ${c.d}`);
  return `hessg${c.d as 1 | 2 | 3 | 4}${norefSuffix(c)}` as const;
}

/** The d = 1, k = 2 / 3 kernel of a call: without the reference's gate sums when the caller skips them. */
export function hess1Export(c: Pick<HessSumsCall, 'k' | 'skipRef'>): `hess1k${2 | 3}${'' | '_noref'}` {
  return `hess1k${c.k === 2 ? 2 : 3}${norefSuffix(c)}` as const;
}

/**
 * The SIMD binding of hess1k2 / hess1k3 (d = 1, k = 2, 3: every per-row value in a local, the sums at constant
 * addresses; the same sums at GACC as hessg1, bit for bit).
 */
const hess1Simd: SimdKernel<HessSumsCall> = {
  ...hessSimd,
  setup(A, c) {
    if (c.d !== 1 || (c.k !== 2 && c.k !== 3)) return hessSimd.setup(A, c);
    A.gpar.set(c.par);
    A.gacc.fill(0, 0, 2 * c.out.length);
    return { kernel: A.kernels[hess1Export(c)], args: [c.X.byteOffset, c.y.byteOffset] };
  },
};

const hessJs = (c: HessSumsCall): number => {
  c.out.fill(0);
  hessRows(c, 0, c.n, c.out);
  return 0;
};
// one generic loop; the papers' shapes (d = 1, k = 2 / 3) get the unrolled SIMD kernels
register<HessSumsCall>('hessian', 'linear', '*', '*', { js: hessJs, simd: hessSimd });
register<HessSumsCall>('hessian', 'linear', 2, 1, { js: hessJs, simd: hess1Simd });
register<HessSumsCall>('hessian', 'linear', 3, 1, { js: hessJs, simd: hess1Simd });

/**
 * The sums of a call, through the SIMD kernel when `simd` is on and X, y lie in one arena, else JS.
 * @returns c.out
 */
export function hessSums(c: HessSumsCall, simd: boolean): Float64Array {
  const impl = lookup<HessSumsCall>('hessian', 'linear', c.k, c.d)!;
  dispatch(impl, c, c.n, simd);
  return c.out;
}
