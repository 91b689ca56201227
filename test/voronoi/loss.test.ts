import { describe, expect, it } from 'vitest';
import { cloneModel, modelFromParams, type Model } from '../../src/models/types.js';
import { listTruthPresets, truthPreset } from '../../src/models/presets.js';
import { createRng } from '../../src/random/rng.js';
import { assignCells, UnknownRBarError, voronoiLoss } from '../../src/voronoi/index.js';
import { perturb, permute, randomDirection, translateGates } from './helpers.js';

const E8 = Math.exp(-8);

/** |a − b| ≤ rel·max(|a|, |b|, floor) */
function expectClose(a: number, b: number, rel = 1e-9, floor = 1e-12): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(Math.abs(a), Math.abs(b), floor));
}

describe('D1 at the truth', () => {
  for (const p of listTruthPresets()) {
    it(`is exactly 0 for preset ${p.name}`, () => {
      const m = truthPreset(p.name);
      const r = voronoiLoss(cloneModel(m), m);
      expect(r.loss).toBe(0);
      expect(r.kind).toBe('D1');
      expect(r.cells.map((c) => c.fitted)).toEqual(Array.from({ length: m.k }, (_, j) => [j]));
      for (const c of r.cells) expect(Object.values(c.errors).every((v) => v === 0)).toBe(true);
    });
  }
});

describe('D1 on a hand-computed 2-expert example', () => {
  // truth (softmax, d = 1):  w* = e^β0* = (1, 3), β1* = (2, 0), a* = (1, −1), b* = (0, 1), ν* = (1, 2)
  // fit:                     w  = (1.5, 2.5),    β1  = (2.5, 0.2), a = (1.1, −1.2), b = (0.3, 1), ν = (1, 2.4)
  // Both total 4, so the weight normalisation is the identity (s = 1).
  // Cells: fitted 0 → true 0 (distance² 0.09+0.01+0.09 vs > 5), fitted 1 → true 1 (0.04+0.16 vs > 5).
  // t1: anchors β1_i − β1*_j = 0.5 (weight 1.5) and 0.2 (weight 2.5): the weighted median is t1 = 0.2,
  //     leaving |Δβ1| = 0.3 and 0.
  // t0: ratios W/w* = 1.5 (weight 1) and 2.5/3 = 5/6 (weight 3): weighted median c = 5/6, t0 = log(5/6);
  //     weight terms |1.5 − 5/6| = 2/3 and |2.5 − 5/6·3| = 0.
  // cell 0: 1.5·(0.3 + 0.1 + 0.3 + 0) + 2/3 = 1.05 + 2/3 = 103/60
  // cell 1: 2.5·(0 + 0.2 + 0 + 0.4) + 0   = 1.5               = 90/60
  // D1 = 193/60
  const truth = modelFromParams(
    { kind: 'softmax' },
    { beta0: [0, Math.log(3)], beta1: [[2], [0]], a: [[1], [-1]], b: [0, 1], nu: [1, 2] },
  );
  const fit = modelFromParams(
    { kind: 'softmax' },
    { beta0: [Math.log(1.5), Math.log(2.5)], beta1: [[2.5], [0.2]], a: [[1.1], [-1.2]], b: [0.3, 1], nu: [1, 2.4] },
  );

  it('matches the hand computation', () => {
    const r = voronoiLoss(fit, truth, { loss: 'D1' });
    expectClose(r.loss, 193 / 60, 1e-12);
    expect(r.kind).toBe('D1');
    expectClose(r.t0, Math.log(5 / 6), 1e-12);
    expect(r.t1[0]).toBeCloseTo(0.2, 12);
    expect(r.cells.map((c) => c.fitted)).toEqual([[0], [1]]);
    expectClose(r.cells[0]!.term, 103 / 60, 1e-12);
    expectClose(r.cells[1]!.term, 90 / 60, 1e-12);
    const e0 = r.cells[0]!.errors;
    expect(e0.beta1).toBeCloseTo(0.3, 12);
    expect(e0.a).toBeCloseTo(0.1, 12);
    expect(e0.b).toBeCloseTo(0.3, 12);
    expect(e0.nu).toBeCloseTo(0, 12);
    expect(e0.weight).toBeCloseTo(2 / 3, 12);
    expect(r.cells[1]!.errors.nu).toBeCloseTo(0.4, 12);
    expect(r.cells[1]!.errors.weight).toBeCloseTo(0, 12);
  });

  it('without the infimum (translation: false) uses t0 = 0, t1 = 0', () => {
    // cell 0: 1.5·(0.5 + 0.1 + 0.3) + |1.5 − 1| = 1.85; cell 1: 2.5·(0.2 + 0.2 + 0.4) + |2.5 − 3| = 2.5
    const r = voronoiLoss(fit, truth, { translation: false });
    expectClose(r.loss, 1.85 + 2.5, 1e-12);
    expect(r.t0).toBe(0);
    expect(r.t1).toEqual([0]);
  });
});

