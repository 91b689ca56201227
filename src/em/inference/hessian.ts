/**
 * The observed log-likelihood L(θ) = Σ_i log Σ_j π_j(x_i) f_j(y_i | x_i), its analytic gradient and
 * its EXACT Hessian over the packed parameters of params.ts, for every gate.
 *
 * Per sample, with ℓ_ij = log π_ij + log f_ij, r_ij = the responsibilities and g_ij = ∇ℓ_ij
 * (Louis' identity):
 *   ∇ log p_i  = ḡ_i = Σ_j r_ij g_ij,
 *   ∇² log p_i = Σ_j r_ij ∇²ℓ_ij + Σ_j r_ij g_ij g_ijᵀ − ḡ_i ḡ_iᵀ.
 * The gate part of ℓ: ∇ log π_ij = ds_ij − s̄_i with s̄_i = Σ_l π_il ds_il (ds = ∇ of the logit), and
 *   Σ_j r_ij ∇² log π_ij = Σ_l (r_il − π_il) ∇²s_il − (Σ_l π_il ds_il ds_ilᵀ − s̄_i s̄_iᵀ)   (Σ_j r_ij = 1).
 * Logits: softmax / top-K s_j = β0_j + β1_j·x (∇²s = 0; top-K: the softmax over the active set
 * S_K(x_i), held fixed: the Hessian is that of the smooth piece the parameters lie in);
 * activation s_j = σ(w_j)/τ + β0_j with w_j = β1_j·x (bias outside) or s_j = σ(w_j)/τ with
 * w_j = β1_j·x + β0_j (inside); the temperature gate is σ = identity, outside.
 * Everything is computed in τ and ν, then carried to log τ, log ν by the chain rule:
 * for t = log v, ∂L/∂t = v ∂L/∂v and ∂²L/∂t∂u = v ∂²L/∂v∂u (+ v ∂L/∂v on the diagonal).
 */
import { activation, type Activation } from '../../math/activations.js';
import { getGate, isMasked, type GateActivation } from '../../models/gates/index.js';
import { activeSet } from '../../models/gates/topk.js';
import type { Dataset, Model } from '../../models/types.js';
import type { ParamLayout } from './params.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** σ''(u) (relu: 0 everywhere but at 0, where it is undefined and taken as 0), from σ's descriptor. */
export function activateSecondDeriv(kind: Activation, u: number): number {
  return activation(kind).d2(u);
}

export interface LogLikDerivatives {
  logLik: number;
  /** ∂L/∂θ, length P */
  gradient: Float64Array;
  /** ∂²L/∂θ∂θᵀ, P × P row-major, symmetric; absent when not asked for */
  hessian?: Float64Array;
}

/** The gate's activation and bias placement (its descriptor's); null for the linear (softmax, top-K) gates. */
function activationOf(m: Model): GateActivation | null {
  return getGate(m.gate).activation?.(m.gate) ?? null;
}

/**
 * L, ∇L and (when `hessian` is true) ∇²L at the model, over the free parameters of `L`.
 * The model must satisfy the layout's fixed entries (normalizeGate) and have ν_j > 0, τ > 0.
 * @throws Error when the data's d differs from the model's
 */
