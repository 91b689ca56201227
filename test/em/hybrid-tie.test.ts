/**
 * Top-K switches pinned to samples (src/em/hybrid-tie.ts): the tie of two experts' scores at a sample is
 * found from a refused crossing, held by eliminating gate coordinates (one per tie; the reduced quadratic
 * model is the full one along steps that keep the ties), released by its multiplier's sign, and the hybrid
 * then converges on the region's boundary where EM crept to the iteration cap.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import {
  eliminate,
  expandStep,
  findTie,
  firstCrossing,
  reduceByTies,
  solveSmall,
  tieMargin,
  tieMultipliers,
  tieScale,
  type Tie,
} from '../../src/em/hybrid-tie.js';
import { HYBRID_TIE_TOL, NewtonPhase } from '../../src/em/hybrid.js';
import { logLikelihood } from '../../src/models/density.js';
import { paramLayout } from '../../src/em/inference/params.js';
import { activeSet } from '../../src/models/gates/topk.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import { cloneModel, modelFromParams, type GateSpec } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { createCellEvaluator } from '../../src/experiments/cell.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { Matrix, solve } from 'ml-matrix';

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
    // a second sample changing too (further along the step: its margin is 0.8): the tie is still sample 0's
    const two = Uint8Array.from(after);
    two[3] = 1 - two[3]!;
    two[4] = 1 - two[4]!;
    expect(findTie(model, X, L, before, two, 1e-9)?.sample).toBe(0);
    // ... and only sample 1 changing: not on its boundary
    const one = Uint8Array.from(before);
    one[3] = 1 - one[3]!;
    one[4] = 1 - one[4]!;
    expect(findTie(model, X, L, before, one, 1e-9)).toBeNull();
  });

  it('firstCrossing: the fraction of a step where an active score first meets an inactive one', () => {
    // k = 3, K = 2, two samples; sample 0 active {0, 1}, sample 1 active {0, 2}
    const mask = Uint8Array.from([1, 1, 0, 1, 0, 1]);
    const now = Float64Array.from([3, 2, 1, 3, 0, 2]);
    // sample 0: expert 2 rises by 2 and meets expert 1 at t = 1/2; sample 1: expert 1 meets expert 2 at t = 0.8
    const end = Float64Array.from([3, 2, 3, 3, 3, 2.5]);
    const c = firstCrossing(now, end, mask, 3, [])!;
    expect(c.t).toBeCloseTo(0.5, 15);
    expect(c.margin).toBe(1);
    expect(c.rate).toBe(2);
    expect(firstCrossing(now, end, mask, 3, [0])!.t).toBeCloseTo(0.8, 15);
    // no active set changes within the step
    expect(firstCrossing(now, now, mask, 3, [])).toBeNull();
  });

  /** A tie of experts a (active) and b at sample i, built by hand as findTie builds it. */
  const tieAt = (i: number, a: number, b: number): Tie => {
    const c = new Float64Array(L.P);
    for (const [j, sign] of [
      [a, 1],
      [b, -1],
    ] as const) {
      if (L.gate.b0Index[j]! >= 0) c[L.gate.b0Index[j]!] = sign;
      if (L.gate.b1Index[j]! >= 0) c[L.gate.b1Index[j]!] = sign * X[i]!;
    }
    return { sample: i, active: a, inactive: b, c };
  };

  it('the reduced model is the full quadratic model along steps that keep the ties (one and two)', () => {
    const before = activeSet(model, X, 3);
    const moved = cloneModel(model);
    moved.beta0[1] = 1 - 1e-12;
    const found = findTie(model, X, L, before, activeSet(moved, X, 3), 1e-9)!;
    const P = L.P;
    const rng = createRng(7);
    const g = Float64Array.from({ length: P }, () => rng.uniform() - 0.5);
    const B = Float64Array.from({ length: P * P }, () => rng.uniform() - 0.5);
    const H = new Float64Array(P * P);
    for (let u = 0; u < P; u++) for (let v = 0; v < P; v++) H[u * P + v] = -(B[u * P + v]! + B[v * P + u]!);
    const q = (gg: Float64Array, HH: Float64Array, x: Float64Array): number => {
      let v = 0;
      for (let u = 0; u < P; u++) {
        v += gg[u]! * x[u]!;
        for (let w = 0; w < P; w++) v += 0.5 * x[u]! * HH[u * P + w]! * x[w]!;
      }
      return v;
    };
    for (const ties of [[found], [found, tieAt(2, 0, 1)]]) {
      const set = eliminate(ties, P)!;
      expect(set.pivots.length).toBe(ties.length);
      const { g: gr, H: Hr } = reduceByTies(g, H, P, set);
      const s = Float64Array.from({ length: P }, () => rng.uniform() - 0.5);
      for (const p of set.pivots) s[p] = 0;
      const reduced = q(gr, Hr, s);
      expandStep(s, set);
      expect(q(g, H, s)).toBeCloseTo(reduced, 12);
      // c·s = 0: no tie's margin moves (each is linear in θ)
      for (const t of ties) {
        let cs = 0;
        for (let u = 0; u < P; u++) cs += t.c[u]! * s[u]!;
        expect(Math.abs(cs)).toBeLessThan(1e-14);
      }
    }
    // the same tie twice: dependent rows
    expect(eliminate([found, found], P)).toBeNull();
  });

  it('tieMultipliers: a gradient along +c releases the tie, along −c holds it', () => {
    const t1 = tieAt(0, 1, 2);
    const t2 = tieAt(2, 0, 1);
    const g = new Float64Array(L.P);
    for (let u = 0; u < L.P; u++) g[u] = 2 * t1.c[u]! - 3 * t2.c[u]!;
    const lambda = tieMultipliers(g, [t1, t2]);
    expect(lambda[0]).toBeCloseTo(2, 12);
    expect(lambda[1]).toBeCloseTo(-3, 12);
  });

  it('holds two pinned switches at once, every pinned sample on its side and on its boundary (bench seed 1)', () => {
    // bench:fit's topk-over data, seed 1, after 20 SQUAREM iterations: the trust region pins a second
    // sample while the first is held (measured: 2 ties at once within 150 attempts)
    const truth = truthPreset('topk1');
    const data = simulate(truth, { n: 5000, seed: 1 });
    const start = fitMoE(data, { gate, k: 3, init: { kind: 'near-truth', truth }, seed: 1, maxIter: 20 }).model;
    const m = cloneModel(start);
    const phase = new NewtonPhase(m, data, 1e-6, 'free');
    phase.reset();
    const evaluate = (x: typeof m) => logLikelihood(x, data);
    let current = evaluate(m);
    let most = 0;
    for (let step = 0; step < 150; step++) {
      phase.decrement();
      const a = phase.attempt(current, evaluate);
      expect(a.logLik).toBeGreaterThanOrEqual(current);
      current = a.logLik;
      most = Math.max(most, phase.ties.length);
      for (const t of phase.ties) {
        const h = tieMargin(m, data.X, t);
        expect(t.active < t.inactive ? h >= 0 : h > 0).toBe(true);
        expect(h).toBeLessThanOrEqual(HYBRID_TIE_TOL * tieScale(m, data.X, t));
      }
    }
    expect(most).toBeGreaterThanOrEqual(2);
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

describe('nearly parallel ties', () => {
  it('solveSmall solves a regular system as LU does, bit for bit, and a singular one by least squares', () => {
    const A = new Float64Array([4, 1, 2, 1, 3, 0.5, 2, 0.5, 5]);
    const b = new Float64Array([1, -2, 0.25]);
    const lu = solve(
      new Matrix([...Array(3)].map((_, i) => Array.from(A.subarray(3 * i, 3 * i + 3)))),
      Matrix.columnVector(Array.from(b)),
    );
    expect(Array.from(solveSmall(A, b, 3))).toEqual(lu.getColumn(0));
    // rank 1: x1 + x2 = 2 twice; the least-norm solution is (1, 1)
    const x = solveSmall(new Float64Array([1, 1, 1, 1]), new Float64Array([2, 2]), 2);
    expect(x[0]).toBeCloseTo(1, 12);
    expect(x[1]).toBeCloseTo(1, 12);
  });

  it('a bounded top-K fit whose held ties have normals equal to 1e-8 finishes (it failed: "LU matrix is singular")', () => {
    // topk-over at n = 1e4 with |β1| ≤ 50 (docs/experiments.md, session 20): the cell (n 10000, rep 180)
    const spec = validateSpec({
      name: 'lu-singular',
      truth: 'topk1',
      design: 'uniform',
      models: [{ label: 'topk', gate: { kind: 'topk', K: 2, selectOn: 'logit' }, k: 3 }],
      n: [10000],
      replications: 1,
      init: { kind: 'near-truth', noise: 'shrinking', noiseScale: 1 },
      restarts: 1,
      em: { optimizer: 'hybrid', bounds: { beta1: 50, beta0: 20 } },
      loss: 'auto',
      seed: 1,
    });
    const r = createCellEvaluator(spec)({ model: 0, label: 'topk', n: 10000, rep: 180, seed: 2144583527 });
    expect(r.status).toBe('ok');
    expect(Number.isFinite(r.logLik)).toBe(true);
  });
});
