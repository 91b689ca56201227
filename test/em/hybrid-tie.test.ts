/**
 * A top-K switch pinned to a sample (src/em/hybrid-tie.ts): the tie of two experts' logits at one sample is
 * found from a refused crossing, held by eliminating one gate coordinate (the reduced quadratic model is the
 * full one along steps that keep the tie), and the hybrid then converges on the region's boundary where EM
 * crept to the iteration cap.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { expandStep, findTie, reduceByTie, tieMargin } from '../../src/em/hybrid-tie.js';
import { paramLayout } from '../../src/em/inference/params.js';
import { activeSet } from '../../src/models/gates/topk.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import { cloneModel, modelFromParams, type GateSpec } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

const gate: GateSpec = { kind: 'topk', K: 2, selectOn: 'logit' };
// k = 3, K = 2: expert 0's logit 2, experts 1 and 2 tie at sample 0 (x = 0.5: 1 − 2·0.5 = 0 = the reference's)
const model = modelFromParams(gate, {
  beta0: [2, 1, 0],
  beta1: [[0], [-2], [0]],
  a: [[1], [2], [3]],
  b: [0, 0, 0],
  nu: [1, 1, 1],
});
const X = Float64Array.from([0.5, 0.1, 0.9]);
const L = paramLayout(gate, 3, 1);

describe('hybrid-tie', () => {
  it('finds the tie behind a one-sample swap, and nothing for two samples or a wide margin', () => {
    const before = activeSet(model, X, 3);
    const moved = cloneModel(model);
    moved.beta0[1] = 1 - 1e-12; // expert 1 drops below the reference at sample 0 only
    const after = activeSet(moved, X, 3);
    expect(Array.from(after)).not.toEqual(Array.from(before));
    const tie = findTie(model, X, L, before, after, 1e-9)!;
    expect(tie).not.toBeNull();
    expect(tie.sample).toBe(0);
    expect(new Set([tie.active, tie.inactive])).toEqual(new Set([1, 2]));
    expect(Math.abs(tieMargin(model, X, tie))).toBeLessThanOrEqual(1e-15);
    // the same swap seen from a point where the two logits differ by 0.1: not a tie
    const apart = cloneModel(model);
    apart.beta0[1] = 0.9;
    expect(findTie(apart, X, L, before, after, 1e-9)).toBeNull();
    // a second sample changing too: not one pinned sample
    const two = Uint8Array.from(after);
    two[3] = 1 - two[3]!;
    two[4] = 1 - two[4]!;
    expect(findTie(model, X, L, before, two, 1e-9)).toBeNull();
  });

  it('the reduced model is the full quadratic model along steps that keep the tie', () => {
    const before = activeSet(model, X, 3);
    const moved = cloneModel(model);
    moved.beta0[1] = 1 - 1e-12;
    const tie = findTie(model, X, L, before, activeSet(moved, X, 3), 1e-9)!;
    const P = L.P;
    const rng = createRng(7);
    const g = Float64Array.from({ length: P }, () => rng.uniform() - 0.5);
    const B = Float64Array.from({ length: P * P }, () => rng.uniform() - 0.5);
    const H = new Float64Array(P * P);
    for (let u = 0; u < P; u++) for (let v = 0; v < P; v++) H[u * P + v] = -(B[u * P + v]! + B[v * P + u]!);
    const { g: gr, H: Hr } = reduceByTie(g, H, P, tie);
    const s = Float64Array.from({ length: P }, () => rng.uniform() - 0.5);
    s[tie.t] = 0;
    const q = (gg: Float64Array, HH: Float64Array, x: Float64Array): number => {
      let v = 0;
      for (let u = 0; u < P; u++) {
        v += gg[u]! * x[u]!;
        for (let w = 0; w < P; w++) v += 0.5 * x[u]! * HH[u * P + w]! * x[w]!;
      }
      return v;
    };
    const reduced = q(gr, Hr, s);
    expandStep(s, tie);
    expect(q(g, H, s)).toBeCloseTo(reduced, 12);
    // c·s = 0: the tie's margin does not move (it is linear in θ)
    let cs = 0;
    for (let u = 0; u < P; u++) cs += tie.c[u]! * s[u]!;
    expect(Math.abs(cs)).toBeLessThan(1e-14);
  });

  it('bench topk-over seed 8 (n = 5 000): converges on the pinned switch where EM crept to the 5 000 cap', () => {
    const truth = truthPreset('topk1');
    const data = simulate(truth, { n: 5000, seed: 8 });
    const base = { gate, k: 3, init: { kind: 'near-truth', truth }, seed: 8 } as const;
    const squarem = fitMoE(data, base);
    const hybrid = fitMoE(data, { ...base, optimizer: 'hybrid' });
    // before the tie was held: 5 000 iterations (max-iterations), no Newton step accepted
    expect(hybrid.iterations).toBeLessThan(1000);
    expect(hybrid.hybrid!.newtonIterations).toBeGreaterThan(0);
    expect(hybrid.logLik).toBeGreaterThanOrEqual(squarem.logLik - 1e-6);
  });
});
