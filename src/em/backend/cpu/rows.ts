/** Helpers shared by the CPU backend's row loops. */
import { expCore } from '../../../math/exp.js';
import { EXP_CUTOFF } from '../constants.js';

export const LOG_2PI = Math.log(2 * Math.PI);
export const EMPTY = new Float64Array(0);

/**
 * e^u for u = (a term) − (its row's maximum) ≤ 0: 0 below −EXP_CUTOFF (= src/math/exp.ts EXP_FAST_MIN), else
 * expCore (≤ 0.51 ulp, inlined; NaN gives NaN). No call on any path: an out-of-line call in the
 * loop, even one never taken, made the compiler spill the row's values around it (measured ~15%).
 */
export function expRel(u: number): number {
  return u < -EXP_CUTOFF ? 0 : expCore(u);
}
