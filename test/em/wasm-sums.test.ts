/**
 * The SIMD sum kernels (src/em/backend/simd/gen/kernels-sums.ts, driven by src/em/backend/simd/driver.ts with the bindings of src/em/backend/cpu/moments.ts and gradcurv.ts)
 * against the JS kernels they replace (momentsRows1k2/k3, gradCurvRows1k2/k3 of cpu/moments.ts, cpu/gradcurv.ts): per-row
 * terms are recomputed here with the JS kernels' operations, summed in the JS order (which must
 * give the JS kernel's bits) and in the documented SIMD order — even rows, odd rows, lane 0 +
 * lane 1, then an odd last row — which must give the kernel's bits; the two orders agree within
 * n·u·Σ|terms|. Odd n, n = 1, rows with r = 0 (and −0), every free-expert pair, NaN.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { gradCurvSimd2, gradCurvSimd3 } from '../../src/em/backend/cpu/gradcurv.js';
import { momentsSimd } from '../../src/em/backend/cpu/moments.js';
import { runSimd } from '../../src/em/backend/simd/driver.js';
import { expertMoments, type GateLayout } from '../../src/em/backend/types.js';
import { createArena, type Arena } from '../../src/em/backend/simd/arena.js';
import { createRng } from '../../src/random/rng.js';
import { pairSums } from './wasm-helpers.js';

type MomentsRows = Parameters<typeof momentsSimd>[1];
type GradCurvRows3 = Parameters<typeof gradCurvSimd3>[0];
type GradCurvRows2 = Parameters<typeof gradCurvSimd2>[0];

/** The moments binding through the generic driver, its odd last row through `rows`. */
function momentsWasm(
  A: Arena,
  k: 2 | 3,
  X: Float64Array,
  y: Float64Array,
  n: number,
  resp: Float64Array,
  shX: Float64Array,
  shY: Float64Array,
  out6: Float64Array,
  rows: MomentsRows,
): void {
  runSimd(A, momentsSimd(k, rows), { k, d: 1, X, y, n, resp, shX, shY, out6, last: new Float64Array(18) }, n);
}

/** The gate-sum bindings through the generic driver: false when the binding has no kernel for the free experts. */
function gradCurvWasm3(
  A: Arena,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  fa: number,
  fb: number,
  out: Float64Array,
  rows: GradCurvRows3,
): boolean {
  return runSimd(A, gradCurvSimd3(rows), { X, n, resp, pi, fa, fb, out, last: new Float64Array(13) }, n) !== undefined;
}
function gradCurvWasm2(
  A: Arena,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  fa: number,
  out: Float64Array,
  rows: GradCurvRows2,
): boolean {
  return (
    runSimd(A, gradCurvSimd2(rows), { X, n, resp, pi, fa, fb: -1, out, last: new Float64Array(5) }, n) !== undefined
  );
}

const U = 2 ** -53;

interface Data {
  k: 2 | 3;
  n: number;
  X: Float64Array;
  y: Float64Array;
  resp: Float64Array;
  pi: Float64Array;
}

/** Rows of probabilities with exact zeros (and a −0) in some entries, a whole zero row, and π > 0. */
function setup(k: 2 | 3, n: number, seed: number): Data {
  const rng = createRng(seed);
  const X = Float64Array.from({ length: n }, () => 3 * rng.normal() + 1);
  const y = Float64Array.from({ length: n }, () => 2 * rng.normal() - 0.5);
  const resp = new Float64Array(n * k),
    pi = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0,
      t = 0;
    for (let j = 0; j < k; j++) {
      const u = rng.uniform();
      resp[i * k + j] = u < 0.2 ? 0 : u;
      s += resp[i * k + j]!;
      pi[i * k + j] = rng.uniform() + 1e-3;
      t += pi[i * k + j]!;
    }
    for (let j = 0; j < k; j++) {
      resp[i * k + j] = s > 0 ? resp[i * k + j]! / s : 0;
      pi[i * k + j] = pi[i * k + j]! / t;
    }
  }
  if (n > 4) {
    resp.fill(0, 3 * k, 4 * k);
    resp[k + 1] = -0;
  }
  return { k, n, X, y, resp, pi };
}

/** Per-row terms of the moments (momentsRows1k3's operations): 6 per expert. */
function momentTerms(D: Data, shX: Float64Array, shY: Float64Array) {
  return (i: number, out: Float64Array): void => {
    for (let j = 0; j < D.k; j++) {
      const r = D.resp[i * D.k + j]!;
      const dx = D.X[i]! - shX[j]!,
        dy = D.y[i]! - shY[j]!,
        rx = r * dx;
      out.set([r, rx, r * dy, rx * dx, rx * dy, r * dy * dy], 6 * j);
    }
  };
}

