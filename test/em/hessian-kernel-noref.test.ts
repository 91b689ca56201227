/**
 * The unrolled softmax Hessian kernels without the reference's gate sums (hess1k2_noref / hess1k3_noref,
 * src/em/backend/simd/gen/kernels-hessian1.ts): every sum the consumer (assemble, src/em/inference/hessian-fast.ts,
 * with the layout that holds the reference's β0 and β1) reads has the full kernel's bits, the others are
 * left out (zero), and the fast path's L, ∇L and ∇²L are the full kernel's bit for bit.
 */
import { describe, expect, it } from 'vitest';
import {
  hess1Export,
  hessSums,
  hessSumsCall,
  hessSumsLayout,
  hessSumsParams,
} from '../../src/em/backend/cpu/hessian.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { toLogScales } from '../../src/em/inference/hessian.js';
import { assemble, fastLogLikDerivatives } from '../../src/em/inference/hessian-fast.js';
import { paramLayout, type ParamLayout } from '../../src/em/inference/params.js';
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

describe('hess1k<k>_noref: the reference expert’s gate sums left out', () => {
  // row pairs [start, end): even and odd counts, an odd start, a single pair
  const RANGES: Array<[number, number, number]> = [
    [1001, 0, 500],
    [1001, 3, 499],
    [602, 0, 301],
    [66, 1, 33],
    [9, 1, 2],
    [5, 0, 1],
  ];
  for (const k of [2, 3] as const)
    it(`hess1k${k}_noref has hess1k${k}'s bits in every sum assemble reads, zero elsewhere`, () => {
      const L = paramLayout({ kind: 'softmax' }, k, 1);
      const read = readSums(L);
      const Ls = hessSumsLayout(k, 1);
      // the reference's gate sums: gg pairs with it, ge / gn with it on the gate side, its gradG
      const nm = 3;
      const dropped = read.filter((r) => !r).length;
      expect(dropped).toBe(k * nm + k * nm + k * 2 + 2);
      expect(hess1Export({ k, skipRef: true })).toBe(`hess1k${k}_noref`);
      expect(hess1Export({ k })).toBe(`hess1k${k}`);
      for (const [n, start, end] of RANGES)
        for (const [, c] of CASES) {
          const { m, data } = randomCase({ kind: 'softmax' }, k, 1, n, 700 + 11 * k + n + start, c);
          const A = createArena([n, n])!;
          const X = A.copy(data.X),
            y = A.copy(data.y);
          const par = hessSumsParams(k, 1, m.beta0, m.beta1, m.a, m.b, m.nu);
          const K = A.kernels as unknown as Record<string, (...a: number[]) => void>;
          const lanes = (name: string): Float64Array => {
            A.gpar.set(par);
            A.gacc.fill(0, 0, 2 * Ls.total);
            K[name]!(X.byteOffset, y.byteOffset, start, end);
            return Float64Array.from(A.gacc.subarray(0, 2 * Ls.total));
          };
          const full = lanes(`hess1k${k}`),
            skip = lanes(`hess1k${k}_noref`);
          expect(full.some((v) => v !== 0)).toBe(true);
          for (let t = 0; t < Ls.total; t++)
            for (const lane of [0, 1]) {
              const [a, b] = [full[2 * t + lane], skip[2 * t + lane]];
              if (!read[t]) expect(b, `sum ${t} (not read)`).toBe(0);
              else expect(Object.is(a, b), `n = ${n}, [${start}, ${end}), sum ${t}: ${a} vs ${b}`).toBe(true);
            }
          // through the binding (an odd last row in JS): every read sum the same
          const via = (skipRef: boolean): Float64Array => {
            const call = hessSumsCall(k, 1, X, y, n, par);
            call.skipRef = skipRef;
            return hessSums(call, true);
          };
          const [f, g] = [via(false), via(true)];
          for (let t = 0; t < Ls.total; t++) if (read[t]) expect(Object.is(f[t], g[t]), `binding sum ${t}`).toBe(true);
          // the fast path (which takes the variant) against the full kernel's sums assembled
          const fast = fastLogLikDerivatives(L, m, { ...data, X, y })!;
          const grad = new Float64Array(L.P);
          const H = new Float64Array(L.P * L.P);
          assemble(L, f, grad, H);
          toLogScales(L, m, grad, H);
          expect(Object.is(fast.logLik, f[Ls.ll])).toBe(true);
          for (let s = 0; s < L.P; s++) expect(Object.is(fast.gradient[s], grad[s]), `∇L ${s}`).toBe(true);
          for (let s = 0; s < L.P * L.P; s++) expect(Object.is(fast.hessian![s], H[s]), `∇²L ${s}`).toBe(true);
        }
    });
});
