import { describe, expect, it } from 'vitest';
import { expertMeans, gateProbs } from '../../src/models/density.js';
import { activeSet } from '../../src/models/gates/index.js';
import { listTruthPresets, truthPreset } from '../../src/models/presets.js';
import { sampleDesign, simulate, type Design } from '../../src/models/sample.js';
import { createRng } from './helpers.js';

describe('simulate: reproducibility', () => {
  it('the same seed gives identical data, a different seed different data', () => {
    for (const p of listTruthPresets()) {
      const m = p.model();
      for (const design of ['uniform', 'normal'] as Design[]) {
        const a = simulate(m, { n: 300, seed: 7, design });
        const b = simulate(m, { n: 300, seed: 7, design });
        expect(a.X).toEqual(b.X);
        expect(a.y).toEqual(b.y);
        expect(a.z).toEqual(b.z);
        const c = simulate(m, { n: 300, seed: 8, design });
        expect(c.y).not.toEqual(a.y);
      }
    }
  });

  it('pins the stream: the same numbers on every machine (MT19937 + stdlib ziggurat)', () => {
    const a = simulate(truthPreset('demy'), { n: 3, seed: 7 });
    expect(Array.from(a.X)).toEqual([0.7799187922401146, 0.4384092314408935, 0.7234651778309412]);
    expect(Array.from(a.y)).toEqual([-0.568882381352259, 5.721368343177414, 0.530479077273906]);
    expect(Array.from(a.z)).toEqual([0, 0, 0]);
    const b = simulate(truthPreset('d2'), { n: 2, seed: 4294967295, design: 'normal' });
    expect(Array.from(b.X)).toEqual([1.8631948295606169, 0.6900640993598626, 0.6032121013603621, -2.0077390659895356]);
    expect(Array.from(b.y)).toEqual([-1.9460729432456956, -2.0283449682384815]);
  });

  it('rejects bad n, seed, design and invalid models with a message naming the field', () => {
    const m = truthPreset('demy');
    expect(() => simulate(m, { n: 0, seed: 1 })).toThrow(/n must be an integer in \[1, 1073741824\]. Value: 0/);
    expect(() => simulate(m, { n: 2.5, seed: 1 })).toThrow(/n must be an integer in \[1, 1073741824\]. Value: 2.5/);
    expect(() => simulate(m, { n: 5, seed: 0 })).toThrow(/seed must be an integer in \[1, 4294967295\]. Value: 0/);
    expect(() => simulate(m, { n: 5, seed: 2 ** 32 })).toThrow(/seed must be an integer/);
    expect(() => simulate(m, { n: 5, seed: 1, design: 'sobol' as Design })).toThrow(
      /design must be one of uniform, grid, normal. Value: sobol/,
    );
    expect(() => simulate(truthPreset('d2'), { n: 5, seed: 1, design: 'grid' })).toThrow(
      /design "grid" needs d = 1. Value: d = 2/,
    );
    const bad = truthPreset('demy');
    bad.nu[1] = -1;
    expect(() => simulate(bad, { n: 5, seed: 1 })).toThrow(/experts.nu\[1\] must be > 0 \(a variance\). Value: -1/);
  });
});

describe('designs', () => {
  it('grid is linspace(0, 1, n)', () => {
    const X = sampleDesign('grid', 5, 1, createRng(1));
    expect(Array.from(X)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(Array.from(sampleDesign('grid', 1, 1, createRng(1)))).toEqual([0]);
  });

  it('uniform lies in [0, 1) with mean ½ and variance 1/12 (within 4 standard errors)', () => {
    const n = 20000;
    const d = 2;
    const X = sampleDesign('uniform', n, d, createRng(3));
    let s = 0;
    let s2 = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of X) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      s += v;
      s2 += (v - 0.5) ** 2;
    }
    const N = n * d;
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // sd of the mean: sqrt(1/12 / N); sd of the mean of (U − ½)²: sqrt(Var)/sqrt(N) with Var = 1/80 − 1/144
    expect(Math.abs(s / N - 0.5)).toBeLessThanOrEqual(4 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(s2 / N - 1 / 12)).toBeLessThanOrEqual(4 * Math.sqrt((1 / 80 - 1 / 144) / N));
  });

  it('normal has mean 0 and variance 1 (within 4 standard errors)', () => {
    const N = 40000;
    const X = sampleDesign('normal', N, 1, createRng(4));
    let s = 0;
    let s2 = 0;
    for (const v of X) {
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / N)).toBeLessThanOrEqual(4 / Math.sqrt(N));
    // Var(Z²) = 2
    expect(Math.abs(s2 / N - 1)).toBeLessThanOrEqual(4 * Math.sqrt(2 / N));
  });
});

