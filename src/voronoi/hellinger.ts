/**
 * The expected conditional Hellinger distance E_X[h(p(·|X), q(·|X))] between two MoE models,
 * h² = ½ ∫ (√p − √q)² dy ∈ [0, 1].
 *
 * In y: with m = (p + q)/2 — a Gaussian mixture whose components are all experts of both models
 * with weights π/2 — ∫ (√p − √q)² dy = Σ_c ω_c E_{N(μ_c, ν_c)}[f], where
 * f = (√p − √q)² / m = 2 (1 − sech δ), δ = ½ log(p/q), is bounded by 2 and smooth. Each expectation
 * is a Gauss–Hermite sum with nodes placed on that component (μ_c ± √(2ν_c)·z_l), so every expert
 * gets its own nodes however far apart the experts are. f is computed from log densities
 * (log-sum-exp) in the cancellation-free form 4 sinh²(δ/2)/cosh δ: identical models give exactly 0.
 * In X: the mean over a seeded Monte Carlo design (or the grid), or over user-supplied points.
 */
import { checkFinitePoints, expertMeans, logGateProbs } from '../models/density.js';
import { sampleDesign, DESIGNS, type Design } from '../models/sample.js';
import type { Model } from '../models/types.js';
import { validateModel } from '../models/validate.js';
import { createRng } from '../random/rng.js';

const LOG_2PI = Math.log(2 * Math.PI);

const ghCache = new Map<number, { nodes: Float64Array; weights: Float64Array }>();

/**
 * Gauss–Hermite rule for ∫ e^{−z²} g(z) dz ≈ Σ_l weights[l] g(nodes[l]) (exact for polynomials of
 * degree < 2L). Nodes by Newton's method on the orthonormal Hermite recurrence.
 * @param L number of nodes, 1..200
 * @returns nodes (descending) and weights, length L (cached; do not modify)
 * @throws Error when L is not an integer in [1, 200]
 */
export function gaussHermite(L: number): { nodes: Float64Array; weights: Float64Array } {
  if (!Number.isInteger(L) || L < 1 || L > 200) throw new Error(`nodes must be an integer in [1, 200]. Value: ${L}`);
  const hit = ghCache.get(L);
  if (hit) return hit;
  const nodes = new Float64Array(L);
  const weights = new Float64Array(L);
  const PIM4 = Math.pow(Math.PI, -0.25);
  const half = Math.floor((L + 1) / 2);
  let z = 0;
  for (let i = 0; i < half; i++) {
    // initial guesses of Numerical Recipes' gauher (largest root first)
    if (i === 0) z = Math.sqrt(2 * L + 1) - 1.85575 * Math.pow(2 * L + 1, -0.16667);
    else if (i === 1) z -= (1.14 * Math.pow(L, 0.426)) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * nodes[0]!;
    else if (i === 3) z = 1.91 * z - 0.91 * nodes[1]!;
    else z = 2 * z - nodes[i - 2]!;
    let pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = PIM4;
      let p2 = 0;
      for (let j = 0; j < L; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      pp = Math.sqrt(2 * L) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-15 * Math.max(1, Math.abs(z))) break;
    }
    nodes[i] = z;
    nodes[L - 1 - i] = -z;
    weights[i] = weights[L - 1 - i] = 2 / (pp * pp);
  }
  if (L % 2 === 1) nodes[half - 1] = 0;
  const rule = { nodes, weights };
  ghCache.set(L, rule);
  return rule;
}

export interface HellingerOptions {
  /** points x (n × d, row-major) to average over; default: a seeded design */
  X?: Float64Array;
  /** number of design points (default 2000), or the number of rows of X */
  n?: number;
  /** design of the Monte Carlo points: uniform (default), grid (d = 1), normal */
  design?: Design;
  /** seed of the design (default 1) */
  seed?: number;
  /** Gauss–Hermite nodes per expert component (default 40: relative error ~1e-5 or better, well below the Monte Carlo error in X) */
  nodes?: number;
}

/**
 * The conditional Hellinger distance h(p(·|x_i), q(·|x_i)) at each point.
 * @param X n × d row-major points (finite)
 * @param L Gauss–Hermite nodes per component (default 40)
 * @param out optional output of length n
 * @returns h at each point, in [0, 1]
 * @throws Error when d differs or X has the wrong length or a non-finite entry
 */
