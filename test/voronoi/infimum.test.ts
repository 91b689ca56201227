/**
 * The translation infimum against brute force: the loss must equal inf over t1 of the loss with
 * the cells at t1 (and the optimal t0), here scanned on a fine grid of t1 by an independent
 * implementation of the D2 formula.
 */
import { describe, expect, it } from 'vitest';
import { modelFromParams, type Model } from '../../src/models/types.js';
import { truthPreset } from '../../src/models/presets.js';
import { createRng } from '../../src/random/rng.js';
import { assignCells, cellMembers, optimalScale, rBar, voronoiLoss } from '../../src/voronoi/index.js';

/** D2 (softmax exponents) at a fixed t1 with cells(t1) and the best t0; Infinity where r̄ is unknown. */
function lossAt(fit: Model, truth: Model, t1: number[]): number {
  const { d } = fit;
  const cells = cellMembers(assignCells(fit, truth, t1), truth.k);
  if (cells.some((c) => c.length >= 4)) return Infinity;
  const sum = (v: Float64Array) => v.reduce((s, x) => s + Math.exp(x), 0);
  const scale = sum(truth.beta0) / sum(fit.beta0);
  const w = Array.from(fit.beta0, (b) => scale * Math.exp(b));
  const ws = Array.from(truth.beta0, Math.exp);
  const W = cells.map((c) => c.reduce((s, i) => s + w[i]!, 0));
  const c = optimalScale(W, ws).c;
  let L = 0;
  cells.forEach((cell, j) => {
    const r = cell.length >= 2 ? rBar(cell.length) : 1;
    const [e1, ea] = cell.length >= 2 ? [r, r / 2] : [1, 1];
    for (const i of cell) {
      let db1 = 0;
      let da = 0;
      for (let l = 0; l < d; l++) {
        db1 += (fit.beta1[i * d + l]! - truth.beta1[j * d + l]! - t1[l]!) ** 2;
        da += (fit.a[i * d + l]! - truth.a[j * d + l]!) ** 2;
      }
      L +=
        w[i]! *
        (Math.sqrt(db1) ** e1 +
          Math.abs(fit.b[i]! - truth.b[j]!) ** e1 +
          Math.sqrt(da) ** ea +
          Math.abs(fit.nu[i]! - truth.nu[j]!) ** ea);
    }
    L += Math.abs(W[j]! - c * ws[j]!);
  });
  return L;
}

/** truth plus `extra` atoms, all perturbed: an over-specified fit of moderate quality */
function overFit(truth: Model, extra: number, seed: number, size: number): Model {
  const rng = createRng(seed);
  const { d } = truth;
  const k = truth.k + extra;
  const src = Array.from({ length: k }, (_, i) => (i < truth.k ? i : rng.int(truth.k)));
  const pick = (v: Float64Array, i: number, len: number) =>
    Array.from({ length: len }, (_, l) => v[src[i]! * len + l]! + size * rng.normal());
  return modelFromParams(
    { kind: 'softmax' },
    {
      beta0: src.map((j) => truth.beta0[j]! + size * rng.normal()),
      beta1: src.map((_, i) => pick(truth.beta1, i, d).map((v) => v + 4 * size * rng.normal())),
      a: src.map((_, i) => pick(truth.a, i, d)),
      b: src.map((_, i) => pick(truth.b, i, 1)[0]!),
      nu: src.map((j) => truth.nu[j]! * Math.exp(0.3 * size * rng.normal())),
    },
  );
}

function gridMin1(fit: Model, truth: Model, lo: number, hi: number, N: number): number {
  let m = Infinity;
  for (let g = 0; g <= N; g++) m = Math.min(m, lossAt(fit, truth, [lo + ((hi - lo) * g) / N]));
  return m;
}

