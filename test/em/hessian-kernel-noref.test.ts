/**
 * The softmax Hessian kernels without the reference's gate sums (hess1k2_noref / hess1k3_noref,
 * src/em/backend/simd/gen/kernels-hessian1.ts; hessg1_noref–hessg4_noref, kernels-hessian.ts): every sum the
 * consumer (assemble, src/em/inference/hessian-fast.ts, with the layout that holds the reference's β0 and β1)
 * reads has the full kernel's bits, the others are left out (zero), and the fast path's L, ∇L and ∇²L are the
 * full kernel's bit for bit.
 */
import { describe, expect, it } from 'vitest';
import {
  hess1Export,
  hessgExport,
  hessSums,
  hessSumsCall,
  hessSumsLayout,
  hessSumsParams,
} from '../../src/em/backend/cpu/hessian.js';
import { createArena, type Arena } from '../../src/em/backend/simd/arena.js';
import { GACC } from '../../src/em/backend/simd/layout.js';
import { toLogScales } from '../../src/em/inference/hessian.js';
import { assemble, fastLogLikDerivatives } from '../../src/em/inference/hessian-fast.js';
import { paramLayout, type ParamLayout } from '../../src/em/inference/params.js';
import type { Dataset, Model } from '../../src/models/types.js';
import { CASES, randomCase } from './hessian-cases.js';

/** which sums assemble reads: sum t carries the value t + 1, found again in ∇L or ∇²L (L: the caller reads it) */
function readSums(L: ParamLayout): boolean[] {
  const Ls = hessSumsLayout(L.k, L.d);
  const S = Float64Array.from({ length: Ls.total }, (_, t) => t + 1);
  const grad = new Float64Array(L.P);
  const H = new Float64Array(L.P * L.P);
  assemble(L, S, grad, H);
  const seen = new Set([...grad, ...H]);
  return [...S].map((v, t) => t === Ls.ll || seen.has(v));
}

/** the read sums of a layout, after checking that exactly the reference's gate sums are left out */
function readSumsOf(k: number, d: number): boolean[] {
  const read = readSums(paramLayout({ kind: 'softmax' }, k, d));
  // the reference's gate sums: gg pairs with it, ge / gn with it on the gate side, its gradG
  const { nm, m } = hessSumsLayout(k, d);
  expect(read.filter((r) => !r).length).toBe(k * nm + k * nm + k * m + m);
  return read;
}

/** the per-lane sums (two per sum) of kernel `name` over row pairs [start, end) */
type Lanes = (name: string, start: number, end: number) => Float64Array;

/** a seeded case of n rows in an arena, and its per-lane sums through kernel `name` (arguments: `args`) */
function arenaCase(k: number, d: number, n: number, seed: number, c: (typeof CASES)[number][1]) {
  const { m, data } = randomCase({ kind: 'softmax' }, k, d, n, seed, c);
  const A = createArena([n * d, n])!;
  const X = A.copy(data.X),
    y = A.copy(data.y);
  const par = hessSumsParams(k, d, m.beta0, m.beta1, m.a, m.b, m.nu);
  const total = hessSumsLayout(k, d).total;
  const K = A.kernels as unknown as Record<string, (...a: number[]) => void>;
  const sums =
    (args: (start: number, end: number) => number[]): Lanes =>
    (name, start, end) => {
      A.gpar.set(par);
      A.gacc.fill(0, 0, 2 * total);
      K[name]!(X.byteOffset, y.byteOffset, ...args(start, end));
      return Float64Array.from(A.gacc.subarray(0, 2 * total));
    };
  return { m, data: { ...data, X, y }, par, A, sums };
}

/** every read sum of `skip` has `full`'s bits (both lanes), every other one is zero */
function expectReadSame(read: boolean[], full: Float64Array, skip: Float64Array, what: string): void {
  expect(full.some((v) => v !== 0)).toBe(true);
  for (let t = 0; t < read.length; t++)
    for (const lane of [0, 1]) {
      const [a, b] = [full[2 * t + lane], skip[2 * t + lane]];
      if (!read[t]) expect(b, `${what}, sum ${t} (not read)`).toBe(0);
      else expect(Object.is(a, b), `${what}, sum ${t}: ${a} vs ${b}`).toBe(true);
    }
}

/**
 * Through the binding (an odd last row in JS): every read sum the same with skipRef as without; and the fast
 * path (which takes the variant) against the full kernel's sums assembled, bit for bit.
 */