export function hellingerAt(
  p: Model,
  q: Model,
  X: Float64Array,
  n: number,
  L = 40,
  out = new Float64Array(n),
): Float64Array {
  validateModel(p, 'p');
  validateModel(q, 'q');
  const d = p.d;
  if (q.d !== d) throw new Error(`the two models must have the same input dimension d. Value: ${d} and ${q.d}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be an integer ≥ 1. Value: ${n}`);
  if (!(X instanceof Float64Array) || X.length !== n * d)
    throw new Error(`X must be a Float64Array of n × d = ${n * d} numbers. Value: length ${X?.length}`);
  checkFinitePoints(X, n, d);
  const { nodes, weights } = gaussHermite(L);
  const kp = p.k;
  const kq = q.k;
  const lpP = logGateProbs(p, X, n);
  const lpQ = logGateProbs(q, X, n);
  const muP = expertMeans(p, X, n);
  const muQ = expertMeans(q, X, n);
  const cP = new Float64Array(kp);
  const hP = new Float64Array(kp);
  const cQ = new Float64Array(kq);
  const hQ = new Float64Array(kq);
  for (let j = 0; j < kp; j++) {
    cP[j] = -0.5 * (LOG_2PI + Math.log(p.nu[j]!));
    hP[j] = -0.5 / p.nu[j]!;
  }
  for (let j = 0; j < kq; j++) {
    cQ[j] = -0.5 * (LOG_2PI + Math.log(q.nu[j]!));
    hQ[j] = -0.5 / q.nu[j]!;
  }
  const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
  // log mixture density at y, for one row (offsets into n × k arrays)
  const logMix = (
    lp: Float64Array,
    mu: Float64Array,
    c: Float64Array,
    h: Float64Array,
    k: number,
    o: number,
    y: number,
  ): number => {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      const r = y - mu[o + j]!;
      const v = lp[o + j]! + c[j]! + h[j]! * r * r;
      if (v > mx) mx = v;
    }
    if (mx === -Infinity) return -Infinity;
    let s = 0;
    for (let j = 0; j < k; j++) {
      const r = y - mu[o + j]!;
      s += Math.exp(lp[o + j]! + c[j]! + h[j]! * r * r - mx);
    }
    return mx + Math.log(s);
  };
  for (let i = 0; i < n; i++) {
    const oP = i * kp;
    const oQ = i * kq;
    let h2 = 0;
    for (let side = 0; side < 2; side++) {
      const k = side === 0 ? kp : kq;
      const lp = side === 0 ? lpP : lpQ;
      const mu = side === 0 ? muP : muQ;
      const nu = side === 0 ? p.nu : q.nu;
      const o = side === 0 ? oP : oQ;
      for (let j = 0; j < k; j++) {
        const omega = 0.5 * Math.exp(lp[o + j]!);
        if (omega === 0) continue; // inactive top-K expert
        const sd = Math.sqrt(2 * nu[j]!);
        let e = 0;
        for (let l = 0; l < nodes.length; l++) {
          const y = mu[o + j]! + sd * nodes[l]!;
          const a = logMix(lpP, muP, cP, hP, kp, oP, y);
          const b = logMix(lpQ, muQ, cQ, hQ, kq, oQ, y);
          let f: number;
          if (a === b) f = 0;
          else if (a === -Infinity || b === -Infinity) f = 2;
          else {
            const delta = 0.5 * (a - b);
            if (Math.abs(delta) > 40) f = 2;
            else {
              const s = Math.sinh(0.5 * delta);
              f = (4 * s * s) / Math.cosh(delta);
            }
          }
          e += weights[l]! * f;
        }
        h2 += omega * e * INV_SQRT_PI;
      }
    }
    // h² = ½ ∫(√p − √q)²; quadrature error could push it a hair past 1
    out[i] = Math.sqrt(Math.min(1, 0.5 * h2));
  }
  return out;
}

/**
 * The expected conditional Hellinger distance E_X[h(p(·|X), q(·|X))] (module doc), symmetric in
 * (p, q), in [0, 1], 0 for identical models. Models may have different gates and numbers of experts.
 * @param options X (n × d) to average over, or a seeded design (design, n, seed); Gauss–Hermite nodes
 * @throws ValidationError for an invalid model (prefixed `p:` / `q:`)
 * @throws Error for a different d, bad X, n, design, seed or nodes (field named)
 * @example hellinger(truthPreset('demy'), truthPreset('demy')) // 0
 */
export function hellinger(p: Model, q: Model, options: HellingerOptions = {}): number {
  for (const key of Object.keys(options)) {
    if (!['X', 'n', 'design', 'seed', 'nodes'].includes(key))
      throw new Error(`options.${key} is not an option of hellinger (allowed: X, n, design, seed, nodes)`);
  }
  const d = p.d;
  let X = options.X;
  let n: number;
  if (X !== undefined) {
    if (!(X instanceof Float64Array)) throw new Error('X must be a Float64Array (n × d, row-major)');
    n = options.n ?? X.length / d;
    if (!Number.isInteger(n) || n < 1 || X.length !== n * d)
      throw new Error(
        `X must hold n × d numbers with n ≥ 1 (d = ${d}). Value: length ${X.length}${options.n === undefined ? '' : `, n = ${options.n}`}`,
      );
  } else {
    n = options.n ?? 2000;
    if (!Number.isInteger(n) || n < 1) throw new Error(`n must be an integer ≥ 1. Value: ${n}`);
    const design = options.design ?? 'uniform';
    if (!(DESIGNS as readonly string[]).includes(design))
      throw new Error(`design must be one of ${DESIGNS.join(', ')}. Value: ${String(design)}`);
    X = sampleDesign(design, n, d, createRng(options.seed ?? 1));
  }
  const h = hellingerAt(p, q, X, n, options.nodes ?? 40);
  let s = 0;
  for (let i = 0; i < n; i++) s += h[i]!;
  return s / n;
}
