/**
 * voronoiLoss, step 1: checks the models and the options, and fixes what the search needs from
 * them — the formula, top-K, which translations are symmetries, and the (normalised) weights.
 */
import { gateFamily, getGate } from '../models/gates/index.js';
import type { Model } from '../models/types.js';
import { validateModel } from '../models/validate.js';
import { logsumexp } from '../math/logsumexp.js';
import { cellExponents, exponentTable, type ExponentTable } from './exponents.js';
import type { LossKind, LossOptions } from './loss.js';
import { badInput } from '../models/validation-error.js';

/** What the options and the two models fix for the whole search. */
export interface LossSetup {
  fit: Model;
  truth: Model;
  d: number;
  /** number of true atoms */
  kStar: number;
  lossOpt: LossKind | 'auto';
  /** the formula the cells use; "auto" is D1 when the fit has the truth's k, D2 otherwise */
  formula: LossKind;
  table: ExponentTable;
  /** the loss sums the K largest terms when topKActive */
  K: number;
  topKActive: boolean;
  /** the translations t0 (scale c) and t1 are symmetries of both gates */
  useT0: boolean;
  useT1: boolean;
  /** log of the factor applied to the fitted weights */
  logS: number;
  /** fitted weights exp(β0_i + logS) and true weights exp(β0*_j) */
  w: Float64Array;
  wStar: Float64Array;
}

const LOSS_KINDS = ['D1', 'D2', 'auto'] as const;
const LOSS_OPTION_KEYS: readonly string[] = ['loss', 'exponents', 'topK', 'translation', 'normalizeWeights'];

/**
 * Checks the models and options of {@link voronoiLoss} and fixes the search's set-up.
 * @throws ValidationError for an invalid model, a different d or gate family, bad options (field named)
 *   or a weight exp(β0) that overflows
 */
export function resolveLossSetup(fit: Model, truth: Model, options: LossOptions): LossSetup {
  validateModel(fit, 'fit');
  validateModel(truth, 'truth');
  if (fit.d !== truth.d)
    throw badInput(`fit and truth must have the same input dimension d. Value: fit d = ${fit.d}, truth d = ${truth.d}`);
  if (gateFamily(fit.gate) !== gateFamily(truth.gate)) {
    throw badInput(
      `fit and truth must have the same gate family. Value: fit gate ${gateFamily(fit.gate)}, truth gate ${gateFamily(truth.gate)}`,
    );
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw badInput(`options must be an object such as { loss: 'D2' }. Value: ${JSON.stringify(options)}`, options);
  for (const key of Object.keys(options)) {
    if (!LOSS_OPTION_KEYS.includes(key))
      throw badInput(`options.${key} is not an option of voronoiLoss (allowed: ${LOSS_OPTION_KEYS.join(', ')})`);
  }
  const lossOpt = options.loss ?? 'auto';
  if (!(LOSS_KINDS as readonly string[]).includes(lossOpt))
    throw badInput(`loss must be one of ${LOSS_KINDS.join(', ')}. Value: ${String(lossOpt)}`);
  for (const key of ['translation', 'normalizeWeights'] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== 'boolean') throw badInput(`${key} must be true or false. Value: ${String(v)}`);
  }
  const table = exponentTable(truth.gate.kind, options.exponents);
  const formula: LossKind = lossOpt === 'auto' ? (fit.k === truth.k ? 'D1' : 'D2') : lossOpt;

  const { d } = fit;
  const kStar = truth.k;
  let K = kStar;
  let topKActive = false;
  const topKOpt = options.topK ?? getGate(truth.gate).lossTopK(truth.gate);
  if (topKOpt !== false) {
    if (typeof topKOpt !== 'number' || !Number.isInteger(topKOpt) || topKOpt < 1)
      throw badInput(`topK must be an integer ≥ 1 or false. Value: ${String(topKOpt)}`);
    topKActive = true;
    K = Math.min(topKOpt, kStar);
  }

  const symFit = getGate(fit.gate).symmetries(fit.gate);
  const symTruth = getGate(truth.gate).symmetries(truth.gate);
  const translate = options.translation ?? true;
  const useT0 = translate && symFit.translationBeta0 && symTruth.translationBeta0;
  const useT1 = translate && symFit.translationBeta1 && symTruth.translationBeta1;
  if (useT1 && formula === 'D2') {
    for (const m of [2, 3]) {
      const e = cellExponents(table, m, 'D2').beta1;
      if (!(e >= 1))
        throw badInput(
          `exponents.beta1 must give exponents ≥ 1 (convexity of the infimum over t1). Value: ${e} for cells of ${m} atoms`,
        );
    }
  }
  const normalize = (options.normalizeWeights ?? true) && useT0;
  const logS = normalize ? logsumexp(truth.beta0) - logsumexp(fit.beta0) : 0;
  const w = new Float64Array(fit.k);
  for (let i = 0; i < fit.k; i++) w[i] = Math.exp(fit.beta0[i]! + logS);
  const wStar = new Float64Array(kStar);
  for (let j = 0; j < kStar; j++) wStar[j] = Math.exp(truth.beta0[j]!);
  for (const [v, what] of [
    [w, 'fit'],
    [wStar, 'truth'],
  ] as const) {
    for (let t = 0; t < v.length; t++) {
      if (!Number.isFinite(v[t]!)) {
        // the fit's weights are shifted by logS to the truth's total weight: say the exponent that overflowed
        const shift = what === 'fit' && logS !== 0 ? ` + ${logS} (the shift to the truth's total weight)` : '';
        throw badInput(
          `${what}: mixing weight exp(gating.beta0[${t}]${shift ? ' + shift' : ''}) overflows. Value: ${what === 'fit' ? fit.beta0[t] : truth.beta0[t]}${shift}`,
        );
      }
    }
  }
  return { fit, truth, d, kStar, lossOpt, formula, table, K, topKActive, useT0, useT1, logS, w, wStar };
}