describe('D1 invariances', () => {
  const cases: [string, Model][] = [
    ['demy', truthPreset('demy')],
    ['d2', truthPreset('d2')],
    ['k3', truthPreset('k3')],
    ['topk1', truthPreset('topk1')],
    ['temp', truthPreset('temp')],
  ];
  for (const [name, truth] of cases) {
    const rng = createRng(11);
    const fit = perturb(truth, randomDirection(truth, rng), 0.05);
    const base = voronoiLoss(fit, truth);

    it(`${name}: relabelling the fitted experts changes nothing`, () => {
      const perm = Array.from({ length: truth.k }, (_, s) => truth.k - 1 - s);
      const r = voronoiLoss(permute(fit, perm), truth);
      expect(base.loss).toBeGreaterThan(0);
      expectClose(r.loss, base.loss, 1e-10);
      // the cell of true atom j holds the relabelled index of the same fitted expert
      r.cells.forEach((c, j) => expect(c.fitted.map((s) => perm[s]).sort()).toEqual(base.cells[j]!.fitted));
      expectClose(r.t0, base.t0, 1e-10);
    });

    it(`${name}: translating the fit's gates (β0 + s0, β1 + s1) changes nothing`, () => {
      const s0 = 3.7;
      const s1 = Array.from({ length: truth.d }, (_, l) => -2.1 + 1.3 * l);
      const r = voronoiLoss(translateGates(fit, s0, s1), truth);
      expectClose(r.loss, base.loss, 1e-8);
      // the truth's best translation moves with the fit's
      expectClose(r.t0, base.t0 + s0, 1e-9, 1);
      r.t1.forEach((t, l) => expect(t).toBeCloseTo(base.t1[l]! + s1[l]!, 7));
      expect(r.cells.map((c) => c.fitted)).toEqual(base.cells.map((c) => c.fitted));
    });
  }

  it('tanh activation (no β1 symmetry): β0 translation is invisible, β1 translation is not', () => {
    const truth = truthPreset('temp-tanh');
    const fit = perturb(truth, randomDirection(truth, createRng(5)), 0.02);
    const base = voronoiLoss(fit, truth);
    expectClose(voronoiLoss(translateGates(fit, 1.5, [0]), truth).loss, base.loss, 1e-10);
    const shifted = voronoiLoss(translateGates(truth, 0, [1]), truth);
    expect(shifted.t1).toEqual([0]);
    for (const c of shifted.cells) expect(c.errors.beta1).toBeCloseTo(1, 12);
    expect(shifted.loss).toBeGreaterThan(0.5);
  });
});

describe('D1 grows with the perturbation', () => {
  for (const name of ['demy', 'd2', 'k3']) {
    it(`${name}: strictly increasing over growing perturbations`, () => {
      const truth = truthPreset(name);
      const dir = randomDirection(truth, createRng(3));
      const eps = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3];
      const losses = eps.map((e) => voronoiLoss(perturb(truth, dir, e), truth).loss);
      for (let s = 1; s < losses.length; s++) expect(losses[s]!).toBeGreaterThan(losses[s - 1]!);
      // first order: D1 ≈ linear in a small perturbation
      expect(losses[1]! / losses[0]!).toBeGreaterThan(2);
      expect(losses[1]! / losses[0]!).toBeLessThan(4);
    });
  }
});

