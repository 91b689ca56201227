/**
 * Label alignment of bootstrap fits (src/em/inference/boot-align.ts): a fit that is the original with its
 * experts permuted (and its gate normalised on another reference expert) is put back in the original's
 * order, its gate back on the original's reference; the permutation search finds the cheapest order.
 */
import { describe, expect, it } from 'vitest';
import {
  alignExperts,
  alignScales,
  alignmentCost,
  bestPermutation,
  relabelExperts,
} from '../../../src/em/inference/boot-align.js';
import { gateLayout, normalizeGate } from '../../../src/em/gates/layout.js';
import { gateProbs, logLikelihood, meanGateWeights } from '../../../src/models/density.js';
import { simulate } from '../../../src/models/sample.js';
import { cloneModel, modelFromParams, type GateSpecInput, type Model } from '../../../src/models/types.js';
import { parseGateSpec } from '../../../src/models/validate.js';

const three = (gate: GateSpecInput): Model => {
  const m = modelFromParams(gate, {
    beta0: [-1, 0.5, 0.3],
    beta1: [
      [4, -1],
      [-3, 2],
      [0.7, 0.4],
    ],
    a: [
      [-2, 1],
      [3, 0],
      [0.5, -1],
    ],
    b: [1, -2, 4],
    nu: [0.1, 0.3, 0.2],
    tau: 1.3,
  });
  return { ...m, gate: parseGateSpec(m.gate, 3, 'gate') };
};

const layoutOf = (m: Model) => gateLayout(m.gate, m.k, m.d, 'free');
const maxDiff = (x: Float64Array, y: Float64Array) => Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));

describe.each([
  ['softmax (β0 and β1 of the reference fixed)', { kind: 'softmax' } as GateSpecInput],
  ['tanh, bias inside (no translation symmetry)', { kind: 'activation', activation: 'tanh', bias: 'inside' } as const],
  [
    'tanh, bias outside (β0 of the reference fixed)',
    { kind: 'activation', activation: 'tanh', bias: 'outside' } as const,
  ],
])('%s', (_name, gate) => {
  const original = three(gate);
  const L = layoutOf(original);
  normalizeGate(L, original);
  const data = simulate(original, { n: 600, seed: 4 });

  it('a permuted copy keeps π and the likelihood, its new reference expert at 0 where the gate fixes it', () => {
    const p = relabelExperts(original, [2, 0, 1], L);
    expect(Array.from(p.b)).toEqual([4, 1, -2]);
    if (L.fixB0Ref) expect(p.beta0[2]).toBe(0);
    if (L.fixB1Ref) expect([p.beta1[4], p.beta1[5]]).toEqual([0, 0]);
    if (!L.fixB0Ref) expect(Array.from(p.beta0)).toEqual([0.3, -1, 0.5]);
    // π_j of the copy is π_perm[j] of the original
    const pi = gateProbs(original, data.X, data.n);
    const piP = gateProbs(p, data.X, data.n);
    let worst = 0;
    for (let i = 0; i < data.n; i++)
      for (const [j, src] of [2, 0, 1].entries()) worst = Math.max(worst, Math.abs(piP[i * 3 + j]! - pi[i * 3 + src]!));
    expect(worst).toBeLessThan(1e-12);
    expect(logLikelihood(p, data)).toBeCloseTo(logLikelihood(original, data), 9);
  });

  it.each([[[1, 2, 0]], [[2, 0, 1]], [[0, 2, 1]], [[1, 0, 2]]])(
    'the fit with experts permuted by %j is aligned back (the inverse permutation)',
    (perm) => {
      // by hand, not by relabelExperts: a refit normalised on its own last expert, its gate translated too
      const shuffled = cloneModel(original);
      perm.forEach((src, j) => {
        for (const key of ['beta0', 'b', 'nu'] as const) shuffled[key][j] = original[key][src]!;
        for (const key of ['beta1', 'a'] as const)
          for (let l = 0; l < 2; l++) shuffled[key][j * 2 + l] = original[key][src * 2 + l]!;
      });
      normalizeGate(L, shuffled);
      if (L.fixB0Ref) shuffled.beta0 = shuffled.beta0.map((v) => v + 0.7);
      const r = alignExperts(original, shuffled, data, L);
      expect(r.relabelled).toBe(true);
      // shuffled's expert perm⁻¹[j] is the original's expert j
      const inverse = [0, 1, 2].map((j) => perm.indexOf(j));
      expect(Array.from(r.permutation)).toEqual(inverse);
      for (const key of ['beta0', 'beta1', 'a', 'b', 'nu'] as const)
        expect(maxDiff(r.model[key], original[key]), key).toBeLessThan(1e-12);
      // the gate is back on the original's reference: its fixed entries exactly 0
      if (L.fixB0Ref) expect(r.model.beta0[2]).toBe(0);
      if (L.fixB1Ref) expect([r.model.beta1[4], r.model.beta1[5]]).toEqual([0, 0]);
      expect(r.model.tau).toBe(original.tau);
    },
  );

  it('the original itself: identity, nothing moved', () => {
    const r = alignExperts(original, original, data, L);
    expect(r.relabelled).toBe(false);
    expect(Array.from(r.permutation)).toEqual([0, 1, 2]);
    expect(r.model).toEqual(original);
  });
});

