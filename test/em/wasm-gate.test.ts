/**
 * The SIMD softmax gate (src/em/backend/simd/gen/kernels-gate.ts, driven by src/em/backend/cpu/softmax-gate.ts (binding softmaxSimd))
 * against the JS kernel it replaces (cpu/softmax-gate.ts softmaxRows1k2 / k3): π and log π bit for bit on
 * every row, Q within the rounding of a sum taken in another order; pairs the kernel refuses
 * (a logit beyond ±350, NaN) and runs of them go through the JS kernel; odd n; NaN coefficients.
 */
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { expectGateAgree, expectSameBits, gateBoth, simplexRows } from './wasm-helpers.js';

function setup(k: 2 | 3, n: number, seed: number, slope = 3) {
  const rng = createRng(seed);
  const m: Model = {
    gate: { kind: 'softmax' },
    k,
    d: 1,
    beta0: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : rng.normal())),
    beta1: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : slope * rng.normal())),
    a: new Float64Array(k),
    b: new Float64Array(k),
    nu: new Float64Array(k).fill(1),
    tau: 1,
  };
  const X = Float64Array.from({ length: n }, () => 2 * rng.normal());
  const resp = simplexRows(rng, n, k);
  return { m, X, resp };
}

describe('WebAssembly softmax gate (d = 1)', () => {
  for (const [k, n, seed] of [
    [3, 5000, 1],
    [3, 4999, 2],
    [2, 5000, 3],
    [2, 3, 4],
    [3, 1, 5],
    [2, 1, 6],
  ] as const) {
    it(`k = ${k}, n = ${n}: π and log π bit for bit, Q to rounding; NaN without Q`, () => {
      const { m, X, resp } = setup(k, n, seed);
      const r = gateBoth(m, X, resp, true);
      expectGateAgree(r, n, k);
      expect(Number.isFinite(r.qW) && r.qW < 0).toBe(true);
      const r0 = gateBoth(m, X, resp, false);
      expectSameBits(r0.lpJ, r0.lpW, 'logPi');
      expectSameBits(r0.piJ, r0.piW, 'pi');
      expect(Number.isNaN(r0.qW) && Number.isNaN(r0.qJ)).toBe(true);
    });
  }

  it("rows with a logit beyond ±350 are shifted by their maximum in the kernel; NaN x is refused; both give the JS kernel's values", () => {
    for (const k of [2, 3] as const) {
      const n = 1001;
      const { m, X, resp } = setup(k, n, 7);
      m.beta1[0] = 2; // row 10's logit 0 is ≈ 2e4, row 501's ≈ −2e4 (pairs 5 and 250, one in each lane)
      X[10] = 1e4;
      X[501] = -1e4;
      const r = gateBoth(m, X, resp, true);
      expectGateAgree(r, n, k);
      expect(r.refused, 'pairs handed to JS').toBe(0);
      // a row exactly at the boundary is direct, one ulp beyond is not: both as in JS
      m.beta0[0] = 0;
      m.beta1[0] = 1;
      X[20] = 350;
      X[21] = -350;
      X[23] = 350 * (1 + 2 ** -52);
      X[1000] = -350 * (1 + 2 ** -52);
      expectGateAgree(gateBoth(m, X, resp, true), n, k);
      // NaN x: that row's π and log π NaN, Q NaN, as in the JS kernel
      X[77] = NaN;
      const r3 = gateBoth(m, X, resp, true);
      expect(r3.refused).toBe(1);
      expectSameBits(r3.lpJ, r3.lpW, 'logPi');
      expectSameBits(r3.piJ, r3.piW, 'pi');
      expect(Number.isNaN(r3.piW[77 * k]!) && Number.isNaN(r3.qW) && Number.isNaN(r3.qJ)).toBe(true);
    }
  });

  it("a steep gate (shifted rows scattered and in blocks) and runs of refused pairs give the JS kernel's values", () => {
    for (const k of [2, 3] as const) {
      const n = 6001;
      const { m, X, resp } = setup(k, n, 11);
      // a steep gate: rows with |x| ≳ 3.5 (8%) have a logit beyond ±350, scattered through the data
      m.beta1[0] = 100;
      const r = gateBoth(m, X, resp, true);
      expectGateAgree(r, n, k);
      expect(Number.isFinite(r.qW)).toBe(true);
      expect(r.refused).toBe(0);
      for (let i = 1000; i < 4000; i++) X[i] = 1e3 + i; // and a block of 1500 such pairs
      const r2 = gateBoth(m, X, resp, true);
      expectGateAgree(r2, n, k);
      expect(r2.refused).toBe(0);
      for (let i = 1000; i < 4000; i++) X[i] = NaN; // NaN logits: 1500 refused pairs, handed to JS in chunks
      const r3 = gateBoth(m, X, resp, true);
      expect(r3.refused).toBeGreaterThanOrEqual(1500); // chunks may run past the block
      expectSameBits(r3.lpJ, r3.lpW, 'logPi');
      expectSameBits(r3.piJ, r3.piW, 'pi');
    }
  });

  it('NaN coefficients: every row NaN, Q NaN, as in the JS kernel', () => {
    for (const k of [2, 3] as const) {
      const { m, X, resp } = setup(k, 101, 13);
      m.beta0[1] = NaN;
      const r = gateBoth(m, X, resp, true, false);
      expectSameBits(r.lpJ, r.lpW, 'logPi');
      expectSameBits(r.piJ, r.piW, 'pi');
      expect(Number.isNaN(r.qW) && Number.isNaN(r.piW[0]!)).toBe(true);
    }
  });

  it('the same inputs give the same bits on every call', () => {
    const { m, X, resp } = setup(3, 2000, 9, 60);
    const a = gateBoth(m, X, resp, true),
      b = gateBoth(m, X, resp, true);
    expect(Object.is(a.qW, b.qW)).toBe(true);
    expectSameBits(a.piW, b.piW, 'pi');
  });
});
