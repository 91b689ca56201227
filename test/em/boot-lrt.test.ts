/** The parametric-bootstrap likelihood-ratio test for the number of experts (src/em/boot-lrt.ts). */
import { describe, expect, it } from 'vitest';
import {
  bootPValue,
  bootSeed,
  bootstrapLRT,
  checkBootOptions,
  lrtStatistic,
  sequentialTests,
  type BootTest,
} from '../../src/em/boot-lrt.js';
import { selectK } from '../../src/em/select.js';
import type { FitResult } from '../../src/em/types.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { modelFromParams, type Dataset } from '../../src/models/types.js';

const asData = (s: Dataset): Dataset => ({ n: s.n, d: s.d, X: s.X, y: s.y });
const softmax = { kind: 'softmax' } as const;
// one expert: y = 2x + 1 + N(0, 0.25), the H0 of k0 = 1
const linear = modelFromParams(softmax, { beta0: [0], beta1: [[0]], a: [[2]], b: [1], nu: [0.25] });

describe('p-value and statistic', () => {
  it('p = (1 + #{T* ≥ T}) / (B + 1): ties count as exceeding', () => {
    expect(bootPValue(3, [1, 2, 3, 3, 5])).toEqual({ p: 4 / 6, exceed: 3 });
    expect(bootPValue(10, [1, 2, 3])).toEqual({ p: 1 / 4, exceed: 0 });
    expect(bootPValue(0, [0, 0, 1])).toEqual({ p: 1, exceed: 3 });
    expect(bootPValue(1, [])).toEqual({ p: 1, exceed: 0 });
  });

  it('T = 2(ℓ1 − ℓ0), clamped at 0 when the larger model ended below', () => {
    expect(lrtStatistic(-10, -7.5)).toBe(5);
    expect(lrtStatistic(-10, -10.5)).toBe(0);
  });
});

describe('sequentialTests', () => {
  const stub = (ps: Record<number, number>, alpha: number, seen: number[]) => (k0: number) => {
    seen.push(k0);
    const p = ps[k0]!;
    return { k0, k1: k0 + 1, p, rejected: p <= alpha } as BootTest;
  };

  it('stops at the first k0 not rejected (p > alpha); p = alpha rejects', () => {
    const seen: number[] = [];
    const r = sequentialTests([1, 2, 3, 4, 5], 0.05, stub({ 1: 0.01, 2: 0.05, 3: 0.3, 4: 0.01 }, 0.05, seen));
    expect(seen).toEqual([1, 2, 3]);
    expect(r.tests.map((t) => t.k0)).toEqual([1, 2, 3]);
    expect([r.chosen, r.exhausted]).toEqual([3, false]);
  });

  it('every test rejected: the largest k, exhausted', () => {
    const seen: number[] = [];
    const r = sequentialTests([2, 3, 4], 0.05, stub({ 2: 0.01, 3: 0.02 }, 0.05, seen));
    expect(seen).toEqual([2, 3]);
    expect([r.chosen, r.exhausted]).toEqual([4, true]);
  });

  it('checks B, alpha and the k', () => {
    expect(() => checkBootOptions([1, 2], 18, 0.05)).toThrow(/^B must be an integer ≥ 19\. Value: 18$/);
    expect(() => checkBootOptions([1, 2], 19.5, 0.05)).toThrow(/^B must be an integer ≥ 19/);
    expect(() => checkBootOptions([1, 2], 19, 0)).toThrow(/^alpha must lie in \(0, 1\)/);
    expect(() => checkBootOptions([1, 2], 19, 1)).toThrow(/^alpha must lie in \(0, 1\)/);
    expect(() => checkBootOptions([1, 2], 19, 0.01)).toThrow(/^B must be at least 99 at alpha = 0\.01/);
    expect(() => checkBootOptions([2], 19, 0.05)).toThrow(/^ks must hold at least two consecutive k/);
    expect(() => checkBootOptions([1, 3], 19, 0.05)).toThrow(/^ks must be consecutive/);
    expect(() => checkBootOptions([1, 2], 19, 0.05)).not.toThrow();
    expect(() => checkBootOptions([1, 2], 99, 0.01)).not.toThrow();
  });
});

