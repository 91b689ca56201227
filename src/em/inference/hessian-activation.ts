/**
 * The fast path of {@link logLikDerivatives} for the activation gates (the activation gate, every σ,
 * bias inside or outside; the temperature gate, σ = identity): the same L, ∇L and exact ∇²L, with the
 * per-sample Hessian accumulated as small per-expert blocks instead of dense P-vectors.
 *
 * Per sample, with q_l = r_l − π_l, gate features a_l = ∂s_l/∂(β0_l, β1_l) (outside: (1, σ'(w_l)x/τ);
 * inside: σ'(w_l)/τ·(1, x)), t_l = ∂s_l/∂τ = −σ(w_l)/τ², ψ = the coordinates of ∇²s_l (outside (0, x),
 * inside (1, x)), h_j = ∇ log f_j over expert j's (a_j, b_j, ν_j), and T_r = Σ r_l t_l, T_π = Σ π_l t_l,
 * the reference's Louis identity reads block by block:
 *   gate (l, l'):   (π_lπ_l' − r_lr_l') a_l a_l'ᵀ + δ_ll' q_l (a_l a_lᵀ + σ''(w_l)/τ ψψᵀ)
 *   gate l, τ:      (q_l t_l − r_l T_r + π_l T_π) a_l − q_l σ'(w_l)/τ² ψ
 *   τ, τ:           Σ_l q_l (t_l² + 2σ(w_l)/τ³) − T_r² + T_π²
 *   gate l, exp j:  r_j (δ_lj − r_l) a_l h_jᵀ;   τ, expert j: r_j (t_j − T_r) h_jᵀ
 *   experts (j, j'): δ_jj' r_j (h_j h_jᵀ + ∇² log f_j) − r_j r_j' h_j h_j'ᵀ
 * (Σ_j r_j g_j g_jᵀ − ḡḡᵀ is the r-covariance of g_j, so s̄ drops out of every block but the gate's
 * own curvature). With the gate's coordinates and τ as one "extended gate" vector, the products of
 * −r a (then −T_r), π a (then T_π) and r h summed over a chunk of rows are column products (2 × 2-blocked
 * dot products of length CHUNK), and only the per-expert δ terms and curvatures are added row by row.
 * The sums are put in the P × P layout once (fixed entries skipped) and carried to log τ, log ν by
 * {@link toLogScales}.
 *
 * The per-row pass runs through the kernel registry (operation 'hessian', form 'activation',
 * src/em/backend/cpu/activation-hessian.ts): its WebAssembly SIMD kernel (k ≤ 8, d ≤ 4; identity, tanh,
 * sigmoid) where the data lie in an arena (a fit's data with the SIMD backend), else this file's loop.
 */
import type { ActivationDescriptor } from '../../math/activations.js';
import { getGate, isMasked } from '../../models/gates/index.js';
import type { Dataset, Model } from '../../models/types.js';
import {
  ACTHESS_D_MAX,
  ACTHESS_K_MAX,
  actHessLayout,
  actHessParams,
  actHessSums,
  type ActHessCall,
} from '../backend/cpu/activation-hessian.js';
import { commonArena } from '../backend/simd/driver.js';
import { toLogScales, type LogLikDerivatives } from './hessian.js';
import type { ParamLayout } from './params.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Rows per chunk of the column products. */
const CHUNK = 256;

/**
 * The per-row scratch vectors, the chunk's columns and the sums. Extended gate index u: l(d + 1) + α for
 * expert l's (β0, β1) coordinate α, G = k(d + 1) for τ (kept when τ is fixed, then never put).
 */
