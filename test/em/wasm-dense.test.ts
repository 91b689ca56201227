/**
 * The SIMD dense-to-sparse gate (src/em/backend/simd/gen/kernels-dense.ts, driven by
 * src/em/backend/cpu/activation-gate.ts (binding activationSimd)) against the JS kernels it replaces (cpu/activation-gate.ts rowsIdentity /
 * rowsTanh / rowsSigmoid for k = 2, rowsIdentity3 / rowsTanh3 / rowsSigmoid3 for k = 3): π and
 * log π bit for bit on every row, Q within the rounding of a sum taken in another order; steep rows
 * (a logit beyond ±350) shifted in the kernel; NaN x refused (JS); NaN and infinite coefficients;
 * odd n, n = 1.
 */
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { expectGateAgree, expectSameBits, gateBoth, simplexRows } from './wasm-helpers.js';

type Act = 'identity' | 'tanh' | 'sigmoid';
const ACTS: Act[] = ['identity', 'tanh', 'sigmoid'];

function setup(act: Act, k: 2 | 3, n: number, seed: number, tau = 0.5) {
  const rng = createRng(seed);
  const m: Model = {
    gate:
      act === 'identity' && seed % 2 === 0
        ? { kind: 'temperature' }
        : { kind: 'activation', activation: act, bias: 'outside' },
    k,
    d: 1,
    beta0: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : rng.normal())),
    beta1: Float64Array.from({ length: k }, () => 3 * rng.normal()),
    a: new Float64Array(k),
    b: new Float64Array(k),
    nu: new Float64Array(k).fill(1),
    tau,
  };
  // wide enough that tanh (|β1 x| > 20) and, with X[3], the sigmoid (> 700) reach their clamps
  const X = Float64Array.from({ length: n }, () => 4 * rng.normal());
  if (n > 8) {
    X[1] = 0;
    X[6] = -0;
    X[3] = 1e3;
    X[4] = -1e3;
  }
  const resp = simplexRows(rng, n, k);
  return { m, X, resp };
}

/** rows with some logit σ(β1 x)/τ + β0 beyond ±350 (Math's tanh / exp: only to count them) */
function steepRows(act: Act, m: Model, X: Float64Array): number {
  const sig = (u: number): number => (act === 'tanh' ? Math.tanh(u) : act === 'sigmoid' ? 1 / (1 + Math.exp(-u)) : u);
  let c = 0;
  for (const x of X) {
    let s = false;
    for (let j = 0; j < m.k; j++) s ||= Math.abs(sig(m.beta1[j]! * x) / m.tau + m.beta0[j]!) > 350;
    if (s) c++;
  }
  return c;
}

