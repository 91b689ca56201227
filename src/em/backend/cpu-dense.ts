/**
 * CPU kernels of the dense-to-sparse gates (temperature = identity activation, tanh, sigmoid; bias
 * outside σ; d = 1): logits s_ij = σ(β1_j x_i)/τ + β0_j and their softmax, and the gradient, the
 * Fisher (Gauss–Newton) curvature and the exact negative Hessian of Q = Σ r log π over the free
 * parameters (β0, β1, log τ). One loop per activation (no per-element switch); σ, σ' and σ'' come
 * from src/math's expCore (≤ 0.51 ulp), so results differ from the generic path
 * (Gate.logits / logitDerivs with Math.tanh / Math.exp) only by rounding. tanh(u) = (1 − e)/(1 + e)
 * with e = e^{−2u} has an absolute (not relative) error of a few 1e-17 near u = 0, which is all a
 * logit needs.
 *
 * Exact Hessian: with J_il = ∂s_il/∂θ and G_il = r_il − R_i π_il,
 *   −∇²Q = Σ_i R_i J_iᵀ(diag π_i − π_i π_iᵀ)J_i − Σ_il G_il ∇²s_il,
 * and the second term has, per expert, only the entries (β1_l, β1_l): σ''x²/τ, (β1_l, log τ):
 * −σ'x/τ and (log τ, log τ): σ/τ; the last two summed with G are the gradient's own entries.
 */
import type { Model } from '../../models/types.js';
import { expCore } from '../../math/exp.js';
import { logCore } from '../../math/log.js';
import type { GateLayout } from './types.js';

/** exp(u) for u < −EXP_CUTOFF (relative to the row maximum) is 0 (as in cpu.ts) */
const EXP_CUTOFF = 708;
/** logits within ±GATE_DIRECT are exponentiated without subtracting the row maximum (as in cpu.ts) */
const GATE_DIRECT = 350;
/** |u| beyond which tanh(u) = ±1 and σ'(u) < 1e-17 (also keeps e^{−2u} in expCore's domain) */
const TANH_CLAMP = 20;
/** keeps e^{−u} of the sigmoid in expCore's domain; σ(±700) is 1 or ~1e-304 */
const SIG_CLAMP = 700;

/** Activation codes of the specialised kernels. */
export const DENSE_IDENTITY = 0;
export const DENSE_TANH = 1;
export const DENSE_SIGMOID = 2;

/**
 * The kernel code for a model's gate, or −1 when the specialised kernels do not apply
 * (d ≠ 1, bias inside σ, relu/gelu, or not a dense-to-sparse gate).
 */
export function denseKernelCode(m: Model): number {
  if (m.d !== 1) return -1;
  const g = m.gate;
  if (g.kind === 'temperature') return DENSE_IDENTITY;
  if (g.kind !== 'activation' || g.bias === 'inside') return -1;
  return g.activation === 'identity' ? DENSE_IDENTITY : g.activation === 'tanh' ? DENSE_TANH : g.activation === 'sigmoid' ? DENSE_SIGMOID : -1;
}

/**
 * Softmax of row o (k logits already in logPi[o..o+k)): log π into logPi, π into pi.
 * @returns Σ_j r_j log π_j over the row when withQ, else 0
 */
function softmaxRow(k: number, o: number, logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean, direct: boolean): number {
  let s = 0;
  let mx = 0;
  if (direct) {
    for (let j = 0; j < k; j++) { const e = expCore(logPi[o + j]!); pi[o + j] = e; s += e; }
  } else {
    mx = -Infinity;
    let jm = -1;
    for (let j = 0; j < k; j++) { const v = logPi[o + j]!; if (v > mx || v !== v) { mx = v; jm = j; } }
    for (let j = 0; j < k; j++) {
      const u = logPi[o + j]! - mx;
      const e = j === jm ? 1 : u < -EXP_CUTOFF ? 0 : expCore(u);
      pi[o + j] = e;
      s += e;
    }
  }
  // s ∈ [e^-350, k·e^350] (direct) or [1, k]: logCore's domain; NaN stays NaN
  const lse = mx + (s === s ? logCore(s) : s);
  const inv = 1 / s;
  let q = 0;
  for (let j = 0; j < k; j++) {
    const lp = logPi[o + j]! - lse;
    logPi[o + j] = lp;
    pi[o + j] = pi[o + j]! * inv;
    if (withQ) { const r = resp[o + j]!; if (r !== 0) q += r * lp; }
  }
  return q;
}

