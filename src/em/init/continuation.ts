/**
 * Dense-to-sparse continuation: a start for any gate read off a fitted softmax gate.
 *
 * A softmax fit is the easy problem (its gate M-step is concave, k-means or random partitions
 * reach its optimum from many starts); the sparse and activation gates are hard ones (top-K's
 * likelihood jumps where active sets change, an activation gate can flatten its rows by driving
 * τ → 0). Every one of them contains the softmax gate as a limit, so the softmax fit is carried
 * over with (almost) the same density:
 * - top-K selecting on the logit: the same β0, β1 (the active sets are the K largest of the
 *   softmax's logits);
 * - top-K selecting on the slope: the softmax's β1 ranks by β1·x + β0, not by β1·x, so the slopes
 *   are refitted to the softmax fit's responsibilities r_ij by a softmax without intercepts
 *   (maximising Σ r_ij log softmax_j(β1·x_i)): the experts that explain a sample then rank first on
 *   the slope score alone (measured: top-2 of 3, d = 2, n = 1e4: 1865 nats better than the copy);
 * - temperature: the same β0, β1 with τ = 1 (the identical density);
 * - activation σ: the rows centred (centreRows), then β1 shrunk by c (and β0 too with the bias
 *   inside σ) so that every argument of σ on the data is at most ARG_MAX in size, where σ(u) ≈ σ(0) + σ'(0)u, and τ = c·σ'(0), so that
 *   σ(c u)/τ ≈ σ(0)/τ + u: the softmax's scores up to a shift common to all experts.
 */
import type { ActivationDescriptor } from '../../math/activations.js';
import { responsibilities } from '../../models/density.js';
import { getGate } from '../../models/gates/index.js';
import { cloneModel, type Dataset, type GateSpec, type Model } from '../../models/types.js';
import { ridgeSolve } from '../optim/linalg.js';

/** Newton steps (with halving) of the slope-only refit; a rough ranking is enough, EM refines it. */
const SLOPE_STEPS = 30;
/** Ridge on the slope-only refit, per sample: keeps it finite when the responsibilities separate. */
const SLOPE_RIDGE = 1e-4;

/** Σ_i Σ_j r_ij log softmax_j(β1_j·x_i) − ½·ridge·n·|β1|² (the last row fixed at 0), its gradient and −Hessian. */
function slopeQ(
  B: Float64Array,
  resp: Float64Array,
  X: Float64Array,
  n: number,
  k: number,
  d: number,
  g: Float64Array | null,
  H: Float64Array | null,
): number {
  const p = (k - 1) * d;
  const lam = SLOPE_RIDGE * n;
  const s = new Float64Array(k);
  let q = 0;
  if (g) g.fill(0);
  if (H) H.fill(0);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      let u = 0;
      for (let l = 0; l < d; l++) u += B[j * d + l]! * X[i * d + l]!;
      s[j] = u;
      if (u > mx) mx = u;
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(s[j]! - mx);
    const ls = mx + Math.log(sum);
    for (let j = 0; j < k; j++) {
      const lp = s[j]! - ls;
      const r = resp[i * k + j]!;
      if (r > 0) q += r * lp;
      s[j] = Math.exp(lp); // π_ij from here on
    }
    if (!g || !H) continue;
    for (let j = 0; j < k - 1; j++) {
      const e = resp[i * k + j]! - s[j]!; // Σ_j r_ij = 1
      for (let l = 0; l < d; l++) g[j * d + l] = g[j * d + l]! + e * X[i * d + l]!;
      for (let m = 0; m < k - 1; m++) {
        const w = (j === m ? s[j]! : 0) - s[j]! * s[m]!;
        for (let l = 0; l < d; l++)
          for (let t = 0; t < d; t++)
            H[(j * d + l) * p + m * d + t] = H[(j * d + l) * p + m * d + t]! + w * X[i * d + l]! * X[i * d + t]!;
      }
    }
  }
  for (let c = 0; c < p; c++) {
    q -= 0.5 * lam * B[c]! ** 2;
    if (g) g[c] = g[c]! - lam * B[c]!;
    if (H) H[c * p + c] = H[c * p + c]! + lam;
  }
  return q;
}

