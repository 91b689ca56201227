/** The logistic σ(u) = 1/(1 + e^{−u}). */
import { defineActivation, type SimdOps } from './types.js';

/** keeps e^{−u} of the sigmoid in expCore's domain; σ(±700) is 1 or ~1e-304 */
export const SIG_CLAMP = 700;

/** σ(u) = 1/(1 + e^{−clamp(u, ±700)}) as the fused kernels compute it */
const sig = (o: SimdOps, u: string, tag: string): [string, string] => {
  const e = o.exp(o.let(`t${tag}`, o.neg(o.clamp(u, SIG_CLAMP))), `a${tag}`);
  return [e, o.div(o.c(1), o.add(o.c(1), e))];
};

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
  simd: {
    gate: 'sigmoid',
    grad: 'sig',
    sigma: (o, u, tag) => sig(o, u, tag)[1],
    coefs: (o, b, x, xt, it, tag) => {
      const [e, sv] = sig(o, o.let(`u${tag}`, o.mul(b, x)), tag);
      const s = o.let(`sg${tag}`, sv);
      const d1 = o.let(`d1${tag}`, o.mul(o.mul(e, s), s));
      return [
        o.let(`j1${tag}`, o.mul(d1, xt)),
        o.let(`jt${tag}`, o.mul(o.neg(s), it)),
        o.let(`h1${tag}`, o.mul(o.mul(o.mul(d1, o.sub(o.c(1), o.mul(o.c(2), s))), x), xt)),
      ];
    },
  },
});
