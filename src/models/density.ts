/**
 * Densities of the Gaussian MoE: expert log-densities, the joint log π + log N, the data
 * log-likelihood (log-sum-exp per sample), responsibilities and the conditional mean.
 * All matrices are n × k row-major Float64Arrays.
 */
import { getGate } from './gates/index.js';
import type { Dataset, Model } from './types.js';
import { validateDataset } from './dataset-io.js';
import { validateModel } from './validate.js';
import { badInput } from './validation-error.js';

const LOG_2PI = Math.log(2 * Math.PI);

// a d mismatch would read past the end of X and turn into a silent NaN
function checkShapes(m: Model, data: Dataset): void {
  if (data.d !== m.d) throw badInput(`data.d must equal the model's d = ${m.d}. Value: ${data.d}`);
  if (data.X.length !== data.n * m.d)
    throw badInput(`data.X must have length n × d = ${data.n * m.d}. Value: ${data.X.length}`);
  if (data.y.length !== data.n) throw badInput(`data.y must have length n = ${data.n}. Value: ${data.y.length}`);
}

// a NaN in the data made the log-likelihood NaN or −Infinity without saying where; fitMoE refuses it so
function checkData(m: Model, data: Dataset): void {
  checkShapes(m, data);
  validateDataset(data, 'data');
  validateModel(m, 'model');
}

/** The (X, n) functions' check: a wrong n read past X's end and returned NaN rows without a word. */
export function checkRows(m: Model, X: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw badInput(`n must be an integer ≥ 0. Value: ${n}`);
  if (X.length !== n * m.d)
    throw badInput(
      `X must have length n × d = ${n} × ${m.d} = ${n * m.d} (the model's d = ${m.d}). Value: ${X.length}`,
    );
}

/** Every entry of X (n × d points, row-major) finite, else an error naming the first that is not. */
export function checkFinitePoints(X: Float64Array, n: number, d: number): void {
  for (let t = 0; t < n * d; t++)
    if (!Number.isFinite(X[t]!))
      throw badInput(`X[${Math.floor(t / d)}][${t % d}] must be a finite number. Value: ${X[t]}`);
}

/** Gate log-probabilities log π_j(x_i) (n × k); −Infinity for inactive top-K experts. */
export function logGateProbs(
  m: Model,
  X: Float64Array,
  n: number,
  out: Float64Array = new Float64Array(n * m.k),
): Float64Array {
  checkRows(m, X, n);
  getGate(m.gate).logProbs(m, X, n, out);
  return out;
}

/** Gate probabilities π_j(x_i) (n × k); rows sum to 1, inactive top-K experts exactly 0. */
export function gateProbs(
  m: Model,
  X: Float64Array,
  n: number,
  out: Float64Array = new Float64Array(n * m.k),
): Float64Array {
  logGateProbs(m, X, n, out);
  for (let t = 0; t < n * m.k; t++) out[t] = Math.exp(out[t]!);
  return out;
}

/** Each expert's gate probability averaged over the rows of X (flexmix's `prior`), length k. */
export function meanGateWeights(m: Model, X: Float64Array, n: number): Float64Array {
  const pi = gateProbs(m, X, n);
  const w = new Float64Array(m.k);
  for (let i = 0; i < n; i++) for (let j = 0; j < m.k; j++) w[j] += pi[i * m.k + j]! / n;
  return w;
}

/** Expert means a_j·x_i + b_j (n × k). */
export function expertMeans(
  m: Model,
  X: Float64Array,
  n: number,
  out: Float64Array = new Float64Array(n * m.k),
): Float64Array {
  checkRows(m, X, n);
  const { k, d, a, b } = m;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let mu = b[j]!;
      for (let l = 0; l < d; l++) mu += a[j * d + l]! * X[i * d + l]!;
      out[i * k + j] = mu;
    }
  }
  return out;
}

