/**
 * The softmax model with the density of a model whose gate is a softmax's over τ (the identity activation,
 * `scaledLinearBias`): slopes β1/τ, intercepts β0 (β0/τ with the bias inside), τ = 1, the same experts. The
 * identity gate's M-step (dense.ts), the hybrid's derivatives (inference/hessian-proxy.ts) and its trials
 * (fit.ts) all work on it.
 */
import { cloneModel, type Model } from '../../models/types.js';

/** A new proxy of m (softmax gate, τ = 1): to be written by {@link writeProxyGate} / {@link writeSoftmaxProxy}. */
export function softmaxProxyModel(m: Model): Model {
  const q = cloneModel(m);
  q.gate = { kind: 'softmax' };
  q.tau = 1;
  return q;
}

/** q's gate ← m's as a softmax: β1/τ, and β0/τ with the bias inside (else β0). Returns q. */
export function writeProxyGate(m: Model, q: Model, inside: boolean): Model {
  const it = 1 / m.tau;
  if (inside) for (let j = 0; j < m.k; j++) q.beta0[j] = m.beta0[j]! * it;
  else q.beta0.set(m.beta0);
  for (let t = 0; t < m.beta1.length; t++) q.beta1[t] = m.beta1[t]! * it;
  return q;
}

/** q ← the softmax model with m's density: its gate by {@link writeProxyGate}, m's experts. Returns q. */
export function writeSoftmaxProxy(m: Model, q: Model, inside: boolean): Model {
  writeProxyGate(m, q, inside);
  q.a.set(m.a);
  q.b.set(m.b);
  q.nu.set(m.nu);
  return q;
}