export function logLikDerivatives(L: ParamLayout, m: Model, data: Dataset, hessian = true): LogLikDerivatives {
  const { k, d } = m;
  if (data.d !== d || L.d !== d || L.k !== k)
    throw new Error(`data.d must equal the model's d = ${d} (layout k = ${L.k}, d = ${L.d}). Value: ${data.d}`);
  const { n, X, y } = data;
  const P = L.P;
  const G = L.gate;
  const pg = G.p;
  const gate = getGate(m.gate);
  const logPi = new Float64Array(n * k);
  gate.logProbs(m, X, n, logPi);
  const dB0 = new Float64Array(n * k);
  const dU = new Float64Array(n * k);
  const dTau = new Float64Array(n * k);
  gate.logitDerivs(m, X, n, dB0, dU, dTau);
  const mask = isMasked(m.gate) ? activeSet(m, X, n) : null;
  const actInfo = activationOf(m);
  const tau = m.tau;
  const ti = G.tauIndex;

  const grad = new Float64Array(P);
  const H = hessian ? new Float64Array(P * P) : null;
  // the outer-product sums, upper triangle only (added to H at the end): the bulk of the work
  const U = hessian ? new Float64Array(P * P) : null;
  // nonzero coordinates of g_ij: the gate block, then expert j's block
  const nzCount = pg + d + 2;
  const nz = new Int32Array(k * nzCount);
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < pg; t++) nz[j * nzCount + t] = t;
    for (let t = 0; t < d + 2; t++) nz[j * nzCount + pg + t] = L.expertOffset + j * (d + 2) + t;
  }
  const Gc = new Float64Array(k * nzCount); // g_ij at the coordinates nz (row j)
  const ds = new Float64Array(k * pg); // ∇s_il over the gate block, row l
  const sbar = new Float64Array(pg);
  const gbar = new Float64Array(P);
  const ell = new Float64Array(k);
  const r = new Float64Array(k);
  const pi = new Float64Array(k);
  const res = new Float64Array(k);
  const z = new Float64Array(d + 1);
  const zi = new Int32Array(d + 1);
  let logLik = 0;
  const logNu = Float64Array.from(m.nu, Math.log);

  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xo = i * d;
    // responsibilities and log p_i
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      let mu = m.b[j]!;
      for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X[xo + l]!;
      const e = y[i]! - mu;
      res[j] = e;
      ell[j] = logPi[o + j]! - 0.5 * (LOG_2PI + logNu[j]!) - (0.5 * e * e) / m.nu[j]!;
      if (ell[j]! > mx) mx = ell[j]!;
    }
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = ell[j]! > -Infinity ? Math.exp(ell[j]! - mx) : 0;
      r[j] = v;
      sum += v;
    }
    logLik += mx + Math.log(sum);
    for (let j = 0; j < k; j++) {
      r[j] = r[j]! / sum;
      pi[j] = Math.exp(logPi[o + j]!);
    }

    // ∇s_il over the gate block and its π-mean s̄
    ds.fill(0);
    sbar.fill(0);
    for (let l = 0; l < k; l++) {
      if (mask && !mask[o + l]) continue;
      const row = l * pg;
      if (G.b0Index[l]! >= 0) ds[row + G.b0Index[l]!] = dB0[o + l]!;
      if (G.b1Index[l]! >= 0) for (let a = 0; a < d; a++) ds[row + G.b1Index[l]! + a] = dU[o + l]! * X[xo + a]!;
      if (ti >= 0) ds[row + ti] = dTau[o + l]!;
      for (let t = 0; t < pg; t++) sbar[t] = sbar[t]! + pi[l]! * ds[row + t]!;
    }

    // g_ij = ∇ℓ_ij, compact: gate part ds_ij − s̄ (coordinates 0..pg−1), then expert j's block;
    // ḡ = Σ_j r_j g_ij written whole (every coordinate), with no P-length pass per expert
    for (let t = 0; t < pg; t++) gbar[t] = 0;
    for (let j = 0; j < k; j++) {
      const rj = r[j]!;
      const row = j * nzCount;
      const eb = L.expertOffset + j * (d + 2);
      if (rj === 0) {
        for (let t = 0; t < d + 2; t++) gbar[eb + t] = 0;
        continue;
      }
      for (let t = 0; t < pg; t++) {
        const v = ds[j * pg + t]! - sbar[t]!;
        Gc[row + t] = v;
        gbar[t] = gbar[t]! + rj * v;
      }
      const eo = row + pg;
      const nu = m.nu[j]!;
      const e = res[j]!;
      for (let a = 0; a < d; a++) Gc[eo + a] = (e * X[xo + a]!) / nu;
      Gc[eo + d] = e / nu;
      Gc[eo + d + 1] = ((e * e) / nu - 1) / (2 * nu);
      for (let t = 0; t < d + 2; t++) gbar[eb + t] = rj * Gc[eo + t]!;
    }
    for (let t = 0; t < P; t++) grad[t] = grad[t]! + gbar[t]!;
    if (!H || !U) continue;

    // Σ_j r_j g_j g_jᵀ − ḡḡᵀ (g_j is zero outside the gate block and expert j's block)
    for (let j = 0; j < k; j++) {
      const rj = r[j]!;
      if (rj === 0) continue;
      const row = j * nzCount;
      for (let a = 0; a < nzCount; a++) {
        const v = rj * Gc[row + a]!;
        if (v === 0) continue;
        const hs = nz[row + a]! * P;
        for (let b = a; b < nzCount; b++) {
          const t = nz[row + b]!;
          U[hs + t] = U[hs + t]! + v * Gc[row + b]!;
        }
      }
    }
    for (let s = 0; s < P; s++) {
      const v = gbar[s]!;
      if (v === 0) continue;
      const hs = s * P;
      for (let t = s; t < P; t++) U[hs + t] = U[hs + t]! - v * gbar[t]!;
    }
    // gate: −(Σ_l π_l ds_l ds_lᵀ − s̄s̄ᵀ)
    subtractGateOuter(U, P, pg, k, pi, ds, sbar);
    // gate: Σ_l (r_l − π_l) ∇²s_l (nonlinear logits only)
    if (actInfo) addActivationCurvature(H, P, G, actInfo, m, X, xo, r, pi, z, zi);
    // experts: Σ_j r_j ∇² log f_j in block j
    addExpertCurvature(H, P, L.expertOffset, m, X, xo, r, res);
  }
  if (H && U) addUpperTriangle(H, U, P);
  toLogScales(L, m, grad, H);
  if (H) symmetrize(H, P);
  return H ? { logLik, gradient: grad, hessian: H } : { logLik, gradient: grad };
}

