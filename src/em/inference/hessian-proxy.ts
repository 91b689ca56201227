/**
 * The log-likelihood's derivatives for a gate that is a softmax's over τ (the identity activation:
 * `scaledLinearBias`), τ held, through the softmax gate's fast path: with θ' = c∘θ (β1/τ, and β0/τ with
 * the bias inside; c_t = 1/τ there, 1 elsewhere) the model is the softmax model at θ', so
 * ∇L = c∘∇L' and ∇²L = diag(c) ∇²L' diag(c). Why: the softmax Hessian kernel and its one-pass trial cost
 * ≈ 0.7× and 0.5× the activation gates' (docs/performance.md), and the hybrid's trust region on the
 * identity gate (τ held: hybridLayout) needs nothing else.
 */
import { scaledLinearBias } from '../../models/gates/index.js';
import type { Dataset, Model } from '../../models/types.js';
import { softmaxProxyModel, writeSoftmaxProxy } from '../gates/softmax-proxy.js';
import { fastHessianSimd, fastLogLikDerivatives } from './hessian-fast.js';
import type { LogLikDerivatives } from './hessian.js';
import { paramLayout, type ParamLayout } from './params.js';

/** A model's softmax proxy and the map from its layout's θ to the proxy layout's. */
export interface SoftmaxProxy {
  /** the proxy model (softmax gate, τ = 1), rewritten from the model at each call */
  model: Model;
  layout: ParamLayout;
  /** θ index in the proxy layout of each θ index of the model's layout */
  index: Int32Array;
  /** whether θ_t is divided by τ in the proxy (β1; β0 with the bias inside) */
  scaled: Uint8Array;
  inside: boolean;
}

/**
 * The proxy of `m` under layout `L`, or null when the gate is no softmax over τ, τ is a parameter of L,
 * or the softmax fast path would not run its WebAssembly kernel on these data.
 */
export function softmaxProxy(L: ParamLayout, m: Model, data: Dataset): SoftmaxProxy | null {
  const bias = scaledLinearBias(m.gate);
  if (bias === null || L.gate.tauIndex >= 0) return null;
  const model = softmaxProxyModel(m);
  const Lp = paramLayout(model.gate, L.k, L.d, { nuScale: L.nuScale });
  if (Lp.P !== L.P || !fastHessianSimd(Lp, model, data)) return null;
  const index = new Int32Array(L.P).fill(-1);
  const scaled = new Uint8Array(L.P);
  const inside = bias === 'inside';
  for (let j = 0; j < L.k; j++) {
    const b0 = L.gate.b0Index[j]!;
    if (b0 >= 0) {
      index[b0] = Lp.gate.b0Index[j]!;
      scaled[b0] = inside ? 1 : 0;
    }
    const b1 = L.gate.b1Index[j]!;
    if (b1 >= 0) {
      for (let l = 0; l < L.d; l++) {
        index[b1 + l] = Lp.gate.b1Index[j]! + l;
        scaled[b1 + l] = 1;
      }
    }
  }
  for (let t = L.expertOffset; t < L.P; t++) index[t] = t - L.expertOffset + Lp.expertOffset;
  // the two layouts free the same gate coordinates (the reference's held in both)
  if (index.some((v) => v < 0)) return null;
  return { model, layout: Lp, index, scaled, inside };
}

/** L, ∇L and ∇²L at m over L's θ, through the proxy (see module doc); null where the fast path gives none. */
export function proxyLogLikDerivatives(
  p: SoftmaxProxy,
  L: ParamLayout,
  m: Model,
  data: Dataset,
): LogLikDerivatives | null {
  const it = 1 / m.tau;
  const dp = fastLogLikDerivatives(p.layout, writeSoftmaxProxy(m, p.model, p.inside), data);
  if (dp === null) return null;
  const P = L.P;
  const Pp = p.layout.P;
  const c = new Float64Array(P);
  for (let t = 0; t < P; t++) c[t] = p.scaled[t] ? it : 1;
  const g = new Float64Array(P);
  const H = new Float64Array(P * P);
  const Hp = dp.hessian!;
  for (let s = 0; s < P; s++) {
    const ps = p.index[s]!;
    g[s] = c[s]! * dp.gradient[ps]!;
    for (let t = 0; t < P; t++) H[s * P + t] = c[s]! * c[t]! * Hp[ps * Pp + p.index[t]!]!;
  }
  return { logLik: dp.logLik, gradient: g, hessian: H };
}
