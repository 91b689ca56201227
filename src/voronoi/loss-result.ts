/**
 * voronoiLoss, step 4: the result at the chosen region — the loss with the τ term, and per cell
 * its fitted atoms, term and per-parameter errors.
 */
import { hasTau } from '../models/types.js';
import { evaluateTerms, norm, type LossContext } from './loss-cells.js';
import type { Candidate } from './loss-regions.js';
import type { CellErrors, CellResult, LossResult } from './loss.js';

/** The loss and its cells at the infimum `chosen`. */
export function assembleResult(ctx: LossContext, chosen: Candidate): LossResult {
  const { fit, truth, d, kStar, table, formula, topKActive, K, useT0, logS, wStar, termsBuf } = ctx;
  // final terms and errors at the chosen (c, t1)
  const { asg, c, t1 } = chosen;
  let loss = evaluateTerms(ctx, asg, c, t1, null, -1, -1);
  const tauErr = hasTau(truth.gate) ? Math.abs(fit.tau - truth.tau) : undefined;
  let tauTerm: number | undefined;
  if (tauErr !== undefined) {
    tauTerm = Math.pow(tauErr, table.tau);
    loss += tauTerm;
  }
  if (!Number.isFinite(loss))
    throw new Error(`voronoiLoss: the loss is not finite (${loss}); check the models' parameter scales`);
  const cells: CellResult[] = [];
  for (let j = 0; j < kStar; j++) {
    const fitted = asg.members[j]!;
    const empty = fitted.length === 0;
    let eb1 = empty ? NaN : 0;
    let ea = empty ? NaN : 0;
    let eb = empty ? NaN : 0;
    let en = empty ? NaN : 0;
    for (const i of fitted) {
      eb1 = Math.max(eb1, norm(fit.beta1, i * d, truth.beta1, j * d, d, t1));
      ea = Math.max(ea, norm(fit.a, i * d, truth.a, j * d, d));
      eb = Math.max(eb, Math.abs(fit.b[i]! - truth.b[j]!));
      en = Math.max(en, Math.abs(fit.nu[i]! - truth.nu[j]!));
    }
    const errors: CellErrors = { beta1: eb1, a: ea, b: eb, nu: en, weight: Math.abs(asg.W[j]! - c * wStar[j]!) };
    if (tauErr !== undefined) errors.tau = tauErr;
    cells.push({ true: j, fitted: [...fitted], errors, term: termsBuf[j]! });
  }
  // key order is the order of the CLI's JSON
  const result: LossResult = {
    loss,
    kind: formula,
    ...(topKActive ? { topK: true, K } : {}),
    t0: useT0 ? Math.log(c) - logS : 0,
    t1: Array.from(t1),
    cells,
    ...(tauTerm !== undefined ? { tauTerm } : {}),
    weightScale: Math.exp(logS),
  };
  return result;
}