/** H += U + Uᵀ off the diagonal, H += diag U (U holds the upper triangle of the outer-product sums). */
function addUpperTriangle(H: Float64Array, U: Float64Array, P: number): void {
  for (let s = 0; s < P; s++) {
    H[s * P + s] = H[s * P + s]! + U[s * P + s]!;
    for (let t = s + 1; t < P; t++) {
      H[s * P + t] = H[s * P + t]! + U[s * P + t]!;
      H[t * P + s] = H[t * P + s]! + U[s * P + t]!;
    }
  }
}

/** H ← (H + Hᵀ)/2 (the chain rule's rounding). */
function symmetrize(H: Float64Array, P: number): void {
  for (let s = 0; s < P; s++)
    for (let t = 0; t < s; t++) {
      const v = 0.5 * (H[s * P + t]! + H[t * P + s]!);
      H[s * P + t] = v;
      H[t * P + s] = v;
    }
}

/** Sample i's −(Σ_l π_l ds_l ds_lᵀ − s̄s̄ᵀ) over the gate block, into the upper triangle of U. */
function subtractGateOuter(
  U: Float64Array,
  P: number,
  pg: number,
  k: number,
  pi: Float64Array,
  ds: Float64Array,
  sbar: Float64Array,
): void {
  for (let l = 0; l < k; l++) {
    const pl = pi[l]!;
    if (pl === 0) continue;
    const row = l * pg;
    for (let s = 0; s < pg; s++) {
      const v = pl * ds[row + s]!;
      if (v === 0) continue;
      const hs = s * P;
      for (let t = s; t < pg; t++) U[hs + t] = U[hs + t]! - v * ds[row + t]!;
    }
  }
  for (let s = 0; s < pg; s++) {
    const v = sbar[s]!;
    if (v === 0) continue;
    const hs = s * P;
    for (let t = s; t < pg; t++) U[hs + t] = U[hs + t]! + v * sbar[t]!;
  }
}

