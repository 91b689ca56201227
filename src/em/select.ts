/**
 * Choosing the number of experts k like flexmix's stepFlexmix + getModel: one fit (best of its starts)
 * per k, then AIC, BIC and ICL (inference/criteria.ts, flexmix's definitions) per k, the smallest wins.
 * Each k's fit is seeded from the master seed and k, so adding a k to the list does not change the others.
 */
import { fail, parseGateSpec } from '../models/validate.js';
import type { Dataset } from '../models/types.js';
import { fitMoE } from './fit.js';
import { parameterCount } from '../models/gates/count.js';
import { modelCriteria } from './inference/criteria.js';
import { atFloor } from './endings.js';
import type { FitOptions, FitResult } from './types.js';

export const SELECT_CRITERIA = Object.freeze(['bic', 'aic', 'icl'] as const);
export type SelectCriterion = (typeof SELECT_CRITERIA)[number];

export interface SelectRow {
  k: number;
  logLik: number;
  /** free parameters (parameterCount's conventions) */
  df: number;
  aic: number;
  bic: number;
  icl: number;
  converged: boolean;
  stopReason: string;
  iterations: number;
  /** starts of this k and the best one's index */
  restarts: number;
  bestRestart: number;
  warnings: string[];
}

export interface SelectResult {
  n: number;
  d: number;
  rows: SelectRow[];
  criterion: SelectCriterion;
  /** k with the smallest value of the criterion (ties: the smaller k) */
  chosen: number;
  /** the k each criterion would choose */
  best: Record<SelectCriterion, number>;
  /** the chosen k's fit */
  fit: FitResult;
  /**
   * a larger k that ended below a smaller one's log-likelihood (its fit missed an optimum); a k whose
   * fit ended with an expert's variance at the floor (a spike of the likelihood: its criteria too low)
   */
  notes: string[];
}

export interface SelectOptions extends Omit<FitOptions, 'k'> {
  /** the k to compare, each an integer ≥ 1 */
  ks: number[];
  /** the criterion that chooses (default 'bic', flexmix's getModel default) */
  criterion?: SelectCriterion;
  /** called after each k's fit (keep the fits to pass to bootstrapLRT's `fits`) */
  onFit?: (row: SelectRow, fit: FitResult) => void;
}

/** The k with the smallest value of `key` (the first on a tie, rows in increasing k). */
function argmin(rows: SelectRow[], key: SelectCriterion): number {
  let best = rows[0]!;
  for (const r of rows) if (r[key] < best[key]) best = r;
  return best.k;
}

/**
 * Checks that every k leaves more samples than free parameters (before any fit: `gmoe select` checks
 * all its gates so).
 * @throws ValidationError on field `ks` naming the first k too large
 */
export function checkKs(
  data: Dataset,
  gate: FitOptions['gate'],
  ks: number[],
  tauMode: 'free' | 'fixed',
  variance: 'free' | 'equal' = 'free',
): void {
  for (const k of ks) {
    const free = parameterCount(parseGateSpec(gate, k, 'gate'), k, data.d, tauMode, variance).free;
    if (data.n <= free.total)
      fail('ks', `must leave more samples than free parameters: k = ${k} has ${free.total} and n = ${data.n}`, k);
  }
}

/**
 * Fits every k in `options.ks` (seed of k: master seed + k − 1) and compares them by AIC, BIC, ICL.
 * @throws ValidationError for an empty or bad list of k, an unknown criterion, or bad fit options
 */
