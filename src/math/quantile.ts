/**
 * Quantiles of sorted samples, the linear-interpolation kind (Hyndman–Fan type 7, the default of R,
 * numpy and simple-statistics), so numbers here match what a researcher gets elsewhere. Shared by the
 * experiments' summaries and the bootstrap's percentile intervals.
 */

/**
 * Type-7 quantile of an ascending-sorted array: interpolates linearly between the order
 * statistics at floor((len − 1)p) and ceil((len − 1)p).
 * @param sorted ascending values (length ≥ 1; only the first `len` are read)
 * @param p probability in [0, 1]
 * @param len number of values to use (default sorted.length)
 * @throws Error when the array is empty or p is outside [0, 1]
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number, len: number = sorted.length): number {
  if (len < 1) throw new Error('quantileSorted: needs at least one value. Value: length 0');
  if (!(p >= 0 && p <= 1)) throw new Error(`quantileSorted: p must be in [0, 1]. Value: ${p}`);
  const h = (len - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, len - 1);
  const f = h - lo;
  return f === 0 ? sorted[lo] : sorted[lo] + f * (sorted[hi] - sorted[lo]);
}
