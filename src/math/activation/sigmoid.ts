/** The logistic σ(u) = 1/(1 + e^{−u}). */
import { defineActivation } from './types.js';

/** The logistic σ(u) = 1/(1 + e^{−u}), without overflow for large |u|. */
export function logistic(u: number): number {
  // branch keeps exp's argument ≤ 0: no overflow for |u| ~ 1000
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

export const sigmoid = defineActivation({
  name: 'sigmoid',
  code: 2,
  sigma: logistic,
  d1: (u) => {
    const s = logistic(u);
    return s * (1 - s);
  },
  d2: (u) => {
    const s = logistic(u);
    return s * (1 - s) * (1 - 2 * s);
  },
  d1At: (s) => s * (1 - s),
  linear: false,
  positivelyHomogeneous: false,
  gpu: (F) => `var ea = ${F(`Math.exp(${F('-Math.abs(u)')})`)};
    var sg = ${F(`1.0 / ${F('1.0 + ea')}`)};
    if (u < 0.0) { sg = ${F(`ea / ${F('1.0 + ea')}`)}; }`,
  simd: { gate: 'sigmoid', grad: 'sig' },
});
