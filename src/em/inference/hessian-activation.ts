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
 * own curvature). The blocks are summed over the rows in O(k²d²) per row, then put in the P × P
 * layout once (fixed entries skipped) and carried to log τ, log ν by {@link toLogScales}.
 */
import type { ActivationDescriptor } from '../../math/activations.js';
import { getGate, isMasked } from '../../models/gates/index.js';
import type { Dataset, Model } from '../../models/types.js';
import { toLogScales, type LogLikDerivatives } from './hessian.js';
import type { ParamLayout } from './params.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** The per-row scratch vectors and the block sums (offsets into `S`), sized for k experts and d inputs. */
interface Work {
  k: number;
  d: number;
  /** gate block width d + 1 (β0, β1) and expert block width d + 2 (a, b, ν) */
  m: number;
  me: number;
  act: ActivationDescriptor;
  inside: boolean;
  tauFree: boolean;
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
  // sums
  S: Float64Array;
  gg: number;
  gt: number;
  tt: number;
  ge: number;
  te: number;
  ee: number;
  gradG: number;
  gradT: number;
  gradE: number;
  /** the chunk's columns (row c of a chunk at c): −r_l a_l (k(d + 1) columns), then r_j h_j (k(d + 2)) */
  T: Float64Array;
  hrCol: number;
}

/** Rows per chunk: the gate–expert and expert–expert sums are taken a chunk at a time as column products. */
const CHUNK = 256;

function workspace(m: Model, act: ActivationDescriptor, inside: boolean, tauFree: boolean): Work {
  const { k, d } = m;
  const M = d + 1;
  const me = d + 2;
  const f = (len: number) => new Float64Array(len);
  const gg = 0;
  const gt = gg + k * k * M * M;
  const tt = gt + k * M;
  const ge = tt + 1;
  const te = ge + k * k * M * me;
  const ee = te + k * me;
  const gradG = ee + k * k * me * me;
  const gradT = gradG + k * M;
  const gradE = gradT + 1;
  const psi = f(M);
  psi[0] = inside ? 1 : 0;
  const phiE = f(d + 1);
  phiE[d] = 1;
  return {
    k,
    d,
    m: M,
    me,
    act,
    inside,
    tauFree,
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
    h: f(k * me),
    hr: f(k * me),
    psi,
    phiE,
    S: f(gradE + k * me),
    T: f((k * M + k * me) * CHUNK),
    hrCol: k * M * CHUNK,
    gg,
    gt,
    tt,
    ge,
    te,
    ee,
    gradG,
    gradT,
    gradE,
  };
}

/**
 * L, ∇L and ∇²L at the model (as logLikDerivatives with hessian = true) for the activation and
 * temperature gates; null for any other gate, a layout of another k or d, or where L or a sum is not
 * finite (a NaN parameter, an overflowing logit: the caller then takes the reference, which says what
 * that gives).
 * @throws Error when the data's d differs from the model's
 */
export function activationLogLikDerivatives(L: ParamLayout, m: Model, data: Dataset): LogLikDerivatives | null {
  const info = getGate(m.gate).activation?.(m.gate);
  if (!info || isMasked(m.gate) || L.k !== m.k || L.d !== m.d) return null;
  if (data.d !== m.d) throw new Error(`data.d must equal the model's d = ${m.d}. Value: ${data.d}`);
  const W = workspace(m, info.act, info.inside, L.gate.tauIndex >= 0);
  const logLik = sweep(W, m, data);
  if (!Number.isFinite(logLik) || !allFinite(W.S)) return null;
  const P = L.P;
  const grad = new Float64Array(P);
  const H = new Float64Array(P * P);
  assemble(L, W, grad, H);
  toLogScales(L, m, grad, H);
  return { logLik, gradient: grad, hessian: H };
}

