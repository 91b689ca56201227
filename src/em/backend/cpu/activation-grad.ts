/**
 * The activation (dense-to-sparse) gates' gradient, Fisher (Gauss–Newton) curvature and exact
 * negative Hessian of Q = Σ r log π over the free parameters (β0, β1, log τ) on the CPU (d = 1;
 * identity, tanh, sigmoid; bias outside σ), with the WebAssembly SIMD binding densegrad3_{id,tanh,sig}
 * of the fused k = 3 pass. σ, σ' and σ'' come from src/math's expCore (see activation-gate.ts). Every
 * other shape (d ≥ 2, or k ≥ 4) goes to the generic sums of activation-grad-g.ts (SIMD densegradg_*).
 *
 * Exact Hessian: with J_il = ∂s_il/∂θ and G_il = r_il − R_i π_il,
 *   −∇²Q = Σ_i R_i J_iᵀ(diag π_i − π_i π_iᵀ)J_i − Σ_il G_il ∇²s_il,
 * and the second term has, per expert, only the entries (β1_l, β1_l): σ''x²/τ, (β1_l, log τ):
 * −σ'x/τ and (log τ, log τ): σ/τ; the last two summed with G are the gradient's own entries.
 */
import type { Model } from '../../../models/types.js';
import { expCore } from '../../../math/exp.js';
import { mirrorUpper, subtractOuterUpper } from '../../optim/linalg.js';
import { SIG_CLAMP, TANH_CLAMP } from '../constants.js';
import { dispatch, lookup, register } from '../registry.js';
import type { SimdKernel } from '../simd/driver.js';
import type { GateLayout } from '../types.js';
import { DENSE_SIGMOID, DENSE_TANH } from './activation-gate.js';
import { denseGradHessG } from './activation-grad-g.js';
import { getGate } from '../../../models/gates/index.js';
import { sumsFinish } from './moments.js';

/**
 * Per-element Jacobian coefficients, one loop per activation: J1 = ∂s/∂β1 = σ'(u)·x/τ,
 * Jt = ∂s/∂log τ = −σ(u)/τ and H1 = ∂²s/∂β1² = σ''(u)·x²/τ, u = β1_j x_i (n × k each).
 */
function coefsIdentity(
  k: number,
  beta1: Float64Array,
  it: number,
  X: Float64Array,
  n: number,
  J1: Float64Array,
  Jt: Float64Array,
  H1: Float64Array,
): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xi = X[i]!;
    const xt = xi * it;
    for (let j = 0; j < k; j++) {
      J1[o + j] = xt;
      Jt[o + j] = -(beta1[j]! * xi) * it;
      H1[o + j] = 0;
    }
  }
}

function coefsTanh(
  k: number,
  beta1: Float64Array,
  it: number,
  X: Float64Array,
  n: number,
  J1: Float64Array,
  Jt: Float64Array,
  H1: Float64Array,
): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xi = X[i]!;
    const xt = xi * it;
    for (let j = 0; j < k; j++) {
      const u = beta1[j]! * xi;
      const uc = u > TANH_CLAMP ? TANH_CLAMP : u < -TANH_CLAMP ? -TANH_CLAMP : u;
      const e = expCore(-2 * uc);
      const dn = 1 / (1 + e);
      const t = (1 - e) * dn;
      // σ' = 1 − t² = 4e/(1 + e)², without the cancellation for large |u|
      const d1 = 4 * e * dn * dn;
      J1[o + j] = d1 * xt;
      Jt[o + j] = -t * it;
      H1[o + j] = -2 * t * d1 * xi * xt;
    }
  }
}

function coefsSigmoid(
  k: number,
  beta1: Float64Array,
  it: number,
  X: Float64Array,
  n: number,
  J1: Float64Array,
  Jt: Float64Array,
  H1: Float64Array,
): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xi = X[i]!;
    const xt = xi * it;
    for (let j = 0; j < k; j++) {
      const u = beta1[j]! * xi;
      const uc = u > SIG_CLAMP ? SIG_CLAMP : u < -SIG_CLAMP ? -SIG_CLAMP : u;
      const e = expCore(-uc);
      const s = 1 / (1 + e);
      // σ' = e/(1 + e)² = (e·s)·s: no overflow for e up to e^700, no cancellation for large |u|
      const d1 = e * s * s;
      J1[o + j] = d1 * xt;
      Jt[o + j] = -s * it;
      H1[o + j] = d1 * (1 - 2 * s) * xi * xt;
    }
  }
}