interface Work {
  k: number;
  d: number;
  /** gate block width d + 1 (β0, β1), expert block width d + 2 (a, b, ν), G + 1, k(d + 2) */
  m: number;
  me: number;
  G1: number;
  K: number;
  act: ActivationDescriptor;
  inside: boolean;
  it: number;
  logNu: Float64Array;
  // per row
  sg: Float64Array;
  d1: Float64Array;
  d2: Float64Array;
  s: Float64Array;
  pi: Float64Array;
  r: Float64Array;
  res: Float64Array;
  A: Float64Array;
  t: Float64Array;
  h: Float64Array;
  hr: Float64Array;
  psi: Float64Array;
  phiE: Float64Array;
  /** columns (row c of the chunk at c): −r a then −T_r (G1), π a then T_π (G1), r h (K) */
  T: Float64Array;
  paCol: number;
  hrCol: number;
  /** sums: gate × gate G1 × G1, gate × expert G1 × K, expert × expert K × K (upper triangles read), gradients */
  S: Float64Array;
  gg: number;
  ge: number;
  ee: number;
  gradG: number;
  gradE: number;
}

function workspace(m: Model, act: ActivationDescriptor, inside: boolean): Work {
  const { k, d } = m;
  const M = d + 1;
  const me = d + 2;
  const G1 = k * M + 1;
  const K = k * me;
  const f = (len: number) => new Float64Array(len);
  const { ge, ee, gradG, gradE, total } = actHessLayout(k, d);
  const psi = f(M);
  psi[0] = inside ? 1 : 0;
  const phiE = f(d + 1);
  phiE[d] = 1;
  return {
    k,
    d,
    m: M,
    me,
    G1,
    K,
    act,
    inside,
    it: 1 / m.tau,
    logNu: Float64Array.from(m.nu, Math.log),
    sg: f(k),
    d1: f(k),
    d2: f(k),
    s: f(k),
    pi: f(k),
    r: f(k),
    res: f(k),
    A: f(k * M),
    t: f(k),
    h: f(K),
    hr: f(K),
    psi,
    phiE,
    T: f((2 * G1 + K) * CHUNK),
    paCol: G1 * CHUNK,
    hrCol: 2 * G1 * CHUNK,
    S: f(total),
    gg: 0,
    ge,
    ee,
    gradG,
    gradE,
  };
}

/**
 * L, ∇L and ∇²L at the model (as logLikDerivatives with hessian = true) for the activation and
 * temperature gates; null for any other gate, a layout of another k or d, or where L or a sum is not
 * finite (a NaN parameter, an overflowing logit: the caller then takes the reference, which says what
 * that gives). `simd`: the WebAssembly kernel where it applies (see {@link activationHessianSimd}).
 * @throws Error when the data's d differs from the model's
 */
export function activationLogLikDerivatives(
  L: ParamLayout,
  m: Model,
  data: Dataset,
  simd = true,
): LogLikDerivatives | null {
  const info = getGate(m.gate).activation?.(m.gate);
  if (!info || isMasked(m.gate) || L.k !== m.k || L.d !== m.d) return null;
  if (data.d !== m.d) throw new Error(`data.d must equal the model's d = ${m.d}. Value: ${data.d}`);
  const W = workspace(m, info.act, info.inside);
  const gx = gateIndices(L, W);
  const call: ActHessCall = {
    k: m.k,
    d: m.d,
    n: data.n,
    X: data.X,
    y: data.y,
    par: actHessParams(m, m.nu, m.tau, info.inside),
    grad: info.act.simd?.grad,
    held: [...gx.keys()].filter((u) => gx[u]! < 0),
    out: W.S,
    rows: (i0, len) => sweep(W, m, data, i0, i0 + len),
  };
  const logLik = actHessSums(call, simd);
  if (!Number.isFinite(logLik)) return null;
  const P = L.P;
  const grad = new Float64Array(P);
  const H = new Float64Array(P * P);
  assemble(L, W, gx, grad, H);
  // the sums read (a held coordinate's are not, and the kernel may leave them out)
  if (!allFinite(grad) || !allFinite(H)) return null;
  toLogScales(L, m, grad, H);
  return { logLik, gradient: grad, hessian: H };
}

/**
 * Whether the WebAssembly kernel runs for this model and data: an activation with SIMD emitters
 * (identity / temperature, tanh, sigmoid), k ≤ 8, d ≤ 4, and data.X, data.y in one arena.
 */
