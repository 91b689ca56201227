/**
 * The SIMD E-step (src/em/backend/simd/gen/kernels.ts eStep, driven by src/em/backend/cpu/estep.ts (binding eStepSimd)) against the
 * JS kernel it replaces: every responsibility bit for bit, the log-likelihood and Q within the
 * rounding of sums taken in another order; pairs the kernel refuses (a log-density beyond the
 * fast range, −∞ or NaN) go through the JS kernel; odd n; the same bits on every call.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { expectSameBits } from './wasm-helpers.js';

const U = 2 ** -53;

function setup(k: 2 | 3, n: number, seed: number) {
  const rng = createRng(seed);
  const m: Model = {
    gate: { kind: 'softmax' },
    k,
    d: 1,
    beta0: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : rng.normal())),
    beta1: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : 3 * rng.normal())),
    a: Float64Array.from({ length: k }, (_, j) => 3 * (j - 1) + rng.normal()),
    b: Float64Array.from({ length: k }, () => rng.normal()),
    nu: Float64Array.from({ length: k }, () => 0.05 + 0.2 * rng.uniform()),
    tau: 1,
  };
  const X = Float64Array.from({ length: n }, () => 2 * rng.normal());
  const y = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(rng.uniform() * k);
    return m.b[j]! + m.a[j]! * X[i]! + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  return { m, X, y };
}

/** Runs the E-step on plain arrays (JS kernel) and on arena copies (SIMD kernel). */
function both(m: Model, X: Float64Array, y: Float64Array, logPi: Float64Array) {
  const n = X.length,
    k = m.k;
  const be = createCpuBackend();
  const respJ = new Float64Array(n * k);
  const sJ = { q: NaN };
  const llJ = be.eStep(m, X, y, n, logPi, respJ, sJ);
  const A = createArena([n, n, n * k, n * k])!;
  expect(A).not.toBeNull();
  const Xa = A.copy(X),
    ya = A.copy(y),
    lpa = A.copy(logPi),
    respW = A.alloc(n * k);
  const sW = { q: NaN };
  const calls = wasmCalls.eStep;
  const llW = be.eStep(m, Xa, ya, n, lpa, respW, sW);
  expect(wasmCalls.eStep, 'the SIMD kernel ran').toBe(calls + 1);
  return { respJ, respW, llJ, llW, qJ: sJ.q, qW: sW.q };
}

function gateLogPi(m: Model, X: Float64Array): Float64Array {
  const n = X.length;
  const logPi = new Float64Array(n * m.k),
    pi = new Float64Array(n * m.k);
  createCpuBackend().gateProbs(m, X, n, logPi, pi, null, 'none');
  return logPi;
}

