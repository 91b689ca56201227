/**
 * Seeded simulation: designs for X and draws of Y | X from a model.
 * One seed fixes everything: X is drawn first, then (expert, noise) per sample in order,
 * from a single MT19937 stream, so the same seed gives the same numbers on every machine.
 */
import { createRng, type Rng } from '../random/rng.js';
import { gateProbs, expertMeans } from './density.js';
import type { Dataset, Model } from './types.js';
import { validateModel } from './validate.js';
import { ValidationError } from './validation-error.js';

export const DESIGNS = Object.freeze(['uniform', 'grid', 'normal'] as const);
export type Design = (typeof DESIGNS)[number];

/**
 * Draws an n × d design.
 * - uniform: Uniform[0,1]^d
 * - grid: linspace(0, 1, n) (d = 1 only; deterministic, what the [DEMY] code runs)
 * - normal: N(0, I_d)
 */
export function sampleDesign(design: Design, n: number, d: number, rng: Rng): Float64Array {
  const X = new Float64Array(n * d);
  switch (design) {
    case 'uniform':
      for (let t = 0; t < n * d; t++) X[t] = rng.uniform();
      break;
    case 'grid':
      if (d !== 1) throw new ValidationError(`design "grid" needs d = 1. Value: d = ${d}`, 'design', design);
      for (let i = 0; i < n; i++) X[i] = n === 1 ? 0 : i / (n - 1);
      break;
    case 'normal':
      for (let t = 0; t < n * d; t++) X[t] = rng.normal();
      break;
    default:
      throw new ValidationError(
        `design must be one of ${DESIGNS.join(', ')}. Value: ${String(design)}`,
        'design',
        design,
      );
  }
  return X;
}

/**
 * Draws Y | X from the model: expert z_i ~ π(x_i) by inversion, then y_i ~ N(a_z·x_i + b_z, ν_z).
 * @returns y and the latent expert labels z
 */
export function sampleResponse(m: Model, X: Float64Array, n: number, rng: Rng): { y: Float64Array; z: Int32Array } {
  const k = m.k;
  const p = gateProbs(m, X, n);
  const mu = expertMeans(m, X, n);
  const y = new Float64Array(n);
  const z = new Int32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const u = rng.uniform();
    let c = 0;
    let j = 0;
    // inversion; falls through to the last active expert if rounding leaves c < u
    let last = 0;
    for (j = 0; j < k; j++) {
      if (p[o + j]! > 0) last = j;
      c += p[o + j]!;
      if (u < c) break;
    }
    if (j === k) j = last;
    z[i] = j;
    y[i] = mu[o + j]! + Math.sqrt(m.nu[j]!) * rng.normal();
  }
  return { y, z };
}

export interface SimulateOptions {
  n: number;
  seed: number;
  design?: Design;
}

/** The largest n simulate draws (n × d doubles must fit in memory long before this). */
export const MAX_N = 2 ** 30;

/**
 * Simulates n pairs (X, Y) from a model with a seeded generator.
 * @returns X (n × d, row-major), y (n) and the latent expert labels z (n, 0-based)
 * @throws ValidationError on n not an integer in [1, MAX_N], an invalid model, seed or design, or design "grid" with d ≠ 1
 * @example simulate(truthPreset('demy'), { n: 1000, seed: 7 })
 */
export function simulate(m: Model, opts: SimulateOptions): Dataset & { z: Int32Array } {
  if (typeof opts !== 'object' || opts === null)
    throw new ValidationError('options must be an object { n, seed, design? }', 'options', opts);
  const { n, seed, design = 'uniform' } = opts;
  if (!Number.isInteger(n) || n < 1 || n > MAX_N)
    throw new ValidationError(`n must be an integer in [1, ${MAX_N}]. Value: ${n}`, 'n', n);
  validateModel(m); // ν < 0 would otherwise become NaN draws
  const rng = createRng(seed);
  const X = sampleDesign(design, n, m.d, rng);
  const { y, z } = sampleResponse(m, X, n, rng);
  return { n, d: m.d, X, y, z };
}
