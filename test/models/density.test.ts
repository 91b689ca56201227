import { describe, expect, it } from 'vitest';
import {
  conditionalMean,
  expertMeans,
  gateProbs,
  logDensity,
  logLikelihood,
  pointwiseLogLikelihood,
  responsibilities,
} from '../../src/models/density.js';
import { sampleResponse } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import type { Dataset, GateSpec, Model } from '../../src/models/types.js';
import { allGateSpecs, createRng, gateLabel, randomModel, randomX } from './helpers.js';

const EPS = Number.EPSILON;
const LOG_2PI = Math.log(2 * Math.PI);

/** Σ_i log Σ_j π_ij N(y_i; a_j·x_i + b_j, ν_j), computed straightforwardly from probabilities (no logs inside). */
function naiveLogLik(m: Model, data: Dataset): number {
  const p = gateProbs(m, data.X, data.n);
  let total = 0;
  for (let i = 0; i < data.n; i++) {
    let s = 0;
    for (let j = 0; j < m.k; j++) {
      let mu = m.b[j]!;
      for (let l = 0; l < m.d; l++) mu += m.a[j * m.d + l]! * data.X[i * m.d + l]!;
      const r = data.y[i]! - mu;
      s += (p[i * m.k + j]! * Math.exp((-r * r) / (2 * m.nu[j]!))) / Math.sqrt(2 * Math.PI * m.nu[j]!);
    }
    total += Math.log(s);
  }
  return total;
}

function randomData(m: Model, n: number, seed: number): Dataset {
  const rng = createRng(seed);
  const X = randomX(n, m.d, rng);
  // responses near the experts (a Gaussian around the mixture) so that the naive sum does not underflow
  const y = sampleResponse(m, X, n, rng).y;
  return { n, d: m.d, X, y };
}

describe('log-likelihood', () => {
  let seed = 1;
  for (const spec of allGateSpecs(3)) {
    it(`${gateLabel(spec)}: equals the naive Σ log Σ π N on random models and data`, () => {
      for (const d of [1, 3]) {
        const rng = createRng(++seed);
        const m = randomModel(spec, 3, d, rng);
        const n = 200;
        const data = randomData(m, n, ++seed);
        const ll = logLikelihood(m, data);
        const naive = naiveLogLik(m, data);
        expect(Number.isFinite(ll)).toBe(true);
        // both sum n terms each accurate to a few ulps of its magnitude
        let mag = 0;
        for (const v of pointwiseLogLikelihood(m, data)) mag += Math.abs(v) + 1;
        expect(Math.abs(ll - naive)).toBeLessThanOrEqual(64 * EPS * mag);
        // per-sample values and logDensity agree with the total
        const pw = pointwiseLogLikelihood(m, data);
        let sum = 0;
        for (const v of pw) sum += v;
        expect(sum).toBe(ll);
        expect(logDensity(m, data.X.subarray(0, d), data.y[0]!)).toBe(pw[0]);
      }
    });
  }

  const two = (gate: GateSpec, beta0: [number, number], tau = 1): Model => ({
    gate,
    k: 2,
    d: 1,
    beta0: Float64Array.from(beta0),
    beta1: Float64Array.of(0, 0),
    a: Float64Array.of(0, 0),
    b: Float64Array.of(0, 50),
    nu: Float64Array.of(1, 1),
    tau,
  });
  const one = (m: Model, y: number): Dataset => ({ n: 1, d: 1, X: Float64Array.of(1), y: Float64Array.of(y) });

  it('stays finite and exact with logits of ±1000 where a naive exp overflows', () => {
    // s = (1000, 0): π = (1, e^-1000) to double precision; naive exp(1000) = Infinity → NaN
    expect(Math.exp(1000)).toBe(Infinity);
    const m = two({ kind: 'softmax' }, [1000, 0]);
    // y = 50 sits on expert 1: log p = logsumexp(−1000·0 + log N(50; 0, 1), −1000 + log N(50; 50, 1))
    //   = logsumexp(−1250 − ½log 2π, −1000 − ½log 2π) = −1000 − ½log 2π + log(1 + e^-250) = −1000 − ½log 2π
    const expected = -1000 - 0.5 * LOG_2PI;
    expect(logLikelihood(m, one(m, 50))).toBeCloseTo(expected, 10);
    expect(Math.abs(logLikelihood(m, one(m, 50)) - expected)).toBeLessThanOrEqual(4 * EPS * 1000);
    // y = 0 sits on expert 0 with π_0 = 1: log p = −½log 2π (+ e^-1000·N(0; 50, 1), far below an ulp)
    expect(logLikelihood(m, one(m, 0))).toBe(-0.5 * LOG_2PI);
  });

  it('equal logits of +1000 give π = ½ each, exactly', () => {
    const m = two({ kind: 'softmax' }, [1000, 1000]);
    const p = gateProbs(m, Float64Array.of(1), 1);
    expect(Array.from(p)).toEqual([0.5, 0.5]);
    // y = 25 is midway: both experts give log N = −312.5 − ½log 2π, so log p = log(½ + ½) + that
    expect(logLikelihood(m, one(m, 25))).toBeCloseTo(-312.5 - 0.5 * LOG_2PI, 10);
    expect(Array.from(responsibilities(m, one(m, 25)).resp)).toEqual([0.5, 0.5]);
  });

  it('a temperature gate with τ = 1e-3 (logits ~ ±1000) stays exact', () => {
    const m: Model = { ...two({ kind: 'temperature' }, [0, 0], 1e-3), beta1: Float64Array.of(1, -1) };
    // x = 1: s = (1000, −1000); y = 50 on expert 1 whose weight is e^-2000/(1 + e^-2000)
    //   log p = logsumexp(log N(50; 0, 1), −2000 + log N(50; 50, 1)) = −1250 − ½log 2π (+ e^-750, below an ulp)
    expect(logLikelihood(m, one(m, 50))).toBeCloseTo(-1250 - 0.5 * LOG_2PI, 9);
  });

  it('top-K: an inactive expert contributes exactly 0, whatever y', () => {
    // K = 1 on the logit: expert 0 (s = 3) is active, expert 1 (s = 0) is not, even at y = 50 where its density peaks
    const m = two({ kind: 'topk', K: 1, selectOn: 'logit' }, [3, 0]);
    expect(logLikelihood(m, one(m, 50))).toBe(-0.5 * LOG_2PI - 1250);
    const { resp } = responsibilities(m, one(m, 50));
    expect(Array.from(resp)).toEqual([1, 0]);
  });

  it('rejects data whose dimension differs from the model (instead of a silent NaN)', () => {
    const m = truthPreset('d2');
    expect(() => logLikelihood(m, { n: 2, d: 1, X: Float64Array.of(0, 1), y: Float64Array.of(0, 1) })).toThrow(
      /data.d must equal the model's d = 2. Value: 1/,
    );
    expect(() => logDensity(m, [1], 0)).toThrow(/x must have length d = 2/);
  });
});

