/**
 * Per-n descriptive statistics of one metric: mean, median and quantiles over replications.
 * Quantiles are the linear-interpolation kind (Hyndman–Fan type 7, the default of R, numpy
 * and simple-statistics), so numbers here match what a researcher gets elsewhere.
 */
import type { PointSummary } from '../types.js';
import { quantileSorted } from '../../math/quantile.js';

export { quantileSorted };

/** Arithmetic mean of the first `len` values (Neumaier-compensated, so long sums stay exact). */
export function meanOf(values: ArrayLike<number>, len: number = values.length): number {
  let s = 0;
  let comp = 0;
  for (let i = 0; i < len; i++) {
    const v = values[i];
    const t = s + v;
    comp += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return (s + comp) / len;
}

/** Median of the first `len` values of a sorted array. */
export function medianSorted(sorted: ArrayLike<number>, len: number = sorted.length): number {
  return quantileSorted(sorted, 0.5, len);
}

/**
 * k-th smallest (0-based) of the first `len` values, by in-place quickselect (Hoare partition,
 * median-of-three pivot): O(len), where a typed-array sort of a short array costs several
 * microseconds — the bootstrap takes one median per n per resample. Reorders `a`.
 */
export function selectInPlace(a: Float64Array, len: number, k: number): number {
  let lo = 0;
  let hi = len - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three to the middle
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/** Median (type 7) of the first `len` values by quickselect; reorders `a`. */
export function medianInPlace(a: Float64Array, len: number): number {
  const k = (len - 1) >>> 1;
  const lo = selectInPlace(a, len, k);
  if (len % 2 === 1) return lo;
  // after selection everything right of k is ≥ a[k]: the upper middle is their minimum
  let hi = Infinity;
  for (let i = k + 1; i < len; i++) if (a[i] < hi) hi = a[i];
  return lo + 0.5 * (hi - lo);
}

/**
 * Statistics of one metric at one n.
 * @param n the sample size
 * @param values the replications' finite values (any order; not modified)
 * @throws Error when `values` is empty or holds a non-finite number
 */
export function summarisePoint(n: number, values: ArrayLike<number>): PointSummary {
  const len = values.length;
  if (len === 0) throw new Error(`summarisePoint: no values at n = ${n}`);
  const sorted = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < len; i++) {
    if (!Number.isFinite(sorted[i]))
      throw new Error(`summarisePoint: values[${i}] must be finite at n = ${n}. Value: ${sorted[i]}`);
  }
  sorted.sort();
  return {
    n,
    count: len,
    mean: meanOf(sorted),
    median: medianSorted(sorted),
    q05: quantileSorted(sorted, 0.05),
    q25: quantileSorted(sorted, 0.25),
    q75: quantileSorted(sorted, 0.75),
    q95: quantileSorted(sorted, 0.95),
  };
}