describe('simulate: the draws follow the model', () => {
  const n = 20000;
  for (const name of ['demy', 'topk1', 'temp', 'temp-tanh', 'temp-sigmoid', 'd2', 'k3']) {
    it(`${name}: expert frequencies, conditional means and residual variances match (z-tests at 4σ)`, () => {
      const m = truthPreset(name);
      const data = simulate(m, { n, seed: 2024 });
      const { X, y, z, d } = data;
      const k = m.k;
      const p = gateProbs(m, X, n);
      const mu = expertMeans(m, X, n);

      // given X, z_i ~ Categorical(π(x_i)) independently: count_j has mean Σ π_ij and variance Σ π_ij(1 − π_ij)
      for (let j = 0; j < k; j++) {
        let count = 0;
        let mean = 0;
        let variance = 0;
        for (let i = 0; i < n; i++) {
          const pij = p[i * k + j]!;
          if (z[i] === j) count++;
          mean += pij;
          variance += pij * (1 - pij);
        }
        expect(Math.abs(count - mean)).toBeLessThanOrEqual(4 * Math.sqrt(variance) + 1e-9);
      }

      // E[Y − m(x)] = 0 with Var(Y|x) = Σ π(ν + μ²) − m(x)², over the whole sample and on two halves of x1
      const halves = [0, 0, 0, 0]; // [sum resid, sum var] for x1 < ½ and x1 ≥ ½
      const sums = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) {
        let cm = 0;
        let second = 0;
        for (let j = 0; j < k; j++) {
          cm += p[i * k + j]! * mu[i * k + j]!;
          second += p[i * k + j]! * (m.nu[j]! + mu[i * k + j]! ** 2);
        }
        const h = X[i * d]! < 0.5 ? 0 : 2;
        halves[h] += y[i]! - cm;
        halves[h + 1] += second - cm * cm;
        sums[0] += y[i]! - cm;
        sums[1] += second - cm * cm;
      }
      expect(Math.abs(sums[0]!)).toBeLessThanOrEqual(4 * Math.sqrt(sums[1]!));
      expect(Math.abs(halves[0]!)).toBeLessThanOrEqual(4 * Math.sqrt(halves[1]!));
      expect(Math.abs(halves[2]!)).toBeLessThanOrEqual(4 * Math.sqrt(halves[3]!));

      // given z, (y − a_z·x − b_z)/sqrt(ν_z) ~ N(0, 1): mean within 4/sqrt(n_j), mean square within 4·sqrt(2/n_j)
      for (let j = 0; j < k; j++) {
        let nj = 0;
        let s = 0;
        let s2 = 0;
        for (let i = 0; i < n; i++) {
          if (z[i] !== j) continue;
          const e = (y[i]! - mu[i * k + j]!) / Math.sqrt(m.nu[j]!);
          nj++;
          s += e;
          s2 += e * e;
        }
        if (nj < 30) continue; // an expert almost never drawn says nothing here (its count was tested above)
        expect(Math.abs(s / nj)).toBeLessThanOrEqual(4 / Math.sqrt(nj));
        expect(Math.abs(s2 / nj - 1)).toBeLessThanOrEqual(4 * Math.sqrt(2 / nj));
      }

      if (m.gate.kind === 'topk') {
        // an inactive expert is never drawn
        const mask = activeSet(m, X, n);
        for (let i = 0; i < n; i++) expect(mask[i * k + z[i]!]).toBe(1);
      }
    });
  }
});