describe('translation infimum vs brute force', () => {
  it('an EM fit (demy, k = 4) whose best translation lies on a cell boundary', () => {
    // fitted by gmoe's EM on 2000 demy samples; the minimum is at t1 ≈ −22.33, where atom 0 is
    // about to change cells: a fixed-point search (cells → t1 → cells) misses it (loss 3.07e5)
    const fit = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-7.478508909719363, -13.835936546139857, -0.0894652664813038, 0],
        beta1: [[34.64729769684224], [55.686825341098704], [-3.4681477993955845], [0]],
        a: [[22.392289472739034], [-19.951804418617527], [21.710431609225434], [19.832752852107102]],
        b: [-5.8139950714442765, 14.957604031592815, -5.473281998433675, -4.769479157759129],
        nu: [0.11734244419329073, 0.08745955355994511, 0.07795863270830666, 0.12347722278910034],
      },
    );
    const truth = truthPreset('demy');
    const r = voronoiLoss(fit, truth);
    const g = gridMin1(fit, truth, -60, 60, 24000);
    expect(r.loss).toBeLessThanOrEqual(g * (1 + 1e-12));
    expect(r.loss).toBeGreaterThan(g * (1 - 2e-3));
    expect(r.t1[0]).toBeCloseTo(-22.33, 1);
  });

  for (const [name, extra] of [
    ['demy', 1],
    ['demy', 2],
    ['k3', 1],
    ['k3', 2],
  ] as const) {
    it(`${name} with ${extra} extra atom(s), random fits: exact in d = 1`, () => {
      const truth = truthPreset(name);
      for (let seed = 1; seed <= 6; seed++) {
        const fit = overFit(truth, extra, seed, 0.4);
        const r = voronoiLoss(fit, truth);
        const g = gridMin1(fit, truth, -40, 40, 8000);
        expect(r.loss, `seed ${seed}`).toBeLessThanOrEqual(g * (1 + 1e-12));
        // the grid step is 0.01: its minimum is within a small relative distance of the infimum
        expect(r.loss, `seed ${seed}`).toBeGreaterThan(g * (1 - 0.02));
      }
    });
  }

  it('d = 2 with k* = 3 (regions are polygons): no grid point beats the loss', () => {
    const truth = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-1, 1, 0],
        beta1: [
          [3, -2],
          [-2, 4],
          [0, 0],
        ],
        a: [
          [1, -1],
          [-1, 2],
          [0.5, 0],
        ],
        b: [1, -1, 0],
        nu: [0.1, 0.2, 0.15],
      },
    );
    for (let seed = 1; seed <= 3; seed++) {
      const fit = overFit(truth, 1, seed, 0.4);
      const r = voronoiLoss(fit, truth);
      const N = 240;
      let g = Infinity;
      for (let u = 0; u <= N; u++)
        for (let v = 0; v <= N; v++) g = Math.min(g, lossAt(fit, truth, [-12 + (24 * u) / N, -12 + (24 * v) / N]));
      expect(r.loss, `seed ${seed}`).toBeLessThanOrEqual(g * (1 + 1e-9));
      expect(r.loss, `seed ${seed}`).toBeGreaterThan(g * 0.9);
      // and it is a value of the loss: the cells at its t1 give it (up to a tie on a boundary)
      expect(lossAt(fit, truth, r.t1)).toBeGreaterThanOrEqual(r.loss * (1 - 1e-9));
    }
  });

  it('over-specified fits with two cells of two atoms need no unknown r̄, even though far-off translations would pile four atoms into one cell', () => {
    const demy = truthPreset('demy');
    const twoTwo = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-8 - Math.LN2, -8 - Math.LN2, -Math.LN2, -Math.LN2],
        beta1: [[25.3], [24.8], [0.2], [-0.1]],
        a: [[-20.1], [-19.9], [20.05], [19.9]],
        b: [15.1, 14.9, -5, -5.05],
        nu: [0.09, 0.1, 0.16, 0.15],
      },
    );
    const r = voronoiLoss(twoTwo, demy);
    expect(r.cells.map((c) => c.fitted)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(r.kind).toBe('D2');
    expect(Array.from(assignCells(twoTwo, demy, [100]))).toEqual([1, 1, 1, 1]);
    const g = gridMin1(twoTwo, demy, -5, 5, 20000);
    expect(r.loss).toBeLessThanOrEqual(g * (1 + 1e-12));
  });
});