/** Per-row terms of the gate gradient / curvature (gradCurvRows1k3 / gradCurvRows1k2's operations). */
function gradCurvTerms(D: Data, fa: number, fb: number) {
  return (i: number, out: Float64Array): void => {
    const o = i * D.k;
    let R = 0;
    for (let j = 0; j < D.k; j++) R += D.resp[o + j]!; // 0 + r0 + r1 (+ r2)
    const x = D.X[i]!,
      x2 = x * x;
    const pa = D.pi[o + fa]!;
    const Ga = D.resp[o + fa]! - R * pa;
    const ra = R * pa;
    const caa = ra * (1 - pa);
    if (D.k === 2) {
      out.set([Ga, Ga * x, caa, caa * x, caa * x2]);
      return;
    }
    const pb = D.pi[o + fb]!;
    const Gb = D.resp[o + fb]! - R * pb;
    const rb = R * pb;
    const cab = -ra * pb;
    const cbb = rb * (1 - pb);
    out.set([Ga, Ga * x, Gb, Gb * x, caa, caa * x, caa * x2, cab, cab * x, cab * x2, cbb, cbb * x, cbb * x2]);
  };
}

/** A JS rows kernel from per-row terms, summed in row order (the JS kernels' signature). */
function rowsKernel(
  m: number,
  terms: (i: number, out: Float64Array) => void,
  n: number,
  i0: number,
  out: Float64Array,
): void {
  const t = new Float64Array(m);
  out.fill(0, 0, m);
  for (let i = i0; i < i0 + n; i++) {
    terms(i, t);
    for (let s = 0; s < m; s++) out[s] = out[s]! + t[s]!;
  }
}

function expectBits(got: Float64Array, want: Float64Array, what: string): void {
  for (let t = 0; t < want.length; t++)
    expect(Object.is(got[t], want[t]), `${what}[${t}]: ${got[t]} vs ${want[t]}`).toBe(true);
}

/** Two orders of the same n-term sums differ by at most ~1.5·n·u·Σ|terms|; 4 leaves room. */
function expectClose(a: Float64Array, b: Float64Array, abs: Float64Array, n: number, what: string): void {
  for (let t = 0; t < abs.length; t++) {
    expect(Math.abs(a[t]! - b[t]!), `${what}[${t}]`).toBeLessThanOrEqual(4 * n * U * abs[t]!);
  }
}

function inArena(D: Data): { A: Arena; X: Float64Array; y: Float64Array; resp: Float64Array; pi: Float64Array } {
  const A = createArena([D.n, D.n, D.n * D.k, D.n * D.k]);
  expect(A).not.toBeNull();
  return { A: A!, X: A!.copy(D.X), y: A!.copy(D.y), resp: A!.copy(D.resp), pi: A!.copy(D.pi) };
}

/** Softmax-style layout of a d = 1 gate whose reference (fixed) expert is `ref`. */
function layout(k: number, ref: number): GateLayout {
  const b0Index = new Int32Array(k),
    b1Index = new Int32Array(k);
  let p = 0;
  for (let j = 0; j < k; j++) {
    if (j === ref) {
      b0Index[j] = -1;
      b1Index[j] = -1;
    } else {
      b0Index[j] = p;
      b1Index[j] = p + 1;
      p += 2;
    }
  }
  return { k, d: 1, p, b0Index, b1Index, tauIndex: -1, linear: true };
}

const CASES = [
  [3, 5001, 1],
  [3, 5000, 2],
  [2, 4999, 3],
  [2, 5000, 4],
  [3, 1, 5],
  [2, 1, 6],
  [3, 2, 7],
  [2, 3, 8],
  [3, 7, 9],
] as const;

