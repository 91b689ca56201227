/**
 * Quantiles and CDF of the predictive distribution p(y | x) = Σ_j π_j(x) N(a_j·x + b_j, ν_j): a mixture,
 * so no closed form for its quantiles; each row's quantile is the root of F(q) − p, bracketed by the
 * experts' own quantiles.
 */
import erf from '@stdlib/math-base-special-erf';
import type { MoEPrediction } from './predict.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Φ(z) */
const normalCdf = (z: number): number => 0.5 * (1 + erf(z * SQRT1_2));

/** Φ⁻¹(p) for 0 < p < 1, by bisection: once per call, so exactness is worth more than speed. */
function normalQuantile(p: number): number {
  let lo = -40;
  let hi = 40;
  for (let t = 0; t < 200 && hi - lo > 0; t++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * The p-quantile of p(y | x_i) for every row of a prediction (the experts' variances ν from the model
 * it was made with). The mixture's CDF lies between its experts' CDFs, so the root lies between the
 * smallest and largest of μ_j + √ν_j Φ⁻¹(p) over the experts with weight; safeguarded Newton steps
 * inside that bracket, bisection where a step leaves it.
 * @throws Error when p is not in (0, 1) or nu does not have k entries
 */
export function predictiveQuantile(pred: MoEPrediction, nu: ArrayLike<number>, p: number): Float64Array {
  if (!(p > 0 && p < 1)) throw new Error(`p must be in (0, 1). Value: ${p}`);
  const { n, k, gate, expertMean } = pred;
  if (nu.length !== k) throw new Error(`nu must have k = ${k} entries. Value: ${nu.length}`);
  const sd = Array.from(nu, (v) => Math.sqrt(v));
  const z = normalQuantile(p);
  const out = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let a = Infinity;
    let b = -Infinity;
    for (let j = 0; j < k; j++) {
      if (!(gate[o + j]! > 0)) continue; // an inactive top-K expert
      const q = expertMean[o + j]! + sd[j]! * z;
      a = Math.min(a, q);
      b = Math.max(b, q);
    }
    out[i] = rowRoot(gate, expertMean, sd, o, k, p, a, b);
  }
  return out;
}

/**
 * The probability integral transform u_i = F(y_i | x_i) = Σ_j π_j(x_i) Φ((y_i − μ_ij)/√ν_j) of each row's
 * observed y (a prediction made with y or without: `y` given here). When the model is the data's law the
 * u_i are independent U(0, 1): `gmoe predict`'s calibration check (math/kolmogorov.ts), its figure's
 * histogram.
 * @throws Error when nu does not have k entries or y does not have n
 */
export function predictiveCdf(pred: MoEPrediction, nu: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const { n, k, gate, expertMean } = pred;
  if (nu.length !== k) throw new Error(`nu must have k = ${k} entries. Value: ${nu.length}`);
  if (y.length !== n) throw new Error(`y must have n = ${n} entries (the prediction's rows). Value: ${y.length}`);
  const sd = Array.from(nu, (v) => Math.sqrt(v));
  const out = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let f = 0;
    for (let j = 0; j < k; j++) {
      const w = gate[o + j]!;
      if (w > 0) f += w * normalCdf((y[i]! - expertMean[o + j]!) / sd[j]!);
    }
    // Σ π_j = 1 to rounding: F may pass 1 by an ulp
    out[i] = Math.min(1, f);
  }
  return out;
}

/**
 * The central `level` predictive interval per row: the (1 − level)/2 and (1 + level)/2 quantiles of
 * p(y | x) (`gmoe predict --interval`, the prediction figure).
 */
export function predictiveInterval(
  pred: MoEPrediction,
  nu: ArrayLike<number>,
  level: number,
): { lower: Float64Array; upper: Float64Array } {
  return { lower: predictiveQuantile(pred, nu, (1 - level) / 2), upper: predictiveQuantile(pred, nu, (1 + level) / 2) };
}

/** The root of F(q) = p in [a, b] for the row whose gate and experts' means start at offset o. */
function rowRoot(
  gate: Float64Array,
  mu: Float64Array,
  sd: number[],
  o: number,
  k: number,
  p: number,
  a: number,
  b: number,
): number {
  if (!(b > a)) return a; // one expert with weight (or all at the same quantile): exact
  let q = 0.5 * (a + b);
  for (let t = 0; t < 200; t++) {
    let f = -p;
    let dens = 0;
    for (let j = 0; j < k; j++) {
      const w = gate[o + j]!;
      if (!(w > 0)) continue;
      const u = (q - mu[o + j]!) / sd[j]!;
      f += w * normalCdf(u);
      dens += (w * INV_SQRT_2PI * Math.exp(-0.5 * u * u)) / sd[j]!;
    }
    if (f === 0) return q;
    if (f < 0) a = q;
    else b = q;
    const newton = q - f / dens;
    const next = newton > a && newton < b ? newton : 0.5 * (a + b);
    // converged: a step of a few ulps (Newton may alternate between neighbours) or a bracket as narrow
    if (
      next === q ||
      Math.abs(next - q) <= 4 * Number.EPSILON * Math.abs(q) ||
      b - a <= 4 * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b))
    )
      return next;
    q = next;
  }
  return q;
}
