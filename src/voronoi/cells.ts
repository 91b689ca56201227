/**
 * Voronoi cells (THEORY.md §4): fitted atom i belongs to the cell of the true atom j nearest to it
 * in Euclidean distance on (β1, a, b, ν) — β0 left out; ties go to the smaller j.
 *
 * The gate slopes are compared after the translation t1 of the truth's gates that the loss uses
 * (distance from β1_i to β1*_j + t1): cells and loss are then computed in the same frame, and
 * translating a fit's gates moves its cells' frame with it. `t1` defaults to 0.
 */
import type { Model } from '../models/types.js';

function checkPair(fit: Model, truth: Model): void {
  if (fit.d !== truth.d)
    throw new Error(
      `fit and truth must have the same input dimension d. Value: fit d = ${fit.d}, truth d = ${truth.d}`,
    );
}

/**
 * Cell index of every fitted atom.
 * @param t1 translation of the truth's β1 (length d), default 0
 * @param useBeta1 include β1 in the distance (default true; false compares (a, b, ν) only)
 * @param out optional output of length fit.k
 * @returns Int32Array of length fit.k: assign[i] = j (0-based true atom)
 * @throws Error when d differs or t1 has the wrong length
 */
export function assignCells(
  fit: Model,
  truth: Model,
  t1?: ArrayLike<number>,
  useBeta1 = true,
  out = new Int32Array(fit.k),
): Int32Array {
  checkPair(fit, truth);
  const { d } = fit;
  if (t1 !== undefined && t1.length !== d) throw new Error(`t1 must have length d = ${d}. Value: length ${t1.length}`);
  for (let i = 0; i < fit.k; i++) {
    let bestJ = 0;
    let bestD = Infinity;
    for (let j = 0; j < truth.k; j++) {
      let s = 0;
      if (useBeta1) {
        for (let l = 0; l < d; l++) {
          const v = fit.beta1[i * d + l]! - truth.beta1[j * d + l]! - (t1 ? t1[l]! : 0);
          s += v * v;
        }
      }
      for (let l = 0; l < d; l++) {
        const v = fit.a[i * d + l]! - truth.a[j * d + l]!;
        s += v * v;
      }
      const db = fit.b[i]! - truth.b[j]!;
      const dn = fit.nu[i]! - truth.nu[j]!;
      s += db * db + dn * dn;
      // strict < keeps the smaller j on ties
      if (s < bestD) {
        bestD = s;
        bestJ = j;
      }
    }
    out[i] = bestJ;
  }
  return out;
}

/** Members of each cell from an assignment: cells[j] = fitted atoms (ascending) of true atom j. */
export function cellMembers(assign: ArrayLike<number>, kStar: number): number[][] {
  const cells: number[][] = Array.from({ length: kStar }, () => []);
  for (let i = 0; i < assign.length; i++) cells[assign[i]!]!.push(i);
  return cells;
}

/**
 * The Voronoi cells A_j of a fit with respect to a truth.
 * @param t1 translation of the truth's β1 (length d), default 0
 * @returns cells[j] = the fitted atoms (0-based, ascending) approximating true atom j; some may be empty
 * @example voronoiCells(fit, truthPreset('demy')) // e.g. [[0], [1, 2]]
 */
export function voronoiCells(fit: Model, truth: Model, t1?: ArrayLike<number>): number[][] {
  return cellMembers(assignCells(fit, truth, t1), truth.k);
}
