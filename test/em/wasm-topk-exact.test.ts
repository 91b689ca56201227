/**
 * The SIMD top-K gate topk3 (src/em/backend/simd/gen/kernels-topk.ts), which skips the exact terms
 * (the maximum's e^0 = 1, an inactive expert's +0) and finishes each pair one iteration late, against
 * the kernel it replaced, bit for bit — log π, π, the mask and Q under Object.is. The reference is
 * that kernel's semantics in JS: row pairs in order, each row by the JS kernel topkGateRows1k3 (to
 * which the SIMD kernel's rows were equal bit for bit), Q summed per lane (even rows, odd rows) in
 * pair order, refused pairs the same ones (a row with no active expert or a non-finite active
 * logit), so runPairs hands the same rows to JS. Cases: K = 1, 2, 3, ranking on logits and slopes,
 * the mask computed and fixed (fixed masks mixing 1, 2 and 3 active experts, or all of one size),
 * with and without Q, steep gates, ±0 logits, refused pairs and runs of them, odd n.
 */
import { describe, expect, it } from 'vitest';
import { createArena } from '../../src/em/backend/simd/arena.js';
import type { Arena } from '../../src/em/backend/simd/arena.js';
import { runSimd } from '../../src/em/backend/simd/driver.js';
import type { SimdKernel, SimdSetup } from '../../src/em/backend/simd/driver.js';
import { topkGateRows1k3, topkSimd } from '../../src/em/backend/cpu/topk-gate.js';
import type { TopkCall } from '../../src/em/backend/cpu/topk-gate.js';
import { createRng } from '../../src/random/rng.js';
import { expectSameBits, simplexRows } from './wasm-helpers.js';

const binding = topkSimd(topkGateRows1k3);

/** Pairs [start, end) as the replaced kernel ran them; returns the first refused pair (or end). */
function referencePairs(A: Arena, c: TopkCall, start: number, end: number): number {
  const lp = new Float64Array(6),
    pi = new Float64Array(6),
    mk = new Uint8Array(6);
  for (let p = start; p < end; p++) {
    const t = 6 * p;
    if (!c.compute) mk.set(c.mask.subarray(t, t + 6));
    const x = c.X.subarray(2 * p, 2 * p + 2);
    topkGateRows1k3(c.beta0, c.beta1, x, 2, lp, pi, mk, c.compute, c.K, c.slope, c.resp, false);
    for (let row = 0; row < 2; row++) {
      let any = false;
      for (let j = 0; j < 3; j++) {
        if (!mk[3 * row + j]) continue;
        any = true;
        if (!Number.isFinite(c.beta0[j]! + c.beta1[j]! * x[row]!)) return p;
      }
      if (!any) return p;
    }
    c.logPi.set(lp, t);
    c.pi.set(pi, t);
    if (c.compute) c.mask.set(mk, t);
    if (c.withQ)
      for (let row = 0; row < 2; row++)
        for (let j = 0; j < 3; j++) {
          const r = c.resp[t + 3 * row + j]!;
          if (r !== 0) A.acc[row] = A.acc[row]! + r * lp[3 * row + j]!;
        }
  }
  return end;
}

/** The binding with its kernel replaced by referencePairs (same set-up, JS rows and finish). */
function reference(c: TopkCall): SimdKernel<TopkCall> {
  return {
    ...binding,
    setup(A, call) {
      const s = binding.setup(A, call);
      if (s === null) return null;
      const kernel = (start: number, end: number): number => referencePairs(A, c, start, end);
      return { kernel: kernel as unknown as SimdSetup['kernel'], args: [] };
    },
  };
}

interface Case {
  beta0: number[];
  beta1: number[];
  X: Float64Array;
  resp: Float64Array;
  mask: Uint8Array;
}

/** The kernel and the reference on two arenas, from the same inputs: every output under Object.is. */
function expectSame(cs: Case, compute: boolean, K: number, slope: boolean, withQ: boolean): void {
  const n = cs.X.length;
  const out = [0, 1].map(() => {
    const A = createArena([n, 3 * n, 3 * n, 3 * n], [3 * n])!;
    const c: TopkCall = {
      beta0: Float64Array.from(cs.beta0),
      beta1: Float64Array.from(cs.beta1),
      X: A.copy(cs.X),
      n,
      // stale values must not leak through
      logPi: A.alloc(3 * n).fill(7),
      pi: A.alloc(3 * n).fill(7),
      mask: A.allocU8(3 * n),
      compute,
      K,
      slope,
      resp: A.copy(cs.resp),
      withQ,
    };
    if (compute) c.mask.fill(7);
    else c.mask.set(cs.mask);
    return { A, c };
  });
  const [neu, ref] = out as [(typeof out)[0], (typeof out)[0]];
  const qNew = runSimd(neu.A, binding, neu.c, n);
  const qRef = runSimd(ref.A, reference(ref.c), ref.c, n);
  const what = `compute ${compute}, K ${K}, slope ${slope}, withQ ${withQ}, n ${n}`;
  expect(qNew === undefined, what).toBe(qRef === undefined);
  expect(Object.is(qNew, qRef), `${what}: Q ${qNew} vs ${qRef}`).toBe(true);
  expectSameBits(ref.c.logPi, neu.c.logPi, `${what}: logPi`);
  expectSameBits(ref.c.pi, neu.c.pi, `${what}: pi`);
  expectSameBits(ref.c.mask, neu.c.mask, `${what}: mask`);
}

