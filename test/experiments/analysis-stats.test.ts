import * as ss from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { meanOf, quantileSorted, summarisePoint } from '../../src/experiments/analysis/index.js';
import { createRng } from '../../src/random/rng.js';

describe('per-n statistics', () => {
  it('quantiles, mean and median agree with simple-statistics for every sample size 1..41', () => {
    const rng = createRng(11);
    for (let len = 1; len <= 41; len++) {
      const v = Array.from({ length: len }, () => Math.exp(rng.normal()));
      const s = summarisePoint(1000, v);
      expect(s.count).toBe(len);
      expect(s.mean).toBeCloseTo(ss.mean(v), 14);
      expect(s.median).toBe(ss.median(v));
      expect(s.q05).toBe(ss.quantile(v, 0.05));
      expect(s.q25).toBe(ss.quantile(v, 0.25));
      expect(s.q75).toBe(ss.quantile(v, 0.75));
      expect(s.q95).toBe(ss.quantile(v, 0.95));
    }
  });

  it('interpolates linearly between order statistics (type 7)', () => {
    const x = [1, 2, 4, 8];
    // h = 3p: p = 0.5 → between x[1] and x[2]; p = 0.9 → 0.7 of the way from x[2] to x[3]
    expect(quantileSorted(x, 0.5)).toBe(3);
    expect(quantileSorted(x, 0.9)).toBeCloseTo(4 + 0.7 * 4, 14);
    expect(quantileSorted(x, 0)).toBe(1);
    expect(quantileSorted(x, 1)).toBe(8);
  });

  it('keeps a long sum exact (compensated mean)', () => {
    const v = new Float64Array(10001).fill(0.1);
    v[0] = 1e16;
    // naive summation loses every 0.1 against 1e16
    expect(meanOf(v)).toBeCloseTo((1e16 + 1000) / 10001, 0);
  });

  it('rejects empty input, p outside [0, 1] and non-finite values, naming them', () => {
    expect(() => summarisePoint(100, [])).toThrow(/no values at n = 100/);
    expect(() => quantileSorted([1, 2], 1.5)).toThrow(/p must be in \[0, 1\]. Value: 1.5/);
    expect(() => summarisePoint(100, [1, NaN])).toThrow(/values\[1\] must be finite at n = 100. Value: NaN/);
  });
});
