/**
 * The observed log-likelihood as a function of the packed θ (params.ts), with its exact gradient and
 * Hessian: what a trust-region or Newton maximiser of L needs (issue 15). The model's fixed entries
 * (reference expert, τ when held) come from `base`; θ never touches them.
 */
import { logJoint } from '../../models/density.js';
import { cloneModel, type Dataset, type Model } from '../../models/types.js';
import { logLikDerivatives, type LogLikDerivatives } from './hessian.js';
import { unpackParams, type ParamLayout } from './params.js';

export interface LogLikObjective {
  /** length of θ */
  readonly P: number;
  /** L(θ) = Σ_i log p(y_i | x_i) */
  value(theta: Float64Array): number;
  /** L, ∇L and (unless hessian is false) ∇²L at θ */
  derivatives(theta: Float64Array, hessian?: boolean): LogLikDerivatives;
  /** a fresh model at θ */
  model(theta: Float64Array): Model;
}

/** L over the layout's free parameters, the rest held as in `base` (normalised: see normalizeGate). */
export function logLikObjective(L: ParamLayout, base: Model, data: Dataset): LogLikObjective {
  const scratch = cloneModel(base);
  const joint = new Float64Array(data.n * base.k);
  return {
    P: L.P,
    value: (theta) => logJoint(unpackParams(L, theta, scratch), data.X, data.y, data.n, joint),
    derivatives: (theta, hessian = true) => logLikDerivatives(L, unpackParams(L, theta, scratch), data, hessian),
    model: (theta) => unpackParams(L, theta, cloneModel(base)),
  };
}
