/** slope(b) − slope(a) with a bootstrap that resamples shared cells as pairs (gmoe compare's Δ column). */
import { describe, expect, it } from 'vitest';
import { slopeDifference, type DifferenceCell } from '../../src/experiments/analysis/slope-difference.js';
import { fitRates, type SlopeGroup } from '../../src/experiments/analysis/slope.js';
import { createRng } from '../../src/random/rng.js';

const N = [1000, 3000, 10000, 30000];

/** `reps` cells per n with seeds from `seed0`: c·n^rate times log-normal noise (the noise drawn from `draw`). */
function cells(reps: number, seed0: number, rate: number, draw: () => number): DifferenceCell[] {
  return N.flatMap((n, g) =>
    Array.from({ length: reps }, (_, r) => ({
      n,
      seed: seed0 + 1000 * g + r,
      value: 2 * n ** rate * Math.exp(0.5 * draw()),
    })),
  );
}

const groupsOf = (c: DifferenceCell[]): SlopeGroup[] =>
  N.map((n) => ({ n, values: Float64Array.from(c.filter((x) => x.n === n).map((x) => x.value)) }));

describe('slopeDifference', () => {
  it("its point value is the difference of the runs' own slopes, on the median or the mean curve", () => {
    const rng = createRng(3);
    const a = cells(30, 0, -0.5, () => rng.normal());
    const b = cells(45, 0, -0.25, () => rng.normal()); // its first 30 cells per n share a's seeds
    for (const curve of ['median', 'mean'] as const) {
      const d = slopeDifference(a, b, { curve, B: 200 })!;
      const fa = fitRates(groupsOf(a), { B: 0 })[curve].slope;
      const fb = fitRates(groupsOf(b), { B: 0 })[curve].slope;
      expect(d.difference).toBeCloseTo(fb - fa, 12);
      expect([d.shared, d.own]).toEqual([120, [0, 60]]);
      expect(d.ci[0]).toBeLessThan(d.difference);
      expect(d.ci[1]).toBeGreaterThan(d.difference);
    }
  });

  it('shared cells are resampled as pairs: a common factor per cell cancels, where independent draws see only noise', () => {
    // b = a · n^−0.1 cell by cell: every paired resample gives exactly −0.1 on the median curve (the factor
    // is the same for every cell of an n); the same values under other seeds are resampled independently
    const rng = createRng(11);
    const a = cells(40, 0, -0.5, () => rng.normal());
    const b = a.map((c) => ({ ...c, value: c.value * c.n ** -0.1 }));
    const paired = slopeDifference(a, b, { curve: 'median', B: 300 })!;
    expect(paired.difference).toBeCloseTo(-0.1, 12);
    expect(paired.ci[0]).toBeCloseTo(-0.1, 10);
    expect(paired.ci[1]).toBeCloseTo(-0.1, 10);
    expect(paired.shared).toBe(160);
    const apart = slopeDifference(
      a,
      b.map((c) => ({ ...c, seed: c.seed + 1e6 })),
      { curve: 'median', B: 300 },
    )!;
    expect(apart.difference).toBeCloseTo(-0.1, 12);
    expect([apart.shared, apart.own]).toEqual([0, [160, 160]]);
    expect(apart.ci[1] - apart.ci[0]).toBeGreaterThan(0.1);
    expect(apart.ci[0]).toBeLessThan(-0.1);
    expect(apart.ci[1]).toBeGreaterThan(-0.1);
  });

  it('covers 0 for two independent runs of the same law about as often as its level says', () => {
    const rng = createRng(7);
    let covered = 0;
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const a = cells(25, 0, -0.25, () => rng.normal());
      const b = cells(25, 1e6, -0.25, () => rng.normal());
      const d = slopeDifference(a, b, { curve: 'median', B: 200, seed: t + 1 })!;
      if (d.ci[0] <= 0 && d.ci[1] >= 0) covered++;
    }
    // 95% nominal: 60 trials put ≥ 52 covered at ≈ 98% probability; an interval half as wide covers ≈ 66%
    expect(covered).toBeGreaterThanOrEqual(52);
  });

  it('is a pure function of the cells (any order), says what it skipped, and refuses a cell held twice', () => {
    const rng = createRng(5);
    const a = cells(10, 0, -0.5, () => rng.normal());
    const b = cells(10, 0, -0.5, () => rng.normal());
    const d = slopeDifference(a, b, { curve: 'mean', B: 100, seed: 9 });
    expect(slopeDifference([...a].reverse(), [...b].reverse(), { curve: 'mean', B: 100, seed: 9 })).toEqual(d);
    expect(slopeDifference(a, b, { curve: 'mean', B: 0 })!.ci).toEqual([NaN, NaN]);
    // a curve with a single usable n has no slope
    expect(
      slopeDifference(
        a,
        b.filter((c) => c.n === 1000),
        { curve: 'mean' },
      ),
    ).toBeNull();
    // zeros at one n: resamples drawing only zeros there are skipped and counted
    const z = b.map((c, i) => (c.n === 1000 && i % 10 !== 0 ? { ...c, value: 0 } : c));
    const s = slopeDifference(a, z, { curve: 'mean', B: 200 })!;
    expect(s.skipped).toBeGreaterThan(0);
    expect(Number.isFinite(s.ci[0])).toBe(true);
    // one cell at a fitted n: no interval (resampling gives it back), as a summary's
    const lone = b.filter((c) => c.n !== 30000 || c.seed === 3000);
    expect(slopeDifference(a, lone, { curve: 'mean', B: 100 })!.ci).toEqual([NaN, NaN]);
    expect(() => slopeDifference([...a, a[0]!], b, { curve: 'mean' })).toThrow(
      /holds the cell \(n = 1000, seed 0\) twice/,
    );
  });
});
