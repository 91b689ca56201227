/**
 * A top-K switch pinned to a sample (hybrid.ts): the fit's optimum on its piece of the likelihood lies on
 * the piece's boundary, where sample i's experts a and b tie (s_a(x_i) = s_b(x_i), one active, one not),
 * and every step that crosses it jumps down. The trust region then works on that boundary: the tie
 * h(θ) = s_a(x_i) − s_b(x_i) = cᵀθ + const (linear in the gate's β0, β1 on the logit) is held by
 * eliminating one gate coordinate t, θ_t = θ_t0 + Σ_u m_u (θ_u − θ_u0) with m_u = −c_u / c_t, so that
 * the reduced gradient and Hessian are g_u + m_u g_t and H_uv + m_u H_tv + m_v H_ut + m_u m_v H_tt.
 */
import type { Model } from '../models/types.js';
import type { ParamLayout } from './inference/params.js';

export interface Tie {
  /** the sample, its active expert and the inactive one it ties with */
  sample: number;
  active: number;
  inactive: number;
  /** ∂h/∂θ (gate coordinates only), the eliminated coordinate t and m = −c / c_t (m_t = 0) */
  c: Float64Array;
  t: number;
  m: Float64Array;
}

/** Logit of expert j at row i (the reference's is 0 where the layout fixes it). */
function logit(model: Model, X: Float64Array, i: number, j: number): number {
  const d = model.d;
  let s = model.beta0[j]!;
  for (let a = 0; a < d; a++) s += model.beta1[j * d + a]! * X[i * d + a]!;
  return s;
}

/** h = s_active − s_inactive at the model (≥ 0 on the tie's own side, up to the tie-break by index). */
export function tieMargin(model: Model, X: Float64Array, tie: Tie): number {
  return logit(model, X, tie.sample, tie.active) - logit(model, X, tie.sample, tie.inactive);
}

/**
 * The tie behind a refused crossing, if it is one: every sample whose active set differs between `before`
 * and `after` is the same sample i, one expert swapped for another, and at `model` (the current point)
 * their logits agree to `tol`. Null otherwise.
 */
export function findTie(
  model: Model,
  X: Float64Array,
  L: ParamLayout,
  before: Uint8Array,
  after: Uint8Array,
  tol: number,
): Tie | null {
  const k = model.k;
  let sample = -1;
  let active = -1;
  let inactive = -1;
  for (let q = 0; q < before.length; q++) {
    if (before[q] === after[q]) continue;
    const i = (q - (q % k)) / k;
    if (sample >= 0 && i !== sample) return null;
    sample = i;
    if (before[q]) {
      if (active >= 0) return null;
      active = q % k;
    } else {
      if (inactive >= 0) return null;
      inactive = q % k;
    }
  }
  if (sample < 0 || active < 0 || inactive < 0) return null;
  const sa = logit(model, X, sample, active);
  const sb = logit(model, X, sample, inactive);
  if (!(Math.abs(sa - sb) <= tol * (1 + Math.abs(sa)))) return null;
  const c = new Float64Array(L.P);
  const put = (j: number, sign: number): void => {
    const b0 = L.gate.b0Index[j]!;
    const b1 = L.gate.b1Index[j]!;
    if (b0 >= 0) c[b0] = sign;
    if (b1 >= 0) for (let a = 0; a < model.d; a++) c[b1 + a] = sign * X[sample * model.d + a]!;
  };
  put(active, 1);
  put(inactive, -1);
  let t = -1;
  for (let u = 0; u < L.P; u++) if (c[u] !== 0 && (t < 0 || Math.abs(c[u]!) > Math.abs(c[t]!))) t = u;
  if (t < 0) return null;
  const m = new Float64Array(L.P);
  for (let u = 0; u < L.P; u++) if (u !== t) m[u] = -c[u]! / c[t]!;
  return { sample, active, inactive, c, t, m };
}

/** The gradient and Hessian over θ with t eliminated (row and column t zero: the caller holds t). */
export function reduceByTie(
  g: Float64Array,
  H: Float64Array,
  P: number,
  tie: Tie,
): { g: Float64Array; H: Float64Array } {
  const { t, m } = tie;
  const gr = new Float64Array(P);
  const Hr = new Float64Array(P * P);
  for (let u = 0; u < P; u++) {
    if (u === t) continue;
    gr[u] = g[u]! + m[u]! * g[t]!;
    for (let v = 0; v < P; v++) {
      if (v === t) continue;
      Hr[u * P + v] = H[u * P + v]! + m[u]! * H[t * P + v]! + m[v]! * H[u * P + t]! + m[u]! * m[v]! * H[t * P + t]!;
    }
  }
  return { g: gr, H: Hr };
}

/** Sets the eliminated coordinate's step from the others' (the tie's margin unchanged to first order). */
export function expandStep(step: Float64Array, tie: Tie): void {
  let s = 0;
  for (let u = 0; u < step.length; u++) if (u !== tie.t) s += tie.m[u]! * step[u]!;
  step[tie.t] = s;
}
