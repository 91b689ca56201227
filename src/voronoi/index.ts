/**
 * Public API of src/voronoi: Voronoi cells, the losses D1/D2 (translation infimum, top-K, τ term,
 * per-cell errors), exponent tables and r̄, and the expected conditional Hellinger distance.
 */
export {
  voronoiLoss,
  type LossOptions,
  type LossResult,
  type LossKind,
  type CellResult,
  type CellErrors,
} from './loss.js';
export { voronoiCells, assignCells, cellMembers } from './cells.js';
export { optimalScale, minimizeT1, addNormPower, type T1Term } from './translation.js';
export {
  minimizeConvex,
  type ConvexObjective,
  type ConvexMinimum,
  type ConvexOptions,
  type LinearConstraint,
} from './convex.js';
export {
  rBar,
  R_BAR,
  UnknownRBarError,
  EXPONENT_TABLES,
  EXPONENT_PARAMS,
  exponentTable,
  cellExponents,
  type ExponentRule,
  type ExponentTable,
  type CellExponents,
} from './exponents.js';
export { weightedCellErrors, type WeightedCellErrors } from './weighted-errors.js';
export { hellinger, hellingerAt, gaussHermite, type HellingerOptions } from './hellinger.js';
export { asSoftmaxRatio, identifiedSlope, identifiedSlopeErrors, type IdentifiedSlope } from './identified.js';
