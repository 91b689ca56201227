/**
 * The SIMD top-K gate (src/em/backend/simd/gen/kernels-topk.ts, driven by src/em/backend/simd/driver.ts with the binding of src/em/backend/cpu/topk-gate.ts)
 * against the JS kernel it replaces (cpu/topk-gate.ts topkGateRows1k3, d = 1, k = 3): mask bytes, π and
 * log π bit for bit on every row, Q within the rounding of a sum taken in another order (and −∞
 * exactly when the JS kernel's is); K = 1, 2, 3, ranking on logits and on slopes, the mask computed
 * and held fixed; ties; pairs the kernel refuses (NaN x, ±∞ active logits, an empty fixed mask) and
 * runs of them; odd n and n = 1.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { topkGateRows1k3, topkSimd } from '../../src/em/backend/cpu/topk-gate.js';
import type { Arena } from '../../src/em/backend/simd/arena.js';
import { runSimd } from '../../src/em/backend/simd/driver.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { expectSameBits, simplexRows } from './wasm-helpers.js';

const U = 2 ** -53;

/** The top-K binding through the generic driver, refused rows through `rows` (all rows when it has no kernel for the call). */
function topkWasm(
  A: Arena,
  beta0: Float64Array,
  beta1: Float64Array,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  mask: Uint8Array,
  compute: boolean,
  K: number,
  slope: boolean,
  resp: Float64Array,
  withQ: boolean,
  rows: typeof topkGateRows1k3,
): number {
  return (
    runSimd(A, topkSimd(rows), { beta0, beta1, X, n, logPi, pi, mask, compute, K, slope, resp, withQ }, n) ??
    rows(beta0, beta1, X, n, logPi, pi, mask, compute, K, slope, resp, withQ)
  );
}
type Mode = 'compute' | 'fixed';

function setup(K: number, selectOn: 'logit' | 'slope', n: number, seed: number, tie = false) {
  const rng = createRng(seed);
  const beta0 = Float64Array.from({ length: 3 }, () => rng.normal());
  const beta1 = Float64Array.from({ length: 3 }, () => 3 * rng.normal());
  beta0[2] = 0;
  beta1[2] = 0;
  // experts 0 and 1 with the same gate: every row ties between them (the lower index wins)
  if (tie) {
    beta0[1] = beta0[0]!;
    beta1[1] = beta1[0]!;
  }
  const m: Model = {
    gate: { kind: 'topk', K, selectOn },
    k: 3,
    d: 1,
    beta0,
    beta1,
    a: new Float64Array(3),
    b: new Float64Array(3),
    nu: new Float64Array(3).fill(1),
    tau: 1,
  };
  const X = Float64Array.from({ length: n }, () => 2 * rng.normal());
  // rows at x = ±0: slope scores all ±0, a three-way tie (and logits β0)
  for (let i = 0; i < n; i += 37) X[i] = 0;
  for (let i = 18; i < n; i += 37) X[i] = -0;
  const resp = simplexRows(rng, n, 3);
  // a fixed mask: every row some non-empty subset, a few bytes 2 (any non-zero byte is active)
  const mask = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const set = 1 + Math.floor(7 * rng.uniform()); // 1..7
    for (let j = 0; j < 3; j++) mask[3 * i + j] = (set >> j) & 1 ? (rng.uniform() < 0.1 ? 2 : 1) : 0;
  }
  return { m, X, resp, mask };
}

/** resp with the entries of inactive experts set to 0 (then Q is finite) */
function onActive(resp: Float64Array, mask: Uint8Array): Float64Array {
  return resp.map((r, t) => (mask[t] ? r : 0));
}

/** gateProbs on plain arrays (JS kernel) and on arena copies (SIMD kernel). */
function both(
  m: Model,
  X: Float64Array,
  resp: Float64Array,
  mode: Mode,
  mask0: Uint8Array,
  withQ: boolean,
  expectWasm = true,
) {
  const n = X.length;
  const be = createCpuBackend();
  const lpJ = new Float64Array(3 * n),
    piJ = new Float64Array(3 * n);
  const maskJ = mode === 'fixed' ? mask0.slice() : new Uint8Array(3 * n);
  const qJ = be.gateProbs(m, X, n, lpJ, piJ, maskJ, mode, withQ ? resp : undefined);
  const A = createArena([n, 3 * n, 3 * n, 3 * n], [3 * n])!;
  expect(A).not.toBeNull();
  const Xa = A.copy(X),
    ra = A.copy(resp);
  // stale values in the outputs must not leak through
  const lpW = A.alloc(3 * n).fill(7),
    piW = A.alloc(3 * n).fill(7);
  const maskW = A.allocU8(3 * n);
  if (mode === 'fixed') maskW.set(mask0);
  else maskW.fill(7);
  const calls = wasmCalls.gate;
  const qW = be.gateProbs(m, Xa, n, lpW, piW, maskW, mode, withQ ? ra : undefined);
  expect(wasmCalls.gate, 'the SIMD kernel ran').toBe(calls + (expectWasm ? 1 : 0));
  // Σ|r log π| over the terms Q adds bounds the rounding of Q in any order
  let absQ = 0;
  for (let t = 0; t < 3 * n; t++) if (resp[t] !== 0) absQ += Math.abs(resp[t]! * lpJ[t]!);
  return { lpJ, piJ, maskJ, lpW, piW, maskW, qJ, qW, absQ, n };
}

