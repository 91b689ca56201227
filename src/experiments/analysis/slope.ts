/**
 * Power-law rate fits: ordinary least squares of log(value) on log(n) over the per-n mean and
 * median curves (THEORY.md §7), with a percentile bootstrap interval over replications and
 * the same fit with the smallest n dropped.
 *
 * Bootstrap: every resample redraws, independently at each n, as many replications as that
 * n has (with replacement), recomputes the mean and median curves and refits. Draws come
 * from one seeded generator per call and visit the n-groups in the order given, so the
 * interval is a pure function of (groups, B, seed).
 */
import { createRng } from '../../random/rng.js';
import type { SlopeFit } from '../types.js';
import { meanOf, quantileSorted } from './stats.js';

/** One n of a metric: its replications' finite values, in a fixed (e.g. replication) order. */
export interface SlopeGroup {
  n: number;
  values: Float64Array;
}

/** OLS line y = intercept + slope·x. */
export interface Line {
  slope: number;
  intercept: number;
  /** residual sum of squares */
  rss: number;
}

/**
 * Ordinary least squares of y on x over the first `len` points.
 * @returns NaN slope and intercept when fewer than two distinct x are given
 */
export function ols(x: ArrayLike<number>, y: ArrayLike<number>, len: number = x.length): Line {
  if (len < 2) return { slope: NaN, intercept: NaN, rss: NaN };
  let mx = 0;
  let my = 0;
  for (let i = 0; i < len; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= len;
  my /= len;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < len; i++) {
    const dx = x[i] - mx;
    sxx += dx * dx;
    sxy += dx * (y[i] - my);
  }
  if (!(sxx > 0)) return { slope: NaN, intercept: NaN, rss: NaN };
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let rss = 0;
  for (let i = 0; i < len; i++) {
    const r = y[i] - intercept - slope * x[i];
    rss += r * r;
  }
  return { slope, intercept, rss };
}

export interface BootstrapOptions {
  /** number of bootstrap resamples (default 1000; 0 disables the interval, which is then [NaN, NaN]) */
  B?: number;
  /** seed of the resampling generator, integer in [1, 2^32 − 1] (default 1) */
  seed?: number;
  /** interval level (default 0.95) */
  level?: number;
  /**
   * Called once per resample with the resampled mean curve over the fitted n (same order as
   * the fit's `n`), e.g. to bootstrap a law comparison on the same resamples. The array is
   * reused: copy what you keep.
   */
  onResample?: (meanCurve: Float64Array, n: Float64Array) => void;
}

/** Result of {@link fitRates}: the mean- and median-curve fits and what was left out. */
export interface RateFits {
  mean: SlopeFit;
  median: SlopeFit;
  /** sample sizes used by the mean fit (those with a positive mean), ascending */
  nMean: number[];
  /** plain-language notes about points or resamples left out */
  warnings: string[];
}

const EMPTY: SlopeFit = { slope: NaN, intercept: NaN, ci: [NaN, NaN], slopeDroppingSmallest: NaN };

/**
 * Fits log(statistic_n) = intercept + slope·log(n) for the mean and the median curves, with
 * percentile-bootstrap intervals for the slope (also for the slope with the smallest n dropped).
 * Points whose statistic is not positive cannot be logged: they are left out and reported in
 * `warnings`. Fewer than two usable n give NaN fits and a warning.
 * @param groups one entry per n, n ascending and distinct, each with ≥ 1 finite value
 * @throws Error when groups are not ascending in n, or hold a non-finite value
 */
