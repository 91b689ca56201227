/**
 * Model-selection criteria from the log-likelihood, as flexmix defines them (flexmix 2.3-18):
 *   AIC = −2 logLik + 2 df,   BIC = −2 logLik + df·log n,
 *   ICL = −2 clogLik + df·log n = BIC − 2 Σ_i log max_j r_ij
 * where clogLik, flexmix's classification log-likelihood, keeps of each sample only the joint
 * π_j f_j of its MAP expert (hard assignment). The soft-entropy form BIC + 2·E, with
 * E = −Σ_ij r_ij log r_ij (Biernacki et al. 2000; McLachlan & Peel), is reported alongside as
 * `iclEntropy`: it is ≥ flexmix's ICL (Σ_j r_ij log r_ij ≤ log max_j r_ij). Smaller is better for all of them.
 *
 * The number of free parameters df counts what the likelihood can identify (conventions in
 * src/models/gates/count.ts, `parameterCount`); flexmix's df for FLXMRglm + FLXPmultinom is the softmax count.
 */
import { fail } from '../../models/validate.js';
import { responsibilities } from '../../models/density.js';
import { parameterCount, type ParameterCount } from '../../models/gates/count.js';
import type { Dataset, Model } from '../../models/types.js';

export { parameterCount, type ParameterCount };

export interface InformationCriteria {
  logLik: number;
  n: number;
  /** number of free parameters */
  df: number;
  aic: number;
  bic: number;
  /** flexmix's ICL: BIC − 2 Σ_i log max_j r_ij (hard MAP assignment) */
  icl: number;
  /** BIC + 2·entropy of the responsibilities (soft form) */
  iclEntropy: number;
  /** −Σ_ij r_ij log r_ij (nats, 0 log 0 = 0) */
  entropy: number;
  /** flexmix's clogLik = logLik + Σ_i log max_j r_ij */
  classificationLogLik: number;
}

/**
 * AIC, BIC, ICL from a log-likelihood, df and the responsibilities (n × k row-major).
 * @throws ValidationError when logLik is not finite or df, n are not positive integers
 */
export function informationCriteria(
  logLik: number,
  df: number,
  n: number,
  resp: Float64Array,
  k: number,
): InformationCriteria {
  if (!Number.isFinite(logLik)) fail('logLik', 'must be finite', logLik);
  if (!Number.isInteger(df) || df < 0) fail('df', 'must be an integer ≥ 0', df);
  if (!Number.isInteger(n) || n < 1) fail('n', 'must be an integer ≥ 1', n);
  if (resp.length !== n * k) fail('resp', `must have length n × k = ${n * k}`, resp.length);
  let entropy = 0;
  let hard = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let mx = 0;
    for (let j = 0; j < k; j++) {
      const r = resp[o + j]!;
      if (r > 0) entropy -= r * Math.log(r);
      if (r > mx) mx = r;
    }
    hard += Math.log(mx);
  }
  const bic = -2 * logLik + df * Math.log(n);
  return {
    logLik,
    n,
    df,
    aic: -2 * logLik + 2 * df,
    bic,
    icl: bic - 2 * hard,
    iclEntropy: bic + 2 * entropy,
    entropy,
    classificationLogLik: logLik + hard,
  };
}

/** The criteria of a fitted model on its data (df from `parameterCount`). */
export function modelCriteria(
  model: Model,
  data: Dataset,
  tauMode: 'free' | 'fixed' = 'free',
  variance: 'free' | 'equal' = 'free',
): InformationCriteria & { parameters: ParameterCount } {
  const { resp, logLik } = responsibilities(model, data);
  const parameters = parameterCount(model.gate, model.k, model.d, tauMode, variance);
  return { ...informationCriteria(logLik, parameters.total, data.n, resp, model.k), parameters };
}
