/**
 * The top-K gate's Hessian through the softmax moment kernels (src/em/inference/hessian-topk.ts): on the
 * smooth piece the fit lies in, the rows grouped by active set, each group a K-expert softmax model's
 * rows. Equal to the reference logLikDerivatives with the mask (src/em/inference/hessian.ts) to 1e-10
 * relative on seeded random models, selectOn logit and slope, several (k, K, d); the WebAssembly kernel
 * runs; K = 1 and other gates are not covered; the hybrid optimizer takes it (topk-over's bench cell).
 */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { logLikDerivatives } from '../../src/em/inference/hessian.js';
import { topkHessianCovers, topkLogLikDerivatives } from '../../src/em/inference/hessian-topk.js';
import { paramLayout } from '../../src/em/inference/params.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { activeSet } from '../../src/models/gates/topk.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import type { GateSpec, Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { relDiff, rowsNearExperts } from './hessian-cases.js';

function randomCase(gate: GateSpec, k: number, d: number, n: number, seed: number, nuMin: number) {
  const rng = createRng(seed);
  const r = (s: number, sd = 1) => Float64Array.from({ length: s }, () => sd * rng.normal());
  const m: Model = {
    gate,
    k,
    d,
    beta0: r(k),
    beta1: r(k * d, 1.5),
    a: r(k * d),
    b: r(k),
    nu: Float64Array.from({ length: k }, () => nuMin * Math.exp(rng.uniform() * Math.log(2 / nuMin))),
    tau: 1,
  };
  return { m, data: rowsNearExperts(m, r(n * d), n, rng) };
}

const CASES: Array<[number, number, number, 'logit' | 'slope', number]> = [
  [3, 2, 1, 'logit', 1001],
  [3, 2, 1, 'slope', 600],
  [4, 2, 2, 'logit', 501],
  [5, 3, 3, 'slope', 400],
  [8, 4, 4, 'logit', 257],
];

describe('top-K Hessian through the softmax kernels against the reference', () => {
  for (const [k, K, d, selectOn, n] of CASES)
    for (const [seed, nuMin] of [
      [1, 0.5],
      [2, 1e-3],
    ] as const)
      it(`k = ${k}, K = ${K}, d = ${d}, ${selectOn}, n = ${n}, seed ${seed}, ν ≥ ${nuMin}: L, ∇L, ∇²L to 1e-10`, () => {
        const gate: GateSpec = { kind: 'topk', K, selectOn };
        const { m, data } = randomCase(
          gate,
          k,
          d,
          n,
          1000 * k + 10 * d + seed + (k === 3 && selectOn === 'logit' ? 4 : 0),
          nuMin,
        );
        // every active set of the data occurs more than once: a grouping error would show
        const sets = new Set<string>();
        const mask = activeSet(m, data.X, n);
        for (let i = 0; i < n; i++) sets.add(mask.subarray(i * k, i * k + k).join(''));
        expect(sets.size).toBeGreaterThan(1);
        for (const nuScale of ['log', 'natural'] as const) {
          const L = paramLayout(gate, k, d, { nuScale });
          expect(topkHessianCovers(L, m)).toBe(true);
          const ref = logLikDerivatives(L, m, data);
          const calls = wasmCalls.hessian;
          const fast = topkLogLikDerivatives(L, m, data)!;
          expect(wasmCalls.hessian - calls).toBe(sets.size); // one kernel call per active set
          expect(relDiff(ref.hessian!, fast.hessian!), 'Hessian').toBeLessThan(1e-10);
          expect(relDiff(ref.gradient, fast.gradient), 'gradient').toBeLessThan(1e-10);
          expect(Math.abs(fast.logLik - ref.logLik) / Math.abs(ref.logLik), 'L').toBeLessThan(1e-12);
          const P = L.P;
          for (let s = 0; s < P; s++)
            for (let t = 0; t < s; t++) expect(fast.hessian![s * P + t]).toBe(fast.hessian![t * P + s]);
        }
      });

  it('covers top-K with K ≥ 2 only', () => {
    const { m } = randomCase({ kind: 'topk', K: 1, selectOn: 'logit' }, 3, 1, 10, 1, 0.5);
    expect(topkHessianCovers(paramLayout(m.gate, 3, 1), m)).toBe(false);
    const soft = { ...m, gate: { kind: 'softmax' } as GateSpec };
    expect(topkHessianCovers(paramLayout(soft.gate, 3, 1), soft)).toBe(false);
  });

  it('the hybrid takes it on a top-K fit (no reference Hessian pass), ending where it did', () => {
    const truth = truthPreset('topk1');
    const data = simulate(truth, { n: 3000, seed: 2 });
    const gate: GateSpec = { kind: 'topk', K: 2, selectOn: 'logit' };
    const calls = wasmCalls.hessian;
    const f = fitMoE(data, { gate, k: 3, init: { kind: 'near-truth', truth }, seed: 2, optimizer: 'hybrid' });
    expect(f.hybrid!.hessians).toBeGreaterThan(0);
    expect(wasmCalls.hessian - calls).toBeGreaterThanOrEqual(f.hybrid!.hessians);
    expect(f.converged).toBe(true);
  });
});
