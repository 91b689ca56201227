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
import { meanOf, medianInPlace, quantileSorted } from './stats.js';

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
  return fitRatesJoint([{ groups, onResample: options.onResample }], options)[0];
}

/** One metric of a joint fit: its groups and an optional per-resample hook (see BootstrapOptions.onResample). */
export interface JointMetric {
  groups: SlopeGroup[];
  onResample?: (meanCurve: Float64Array, n: Float64Array) => void;
}

/**
 * No interval where an n of the fit has a single replication: resampling it gives it back, so the interval
 * would be too narrow (of width 0 when every n has one). Says which n.
 */
function dropSingleReplication(
  fit: SlopeFit,
  what: string,
  use: readonly number[],
  groups: readonly SlopeGroup[],
  warnings: string[],
): void {
  const single = use.filter((g) => groups[g]!.values.length < 2).map((g) => groups[g]!.n);
  if (single.length === 0 || use.length < 2) return;
  fit.ci = [NaN, NaN];
  fit.ciDroppingSmallest = [NaN, NaN];
  warnings.push(
    `${what} curve: no interval — the bootstrap resamples the replications at each n, and n = ${single.join(', ')} ${single.length === 1 ? 'has' : 'have'} only one replication`,
  );
}

/**
 * {@link fitRates} for several metrics of the same cells in one pass: every resample draws the
 * replication indices once and applies them to all metrics (a joint bootstrap). Each metric's
 * result is exactly what fitRates gives it alone with the same options, since fitRates draws
 * the same indices; the pass only saves the draws.
 * @param metrics metrics with identical n and identical value counts per n
 * @throws Error when the metrics' n or counts differ, or as fitRates
 */
