import { describe, expect, it } from 'vitest';
import { cloneModel, modelFromParams, type Model } from '../../src/models/types.js';
import { truthPreset } from '../../src/models/presets.js';
import { gateProbs, expertMeans } from '../../src/models/density.js';
import { createRng } from '../../src/random/rng.js';
import { gaussHermite, hellinger, hellingerAt } from '../../src/voronoi/index.js';
import { perturb, randomDirection } from './helpers.js';

/** h(p(·|x), q(·|x)) by the trapezoid rule on a fine y grid (spectrally accurate for these Gaussians) */
function bruteH(p: Model, q: Model, x: number[]): number {
  const X = Float64Array.from(x);
  const dens = (m: Model) => {
    const pr = gateProbs(m, X, 1);
    const mu = expertMeans(m, X, 1);
    return (y: number) => {
      let s = 0;
      for (let j = 0; j < m.k; j++)
        s += (pr[j]! * Math.exp((-0.5 * (y - mu[j]!) ** 2) / m.nu[j]!)) / Math.sqrt(2 * Math.PI * m.nu[j]!);
      return s;
    };
  };
  const dp = dens(p);
  const dq = dens(q);
  const lo = -80;
  const hi = 80;
  const N = 200_000;
  const step = (hi - lo) / N;
  let acc = 0;
  for (let t = 0; t <= N; t++) {
    const y = lo + t * step;
    acc += (t === 0 || t === N ? 0.5 : 1) * (Math.sqrt(dp(y)) - Math.sqrt(dq(y))) ** 2;
  }
  return Math.sqrt(0.5 * acc * step);
}

describe('Gauss–Hermite rule', () => {
  it('integrates polynomials of degree < 2L exactly against e^{-z²}', () => {
    const { nodes, weights } = gaussHermite(20);
    // ∫ z^{2m} e^{-z²} = Γ(m + 1/2)
    const gammaHalf = [
      Math.sqrt(Math.PI),
      Math.sqrt(Math.PI) / 2,
      (3 * Math.sqrt(Math.PI)) / 4,
      (15 * Math.sqrt(Math.PI)) / 8,
    ];
    for (let m = 0; m < 4; m++) {
      let s = 0;
      for (let l = 0; l < 20; l++) s += weights[l]! * nodes[l]! ** (2 * m);
      expect(s).toBeCloseTo(gammaHalf[m]!, 13);
    }
    let odd = 0;
    for (let l = 0; l < 20; l++) odd += weights[l]! * nodes[l]! ** 3;
    expect(Math.abs(odd)).toBeLessThan(1e-13);
    expect(() => gaussHermite(0)).toThrow(/nodes must be an integer in \[1, 200\]\. Value: 0/);
  });
});