/**
 * The sums, d = 1, any k: gradient g (p), Fisher curvature (p × p, upper triangle) and
 * A_l = Σ_i G_il H1_il per expert (k). ix0/ix1: free indices of β0_l / β1_l (−1 fixed), ixt of log τ.
 */
function denseSums1(
  k: number,
  p: number,
  ix0: Int32Array,
  ix1: Int32Array,
  ixt: number,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  J1: Float64Array,
  Jt: Float64Array,
  H1: Float64Array,
  withCurv: boolean,
  wv: Float64Array,
  grad: Float64Array,
  acc: Float64Array,
  A: Float64Array,
): void {
  grad.fill(0, 0, p);
  acc.fill(0, 0, p * p);
  A.fill(0, 0, k);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let R = 0;
    for (let j = 0; j < k; j++) R += resp[o + j]!;
    if (withCurv) wv.fill(0, 0, p);
    for (let l = 0; l < k; l++) {
      const pl = pi[o + l]!;
      const rl = resp[o + l]!;
      if (pl === 0 && rl === 0) continue;
      const G = rl - R * pl;
      const j1 = J1[o + l]!;
      const jt = Jt[o + l]!;
      const i0 = ix0[l]!;
      const i1 = ix1[l]!;
      if (i0 >= 0) grad[i0] = grad[i0]! + G;
      if (i1 >= 0) grad[i1] = grad[i1]! + G * j1;
      if (ixt >= 0) grad[ixt] = grad[ixt]! + G * jt;
      if (!withCurv) continue;
      A[l] = A[l]! + G * H1[o + l]!;
      const rp = R * pl;
      // R π_l J_lᵀJ_l on the free entries of (β0_l, β1_l, log τ), upper triangle (i0 < i1 < ixt)
      if (i0 >= 0) {
        wv[i0] = wv[i0]! + pl;
        acc[i0 * p + i0] = acc[i0 * p + i0]! + rp;
        if (i1 >= 0) acc[i0 * p + i1] = acc[i0 * p + i1]! + rp * j1;
        if (ixt >= 0) acc[i0 * p + ixt] = acc[i0 * p + ixt]! + rp * jt;
      }
      if (i1 >= 0) {
        wv[i1] = wv[i1]! + pl * j1;
        acc[i1 * p + i1] = acc[i1 * p + i1]! + rp * j1 * j1;
        if (ixt >= 0) acc[i1 * p + ixt] = acc[i1 * p + ixt]! + rp * j1 * jt;
      }
      if (ixt >= 0) {
        wv[ixt] = wv[ixt]! + pl * jt;
        acc[ixt * p + ixt] = acc[ixt * p + ixt]! + rp * jt * jt;
      }
    }
    if (withCurv) subtractOuterUpper(acc, p, R, wv);
  }
}

/**
 * denseSums1 for k = 3 with the activation gates' usual layout (β0 of experts 0 and 1 free, the
 * reference expert's fixed; every β1 free; log τ free): p = 6, every sum in a register.
 * Order [β0_0, β1_0, β0_1, β1_1, β1_2, log τ]; out: 6 gradient entries, the 21 upper-triangle
 * curvature entries row by row, then A_0..A_2.
 */
