/** σ(u) = log(1 + e^u), computed without overflow or cancellation; σ′ = the logistic, σ″ = its derivative. */
import { logistic } from './sigmoid.js';
import { defineActivation } from './types.js';

/** log(1 + e^u) = max(u, 0) + log1p(e^{−|u|}): exp's argument stays ≤ 0, and log1p keeps the tiny tail for u ≪ 0. */
function softplus(u: number): number {
  return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
}

export const softplusActivation = defineActivation({
  name: 'softplus',
  code: -1, // no fused kernels: the generic JS path
  sigma: softplus,
  d1: logistic,
  d2: (u) => {
    const s = logistic(u);
    return s * (1 - s);
  },
  linear: false,
  positivelyHomogeneous: false,
  gpu: (F) => `var ea = ${F(`Math.exp(${F('-Math.abs(u)')})`)};
    var sg = ${F(`${F('Math.max(u, 0.0)')} + ${F(`Math.log(${F('1.0 + ea')})`)}`)};`,
});
