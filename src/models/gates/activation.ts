/**
 * Dense-to-sparse gates [TEMP]:
 *   temperature:        s_j(x) = β1_j·x / τ + β0_j
 *   activation outside: s_j(x) = σ(β1_j·x) / τ + β0_j      (default; exp(β0) stay the mixing weights)
 *   activation inside:  s_j(x) = σ(β1_j·x + β0_j) / τ
 * The temperature gate is the activation gate with σ = identity, bias outside.
 */
import type { Gate } from './gate.js';
import { logSoftmaxRows, slopeScores } from './gate.js';
import type { GateSpec, Model } from '../types.js';
import { activate, activateDeriv, isPositivelyHomogeneous, sigmoid, type Activation } from '../../math/activations.js';

function config(spec: GateSpec): { act: Activation; inside: boolean } {
  if (spec.kind === 'temperature') return { act: 'identity', inside: false };
  if (spec.kind === 'activation') return { act: spec.activation, inside: spec.bias === 'inside' };
  throw new Error(`activation gate used with gate.kind "${spec.kind}"`);
}

function logits(m: Model, X: Float64Array, n: number, out: Float64Array): void {
  const { act, inside } = config(m.gate);
  slopeScores(m, X, n, out);
  const { k, beta0, tau } = m;
  const it = 1 / tau;
  const len = n * k;
  // one loop per activation: the per-element switch of activate() cost more than tanh itself
  if (inside) {
    for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) out[t] = activate(act, out[t]! + beta0[j]!) * it;
  } else if (act === 'identity') {
    for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) out[t] = out[t]! * it + beta0[j]!;
  } else if (act === 'tanh') {
    for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) out[t] = Math.tanh(out[t]!) * it + beta0[j]!;
  } else if (act === 'sigmoid') {
    for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) out[t] = sigmoid(out[t]!) * it + beta0[j]!;
  } else {
    for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) out[t] = activate(act, out[t]!) * it + beta0[j]!;
  }
}

function logitDerivs(m: Model, X: Float64Array, n: number, dB0: Float64Array, dU: Float64Array, dTau: Float64Array): void {
  const { act, inside } = config(m.gate);
  slopeScores(m, X, n, dU);
  const { k, beta0, tau } = m;
  const it = 1 / tau;
  const len = n * k;
  if (inside) {
    for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) {
      const z = dU[t]! + beta0[j]!;
      const g = activateDeriv(act, z) * it;
      dTau[t] = -activate(act, z) * it * it;
      dU[t] = g;
      dB0[t] = g;
    }
    return;
  }
  dB0.fill(1, 0, len);
  if (act === 'identity') {
    for (let t = 0; t < len; t++) { dTau[t] = -dU[t]! * it * it; dU[t] = it; }
  } else if (act === 'tanh') {
    for (let t = 0; t < len; t++) {
      // σ and σ' from one tanh (activate + activateDeriv took two)
      const th = Math.tanh(dU[t]!);
      dTau[t] = -th * it * it;
      dU[t] = (1 - th * th) * it;
    }
  } else if (act === 'sigmoid') {
    for (let t = 0; t < len; t++) {
      const s = sigmoid(dU[t]!);
      dTau[t] = -s * it * it;
      dU[t] = s * (1 - s) * it;
    }
  } else {
    for (let t = 0; t < len; t++) {
      const z = dU[t]!;
      dTau[t] = -activate(act, z) * it * it;
      dU[t] = activateDeriv(act, z) * it;
    }
  }
}

function symmetries(spec: GateSpec) {
  const { act, inside } = config(spec);
  const linear = act === 'identity';
  return {
    translationBeta0: !inside || linear,
    translationBeta1: linear,
    // σ(cu)/(cτ) = σ(u)/τ needs σ positively homogeneous, and β0 outside σ
    scaling: !inside && isPositivelyHomogeneous(act),
  };
}

const logProbs = (m: Model, X: Float64Array, n: number, out: Float64Array) => {
  logits(m, X, n, out);
  logSoftmaxRows(out, n, m.k);
};

export const temperatureGate: Gate = { kind: 'temperature', logits, logProbs, logitDerivs, symmetries };
export const activationGate: Gate = { kind: 'activation', logits, logProbs, logitDerivs, symmetries };
