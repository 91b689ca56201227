/** σ(u) = tanh(u). */
import { defineActivation } from './types.js';

export const tanh = defineActivation({
  name: 'tanh',
  code: 1,
  sigma: Math.tanh,
  d1: (u) => {
    const t = Math.tanh(u);
    return 1 - t * t;
  },
  d2: (u) => {
    const t = Math.tanh(u);
    return -2 * t * (1 - t * t);
  },
  d1At: (t) => 1 - t * t,
  linear: false,
  positivelyHomogeneous: false,
  // tanh(|u|) = (1 − e^{−2|u|}) / (1 + e^{−2|u|}): no overflow, no cancellation near 0 worth worrying about in float32
  gpu: (F) => `var ea = ${F(`Math.exp(${F('-2.0 * Math.abs(u)')})`)};
    var sg = ${F(`${F('1.0 - ea')} / ${F('1.0 + ea')}`)};
    if (u < 0.0) { sg = -sg; }`,
  simd: { gate: 'tanh', grad: 'tanh' },
});