describe('cells and the translation t1', () => {
  // two experts told apart mostly by their gate slopes
  const truth = modelFromParams(
    { kind: 'softmax' },
    { beta0: [0, 0], beta1: [[0], [10]], a: [[0], [0.5]], b: [0, 0.5], nu: [1, 1] },
  );
  const fit = translateGates(truth, 0, [10]);

  it('raw cells (t1 = 0) would pair the atoms wrongly', () => {
    expect(Array.from(assignCells(fit, truth))).toEqual([1, 1]);
    expect(Array.from(assignCells(fit, truth, [10]))).toEqual([0, 1]);
  });

  it('the loss computes its cells in the translated frame and finds the exact translate', () => {
    const r = voronoiLoss(fit, truth);
    expect(r.loss).toBeLessThan(1e-12);
    expect(r.t1[0]).toBeCloseTo(10, 10);
    expect(r.cells.map((c) => c.fitted)).toEqual([[0], [1]]);
    expect(r.kind).toBe('D1');
  });
});

describe('D2', () => {
  // demy with expert 0 split into two nearby copies, each with half its weight; the reference expert exact
  const demy = truthPreset('demy');
  const db1 = 0.2,
    da = 0.1,
    db = 0.3,
    dnu = 0.02;
  const split = modelFromParams(
    { kind: 'softmax' },
    {
      beta0: [-8 - Math.LN2, -8 - Math.LN2, 0],
      beta1: [[25 + db1], [25 - db1], [0]],
      a: [[-20 + da], [-20 - da], [20]],
      b: [15 - db, 15 + db, -5],
      nu: [0.09 + dnu, 0.09 - dnu, 0.16],
    },
  );

  it('a split true expert gets the r̄(2) exponents: 4 on (β1, b), 2 on (a, ν)', () => {
    const r = voronoiLoss(split, demy);
    expect(r.kind).toBe('D2');
    expect(r.cells.map((c) => c.fitted)).toEqual([[0, 1], [2]]);
    // W_0 = e^-8 = w*_0, so c = 1 and the weight terms vanish; by symmetry t1 = 0
    const expected = 2 * (E8 / 2) * (db1 ** 4 + db ** 4 + da ** 2 + dnu ** 2);
    expectClose(r.loss, expected, 1e-9);
    expect(r.t1[0]).toBeCloseTo(0, 12);
    expect(r.cells[0]!.errors.beta1).toBeCloseTo(db1, 10);
    expect(r.cells[0]!.errors.b).toBeCloseTo(db, 12);
    // forcing D1 puts exponent 1 everywhere
    expectClose(voronoiLoss(split, demy, { loss: 'D1' }).loss, E8 * (db1 + da + db + dnu), 1e-9);
  });

  it('the same on a truth with large weights (k3, middle expert split), and r̄(3) = 6 for three copies', () => {
    const k3 = truthPreset('k3');
    const w1 = Math.exp(2);
    const two = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-2, 2 - Math.LN2, 2 - Math.LN2, 0],
        beta1: [[6], [-6 + db1], [-6 - db1], [0]],
        a: [[-4], [4 + da], [4 - da], [0]],
        b: [3, -3 + db, -3 - db, 0.5],
        nu: [0.04, 0.06 + dnu, 0.06 - dnu, 0.05],
      },
    );
    const r2 = voronoiLoss(two, k3);
    expect(r2.cells.map((c) => c.fitted)).toEqual([[0], [1, 2], [3]]);
    expectClose(r2.loss, w1 * (db1 ** 4 + db ** 4 + da ** 2 + dnu ** 2), 1e-9);

    const three = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-2, 2 - Math.log(3), 2 - Math.log(3), 2 - Math.log(3), 0],
        beta1: [[6], [-6 + db1], [-6 - db1], [-6], [0]],
        a: [[-4], [4 + da], [4 - da], [4], [0]],
        b: [3, -3 + db, -3 - db, -3, 0.5],
        nu: [0.04, 0.06 + dnu, 0.06 - dnu, 0.06, 0.05],
      },
    );
    const r3 = voronoiLoss(three, k3);
    expect(r3.cells.map((c) => c.fitted)).toEqual([[0], [1, 2, 3], [4]]);
    // exponents r̄(3) = 6 on (β1, b), 3 on (a, ν); two of the three copies are off
    expectClose(r3.loss, 2 * (w1 / 3) * (db1 ** 6 + db ** 6 + da ** 3 + dnu ** 3), 1e-8);
  });

  it('a split of the reference expert (β0 ≈ 0 twice: a translate by t0 = log 2) has a loss near 0, not near 1', () => {
    // weights (2e^-8, 1, 1) = 2·(e^-8, ½, ½): the truth's gates translated by log 2, the reference halved
    // into two copies (as a fitter that pins one reference copy at β0 = 0 returns it)
    const ref = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-8 + Math.LN2, 0, 0],
        beta1: [[25], [1e-3], [-1e-3]],
        a: [[-20], [20 + 1e-3], [20 - 1e-3]],
        b: [15, -5, -5],
        nu: [0.09, 0.16, 0.16],
      },
    );
    const r = voronoiLoss(ref, demy);
    expect(r.kind).toBe('D2');
    expect(r.cells.map((c) => c.fitted)).toEqual([[0], [1, 2]]);
    // only the copies' offsets remain: ½·2·((1e-3)^4 + (1e-3)^2) with the r̄(2) exponents
    expectClose(r.loss, 1e-12 + 1e-6, 1e-6);
    expect(r.t0).toBeCloseTo(Math.LN2, 12);
    // THEORY's formula without the normalisation: the infimum alone finds t0 = log 2
    const literal = voronoiLoss(ref, demy, { normalizeWeights: false });
    expectClose(literal.loss, 2 * (1e-12 + 1e-6), 1e-6);
    expect(literal.t0).toBeCloseTo(Math.LN2, 12);
    // neither translation nor normalisation: |W_ref − w*_ref| = |2 − 1| dominates
    expect(voronoiLoss(ref, demy, { translation: false, normalizeWeights: false }).loss).toBeGreaterThan(0.99);
  });

  it("auto chooses by k: D1 for a fit with the truth's k (even with two atoms in one cell), D2 otherwise", () => {
    expect(voronoiLoss(truthPreset('demy'), demy).kind).toBe('D1');
    expect(voronoiLoss(split, demy).kind).toBe('D2');
    expect(voronoiLoss(split, demy).loss).toBe(voronoiLoss(split, demy, { loss: 'D2' }).loss);
    // k = k* = 2, both atoms near the first true atom: a cell of two atoms and an empty one
    const collapsed = modelFromParams(
      { kind: 'softmax' },
      { beta0: [-8, 0], beta1: [[25.2], [24.8]], a: [[-19.9], [-20.1]], b: [15.3, 14.7], nu: [0.1, 0.08] },
    );
    const r = voronoiLoss(collapsed, demy);
    expect(r.cells.some((c) => c.fitted.length === 2)).toBe(true);
    expect(r.kind).toBe('D1');
    expect(r.loss).toBe(voronoiLoss(collapsed, demy, { loss: 'D1' }).loss);
    expect(r.loss).not.toBe(voronoiLoss(collapsed, demy, { loss: 'D2' }).loss);
    expect(voronoiLoss(split, demy, { loss: 'D1' }).kind).toBe('D1');
    expect(voronoiLoss(truthPreset('demy'), demy, { loss: 'D2' }).kind).toBe('D2');
  });

  it('a cell of 4 atoms throws the unknown-r̄ error under D2, not under D1', () => {
    const four = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-9, -9, -9, -9, 0],
        beta1: [[25], [25.1], [24.9], [25.2], [0]],
        a: [[-20], [-20.1], [-19.9], [-20], [20]],
        b: [15, 15, 15.1, 14.9, -5],
        nu: [0.09, 0.1, 0.08, 0.09, 0.16],
      },
    );
    expect(() => voronoiLoss(four, demy)).toThrow(UnknownRBarError);
    expect(() => voronoiLoss(four, demy)).toThrow(/r̄\(4\) is unknown/);
    expect(voronoiLoss(four, demy, { loss: 'D1' }).loss).toBeGreaterThan(0);
  });

  it('exponent overrides are used', () => {
    // β1 exponent 2 instead of r̄ = 4
    const r = voronoiLoss(split, demy, { exponents: { beta1: 2 } });
    expectClose(r.loss, E8 * (db1 ** 2 + db ** 4 + da ** 2 + dnu ** 2), 1e-9);
    expect(() => voronoiLoss(split, demy, { exponents: { beta1: -1 } })).toThrow(/exponents\.beta1 must be/);
    expect(() => voronoiLoss(split, demy, { exponents: { beta1: 0.5 } })).toThrow(
      /exponents\.beta1 must give exponents ≥ 1/,
    );
  });
});

