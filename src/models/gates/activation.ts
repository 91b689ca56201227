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
import { activate, activateDeriv, isPositivelyHomogeneous, type Activation } from '../../math/activations.js';

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
  for (let i = 0, o = 0; i < n; i++, o += k) {
    for (let j = 0; j < k; j++) {
      const u = out[o + j]!;
      out[o + j] = inside ? activate(act, u + beta0[j]!) * it : activate(act, u) * it + beta0[j]!;
    }
  }
}

function logitDerivs(m: Model, X: Float64Array, n: number, dB0: Float64Array, dU: Float64Array, dTau: Float64Array): void {
  const { act, inside } = config(m.gate);
  slopeScores(m, X, n, dU);
  const { k, beta0, tau } = m;
  const it = 1 / tau;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    for (let j = 0; j < k; j++) {
      const z = inside ? dU[o + j]! + beta0[j]! : dU[o + j]!;
      const g = activateDeriv(act, z) * it;
      dTau[o + j] = -activate(act, z) * it * it;
      dU[o + j] = g;
      dB0[o + j] = inside ? g : 1;
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