describe('bootstrapLRT', () => {
  const demy = asData(simulate(truthPreset('demy'), { n: 500, seed: 3 }));
  const opts = { gate: softmax, ks: [1, 2, 3], B: 19, restarts: 2, seed: 5 };
  const r = bootstrapLRT(demy, opts);

  it('a well-separated 2-expert truth: k0 = 1 rejected with p = 1/(B + 1), k0 = 2 not: the test chooses 2', () => {
    expect(r.tests.map((t) => t.k0)).toEqual([1, 2]);
    const [t1, t2] = r.tests;
    expect(t1!.T).toBeGreaterThan(1000);
    expect([t1!.p, t1!.exceed, t1!.rejected]).toEqual([1 / 20, 0, true]);
    // y* from the one-expert fit: T*_b are of a few units, not of the observed T
    expect(Math.max(...t1!.Tstar)).toBeLessThan(50);
    expect(t2!.rejected).toBe(false);
    expect(t2!.p).toBeGreaterThan(0.05);
    expect([r.chosen, r.exhausted]).toEqual([2, false]);
    for (const t of r.tests) {
      expect(t.Tstar).toHaveLength(19);
      expect(t.failed).toBe(0);
      expect(Math.min(...t.Tstar)).toBeGreaterThanOrEqual(0);
      expect(t.p).toBe((1 + t.Tstar.filter((v) => v >= t.T).length) / 20);
    }
  });

  it("the observed fits are selectK's (seed S + k − 1): passing them gives the same result bit for bit", () => {
    const fits = new Map<number, FitResult>();
    const { B: _B, ...fitOpts } = opts;
    const sel = selectK(demy, { ...fitOpts, onFit: (row, fit) => fits.set(row.k, fit) });
    // the fits' own log-likelihoods (the table's are recomputed at the model: equal to ~1e-11)
    expect(r.tests[0]!.logLik0).toBe(fits.get(1)!.logLik);
    expect(r.tests[1]!.logLik1).toBe(fits.get(3)!.logLik);
    expect(r.tests[1]!.logLik1).toBeCloseTo(sel.rows[2]!.logLik, 6);
    expect(JSON.stringify(bootstrapLRT(demy, { ...opts, fits }))).toBe(JSON.stringify(r));
  });

  it('reproducible: same seed ⇒ same JSON; a test depends on (seed, k0, b) only; another seed ⇒ other T*', () => {
    expect(JSON.stringify(bootstrapLRT(demy, opts))).toBe(JSON.stringify(r));
    // the test of k0 = 2 alone (ks from 2) is the second test above
    const from2 = bootstrapLRT(demy, { ...opts, ks: [2, 3] });
    expect(from2.tests[0]).toEqual(r.tests[1]);
    const other = bootstrapLRT(demy, { ...opts, ks: [2, 3], seed: 6 });
    expect(other.tests[0]!.Tstar).not.toEqual(r.tests[1]!.Tstar);
    expect(new Set([bootSeed(5, 2, 0, 'draw'), bootSeed(5, 2, 0, 'fit0'), bootSeed(5, 2, 1, 'draw')]).size).toBe(3);
  });

  it('progress after each sample, per test', () => {
    const seen: string[] = [];
    bootstrapLRT(demy, { ...opts, ks: [1, 2], onProgress: (p) => seen.push(`${p.k0}:${p.done}/${p.total}`) });
    expect(seen).toEqual(Array.from({ length: 19 }, (_, b) => `1:${b + 1}/19`));
  });

  it('a one-expert truth: k0 = 1 not rejected', () => {
    const lin = asData(simulate(linear, { n: 200, seed: 1 }));
    const one = bootstrapLRT(lin, { gate: softmax, ks: [1, 2], B: 19, restarts: 2, seed: 1 });
    expect(one.tests[0]!.p).toBeGreaterThanOrEqual(0.05);
    expect(one.tests[0]!.rejected).toBe(false);
    expect([one.chosen, one.exhausted]).toEqual([1, false]);
  });

  it('calibration under H0 (10 data sets of the one-expert truth): the p-values spread over (0, 1)', () => {
    const ps = Array.from({ length: 10 }, (_, i) => {
      const lin = asData(simulate(linear, { n: 200, seed: 100 + i }));
      return bootstrapLRT(lin, { gate: softmax, ks: [1, 2], B: 19, restarts: 2, seed: 100 + i }).tests[0]!.p;
    });
    expect(ps.filter((p) => p <= 0.05).length).toBeLessThanOrEqual(3);
    expect(ps.some((p) => p < 0.5)).toBe(true);
    expect(ps.some((p) => p > 0.5)).toBe(true);
    expect(Math.max(...ps) - Math.min(...ps)).toBeGreaterThan(0.3);
  });
});