describe('WebAssembly moments (d = 1)', () => {
  for (const [k, n, seed] of CASES) {
    it(`k = ${k}, n = ${n}: the SIMD order's bits, within n·u·Σ|terms| of the JS order`, () => {
      const D = setup(k, n, seed);
      const shX = Float64Array.from({ length: k }, (_, j) => 0.3 * j - 0.2);
      const shY = Float64Array.from({ length: k }, (_, j) => 0.1 - 0.4 * j);
      const terms = momentTerms(D, shX, shY);
      const ref = pairSums(n, 6 * k, terms);
      const W = inArena(D);
      const out = new Float64Array(6 * k);
      // the odd last row goes through the rows kernel given: here the reference's, on the subarrays' offset
      momentsWasm(W.A, k, W.X, W.y, n, W.resp, shX, shY, out, (_X, _y, len, _r, _sx, _sy, o) =>
        rowsKernel(6 * k, terms, len, n - len, o),
      );
      expectBits(out, ref.simd, 'sums');
      expectClose(out, ref.seq, ref.abs, n, 'sums vs JS order');
    });
  }

  it("through the backend: N is the JS kernel's on plain arrays and the SIMD order's in an arena; means to rounding", () => {
    for (const [k, n, seed] of [
      [3, 3001, 11],
      [2, 3000, 12],
    ] as const) {
      const D = setup(k, n, seed);
      const ref = pairSums(n, 6 * k, momentTerms(D, new Float64Array(k), new Float64Array(k)));
      const be = createCpuBackend();
      const mJ = expertMoments(k, 1),
        mW = expertMoments(k, 1);
      const W = inArena(D);
      const calls = wasmCalls.sums;
      be.expertMoments(D.X, D.y, n, 1, k, D.resp, mJ);
      expect(wasmCalls.sums, 'plain arrays: the JS kernel').toBe(calls);
      be.expertMoments(W.X, W.y, n, 1, k, W.resp, mW);
      expect(wasmCalls.sums, 'arena: the SIMD kernel').toBe(calls + 1);
      for (let j = 0; j < k; j++) {
        expect(Object.is(mJ.N[j], ref.seq[6 * j]), `plain N[${j}]`).toBe(true);
        expect(Object.is(mW.N[j], ref.simd[6 * j]), `arena N[${j}]`).toBe(true);
        // x̄ = Σr x / N: the sums' bounds divided by N, plus a rounding of the quotient each
        const bN = 4 * n * U * ref.abs[6 * j]!;
        for (const [got, want, s] of [
          [mW.xbar[j]!, mJ.xbar[j]!, 1],
          [mW.ybar[j]!, mJ.ybar[j]!, 2],
        ] as const) {
          const N = mJ.N[j]!;
          const bound = (4 * n * U * ref.abs[6 * j + s]! + Math.abs(want) * bN) / (N - bN) + 4 * U * Math.abs(want);
          expect(Math.abs(got - want), `mean ${s} of expert ${j}`).toBeLessThanOrEqual(bound);
        }
      }
    }
  });

  it("NaN in a responsibility makes that expert's sums NaN, as in the JS kernel", () => {
    const D = setup(3, 1001, 13);
    D.resp[3 * 500 + 1] = NaN;
    const shX = new Float64Array(3),
      shY = new Float64Array(3);
    const ref = pairSums(1001, 18, momentTerms(D, shX, shY));
    const W = inArena(D);
    const out = new Float64Array(18);
    momentsWasm(W.A, 3, W.X, W.y, 1001, W.resp, shX, shY, out, (_X, _y, len, _r, _sx, _sy, o) =>
      rowsKernel(18, momentTerms(D, shX, shY), len, 1001 - len, o),
    );
    for (let t = 0; t < 18; t++) expect(Number.isNaN(out[t]), `sum ${t}`).toBe(t >= 6 && t < 12);
    expectBits(out, ref.simd, 'sums');
  });
});