/**
 * Rows the SIMD kernel hands to the JS kernel (topkWasm called directly, its JS kernel counted),
 * against the pairs it must refuse: a row with no active expert or a non-finite active logit.
 * With isolated refused pairs every JS call is one pair (plus an odd last row).
 */
function expectRefused(m: Model, X: Float64Array, mode: Mode, mask: Uint8Array): void {
  const n = X.length;
  const A = createArena([n, 3 * n, 3 * n, 3 * n], [3 * n])!;
  const Xa = A.copy(X),
    lp = A.alloc(3 * n),
    pi = A.alloc(3 * n),
    mk = A.allocU8(3 * n);
  mk.set(mask);
  let jsRows = 0;
  const counted: typeof topkGateRows1k3 = (b0, b1, x, len, ...rest) => {
    jsRows += len;
    return topkGateRows1k3(b0, b1, x, len, ...rest);
  };
  const K = m.gate.kind === 'topk' ? m.gate.K : 3;
  const slope = m.gate.kind === 'topk' && m.gate.selectOn === 'slope';
  topkWasm(A, m.beta0, m.beta1, Xa, n, lp, pi, mk, mode === 'compute', K, slope, A.alloc(3 * n), false, counted);
  const refused = (i: number): boolean => {
    let any = false,
      bad = false;
    for (let j = 0; j < 3; j++) {
      if (!mask[3 * i + j]) continue;
      any = true;
      if (!Number.isFinite(m.beta0[j]! + m.beta1[j]! * X[i]!)) bad = true;
    }
    return !any || bad;
  };
  let pairs = 0;
  for (let p = 0; p < n >> 1; p++) if (refused(2 * p) || refused(2 * p + 1)) pairs++;
  expect(jsRows, 'rows run in JS').toBe(2 * pairs + (n & 1));
}

function expectAgree(r: ReturnType<typeof both>, withQ: boolean): void {
  expectSameBits(r.maskJ, r.maskW, 'mask');
  expectSameBits(r.lpJ, r.lpW, 'logPi');
  expectSameBits(r.piJ, r.piW, 'pi');
  if (!withQ) {
    expect(Number.isNaN(r.qJ) && Number.isNaN(r.qW)).toBe(true);
    return;
  }
  if (!Number.isFinite(r.qJ)) {
    expect(Object.is(r.qW, r.qJ), `Q ${r.qW} vs ${r.qJ}`).toBe(true);
    return;
  }
  // 3n terms added in two orders: each sum is within 3n·u·Σ|terms| of the exact one
  expect(Math.abs(r.qW - r.qJ)).toBeLessThanOrEqual(2 * 3 * r.n * U * r.absQ);
}

