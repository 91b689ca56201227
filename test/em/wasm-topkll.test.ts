/**
 * The one-pass top-K log-likelihood (src/em/backend/cpu/topk-loglik.ts, SIMD kernel topkll3 of
 * src/em/backend/simd/gen/kernels-topk.ts) against the two passes it replaces — gateProbs 'compute'
 * (topk3) then logLik (loglik3) on the same arena arrays — bit for bit (Object.is on the total; with
 * `write`, log π, π and the mask too): K = 1 and 2 (K = 3 is left to the two passes), ranking on logits and on slopes; steep gates;
 * pairs topk3 refuses (±∞ or NaN active logits), pairs loglik3 refuses (a row with no finite
 * density), pairs topk3 refuses and loglik3 then takes, runs and blocks of them (runPairs' chunks);
 * odd n, n = 1, 2, 3; and the calls it leaves to the two passes.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { expectSameBits } from './wasm-helpers.js';

function setup(K: number, selectOn: 'logit' | 'slope', n: number, seed: number, steep = 1) {
  const rng = createRng(seed);
  const m: Model = {
    gate: { kind: 'topk', K, selectOn },
    k: 3,
    d: 1,
    beta0: Float64Array.from({ length: 3 }, (_, j) => (j === 2 ? 0 : steep * rng.normal())),
    beta1: Float64Array.from({ length: 3 }, (_, j) => (j === 2 ? 0 : 3 * steep * rng.normal())),
    a: Float64Array.from({ length: 3 }, (_, j) => 3 * (j - 1) + rng.normal()),
    b: Float64Array.from({ length: 3 }, () => rng.normal()),
    nu: Float64Array.from({ length: 3 }, () => 0.01 + 0.2 * rng.uniform()),
    tau: 1,
  };
  const X = Float64Array.from({ length: n }, () => 2 * rng.normal());
  const y = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(rng.uniform() * 3);
    return m.b[j]! + m.a[j]! * X[i]! + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  return { m, X, y, rng };
}

/**
 * The fused pass (write and not) and the two passes on arena copies; checks that the fused kernel
 * ran alone (no gate kernel) and the bits. Returns the total.
 */
function expectSame(m: Model, X: Float64Array, y: Float64Array): number {
  const n = y.length;
  const be = createCpuBackend();
  const A = createArena([n, n, 3 * n, 3 * n, 3 * n, 3 * n], [3 * n, 3 * n])!;
  const Xa = A.copy(X),
    ya = A.copy(y);
  const lp2 = A.alloc(3 * n),
    pi2 = A.alloc(3 * n),
    mk2 = A.allocU8(3 * n);
  be.gateProbs(m, Xa, n, lp2, pi2, mk2, 'compute');
  const twoPass = be.logLik(m, Xa, ya, n, lp2);
  // stale values in the outputs must not leak through
  const lp = A.alloc(3 * n).fill(7),
    pi = A.alloc(3 * n).fill(7),
    mk = A.allocU8(3 * n).fill(7);
  for (const write of [true, false]) {
    const gate = wasmCalls.gate,
      ll = wasmCalls.logLik;
    const fused = be.topkLogLik!(m, Xa, ya, n, lp, pi, mk, write);
    expect(wasmCalls.gate, 'no gate pass').toBe(gate);
    expect(wasmCalls.logLik, 'the fused kernel ran').toBe(ll + 1);
    expect(Object.is(fused, twoPass), `write ${write}: ${fused} vs ${twoPass}`).toBe(true);
    if (write) {
      expectSameBits(lp2, lp, 'logPi');
      expectSameBits(pi2, pi, 'pi');
      expectSameBits(mk2, mk, 'mask');
      lp.fill(7);
      pi.fill(7);
      mk.fill(7);
    }
  }
  return twoPass;
}

/** The same with the rows of `bad` turned into the corner cases (by row index modulo 5). */
function corner(m: Model, X: Float64Array, y: Float64Array, rows: Iterable<number>): void {
  for (const i of rows) {
    switch (i % 5) {
      case 0: // logits ±∞ (β1 ≈ ±1e300 in the steep set-ups) or huge: topk3 refuses an active ±∞
        X[i] = i % 2 ? 1e10 : -1e10;
        break;
      case 1: // NaN x: NaN logits and log π, both kernels refuse
        X[i] = NaN;
        break;
      case 2: // y so far that every density underflows to 0: loglik3 refuses (−∞)
        y[i] = 1e200;
        break;
      case 3: // NaN y
        y[i] = NaN;
        break;
      default: // an ordinary row
        break;
    }
  }
}