function denseSums1k3(
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  J1: Float64Array,
  Jt: Float64Array,
  H1: Float64Array,
  out: Float64Array,
): void {
  let g0 = 0,
    g1 = 0,
    g2 = 0,
    g3 = 0,
    g4 = 0,
    g5 = 0;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0,
    c04 = 0,
    c05 = 0;
  let c11 = 0,
    c12 = 0,
    c13 = 0,
    c14 = 0,
    c15 = 0;
  let c22 = 0,
    c23 = 0,
    c24 = 0,
    c25 = 0;
  let c33 = 0,
    c34 = 0,
    c35 = 0;
  let c44 = 0,
    c45 = 0,
    c55 = 0;
  let a0 = 0,
    a1 = 0,
    a2 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const r0 = resp[o]!,
      r1 = resp[o + 1]!,
      r2 = resp[o + 2]!;
    const p0 = pi[o]!,
      p1 = pi[o + 1]!,
      p2 = pi[o + 2]!;
    const u0 = J1[o]!,
      u1 = J1[o + 1]!,
      u2 = J1[o + 2]!;
    const t0 = Jt[o]!,
      t1 = Jt[o + 1]!,
      t2 = Jt[o + 2]!;
    const R = r0 + r1 + r2;
    const G0 = r0 - R * p0,
      G1 = r1 - R * p1,
      G2 = r2 - R * p2;
    g0 += G0;
    g1 += G0 * u0;
    g2 += G1;
    g3 += G1 * u1;
    g4 += G2 * u2;
    g5 += G0 * t0 + G1 * t1 + G2 * t2;
    a0 += G0 * H1[o]!;
    a1 += G1 * H1[o + 1]!;
    a2 += G2 * H1[o + 2]!;
    // w = Σ_l π_l J_l; C_row = R (Σ_l π_l J_lᵀJ_l − w wᵀ)
    const w0 = p0,
      w1 = p0 * u0,
      w2 = p1,
      w3 = p1 * u1,
      w4 = p2 * u2;
    const q0 = p0 * t0,
      q1 = p1 * t1,
      q2 = p2 * t2;
    const w5 = q0 + q1 + q2;
    const Rw0 = R * w0,
      Rw1 = R * w1,
      Rw2 = R * w2,
      Rw3 = R * w3,
      Rw4 = R * w4,
      Rw5 = R * w5;
    c00 += R * w0 - Rw0 * w0;
    c01 += R * w1 - Rw0 * w1;
    c02 -= Rw0 * w2;
    c03 -= Rw0 * w3;
    c04 -= Rw0 * w4;
    c05 += R * q0 - Rw0 * w5;
    c11 += R * w1 * u0 - Rw1 * w1;
    c12 -= Rw1 * w2;
    c13 -= Rw1 * w3;
    c14 -= Rw1 * w4;
    c15 += R * q0 * u0 - Rw1 * w5;
    c22 += R * w2 - Rw2 * w2;
    c23 += R * w3 - Rw2 * w3;
    c24 -= Rw2 * w4;
    c25 += R * q1 - Rw2 * w5;
    c33 += R * w3 * u1 - Rw3 * w3;
    c34 -= Rw3 * w4;
    c35 += R * q1 * u1 - Rw3 * w5;
    c44 += R * w4 * u2 - Rw4 * w4;
    c45 += R * q2 * u2 - Rw4 * w5;
    c55 += R * (q0 * t0 + q1 * t1 + q2 * t2) - Rw5 * w5;
  }
  out[0] = g0;
  out[1] = g1;
  out[2] = g2;
  out[3] = g3;
  out[4] = g4;
  out[5] = g5;
  out[6] = c00;
  out[7] = c01;
  out[8] = c02;
  out[9] = c03;
  out[10] = c04;
  out[11] = c05;
  out[12] = c11;
  out[13] = c12;
  out[14] = c13;
  out[15] = c14;
  out[16] = c15;
  out[17] = c22;
  out[18] = c23;
  out[19] = c24;
  out[20] = c25;
  out[21] = c33;
  out[22] = c34;
  out[23] = c35;
  out[24] = c44;
  out[25] = c45;
  out[26] = c55;
  out[27] = a0;
  out[28] = a1;
  out[29] = a2;
}

/** The layout denseSums1k3 assumes. */
function layoutK3(k: number, p: number, ix0: Int32Array, ix1: Int32Array, ixt: number): boolean {
  return (
    k === 3 &&
    p === 6 &&
    ix0[0] === 0 &&
    ix1[0] === 1 &&
    ix0[1] === 2 &&
    ix1[1] === 3 &&
    ix0[2] === -1 &&
    ix1[2] === 4 &&
    ixt === 5
  );
}

/** Scratch of the gradient/curvature kernel (grows on demand; module-level: the kernels are pure functions of their inputs). */
let J1b = new Float64Array(0);
let Jtb = new Float64Array(0);
let H1b = new Float64Array(0);
let wvb = new Float64Array(8);
let Ab = new Float64Array(8);
let ix0b = new Int32Array(8);
let ix1b = new Int32Array(8);
const s30 = new Float64Array(30);