describe('WebAssembly top-K gate (d = 1, k = 3)', () => {
  let seed = 100;
  for (const K of [1, 2, 3]) {
    for (const selectOn of ['logit', 'slope'] as const) {
      it(`K = ${K}, ${selectOn}: mask, π and log π bit for bit, Q to rounding (compute and fixed, with and without Q)`, () => {
        for (const [n, tie] of [
          [3000, false],
          [2999, true],
        ] as const) {
          const { m, X, resp, mask } = setup(K, selectOn, n, seed++, tie);
          // compute: Q over the active entries is finite; with r > 0 on inactive ones it is −∞ (K < 3)
          const c0 = both(m, X, resp, 'compute', mask, false);
          expectAgree(c0, false);
          const c1 = both(m, X, onActive(resp, c0.maskJ), 'compute', mask, true);
          expectAgree(c1, true);
          // (K = 1: π = 1 on the active expert, so Q = 0 exactly)
          expect(Number.isFinite(c1.qW) && (K === 1 ? c1.qW === 0 : c1.qW < 0)).toBe(true);
          const c2 = both(m, X, resp, 'compute', mask, true);
          expectAgree(c2, true);
          expect(c2.qW).toBe(K === 3 ? c1.qW : -Infinity);
          // the kernel took every pair
          expectRefused(m, X, 'compute', c0.maskJ);
          expectRefused(m, X, 'fixed', mask);
          // ties: the lower index wins (tie: experts 0 and 1 have the same gate)
          if (tie && K === 1) for (let i = 0; i < n; i++) expect(c0.maskW[3 * i + 1]).toBe(0);
          // fixed mask (bytes 1 and 2)
          expectAgree(both(m, X, resp, 'fixed', mask, false), false);
          const f1 = both(m, X, onActive(resp, mask), 'fixed', mask, true);
          expectAgree(f1, true);
          expect(Number.isFinite(f1.qW)).toBe(true);
          const f2 = both(m, X, resp, 'fixed', mask, true);
          expectAgree(f2, true);
          expect(f2.qW).toBe(-Infinity);
        }
      });
    }
  }

  it('odd n, n = 1, 2, 3: the last row in JS, the same values', () => {
    for (const n of [1, 2, 3, 5]) {
      for (const K of [1, 2, 3]) {
        const { m, X, resp, mask } = setup(K, K === 2 ? 'slope' : 'logit', n, 200 + n + 10 * K);
        for (const mode of ['compute', 'fixed'] as const) {
          const r = both(m, X, resp, mode, mask, true);
          expectAgree(r, true);
          expectAgree(both(m, X, onActive(resp, r.maskJ), mode, mask, true), true);
        }
      }
    }
  });

  it('refused pairs (NaN x, ±∞ active logits, an empty fixed mask) take the JS kernel and give its values', () => {
    for (const K of [1, 2, 3]) {
      for (const selectOn of ['logit', 'slope'] as const) {
        const n = 1001;
        const { m, X, resp, mask } = setup(K, selectOn, n, 300 + K);
        // a huge gate: expert 0's logit is ±∞ at |x| = 1e10 (rows 10, 14; at 14 inactive unless K = 3 or fixed) and ≈ ±2e300 elsewhere
        m.beta1[0] = 1e300;
        X[10] = 1e10;
        X[14] = -1e10;
        X[501] = 1e10;
        X[77] = NaN;
        X[600] = NaN;
        mask.fill(0, 3 * 400, 3 * 401); // row 400: no active expert (π NaN in the JS kernel)
        for (const mode of ['compute', 'fixed'] as const) {
          const r = both(m, X, onActive(resp, mask), mode, mask, true);
          expectAgree(r, true);
          // NaN x: NaN log π on that row's active experts, as in the JS kernel; the empty row's π NaN
          for (const i of [77, 600]) expect([0, 1, 2].some((j) => Number.isNaN(r.lpW[3 * i + j]!))).toBe(true);
          if (mode === 'fixed') expect(Number.isNaN(r.piW[3 * 400]!)).toBe(true);
          const r0 = both(m, X, resp, mode, mask, false);
          expectAgree(r0, false);
          // isolated refused pairs: 5, 7 (K = 3 or fixed), 38, 200 (fixed), 250, 300
          expectRefused(m, X, mode, r0.maskJ);
        }
        // without the NaN rows: the ±∞ logits alone
        X[77] = 1;
        X[600] = -1;
        for (const mode of ['compute', 'fixed'] as const) expectAgree(both(m, X, resp, mode, mask, true), true);
      }
    }
  });

  it('the cutoff: a term at −708 relative to the maximum is exponentiated, one below is 0', () => {
    for (const K of [2, 3]) {
      const { m, X, resp, mask } = setup(K, 'logit', 64, 450);
      // β1 = 0: every row has the logits β0 (x irrelevant); then the same with a slope on top
      for (const b0 of [
        [0, -708, -708.25],
        [-708.25, 0, -708],
        [1, -707, -707.5],
        [-708.0000000001, 0, -708],
      ]) {
        m.beta0.set(b0);
        m.beta1.fill(0);
        for (const mode of ['compute', 'fixed'] as const) expectAgree(both(m, X, resp, mode, mask.fill(1), true), true);
        m.beta1.set([1e-3, 0, 2e-3]);
        for (const mode of ['compute', 'fixed'] as const) expectAgree(both(m, X, resp, mode, mask, true), true);
      }
    }
  });

  it("runs of refused pairs and a block of them give the JS kernel's values", () => {
    const n = 6001;
    for (const K of [1, 2]) {
      const { m, X, resp, mask } = setup(K, 'logit', n, 400 + K);
      for (let i = 0; i < n; i += 7) X[i] = NaN; // scattered
      for (let i = 1000; i < 4000; i++) X[i] = NaN; // and a block of 1500 refused pairs
      for (const mode of ['compute', 'fixed'] as const) expectAgree(both(m, X, resp, mode, mask, true), true);
    }
  });

  it('non-finite coefficients: the JS kernel takes every row', () => {
    const { m, X, resp, mask } = setup(2, 'logit', 101, 500);
    m.beta0[1] = NaN;
    for (const mode of ['compute', 'fixed'] as const) expectAgree(both(m, X, resp, mode, mask, true, false), true);
  });

  it('the same inputs give the same bits on every call', () => {
    const { m, X, resp, mask } = setup(2, 'logit', 2000, 600);
    const a = both(m, X, resp, 'compute', mask, true),
      b = both(m, X, onActive(resp, a.maskJ), 'compute', mask, true);
    const c = both(m, X, onActive(resp, a.maskJ), 'compute', mask, true);
    expect(Object.is(b.qW, c.qW)).toBe(true);
    expectSameBits(a.piW, c.piW, 'pi');
  });
});
