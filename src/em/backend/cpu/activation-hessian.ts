/**
 * The per-sample pass of the activation and temperature gates' exact Hessian (operation 'hessian',
 * form 'activation'): the sums of src/em/inference/hessian-activation.ts (its JS loop, handed in as the
 * call's `rows`) or of its WebAssembly SIMD twin (kernels-acthess.ts: acthess_<grad>, k ≤ 8, d ≤ 4, the
 * activations with SIMD emitters), both in the layout {@link actHessLayout}. The kernel adds its sums
 * in another order than the JS loop's column products, so the two agree to rounding, not bit for bit
 * (test/em/hessian-activation-kernel.test.ts holds both to the reference at 1e-10 relative).
 */
import { dispatch, lookup, register } from '../registry.js';
import type { KernelExports } from '../simd/arena.js';
import type { SimdKernel } from '../simd/driver.js';
import { ACTHESS_D_MAX, ACTHESS_K_MAX, GACC_LEN } from '../simd/layout.js';
import { LOG_2PI } from './rows.js';

export { ACTHESS_D_MAX, ACTHESS_K_MAX };

/**
 * The sums' layout: extended gate index u = l(d + 1) + α (expert l's β0, β1 coordinate α), τ at
 * G1 − 1 (kept when τ is fixed); expert index q = j(d + 2) + β (a, b, ν). gate × gate G1 × G1,
 * gate × expert G1 × K, expert × expert K × K (upper triangles read), then the gradients.
 */
export interface ActHessLayout {
  G1: number;
  K: number;
  gg: number;
  ge: number;
  ee: number;
  gradG: number;
  gradE: number;
  total: number;
}

export function actHessLayout(k: number, d: number): ActHessLayout {
  const G1 = k * (d + 1) + 1;
  const K = k * (d + 2);
  const ge = G1 * G1;
  const ee = ge + G1 * K;
  const gradG = ee + K * K;
  const gradE = gradG + G1;
  return { G1, K, gg: 0, ge, ee, gradG, gradE, total: gradE + K };
}

/** A call: the data, the kernel's parameters, the sums, and the JS loop. */
export interface ActHessCall {
  k: number;
  d: number;
  n: number;
  X: Float64Array;
  y: Float64Array;
  /** 1/τ, inside (1 or 0), outside (1 − inside), β0 (k), β1 (k·d), a (k·d), b (k), c_j = −(log 2π + log ν_j)/2, 1/ν_j */
  par: Float64Array;
  /** the activation's SIMD kernel suffix (acthess_<grad>); undefined: none (JS) */
  grad: string | undefined;
  /**
   * extended gate indices whose sums the caller never reads (coordinates its layout holds), in order: a
   * kernel that leaves them out (acthess<k><d>_<grad>_h<u>_…, zero there) runs where one is generated
   */
  held: readonly number[];
  /** the sums ({@link actHessLayout}), zeroed by the caller; the JS loop and the kernel add to them */
  out: Float64Array;
  /** the JS loop on rows [i0, i0 + len): adds their terms to `out`, returns their log-likelihood */
  rows(i0: number, len: number): number;
}

/** The kernel's parameter vector ({@link ActHessCall.par}). */
export function actHessParams(
  m: { k: number; d: number; beta0: Float64Array; beta1: Float64Array; a: Float64Array; b: Float64Array },
  nu: Float64Array,
  tau: number,
  inside: boolean,
): Float64Array {
  const { k, d } = m;
  const par = new Float64Array(3 + k * (4 + 2 * d));
  par[0] = 1 / tau;
  par[1] = inside ? 1 : 0;
  par[2] = inside ? 0 : 1;
  let o = 3;
  for (const v of [m.beta0.subarray(0, k), m.beta1.subarray(0, k * d), m.a.subarray(0, k * d), m.b.subarray(0, k)]) {
    par.set(v, o);
    o += v.length;
  }
  for (let j = 0; j < k; j++) {
    par[o + j] = -0.5 * (LOG_2PI + Math.log(nu[j]!));
    par[o + k + j] = 1 / nu[j]!;
  }
  return par;
}