/** Slopes β1 (k × d, last row 0) of a softmax without intercepts fitted to the responsibilities. */
export function slopeRanking(resp: Float64Array, X: Float64Array, n: number, k: number, d: number): Float64Array {
  const p = (k - 1) * d;
  const B = new Float64Array(k * d);
  const g = new Float64Array(p);
  const H = new Float64Array(p * p);
  const step = new Float64Array(p);
  const work = new Float64Array(p * p);
  const trial = new Float64Array(k * d);
  let q = slopeQ(B, resp, X, n, k, d, g, H);
  for (let it = 0; it < SLOPE_STEPS; it++) {
    if (!ridgeSolve(H, p, g, step, work).ok) break;
    let t = 1;
    let moved = false;
    for (let h = 0; h < 20; h++, t /= 2) {
      for (let c = 0; c < p; c++) trial[c] = B[c]! + t * step[c]!;
      const qt = slopeQ(trial, resp, X, n, k, d, null, null);
      if (qt > q) {
        B.set(trial);
        q = qt;
        moved = true;
        break;
      }
    }
    if (!moved || t * Math.sqrt(step.reduce((a, v) => a + v * v, 0)) < 1e-8) break;
    q = slopeQ(B, resp, X, n, k, d, g, H);
  }
  return B;
}

/** Largest |argument| of σ on the data after the shrink: σ is nearly linear there. */
export const ARG_MAX = 0.5;

/** σ's slope at 0 by a central difference (relu: ½, its best linear fit on a symmetric interval). */
function slopeAtZero(act: ActivationDescriptor): number {
  const h = 1e-4;
  return (act.sigma(h) - act.sigma(-h)) / (2 * h);
}

/**
 * Subtracts the mean row from β1 (and from β0 with the bias inside σ): the softmax density is the
 * same, but σ is not translation invariant, so the softmax fit's gauge (its reference row at 0)
 * would pick one expert as σ's centre by its label. Measured on the issue-17 tanh truth (k = 3,
 * d = 2, n = 1e4): with the reference row at 0, starts ended at −6746.83, −6750.00 or −6753.37 (a
 * τ → 0 ridge) as the labels fell; centred, every start reached −6746.83, the near-truth fit's.
 */
function centreRows(m: Model, inside: boolean): void {
  const { k, d } = m;
  for (let l = 0; l < d; l++) {
    let mean = 0;
    for (let j = 0; j < k; j++) mean += m.beta1[j * d + l]!;
    mean /= k;
    for (let j = 0; j < k; j++) m.beta1[j * d + l] = m.beta1[j * d + l]! - mean;
  }
  if (!inside) return;
  let mean = 0;
  for (let j = 0; j < k; j++) mean += m.beta0[j]!;
  mean /= k;
  for (let j = 0; j < k; j++) m.beta0[j] = m.beta0[j]! - mean;
}

/** The start for `gate` read off the softmax fit `soft` (see module doc); soft is not modified. */
export function continueFromSoftmax(soft: Model, gate: GateSpec, data: Dataset): Model {
  const m = cloneModel(soft);
  m.gate = { ...gate };
  m.tau = 1;
  if (getGate(gate).selection?.(gate).selectOn === 'slope' && m.k > 1) {
    const { resp } = responsibilities(soft, data);
    m.beta1.set(slopeRanking(resp, data.X, data.n, m.k, m.d));
    return m;
  }
  const g = getGate(gate);
  if (!g.userActivation) return m;
  const { act, inside } = g.activation!(gate);
  const { X, n, d } = data;
  const k = m.k;
  centreRows(m, inside);
  let big = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let u = inside ? m.beta0[j]! : 0;
      for (let l = 0; l < d; l++) u += m.beta1[j * d + l]! * X[i * d + l]!;
      if (Math.abs(u) > big) big = Math.abs(u);
    }
  }
  const s0 = slopeAtZero(act);
  const c = big > 0 ? Math.min(1, ARG_MAX / big) : 1;
  for (let t = 0; t < m.beta1.length; t++) m.beta1[t] = m.beta1[t]! * c;
  if (inside) for (let j = 0; j < k; j++) m.beta0[j] = m.beta0[j]! * c;
  m.tau = c * s0;
  return m;
}