function rowsIdentity(k: number, beta0: Float64Array, beta1: Float64Array, it: number, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean): number {
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xi = X[i]!;
    let direct = true;
    for (let j = 0; j < k; j++) {
      const v = beta1[j]! * xi * it + beta0[j]!;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    q += softmaxRow(k, o, logPi, pi, resp, withQ, direct);
  }
  return q;
}

function rowsTanh(k: number, beta0: Float64Array, beta1: Float64Array, it: number, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean): number {
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xi = X[i]!;
    let direct = true;
    for (let j = 0; j < k; j++) {
      const u = beta1[j]! * xi;
      const uc = u > TANH_CLAMP ? TANH_CLAMP : u < -TANH_CLAMP ? -TANH_CLAMP : u;
      const e = expCore(-2 * uc);
      const v = ((1 - e) / (1 + e)) * it + beta0[j]!;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    q += softmaxRow(k, o, logPi, pi, resp, withQ, direct);
  }
  return q;
}

function rowsSigmoid(k: number, beta0: Float64Array, beta1: Float64Array, it: number, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean): number {
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xi = X[i]!;
    let direct = true;
    for (let j = 0; j < k; j++) {
      const u = beta1[j]! * xi;
      const uc = u > SIG_CLAMP ? SIG_CLAMP : u < -SIG_CLAMP ? -SIG_CLAMP : u;
      const v = (1 / (1 + expCore(-uc))) * it + beta0[j]!;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    q += softmaxRow(k, o, logPi, pi, resp, withQ, direct);
  }
  return q;
}

/**
 * Gate log-probabilities and probabilities (n × k each) of a dense-to-sparse gate with
 * {@link denseKernelCode}(m) = code ≥ 0, as Backend.gateProbs with maskMode 'none'.
 * @param resp when given, Q = Σ r log π is accumulated in the same pass
 * @returns Q when resp is given, else NaN
 */
export function denseGateProbs1(code: number, m: Model, X: Float64Array, n: number, logPi: Float64Array, pi: Float64Array, resp?: Float64Array): number {
  const withQ = resp !== undefined;
  const r = resp ?? logPi;
  const it = 1 / m.tau;
  const q = code === DENSE_TANH ? rowsTanh(m.k, m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ)
    : code === DENSE_SIGMOID ? rowsSigmoid(m.k, m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ)
      : rowsIdentity(m.k, m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ);
  return withQ ? q : NaN;
}

/**
 * Per-element Jacobian coefficients, one loop per activation: J1 = ∂s/∂β1 = σ'(u)·x/τ,
 * Jt = ∂s/∂log τ = −σ(u)/τ and H1 = ∂²s/∂β1² = σ''(u)·x²/τ, u = β1_j x_i (n × k each).
 */
