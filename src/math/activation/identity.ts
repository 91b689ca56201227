/** σ(u) = u: the activation gate with it and the bias outside is the temperature gate. */
import { defineActivation } from './types.js';

export const identity = defineActivation({
  name: 'identity',
  code: 0,
  sigma: (u) => u,
  d1: () => 1,
  d2: () => 0,
  d1At: () => 1,
  linear: true,
  positivelyHomogeneous: true,
  gpu: () => 'var sg = u;',
  simd: {
    gate: 'identity',
    grad: 'id',
    sigma: (_o, u) => u,
    coefs: (o, b, x, xt, it, tag) => [xt, o.let(`jt${tag}`, o.mul(o.neg(o.mul(b, x)), it)), o.c(0)],
  },
});