export function activationHessianSimd(m: Model, data: Dataset): boolean {
  const info = getGate(m.gate).activation?.(m.gate);
  return (
    info?.act.simd !== undefined &&
    !isMasked(m.gate) &&
    m.k >= 2 &&
    m.k <= ACTHESS_K_MAX &&
    m.d <= ACTHESS_D_MAX &&
    commonArena([data.X, data.y]) !== undefined
  );
}

/** The terms of rows [from, to) into W.S, a chunk at a time; returns their L. */
function sweep(W: Work, m: Model, data: Dataset, from: number, to: number): number {
  const { X, y } = data;
  let logLik = 0;
  for (let i0 = from; i0 < to; i0 += CHUNK) {
    const nc = Math.min(CHUNK, to - i0);
    for (let c = 0; c < nc; c++) {
      const i = i0 + c;
      logLik += rowTerms(W, m, X, y[i]!, i * m.d);
      rowGate(W, c);
      rowExperts(W, m.nu, c);
    }
    const { T, S, G1, K } = W;
    gram(T, 0, G1, 0, G1, nc, S, W.gg, G1, -1, true);
    gram(T, W.paCol, G1, W.paCol, G1, nc, S, W.gg, G1, 1, true);
    gram(T, 0, G1, W.hrCol, K, nc, S, W.ge, K, 1, false);
    gram(T, W.hrCol, K, W.hrCol, K, nc, S, W.ee, K, -1, true);
  }
  return logLik;
}

function allFinite(v: Float64Array): boolean {
  for (let t = 0; t < v.length; t++) if (!Number.isFinite(v[t]!)) return false;
  return true;
}

/** Row i's σ terms, π, r, a_l, t_l, h_j (into W); returns log p_i. */
function rowTerms(W: Work, m: Model, X: Float64Array, yi: number, xo: number): number {
  const { k, d, act, inside, it, sg, d1, d2, s, pi, r, res, A, t, h, psi, phiE } = W;
  const M = W.m;
  const me = W.me;
  const { beta0, beta1 } = m;
  for (let a = 0; a < d; a++) {
    psi[a + 1] = X[xo + a]!;
    phiE[a] = X[xo + a]!;
  }
  let mx = -Infinity;
  for (let l = 0; l < k; l++) {
    let w = inside ? beta0[l]! : 0;
    for (let a = 0; a < d; a++) w += beta1[l * d + a]! * X[xo + a]!;
    const v = act.sigma(w);
    const g = act.d1At ? act.d1At(v, w) : act.d1(w);
    sg[l] = v;
    d1[l] = g;
    d2[l] = act.d2(w);
    const sl = inside ? v * it : v * it + beta0[l]!;
    s[l] = sl;
    if (sl > mx) mx = sl;
    // a_l and t_l
    const u = g * it;
    const o = l * M;
    A[o] = inside ? u : 1;
    for (let a = 0; a < d; a++) A[o + 1 + a] = u * X[xo + a]!;
    t[l] = -v * it * it;
  }
  let z = 0;
  for (let l = 0; l < k; l++) {
    const v = Math.exp(s[l]! - mx);
    pi[l] = v;
    z += v;
  }
  const lse = mx + Math.log(z);
  const iz = 1 / z;
  // ℓ_j = log π_j + log f_j, kept in r until normalised
  let mxe = -Infinity;
  for (let j = 0; j < k; j++) {
    const lp = s[j]! - lse;
    pi[j] = pi[j]! * iz;
    let mu = m.b[j]!;
    for (let a = 0; a < d; a++) mu += m.a[j * d + a]! * X[xo + a]!;
    const e = yi - mu;
    res[j] = e;
    const nu = m.nu[j]!;
    const ell = lp - 0.5 * (LOG_2PI + W.logNu[j]!) - (0.5 * e * e) / nu;
    r[j] = ell;
    if (ell > mxe) mxe = ell;
    const en = e / nu;
    const o = j * me;
    for (let a = 0; a < d; a++) h[o + a] = en * X[xo + a]!;
    h[o + d] = en;
    h[o + d + 1] = (e * en - 1) / (2 * nu);
  }
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const v = r[j]! > -Infinity ? Math.exp(r[j]! - mxe) : 0;
    r[j] = v;
    sum += v;
  }
  for (let j = 0; j < k; j++) r[j] = r[j]! / sum;
  return mxe + Math.log(sum);
}

