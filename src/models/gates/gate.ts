/**
 * The Gate interface: each gate kind turns (model, X) into logits and log gate
 * probabilities, gives the derivatives of its logits with respect to its own parameters,
 * and describes its symmetries so that losses and diagnostics need not special-case names.
 *
 * Every gate's logit for expert j depends on the gate parameters only through
 * (β0_j, u_ij = β1_j·x_i, τ), so three n × k coefficient arrays describe its Jacobian:
 *   ∂s_ij/∂β0_j = dB0[i*k+j],  ∂s_ij/∂β1_j = dU[i*k+j] · x_i,  ∂s_ij/∂τ = dTau[i*k+j].
 */
import type { GateKind, GateSpec, Model } from '../types.js';

export interface GateSymmetries {
  /** π unchanged by β0_j → β0_j + t0 for all j */
  translationBeta0: boolean;
  /** π unchanged by β1_j → β1_j + t1 for all j */
  translationBeta1: boolean;
  /** π unchanged by (β1, τ) → (cβ1, cτ) for every c > 0 */
  scaling: boolean;
}

export interface Gate {
  readonly kind: GateKind;
  /** Writes the logits s (n × k). For top-K these are the full logits before selection. */
  logits(m: Model, X: Float64Array, n: number, out: Float64Array): void;
  /** Writes log π (n × k), normalised per row by log-sum-exp; inactive top-K experts get −Infinity. */
  logProbs(m: Model, X: Float64Array, n: number, out: Float64Array): void;
  /** Writes the logit Jacobian coefficients (see module doc). */
  logitDerivs(m: Model, X: Float64Array, n: number, dB0: Float64Array, dU: Float64Array, dTau: Float64Array): void;
  /** Symmetries of this gate configuration. */
  symmetries(spec: GateSpec): GateSymmetries;
}

/** In place: each row of s (n × k) becomes its log-softmax. Entries of −Infinity stay −Infinity. */
export function logSoftmaxRows(s: Float64Array, n: number, k: number): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) if (s[o + j]! > mx) mx = s[o + j]!;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(s[o + j]! - mx);
    // (s − max) − log Σ rather than s − (max + log Σ): with logits ~1000 the latter loses ~1e-13 to cancellation
    const ls = Math.log(sum);
    for (let j = 0; j < k; j++) s[o + j] = s[o + j]! - mx - ls;
  }
}

/** u_ij = β1_j·x_i into out (n × k). */
export function slopeScores(m: Model, X: Float64Array, n: number, out: Float64Array): void {
  const { k, d, beta1 } = m;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let j = 0; j < k; j++) {
      let u = 0;
      const bo = j * d;
      for (let l = 0; l < d; l++) u += beta1[bo + l]! * X[xo + l]!;
      out[i * k + j] = u;
    }
  }
}