export function selectK(data: Dataset, options: SelectOptions): SelectResult {
  const { ks, criterion = 'bic', onFit, ...fitOpts } = options;
  if (!Array.isArray(ks) || ks.length === 0) fail('ks', 'must list at least one k', ks);
  for (const k of ks) if (!Number.isInteger(k) || k < 1) fail('ks', 'must hold integers ≥ 1', k);
  if (new Set(ks).size !== ks.length) fail('ks', 'must not repeat a k', ks);
  if (!(SELECT_CRITERIA as readonly string[]).includes(criterion))
    fail('criterion', `must be one of ${SELECT_CRITERIA.join(', ')}`, criterion);
  const sorted = [...ks].sort((a, b) => a - b);
  // every k checked before the first fit: a k too large for n must not cost the smaller ones' fits
  checkKs(data, fitOpts.gate, sorted, fitOpts.tauMode ?? 'free', fitOpts.variance ?? 'free');
  const seed = fitOpts.seed ?? 1;
  const rows: SelectRow[] = [];
  const fits = new Map<number, FitResult>();
  for (const k of sorted) {
    const fit = fitMoE(data, { ...fitOpts, k, seed: seed + k - 1 });
    const c = modelCriteria(fit.model, data, fitOpts.tauMode ?? 'free', fitOpts.variance ?? 'free');
    const row: SelectRow = {
      k,
      logLik: c.logLik,
      df: c.df,
      aic: c.aic,
      bic: c.bic,
      icl: c.icl,
      converged: fit.converged,
      stopReason: fit.stopReason,
      iterations: fit.iterations,
      restarts: fit.restarts,
      bestRestart: fit.bestRestart,
      warnings: fit.warnings,
    };
    rows.push(row);
    fits.set(k, fit);
    onFit?.(row, fit);
  }
  const best = { bic: argmin(rows, 'bic'), aic: argmin(rows, 'aic'), icl: argmin(rows, 'icl') };
  const chosen = best[criterion];
  const notes = [...nestingNotes(rows, fitOpts.gate), ...spikeNotes(rows, fits, best)];
  return { n: data.n, d: data.d, rows, criterion, chosen, best, notes, fit: fits.get(chosen)! };
}

/** How far below a smaller k's log-likelihood a larger k's may end before it is said (nats). */
export const NESTING_TOL = 0.01;

/**
 * A larger k contains the smaller model in the limit (an expert whose gate is switched off: β0 → −∞;
 * not so for an activation gate with the bias inside, whose logits are bounded), so its maximum is at
 * least the smaller k's: a log-likelihood below it means its starts missed that optimum.
 */
export function nestingNotes(rows: SelectRow[], gate: FitOptions['gate']): string[] {
  if (gate.kind === 'activation' && gate.bias === 'inside') return [];
  const notes: string[] = [];
  let best: SelectRow | undefined;
  for (const r of rows) {
    if (best && r.logLik < best.logLik - NESTING_TOL)
      notes.push(
        `k = ${r.k} ended ${(best.logLik - r.logLik).toPrecision(3)} nats below k = ${best.k} (${r.logLik.toFixed(4)} < ${best.logLik.toFixed(4)}), though a larger k can come as close as it likes to the smaller fit (an expert its gate switches off): its starts missed that optimum and its criteria are too high — more restarts (--restarts), or another init`,
      );
    if (!best || r.logLik > best.logLik) best = r;
  }
  return notes;
}

/**
 * A k whose fit ended with an expert's variance at the floor (as fitMoE's degenerate-ending warning
 * says): that expert fits a few samples exactly, on a spike of the likelihood, which is unbounded
 * there; the log-likelihood is no maximum of interest and its AIC, BIC and ICL are too low — the more
 * so the smaller the floor — so a criterion that chooses it chooses the spike.
 */
export function spikeNotes(
  rows: SelectRow[],
  fits: Map<number, FitResult>,
  best: Record<SelectCriterion, number>,
): string[] {
  const notes: string[] = [];
  for (const r of rows) {
    const fit = fits.get(r.k)!;
    const floor = fit.options.varianceFloor;
    const at = Array.from(fit.model.nu, (nu, j) => (atFloor(nu, floor) ? j + 1 : 0)).filter((j) => j > 0);
    if (at.length === 0) continue;
    const by = SELECT_CRITERIA.filter((c) => best[c] === r.k).map((c) => c.toUpperCase());
    const chosen = by.length > 0 ? ` (chosen by ${by.join(', ')}: do not trust that choice)` : '';
    notes.push(
      `k = ${r.k} ended with expert${at.length > 1 ? 's' : ''} ${at.join(', ')} at the variance floor ${floor.toPrecision(3)}, fitting a few samples exactly: its log-likelihood is a spurious spike, and its AIC, BIC and ICL too low${chosen} — a larger --variance-floor, or leave this k out`,
    );
  }
  return notes;
}