/**
 * Row c's gate columns (−r a, −T_r; π a, T_π; r h) and its per-expert gate terms into W.S: the gradient,
 * δ_ll' q_l (a_l a_lᵀ + σ''/τ ψψᵀ), q_l t_l a_l − q_l σ'/τ² ψ, q_l (t_l² + 2σ/τ³), a_l (r_l h_l)ᵀ, t_j r_j h_j.
 */
function rowGate(W: Work, c: number): void {
  const { k, me, G1, K, it, sg, d1, d2, pi, r, A, t, hr, h, psi, S, T, gg, ge, gradG } = W;
  const M = W.m;
  const G = G1 - 1;
  const pa = W.paCol + c;
  for (let q = 0; q < K; q++) hr[q] = r[(q / me) | 0]! * h[q]!;
  let Tr = 0;
  let Tp = 0;
  let tt = 0;
  for (let l = 0; l < k; l++) {
    const rl = r[l]!;
    const pl = pi[l]!;
    const ql = rl - pl;
    const tl = t[l]!;
    Tr += rl * tl;
    Tp += pl * tl;
    tt += ql * (tl * tl + 2 * sg[l]! * it * it * it);
    const ol = l * M;
    const c2 = ql * d2[l]! * it;
    const cA = ql * tl;
    const cP = -ql * d1[l]! * it * it;
    const oh = l * me;
    for (let a = 0; a < M; a++) {
      const u = ol + a;
      const va = A[u]!;
      T[u * CHUNK + c] = -rl * va;
      T[pa + u * CHUNK] = pl * va;
      S[gradG + u] += ql * va;
      // (l, l) upper triangle, then (l, τ)
      const o = gg + u * G1;
      const qa = ql * va;
      const pp = c2 * psi[a]!;
      for (let b = a; b < M; b++) S[o + ol + b] += qa * A[ol + b]! + pp * psi[b]!;
      S[o + G] += cA * va + cP * psi[a]!;
      // (gate l, expert l): a_l (r_l h_l)ᵀ
      const og = ge + u * K + oh;
      for (let b = 0; b < me; b++) S[og + b] += va * hr[oh + b]!;
    }
  }
  T[G * CHUNK + c] = -Tr;
  T[pa + G * CHUNK] = Tp;
  S[gg + G * G1 + G] += tt;
  S[gradG + G] += Tr - Tp;
  // (τ, expert j): t_j r_j h_j
  const ot = ge + G * K;
  for (let q = 0; q < K; q++) S[ot + q] += t[(q / me) | 0]! * hr[q]!;
}

/** Row c's r h column, the experts' gradient and r_j (h_j h_jᵀ + ∇² log f_j) in block j, into W (needs hr). */
function rowExperts(W: Work, nuAll: Float64Array, c: number): void {
  const { k, d, me, K, r, res, h, hr, phiE, S, T, gradE, ee } = W;
  for (let q = 0, o = W.hrCol + c; q < K; q++, o += CHUNK) {
    const v = hr[q]!;
    S[gradE + q] += v;
    T[o] = v;
  }
  for (let j = 0; j < k; j++) {
    const rj = r[j]!;
    const oh = j * me;
    const nu = nuAll[j]!;
    const e = res[j]!;
    const o = ee + oh * K + oh;
    const cAB = -rj / nu;
    const cAN = (-rj * e) / (nu * nu);
    for (let a = 0; a <= d; a++) {
      const va = hr[oh + a]!;
      const pa = cAB * phiE[a]!;
      const oa = o + a * K;
      for (let b = a; b <= d; b++) S[oa + b] += va * h[oh + b]! + pa * phiE[b]!;
      S[oa + d + 1] += va * h[oh + d + 1]! + cAN * phiE[a]!;
    }
    S[o + (d + 1) * K + d + 1] +=
      hr[oh + d + 1]! * h[oh + d + 1]! + rj * (1 / (2 * nu * nu) - (e * e) / (nu * nu * nu));
  }
}