describe('WebAssembly gate gradient / curvature sums (d = 1)', () => {
  for (const [k, n, seed] of CASES) {
    const pairs =
      k === 3
        ? [
            [0, 1],
            [0, 2],
            [1, 2],
          ]
        : [
            [0, -1],
            [1, -1],
          ];
    it(`k = ${k}, n = ${n}: every free-expert set, the SIMD order's bits, within n·u·Σ|terms| of the JS order`, () => {
      const D = setup(k, n, seed);
      const W = inArena(D);
      for (const [fa, fb] of pairs) {
        const m = k === 3 ? 13 : 5;
        const terms = gradCurvTerms(D, fa!, fb!);
        const ref = pairSums(n, m, terms);
        const out = new Float64Array(m);
        const js = (len: number, o: Float64Array) => rowsKernel(m, terms, len, n - len, o);
        const ran =
          k === 3
            ? gradCurvWasm3(W.A, W.X, n, W.resp, W.pi, fa!, fb!, out, (_X, len, _r, _p, _a, _b, o) => js(len, o))
            : gradCurvWasm2(W.A, W.X, n, W.resp, W.pi, fa!, out, (_X, len, _r, _p, _a, o) => js(len, o));
        expect(ran).toBe(true);
        expectBits(out, ref.simd, `(${fa}, ${fb})`);
        expectClose(out, ref.seq, ref.abs, n, `(${fa}, ${fb}) vs JS order`);
      }
    });
  }

  it("through the backend, every reference expert: the JS kernel's bits on plain arrays, the SIMD order's in an arena", () => {
    for (const [k, n, seed] of [
      [3, 2001, 21],
      [2, 2000, 22],
      [2, 2001, 23],
    ] as const) {
      const D = setup(k, n, seed);
      const W = inArena(D);
      const be = createCpuBackend();
      const E = new Float64Array(0);
      for (let ref = 0; ref < k; ref++) {
        const L = layout(k, ref);
        const free = [...Array(k).keys()].filter((j) => j !== ref);
        const m = k === 3 ? 13 : 5;
        const R = pairSums(n, m, gradCurvTerms(D, free[0]!, free[1] ?? -1));
        const gJ = new Float64Array(L.p),
          cJ = new Float64Array(L.p * L.p),
          gW = new Float64Array(L.p),
          cW = new Float64Array(L.p * L.p);
        const calls = wasmCalls.sums;
        be.gateGradCurv(L, D.X, n, D.resp, D.pi, E, E, E, 1, gJ, cJ);
        expect(wasmCalls.sums, 'plain arrays: the JS kernel').toBe(calls);
        be.gateGradCurv(L, W.X, n, W.resp, W.pi, E, E, E, 1, gW, cW);
        expect(wasmCalls.sums, 'arena: the SIMD kernel').toBe(calls + 1);
        // gradient: (ga, ga·x[, gb, gb·x]) at the free blocks, in layout order
        expectBits(gJ, R.seq.subarray(0, L.p), 'plain gradient');
        expectBits(gW, R.simd.subarray(0, L.p), 'arena gradient');
        // curvature: every entry is one of the pair sums, the JS order's on plain arrays, the SIMD order's in an arena
        const maxBound = Math.max(...Array.from(R.abs.subarray(L.p), (a) => 4 * n * U * a));
        for (let t = 0; t < L.p * L.p; t++) {
          const s = R.seq.subarray(L.p).findIndex((v) => Object.is(v, cJ[t]));
          expect(s, `plain curvature entry ${t}`).toBeGreaterThanOrEqual(0);
          expect(Object.is(cW[t], R.simd[L.p + s]), `arena curvature entry ${t}`).toBe(true);
          expect(Math.abs(cW[t]! - cJ[t]!)).toBeLessThanOrEqual(maxBound);
        }
        const gradOnly = new Float64Array(L.p);
        be.gateGradCurv(L, W.X, n, W.resp, W.pi, E, E, E, 1, gradOnly, null);
        expectBits(gradOnly, gW, 'gradient-only call');
      }
    }
  });

  it('no kernel for fa ≥ fb: the driver declines and writes nothing', () => {
    const D = setup(3, 11, 31);
    const W = inArena(D);
    const out = new Float64Array(13).fill(7);
    expect(
      gradCurvWasm3(W.A, W.X, 11, W.resp, W.pi, 1, 0, out, () => {
        throw new Error('unused');
      }),
    ).toBe(false);
    expect(
      gradCurvWasm2(W.A, W.X, 11, W.resp, W.pi, 2, out, () => {
        throw new Error('unused');
      }),
    ).toBe(false);
    expect(out.every((v) => v === 7)).toBe(true);
  });

  it('NaN in π makes the sums that read it NaN, as in the JS kernel', () => {
    const D = setup(3, 1000, 32);
    D.pi[3 * 600 + 2] = NaN; // expert 2: free in (0, 2), not in (0, 1)
    const W = inArena(D);
    for (const [fa, fb] of [
      [0, 1],
      [0, 2],
    ] as const) {
      const ref = pairSums(1000, 13, gradCurvTerms(D, fa, fb));
      const out = new Float64Array(13);
      gradCurvWasm3(W.A, W.X, 1000, W.resp, W.pi, fa, fb, out, () => {
        throw new Error('even n');
      });
      expectBits(out, ref.simd, `(${fa}, ${fb})`);
      // (0, 2): gb and every curvature sum with b, i.e. g2, g3, (a,b) and (b,b)
      for (let t = 0; t < 13; t++)
        expect(Number.isNaN(out[t]), `(${fa}, ${fb}) sum ${t}`).toBe(fb === 2 && (t === 2 || t === 3 || t >= 7));
    }
  });
});