export function fitRatesJoint(metrics: JointMetric[], options: Omit<BootstrapOptions, 'onResample'> = {}): RateFits[] {
  const B = options.B ?? 1000;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(B) || B < 0) throw new Error(`bootstrap B must be a non-negative integer. Value: ${B}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap level must be in (0, 1). Value: ${level}`);
  if (metrics.length === 0) return [];
  const groups0 = metrics[0].groups;
  const G = groups0.length;
  metrics.forEach((m, k) => {
    const pre = metrics.length > 1 ? `metrics[${k}].` : '';
    if (m.groups.length !== G)
      throw new Error(`${pre}groups must have ${G} entries like metrics[0]. Value: ${m.groups.length}`);
    for (let g = 0; g < G; g++) {
      const { n, values } = m.groups[g];
      if (!(n > 1)) throw new Error(`${pre}groups[${g}].n must be > 1 (log n is fitted). Value: ${n}`);
      if (g > 0 && !(n > m.groups[g - 1].n))
        throw new Error(`${pre}groups must be ascending in n. Value: ${m.groups[g - 1].n} then ${n}`);
      if (values.length === 0) throw new Error(`${pre}groups[${g}].values is empty (n = ${n})`);
      if (n !== groups0[g].n || values.length !== groups0[g].values.length) {
        throw new Error(
          `${pre}groups[${g}] must have n and count of metrics[0]. Value: n = ${n}, ${values.length} values`,
        );
      }
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i]))
          throw new Error(`${pre}groups[${g}].values[${i}] must be finite. Value: ${values[i]}`);
      }
    }
  });
  const maxLen = groups0.reduce((m, g) => Math.max(m, g.values.length), 0);
  const buf = new Float64Array(maxLen);
  const logN = Float64Array.from(groups0, (g) => Math.log(g.n));
  const K = metrics.length;

  // point estimates and the fixed set of n each fit can use (positive statistic)
  const state = metrics.map(({ groups, onResample }) => {
    const warnings: string[] = [];
    const meanAll = new Float64Array(G);
    const medAll = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      const v = groups[g].values;
      buf.set(v);
      const s = buf.subarray(0, v.length).sort();
      meanAll[g] = meanOf(s);
      medAll[g] = quantileSorted(s, 0.5);
    }
    const useMean = indicesWhere(meanAll, (v) => v > 0);
    const useMed = indicesWhere(medAll, (v) => v > 0);
    noteDropped(groups, meanAll, useMean, 'mean', warnings);
    noteDropped(groups, medAll, useMed, 'median', warnings);
    if (useMean.length < 2) warnings.push(`mean curve: ${useMean.length} usable n, a slope needs at least 2`);
    if (useMed.length < 2) warnings.push(`median curve: ${useMed.length} usable n, a slope needs at least 2`);
    if (useMean.length === 2) warnings.push('only 2 usable n: the slope with the smallest n dropped is undefined');
    return {
      groups,
      onResample: useMean.length >= 2 ? onResample : undefined,
      warnings,
      useMean,
      useMed,
      mean: pointFit(logN, meanAll, useMean),
      median: pointFit(logN, medAll, useMed),
      nMean: useMean.map((g) => groups[g].n),
      active: useMean.length >= 2 || useMed.length >= 2,
      slopes: [0, 1, 2, 3].map(() => new Float64Array(B)),
      counts: [0, 0, 0, 0],
      meanB: new Float64Array(G),
      medB: new Float64Array(G),
      curve: new Float64Array(useMean.length),
      curveN: Float64Array.from(useMean, (g) => groups[g].n),
    };
  });

  if (B > 0 && state.some((st) => st.active)) {
    const rng = createRng(options.seed ?? 1);
    const idx = new Int32Array(maxLen);
    const xs = new Float64Array(G);
    const ys = new Float64Array(G);
    for (let b = 0; b < B; b++) {
      for (let g = 0; g < G; g++) {
        const len = groups0[g].values.length;
        for (let i = 0; i < len; i++) idx[i] = rng.int(len);
        for (let k = 0; k < K; k++) {
          const st = state[k];
          const v = st.groups[g].values;
          let s = 0;
          for (let i = 0; i < len; i++) {
            const x = v[idx[i]];
            buf[i] = x;
            s += x;
          }
          st.meanB[g] = s / len;
          st.medB[g] = medianInPlace(buf, len);
        }
      }
      for (let k = 0; k < K; k++) {
        const st = state[k];
        if (!st.active) continue;
        for (let t = 0; t < 4; t++) {
          const use = t < 2 ? st.useMean : st.useMed;
          const stat = t < 2 ? st.meanB : st.medB;
          const start = t % 2; // odd t: smallest n dropped
          if (use.length - start < 2) continue;
          let ok = true;
          let len = 0;
          for (let j = start; j < use.length; j++) {
            const val = stat[use[j]];
            if (!(val > 0)) {
              ok = false;
              break;
            }
            xs[len] = logN[use[j]];
            ys[len++] = Math.log(val);
          }
          if (!ok) continue;
          const slope = ols(xs, ys, len).slope;
          if (Number.isFinite(slope)) st.slopes[t][st.counts[t]++] = slope;
        }
        if (st.onResample) {
          for (let j = 0; j < st.useMean.length; j++) st.curve[j] = st.meanB[st.useMean[j]];
          st.onResample(st.curve, st.curveN);
        }
      }
    }
    const a = (1 - level) / 2;
    for (const st of state) {
      const ci = (t: number): [number, number] => {
        const c = st.counts[t];
        if (c === 0) return [NaN, NaN];
        const srt = st.slopes[t].subarray(0, c).sort();
        return [quantileSorted(srt, a), quantileSorted(srt, 1 - a)];
      };
      st.mean.ci = ci(0);
      st.mean.ciDroppingSmallest = ci(1);
      st.median.ci = ci(2);
      st.median.ciDroppingSmallest = ci(3);
      for (const [t, what, use, fit] of [
        [0, 'mean', st.useMean, st.mean],
        [2, 'median', st.useMed, st.median],
      ] as const) {
        dropSingleReplication(fit, what, use, st.groups, st.warnings);
        if (use.length >= 2 && st.counts[t] < B) {
          st.warnings.push(
            `${what} curve: ${B - st.counts[t]} of ${B} bootstrap resamples had a non-positive statistic and were skipped`,
          );
        }
      }
    }
  }
  return state.map((st) => ({ mean: st.mean, median: st.median, nMean: st.nMean, warnings: st.warnings }));
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
