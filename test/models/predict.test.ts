/** predictMoE: the conditional mean and sd against sampling, the posterior against the densities, top-K zeros. */
import { describe, expect, it } from 'vitest';
import { conditionalMean, pointwiseLogLikelihood, responsibilities } from '../../src/models/density.js';
import { predictMoE } from '../../src/models/predict.js';
import { truthPreset } from '../../src/models/presets.js';
import { sampleResponse } from '../../src/models/sample.js';
import { allGateSpecs, createRng, gateLabel, randomModel, randomX } from './helpers.js';

describe('predictMoE', () => {
  for (const gate of allGateSpecs(3)) {
    it(`${gateLabel(gate)}: mean, posterior and log-density are the density module's; expert is the argmax`, () => {
      const rng = createRng(11);
      const m = randomModel(gate, 3, 2, rng);
      const n = 200;
      const X = randomX(n, 2, rng);
      const { y } = sampleResponse(m, X, n, rng);
      const p = predictMoE(m, X, n, y);
      expect(p.mean).toEqual(conditionalMean(m, X, n));
      expect(p.posterior).toEqual(responsibilities(m, { n, d: 2, X, y }).resp);
      expect(p.logDensity).toEqual(pointwiseLogLikelihood(m, { n, d: 2, X, y }));
      for (let i = 0; i < n; i++) {
        const row = Array.from(p.posterior!.subarray(3 * i, 3 * i + 3));
        expect(p.expert![i]).toBe(row.indexOf(Math.max(...row)));
        // sd² = E[Y²] − mean², the textbook form (fine at these magnitudes)
        let ey2 = 0;
        for (let j = 0; j < 3; j++) ey2 += p.gate[3 * i + j]! * (m.nu[j]! + p.expertMean[3 * i + j]! ** 2);
        expect(p.sd[i]! ** 2).toBeCloseTo(ey2 - p.mean[i]! ** 2, 9);
        if (gate.kind === 'topk')
          for (let j = 0; j < 3; j++) if (p.gate[3 * i + j] === 0) expect(p.posterior![3 * i + j]).toBe(0);
      }
      if (gate.kind === 'topk' && gate.K < 3)
        expect(Array.from(p.gate).filter((g) => g === 0).length).toBeGreaterThan(0);
    });
  }

  it('the mean and sd are those of y drawn at one x (40 000 draws, within 4 standard errors)', () => {
    const m = truthPreset('demy');
    const rng = createRng(5);
    const n = 40_000;
    for (const x of [0.3, 0.32, 0.8]) {
      const X = new Float64Array(n).fill(x);
      const { y } = sampleResponse(m, X, n, rng);
      const p = predictMoE(m, X.subarray(0, 1), 1);
      let s = 0;
      for (const v of y) s += v;
      const mean = s / n;
      let ss = 0;
      for (const v of y) ss += (v - mean) ** 2;
      const sd = Math.sqrt(ss / (n - 1));
      expect(Math.abs(mean - p.mean[0]!), `x = ${x}`).toBeLessThan((4 * p.sd[0]!) / Math.sqrt(n));
      expect(Math.abs(sd / p.sd[0]! - 1), `x = ${x}`).toBeLessThan(0.03);
    }
  });

  it('without y: no posterior; y with zero density: posterior NaN and expert −1, the others intact', () => {
    const m = truthPreset('demy');
    const X = Float64Array.of(0.2, 0.7);
    const bare = predictMoE(m, X, 2);
    expect(bare.posterior).toBeUndefined();
    expect(bare.expert).toBeUndefined();
    const p = predictMoE(m, X, 2, Float64Array.of(1e200, 0));
    expect(Array.from(p.posterior!.subarray(0, 2)).every(Number.isNaN)).toBe(true);
    expect(p.expert![0]).toBe(-1);
    expect(p.logDensity![0]).toBe(-Infinity);
    expect(p.expert![1]).toBeGreaterThanOrEqual(0);
    expect(p.posterior![2]! + p.posterior![3]!).toBeCloseTo(1, 15);
  });

  it('refuses X or y of the wrong length', () => {
    const m = truthPreset('demy');
    expect(() => predictMoE(m, new Float64Array(3), 2)).toThrow(/X must have length n × d = 2/);
    expect(() => predictMoE(m, new Float64Array(2), 2, new Float64Array(3))).toThrow(/y must have length n = 2/);
  });
});
