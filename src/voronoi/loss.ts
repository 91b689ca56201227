/**
 * The Voronoi losses D1 and D2 of THEORY.md §4, with the translation infimum, the top-K loss,
 * the τ term and per-cell, per-parameter errors.
 *
 * For one assignment of fitted atoms to cells, the per-cell term of true atom j is
 *   T_j(c, t1) = Σ_{i∈A_j} w_i (‖β1_i − β1*_j − t1‖^e1 + ‖a_i − a*_j‖^ea + |b_i − b*_j|^eb + |ν_i − ν*_j|^eν)
 *                + |W_j − c·w*_j|,
 * with all exponents 1 for cells of one atom (and under D1), the gate's exponent table with r̄(m)
 * for cells of m ≥ 2 atoms under D2 (exponents.ts); an empty cell contributes |0 − c·w*_j|.
 * The loss is inf over (c = e^{t0}, t1) of Σ_j T_j — or of the sum of the K largest T_j (top-K) —
 * plus |τ − τ*| for gates with a temperature.
 *
 * Choices (documented, switchable through {@link LossOptions}):
 * - Translations are used only where both gates' symmetries() say so: t0 when translationBeta0
 *   holds (else c = 1), t1 when translationBeta1 holds (else t1 = 0).
 * - Weight normalisation (`normalizeWeights`, default on where t0 is a symmetry): the fitted weights
 *   exp(β0_i) are rescaled by s = Σ_j exp(β0*_j) / Σ_i exp(β0_i) — a translation of the fit's β0,
 *   invisible to its gate — before the formula. THEORY's infimum translates only the truth, so
 *   without this the loss would scale by e^{s0} when the fit's β0 are translated by s0; with it,
 *   the loss depends on the fitted model only, and a fit whose total weight equals the truth's
 *   (e.g. the truth itself) is left unchanged.
 * - Cells and translation: cells are computed in the frame of the translation (distance from β1_i
 *   to β1*_j + t1; see cells.ts), so the loss is inf over t1 of the loss with cells(t1). The cell
 *   of an atom changes only across hyperplanes in t1 (where it is equidistant from two true atoms),
 *   whose normals are differences β1*_j' − β1*_j: each assignment's region is a polyhedron, and the
 *   loss is minimised over each region's closure (at a shared boundary the region's own cells are
 *   kept — a tie). When those differences span at most two directions (always for d = 1, k* ≤ 3 or
 *   d = 2) every region is found — slabs between cuts, or a sweep over the arrangement of lines —
 *   and solved: the infimum is exact. Beyond that the regions are explored from starts (each fitted
 *   atom aligned with each true atom, and the optimum of the cells on (a, b, ν) alone) and across
 *   every boundary on which a region's minimum lies. Either way the search moves with a
 *   translation of the fit, so the result is invariant to it.
 * - `loss: "auto"` chooses by the number of experts: D1 when the fit has the truth's k (exact
 *   fit), D2 otherwise (over- or under-specified). It does not look at how the atoms fell into cells,
 *   so every fit of one experiment gets the same formula and their losses stay comparable.
 * - r̄(m ≥ 4) is unknown, but r̄(m) ≥ r̄(3) = 6 (a solution of r̄'s system for 3 atoms, plus an
 *   atom at 0, solves it for m). A region whose cells need r̄(m ≥ 4) gets a lower bound valid for any
 *   such r̄ (x^{f·r̄} ≥ max(0, x^{6f} − 1); dropped where 6f < 1); if that bound does not exceed the
 *   best value of the regions with known exponents, the loss depends on r̄ and the unknown-r̄ error is
 *   thrown. Far-off translations that pile atoms into one cell are thus ruled out, not fatal.
 */
import type { Model } from '../models/types.js';
import type { ExponentTable } from './exponents.js';
import { createLossContext } from './loss-cells.js';
import { resolveLossSetup } from './loss-options.js';
import { searchRegions } from './loss-regions.js';
import { assembleResult } from './loss-result.js';

export type LossKind = 'D1' | 'D2';

export interface LossOptions {
  /** "D1", "D2" or "auto" (default): see the module doc */
  loss?: LossKind | 'auto';
  /** overrides of the gate's multi-atom exponent table (exponents.ts), e.g. { beta1: 2, b: { r: 1 } } */
  exponents?: Partial<ExponentTable>;
  /**
   * sum of the K largest per-cell terms: a number K ≥ 1, or false for the plain sum.
   * Default: the truth's K for a top-K truth, the plain sum otherwise.
   */
  topK?: number | false;
  /** take the translation infimum where the gates allow it (default true) */
  translation?: boolean;
  /** rescale the fitted weights to the truth's total weight where t0 is a symmetry (default true) */
  normalizeWeights?: boolean;
}

/** Per-parameter errors of one cell after the translation infimum (max over the cell's atoms). */
export interface CellErrors {
  /** max_i ‖β1_i − β1*_j − t1‖ */
  beta1: number;
  /** max_i ‖a_i − a*_j‖ */
  a: number;
  /** max_i |b_i − b*_j| */
  b: number;
  /** max_i |ν_i − ν*_j| */
  nu: number;
  /** |W_j − e^{t0} w*_j| (normalised fitted weights, see weightScale) */
  weight: number;
  /** |τ − τ*|, for gates with a temperature */
  tau?: number;
}

export interface CellResult {
  /** the true atom j (0-based) */
  true: number;
  /** the fitted atoms of its cell (0-based, ascending); empty when no fitted atom is nearest */
  fitted: number[];
  /** per-parameter errors; beta1, a, b, nu are NaN (null in JSON) for an empty cell */
  errors: CellErrors;
  /** the cell's term T_j in the loss */
  term: number;
}

export interface LossResult {
  loss: number;
  /** the formula applied (see LossOptions.loss) */
  kind: LossKind;
  /** true when the loss is the sum of the K largest per-cell terms */
  topK?: boolean;
  /** K of the top-K loss */
  K?: number;
  /** translation of the truth's β0 at the infimum, relative to the fit as given (−Infinity when not attained; 0 when not a symmetry) */
  t0: number;
  /** translation of the truth's β1 at the infimum (length d; zeros when not a symmetry) */
  t1: number[];
  /** one entry per true atom, in order */
  cells: CellResult[];
  /** |τ − τ*|^e, for gates with a temperature (included in loss) */
  tauTerm?: number;
  /** factor s applied to the fitted weights exp(β0_i) (1 without normalisation) */
  weightScale: number;
}

/**
 * The Voronoi loss between a fitted model and the truth (THEORY.md §4; choices in the module doc).
 * @param fit fitted model (any k ≥ 1)
 * @param truth true model, same d and gate family
 * @returns the loss, the formula used, the translation at the infimum and the cells with their errors
 * @throws ValidationError for an invalid model (field named, prefixed `fit:` or `truth:`)
 * @throws Error for a different d or gate family, or bad options (field named)
 * @throws UnknownRBarError when D2 needs r̄(m) for a cell of m ≥ 4 atoms
 * @example voronoiLoss(truthPreset('demy'), truthPreset('demy')).loss // 0
 */
export function voronoiLoss(fit: Model, truth: Model, options: LossOptions = {}): LossResult {
  // option checking → cell assignment (per region) → region enumeration → result assembly
  const ctx = createLossContext(resolveLossSetup(fit, truth, options));
  return assembleResult(ctx, searchRegions(ctx));
}