/** J1, Jt, H1 (n × k) of the activation `code` into the scratch, grown on demand. */
function coefs(code: number, k: number, beta1: Float64Array, it: number, X: Float64Array, n: number): void {
  const nk = n * k;
  if (J1b.length < nk) {
    J1b = new Float64Array(nk);
    Jtb = new Float64Array(nk);
    H1b = new Float64Array(nk);
  }
  if (code === DENSE_TANH) coefsTanh(k, beta1, it, X, n, J1b, Jtb, H1b);
  else if (code === DENSE_SIGMOID) coefsSigmoid(k, beta1, it, X, n, J1b, Jtb, H1b);
  else coefsIdentity(k, beta1, it, X, n, J1b, Jtb, H1b);
}

/** The JS k = 3 path (coefficients, then denseSums1k3's 30 sums into out); also the SIMD path's odd last row. */
function denseRows3(
  code: number,
  beta1: Float64Array,
  it: number,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  out: Float64Array,
): void {
  coefs(code, 3, beta1, it, X, n);
  denseSums1k3(n, resp, pi, J1b, Jtb, H1b, out);
}

/**
 * Gradient of Q over the free gate parameters of `layout` (β0, β1, log τ; d = 1) at the gate of m,
 * and, when `fisher` is given, its Fisher curvature C = Σ_i R_i J_iᵀ(diag π_i − π_i π_iᵀ)J_i
 * (as Backend.gateGradCurv) and, when `exact` is given, the exact −∇²Q (both p × p, row-major,
 * symmetric). pi (n × k) must hold the gate probabilities at m.
 * @param code {@link denseGradCode}(m), ≥ 0
 */
export function denseGradHess1(
  code: number,
  m: Model,
  L: GateLayout,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  grad: Float64Array,
  fisher: Float64Array | null,
  exact: Float64Array | null,
  simd: boolean,
): void {
  const { k, p, b0Index, b1Index, tauIndex } = L;
  if (wvb.length < p) wvb = new Float64Array(p);
  if (Ab.length < k) {
    Ab = new Float64Array(k);
    ix0b = new Int32Array(k);
    ix1b = new Int32Array(k);
  }
  for (let j = 0; j < k; j++) {
    ix0b[j] = b0Index[j]!;
    ix1b[j] = b1Index[j]!;
  }
  const it = 1 / m.tau;
  const C = fisher ?? exact;
  const withCurv = C !== null;
  if (withCurv && layoutK3(k, p, ix0b, ix1b, tauIndex)) {
    // the SIMD kernel fuses both passes (J1, Jt, H1 never reach the scratch, which nothing else reads)
    const c = call;
    c.code = code;
    c.beta1 = m.beta1;
    c.it = it;
    c.X = X;
    c.n = n;
    c.resp = resp;
    c.pi = pi;
    dispatch(lookup<GradHessCall>('gradHess', 'activation', 3, 1)!, c, n, simd);
    for (let t = 0; t < 6; t++) grad[t] = s30[t]!;
    for (let r = 0, u = 6; r < 6; r++) for (let c = r; c < 6; c++, u++) C[r * 6 + c] = s30[u]!;
    Ab[0] = s30[27]!;
    Ab[1] = s30[28]!;
    Ab[2] = s30[29]!;
  } else {
    coefs(code, k, m.beta1, it, X, n);
    denseSums1(k, p, ix0b, ix1b, tauIndex, n, resp, pi, J1b, Jtb, H1b, withCurv, wvb, grad, C ?? wvb, Ab);
  }
  if (C === null) return;
  mirrorUpper(C, p);
  if (exact === null) return;
  if (fisher !== null) exact.set(fisher.subarray(0, p * p));
  // − Σ G ∇²s: (β1_l, β1_l) −A_l; (β1_l, log τ) and (log τ, log τ) the gradient's entries
  for (let l = 0; l < k; l++) {
    const i1 = b1Index[l]!;
    if (i1 < 0) continue;
    exact[i1 * p + i1] = exact[i1 * p + i1]! - Ab[l]!;
    if (tauIndex >= 0) {
      exact[i1 * p + tauIndex] = exact[i1 * p + tauIndex]! + grad[i1]!;
      exact[tauIndex * p + i1] = exact[tauIndex * p + i1]! + grad[i1]!;
    }
  }
  if (tauIndex >= 0) exact[tauIndex * p + tauIndex] = exact[tauIndex * p + tauIndex]! + grad[tauIndex]!;
}

