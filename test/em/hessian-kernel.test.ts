/**
 * The softmax gate's Hessian as a kernel (src/em/backend/cpu/hessian.ts, its SIMD twins hessg, hessg1–hessg4
 * with hessg's bits and the unrolled hess1k2 / hess1k3 with hessg1's bits, the assembly in src/em/inference/hessian-fast.ts):
 * equal to the reference logLikDerivatives
 * (src/em/inference/hessian.ts) to 1e-10 relative on seeded random models (small variances included),
 * the JS loop and the WebAssembly kernel agree, and the hybrid optimizer takes it.
 */
import { describe, expect, it } from 'vitest';
import { logLikDerivatives } from '../../src/em/inference/hessian.js';
import { fastHessianCovers, fastHessianSimd, fastLogLikDerivatives } from '../../src/em/inference/hessian-fast.js';
import { paramLayout } from '../../src/em/inference/params.js';
import { createArena, type Arena } from '../../src/em/backend/simd/arena.js';
import { GACC } from '../../src/em/backend/simd/layout.js';
import {
  hessSums,
  hessSumsCall,
  hessSumsLayout,
  hessSumsParams,
  type HessSumsCall,
} from '../../src/em/backend/cpu/hessian.js';
import { lookup } from '../../src/em/backend/registry.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import type { Dataset, GateSpec, Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { fitsWithAndWithoutKernels, relDiff, rowsNearExperts } from './hessian-cases.js';

const SOFTMAX: GateSpec = { kind: 'softmax' };

function randomCase(k: number, d: number, n: number, seed: number, nuMin: number, steep = 1) {
  const rng = createRng(seed);
  const r = (s: number, sd = 1) => Float64Array.from({ length: s }, () => sd * rng.normal());
  const m: Model = {
    gate: SOFTMAX,
    k,
    d,
    beta0: r(k),
    beta1: r(k * d, 1.5 * steep),
    a: r(k * d),
    b: r(k),
    // log-uniform variances in [nuMin, 2]
    nu: Float64Array.from({ length: k }, () => nuMin * Math.exp(rng.uniform() * Math.log(2 / nuMin))),
    tau: 1,
  };
  const X = r(n * d);
  return { m, data: rowsNearExperts(m, X, n, rng) };
}

/** the same data with X and y in an arena (the SIMD kernel runs on arena arrays only) */
const ARENAS = new WeakMap<Dataset, Arena>();
function inArena(data: Dataset): Dataset {
  const A = createArena([data.n * data.d, data.n], [])!;
  expect(A, 'WebAssembly SIMD arena').not.toBeNull();
  const out = { ...data, X: A.copy(data.X), y: A.copy(data.y) };
  ARENAS.set(out, A);
  return out;
}

const SHAPES: Array<[number, number, number]> = [
  [2, 1, 401],
  [3, 1, 1001],
  [2, 1, 600],
  [3, 1, 64],
  [2, 2, 300],
  [3, 2, 501],
  [5, 3, 400],
  [8, 4, 257],
];

