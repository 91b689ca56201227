/** σ(u) = tanh(u). */
import { defineActivation, type SimdOps } from './types.js';

/** |u| beyond which tanh(u) = ±1 and σ'(u) < 1e-17 (also keeps e^{−2u} in expCore's domain) */
export const TANH_CLAMP = 20;

/** e = e^{−2·clamp(u, ±20)} (the fused kernels' tanh = (1 − e)/(1 + e)) */
const e2 = (o: SimdOps, u: string, tag: string): string =>
  o.exp(o.let(`t${tag}`, o.mul(o.c(-2), o.clamp(u, TANH_CLAMP))), `a${tag}`);

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
  simd: {
    gate: 'tanh',
    grad: 'tanh',
    sigma: (o, u, tag) => {
      const e = e2(o, u, tag);
      return o.div(o.sub(o.c(1), e), o.add(o.c(1), e));
    },
    coefs: (o, b, x, xt, it, tag) => {
      const e = e2(o, o.let(`u${tag}`, o.mul(b, x)), tag);
      const dn = o.let(`dn${tag}`, o.div(o.c(1), o.add(o.c(1), e)));
      const t = o.let(`th${tag}`, o.mul(o.sub(o.c(1), e), dn));
      const d1 = o.let(`d1${tag}`, o.mul(o.mul(o.mul(o.c(4), e), dn), dn));
      return [
        o.let(`j1${tag}`, o.mul(d1, xt)),
        o.let(`jt${tag}`, o.mul(o.neg(t), it)),
        o.let(`h1${tag}`, o.mul(o.mul(o.mul(o.mul(o.c(-2), t), d1), x), xt)),
      ];
    },
  },
});
