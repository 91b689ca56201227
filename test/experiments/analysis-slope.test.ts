import { describe, expect, it } from 'vitest';
import { fitRates, fitRatesJoint, medianInPlace, ols, type SlopeGroup } from '../../src/experiments/analysis/index.js';
import { quantileSorted } from '../../src/experiments/analysis/stats.js';
import { createRng, type Rng } from '../../src/random/rng.js';

const NS = [100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
const REPS = 20;
const SIGMA = 0.3;

/** loss = c·n^slope·exp(ε), ε ~ N(0, σ²), `reps` replications per n */
function powerData(rng: Rng, slope = -0.5, c = 2, sigma = SIGMA, reps = REPS, ns = NS): SlopeGroup[] {
  return ns.map((n) => ({
    n,
    values: Float64Array.from({ length: reps }, () => c * n ** slope * Math.exp(sigma * rng.normal())),
  }));
}

/** Delta-method sd of the OLS slope of log(mean of `reps` log-normals) on log n. */
function slopeSd(sigma = SIGMA, reps = REPS, ns = NS): number {
  const x = ns.map(Math.log);
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const sxx = x.reduce((a, b) => a + (b - mx) ** 2, 0);
  const varLogMean = (Math.exp(sigma * sigma) - 1) / reps;
  return Math.sqrt(varLogMean / sxx);
}

describe('ols', () => {
  it('recovers an exact line and its zero residual', () => {
    const l = ols([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(l.slope).toBeCloseTo(2, 14);
    expect(l.intercept).toBeCloseTo(1, 14);
    expect(l.rss).toBeCloseTo(0, 20);
    expect(Number.isNaN(ols([1, 1], [2, 3]).slope)).toBe(true);
  });
});

describe('fitRates', () => {
  it('returns the exponent of noisy power-law data within a few standard errors, mean and median', () => {
    const r = fitRates(powerData(createRng(7)), { B: 1000, seed: 3 });
    const sd = slopeSd();
    expect(Math.abs(r.mean.slope + 0.5)).toBeLessThan(4 * sd);
    expect(Math.abs(r.median.slope + 0.5)).toBeLessThan(6 * sd); // the median is noisier than the mean
    expect(Math.abs(r.mean.slopeDroppingSmallest + 0.5)).toBeLessThan(5 * sd);
    expect(r.mean.ci[0]).toBeLessThan(r.mean.slope);
    expect(r.mean.ci[1]).toBeGreaterThan(r.mean.slope);
    // prefactor: E[exp ε] = exp(σ²/2) multiplies c = 2 in the mean curve
    expect(Math.exp(r.mean.intercept)).toBeGreaterThan(2 * Math.exp((SIGMA * SIGMA) / 2) * Math.exp(-4 * sd * 5));
    expect(r.mean.nValues).toBe(NS.length);
    expect(r.warnings).toEqual([]);
  });

  it('covers the true exponent at about the stated 95% rate, with intervals of the right width', () => {
    const N = 200;
    const rng = createRng(2024);
    let covered = 0;
    let coveredDrop = 0;
    const slopes: number[] = [];
    let width = 0;
    for (let k = 0; k < N; k++) {
      const r = fitRates(powerData(rng), { B: 400, seed: k + 1 });
      if (r.mean.ci[0] <= -0.5 && -0.5 <= r.mean.ci[1]) covered++;
      const cd = r.mean.ciDroppingSmallest!;
      if (cd[0] <= -0.5 && -0.5 <= cd[1]) coveredDrop++;
      slopes.push(r.mean.slope);
      width += (r.mean.ci[1] - r.mean.ci[0]) / N;
    }
    // binomial tolerance: 3.5 sd of Binomial(N, 0.95) around N·0.95
    const tol = 3.5 * Math.sqrt(N * 0.95 * 0.05);
    expect(covered).toBeGreaterThanOrEqual(Math.floor(0.95 * N - tol));
    expect(coveredDrop).toBeGreaterThanOrEqual(Math.floor(0.95 * N - tol));
    // and not by being too wide: mean width ≈ 2·1.96·(sd of the slope across datasets);
    // the sd's relative standard error is 1/sqrt(2(N−1)), the bootstrap's own bias ≈ sqrt(19/20)
    const m = slopes.reduce((a, b) => a + b, 0) / N;
    const sdEmp = Math.sqrt(slopes.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1));
    const ratio = width / (2 * 1.96 * sdEmp);
    const rel = 3.5 / Math.sqrt(2 * (N - 1));
    expect(ratio).toBeGreaterThan(1 - rel - 0.05);
    expect(ratio).toBeLessThan(1 + rel);
    // the slope estimator is unbiased: mean within 4 standard errors of the truth
    expect(Math.abs(m + 0.5)).toBeLessThan((4 * sdEmp) / Math.sqrt(N));
  });

  it('is a pure function of (groups, B, seed)', () => {
    const g = powerData(createRng(5));
    const a = fitRates(g, { B: 200, seed: 9 });
    const b = fitRates(g, { B: 200, seed: 9 });
    const c = fitRates(g, { B: 200, seed: 10 });
    expect(b).toEqual(a);
    expect(c.mean.ci).not.toEqual(a.mean.ci);
    expect(c.mean.slope).toBe(a.mean.slope);
  });

  it('gives each metric of a joint pass exactly its separate result (same draws)', () => {
    const rng = createRng(12);
    const a = powerData(rng);
    const b = powerData(rng, -0.25, 1, 0.5);
    const joint = fitRatesJoint([{ groups: a }, { groups: b }], { B: 200, seed: 4 });
    expect(joint[0]).toEqual(fitRates(a, { B: 200, seed: 4 }));
    expect(joint[1]).toEqual(fitRates(b, { B: 200, seed: 4 }));
    const short = [{ n: 100, values: Float64Array.from([1]) }, ...a.slice(1)];
    expect(() => fitRatesJoint([{ groups: a }, { groups: short }])).toThrow(
      /metrics\[1\].groups\[0\] must have n and count of metrics\[0\]/,
    );
  });

  it('takes bootstrap medians by quickselect equal to the sorted median', () => {
    const rng = createRng(13);
    for (let len = 1; len <= 30; len++) {
      const v = Float64Array.from({ length: len }, () => Math.round(5 * rng.normal())); // ties included
      const sorted = Float64Array.from(v).sort();
      expect(medianInPlace(Float64Array.from(v), len)).toBe(quantileSorted(sorted, 0.5));
    }
  });

  it('detects the smallest-n instability of a curve that bends', () => {
    // flat at the first n, then n^-1/2: dropping it changes the slope a lot
    const g: SlopeGroup[] = [100, 1000, 10000, 100000].map((n, i) => ({
      n,
      values: Float64Array.from([1, 1.1, 0.9].map((v) => (i === 0 ? 0.001 * v : v * n ** -0.5))),
    }));
    const r = fitRates(g, { B: 100, seed: 1 });
    expect(r.mean.slopeDroppingSmallest).toBeCloseTo(-0.5, 1);
    expect(r.mean.slope).toBeGreaterThan(-0.3);
  });

  it('leaves out non-positive points with a warning, and gives NaN (with a warning) below two usable n', () => {
    const g: SlopeGroup[] = [
      { n: 100, values: Float64Array.from([0, 0, 0]) },
      { n: 1000, values: Float64Array.from([0.1, 0.2, 0.15]) },
      { n: 10000, values: Float64Array.from([0.05, 0.04, 0.06]) },
    ];
    const r = fitRates(g, { B: 50, seed: 1 });
    expect(r.nMean).toEqual([1000, 10000]);
    expect(r.mean.slope).toBeCloseTo(Math.log(0.05 / 0.15) / Math.log(10), 12);
    expect(r.warnings.join('\n')).toMatch(/statistic not positive at n = 100 \(0\)/);
    expect(r.warnings.join('\n')).toMatch(/smallest n dropped is undefined/);
    const one = fitRates([{ n: 100, values: Float64Array.from([1]) }], { B: 10 });
    expect(Number.isNaN(one.mean.slope)).toBe(true);
    expect(one.warnings.join('\n')).toMatch(/1 usable n, a slope needs at least 2/);
  });

  it('rejects unsorted groups, n ≤ 1 and non-finite values, naming them', () => {
    const v = Float64Array.from([1]);
    expect(() =>
      fitRates([
        { n: 1000, values: v },
        { n: 100, values: v },
      ]),
    ).toThrow(/ascending in n. Value: 1000 then 100/);
    expect(() => fitRates([{ n: 1, values: v }])).toThrow(/groups\[0\].n must be > 1/);
    expect(() => fitRates([{ n: 10, values: Float64Array.from([1, Infinity]) }])).toThrow(
      /groups\[0\].values\[1\] must be finite. Value: Infinity/,
    );
    expect(() => fitRates([], { B: -1 })).toThrow(/B must be a non-negative integer. Value: -1/);
  });
});

describe('ols residuals', () => {
  it('sums the squared residuals of every point, the first included', () => {
    // best line through (0, 1), (1, 0), (2, 0): slope −1/2, intercept 5/6; residuals 1/6, −1/3, 1/6
    const l = ols([0, 1, 2], [1, 0, 0]);
    expect(l.slope).toBeCloseTo(-0.5, 14);
    expect(l.intercept).toBeCloseTo(5 / 6, 14);
    expect(l.rss).toBeCloseTo(1 / 36 + 1 / 9 + 1 / 36, 14);
  });
});

describe('fitRates: what the tests above leave open', () => {
  it('uses seed 1 by default, and an interval of identical resamples sits at the exact slope', () => {
    const g = powerData(createRng(5));
    expect(fitRates(g, { B: 50 })).toEqual(fitRates(g, { B: 50, seed: 1 }));
    // replications that agree: every resample refits the same curve, so every bootstrap slope is −1/2
    const exact: SlopeGroup[] = [100, 1000, 10000].map((n) => ({
      n,
      values: Float64Array.from([n ** -0.5, n ** -0.5]),
    }));
    const r = fitRates(exact, { B: 10, seed: 3 });
    expect(r.mean.ci[0]).toBeCloseTo(-0.5, 12);
    expect(r.mean.ci[1]).toBeCloseTo(-0.5, 12);
    expect(r.median.ci[0]).toBeCloseTo(-0.5, 12);
    expect(r.median.ci[1]).toBeCloseTo(-0.5, 12);
    expect(r.warnings).toEqual([]);
  });

  it('bootstraps a mean curve of two usable n even when the median curve has fewer, and counts the skipped resamples', () => {
    // n = 100: median 0 (left out of the median fit), mean 1/4 > 0; a resample of four zeros has mean 0
    const g: SlopeGroup[] = [
      { n: 100, values: Float64Array.from([0, 0, 0, 1]) },
      { n: 1000, values: Float64Array.from([0.1, 0.2, 0.15, 0.12]) },
    ];
    const r = fitRates(g, { B: 50, seed: 2 });
    expect(r.nMean).toEqual([100, 1000]);
    expect(Number.isNaN(r.median.slope)).toBe(true);
    expect(Number.isFinite(r.mean.ci[0]) && Number.isFinite(r.mean.ci[1])).toBe(true);
    expect(r.warnings.join('\n')).toMatch(
      /mean curve: \d+ of 50 bootstrap resamples had a non-positive statistic and were skipped/,
    );
  });

  it('accepts n = 2, returns [] for no metrics, and rejects level 0 and an empty group', () => {
    const v = Float64Array.from([1, 2]);
    expect(() =>
      fitRates(
        [
          { n: 2, values: v },
          { n: 3, values: v },
        ],
        { B: 5 },
      ),
    ).not.toThrow();
    expect(fitRatesJoint([])).toEqual([]);
    expect(() => fitRates([{ n: 10, values: v }], { level: 0 })).toThrow(/level must be in \(0, 1\). Value: 0/);
    expect(() => fitRates([{ n: 10, values: new Float64Array(0) }])).toThrow(/groups\[0\].values is empty \(n = 10\)/);
  });
});