describe('softmax Hessian kernel against the reference logLikDerivatives', () => {
  for (const [k, d, n] of SHAPES)
    for (const [seed, nuMin] of [
      [1, 0.5],
      [2, 1e-3],
    ] as const)
      it(`k = ${k}, d = ${d}, n = ${n}, seed ${seed}, ν ≥ ${nuMin}: L, ∇L, ∇²L to 1e-10 (JS and SIMD)`, () => {
        const { m, data } = randomCase(k, d, n, 100 * k + 10 * d + seed, nuMin);
        for (const nuScale of ['log', 'natural'] as const) {
          const L = paramLayout(SOFTMAX, k, d, { nuScale });
          expect(fastHessianCovers(L, m)).toBe(true);
          const ref = logLikDerivatives(L, m, data);
          const js = fastLogLikDerivatives(L, m, data, false)!;
          const dataA = inArena(data);
          expect(fastHessianSimd(L, m, dataA)).toBe(true);
          expect(fastHessianSimd(L, m, data)).toBe(false);
          const calls = wasmCalls.hessian;
          const simd = fastLogLikDerivatives(L, m, dataA)!;
          expect(wasmCalls.hessian).toBe(calls + 1);
          for (const [name, D] of [
            ['js', js],
            ['simd', simd],
          ] as const) {
            expect(relDiff(ref.hessian!, D.hessian!), `${name} Hessian`).toBeLessThan(1e-10);
            expect(relDiff(ref.gradient, D.gradient), `${name} gradient`).toBeLessThan(1e-10);
            expect(Math.abs(D.logLik - ref.logLik) / Math.abs(ref.logLik), `${name} L`).toBeLessThan(1e-12);
          }
          expect(relDiff(js.hessian!, simd.hessian!), 'JS vs SIMD Hessian').toBeLessThan(1e-12);
          // symmetric, as the trust region assumes
          const P = L.P;
          for (let s = 0; s < P; s++)
            for (let t = 0; t < s; t++) expect(simd.hessian![s * P + t]).toBe(simd.hessian![t * P + s]);
        }
      });

  it("hessg1–hessg4 (d = 1–4, loops unrolled) give hessg's bits", () => {
    for (const [k, d] of [1, 2, 3, 4].flatMap((d) => [2, 3, 5, 8].map((k) => [k, d] as const))) {
      const { m, data } = randomCase(k, d, 301, 7 + k + 10 * d, 1e-2);
      const dataA = inArena(data);
      const A = ARENAS.get(dataA)!;
      const Ls = hessSumsLayout(k, d);
      const blocks = [Ls.gg, Ls.ge, Ls.ee, Ls.gn, Ls.en, Ls.gradG, Ls.gradE, Ls.nn, Ls.gradN, Ls.ll].map(
        (o) => GACC + 16 * o,
      );
      const sums = (name: `hessg${'' | 1 | 2 | 3 | 4}`): Float64Array => {
        A.gpar.set(hessSumsParams(k, d, m.beta0, m.beta1, m.a, m.b, m.nu));
        A.gacc.fill(0, 0, 2 * Ls.total);
        const [o0, o1, o2, o3, o4, o5, o6, o7, o8, o9] = blocks as [
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
        ];
        A.kernels[name](
          dataA.X.byteOffset,
          dataA.y.byteOffset,
          k,
          d,
          o0,
          o1,
          o2,
          o3,
          o4,
          o5,
          o6,
          o7,
          o8,
          o9,
          0,
          data.n >> 1,
        );
        return Float64Array.from(A.gacc.subarray(0, 2 * Ls.total));
      };
      const g = sums('hessg'),
        gd = sums(`hessg${d as 1 | 2 | 3 | 4}`);
      expect(g.some((v) => v !== 0)).toBe(true);
      for (let t = 0; t < g.length; t++) expect(Object.is(g[t], gd[t]), `k = ${k}, d = ${d}, sum ${t}`).toBe(true);
    }
  });

  it('d = 1, k = 2 / 3 dispatch to the unrolled kernels hess1k2 / hess1k3, other shapes to hessg', () => {
    const sk = (k: number, d: number) => lookup<HessSumsCall>('hessian', 'linear', k, d)!.simd!;
    expect(sk(2, 1)).toBe(sk(3, 1));
    expect(sk(3, 1)).not.toBe(sk(4, 1));
    expect(sk(4, 1)).toBe(sk(3, 2));
  });

  for (const k of [2, 3])
    for (const [n, steep, nuMin] of [
      // n = 4t + 1 / 4t + 2 / 4t + 3 / 4t: pairs even or odd (the kernel takes two pairs per step), an odd last row or not
      [301, 1, 1e-2],
      [602, 1, 1e-3],
      [259, 40, 1e-3],
      [1000, 40, 0.5],
    ] as const)
      it(`hess1k${k} (d = 1 unrolled) gives hessg1's bits and the JS twin's sums, n = ${n}, steep ×${steep}, ν ≥ ${nuMin}`, () => {
        const { m, data } = randomCase(k, 1, n, 31 * k + n + steep, nuMin, steep);
        const dataA = inArena(data);
        const A = ARENAS.get(dataA)!;
        const Ls = hessSumsLayout(k, 1);
        const par = hessSumsParams(k, 1, m.beta0, m.beta1, m.a, m.b, m.nu);
        const blocks = [Ls.gg, Ls.ge, Ls.ee, Ls.gn, Ls.en, Ls.gradG, Ls.gradE, Ls.nn, Ls.gradN, Ls.ll].map(
          (o) => GACC + 16 * o,
        );
        const lanes = (run: () => void): Float64Array => {
          A.gpar.set(par);
          A.gacc.fill(0, 0, 2 * Ls.total);
          run();
          return Float64Array.from(A.gacc.subarray(0, 2 * Ls.total));
        };
        const K = A.kernels as unknown as Record<string, (...a: number[]) => void>;
        const pairs = data.n >> 1;
        const g1 = lanes(() => K.hessg1!(dataA.X.byteOffset, dataA.y.byteOffset, k, 1, ...blocks, 0, pairs));
        const u = lanes(() => K[`hess1k${k}`]!(dataA.X.byteOffset, dataA.y.byteOffset, 0, pairs));
        expect(g1.some((v) => v !== 0)).toBe(true);
        for (let t = 0; t < g1.length; t++) expect(Object.is(u[t], g1[t]), `lane sum ${t}`).toBe(true);
        // through dispatch (odd n: the last row in JS) against the JS twin
        const calls = wasmCalls.hessian;
        const simd = hessSums(hessSumsCall(k, 1, dataA.X, dataA.y, n, par), true);
        expect(wasmCalls.hessian).toBe(calls + 1);
        const js = hessSums(hessSumsCall(k, 1, data.X, data.y, n, par), false);
        expect(Number.isFinite(js[Ls.ll]!)).toBe(true);
        for (let t = 0; t < Ls.total; t++) {
          const scale = Math.max(1, Math.abs(js[t]!));
          expect(Math.abs(simd[t]! - js[t]!) / scale, `sum ${t}`).toBeLessThan(1e-12);
        }
      });

  it('returns null (the reference decides) when a row overflows or a parameter is NaN, JS and SIMD alike', () => {
    // n even: every row runs in the SIMD kernel (an odd last row goes to the JS twin)
    const { m, data } = randomCase(3, 1, 50, 3, 0.5);
    const L = paramLayout(SOFTMAX, 3, 1);
    const dataA = inArena(data);
    for (const [what, set] of [
      ['NaN β0', (b: Model) => (b.beta0[1] = NaN)],
      ['overflowing logit', (b: Model) => (b.beta0[0] = b.beta1[0] = 1.7e308)],
      ['NaN b', (b: Model) => (b.b[2] = NaN)],
    ] as const) {
      const bad: Model = { ...m, beta0: m.beta0.slice(), beta1: m.beta1.slice(), b: m.b.slice() };
      set(bad);
      expect(fastLogLikDerivatives(L, bad, data, false), `${what} (JS)`).toBeNull();
      expect(fastLogLikDerivatives(L, bad, dataA), `${what} (SIMD)`).toBeNull();
    }
    expect(fastLogLikDerivatives(L, m, dataA)).not.toBeNull();
  });

  it('declines the gates it does not cover (top-K, activation) and τ free', () => {
    const { m } = randomCase(3, 1, 10, 1, 0.5);
    for (const gate of [
      { kind: 'topk', K: 2, selectOn: 'slope' },
      { kind: 'temperature' },
      { kind: 'activation', activation: 'tanh', bias: 'outside' },
    ] as GateSpec[]) {
      const L = paramLayout(gate, 3, 1);
      expect(fastHessianCovers(L, { ...m, gate }), JSON.stringify(gate)).toBe(false);
    }
  });

  it('the hybrid optimizer takes it (SIMD fit) and ends where the reference Hessian takes it (JS fit)', () => {
    const demy = truthPreset('demy');
    const data = simulate(demy, { n: 2000, seed: 4 });
    const base = {
      gate: SOFTMAX,
      k: 3,
      init: { kind: 'near-truth' as const, truth: demy },
      seed: 1,
      optimizer: 'hybrid' as const,
    };
    const { fast, slow, fastCalls, slowCalls } = fitsWithAndWithoutKernels(data, base);
    expect(slowCalls).toBe(0);
    // every Hessian of the SIMD fit is the kernel's, none of the JS fit's
    expect(fast.hybrid!.hessians).toBeGreaterThan(0);
    expect(fastCalls).toBe(fast.hybrid!.hessians);
    expect(fast.stopReason).toBe('newton-decrement');
    expect(slow.stopReason).toBe('newton-decrement');
    expect(Math.abs(fast.logLik - slow.logLik)).toBeLessThan(1e-6);
  });
});
