/** Helpers for the Voronoi tests: permuting, translating and perturbing models. */
import { cloneModel, permuteExperts, type Model } from '../../src/models/types.js';
import type { Rng } from '../../src/random/rng.js';

/** The same model with experts reordered: expert s of the result is expert perm[s] of m. */
export function permute(m: Model, perm: readonly number[]): Model {
  return permuteExperts(m, perm);
}

/** The same model with every gate translated: β0_j + t0, β1_j + t1. */
export function translateGates(m: Model, t0: number, t1: readonly number[]): Model {
  const out = cloneModel(m);
  for (let j = 0; j < m.k; j++) {
    out.beta0[j] = m.beta0[j]! + t0;
    for (let l = 0; l < m.d; l++) out.beta1[j * m.d + l] = m.beta1[j * m.d + l]! + t1[l]!;
  }
  return out;
}

/** A fixed random direction in parameter space (unit-scale normal entries; ν keeps its sign at small eps). */
export interface Direction {
  beta0: Float64Array;
  beta1: Float64Array;
  a: Float64Array;
  b: Float64Array;
  nu: Float64Array;
}

export function randomDirection(m: Model, rng: Rng): Direction {
  const v = (len: number) => Float64Array.from({ length: len }, () => rng.normal());
  return { beta0: v(m.k), beta1: v(m.k * m.d), a: v(m.k * m.d), b: v(m.k), nu: v(m.k) };
}

/** m + eps·dir (ν perturbed relatively, so it stays > 0). */
export function perturb(m: Model, dir: Direction, eps: number): Model {
  const out = cloneModel(m);
  for (let j = 0; j < m.k; j++) {
    out.beta0[j] = m.beta0[j]! + eps * dir.beta0[j]!;
    out.b[j] = m.b[j]! + eps * dir.b[j]!;
    out.nu[j] = m.nu[j]! * Math.exp(eps * dir.nu[j]!);
    for (let l = 0; l < m.d; l++) {
      out.beta1[j * m.d + l] = m.beta1[j * m.d + l]! + eps * dir.beta1[j * m.d + l]!;
      out.a[j * m.d + l] = m.a[j * m.d + l]! + eps * dir.a[j * m.d + l]!;
    }
  }
  return out;
}