describe('responsibilities', () => {
  let seed = 500;
  for (const spec of allGateSpecs(3)) {
    it(`${gateLabel(spec)}: rows sum to 1, and match π_j N_j / Σ_l π_l N_l`, () => {
      const rng = createRng(++seed);
      const m = randomModel(spec, 3, 2, rng);
      const data = randomData(m, 100, ++seed);
      const { resp, logLik } = responsibilities(m, data);
      expect(logLik).toBe(logLikelihood(m, data));
      const p = gateProbs(m, data.X, data.n);
      const mu = expertMeans(m, data.X, data.n);
      for (let i = 0; i < data.n; i++) {
        let sum = 0;
        const w = [0, 1, 2].map(
          (j) =>
            (p[i * 3 + j]! * Math.exp(-((data.y[i]! - mu[i * 3 + j]!) ** 2) / (2 * m.nu[j]!))) / Math.sqrt(m.nu[j]!),
        );
        const wSum = w[0]! + w[1]! + w[2]!;
        for (let j = 0; j < 3; j++) {
          const r = resp[i * 3 + j]!;
          sum += r;
          if (p[i * 3 + j] === 0) expect(r).toBe(0);
          if (wSum > 1e-200) expect(Math.abs(r - w[j]! / wSum)).toBeLessThanOrEqual(1e-12);
        }
        expect(Math.abs(sum - 1)).toBeLessThanOrEqual(8 * EPS);
      }
    });
  }
});

describe('conditional mean', () => {
  it('E[Y|x] = Σ π_j(x)(a_j·x + b_j) on the demy truth at hand-checked points', () => {
    const m = truthPreset('demy');
    // x = 0.32: s = (0, 0), π = (½, ½); means (−20·0.32 + 15, 20·0.32 − 5) = (8.6, 1.4): E = 5
    const X = Float64Array.of(0.32, 0, 1);
    const cm = conditionalMean(m, X, 3);
    expect(cm[0]).toBeCloseTo(5, 12);
    // x = 0: π_0 = e^-8/(1 + e^-8)
    const p0 = Math.exp(-8) / (1 + Math.exp(-8));
    expect(cm[1]).toBeCloseTo(p0 * 15 + (1 - p0) * -5, 12);
    // x = 1: π_1 = e^-17/(1 + e^-17)
    const p1 = Math.exp(-17) / (1 + Math.exp(-17));
    expect(cm[2]).toBeCloseTo((1 - p1) * -5 + p1 * 15, 12);
  });

  for (const name of ['demy', 'topk1', 'temp-tanh', 'k3', 'd2']) {
    it(`${name}: matches the Monte Carlo mean of Y | x within 4 standard errors`, () => {
      const m = truthPreset(name);
      const rng = createRng(77);
      const points = 5;
      const reps = 4000;
      const x0 = randomX(points, m.d, rng, 0, 1);
      // reps copies of each point
      const X = new Float64Array(points * reps * m.d);
      for (let i = 0; i < points * reps; i++)
        for (let l = 0; l < m.d; l++) X[i * m.d + l] = x0[(i % points) * m.d + l]!;
      const { y } = sampleResponse(m, X, points * reps, rng);
      const cm = conditionalMean(m, x0, points);
      const p = gateProbs(m, x0, points);
      const mu = expertMeans(m, x0, points);
      for (let q = 0; q < points; q++) {
        let s = 0;
        for (let r = 0; r < reps; r++) s += y[r * points + q]!;
        const mean = s / reps;
        // Var(Y|x) = Σ π_j (ν_j + μ_j²) − E[Y|x]²
        let second = 0;
        for (let j = 0; j < m.k; j++) second += p[q * m.k + j]! * (m.nu[j]! + mu[q * m.k + j]! ** 2);
        const sd = Math.sqrt(Math.max(second - cm[q]! ** 2, 0));
        expect(Math.abs(mean - cm[q]!)).toBeLessThanOrEqual((4 * sd) / Math.sqrt(reps) + 1e-12);
      }
    });
  }
});