/** Expert log-densities log N(y_i; a_j·x_i + b_j, ν_j) (n × k). */
export function expertLogDensities(
  m: Model,
  X: Float64Array,
  y: Float64Array,
  n: number,
  out: Float64Array = new Float64Array(n * m.k),
): Float64Array {
  checkRows(m, X, n);
  if (y.length !== n) throw badInput(`y must have length n = ${n}. Value: ${y.length}`);
  const { k, d, a, b, nu } = m;
  const c = new Float64Array(k);
  const h = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    c[j] = -0.5 * (LOG_2PI + Math.log(nu[j]!));
    h[j] = -0.5 / nu[j]!;
  }
  for (let i = 0; i < n; i++) {
    const yi = y[i]!;
    for (let j = 0; j < k; j++) {
      let mu = b[j]!;
      for (let l = 0; l < d; l++) mu += a[j * d + l]! * X[i * d + l]!;
      const r = yi - mu;
      out[i * k + j] = c[j]! + h[j]! * r * r;
    }
  }
  return out;
}

/**
 * Log joint log π_j(x_i) + log N(y_i | expert j) (n × k), then per-sample log-likelihoods.
 * @param joint n × k output (overwritten with the joint)
 * @param rowLL optional n output: log p(y_i | x_i)
 * @returns Σ_i log p(y_i | x_i)
 */
export function logJoint(
  m: Model,
  X: Float64Array,
  y: Float64Array,
  n: number,
  joint: Float64Array,
  rowLL?: Float64Array,
): number {
  const k = m.k;
  const dens = expertLogDensities(m, X, y, n);
  logGateProbs(m, X, n, joint);
  let total = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = joint[o + j]! + dens[o + j]!;
      joint[o + j] = v;
      if (v > mx) mx = v;
    }
    let s = 0;
    if (mx > -Infinity) for (let j = 0; j < k; j++) s += Math.exp(joint[o + j]! - mx);
    const ll = mx === -Infinity ? -Infinity : mx + Math.log(s);
    if (rowLL) rowLL[i] = ll;
    total += ll;
  }
  return total;
}

/** Data log-likelihood Σ_i log p(y_i | x_i). */
export function logLikelihood(m: Model, data: Dataset): number {
  checkData(m, data);
  return logJoint(m, data.X, data.y, data.n, new Float64Array(data.n * m.k));
}

/** Per-sample log p(y_i | x_i). */
export function pointwiseLogLikelihood(m: Model, data: Dataset): Float64Array {
  checkData(m, data);
  const out = new Float64Array(data.n);
  logJoint(m, data.X, data.y, data.n, new Float64Array(data.n * m.k), out);
  return out;
}

/** log p(y | x) at one point. */
export function logDensity(m: Model, x: ArrayLike<number>, y: number): number {
  if (x.length !== m.d) throw badInput(`x must have length d = ${m.d}. Value: length ${x.length}`);
  return logJoint(m, Float64Array.from(x), Float64Array.of(y), 1, new Float64Array(m.k));
}

/**
 * Responsibilities r_ij = P(expert j | x_i, y_i) (n × k) and the log-likelihood.
 * Inactive top-K experts get exactly 0.
 */
export function responsibilities(m: Model, data: Dataset): { resp: Float64Array; logLik: number } {
  checkShapes(m, data);
  const { n } = data;
  const k = m.k;
  const resp = new Float64Array(n * k);
  const logLik = logJoint(m, data.X, data.y, n, resp);
  normaliseJoint(resp, n, k);
  return { resp, logLik };
}

/**
 * In place: each row of log-joints log π_j + log f_j (n × k) becomes its responsibilities,
 * normalised against the row maximum: exp(joint − rowLL) would lose ~1e-13 to cancellation when
 * |joint| ~ 1000.
 */
export function normaliseJoint(resp: Float64Array, n: number, k: number): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) if (resp[o + j]! > mx) mx = resp[o + j]!;
    let s = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(resp[o + j]! - mx);
      resp[o + j] = e;
      s += e;
    }
    for (let j = 0; j < k; j++) resp[o + j] = resp[o + j]! / s;
  }
}

/** Conditional mean E[Y | x_i] = Σ_j π_j(x_i)(a_j·x_i + b_j) (length n). */
export function conditionalMean(m: Model, X: Float64Array, n: number): Float64Array {
  const p = gateProbs(m, X, n);
  const mu = expertMeans(m, X, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < m.k; j++) s += p[i * m.k + j]! * mu[i * m.k + j]!;
    out[i] = s;
  }
  return out;
}
