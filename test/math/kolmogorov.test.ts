/** The Kolmogorov–Smirnov test against U(0, 1): the limit law's tabulated quantiles, D on a hand case, its level on uniform draws. */
import { describe, expect, it } from 'vitest';
import { kolmogorovSurvival, ksUniform } from '../../src/math/kolmogorov.js';
import { createRng } from '../../src/random/rng.js';

describe('kolmogorovSurvival', () => {
  it("gives the limit law's tabulated upper quantiles (Smirnov's table: √n D at 10 %, 5 %, 2.5 %, 1 %, 0.1 %)", () => {
    for (const [lambda, p] of [
      [1.2239, 0.1],
      [1.3581, 0.05],
      [1.4802, 0.025],
      [1.6276, 0.01],
      [1.9495, 0.001],
      [0.8276, 0.5],
    ] as const)
      expect(Math.abs(kolmogorovSurvival(lambda) - p), `λ = ${lambda}`).toBeLessThan(2e-4 * Math.max(1, 10 * p));
  });

  it('is continuous where it changes series (λ = 1), decreasing, 1 at 0 and NaN for NaN', () => {
    expect(Math.abs(kolmogorovSurvival(1 - 1e-12) - kolmogorovSurvival(1))).toBeLessThan(1e-11);
    let last = 1;
    for (let l = 0.05; l < 4; l += 0.05) {
      const v = kolmogorovSurvival(l);
      expect(v).toBeLessThanOrEqual(last);
      last = v;
    }
    expect(kolmogorovSurvival(0)).toBe(1);
    expect(kolmogorovSurvival(-1)).toBe(1);
    expect(kolmogorovSurvival(NaN)).toBeNaN();
  });
});

describe('ksUniform', () => {
  it('computes D = sup |F_n(u) − u| on a hand case, in any order', () => {
    // steps at 0.1, 0.5, 0.9: the largest gaps are 1/3 − 0.1 and 0.9 − 2/3
    for (const u of [
      [0.1, 0.5, 0.9],
      [0.9, 0.1, 0.5],
    ]) {
      const r = ksUniform(u);
      expect(r.n).toBe(3);
      expect(r.statistic).toBeCloseTo(1 / 3 - 0.1, 15);
    }
    expect(ksUniform([0.5]).statistic).toBe(0.5);
    // all low: the empirical CDF runs above u, D = 1 − 0.2 at the last step
    expect(ksUniform([0.2, 0.05, 0.1]).statistic).toBeCloseTo(0.8, 15);
    // all high: it runs below, D = 0.95 − 0 at the first
    expect(ksUniform([0.95, 0.99, 0.97]).statistic).toBeCloseTo(0.95, 15);
  });

  it("small n: Stephens' correction gives the exact table's level (n = 10: D = 0.40925 is the 5 % point, 0.48893 the 1 %)", () => {
    // the smallest value carries D (u − 0/n), the others rise below the diagonal's bound
    const at = (D: number) => [D, ...Array.from({ length: 9 }, (_, i) => D + ((i + 1) * (1 - D) * 0.999) / 9)];
    const five = ksUniform(at(0.40925));
    expect(five.statistic).toBe(0.40925);
    expect(Math.abs(five.pValue - 0.05)).toBeLessThan(0.003);
    expect(Math.abs(ksUniform(at(0.48893)).pValue - 0.01)).toBeLessThan(0.001);
  });

  it('rejects uniform draws at about its level (n = 50, 2 000 seeded samples: 5 % ± 1.5 %)', () => {
    const rng = createRng(11);
    let at5 = 0;
    let at1 = 0;
    for (let r = 0; r < 2000; r++) {
      const u = Float64Array.from({ length: 50 }, () => rng.uniform());
      const p = ksUniform(u).pValue;
      if (p < 0.05) at5++;
      if (p < 0.01) at1++;
    }
    expect(Math.abs(at5 / 2000 - 0.05)).toBeLessThan(0.015);
    expect(Math.abs(at1 / 2000 - 0.01)).toBeLessThan(0.007);
  });

  it('rejects a shifted sample', () => {
    const rng = createRng(12);
    const u = Float64Array.from({ length: 200 }, () => rng.uniform() ** 1.5);
    expect(ksUniform(u).pValue).toBeLessThan(1e-3);
  });

  it('refuses an empty sample and values outside [0, 1], naming the index', () => {
    expect(() => ksUniform([])).toThrow('ksUniform: the sample is empty');
    expect(() => ksUniform([0.2, NaN])).toThrow('ksUniform: u[1] must be in [0, 1]. Value: NaN');
    expect(() => ksUniform([1.5])).toThrow('u[0] must be in [0, 1]. Value: 1.5');
  });
});