describe('empty cells', () => {
  it('a true atom without fitted atoms contributes its weight term and NaN parameter errors', () => {
    const demy = truthPreset('demy');
    // one fitted atom: the reference expert; normalised weight 1 + e^-8; c = 1 + e^-8 (weighted median)
    const one = modelFromParams({ kind: 'softmax' }, { beta0: [0], beta1: [[0]], a: [[20]], b: [-5], nu: [0.16] });
    const r = voronoiLoss(one, demy);
    expect(r.cells.map((c) => c.fitted)).toEqual([[], [0]]);
    expectClose(r.loss, (1 + E8) * E8, 1e-9);
    expect(r.cells[0]!.errors.a).toBeNaN();
    expectClose(r.cells[0]!.errors.weight, (1 + E8) * E8, 1e-9);
  });
});

describe('top-K loss', () => {
  const truth = truthPreset('topk1');
  const fit = perturb(truth, randomDirection(truth, createRng(21)), 0.1);

  it('is the largest per-cell term for K = 1, at the joint infimum over (t0, t1)', () => {
    const r = voronoiLoss(fit, truth);
    expect(r.topK).toBe(true);
    expect(r.K).toBe(1);
    expect(r.cells.map((c) => c.fitted)).toEqual([[0], [1]]);
    expectClose(r.loss, Math.max(...r.cells.map((c) => c.term)), 1e-12);
    const plain = voronoiLoss(fit, truth, { topK: false });
    expect(plain.topK).toBeUndefined();
    expect(r.loss).toBeLessThanOrEqual(plain.loss);

    // brute force: the max of the two cell terms on a fine (c, t1) grid
    const s = (1 + E8) / (Math.exp(fit.beta0[0]!) + Math.exp(fit.beta0[1]!));
    const w = [0, 1].map((i) => s * Math.exp(fit.beta0[i]!));
    const wStar = [E8, 1];
    const fixed = [0, 1].map(
      (j) =>
        w[j]! *
        (Math.abs(fit.a[j]! - truth.a[j]!) + Math.abs(fit.b[j]! - truth.b[j]!) + Math.abs(fit.nu[j]! - truth.nu[j]!)),
    );
    const anchor = [0, 1].map((j) => fit.beta1[j]! - truth.beta1[j]!);
    const term = (j: number, c: number, t: number) =>
      fixed[j]! + w[j]! * Math.abs(anchor[j]! - t) + Math.abs(w[j]! - c * wStar[j]!);
    const ratios = [0, 1].map((j) => w[j]! / wStar[j]!);
    const [cLo, cHi] = [Math.min(...ratios), Math.max(...ratios)];
    const [tLo, tHi] = [Math.min(...anchor), Math.max(...anchor)];
    const G = 600;
    let gridMin = Infinity;
    for (let u = 0; u <= G; u++) {
      for (let v = 0; v <= G; v++) {
        const c = cLo + ((cHi - cLo) * u) / G;
        const t = tLo + ((tHi - tLo) * v) / G;
        gridMin = Math.min(gridMin, Math.max(term(0, c, t), term(1, c, t)));
      }
    }
    // the grid min is ≥ the infimum and within (Lipschitz × half a step) of it
    const slack = ((wStar[0]! + wStar[1]!) * (cHi - cLo) + (w[0]! + w[1]!) * (tHi - tLo)) / (2 * G);
    expect(r.loss).toBeLessThanOrEqual(gridMin + 1e-12);
    expect(r.loss).toBeGreaterThanOrEqual(gridMin - slack);
  });

  it('sums the K largest terms; K ≥ k* is the plain sum', () => {
    const k3 = truthPreset('k3');
    const f3 = perturb(k3, randomDirection(k3, createRng(8)), 0.1);
    const r2 = voronoiLoss(f3, k3, { topK: 2 });
    const terms = r2.cells.map((c) => c.term).sort((x, y) => y - x);
    expectClose(r2.loss, terms[0]! + terms[1]!, 1e-12);
    const all = voronoiLoss(f3, k3);
    expect(r2.loss).toBeLessThan(all.loss);
    expect(r2.loss).toBeGreaterThan(all.loss / 3);
    expectClose(voronoiLoss(f3, k3, { topK: 3 }).loss, all.loss, 1e-12);
    expect(() => voronoiLoss(f3, k3, { topK: 0 })).toThrow(/topK must be an integer ≥ 1/);
    expect(() => voronoiLoss(f3, k3, { topK: 1.5 })).toThrow(/topK must be an integer ≥ 1 or false\. Value: 1\.5/);
    expect(() => voronoiLoss(f3, k3, { translation: 'yes' as never })).toThrow(/translation must be true or false/);
    // a β1 exponent of exactly 1 keeps the infimum over t1 convex: accepted under D2
    expect(voronoiLoss(f3, k3, { loss: 'D2', exponents: { beta1: 1 } }).loss).toBeGreaterThan(0);
  });
});