/** The packed per-lane sums at GACC (triangle of N = G1 + K, gradient, L) added into c.out; returns L. */
function unpack(g: Float64Array, c: ActHessCall): number {
  const Ls = actHessLayout(c.k, c.d);
  const { G1, K } = Ls;
  const N = G1 + K;
  const out = c.out;
  let t = 0;
  for (let u = 0; u < N; u++)
    for (let v = u; v < N; v++, t++) {
      const x = g[2 * t]! + g[2 * t + 1]!;
      const o = u < G1 ? (v < G1 ? Ls.gg + u * G1 + v : Ls.ge + u * K + v - G1) : Ls.ee + (u - G1) * K + v - G1;
      out[o] = out[o]! + x;
    }
  for (let u = 0; u < N; u++, t++) {
    const o = u < G1 ? Ls.gradG + u : Ls.gradE + u - G1;
    out[o] = out[o]! + g[2 * t]! + g[2 * t + 1]!;
  }
  return g[2 * t]! + g[2 * t + 1]!;
}

/** The packed sums' length (doubles per lane). */
const packedLength = (k: number, d: number): number => {
  const { G1, K } = actHessLayout(k, d);
  const N = G1 + K;
  return (N * (N + 1)) / 2 + N + 1;
};

/**
 * The export for a call: d = 1, k = 2 / 3 the kernel with its sums unrolled, without the held
 * coordinates' sums where that variant exists (the presets' holds, kernels-acthess.ts).
 */
export function actHessExport(
  K: KernelExports,
  c: Pick<ActHessCall, 'k' | 'd' | 'grad' | 'held'>,
): keyof KernelExports {
  const fixed = c.d === 1 && (c.k === 2 || c.k === 3) ? `${c.k}1` : '';
  const name = `acthess${fixed}_${c.grad}`;
  const skip = `${name}_h${c.held.join('_')}`;
  return (fixed !== '' && c.held.length > 0 && skip in K ? skip : name) as keyof KernelExports;
}

/** The SIMD binding of acthess_<grad>; an odd last row goes to the JS loop. */
const actHessSimd: SimdKernel<ActHessCall> = {
  mode: 'sums',
  counter: 'hessian',
  arrays: (c) => [c.X, c.y],
  setup(A, c) {
    const T = packedLength(c.k, c.d);
    if (c.grad === undefined || c.k > ACTHESS_K_MAX || c.d > ACTHESS_D_MAX || 2 * T > GACC_LEN) return null;
    const kernel = A.kernels[actHessExport(A.kernels, c)];
    if (kernel === undefined) return null;
    A.gpar.set(c.par);
    A.gacc.fill(0, 0, 2 * T);
    return { kernel, args: [c.X.byteOffset, c.y.byteOffset, c.k, c.d] };
  },
  rows: (c, i0, len) => c.rows(i0, len),
  finish: (A, c, jsSum) => unpack(A.gacc, c) + jsSum,
};

const actHessJs = (c: ActHessCall): number => c.rows(0, c.n);
// one generic kernel; d = 1, k = 2 / 3 (outside the registry's generic shapes) registered by shape
register<ActHessCall>('hessian', 'activation', '*', '*', { js: actHessJs, simd: actHessSimd });
register<ActHessCall>('hessian', 'activation', 2, 1, { js: actHessJs, simd: actHessSimd });
register<ActHessCall>('hessian', 'activation', 3, 1, { js: actHessJs, simd: actHessSimd });

/**
 * The sums of a call into c.out, through the SIMD kernel when `simd` is on, the shape and activation have
 * one and X, y lie in one arena, else through c.rows; returns L.
 */
export function actHessSums(c: ActHessCall, simd: boolean): number {
  const impl = lookup<ActHessCall>('hessian', 'activation', c.k, c.d)!;
  return dispatch(impl, c, c.n, simd);
}