describe('Hellinger distance', () => {
  const demy = truthPreset('demy');

  it('is exactly 0 for identical models', () => {
    for (const name of ['demy', 'topk1', 'd2', 'k3', 'temp-tanh']) {
      const m = truthPreset(name);
      expect(hellinger(m, cloneModel(m), { n: 200 })).toBe(0);
    }
  });

  it('matches the closed form for single Gaussian experts', () => {
    // k = 1: p(·|x) = N(a x + b, ν); h² = 1 − sqrt(2σ1σ2/(σ1² + σ2²)) exp(−(μ1 − μ2)² / (4(σ1² + σ2²)))
    const p = modelFromParams({ kind: 'softmax' }, { beta0: [0], beta1: [[0]], a: [[1]], b: [0], nu: [0.5] });
    const q = modelFromParams({ kind: 'softmax' }, { beta0: [0], beta1: [[0]], a: [[-1]], b: [0.3], nu: [0.8] });
    const xs = [0, 0.25, 0.5, 1];
    const h = hellingerAt(p, q, Float64Array.from(xs), xs.length, 60);
    xs.forEach((x, i) => {
      const dm = x - (-x + 0.3);
      const s2 = 0.5 + 0.8;
      const h2 = 1 - Math.sqrt((2 * Math.sqrt(0.5 * 0.8)) / s2) * Math.exp(-(dm * dm) / (4 * s2));
      expect(h[i]!).toBeCloseTo(Math.sqrt(h2), 7);
    });
  });

  it('matches brute-force quadrature on mixtures', () => {
    const rng = createRng(17);
    for (const [name, eps] of [
      ['demy', 0.05],
      ['demy', 1],
      ['k3', 0.3],
      ['topk1', 0.2],
    ] as const) {
      const t = truthPreset(name);
      const f = perturb(t, randomDirection(t, rng), eps);
      for (const x of [0.1, 0.33, 0.8]) {
        const h = hellingerAt(t, f, Float64Array.of(x), 1)[0]!;
        const hb = bruteH(t, f, [x]);
        expect(Math.abs(h - hb)).toBeLessThanOrEqual(1e-4 * hb + 1e-12);
      }
    }
  });

  it('is symmetric and in [0, 1], near 1 for models far apart', () => {
    const rng = createRng(4);
    const f = perturb(demy, randomDirection(demy, rng), 0.3);
    const hpq = hellinger(demy, f, { n: 300 });
    const hqp = hellinger(f, demy, { n: 300 });
    expect(hpq).toBeGreaterThan(0);
    expect(hpq).toBeLessThanOrEqual(1);
    expect(Math.abs(hpq - hqp)).toBeLessThan(1e-12);
    const far = cloneModel(demy);
    far.b[0] = far.b[0]! + 200;
    far.b[1] = far.b[1]! - 200;
    const hf = hellinger(demy, far, { n: 100 });
    expect(hf).toBeLessThanOrEqual(1);
    expect(hf).toBeGreaterThan(1 - 1e-9);
  });

  it('is positive and increasing over growing perturbations', () => {
    for (const name of ['demy', 'd2']) {
      const t = truthPreset(name);
      const dir = randomDirection(t, createRng(9));
      const hs = [0.001, 0.01, 0.03, 0.1, 0.3, 1].map((e) => hellinger(t, perturb(t, dir, e), { n: 400 }));
      expect(hs[0]!).toBeGreaterThan(0);
      for (let s = 1; s < hs.length; s++) expect(hs[s]!).toBeGreaterThan(hs[s - 1]!);
    }
  });

  it('averages over a seeded design or given points', () => {
    const f = perturb(demy, randomDirection(demy, createRng(2)), 0.2);
    expect(hellinger(demy, f, { n: 500, seed: 3 })).toBe(hellinger(demy, f, { n: 500, seed: 3 }));
    const X = Float64Array.from({ length: 50 }, (_, i) => i / 49);
    const at = hellingerAt(demy, f, X, 50);
    const mean = at.reduce((s, v) => s + v, 0) / 50;
    expect(hellinger(demy, f, { X })).toBeCloseTo(mean, 14);
    expect(hellinger(demy, f, { design: 'grid', n: 50 })).toBeCloseTo(mean, 14);
    // Monte Carlo (uniform) vs the grid: within 4 standard errors of the uniform mean
    const n = 4000;
    const U = hellingerAt(
      demy,
      f,
      (() => {
        const r = createRng(5);
        return Float64Array.from({ length: n }, () => r.uniform());
      })(),
      n,
    );
    const mu = U.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(U.reduce((s, v) => s + (v - mu) ** 2, 0) / (n - 1));
    const grid = hellinger(demy, f, { design: 'grid', n });
    expect(Math.abs(mu - grid)).toBeLessThan((4 * sd) / Math.sqrt(n));
  });

  it('compares models with different gates and numbers of experts', () => {
    const topk = truthPreset('topk1');
    const h = hellinger(topk, demy, { n: 300 });
    expect(h).toBeGreaterThan(0);
    expect(h).toBeLessThan(1);
    const over = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-8 + Math.LN2, 0, 0],
        beta1: [[25], [0], [0]],
        a: [[-20], [20], [20]],
        b: [15, -5, -5],
        nu: [0.09, 0.16, 0.16],
      },
    );
    // splitting the reference expert is a translate of the truth: the same conditional density
    expect(hellinger(over, demy, { n: 300 })).toBeLessThan(1e-7);
  });

  it('rejects bad input, naming it', () => {
    expect(() => hellinger(demy, truthPreset('d2'))).toThrow(/same input dimension d\. Value: 1 and 2/);
    expect(() => hellingerAt(demy, demy, Float64Array.of(0, 1), 3)).toThrow(
      /X must be a Float64Array of n × d = 3 numbers/,
    );
    expect(() => hellingerAt(demy, demy, Float64Array.of(0, NaN), 2)).toThrow(
      /X\[1\]\[0\] must be a finite number\. Value: NaN/,
    );
    expect(() => hellinger(demy, demy, { n: 0 })).toThrow(/n must be an integer ≥ 1\. Value: 0/);
    expect(() => hellinger(demy, demy, { design: 'sobol' as never })).toThrow(/design must be one of/);
    expect(() => hellinger(demy, demy, { nodes: 500 })).toThrow(/nodes must be an integer in \[1, 200\]/);
    expect(() => hellinger(demy, demy, { points: 5 } as never)).toThrow(
      /options\.points is not an option of hellinger/,
    );
    const bad = cloneModel(demy);
    bad.nu[0] = 0;
    expect(() => hellinger(bad, demy)).toThrow(/^p: experts\.nu\[0\] must be > 0/);
  });
});
