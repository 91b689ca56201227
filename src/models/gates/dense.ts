/**
 * What the dense-to-sparse gates share [TEMP]: logits σ(β1_j·x)/τ + β0_j (bias outside, the
 * default: exp(β0) stay the mixing weights) or σ(β1_j·x + β0_j)/τ (bias inside), for the σ and
 * bias position the gate's `activation(spec)` gives. The temperature gate is σ = identity, bias outside.
 */
import type { Gate, GateActivation } from './gate.js';
import { logSoftmaxRows, slopeScores } from './gate.js';
import type { GateSpec, Model } from '../types.js';

type DenseOps = Pick<Gate, 'logits' | 'logProbs' | 'logitDerivs' | 'symmetries' | 'identifiable'>;

/** logits, logProbs, logitDerivs and symmetries of a gate whose σ and bias position `config` reads off its spec. */
export function denseGateOps(config: (spec: GateSpec) => GateActivation): DenseOps {
  function logits(m: Model, X: Float64Array, n: number, out: Float64Array): void {
    const { act, inside } = config(m.gate);
    const sigma = act.sigma;
    slopeScores(m, X, n, out);
    const { k, beta0, tau } = m;
    const it = 1 / tau;
    const len = n * k;
    if (inside) {
      for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) out[t] = sigma(out[t]! + beta0[j]!) * it;
    } else {
      for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) out[t] = sigma(out[t]!) * it + beta0[j]!;
    }
  }

  function logitDerivs(
    m: Model,
    X: Float64Array,
    n: number,
    dB0: Float64Array,
    dU: Float64Array,
    dTau: Float64Array,
  ): void {
    const { act, inside } = config(m.gate);
    const { sigma, d1, d1At } = act;
    slopeScores(m, X, n, dU);
    const { k, beta0, tau } = m;
    const it = 1 / tau;
    const len = n * k;
    if (inside) {
      for (let t = 0, j = 0; t < len; t++, j = j + 1 === k ? 0 : j + 1) {
        const z = dU[t]! + beta0[j]!;
        const g = d1(z) * it;
        dTau[t] = -sigma(z) * it * it;
        dU[t] = g;
        dB0[t] = g;
      }
      return;
    }
    dB0.fill(1, 0, len);
    if (d1At) {
      // σ and σ' from one evaluation of σ
      for (let t = 0; t < len; t++) {
        const u = dU[t]!;
        const s = sigma(u);
        dTau[t] = -s * it * it;
        dU[t] = d1At(s, u) * it;
      }
    } else {
      for (let t = 0; t < len; t++) {
        const z = dU[t]!;
        dTau[t] = -sigma(z) * it * it;
        dU[t] = d1(z) * it;
      }
    }
  }

  function symmetries(spec: GateSpec) {
    const { act, inside } = config(spec);
    const linear = act.linear;
    return {
      translationBeta0: !inside || linear,
      translationBeta1: linear,
      // σ(cu)/(cτ) = σ(u)/τ needs σ positively homogeneous, and β0 outside σ (inside it, c scales β0 too)
      scaling: !inside && act.positivelyHomogeneous,
      scalingWithBias: inside && act.positivelyHomogeneous,
    };
  }

  const logProbs = (m: Model, X: Float64Array, n: number, out: Float64Array) => {
    logits(m, X, n, out);
    logSoftmaxRows(out, n, m.k);
  };
  /** free minus 1 when σ is positively homogeneous and τ free: (β1, τ) → (cβ1, cτ) (bias inside: c(β0, β1, τ)) is flat */
  function identifiable(spec: GateSpec, _k: number, _d: number, free: number, tauFree: boolean) {
    const sym = symmetries(spec);
    const homogeneous = config(spec).act.positivelyHomogeneous;
    const parts = [
      `β0: ${sym.translationBeta0 ? 'k − 1 (reference fixed)' : 'k'}`,
      `β1: ${sym.translationBeta1 ? '(k − 1)d (reference fixed)' : 'kd'}`,
      `τ: ${tauFree ? 'free, 1' : 'fixed, 0'}`,
    ];
    let count = free;
    if (homogeneous && tauFree) {
      count -= 1;
      parts.push('− 1 for the flat (β1, τ) → (cβ1, cτ) direction');
    }
    return { count, convention: `${parts.join(', ')}; total ${count}` };
  }
  return { logits, logProbs, logitDerivs, symmetries, identifiable };
}