export function fitRates(groups: SlopeGroup[], options: BootstrapOptions = {}): RateFits {
  const B = options.B ?? 1000;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(B) || B < 0) throw new Error(`bootstrap B must be a non-negative integer. Value: ${B}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap level must be in (0, 1). Value: ${level}`);
  for (let g = 0; g < groups.length; g++) {
    const { n, values } = groups[g];
    if (!(n > 1)) throw new Error(`groups[${g}].n must be > 1 (log n is fitted). Value: ${n}`);
    if (g > 0 && !(n > groups[g - 1].n)) throw new Error(`groups must be ascending in n. Value: ${groups[g - 1].n} then ${n}`);
    if (values.length === 0) throw new Error(`groups[${g}].values is empty (n = ${n})`);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new Error(`groups[${g}].values[${i}] must be finite. Value: ${values[i]}`);
    }
  }
  const warnings: string[] = [];
  const G = groups.length;
  const maxLen = groups.reduce((m, g) => Math.max(m, g.values.length), 0);
  const buf = new Float64Array(maxLen);
  const meanAll = new Float64Array(G);
  const medAll = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    const v = groups[g].values;
    buf.set(v);
    const s = buf.subarray(0, v.length).sort();
    meanAll[g] = meanOf(s);
    medAll[g] = quantileSorted(s, 0.5);
  }
  // Only n whose statistic is positive can enter a log fit; the set is fixed for all resamples.
  const useMean = indicesWhere(meanAll, (v) => v > 0);
  const useMed = indicesWhere(medAll, (v) => v > 0);
  noteDropped(groups, meanAll, useMean, 'mean', warnings);
  noteDropped(groups, medAll, useMed, 'median', warnings);
  const logN = Float64Array.from(groups, (g) => Math.log(g.n));

  const meanFit = pointFit(logN, meanAll, useMean);
  const medFit = pointFit(logN, medAll, useMed);
  const nMean = useMean.map((g) => groups[g].n);
  if (useMean.length < 2) warnings.push(`mean curve: ${useMean.length} usable n, a slope needs at least 2`);
  if (useMed.length < 2) warnings.push(`median curve: ${useMed.length} usable n, a slope needs at least 2`);
  if (useMean.length === 2) warnings.push('only 2 usable n: the slope with the smallest n dropped is undefined');

  if (B > 0 && (useMean.length >= 2 || useMed.length >= 2)) {
    const rng = createRng(options.seed ?? 1);
    const slopes = [new Float64Array(B), new Float64Array(B), new Float64Array(B), new Float64Array(B)];
    const counts = [0, 0, 0, 0];
    const meanB = new Float64Array(G);
    const medB = new Float64Array(G);
    const xs = new Float64Array(G);
    const ys = new Float64Array(G);
    const curve = new Float64Array(useMean.length);
    const curveN = Float64Array.from(nMean);
    for (let b = 0; b < B; b++) {
      for (let g = 0; g < G; g++) {
        const v = groups[g].values;
        const len = v.length;
        let s = 0;
        for (let i = 0; i < len; i++) {
          const x = v[rng.int(len)];
          buf[i] = x;
          s += x;
        }
        meanB[g] = s / len;
        medB[g] = quantileSorted(buf.subarray(0, len).sort(), 0.5);
      }
      const stats = [meanB, meanB, medB, medB];
      const uses = [useMean, useMean, useMed, useMed];
      for (let t = 0; t < 4; t++) {
        const idx = uses[t];
        const start = t % 2 === 1 ? 1 : 0; // odd t: smallest n dropped
        if (idx.length - start < 2) continue;
        let ok = true;
        let len = 0;
        for (let j = start; j < idx.length; j++) {
          const val = stats[t][idx[j]];
          if (!(val > 0)) {
            ok = false;
            break;
          }
          xs[len] = logN[idx[j]];
          ys[len++] = Math.log(val);
        }
        if (!ok) continue;
        const slope = ols(xs, ys, len).slope;
        if (Number.isFinite(slope)) slopes[t][counts[t]++] = slope;
      }
      if (options.onResample && useMean.length >= 2) {
        for (let j = 0; j < useMean.length; j++) curve[j] = meanB[useMean[j]];
        options.onResample(curve, curveN);
      }
    }
    const a = (1 - level) / 2;
    const ci = (t: number): [number, number] => {
      const c = counts[t];
      if (c === 0) return [NaN, NaN];
      const s = slopes[t].subarray(0, c).sort();
      return [quantileSorted(s, a), quantileSorted(s, 1 - a)];
    };
    meanFit.ci = ci(0);
    meanFit.ciDroppingSmallest = ci(1);
    medFit.ci = ci(2);
    medFit.ciDroppingSmallest = ci(3);
    for (const [t, what] of [[0, 'mean'], [2, 'median']] as const) {
      const usable = (t === 0 ? useMean : useMed).length >= 2;
      if (usable && counts[t] < B) {
        warnings.push(`${what} curve: ${B - counts[t]} of ${B} bootstrap resamples had a non-positive statistic and were skipped`);
      }
    }
  }
  return { mean: meanFit, median: medFit, nMean, warnings };
}

function pointFit(logN: Float64Array, stat: Float64Array, use: number[]): SlopeFit {
  if (use.length < 2) return { ...EMPTY, ci: [NaN, NaN] };
  const x = use.map((g) => logN[g]);
  const y = use.map((g) => Math.log(stat[g]));
  const full = ols(x, y);
  const dropped = use.length >= 3 ? ols(x.slice(1), y.slice(1)).slope : NaN;
  return {
    slope: full.slope,
    intercept: full.intercept,
    ci: [NaN, NaN],
    slopeDroppingSmallest: dropped,
    nValues: use.length,
  };
}

function indicesWhere(a: Float64Array, pred: (v: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (pred(a[i])) out.push(i);
  return out;
}

function noteDropped(groups: SlopeGroup[], stat: Float64Array, use: number[], what: string, warnings: string[]): void {
  if (use.length === groups.length) return;
  const kept = new Set(use);
  const left: string[] = [];
  for (let g = 0; g < groups.length; g++) if (!kept.has(g)) left.push(`${groups[g].n} (${stat[g]})`);
  warnings.push(`${what} curve: left out of the log-log fit, statistic not positive at n = ${left.join(', ')}`);
}