/**
 * S[o + a·ld + b] += sign Σ_{c < nc} T[xo + a·CHUNK + c] T[yo + b·CHUNK + c] for a < na, b < nb (upper:
 * b ≥ a rounded down to even; the lower triangle is then partly written, never read), in 2 × 2 blocks.
 */
function gram(
  T: Float64Array,
  xo: number,
  na: number,
  yo: number,
  nb: number,
  nc: number,
  S: Float64Array,
  o: number,
  ld: number,
  sign: number,
  upper: boolean,
): void {
  for (let a = 0; a < na; a += 2) {
    const a2 = a + 1 < na;
    const x0 = xo + a * CHUNK;
    const x1 = a2 ? x0 + CHUNK : x0;
    for (let b = upper ? a : 0; b < nb; b += 2) {
      const b2 = b + 1 < nb;
      const y0 = yo + b * CHUNK;
      const y1 = b2 ? y0 + CHUNK : y0;
      let s00 = 0,
        s01 = 0,
        s10 = 0,
        s11 = 0;
      for (let c = 0; c < nc; c++) {
        const u0 = T[x0 + c]!;
        const u1 = T[x1 + c]!;
        const v0 = T[y0 + c]!;
        const v1 = T[y1 + c]!;
        s00 += u0 * v0;
        s01 += u0 * v1;
        s10 += u1 * v0;
        s11 += u1 * v1;
      }
      const r0 = o + a * ld + b;
      S[r0] += sign * s00;
      if (b2) S[r0 + 1] += sign * s01;
      if (a2) {
        S[r0 + ld] += sign * s10;
        if (b2) S[r0 + ld + 1] += sign * s11;
      }
    }
  }
}

/** The layout index of each extended gate index u (−1: held fixed, its sums never read). */
function gateIndices(L: ParamLayout, W: Work): Int32Array {
  const { G1 } = W;
  const M = W.m;
  const gx = new Int32Array(G1);
  for (let u = 0; u < G1 - 1; u++) {
    const l = (u / M) | 0;
    const a = u - l * M;
    const b1 = L.gate.b1Index[l]!;
    gx[u] = a === 0 ? L.gate.b0Index[l]! : b1 < 0 ? -1 : b1 + a - 1;
  }
  gx[G1 - 1] = L.gate.tauIndex;
  return gx;
}

/** grad and H (natural τ, ν) from the sums: the upper triangles put at their layout indices (gx), fixed entries skipped. */
function assemble(L: ParamLayout, W: Work, gx: Int32Array, grad: Float64Array, H: Float64Array): void {
  const { G1, K, S, gg, ge, ee, gradG, gradE } = W;
  const P = L.P;
  const eo = L.expertOffset;
  const put = (s: number, t: number, v: number): void => {
    H[s * P + t] = v;
    H[t * P + s] = v;
  };
  for (let u = 0; u < G1; u++) {
    const g = gx[u]!;
    if (g < 0) continue;
    grad[g] = S[gradG + u]!;
    for (let v = u; v < G1; v++) if (gx[v]! >= 0) put(g, gx[v]!, S[gg + u * G1 + v]!);
    for (let q = 0; q < K; q++) put(g, eo + q, S[ge + u * K + q]!);
  }
  for (let q = 0; q < K; q++) {
    grad[eo + q] = S[gradE + q]!;
    for (let q2 = q; q2 < K; q2++) put(eo + q, eo + q2, S[ee + q * K + q2]!);
  }
}