describe('τ term', () => {
  it('adds |τ − τ*| for gates with a temperature', () => {
    const temp = truthPreset('temp');
    const fit = cloneModel(temp);
    fit.tau = 1.25;
    const r = voronoiLoss(fit, temp);
    expect(r.tauTerm).toBeCloseTo(0.25, 14);
    expect(r.loss).toBeCloseTo(0.25, 14);
    for (const c of r.cells) expect(c.errors.tau).toBeCloseTo(0.25, 14);
    const tanh = truthPreset('temp-tanh');
    const f2 = cloneModel(tanh);
    f2.tau = 0.5;
    expect(voronoiLoss(f2, tanh).tauTerm).toBeCloseTo(0.5, 14);
  });

  it('is absent for gates without one', () => {
    const demy = truthPreset('demy');
    const r = voronoiLoss(perturb(demy, randomDirection(demy, createRng(2)), 0.1), demy);
    expect(r.tauTerm).toBeUndefined();
    for (const c of r.cells) expect('tau' in c.errors).toBe(false);
  });
});

describe('bad input', () => {
  const demy = truthPreset('demy');
  it('names the problem', () => {
    expect(() => voronoiLoss(truthPreset('d2'), demy)).toThrow(
      /same input dimension d\. Value: fit d = 2, truth d = 1/,
    );
    expect(() => voronoiLoss(truthPreset('topk1'), demy)).toThrow(
      /same gate family\. Value: fit gate topk, truth gate softmax/,
    );
    expect(() => voronoiLoss(truthPreset('temp-sigmoid'), truthPreset('temp-tanh'))).toThrow(/same gate family/);
    const bad = cloneModel(demy);
    bad.nu[1] = -1;
    expect(() => voronoiLoss(bad, demy)).toThrow(/^fit: experts\.nu\[1\] must be > 0/);
    const nan = cloneModel(demy);
    nan.beta0[0] = NaN;
    expect(() => voronoiLoss(demy, nan)).toThrow(/^truth: gating\.beta0\[0\] must be a finite number/);
    expect(() => voronoiLoss(demy, demy, { loss: 'D3' as never })).toThrow(
      /loss must be one of D1, D2, auto\. Value: D3/,
    );
    expect(() => voronoiLoss(demy, demy, { exponents: { gamma: 1 } as never })).toThrow(
      /exponents\.gamma is not an exponent/,
    );
    expect(() => voronoiLoss(demy, demy, { los: 'D1' } as never)).toThrow(
      /options\.los is not an option of voronoiLoss/,
    );
  });
});
