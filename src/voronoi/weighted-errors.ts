/**
 * Weighted per-parameter errors of the multi-atom Voronoi cells, in the form D2 bounds.
 *
 * D2's term of a cell A_j with m ≥ 2 atoms is Σ_{i∈A_j} w_i ‖Δθ_i‖^e (e = r̄(m) for β1 and b, r̄(m)/2
 * for a and ν), so a rate n^-1/2 for D2 bounds, for each parameter, the power mean
 *   E_j = (Σ_{i∈A_j} (w_i / W_j) ‖Δθ_i‖^e)^{1/e}   by   (D2 / W_j)^{1/e}:
 * n^{-1/(2r̄)} for β1 and b, n^{-1/r̄} for a and ν — the rates of THEORY.md §5. The plain per-cell
 * error (loss.ts: max over the cell's atoms) bounds an atom's error only through its own weight,
 * (D2 / w_i)^{1/e}, and over-specified fits often end with one atom of a split pair carrying a few
 * per cent of its cell's weight (docs/experiments.md), so the max over atoms can fall more slowly than
 * those rates without contradicting them. The weights' shares w_i / W_j are taken from the fitted β0
 * in the log domain (a translation of β0 leaves them unchanged; no underflow for β0 ≈ −10⁴).
 */
import type { Model } from '../models/types.js';
import { cellExponents, exponentTable, type CellExponents, type ExponentTable } from './exponents.js';
import { norm } from './loss-cells.js';
import type { LossResult } from './loss.js';

/** The weighted errors of one cell of m ≥ 2 atoms (same parameters as CellErrors). */
export interface WeightedCellErrors {
  /** the true atom j (0-based) */
  true: number;
  /** the number of fitted atoms in the cell (≥ 2) */
  m: number;
  beta1: number;
  a: number;
  b: number;
  nu: number;
  /** the smallest share w_i / W_j of an atom in the cell */
  minShare: number;
}

/** The power mean (Σ_i s_i x_i^e)^{1/e} of the errors x with shares s (Σ s_i = 1). */
function powerMean(shares: readonly number[], x: readonly number[], e: number): number {
  let t = 0;
  for (let i = 0; i < x.length; i++) t += shares[i]! * Math.pow(x[i]!, e);
  return Math.pow(t, 1 / e);
}

/**
 * The weighted errors of every cell with at least two fitted atoms, at the loss's translation t1.
 * @param fit the fitted model the loss was computed for
 * @param truth the true model
 * @param loss voronoiLoss(fit, truth, …): its cells, t1 and formula
 * @param table the exponent table the loss used (default: the truth gate's)
 * @example weightedCellErrors(fit, truth, voronoiLoss(fit, truth, { loss: 'D2' }))[0]?.b
 */
export function weightedCellErrors(
  fit: Model,
  truth: Model,
  loss: Pick<LossResult, 'cells' | 't1' | 'kind'>,
  table: ExponentTable = exponentTable(truth.gate.kind),
): WeightedCellErrors[] {
  const d = fit.d;
  const out: WeightedCellErrors[] = [];
  for (const c of loss.cells) {
    const m = c.fitted.length;
    if (m < 2) continue;
    const j = c.true;
    // a softmax of the cell's β0 (normalised by the sum, so that equal weights share exactly ½)
    let top = -Infinity;
    for (const i of c.fitted) top = Math.max(top, fit.beta0[i]!);
    const raw = c.fitted.map((i) => Math.exp(fit.beta0[i]! - top));
    const total = raw.reduce((s, v) => s + v, 0);
    const shares = raw.map((v) => v / total);
    const e: CellExponents = cellExponents(table, m, loss.kind);
    const err = (f: (i: number) => number) => c.fitted.map(f);
    out.push({
      true: j,
      m,
      beta1: powerMean(
        shares,
        err((i) => norm(fit.beta1, i * d, truth.beta1, j * d, d, loss.t1)),
        e.beta1,
      ),
      a: powerMean(
        shares,
        err((i) => norm(fit.a, i * d, truth.a, j * d, d)),
        e.a,
      ),
      b: powerMean(
        shares,
        err((i) => Math.abs(fit.b[i]! - truth.b[j]!)),
        e.b,
      ),
      nu: powerMean(
        shares,
        err((i) => Math.abs(fit.nu[i]! - truth.nu[j]!)),
        e.nu,
      ),
      minShare: Math.min(...shares),
    });
  }
  return out;
}