function expectBindingAndFastSame(read: boolean[], m: Model, data: Dataset, par: Float64Array): void {
  const { k, d } = m;
  const L = paramLayout({ kind: 'softmax' }, k, d);
  const via = (skipRef: boolean): Float64Array => {
    const call = hessSumsCall(k, d, data.X, data.y, data.n, par);
    call.skipRef = skipRef;
    return hessSums(call, true);
  };
  const [f, g] = [via(false), via(true)];
  for (let t = 0; t < read.length; t++) if (read[t]) expect(Object.is(f[t], g[t]), `binding sum ${t}`).toBe(true);
  const fast = fastLogLikDerivatives(L, m, data)!;
  const grad = new Float64Array(L.P);
  const H = new Float64Array(L.P * L.P);
  assemble(L, f, grad, H);
  toLogScales(L, m, grad, H);
  expect(Object.is(fast.logLik, f[hessSumsLayout(k, d).ll])).toBe(true);
  for (let s = 0; s < L.P; s++) expect(Object.is(fast.gradient[s], grad[s]), `∇L ${s}`).toBe(true);
  for (let s = 0; s < L.P * L.P; s++) expect(Object.is(fast.hessian![s], H[s]), `∇²L ${s}`).toBe(true);
}

/** hessg's arguments after x, y: k, d, the blocks' byte addresses at GACC, start, end */
function hessgArgs(k: number, d: number): (start: number, end: number) => number[] {
  const Ls = hessSumsLayout(k, d);
  const blocks = [Ls.gg, Ls.ge, Ls.ee, Ls.gn, Ls.en, Ls.gradG, Ls.gradE, Ls.nn, Ls.gradN, Ls.ll].map(
    (o) => GACC + 16 * o,
  );
  return (start, end) => [k, d, ...blocks, start, end];
}

// row pairs [start, end): even and odd counts, an odd start, a single pair
const RANGES: Array<[number, number, number]> = [
  [1001, 0, 500],
  [1001, 3, 499],
  [602, 0, 301],
  [66, 1, 33],
  [9, 1, 2],
  [5, 0, 1],
];

describe('hess1k<k>_noref: the reference expert’s gate sums left out', () => {
  for (const k of [2, 3] as const)
    it(`hess1k${k}_noref has hess1k${k}'s bits in every sum assemble reads, zero elsewhere`, () => {
      const read = readSumsOf(k, 1);
      expect(hess1Export({ k, skipRef: true })).toBe(`hess1k${k}_noref`);
      expect(hess1Export({ k })).toBe(`hess1k${k}`);
      for (const [n, start, end] of RANGES)
        for (const [, c] of CASES) {
          const { m, data, par, sums } = arenaCase(k, 1, n, 700 + 11 * k + n + start, c);
          const lanes = sums((s, e) => [s, e]);
          const what = `n = ${n}, [${start}, ${end})`;
          expectReadSame(read, lanes(`hess1k${k}`, start, end), lanes(`hess1k${k}_noref`, start, end), what);
          expectBindingAndFastSame(read, m, data, par);
        }
    });
});

describe('hessg<d>_noref: the reference expert’s gate sums left out', () => {
  it('the binding takes hessg<d>, the variant on skipRef', () => {
    expect(hessgExport({ d: 2, skipRef: true })).toBe('hessg2_noref');
    expect(hessgExport({ d: 3 })).toBe('hessg3');
    expect(hessgExport({ d: 1, skipRef: true })).toBe('hessg1_noref');
    expect(hessgExport({ d: 4, skipRef: false })).toBe('hessg4');
    expect(() => hessgExport({ d: 5 })).toThrow();
  });
  for (const d of [1, 2, 3, 4])
    for (const k of [2, 3, 4, 5, 8])
      it(`d = ${d}, k = ${k}: every sum assemble reads has the full kernel's bits, zero elsewhere`, () => {
        const read = readSumsOf(k, d);
        for (const [n, start, end] of RANGES.filter((_, i) => i % 2 === d % 2 || i >= 4))
          for (const [, c] of CASES) {
            const { m, data, par, sums } = arenaCase(k, d, n, 900 + 13 * k + 7 * d + n + start, c);
            const lanes = sums(hessgArgs(k, d));
            const what = `hessg${d}_noref, n = ${n}, [${start}, ${end})`;
            expectReadSame(read, lanes(`hessg${d}`, start, end), lanes(`hessg${d}_noref`, start, end), what);
            expectBindingAndFastSame(read, m, data, par);
          }
      });
});
