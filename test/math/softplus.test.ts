/**
 * The softplus activation σ(t) = log(1 + e^t), added as one descriptor (src/math/activation/softplus.ts):
 * stable values, σ′/σ″ against finite differences, a model file that round-trips, and a fit that
 * recovers a softplus-gate truth.
 */
import { describe, expect, it } from 'vitest';
import { activation } from '../../src/math/activations.js';
import { parseModel, modelToJSON } from '../../src/models/io.js';
import { simulate, type Model } from '../../src/models/index.js';
import { fitMoE } from '../../src/em/index.js';
import { voronoiLoss } from '../../src/voronoi/index.js';

const sp = activation('softplus');

describe('softplus activation', () => {
  it('is log(1 + e^t) without overflow or cancellation', () => {
    for (const t of [-30, -3, -0.5, 0, 0.25, 2, 15]) expect(sp.sigma(t)).toBeCloseTo(Math.log(1 + Math.exp(t)), 14);
    expect(sp.sigma(800)).toBe(800); // e^800 overflows the naive form
    expect(sp.sigma(-40) / Math.exp(-40)).toBeCloseTo(1, 14); // log(1 + e^-40) would round to 0
    expect(sp.sigma(-800)).toBe(0);
    for (const t of [-1e300, -800, 0, 800, 1e300])
      for (const f of [sp.sigma, sp.d1, sp.d2]) expect(Number.isFinite(f(t))).toBe(true);
  });

  it('σ′ and σ″ match central finite differences, including far out', () => {
    for (const t of [-25, -6, -1, -0.1, 0, 0.3, 1.7, 6, 25]) {
      const h = 1e-5 * Math.max(1, Math.abs(t));
      const fd1 = (sp.sigma(t + h) - sp.sigma(t - h)) / (2 * h);
      const fd2 = (sp.d1(t + h) - sp.d1(t - h)) / (2 * h);
      expect(Math.abs(sp.d1(t) - fd1), `σ′(${t})`).toBeLessThan(1e-8 * (1 + Math.abs(fd1)) + 1e-12);
      expect(Math.abs(sp.d2(t) - fd2), `σ″(${t})`).toBeLessThan(1e-7 * (1 + Math.abs(fd2)) + 1e-12);
    }
  });

  const truth: Model = {
    gate: { kind: 'activation', activation: 'softplus', bias: 'outside' },
    k: 2,
    d: 1,
    beta0: Float64Array.of(-1, 0),
    beta1: Float64Array.of(6, -2),
    a: Float64Array.of(-20, 20),
    b: Float64Array.of(15, -5),
    nu: Float64Array.of(0.09, 0.16),
    tau: 1,
  };

  it('round-trips through a model file', () => {
    const json = JSON.parse(JSON.stringify(modelToJSON(truth)));
    expect(json.gate).toEqual({ kind: 'activation', activation: 'softplus', bias: 'outside' });
    const back = parseModel(json);
    expect(back).toEqual(truth);
  });

  it('a fit recovers a softplus-gate truth', () => {
    const data = simulate(truth, { n: 20_000, seed: 5, design: 'uniform' });
    const fit = fitMoE(data, {
      gate: truth.gate,
      k: 2,
      init: { kind: 'near-truth', truth },
      seed: 3,
      tauMode: 'fixed',
    });
    expect(fit.converged).toBe(true);
    const m = fit.model;
    expect(m.gate).toEqual(truth.gate);
    // the experts are sharply identified; the gate's flat softplus side (β1 = −2) only roughly
    // (D1 0.62 here, 2.2 at n = 5000, 0.38 at n = 80 000)
    expect(voronoiLoss(m, truth, { loss: 'D1' }).loss).toBeLessThan(1);
    for (let j = 0; j < 2; j++) {
      expect(Math.abs(m.a[j]! - truth.a[j]!)).toBeLessThan(0.1);
      expect(Math.abs(m.b[j]! - truth.b[j]!)).toBeLessThan(0.1);
      expect(Math.abs(m.nu[j]! / truth.nu[j]! - 1)).toBeLessThan(0.05);
    }
    expect(Math.abs(m.beta0[0]! - truth.beta0[0]!)).toBeLessThan(0.1);
    expect(Math.abs(m.beta1[0]! - truth.beta1[0]!)).toBeLessThan(0.5);
    expect(Math.abs(m.beta1[1]! - truth.beta1[1]!)).toBeLessThan(1);
  });
});
