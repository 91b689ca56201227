/**
 * Model-selection criteria from the log-likelihood, as flexmix defines them (flexmix 2.3-18):
 *   AIC = −2 logLik + 2 df,   BIC = −2 logLik + df·log n,
 *   ICL = −2 clogLik + df·log n = BIC − 2 Σ_i log max_j r_ij
 * where clogLik, flexmix's classification log-likelihood, keeps of each sample only the joint
 * π_j f_j of its MAP expert (hard assignment). The soft-entropy form BIC + 2·E, with
 * E = −Σ_ij r_ij log r_ij (Biernacki et al. 2000; McLachlan & Peel), is reported alongside as
 * `iclEntropy`: it is ≥ flexmix's ICL (Σ_j r_ij log r_ij ≤ log max_j r_ij). Smaller is better for all of them.
 *
 * The number of free parameters df counts what the likelihood can identify (conventions below,
 * `parameterCount`); flexmix's df for FLXMRglm + FLXPmultinom is the softmax count.
 */
import { fail } from '../../models/validate.js';
import { responsibilities } from '../../models/density.js';
import { getGate } from '../../models/gates/index.js';
import { hasTau, type Dataset, type GateSpec, type Model } from '../../models/types.js';

export interface ParameterCount {
  /** free gate parameters the likelihood depends on */
  gate: number;
  /** k(d + 2): a_j (d), b_j, ν_j per expert */
  experts: number;
  total: number;
  /** how the gate was counted, one short sentence each */
  conventions: string[];
}

/**
 * Number of free parameters of a k-expert, d-dimensional fit of the gate `spec`.
 * Conventions:
 * - experts: k(d + 2) (slope a_j, intercept b_j, variance ν_j);
 * - softmax: (k − 1)(d + 1), the reference expert's (β0, β1) fixed at 0 (the translation symmetry;
 *   flexmix fixes component 1 instead, same count);
 * - top-K: counted like the softmax, (k − 1)(d + 1): the selection boundaries are parameters too;
 *   except K = 1 selecting on the slope, where π is the indicator of the argmax of β1_j·x: β0 has
 *   no effect and β1 counts only up to a positive scale, (k − 1)d − 1;
 * - temperature / activation: the translations the gate has fixed at the reference expert, plus τ when
 *   tauMode is 'free', minus 1 when σ is positively homogeneous (identity = the temperature gate, relu)
 *   and τ is free: (β1, τ) → (cβ1, cτ) (with the bias inside σ, (β0, β1, τ) → c(β0, β1, τ)) leaves
 *   the likelihood unchanged;
 * - k = 1: the gate is constant, 0 gate parameters whatever its kind.
 */
export function parameterCount(
  spec: GateSpec,
  k: number,
  d: number,
  tauMode: 'free' | 'fixed' = 'free',
): ParameterCount {
  if (!Number.isInteger(k) || k < 1) fail('k', 'must be an integer ≥ 1', k);
  if (!Number.isInteger(d) || d < 1) fail('d', 'must be an integer ≥ 1', d);
  const experts = k * (d + 2);
  const conventions = [`experts: k(d + 2) = ${experts} (a_j, b_j, ν_j)`];
  let gate: number;
  if (k === 1) {
    gate = 0;
    conventions.push('gate: constant with k = 1, no parameters');
  } else if (spec.kind === 'softmax') {
    gate = (k - 1) * (d + 1);
    conventions.push(`gate: (k − 1)(d + 1) = ${gate}, reference expert ${k - 1} fixed at β0 = 0, β1 = 0`);
  } else if (spec.kind === 'topk') {
    if (spec.K === 1 && spec.selectOn === 'slope') {
      gate = Math.max(0, (k - 1) * d - 1);
      conventions.push(
        `gate: top-1 by slope, π = indicator of argmax β1_j·x: β0 has no effect, β1 counts up to scale: (k − 1)d − 1 = ${gate}`,
      );
    } else {
      gate = (k - 1) * (d + 1);
      conventions.push(`gate: top-${spec.K} counted like the softmax, (k − 1)(d + 1) = ${gate}`);
    }
  } else {
    const sym = getGate(spec).symmetries(spec);
    // σ(cu)/(cτ) = σ(u)/τ for positively homogeneous σ, with the bias inside σ as well (then β0 scales too)
    const homogeneous = getGate(spec).activation?.(spec).act.positivelyHomogeneous ?? false;
    const tauFree = hasTau(spec) && tauMode === 'free';
    gate = (sym.translationBeta0 ? k - 1 : k) + (sym.translationBeta1 ? k - 1 : k) * d + (tauFree ? 1 : 0);
    const parts = [
      `β0: ${sym.translationBeta0 ? 'k − 1 (reference fixed)' : 'k'}`,
      `β1: ${sym.translationBeta1 ? '(k − 1)d (reference fixed)' : 'kd'}`,
      `τ: ${tauFree ? 'free, 1' : 'fixed, 0'}`,
    ];
    if (homogeneous && tauFree) {
      gate -= 1;
      parts.push('− 1 for the flat (β1, τ) → (cβ1, cτ) direction');
    }
    conventions.push(`gate: ${parts.join(', ')}; total ${gate}`);
  }
  return { gate, experts, total: gate + experts, conventions };
}

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
): InformationCriteria & { parameters: ParameterCount } {
  const { resp, logLik } = responsibilities(model, data);
  const parameters = parameterCount(model.gate, model.k, model.d, tauMode);
  return { ...informationCriteria(logLik, parameters.total, data.n, resp, model.k), parameters };
}