describe('one-pass top-K log-likelihood (d = 1, k = 3): the two passes bit for bit', () => {
  let seed = 700;
  for (const K of [1, 2]) {
    for (const selectOn of ['logit', 'slope'] as const) {
      it(`K = ${K}, ${selectOn}: ordinary and steep gates, n even and odd`, () => {
        for (const [n, steep] of [
          [4000, 1],
          [3999, 1],
          [2001, 300],
          [2000, 1e5],
        ] as const) {
          const { m, X, y } = setup(K, selectOn, n, seed++, steep);
          expect(Number.isFinite(expectSame(m, X, y))).toBe(true);
        }
      });

      it(`K = ${K}, ${selectOn}: refused pairs, runs and blocks of them`, () => {
        const n = 6001;
        const { m, X, y, rng } = setup(K, selectOn, n, seed++);
        m.beta1[0] = 1e300;
        m.beta1[1] = K === 2 ? 1e300 : -1e300;
        // scattered corner rows, then a block of each kind (runPairs' chunks grow over a block)
        corner(
          m,
          X,
          y,
          Array.from({ length: 300 }, () => Math.floor(rng.uniform() * n)),
        );
        expectSame(m, X, y);
        for (const [from, kind] of [
          [1000, 0],
          [2000, 1],
          [3000, 2],
          [4000, 3],
        ] as const) {
          const block = Array.from({ length: 400 }, (_, t) => from + 5 * t + kind);
          corner(m, X, y, block);
        }
        expectSame(m, X, y);
      });
    }
  }

  it('pairs topk3 refuses and loglik3 takes (an active −∞ logit): one pair, runs, a block', () => {
    for (const K of [2]) {
      const n = 3001;
      const { m, X, y } = setup(K, 'logit', n, 800 + K);
      // experts 0 and 1 both at −∞ where x = −1e10: one of them is active (−∞ log π, the row's
      // density from expert 2) — topk3 refuses, loglik3 does not
      m.beta1[0] = 1e300;
      m.beta1[1] = 1e300;
      // expert 2's mean not moved by x (its density ordinary there: the sum not swamped by one term)
      m.a[2] = 0;
      const far = [10, 11, 40, 77, 78, 79, 80, 81, 82, 83, ...Array.from({ length: 600 }, (_, t) => 1000 + t)];
      for (const i of far) {
        X[i] = -1e10;
        y[i] = m.b[2]! + 0.1 * (i % 7);
      }
      // a finite total: the order of the sum shows (these pairs go through loglik3's lanes)
      expect(Number.isFinite(expectSame(m, X, y))).toBe(true);
      X[n - 1] = -1e10; // the odd last row
      y[n - 1] = m.b[2]!;
      expect(Number.isFinite(expectSame(m, X, y))).toBe(true);
      // and loglik3's refusals next to them (the total then −∞, or NaN)
      for (const i of [12, 84, 1600, 1601]) y[i] = 1e200;
      expect(expectSame(m, X, y)).toBe(-Infinity);
      y[1602] = NaN;
      expect(expectSame(m, X, y)).toBeNaN();
    }
  });

  it('n = 1, 2, 3, 5', () => {
    for (const n of [1, 2, 3, 5]) {
      for (const K of [1, 2]) {
        const { m, X, y } = setup(K, K === 2 ? 'slope' : 'logit', n, 900 + n + 10 * K);
        expectSame(m, X, y);
      }
    }
  });

  it('no write: the buffers keep their contents where no row went to JS', () => {
    const n = 501;
    const { m, X, y } = setup(2, 'logit', n, 950);
    const be = createCpuBackend();
    const A = createArena([n, n, 3 * n, 3 * n], [3 * n])!;
    const lp = A.alloc(3 * n).fill(7),
      pi = A.alloc(3 * n).fill(7),
      mk = A.allocU8(3 * n).fill(7);
    be.topkLogLik!(m, A.copy(X), A.copy(y), n, lp, pi, mk, false);
    // the odd last row went to JS
    expect(lp.subarray(0, 3 * (n - 1)).every((v) => v === 7)).toBe(true);
    expect(pi.subarray(0, 3 * (n - 1)).every((v) => v === 7)).toBe(true);
    expect(mk.subarray(0, 3 * (n - 1)).every((v) => v === 7)).toBe(true);
  });

  it('left to the two passes: plain arrays, SIMD off, non-finite β, other shapes and gates', () => {
    const n = 50;
    const { m, X, y } = setup(2, 'logit', n, 990);
    const be = createCpuBackend();
    const lp = new Float64Array(3 * n),
      pi = new Float64Array(3 * n),
      mk = new Uint8Array(3 * n);
    expect(be.topkLogLik!(m, X, y, n, lp, pi, mk, true), 'plain arrays').toBeUndefined();
    const A = createArena([n, n, 3 * n, 3 * n], [3 * n])!;
    const args = [A.copy(X), A.copy(y), n, A.alloc(3 * n), A.alloc(3 * n), A.allocU8(3 * n), true] as const;
    expect(be.topkLogLik!(m, ...args)).toBeTypeOf('number');
    expect(createCpuBackend({ simd: false }).topkLogLik!(m, ...args), 'simd off').toBeUndefined();
    const nan = { ...m, beta0: Float64Array.from([0, NaN, 0]) };
    expect(be.topkLogLik!(nan, ...args), 'non-finite β').toBeUndefined();
    expect(be.topkLogLik!({ ...m, gate: { kind: 'topk', K: 3, selectOn: 'logit' } }, ...args), 'K = 3').toBeUndefined();
    expect(be.topkLogLik!({ ...m, gate: { kind: 'softmax' } }, ...args), 'softmax gate').toBeUndefined();
  });
});