/** Every row's terms into W.S; returns L. (Its own function, so that its optimised code lives across calls.) */
function sweep(W: Work, m: Model, data: Dataset): number {
  const { n, X, y } = data;
  let logLik = 0;
  for (let i0 = 0; i0 < n; i0 += CHUNK) {
    const nc = Math.min(CHUNK, n - i0);
    for (let c = 0; c < nc; c++) {
      const i = i0 + c;
      logLik += rowTerms(W, m, X, y[i]!, i * m.d);
      accumulateGate(W, c);
      accumulateExperts(W, m.nu, c);
    }
    flushChunk(W, nc);
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

/** Row i's gate–gate, gate–τ, τ–τ and gate–expert blocks and the gate's gradient, into W.S. */
function accumulateGate(W: Work, c: number): void {
  const { k, me, tauFree, it, sg, d1, d2, pi, r, A, t, hr, h, psi, S, T, gg, gt, tt, ge, te, gradG, gradT } = W;
  const M = W.m;
  const mm = M * M;
  const K = k * me;
  let Tr = 0;
  let Tp = 0;
  for (let l = 0; l < k; l++) {
    Tr += r[l]! * t[l]!;
    Tp += pi[l]! * t[l]!;
  }
  // r_j h_j, shared by the gate–expert and expert blocks
  for (let j = 0; j < k; j++) for (let b = 0; b < me; b++) hr[j * me + b] = r[j]! * h[j * me + b]!;
  for (let l = 0; l < k; l++) {
    const rl = r[l]!;
    const pl = pi[l]!;
    const ql = rl - pl;
    const ol = l * M;
    for (let a = 0; a < M; a++) S[gradG + ol + a] += ql * A[ol + a]!;
    // (l, l): upper triangle
    const w0 = pl * pl - rl * rl + ql;
    const c2 = ql * d2[l]! * it;
    let o = gg + (l * k + l) * mm;
    for (let a = 0; a < M; a++) {
      const va = w0 * A[ol + a]!;
      const pa = c2 * psi[a]!;
      for (let b = a; b < M; b++) S[o + a * M + b] += va * A[ol + b]! + pa * psi[b]!;
    }
    // (l, l′ > l): full blocks
    for (let l2 = l + 1; l2 < k; l2++) {
      const w = pl * pi[l2]! - rl * r[l2]!;
      if (w === 0) continue;
      o = gg + (l * k + l2) * mm;
      const o2 = l2 * M;
      for (let a = 0; a < M; a++) {
        const va = w * A[ol + a]!;
        for (let b = 0; b < M; b++) S[o + a * M + b] += va * A[o2 + b]!;
      }
    }
    if (tauFree) {
      const cA = ql * t[l]! - rl * Tr + pl * Tp;
      const cP = -ql * d1[l]! * it * it;
      for (let a = 0; a < M; a++) S[gt + ol + a] += cA * A[ol + a]! + cP * psi[a]!;
      S[tt] += ql * (t[l]! * t[l]! + 2 * sg[l]! * it * it * it);
    }
    // (gate l, expert j): (δ_lj − r_l) a_l (r_j h_j)ᵀ; the −r_l a_l (r_j h_j)ᵀ part by flushChunk
    const oh = l * me;
    for (let a = 0; a < M; a++) {
      const va = A[ol + a]!;
      T[(ol + a) * CHUNK + c] = -rl * va;
      const og = ge + (ol + a) * K + oh;
      for (let b = 0; b < me; b++) S[og + b] += va * hr[oh + b]!;
    }
  }
  if (tauFree) {
    S[tt] += Tp * Tp - Tr * Tr;
    S[gradT] += Tr - Tp;
    for (let j = 0; j < k; j++) {
      const w = t[j]! - Tr;
      for (let b = 0; b < me; b++) S[te + j * me + b] += w * hr[j * me + b]!;
    }
  }
}

/** Row i's expert–expert blocks (with ∇² log f_j) and the experts' gradient, into W.S (needs hr). */
function accumulateExperts(W: Work, nuAll: Float64Array, c: number): void {
  const { k, d, me, r, res, h, hr, phiE, S, T, gradE, ee } = W;
  const K = k * me;
  // r h into its chunk columns (−(r h)(r h)ᵀ by flushChunk)
  for (let s = 0, o = W.hrCol + c; s < K; s++, o += CHUNK) {
    const vs = hr[s]!;
    S[gradE + s] += vs;
    T[o] = vs;
  }
  // + r_j (h_j h_jᵀ + ∇² log f_j) in block j, upper triangle
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

/** The chunk's column products: gate–expert Σ_c (−r_l a_l)(r_j h_j)ᵀ and expert–expert −Σ_c (r h)(r h)ᵀ. */
function flushChunk(W: Work, nc: number): void {
  const K = W.k * W.me;
  const G = W.k * W.m;
  gram(W.T, 0, G, W.hrCol, K, nc, W.S, W.ge, K, 1, false);
  gram(W.T, W.hrCol, K, W.hrCol, K, nc, W.S, W.ee, K, -1, true);
}

/**
 * S[o + a·ld + b] += sign Σ_{c < nc} T[xo + a·CHUNK + c] T[yo + b·CHUNK + c] for a < na, b < nb (upper:
 * b ≥ a rounded down to even, the rest of the lower triangle untouched), in 2 × 2 blocks of accumulators.
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

/** grad and H (natural τ, ν) from the block sums: each block put at its layout indices, fixed entries skipped. */
function assemble(L: ParamLayout, W: Work, grad: Float64Array, H: Float64Array): void {
  const { k, me, S, gg, gt, tt, ge, te, ee, gradG, gradT, gradE } = W;
  const M = W.m;
  const P = L.P;
  const ti = L.gate.tauIndex;
  const gi = (l: number, a: number): number => {
    if (a === 0) return L.gate.b0Index[l]!;
    const b1 = L.gate.b1Index[l]!;
    return b1 < 0 ? -1 : b1 + a - 1;
  };
  const ei = (j: number, b: number): number => L.expertOffset + j * me + b;
  const put = (s: number, t: number, v: number): void => {
    if (s < 0 || t < 0) return;
    H[s * P + t] = v;
    H[t * P + s] = v;
  };
  for (let l = 0; l < k; l++) {
    for (let l2 = l; l2 < k; l2++) {
      const o = gg + (l * k + l2) * M * M;
      for (let a = 0; a < M; a++)
        for (let b = l2 === l ? a : 0; b < M; b++) put(gi(l, a), gi(l2, b), S[o + a * M + b]!);
    }
    for (let a = 0; a < M; a++) {
      const g = gi(l, a);
      if (g < 0) continue;
      grad[g] = S[gradG + l * M + a]!;
      if (ti >= 0) put(g, ti, S[gt + l * M + a]!);
      for (let j = 0; j < k; j++)
        for (let b = 0; b < me; b++) put(g, ei(j, b), S[ge + (l * M + a) * k * me + j * me + b]!);
    }
  }
  if (ti >= 0) {
    grad[ti] = S[gradT]!;
    put(ti, ti, S[tt]!);
    for (let j = 0; j < k; j++) for (let b = 0; b < me; b++) put(ti, ei(j, b), S[te + j * me + b]!);
  }
  for (let j = 0; j < k; j++) {
    for (let b = 0; b < me; b++) grad[ei(j, b)] = S[gradE + j * me + b]!;
    for (let j2 = j; j2 < k; j2++) {
      for (let a = 0; a < me; a++)
        for (let b = j2 === j ? a : 0; b < me; b++)
          put(ei(j, a), ei(j2, b), S[ee + (j * me + a) * k * me + j2 * me + b]!);
    }
  }
}