describe('WebAssembly dense-to-sparse gate (d = 1)', () => {
  for (const act of ACTS) {
    for (const [k, n, seed] of [
      [3, 3000, 1],
      [3, 2999, 2],
      [2, 3000, 3],
      [2, 2999, 4],
      [3, 1, 5],
      [2, 1, 6],
      [2, 3, 7],
    ] as const) {
      it(`${act}, k = ${k}, n = ${n}: π and log π bit for bit, Q to rounding, no refusals; NaN without Q`, () => {
        const { m, X, resp } = setup(act, k, n, seed);
        const r = gateBoth(m, X, resp, true);
        expectGateAgree(r, n, k);
        expect(r.refused).toBe(0);
        expect(Number.isFinite(r.qW) && r.qW < 0).toBe(true);
        const r0 = gateBoth(m, X, resp, false);
        expectSameBits(r0.lpJ, r0.lpW, 'logPi');
        expectSameBits(r0.piJ, r0.piW, 'pi');
        expect(r0.refused).toBe(0);
        expect(Number.isNaN(r0.qW) && Number.isNaN(r0.qJ)).toBe(true);
      });
    }
  }

  it('steep rows (logits beyond ±350, a small τ) are shifted by their maximum in the kernel, with no refusals', () => {
    for (const act of ACTS) {
      for (const k of [2, 3] as const) {
        const n = 2001;
        const { m, X, resp } = setup(act, k, n, 8, act === 'identity' ? 0.05 : 0.002);
        const r = gateBoth(m, X, resp, true);
        expectGateAgree(r, n, k);
        expect(r.refused).toBe(0);
        const steep = steepRows(act, m, X);
        expect(steep, `${act} k=${k}: steep rows present`).toBeGreaterThan(50);
        expect(steep, `${act} k=${k}: direct rows present`).toBeLessThan(n - 50);
        // a bias beyond the ±350 boundary for every row: all shifted, some terms below −708 → π = 0
        m.beta0[0] = 1e3;
        const r2 = gateBoth(m, X, resp, true);
        expectGateAgree(r2, n, k);
        expect(r2.refused).toBe(0);
      }
    }
  });

  it('a NaN x is refused (that row NaN, Q NaN, as in JS); runs of them go to JS in chunks', () => {
    for (const act of ACTS) {
      for (const k of [2, 3] as const) {
        const n = 1001;
        const { m, X, resp } = setup(act, k, n, 9);
        X[77] = NaN;
        const r = gateBoth(m, X, resp, true);
        expect(r.refused).toBe(1);
        expectSameBits(r.lpJ, r.lpW, 'logPi');
        expectSameBits(r.piJ, r.piW, 'pi');
        expect(Number.isNaN(r.piW[77 * k]!) && Number.isNaN(r.qW) && Number.isNaN(r.qJ)).toBe(true);
        expect(Number.isFinite(r.piW[76 * k]!) && Number.isFinite(r.piW[78 * k]!)).toBe(true);
        // a NaN in the second pair of the kernel's first step: the step hands back its first (fine) pair too
        const s2 = setup(act, k, 11, 9);
        s2.X[2] = NaN;
        const r1 = gateBoth(s2.m, s2.X, s2.resp, true);
        expect(r1.refused).toBeGreaterThanOrEqual(1);
        expect(r1.refused).toBeLessThanOrEqual(3);
        expectSameBits(r1.lpJ, r1.lpW, 'logPi');
        expectSameBits(r1.piJ, r1.piW, 'pi');
        expect(Number.isNaN(r1.piW[2 * k]!) && Number.isFinite(r1.piW[0]!) && Number.isFinite(r1.piW[3 * k]!)).toBe(
          true,
        );
        for (let i = 200; i < 700; i++) X[i] = NaN;
        const r2 = gateBoth(m, X, resp, false);
        expect(r2.refused).toBeGreaterThanOrEqual(251);
        expectSameBits(r2.lpJ, r2.lpW, 'logPi');
        expectSameBits(r2.piJ, r2.piW, 'pi');
      }
    }
  });

  it('NaN coefficients: every row NaN, Q NaN, all in JS; β1 = ±∞ under tanh / sigmoid: finite rows in the kernel, x = 0 refused', () => {
    for (const act of ACTS) {
      for (const k of [2, 3] as const) {
        const { m, X, resp } = setup(act, k, 101, 13);
        m.beta1[1] = NaN;
        const r = gateBoth(m, X, resp, true, false);
        expectSameBits(r.lpJ, r.lpW, 'logPi');
        expectSameBits(r.piJ, r.piW, 'pi');
        expect(Number.isNaN(r.qW) && Number.isNaN(r.piW[5]!)).toBe(true);
        m.beta1[1] = 1;
        m.beta0[0] = NaN;
        const r1 = gateBoth(m, X, resp, true, false);
        expectSameBits(r1.lpJ, r1.lpW, 'logPi');
        expect(Number.isNaN(r1.qW)).toBe(true);
        m.beta0[0] = 0;
        m.beta1[0] = -Infinity;
        const r2 = gateBoth(m, X, resp, true, act !== 'identity');
        expectSameBits(r2.lpJ, r2.lpW, 'logPi');
        expectSameBits(r2.piJ, r2.piW, 'pi');
        if (act !== 'identity') expect(r2.refused, 'the pairs with x = ±0 (rows 1 and 6)').toBe(2);
      }
    }
  });

  it('the same inputs give the same bits on every call', () => {
    const { m, X, resp } = setup('tanh', 3, 2000, 10, 0.01);
    const a = gateBoth(m, X, resp, true),
      b = gateBoth(m, X, resp, true);
    expect(Object.is(a.qW, b.qW)).toBe(true);
    expectSameBits(a.piW, b.piW, 'pi');
  });
});
