import { describe, expect, it } from 'vitest';
import { compareLaws, fitInvLog, LawPreferenceCounter } from '../../src/experiments/analysis/index.js';
import { createRng, type Rng } from '../../src/random/rng.js';

const NS = [100, 300, 1000, 3000, 10000, 30000, 100000, 300000, 1000000];
const REPS = 20;

/** per-n means of `reps` replications of f(n)·exp(ε), ε ~ N(0, σ²) */
function meanCurve(rng: Rng, f: (n: number) => number, sigma: number): number[] {
  return NS.map((n) => {
    let s = 0;
    for (let i = 0; i < REPS; i++) s += f(n) * Math.exp(sigma * rng.normal());
    return s / REPS;
  });
}

describe('a + c/log n fit', () => {
  it('recovers a and c of noiseless data, and a pure c/log n', () => {
    const f = fitInvLog(
      NS,
      NS.map((n) => 0.05 + 2 / Math.log(n)),
    );
    expect(f.a).toBeCloseTo(0.05, 6);
    expect(f.c).toBeCloseTo(2, 5);
    expect(f.rss).toBeLessThan(1e-12);
    const g = fitInvLog(
      NS,
      NS.map((n) => 3 / Math.log(n)),
    );
    expect(g.a).toBeCloseTo(0, 6);
    expect(g.c).toBeCloseTo(3, 5);
  });

  it('keeps a ≥ 0 and c ≥ 0: increasing data give a flat fit (c = 0), fast decay gives a = 0', () => {
    const up = fitInvLog(
      NS,
      NS.map((n) => Math.log(n)),
    );
    expect(up.c).toBe(0);
    expect(up.a).toBeGreaterThan(0);
    const fast = fitInvLog(
      NS,
      NS.map((n) => n ** -1),
    );
    expect(fast.a).toBe(0);
    expect(fast.c).toBeGreaterThan(0);
  });

  it('rejects n ≤ 1 and non-positive values', () => {
    expect(() => fitInvLog([1, 10, 100], [1, 1, 1])).toThrow(/n\[0\] must be > 1/);
    expect(() => fitInvLog([10, 100, 1000], [1, 0, 1])).toThrow(/y\[1\] must be positive and finite. Value: 0/);
    expect(() => compareLaws([10, 100], [1, 2])).toThrow(/at least 3 sample sizes/);
  });
});

describe('power law vs a + c/log n', () => {
  // σ = 0.1 per replication, 20 per n, n over four decades. Each law, including the hard
  // case of a slow power law n^-0.1 (whose log-log curve is nearly as flat as 1/log n's), is
  // fitted on 50 seeded datasets and must be classified right in at least 90% of them
  // (about 99% measured; Binomial(50, 0.99) falls below 45 with probability < 1e-4).
  const cases: [string, (n: number) => number, 'power' | '1/log n'][] = [
    ['2·n^-0.5', (n) => 2 * n ** -0.5, 'power'],
    ['2·n^-0.1', (n) => 2 * n ** -0.1, 'power'],
    ['2/log n', (n) => 2 / Math.log(n), '1/log n'],
    ['0.2 + 2/log n', (n) => 0.2 + 2 / Math.log(n), '1/log n'],
  ];
  for (const [name, f, want] of cases) {
    it(`picks ${want} on ${name} data`, () => {
      const rng = createRng(77);
      let right = 0;
      for (let k = 0; k < 50; k++) {
        const c = compareLaws(NS, meanCurve(rng, f, 0.1));
        if (c.preferred === want) right++;
        expect(c.ratio > 1).toBe(c.preferred === '1/log n');
      }
      expect(right).toBeGreaterThanOrEqual(45);
    });
  }

  it('says by how much: the RSS ratio is large for clean data of either law', () => {
    const power = compareLaws(
      NS,
      NS.map((n) => 2 * n ** -0.5),
    );
    expect(power.rssPower).toBeLessThan(1e-20);
    expect(power.ratio).toBeLessThan(1e-6);
    const inv = compareLaws(
      NS,
      NS.map((n) => 2 / Math.log(n)),
    );
    expect(inv.rssInvLog).toBeLessThan(1e-12);
    expect(inv.ratio).toBeGreaterThan(1e3);
  });

  it('counts bootstrap-style curves that prefer each law', () => {
    const rng = createRng(3);
    const counter = new LawPreferenceCounter(NS);
    for (let k = 0; k < 10; k++) counter.add(meanCurve(rng, (n) => 2 / Math.log(n), 0.1));
    for (let k = 0; k < 10; k++) counter.add(meanCurve(rng, (n) => 2 * n ** -0.5, 0.1));
    counter.add(NS.map(() => 0)); // not positive: skipped
    expect(counter.total).toBe(20);
    expect(counter.fraction()).toBe(0.5);
  });
});
