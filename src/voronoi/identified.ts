/**
 * The temperature gate's identified slope (THEORY.md §5, "What is identified"): with the identity
 * activation and the bias outside, the logits β1_j·x/τ + β0_j depend on (β1, τ) only through the ratio
 * β1/τ, so the model is a softmax gate with slopes β1/τ. Its Voronoi loss's β1 errors are the errors of
 * that ratio — what the data identify, and what should fall at the softmax rates — while β1 and τ apart
 * show only where the fitter put them along (β1, τ) → (cβ1, cτ). With the bias inside, the logits
 * (β1_j·x + β0_j)/τ are a softmax's with slopes β1/τ and intercepts β0/τ, and the same holds for
 * (β0, β1, τ) → c(β0, β1, τ): the cells' weight errors of that softmax are the identified intercepts'.
 */
import { scaledLinearBias } from '../models/gates/index.js';
import { cloneModel, type Model } from '../models/types.js';
import { voronoiLoss } from './loss.js';
import { weightedCellErrors } from './weighted-errors.js';

/** The same conditional density as a softmax gate with slopes β1/τ (and intercepts β0/τ, bias inside; τ = 1). */
export function asSoftmaxRatio(m: Model): Model {
  const bias = scaledLinearBias(m.gate);
  if (bias === null)
    throw new Error(
      `asSoftmaxRatio: the gate must be a softmax over τ (the identity activation, bias outside or inside). Value: ${JSON.stringify(m.gate)}`,
    );
  const out = cloneModel(m);
  out.gate = { kind: 'softmax' };
  for (let t = 0; t < out.beta1.length; t++) out.beta1[t] = m.beta1[t]! / m.tau;
  if (bias === 'inside') for (let j = 0; j < out.beta0.length; j++) out.beta0[j] = m.beta0[j]! / m.tau;
  out.tau = 1;
  return out;
}

/** The identified slope's errors: per non-empty cell (max over its atoms) and, for cells of m ≥ 2, weighted. */
export interface IdentifiedSlope {
  /** per non-empty cell: its number of fitted atoms m and max_i ‖β1_i/τ̂ − β1*_j/τ* − t1‖ */
  cells: { m: number; error: number }[];
  /**
   * per non-empty cell, when either gate has the bias inside: the cell's weight error (CellErrors.weight)
   * of the softmaxes with intercepts β0/τ — with the bias outside β0 is identified, and the loss's own
   * weight error is this one
   */
  intercepts?: { m: number; error: number }[];
  /** per cell of m ≥ 2 atoms: the error weighted as the softmax D2 weights it (weightedCellErrors' β1) */
  weighted: { m: number; error: number }[];
}

/**
 * The errors of the identified slope β1/τ: the β1 errors of the softmax loss between the two models written
 * with slopes β1/τ (its own cells and translation infimum), and their weighted form in cells of m ≥ 2 atoms.
 * @param loss the loss whose cells are used: D1 (exact fits) or D2 (over-specified)
 */
export function identifiedSlope(fit: Model, truth: Model, loss: 'D1' | 'D2'): IdentifiedSlope {
  const f = asSoftmaxRatio(fit);
  const t = asSoftmaxRatio(truth);
  const r = voronoiLoss(f, t, { loss, topK: false });
  const filled = r.cells.filter((c) => c.fitted.length > 0);
  const inside = scaledLinearBias(fit.gate) === 'inside' || scaledLinearBias(truth.gate) === 'inside';
  return {
    cells: filled.map((c) => ({ m: c.fitted.length, error: c.errors.beta1 })),
    weighted: weightedCellErrors(f, t, r).map((c) => ({ m: c.m, error: c.beta1 })),
    ...(inside ? { intercepts: filled.map((c) => ({ m: c.fitted.length, error: c.errors.weight })) } : {}),
  };
}

/** {@link identifiedSlope}'s per-cell errors alone. */
export function identifiedSlopeErrors(fit: Model, truth: Model, loss: 'D1' | 'D2'): { m: number; error: number }[] {
  return identifiedSlope(fit, truth, loss).cells;
}
