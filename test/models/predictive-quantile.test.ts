/** predictiveQuantile and predictiveCdf: the mixture CDF at the quantile, one expert's normal quantile, coverage of draws, the PIT's uniformity. */
import erf from '@stdlib/math-base-special-erf';
import { describe, expect, it } from 'vitest';
import { predictMoE } from '../../src/models/predict.js';
import { predictiveCdf, predictiveQuantile } from '../../src/models/predictive-quantile.js';
import { ksUniform } from '../../src/math/kolmogorov.js';
import { truthPreset } from '../../src/models/presets.js';
import { sampleResponse, simulate } from '../../src/models/sample.js';
import { modelFromParams } from '../../src/models/types.js';
import { allGateSpecs, createRng, gateLabel, randomModel, randomX } from './helpers.js';

/** Φ (stdlib's erf; the one-expert case below checks a quantile against its published value) */
const phi = (z: number): number => 0.5 * (1 + erf(z / Math.SQRT2));

describe('predictiveQuantile', () => {
  for (const gate of allGateSpecs(3)) {
    it(`${gateLabel(gate)}: the mixture's CDF at the quantile is p`, () => {
      const rng = createRng(5);
      const m = randomModel(gate, 3, 2, rng);
      const n = 100;
      const X = randomX(n, 2, rng);
      const pred = predictMoE(m, X, n);
      for (const p of [0.025, 0.5, 0.9, 0.995]) {
        const q = predictiveQuantile(pred, m.nu, p);
        for (let i = 0; i < n; i++) {
          let F = 0;
          for (let j = 0; j < 3; j++) {
            const w = pred.gate[i * 3 + j]!;
            if (w > 0) F += w * phi((q[i]! - pred.expertMean[i * 3 + j]!) / Math.sqrt(m.nu[j]!));
          }
          expect(Math.abs(F - p), `row ${i}, p ${p}`).toBeLessThan(1e-12);
        }
      }
    });
  }

  it('one expert: its normal quantile; quantiles increase with p', () => {
    const m = modelFromParams({ kind: 'softmax' }, { beta0: [0], beta1: [[0]], a: [[2]], b: [1], nu: [0.25] });
    const X = Float64Array.from([0, 0.5, 1]);
    const pred = predictMoE(m, X, 3);
    const q = predictiveQuantile(pred, m.nu, 0.975);
    // Φ⁻¹(0.975) = 1.959963984540054
    X.forEach((x, i) => expect(q[i]).toBeCloseTo(2 * x + 1 + 0.5 * 1.959963984540054, 13));
    const lo = predictiveQuantile(pred, m.nu, 0.3);
    q.forEach((v, i) => expect(lo[i]!).toBeLessThan(v));
    expect(() => predictiveQuantile(pred, m.nu, 1)).toThrow('p must be in (0, 1). Value: 1');
    expect(() => predictiveQuantile(pred, [1, 2], 0.5)).toThrow('nu must have k = 1 entries. Value: 2');
  });

  it("the truth's 90 % interval holds 90 % of its draws, where the gate switches too", () => {
    for (const preset of ['demy', 'topk1', 'k3']) {
      const truth = truthPreset(preset);
      const data = simulate(truth, { n: 20_000, seed: 8 });
      const pred = predictMoE(truth, data.X, data.n);
      const lower = predictiveQuantile(pred, truth.nu, 0.05);
      const upper = predictiveQuantile(pred, truth.nu, 0.95);
      let inside = 0;
      for (let i = 0; i < data.n; i++) if (data.y[i]! >= lower[i]! && data.y[i]! <= upper[i]!) inside++;
      // binomial sd at n = 2e4: 0.0021
      expect(Math.abs(inside / data.n - 0.9), preset).toBeLessThan(0.01);
    }
  });
});

describe('predictiveCdf', () => {
  for (const gate of allGateSpecs(3)) {
    it(`${gateLabel(gate)}: inverts predictiveQuantile (F(q_p) = p), top-K's inactive experts left out`, () => {
      const rng = createRng(6);
      const m = randomModel(gate, 3, 2, rng);
      const n = 100;
      const X = randomX(n, 2, rng);
      const pred = predictMoE(m, X, n);
      for (const p of [0.01, 0.3, 0.5, 0.97]) {
        const F = predictiveCdf(pred, m.nu, predictiveQuantile(pred, m.nu, p));
        F.forEach((v, i) => expect(Math.abs(v - p), `row ${i}, p ${p}`).toBeLessThan(1e-12));
      }
    });
  }

  it("the truth's PIT is uniform (KS p ≥ 0.01); a model with the variances doubled or the experts shifted is not", () => {
    for (const preset of ['demy', 'topk1', 'k3']) {
      const truth = truthPreset(preset);
      const data = simulate(truth, { n: 20_000, seed: 9 });
      const pred = predictMoE(truth, data.X, data.n);
      const u = predictiveCdf(pred, truth.nu, data.y);
      expect(ksUniform(u).pValue, preset).toBeGreaterThan(0.01);
      const wide = predictiveCdf(
        pred,
        truth.nu.map((v) => 2 * v),
        data.y,
      );
      expect(ksUniform(wide).pValue, `${preset}, ν × 2`).toBeLessThan(1e-4);
      const shifted = { ...pred, expertMean: pred.expertMean.map((v) => v + 0.1 * Math.sqrt(truth.nu[0]!)) };
      expect(ksUniform(predictiveCdf(shifted, truth.nu, data.y)).pValue, `${preset}, μ + 0.1 sd`).toBeLessThan(1e-4);
    }
  });

  it('refuses nu without k entries and y without n', () => {
    const m = modelFromParams({ kind: 'softmax' }, { beta0: [0], beta1: [[0]], a: [[2]], b: [1], nu: [0.25] });
    const pred = predictMoE(m, Float64Array.from([0, 1]), 2);
    expect(() => predictiveCdf(pred, [1, 2], [0, 0])).toThrow('nu must have k = 1 entries. Value: 2');
    expect(() => predictiveCdf(pred, m.nu, [0])).toThrow("y must have n = 2 entries (the prediction's rows). Value: 1");
    // one expert: Φ((y − μ)/sd)
    expect(predictiveCdf(pred, m.nu, [1, 3])[1]).toBe(0.5);
  });
});