function coefsIdentity(k: number, beta1: Float64Array, it: number, X: Float64Array, n: number, J1: Float64Array, Jt: Float64Array, H1: Float64Array): void {
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

function coefsTanh(k: number, beta1: Float64Array, it: number, X: Float64Array, n: number, J1: Float64Array, Jt: Float64Array, H1: Float64Array): void {
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

function coefsSigmoid(k: number, beta1: Float64Array, it: number, X: Float64Array, n: number, J1: Float64Array, Jt: Float64Array, H1: Float64Array): void {
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
function denseSums1(k: number, p: number, ix0: Int32Array, ix1: Int32Array, ixt: number, n: number, resp: Float64Array, pi: Float64Array,
  J1: Float64Array, Jt: Float64Array, H1: Float64Array, withCurv: boolean, wv: Float64Array, grad: Float64Array, acc: Float64Array, A: Float64Array): void {
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
    if (!withCurv) continue;
    // − R w wᵀ, upper triangle
    for (let a = 0; a < p; a++) {
      const wa = R * wv[a]!;
      if (wa === 0) continue;
      const ao = a * p;
      for (let b = a; b < p; b++) acc[ao + b] = acc[ao + b]! - wa * wv[b]!;
    }
  }
}

/** Scratch of the gradient/curvature kernel (grows on demand; module-level: the kernels are pure functions of their inputs). */
let J1b = new Float64Array(0);
let Jtb = new Float64Array(0);
let H1b = new Float64Array(0);
let wvb = new Float64Array(8);
let Ab = new Float64Array(8);
let ix0b = new Int32Array(8);
let ix1b = new Int32Array(8);

/**
 * Gradient of Q over the free gate parameters of `layout` (β0, β1, log τ; d = 1) at the gate of m,
 * and, when `fisher` is given, its Fisher curvature C = Σ_i R_i J_iᵀ(diag π_i − π_i π_iᵀ)J_i
 * (as Backend.gateGradCurv) and, when `exact` is given, the exact −∇²Q (both p × p, row-major,
 * symmetric). pi (n × k) must hold the gate probabilities at m.
 * @param code {@link denseKernelCode}(m), ≥ 0
 */
export function denseGradHess1(code: number, m: Model, L: GateLayout, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array,
  grad: Float64Array, fisher: Float64Array | null, exact: Float64Array | null): void {
  const { k, p, b0Index, b1Index, tauIndex } = L;
  const nk = n * k;
  if (J1b.length < nk) { J1b = new Float64Array(nk); Jtb = new Float64Array(nk); H1b = new Float64Array(nk); }
  if (wvb.length < p) wvb = new Float64Array(p);
  if (Ab.length < k) { Ab = new Float64Array(k); ix0b = new Int32Array(k); ix1b = new Int32Array(k); }
  for (let j = 0; j < k; j++) { ix0b[j] = b0Index[j]!; ix1b[j] = b1Index[j]!; }
  const it = 1 / m.tau;
  if (code === DENSE_TANH) coefsTanh(k, m.beta1, it, X, n, J1b, Jtb, H1b);
  else if (code === DENSE_SIGMOID) coefsSigmoid(k, m.beta1, it, X, n, J1b, Jtb, H1b);
  else coefsIdentity(k, m.beta1, it, X, n, J1b, Jtb, H1b);
  const C = fisher ?? exact;
  const withCurv = C !== null;
  denseSums1(k, p, ix0b, ix1b, tauIndex, n, resp, pi, J1b, Jtb, H1b, withCurv, wvb, grad, C ?? wvb, Ab);
  if (C === null) return;
  for (let r = 0; r < p; r++) for (let c = r + 1; c < p; c++) C[c * p + r] = C[r * p + c]!;
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
   * @returns false (nothing written) when the kernels do not apply to m (see {@link denseKernelCode})
   */
  denseGradHess?(m: Model, L: GateLayout, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array,
    grad: Float64Array, fisher: Float64Array | null, exact: Float64Array | null): boolean;
}

/** {@link DenseGateKernels.denseGradHess} of the CPU backend. */
export function denseGradHess(m: Model, L: GateLayout, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array,
  grad: Float64Array, fisher: Float64Array | null, exact: Float64Array | null): boolean {
  const code = denseKernelCode(m);
  if (code < 0 || L.d !== 1 || L.k !== m.k) return false;
  denseGradHess1(code, m, L, X, n, resp, pi, grad, fisher, exact);
  return true;
}