/**
 * Optional extension of a Backend (the CPU backend has it): gradient, Fisher curvature and exact
 * negative Hessian of the dense-to-sparse gate's Q in one pass (see {@link denseGradHess1}).
 */
export interface DenseGateKernels {
  /**
   * @returns false (nothing written) when the kernels do not apply to m (see {@link denseGradCode})
   */
  denseGradHess?(
    m: Model,
    L: GateLayout,
    X: Float64Array,
    n: number,
    resp: Float64Array,
    pi: Float64Array,
    grad: Float64Array,
    fisher: Float64Array | null,
    exact: Float64Array | null,
  ): boolean;
}

/** The activation's kernel code for the gradient sums (any d; bias outside σ), or −1. */
export function denseGradCode(m: Model): number {
  const a = getGate(m.gate).activation?.(m.gate);
  return a === undefined || a.inside ? -1 : a.act.code;
}

/** {@link DenseGateKernels.denseGradHess} of the CPU backend. */
export function denseGradHess(
  m: Model,
  L: GateLayout,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  grad: Float64Array,
  fisher: Float64Array | null,
  exact: Float64Array | null,
  simd = true,
): boolean {
  const code = denseGradCode(m);
  if (code < 0 || L.d !== m.d || L.k !== m.k) return false;
  // d = 1 with k ≤ 3 keeps its loops (and the papers' fits their bits); any other shape: the generic sums
  if (L.d === 1 && L.k <= 3) denseGradHess1(code, m, L, X, n, resp, pi, grad, fisher, exact, simd);
  else denseGradHessG(code, m.beta1, 1 / m.tau, L, X, n, resp, pi, grad, fisher, exact, simd);
  return true;
}

/** A call of the fused k = 3 sums (one per module, reused): out30 as denseSums1k3. */
export interface GradHessCall {
  code: number;
  beta1: Float64Array;
  /** 1/τ */
  it: number;
  X: Float64Array;
  n: number;
  resp: Float64Array;
  pi: Float64Array;
}

const EMPTY = new Float64Array(0);
const call: GradHessCall = { code: 0, beta1: EMPTY, it: 1, X: EMPTY, n: 0, resp: EMPTY, pi: EMPTY };
const last30 = new Float64Array(30);

/**
 * The SIMD binding of densegrad3_{id,tanh,sig} (β1 and 1/τ in par): each row's J1, Jt, H1 in
 * registers (no n × k scratch) with the JS coefficient loops' operations; the 30 sums into s30.
 */
export function gradHessSimd(rows: typeof denseRows3): SimdKernel<GradHessCall> {
  return {
    mode: 'sums',
    counter: 'sums',
    arrays: (c) => [c.X, c.resp, c.pi],
    setup(A, c) {
      const par = A.par;
      par[0] = c.beta1[0]!;
      par[1] = c.beta1[1]!;
      par[2] = c.beta1[2]!;
      par[3] = c.it;
      const K = A.kernels;
      const kernel =
        c.code === DENSE_TANH ? K.densegrad3_tanh : c.code === DENSE_SIGMOID ? K.densegrad3_sig : K.densegrad3_id;
      return { kernel, args: [c.X.byteOffset, c.resp.byteOffset, c.pi.byteOffset] };
    },
    rows(c, i0, len) {
      rows(
        c.code,
        c.beta1,
        c.it,
        c.X.subarray(i0, i0 + len),
        len,
        c.resp.subarray(i0 * 3, (i0 + len) * 3),
        c.pi.subarray(i0 * 3, (i0 + len) * 3),
        last30,
      );
      return 0;
    },
    finish(A, c) {
      sumsFinish(A.acc, 30, (c.n & 1) === 1, last30, s30);
      return 0;
    },
  };
}

register<GradHessCall>('gradHess', 'activation', 3, 1, {
  js: (c) => {
    denseRows3(c.code, c.beta1, c.it, c.X, c.n, c.resp, c.pi, s30);
    return 0;
  },
  simd: gradHessSimd(denseRows3),
});