/** Gate, rows and responsibilities; `sizes`: the fixed mask's active-set sizes to draw from. */
function setup(n: number, seed: number, steep: number, sizes: number[]): Case {
  const rng = createRng(seed);
  const beta0 = [0, 1, 2].map((j) => (j === 2 ? 0 : steep * rng.normal()));
  const beta1 = [0, 1, 2].map((j) => (j === 2 ? 0 : 3 * steep * rng.normal()));
  const X = Float64Array.from({ length: n }, () => 2 * rng.normal());
  // ±0 rows: three-way slope ties, and logits β0 (−0 where β0 is −0)
  for (let i = 0; i < n; i += 29) X[i] = 0;
  for (let i = 14; i < n; i += 29) X[i] = -0;
  const resp = simplexRows(rng, n, 3);
  const mask = new Uint8Array(3 * n);
  const sets = [[], [1, 2, 4], [3, 5, 6], [7]];
  for (let i = 0; i < n; i++) {
    const size = sizes[Math.floor(rng.uniform() * sizes.length)]!;
    const pick = sets[size]!;
    const set = pick[Math.floor(rng.uniform() * pick.length)]!;
    for (let j = 0; j < 3; j++) mask[3 * i + j] = (set >> j) & 1 ? (rng.uniform() < 0.1 ? 2 : 1) : 0;
  }
  return { beta0, beta1, X, resp, mask };
}

/** Every mode on one case: compute (K, slope) and fixed, with and without Q. */
function expectAllModes(cs: Case, K: number): void {
  for (const withQ of [false, true]) {
    for (const slope of [false, true]) expectSame(cs, true, K, slope, withQ);
    expectSame(cs, false, K, false, withQ);
  }
}

describe('topk3 without the exact terms, pipelined: the replaced kernel bit for bit', () => {
  let seed = 900;
  for (const K of [1, 2, 3]) {
    it(`K = ${K}: ordinary and steep gates, fixed masks of each size and mixed, n even and odd`, () => {
      for (const [n, steep] of [
        [4000, 1],
        [3999, 1],
        [2001, 300],
        [2000, 1e5],
      ] as const) {
        for (const sizes of [[K], [1, 2], [1, 2, 3]]) expectAllModes(setup(n, seed++, steep, sizes), K);
      }
    });

    it(`K = ${K}: refused pairs (NaN x, ±∞ logits, empty fixed rows), runs and a block of them`, () => {
      const n = 6001;
      const cs = setup(n, seed++, 1, [1, 2, 3]);
      cs.beta1[0] = 1e300;
      cs.beta1[1] = K === 2 ? 1e300 : -1e300;
      const rng = createRng(seed++);
      for (let t = 0; t < 300; t++) {
        const i = Math.floor(rng.uniform() * n);
        if (t % 3 === 0) cs.X[i] = NaN;
        else if (t % 3 === 1) cs.X[i] = i % 2 ? 1e10 : -1e10;
        else cs.mask.fill(0, 3 * i, 3 * i + 3);
      }
      for (let i = 2000; i < 2800; i++) cs.X[i] = NaN;
      for (let i = 3000; i < 3400; i += 2) cs.mask.fill(0, 3 * i, 3 * i + 3);
      expectAllModes(cs, K);
    });
  }

  it('−0 logits (β0 = −0, x = ±0): log π = v − (mx + log 1) keeps the sign of zero', () => {
    for (const K of [1, 2, 3]) {
      const cs = setup(1001, 950 + K, 1, [K]);
      cs.beta0 = [-0, -0, -0];
      cs.beta1 = [0, -0, 0];
      expectAllModes(cs, K);
      cs.beta1 = [1, -2, 0.5];
      expectAllModes(cs, K);
    }
  });

  it('the cutoff (−708 relative to the maximum) and ties', () => {
    for (const b0 of [
      [0, -708, -708.25],
      [-708.25, 0, -708],
      [1, -707, -707.5],
      [-708.0000000001, 0, -708],
      [0.5, 0.5, 0.5],
    ]) {
      for (const K of [1, 2, 3]) {
        const cs = setup(64, 970, 1, [1, 2, 3]);
        cs.beta0 = b0;
        cs.beta1 = [0, 0, 0];
        expectAllModes(cs, K);
        cs.beta1 = [1e-3, 0, 2e-3];
        expectAllModes(cs, K);
      }
    }
  });

  it('n = 1, 2, 3, 5', () => {
    for (const n of [1, 2, 3, 5])
      for (const K of [1, 2, 3]) expectAllModes(setup(n, 980 + n + 10 * K, 1, [1, 2, 3]), K);
  });
});
