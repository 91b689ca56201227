/**
 * Predictions of a fitted (or true) MoE at given x, as flexmix's predict / posterior / clusters give
 * them: the gate probabilities, each expert's mean, the mixture's conditional mean and standard
 * deviation; with y also each sample's log-density, its posterior over the experts and the expert
 * that most probably generated it.
 */
import { checkFinitePoints, checkRows, expertMeans, gateProbs, logJoint, normaliseJoint } from './density.js';
import type { Model } from './types.js';
import { validateModel } from './validate.js';
import { badInput, ValidationError } from './validation-error.js';

/** What {@link predictMoE} returns; n × k matrices row-major. */
export interface MoEPrediction {
  n: number;
  k: number;
  /** π_j(x_i): rows sum to 1, inactive top-K experts exactly 0 */
  gate: Float64Array;
  /** a_j·x_i + b_j */
  expertMean: Float64Array;
  /** E[Y | x_i] = Σ_j π_j μ_j */
  mean: Float64Array;
  /** sd(Y | x_i) = √(Σ_j π_j (ν_j + (μ_j − mean)²)) */
  sd: Float64Array;
  /** with y: log p(y_i | x_i) */
  logDensity?: Float64Array;
  /** with y: P(expert j | x_i, y_i); NaN on a row whose log-density is −∞ (y too far from every expert) */
  posterior?: Float64Array;
  /** with y: the expert of largest posterior, 0-based (the first on ties); −1 where the posterior is NaN */
  expert?: Int32Array;
}

/**
 * Predictions of model `m` at the rows of X (n × d, row-major); y (length n), when given, adds the
 * per-sample log-density, posterior and most probable expert.
 * @throws ValidationError for an invalid model; Error when X or y does not match n and the model's d, or holds a
 *   value that is not finite
 */
export function predictMoE(m: Model, X: Float64Array, n: number, y?: Float64Array): MoEPrediction {
  validateModel(m, 'model');
  const { k, d, nu } = m;
  if (!(X instanceof Float64Array))
    throw new ValidationError(`X must be a Float64Array of n × d = ${n * d} (row-major)`, 'X', X);
  checkRows(m, X, n);
  if (y !== undefined && !(y instanceof Float64Array)) throw badInput(`y must be a Float64Array of n = ${n}`);
  if (y !== undefined && y.length !== n) throw badInput(`y must have length n = ${n}. Value: ${y.length}`);
  // a NaN would come back as NaN predictions (and expert −1) with no word of where it came from
  checkFinitePoints(X, n, d);
  if (y !== undefined)
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(y[i]!)) throw badInput(`y[${i}] must be a finite number. Value: ${y[i]}`);
  const gate = gateProbs(m, X, n);
  const expertMean = expertMeans(m, X, n);
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let s = 0;
    for (let j = 0; j < k; j++) s += gate[o + j]! * expertMean[o + j]!;
    // the spread about the mixture's mean, not E[Y²] − mean²: no cancellation when |mean| ≫ sd
    let v = 0;
    for (let j = 0; j < k; j++) {
      const e = expertMean[o + j]! - s;
      v += gate[o + j]! * (nu[j]! + e * e);
    }
    mean[i] = s;
    sd[i] = Math.sqrt(v);
  }
  const out: MoEPrediction = { n, k, gate, expertMean, mean, sd };
  if (y === undefined) return out;
  const posterior = new Float64Array(n * k);
  const logDensity = new Float64Array(n);
  logJoint(m, X, y, n, posterior, logDensity);
  normaliseJoint(posterior, n, k);
  const expert = new Int32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    if (logDensity[i] === -Infinity) {
      // y so far from every expert that its density underflows: no posterior to speak of
      posterior.fill(NaN, o, o + k);
      expert[i] = -1;
      continue;
    }
    let best = 0;
    for (let j = 1; j < k; j++) if (posterior[o + j]! > posterior[o + best]!) best = j;
    expert[i] = best;
  }
  return { ...out, logDensity, posterior, expert };
}

/** Each input column's smallest and largest value (X: n × d, row-major): what a fit saw. */
export function inputRange(X: Float64Array, n: number, d: number): { min: number[]; max: number[] } {
  const min = new Array<number>(d).fill(Infinity);
  const max = new Array<number>(d).fill(-Infinity);
  for (let i = 0; i < n; i++)
    for (let l = 0; l < d; l++) {
      const v = X[i * d + l]!;
      if (v < min[l]!) min[l] = v;
      if (v > max[l]!) max[l] = v;
    }
  return { min, max };
}

/** How many rows of X have some column outside `range` (extrapolation for the gate and the experts). */
export function rowsOutside(X: Float64Array, n: number, d: number, range: { min: number[]; max: number[] }): number {
  let count = 0;
  for (let i = 0; i < n; i++)
    for (let l = 0; l < d; l++) {
      const v = X[i * d + l]!;
      if (v < range.min[l]! || v > range.max[l]!) {
        count++;
        break;
      }
    }
  return count;
}