/** Sample i's Σ_l (r_l − π_l) ∇²s_l of a nonlinear gate into H (the curvature of its logits in β and τ). */
function addActivationCurvature(
  H: Float64Array,
  P: number,
  G: ParamLayout['gate'],
  actInfo: GateActivation,
  m: Model,
  X: Float64Array,
  xo: number,
  r: Float64Array,
  pi: Float64Array,
  z: Float64Array,
  zi: Int32Array,
): void {
  const { k, d, tau } = m;
  const ti = G.tauIndex;
  const { act, inside } = actInfo;
  for (let l = 0; l < k; l++) {
    const c = r[l]! - pi[l]!;
    if (c === 0) continue;
    let w = 0;
    for (let a = 0; a < d; a++) w += m.beta1[l * d + a]! * X[xo + a]!;
    if (inside) w += m.beta0[l]!;
    // the coordinates whose products form ∇²s_l: β1_l (and β0_l inside)
    let nz = 0;
    if (inside && G.b0Index[l]! >= 0) {
      z[nz] = 1;
      zi[nz++] = G.b0Index[l]!;
    }
    if (G.b1Index[l]! >= 0)
      for (let a = 0; a < d; a++) {
        z[nz] = X[xo + a]!;
        zi[nz++] = G.b1Index[l]! + a;
      }
    const c2 = (c * act.d2(w)) / tau;
    if (c2 !== 0)
      for (let s = 0; s < nz; s++)
        for (let t = 0; t < nz; t++) H[zi[s]! * P + zi[t]!] = H[zi[s]! * P + zi[t]!]! + c2 * z[s]! * z[t]!;
    if (ti >= 0) {
      const cT = (-c * act.d1(w)) / (tau * tau);
      for (let s = 0; s < nz; s++) {
        H[zi[s]! * P + ti] = H[zi[s]! * P + ti]! + cT * z[s]!;
        H[ti * P + zi[s]!] = H[ti * P + zi[s]!]! + cT * z[s]!;
      }
      H[ti * P + ti] = H[ti * P + ti]! + (2 * c * act.sigma(w)) / (tau * tau * tau);
    }
  }
}

/** Sample i's Σ_j r_j ∇² log f_j into the experts' blocks of H (residuals `res`). */
function addExpertCurvature(
  H: Float64Array,
  P: number,
  expertOffset: number,
  m: Model,
  X: Float64Array,
  xo: number,
  r: Float64Array,
  res: Float64Array,
): void {
  const { k, d } = m;
  for (let j = 0; j < k; j++) {
    const rj = r[j]!;
    if (rj === 0) continue;
    const eo = expertOffset + j * (d + 2);
    const nu = m.nu[j]!;
    const e = res[j]!;
    for (let a = 0; a <= d; a++) {
      const za = a < d ? X[xo + a]! : 1;
      for (let b = 0; b <= d; b++) {
        const zb = b < d ? X[xo + b]! : 1;
        H[(eo + a) * P + eo + b] = H[(eo + a) * P + eo + b]! - (rj * za * zb) / nu;
      }
      const cross = (-rj * e * za) / (nu * nu);
      H[(eo + a) * P + eo + d + 1] = H[(eo + a) * P + eo + d + 1]! + cross;
      H[(eo + d + 1) * P + eo + a] = H[(eo + d + 1) * P + eo + a]! + cross;
    }
    H[(eo + d + 1) * P + eo + d + 1] =
      H[(eo + d + 1) * P + eo + d + 1]! + rj * (1 / (2 * nu * nu) - (e * e) / (nu * nu * nu));
  }
}

/** Chain rule from τ, ν_j to log τ, log ν_j where the layout asks for logs (in place). */
export function toLogScales(L: ParamLayout, m: Model, grad: Float64Array, H: Float64Array | null): void {
  const P = L.P;
  const idx: number[] = [];
  const val: number[] = [];
  if (L.gate.tauIndex >= 0 && L.tauScale === 'log') {
    idx.push(L.gate.tauIndex);
    val.push(m.tau);
  }
  if (L.nuScale === 'log')
    for (let j = 0; j < L.k; j++) {
      idx.push(L.expertOffset + j * (L.d + 2) + L.d + 1);
      val.push(m.nu[j]!);
    }
  for (let q = 0; q < idx.length; q++) {
    const t = idx[q]!;
    const v = val[q]!;
    if (H) {
      for (let s = 0; s < P; s++) {
        H[t * P + s] = H[t * P + s]! * v;
        H[s * P + t] = H[s * P + t]! * v;
      }
      H[t * P + t] = H[t * P + t]! + v * grad[t]!;
    }
    grad[t] = grad[t]! * v;
  }
}