describe('WebAssembly E-step (d = 1)', () => {
  for (const [k, n, seed] of [
    [3, 5000, 1],
    [3, 4999, 2],
    [2, 5000, 3],
    [2, 3, 4],
    [3, 1, 5],
  ] as const) {
    it(`k = ${k}, n = ${n}: responsibilities bit for bit, log-likelihood and Q to rounding`, () => {
      const { m, X, y } = setup(k, n, seed);
      const r = both(m, X, y, gateLogPi(m, X));
      expectSameBits(r.respJ, r.respW);
      // each sum has n (or nk) terms: its rounding is ≤ n·u·Σ|terms| (Σ|log p| ≤ |total| + 2n·max term)
      expect(Math.abs(r.llW - r.llJ)).toBeLessThanOrEqual(4 * n * U * (Math.abs(r.llJ) + 10 * n));
      expect(Math.abs(r.qW - r.qJ)).toBeLessThanOrEqual(4 * n * k * U * (Math.abs(r.qJ) + 10 * n));
      expect(Number.isFinite(r.llW) && Number.isFinite(r.qW)).toBe(true);
    });
  }

  it('refused pairs (log-densities beyond 2^40, −∞, NaN) take the JS kernel and give its values', () => {
    const k = 3,
      n = 1001;
    const { m, X, y } = setup(k, n, 7);
    const logPi = gateLogPi(m, X);
    // a far outlier makes Σ|v| ≥ 2^40 on rows 10 and 501 (pairs 5 and 250, one in each lane)
    y[10] = 1e8;
    y[501] = -3e7;
    const r = both(m, X, y, logPi);
    expectSameBits(r.respJ, r.respW);
    expect(Math.abs(r.llW - r.llJ)).toBeLessThanOrEqual(1e-12 * Math.abs(r.llJ));
    // −∞: a sample no expert can have produced (every log π −∞) makes the total −∞, its row NaN
    const lp2 = logPi.slice();
    lp2[3 * 400] = lp2[3 * 400 + 1] = lp2[3 * 400 + 2] = -Infinity;
    const r2 = both(m, X, y, lp2);
    expectSameBits(r2.respJ, r2.respW);
    expect(r2.llW).toBe(-Infinity);
    expect(Number.isNaN(r2.respW[3 * 400])).toBe(true);
    // NaN in one log π: NaN total, as in the JS kernel
    const lp3 = logPi.slice();
    lp3[3 * 77 + 1] = NaN;
    const r3 = both(m, X, y, lp3);
    expectSameBits(r3.respJ, r3.respW);
    expect(Number.isNaN(r3.llW)).toBe(true);
  });

  it("a long run of refused pairs (a collapsed, very narrow expert) gives the JS kernel's values", () => {
    const k = 3,
      n = 6001;
    const { m, X, y } = setup(k, n, 8);
    m.nu[1] = 1e-300; // every row but a handful: |log-density| far beyond 2^40
    const logPi = gateLogPi(m, X);
    const r = both(m, X, y, logPi);
    expectSameBits(r.respJ, r.respW);
    expect(Math.abs(r.llW - r.llJ)).toBeLessThanOrEqual(1e-12 * Math.abs(r.llJ));
  });

  for (const k of [2, 3] as const) {
    it(`k = ${k}: rows with an inactive expert (log π = −∞, top-K) run in the kernel with the exact maximum`, () => {
      const n = 3001;
      const { m, X, y } = setup(k, n, 20 + k);
      const logPi = gateLogPi(m, X);
      // one inactive expert per row, varying with the row (a top-(k−1) mask)
      for (let i = 0; i < n; i++) {
        const j = i % k;
        let s = 0;
        for (let l = 0; l < k; l++) if (l !== j) s += Math.exp(logPi[i * k + l]!);
        for (let l = 0; l < k; l++) logPi[i * k + l] = l === j ? -Infinity : logPi[i * k + l]! - Math.log(s);
      }
      const calls = wasmCalls.eStep,
        refused = wasmCalls.refusedPairs;
      const r = both(m, X, y, logPi);
      expect(wasmCalls.eStep).toBe(calls + 1);
      expect(wasmCalls.refusedPairs, 'pairs handed to JS').toBe(refused);
      expectSameBits(r.respJ, r.respW);
      expect(Number.isFinite(r.llW) && Number.isFinite(r.qW)).toBe(true);
      expect(Math.abs(r.llW - r.llJ)).toBeLessThanOrEqual(4 * n * U * (Math.abs(r.llJ) + 10 * n));
      expect(Math.abs(r.qW - r.qJ)).toBeLessThanOrEqual(4 * n * k * U * (Math.abs(r.qJ) + 10 * n));
    });
  }

  for (const k of [2, 3] as const) {
    it(`k = ${k}: the log-likelihood kernel agrees with the JS one (inactive experts, refused rows, odd n)`, () => {
      const n = 2001;
      const { m, X, y } = setup(k, n, 30 + k);
      const logPi = gateLogPi(m, X);
      for (let i = 0; i < n; i += 3) logPi[i * k + (i % k)] = -Infinity;
      y[100] = 1e9; // Σ|v| far beyond 2^40: fine for the exact maximum
      const be = createCpuBackend();
      const llJ = be.logLik(m, X, y, n, logPi);
      const A = createArena([n, n, n * k])!;
      const Xa = A.copy(X),
        ya = A.copy(y),
        lpa = A.copy(logPi);
      const calls = wasmCalls.logLik,
        refused = wasmCalls.refusedPairs;
      const llW = be.logLik(m, Xa, ya, n, lpa);
      expect(wasmCalls.logLik).toBe(calls + 1);
      expect(wasmCalls.refusedPairs, 'pairs handed to JS').toBe(refused);
      expect(Number.isFinite(llW)).toBe(true);
      expect(Math.abs(llW - llJ)).toBeLessThanOrEqual(4 * n * U * (Math.abs(llJ) + 10 * n) + 1e-9 * Math.abs(llJ));
      // a row with every term −∞ makes the total −∞; a NaN, NaN
      lpa.fill(-Infinity, 7 * k, 8 * k);
      expect(be.logLik(m, Xa, ya, n, lpa)).toBe(-Infinity);
      lpa.set(logPi.subarray(7 * k, 8 * k), 7 * k);
      lpa[5 * k] = NaN;
      expect(Number.isNaN(be.logLik(m, Xa, ya, n, lpa))).toBe(true);
      expect(be.logLik(m, Xa, ya, 1, lpa)).toBeCloseTo(be.logLik(m, X, y, 1, logPi), 9);
    });
  }

  it('the same inputs give the same bits on every call', () => {
    const { m, X, y } = setup(3, 2000, 9);
    const logPi = gateLogPi(m, X);
    const a = both(m, X, y, logPi),
      b = both(m, X, y, logPi);
    expect(Object.is(a.llW, b.llW) && Object.is(a.qW, b.qW)).toBe(true);
    expectSameBits(a.respW, b.respW);
  });
});
