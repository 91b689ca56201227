/**
 * Label alignment of bootstrap fits. Experts are exchangeable: a refit may return the original's
 * experts in another order, and statistics taken label by label would then mix two experts. Each
 * bootstrap fit's experts are permuted to the order closest to the original's, then the gate is
 * normalised again (the reference expert, the last, back at 0 where the gate's translation
 * symmetries fix it), so that its parameters are contrasts against the same expert as the original's.
 *
 * The distance is a sum of squared z-scores, unit-free: for original expert j (variance ν_j, mean gate
 * weight w_j over the observed x) and candidate expert i, the differences in b, a_l, log ν and w divided
 * by the standard errors a regression on n·w_j points would have (√(ν_j / n w_j), that over sd(x_l),
 * √(2 / n w_j), √(w_j(1 − w_j) / n)). Rough, but it needs no Hessian, so it works where the observed
 * information is singular — where the bootstrap is wanted.
 */
import { meanGateWeights } from '../../models/density.js';
import { columnMeanSd } from '../../models/column-stats.js';
import { permuteExperts, type Dataset, type Model } from '../../models/types.js';
import type { GateLayoutInfo } from '../gates/layout.js';
import { normalizeGate } from '../gates/layout.js';

/** Above this k the permutations are not enumerated (k! grows too fast): greedy, then pairwise swaps. */
export const EXHAUSTIVE_MAX_K = 6;

/** The reference's per-expert scales of the distance (computed once per bootstrap). */
export interface AlignScales {
  /** the reference's mean gate weights */
  w: Float64Array;
  /** sd of each x column */
  sdX: number[];
  n: number;
}

export function alignScales(reference: Model, data: Dataset): AlignScales {
  const sdX = columnMeanSd(data.X, data.n, data.d).map(({ sd }) => sd || 1);
  return { w: meanGateWeights(reference, data.X, data.n), sdX, n: data.n };
}

/** cost[j * k + i]: the distance of candidate expert i from reference expert j (candidate weights wc). */
export function alignmentCost(reference: Model, candidate: Model, wc: Float64Array, s: AlignScales): Float64Array {
  const { k, d } = reference;
  const cost = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    // floor the weight at one sample, so an empty expert still has finite scales
    const nw = Math.max(s.n * s.w[j]!, 1);
    const seB = Math.sqrt(reference.nu[j]! / nw);
    const seW = Math.sqrt(Math.max(s.w[j]! * (1 - s.w[j]!), 1 / s.n) / s.n);
    for (let i = 0; i < k; i++) {
      let c = ((candidate.b[i]! - reference.b[j]!) / seB) ** 2;
      for (let l = 0; l < d; l++) c += (((candidate.a[i * d + l]! - reference.a[j * d + l]!) * s.sdX[l]!) / seB) ** 2;
      c += Math.log(candidate.nu[i]! / reference.nu[j]!) ** 2 / (2 / nw);
      c += ((wc[i]! - s.w[j]!) / seW) ** 2;
      cost[j * k + i] = c;
    }
  }
  return cost;
}

function total(cost: Float64Array, k: number, perm: Int32Array): number {
  let t = 0;
  for (let j = 0; j < k; j++) t += cost[j * k + perm[j]!]!;
  return t;
}

/** Every permutation of 0..k−1 in lexicographic order (the identity first), calling `visit` on each. */
function forEachPermutation(k: number, visit: (p: Int32Array) => void): void {
  const p = Int32Array.from({ length: k }, (_, j) => j);
  for (;;) {
    visit(p);
    let i = k - 2;
    while (i >= 0 && p[i]! > p[i + 1]!) i--;
    if (i < 0) return;
    let j = k - 1;
    while (p[j]! < p[i]!) j--;
    [p[i], p[j]] = [p[j]!, p[i]!];
    p.subarray(i + 1).reverse();
  }
}

/** Greedy assignment (smallest cost first), then pairwise swaps while one lowers the total. */
function greedyPermutation(cost: Float64Array, k: number): Int32Array {
  const perm = new Int32Array(k).fill(-1);
  const used = new Uint8Array(k);
  const pairs = Array.from({ length: k * k }, (_, t) => t).sort((x, y) => cost[x]! - cost[y]! || x - y);
  for (const t of pairs) {
    const j = Math.floor(t / k);
    const i = t % k;
    if (perm[j] === -1 && !used[i]) {
      perm[j] = i;
      used[i] = 1;
    }
  }
  for (let improved = true; improved;) {
    improved = false;
    for (let j = 0; j < k; j++)
      for (let l = j + 1; l < k; l++) {
        const now = cost[j * k + perm[j]!]! + cost[l * k + perm[l]!]!;
        if (cost[j * k + perm[l]!]! + cost[l * k + perm[j]!]! < now) {
          [perm[j], perm[l]] = [perm[l]!, perm[j]!];
          improved = true;
        }
      }
  }
  return perm;
}

/**
 * The permutation minimising Σ_j cost[j, perm[j]] (reference expert j ← candidate expert perm[j]):
 * exhaustive for k ≤ EXHAUSTIVE_MAX_K (ties go to the earlier permutation, so the identity wins its
 * ties), greedy with pairwise swaps above.
 */
export function bestPermutation(cost: Float64Array, k: number): Int32Array {
  if (k > EXHAUSTIVE_MAX_K) return greedyPermutation(cost, k);
  let best = Int32Array.from({ length: k }, (_, j) => j);
  let bestCost = total(cost, k, best);
  forEachPermutation(k, (p) => {
    const c = total(cost, k, p);
    if (c < bestCost) {
      bestCost = c;
      best = Int32Array.from(p);
    }
  });
  return best;
}

/** `m` with its experts reordered (expert j ← m's expert perm[j]) and its gate normalised again in layout `L`. */
export function relabelExperts(m: Model, perm: ArrayLike<number>, L: GateLayoutInfo): Model {
  const out = permuteExperts(m, perm);
  normalizeGate(L, out);
  return out;
}

/** `candidate` with its experts in the order closest to `reference`'s, and whether that order is not the identity. */
export function alignExperts(
  reference: Model,
  candidate: Model,
  data: Dataset,
  L: GateLayoutInfo,
  scales: AlignScales = alignScales(reference, data),
): { model: Model; permutation: Int32Array; relabelled: boolean } {
  const cost = alignmentCost(reference, candidate, meanGateWeights(candidate, data.X, data.n), scales);
  const permutation = bestPermutation(cost, reference.k);
  const relabelled = permutation.some((i, j) => i !== j);
  return { model: relabelExperts(candidate, permutation, L), permutation, relabelled };
}