describe('alignment of a perturbed, permuted fit', () => {
  it('small moves of every parameter do not change the order found', () => {
    const original = three({ kind: 'softmax' });
    const L = layoutOf(original);
    normalizeGate(L, original);
    const data = simulate(original, { n: 2000, seed: 5 });
    const moved = relabelExperts(original, [2, 1, 0], L);
    for (const key of ['beta0', 'beta1', 'a', 'b'] as const) moved[key] = moved[key].map((v) => v + 0.03);
    moved.nu = moved.nu.map((v) => v * 1.05);
    const r = alignExperts(original, moved, data, L);
    expect(Array.from(r.permutation)).toEqual([2, 1, 0]);
    expect(maxDiff(r.model.b, original.b)).toBeCloseTo(0.03, 12);
  });

  it('the cost is 0 at the reference itself and grows with the distance', () => {
    const m = three({ kind: 'softmax' });
    const data = simulate(m, { n: 500, seed: 6 });
    const s = alignScales(m, data);
    const c = alignmentCost(m, m, meanGateWeights(m, data.X, data.n), s);
    for (let j = 0; j < 3; j++) expect(c[j * 3 + j]).toBe(0);
    for (let j = 0; j < 3; j++) for (let i = 0; i < 3; i++) if (i !== j) expect(c[j * 3 + i]).toBeGreaterThan(10);
  });
});

describe('bestPermutation', () => {
  /** cost 0 at (j, perm[j]), 1 + |i − j| elsewhere */
  const planted = (perm: number[]) => {
    const k = perm.length;
    const c = new Float64Array(k * k);
    for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) c[j * k + i] = perm[j] === i ? 0 : 1 + Math.abs(i - j);
    return c;
  };

  it.each([
    [[0, 1, 2, 3]],
    [[3, 1, 0, 2]],
    [[5, 4, 3, 2, 1, 0]],
    [[6, 0, 5, 1, 4, 2, 3]],
    [[1, 0, 3, 2, 5, 4, 7, 6, 9, 8]],
  ])('finds the planted order %j (exhaustive to k = 6, greedy with swaps above)', (perm) => {
    expect(Array.from(bestPermutation(planted(perm), perm.length))).toEqual(perm);
  });

  it('greedy (k = 7): a pairwise swap undoes a cheap first pick that costs more later', () => {
    const k = 7;
    const c = new Float64Array(k * k).fill(1000);
    for (let j = 2; j < k; j++) c[j * k + j] = 0;
    [c[0], c[1], c[k], c[k + 1]] = [0, 1, 1, 100];
    expect(Array.from(bestPermutation(c, k))).toEqual([1, 0, 2, 3, 4, 5, 6]);
  });

  it('ties go to the identity', () => {
    expect(Array.from(bestPermutation(new Float64Array(9), 3))).toEqual([0, 1, 2]);
  });

  it('exhaustive: the minimum over all orders, where greedy-first would take the cheap diagonal entry', () => {
    // greedy takes (0, 0) at cost 0 and then pays 100; the optimum pays 1 + 1
    const c = Float64Array.from([0, 1, 1, 100]);
    expect(Array.from(bestPermutation(c, 2))).toEqual([1, 0]);
  });
});
