/**
 * The degenerate-ending warnings at their thresholds: each warning exactly at its threshold and
 * just past it (on the side the module doc states), and clean endings that must draw none. Log π
 * and the responsibilities are passed in (endingWarnings' `dens`) where the check reads them, so
 * that a threshold is hit exactly; the model parameters are chosen exactly representable.
 */
import { describe, expect, it } from 'vitest';
import { modelFromParams, type GateSpec, type Model, type ModelParams } from '../../src/models/index.js';
import type { Dataset } from '../../src/models/types.js';
import { getGate } from '../../src/models/gates/index.js';
import {
  COLLAPSE_RANGE,
  DUP_SD,
  FLOOR_FACTOR,
  OPTIMUM_TOL,
  ROW_REL,
  RUNAWAY_ARG,
  RUNAWAY_SCORE,
  RUNAWAY_TAU,
  TINY_COUNT,
  TINY_SHARE,
  VARIANCE_RATIO,
  distinctOptima,
  endingWarnings,
  singleBestWarning,
} from '../../src/em/endings.js';

/** n points of x in [−1, 1] (both ends hit exactly), in a shuffled order: the extremes sit at rows 2 and 15 for n = 21. */
function line(n = 21): Dataset {
  const X = Float64Array.from({ length: n }, (_, i) => -1 + (2 * ((i * 8 + 5) % n)) / (n - 1));
  return { n, d: 1, X, y: new Float64Array(n) };
}

/** d = 2: x1 as in {@link line}, x2 = x1² − 0.5. */
function plane(n = 21): Dataset {
  const x = line(n).X;
  const X = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    X[2 * i] = x[i]!;
    X[2 * i + 1] = x[i]! * x[i]! - 0.5;
  }
  return { n, d: 2, X, y: new Float64Array(n) };
}

/** Two well-separated experts (means 100 apart at |x| = 1), ν = 1: a clean ending unless a test changes it. */
const base = (over: Partial<ModelParams> = {}, gate: GateSpec = { kind: 'softmax' }): Model =>
  modelFromParams(gate, { beta0: [0, 0], beta1: [[1], [-1]], a: [[50], [-50]], b: [0, 0], nu: [1, 1], ...over });

/** The gate's own log π on the data, and the responsibilities given (default: uniform). */
function densOf(m: Model, data: Dataset, resp?: Float64Array): { logPi: Float64Array; resp: Float64Array } {
  const logPi = new Float64Array(data.n * m.k);
  getGate(m.gate).logProbs(m, data.X, data.n, logPi);
  return { logPi, resp: resp ?? new Float64Array(data.n * m.k).fill(1 / m.k) };
}

const FLOOR = 1e-6;
const says = (m: Model, data: Dataset, dens = densOf(m, data), floor = FLOOR) => endingWarnings(m, data, floor, dens);

/** Responsibilities (k = 2) giving expert 2 the listed r_i on its first rows, expert 1 the rest. */
function respFor(n: number, second: number[]): Float64Array {
  const r = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const v = second[i] ?? 0;
    r[2 * i] = 1 - v;
    r[2 * i + 1] = v;
  }
  return r;
}

describe('degenerate-ending thresholds', () => {
  it('the clean two-expert ending draws no warning (its own densities and given ones alike)', () => {
    const data = line();
    expect(endingWarnings(base(), data, FLOOR)).toEqual([]);
    expect(says(base(), data)).toEqual([]);
    expect(
      says(
        base({
          beta1: [
            [1, 0],
            [-1, 0],
          ],
          a: [
            [50, 0],
            [-50, 0],
          ],
        }),
        plane(),
      ),
    ).toEqual([]);
  });

  it(`almost no weight: Σ r below TINY_COUNT·(d + 2) = ${TINY_COUNT * 3} (d = 1), ${TINY_COUNT * 4} (d = 2) — at it, none`, () => {
    const data = line();
    const ones = (c: number) => Array.from({ length: c }, () => 1);
    expect(says(base(), data, { ...densOf(base(), data), resp: respFor(21, ones(6)) })).toEqual([]);
    expect(says(base(), data, { ...densOf(base(), data), resp: respFor(21, [...ones(5), 0.999]) })).toEqual([
      'degenerate ending: expert 2 has almost no weight (Σ r = 5.999 of n = 21 samples): a wasted expert, maybe a local optimum or k too large',
    ]);
    const m2 = base({
      beta1: [
        [1, 0],
        [-1, 0],
      ],
      a: [
        [50, 0],
        [-50, 0],
      ],
    });
    const d2 = plane();
    expect(says(m2, d2, { ...densOf(m2, d2), resp: respFor(21, ones(8)) })).toEqual([]);
    expect(says(m2, d2, { ...densOf(m2, d2), resp: respFor(21, [...ones(7), 0.999]) }).join('\n')).toMatch(
      /expert 2 has almost no weight \(Σ r = 7\.999 of n = 21 samples\)/,
    );
  });

  it(`almost no weight: Σ r below TINY_SHARE·n once that exceeds the count (n = 5000: ${TINY_SHARE * 5000})`, () => {
    const data = line(5000);
    const ones = (c: number) => Array.from({ length: c }, () => 1);
    const m = base();
    expect(says(m, data, { ...densOf(m, data), resp: respFor(5000, ones(10)) })).toEqual([]);
    expect(says(m, data, { ...densOf(m, data), resp: respFor(5000, [...ones(9), 0.99]) })).toEqual([
      'degenerate ending: expert 2 has almost no weight (Σ r = 9.990 of n = 5000 samples): a wasted expert, maybe a local optimum or k too large',
    ]);
  });

  it(`variance at the floor: ν ≤ FLOOR_FACTOR·floor (${FLOOR_FACTOR}) warns, just above does not`, () => {
    const data = line();
    const at = base({ nu: [0.75, 1] });
    expect(says(at, data, densOf(at, data), 0.5)).toEqual([
      "degenerate ending: expert 1's variance ν = 0.7500 is at the floor 0.5000 (it fits a few samples exactly: a spurious spike of the likelihood)",
    ]);
    const above = base({ nu: [0.7501, 1] });
    expect(says(above, data, densOf(above, data), 0.5)).toEqual([]);
  });

  it(`variances apart by more than VARIANCE_RATIO (${VARIANCE_RATIO}) warn, by exactly it do not`, () => {
    const data = line();
    expect(says(base({ nu: [1, 100] }), data)).toEqual([]);
    expect(says(base({ nu: [100.01, 1] }), data)).toEqual([
      "degenerate ending: the experts' variances differ by a factor 100.0 (ν from 1.000 to 100.0): one expert may cover several clusters while another fits a few samples; compare other starts",
    ]);
  });

  it(`nearly the same line: means within DUP_SD (${DUP_SD}) sd everywhere warns, at the extreme x beyond it does not`, () => {
    const data = line();
    expect(says(base({ a: [[1], [-1]] }), data)).toEqual([
      'degenerate ending: experts 1 and 2 fit nearly the same line (their means differ by at most 2.000 sd on the data): one cluster split in two — k too large, or a local optimum; compare other starts',
    ]);
    expect(says(base({ a: [[1.0001], [-1]] }), data)).toEqual([]);
    // the gap 2.5 is reached at one end of x only (x = 1, then x = −1): both ends are looked at
    expect(says(base({ a: [[1.25], [0]], b: [1.25, 0] }), data)).toEqual([]);
    expect(says(base({ a: [[-1.25], [0]], b: [1.25, 0] }), data)).toEqual([]);
    // sd is that of the wider expert: ν = (1, 4) → sd 2, gap 4.5 > 2 sd
    expect(says(base({ a: [[2.25], [0]], b: [2.25, 0], nu: [1, 4] }), data)).toEqual([]);
    expect(says(base({ a: [[2], [0]], b: [2, 0], nu: [4, 1] }), data).join('\n')).toMatch(
      /experts 1 and 2 fit nearly the same line \(their means differ by at most 2\.000 sd/,
    );
    // d = 2: the rows themselves are looked at (x2 = x1² − 0.5 in [−0.5, 0.5]: gaps 2.5 and 2)
    const d2 = plane();
    expect(
      says(
        base({
          beta1: [
            [1, 0],
            [-1, 0],
          ],
          a: [
            [0, 5],
            [0, 0],
          ],
          b: [0, 0],
        }),
        d2,
      ),
    ).toEqual([]);
    expect(
      says(
        base({
          beta1: [
            [1, 0],
            [-1, 0],
          ],
          a: [
            [0, 4],
            [0, 0],
          ],
          b: [0, 0],
        }),
        d2,
      ).join('\n'),
    ).toMatch(/experts 1 and 2 fit nearly the same line \(their means differ by at most 2\.000 sd/);
  });

  const tanh: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'outside' };
  it(`activation rows whose slopes agree to ROW_REL (${ROW_REL}) nearly collapsed; just beyond, not`, () => {
    const data = line();
    const near = (m: Model) => says(m, data).filter((w) => /nearly collapsed/.test(w));
    expect(near(base({ beta1: [[50], [49]], tau: 1 }, tanh))).toEqual([
      'degenerate ending: gate rows 1 and 2 nearly collapsed (their slopes β1 agree to 0.02000 relative) with τ = 1.000: the gate tells them apart only through a growing 1/τ',
    ]);
    expect(near(base({ beta1: [[50], [48.99]], tau: 1 }, tanh))).toEqual([]);
    // relative: rows of norm below 1 are compared too
    expect(near(base({ beta1: [[0.5], [0.495]], tau: 1 }, tanh))).toHaveLength(1);
    // two zero rows: no slope to compare (the row collapse is the log π check's)
    expect(near(base({ beta1: [[0], [0]], beta0: [0, 1], tau: 1 }, tanh))).toEqual([]);
    // softmax rows are not compared this way
    expect(near(base({ beta1: [[50], [49]] }))).toEqual([]);
  });

  it(`a bounded activation row whose argument reaches beyond RUNAWAY_ARG (${RUNAWAY_ARG}) became a step; at it, not`, () => {
    const data = line();
    const step = (m: Model) => says(m, data).filter((w) => /became a step/.test(w));
    expect(step(base({ beta1: [[1000], [0]], tau: 1 }, tanh))).toEqual([]);
    expect(step(base({ beta1: [[0], [-1000.5]], tau: 1 }, tanh))).toEqual([
      "degenerate ending: gate row 2 became a step (σ's argument reaches 1001 on the data: a slope sharpening a switch between samples without bound); compare other starts",
    ]);
    // bias inside σ: β0 + β1 x reaches 1100, beyond; outside, the argument is β1 x (500)
    const inside: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'inside' };
    expect(step(base({ beta0: [600, 0], beta1: [[500], [0]], tau: 1 }, inside))).toHaveLength(1);
    expect(step(base({ beta0: [600, 0], beta1: [[500], [0]], tau: 1 }, tanh))).toEqual([]);
    // an unbounded activation (identity: the (β1, τ) scaling is a symmetry) has no step to speak of
    const ident: GateSpec = { kind: 'activation', activation: 'identity', bias: 'outside' };
    expect(step(base({ beta1: [[2000], [0]], tau: 100 }, ident))).toEqual([]);
  });

  it(`τ below RUNAWAY_TAU (${RUNAWAY_TAU}) ran away where τ is not a gauge; at it, or as a gauge, not`, () => {
    const data = line();
    const tau = (m: Model) => says(m, data).filter((w) => /τ ran away/.test(w));
    expect(tau(base({ beta1: [[1], [0]], tau: 1e-4 }, tanh))).toEqual([]);
    expect(tau(base({ beta1: [[1], [0]], tau: 0.99e-4 }, tanh))).toEqual([
      'degenerate ending: τ ran away to 9.90e-5 (1/τ = 1.010e+4): the gate is a hard switch or its rows cancel; compare other starts',
    ]);
    // the temperature gate: τ trades off against β1 (a gauge), so a small τ is no ending of its own
    expect(tau(base({ beta1: [[1e-6], [0]], tau: 1e-6 }, { kind: 'temperature' }))).toEqual([]);
    // with the bias inside a positively homogeneous σ the gauge is c(β0, β1, τ): the same; tanh inside is no gauge
    const inside = (activation: 'identity' | 'tanh'): GateSpec => ({ kind: 'activation', activation, bias: 'inside' });
    expect(tau(base({ beta0: [1e-6, 0], beta1: [[1e-6], [0]], tau: 1e-6 }, inside('identity')))).toEqual([]);
    expect(tau(base({ beta0: [1e-6, 0], beta1: [[1e-6], [0]], tau: 1e-6 }, inside('tanh')))).toHaveLength(1);
  });

  it('one expert: no pair to compare and no gate to speak of (a bounded gate with a step and a runaway τ says nothing)', () => {
    const data = line();
    const one = modelFromParams(tanh, { beta0: [0], beta1: [[1e5]], a: [[1]], b: [0], nu: [1], tau: 1e-6 });
    expect(endingWarnings(one, data, FLOOR)).toEqual([]);
  });

  /** log π rows (k = 2) with log π_1 − log π_2 = diff(i) and log π_2 = 0 */
  const logPiOf = (n: number, diff: (i: number) => number, k = 2, rest: (i: number, j: number) => number = () => 0) => {
    const out = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      out[i * k] = diff(i);
      for (let j = 1; j < k; j++) out[i * k + j] = rest(i, j);
    }
    return out;
  };
  const uniform = (n: number, k: number) => new Float64Array(n * k).fill(1 / k);

  it(`log π_j − log π_l beyond RUNAWAY_SCORE (${RUNAWAY_SCORE}) ran away; at it, not`, () => {
    const data = line();
    const m = base();
    const at = logPiOf(21, (i) => (i === 7 ? -100 : i / 10));
    expect(says(m, data, { logPi: at, resp: uniform(21, 2) })).toEqual([]);
    const past = logPiOf(21, (i) => (i === 7 ? 100.5 : i / 10));
    expect(says(m, data, { logPi: past, resp: uniform(21, 2) })).toEqual([
      'degenerate ending: the gate ran away (log π_j − log π_l reaches 100.5 on the data: a switch sharpening without bound)',
    ]);
  });

  it(`gate rows whose log-ratio varies by less than COLLAPSE_RANGE (${COLLAPSE_RANGE}) collapsed; by exactly it, not`, () => {
    const data = line();
    const m = base();
    const at = logPiOf(21, (i) => (i === 3 ? 0.01 : 0));
    expect(says(m, data, { logPi: at, resp: uniform(21, 2) })).toEqual([]);
    const under = logPiOf(21, (i) => (i === 3 ? 0.0099 : 0));
    expect(says(m, data, { logPi: under, resp: uniform(21, 2) })).toEqual([
      'degenerate ending: gate rows 1 and 2 collapsed onto each other (log π_1 − log π_2 varies by 0.009900 over the data): the gate does not tell these experts apart',
    ]);
    // k = 3: only the pair (2, 3) collapsed, the pairs with expert 1 vary
    const m3 = modelFromParams(
      { kind: 'softmax' },
      { beta0: [0, 0, 0], beta1: [[2], [1], [0]], a: [[50], [0], [-50]], b: [0, 0, 0], nu: [1, 1, 1] },
    );
    const three = logPiOf(
      21,
      (i) => i / 4,
      3,
      (i, j) => (j === 1 ? i / 4000 : 0),
    );
    expect(says(m3, data, { logPi: three, resp: uniform(21, 3) })).toEqual([
      'degenerate ending: gate rows 2 and 3 collapsed onto each other (log π_2 − log π_3 varies by 0.005000 over the data): the gate does not tell these experts apart',
    ]);
  });

  it('top-K: masked (−∞) entries are left out of the ratios, rows are not checked for collapse, and top-1 checks no ratio', () => {
    const data = line();
    const top2 = modelFromParams(
      { kind: 'topk', K: 2, selectOn: 'logit' },
      { beta0: [0, 0, 0], beta1: [[2], [1], [0]], a: [[50], [0], [-50]], b: [0, 0, 0], nu: [1, 1, 1] },
    );
    // expert (i mod 3) + 1 masked on row i; the ratios that remain are constant: no collapse check for top-K
    const masked = logPiOf(
      21,
      (i) => (i % 3 === 0 ? -Infinity : -0.5),
      3,
      (i, j) => (i % 3 === j ? -Infinity : -0.5),
    );
    expect(says(top2, data, { logPi: masked, resp: uniform(21, 3) })).toEqual([]);
    const top1 = base({}, { kind: 'topk', K: 1, selectOn: 'logit' });
    const far = logPiOf(
      21,
      (i) => (i % 2 === 0 ? 0 : -Infinity),
      2,
      (i) => (i % 2 === 0 ? -Infinity : 0),
    );
    expect(says(top1, data, { logPi: far, resp: uniform(21, 2) })).toEqual([]);
    // …while a top-2 ratio beyond RUNAWAY_SCORE among the unmasked entries is said
    const sharp = logPiOf(
      21,
      (i) => (i === 4 ? -200 : -0.5),
      3,
      (i, j) => (j === 2 ? -Infinity : -0.5),
    );
    expect(says(top2, data, { logPi: sharp, resp: uniform(21, 3) })).toEqual([
      'degenerate ending: the gate ran away (log π_j − log π_l reaches 199.5 on the data: a switch sharpening without bound)',
    ]);
  });
});

describe('distinct optima and the single-best warning at their boundaries', () => {
  it(`starts within OPTIMUM_TOL (${OPTIMUM_TOL} nats) of a group's best join it; just beyond, a new optimum`, () => {
    expect(distinctOptima([0, -0.1])).toEqual([{ logLik: 0, count: 2, starts: [0, 1] }]);
    expect(distinctOptima([-0.1000001, 0])).toEqual([
      { logLik: 0, count: 1, starts: [1] },
      { logLik: -0.1000001, count: 1, starts: [0] },
    ]);
    // measured from the group's best, not from its last member
    expect(distinctOptima([0, -0.08, -0.16]).map((o) => o.starts)).toEqual([[0, 1], [2]]);
    // a wider tolerance groups more
    expect(distinctOptima([0, -0.08, -0.16], 0.2)).toEqual([{ logLik: 0, count: 3, starts: [0, 1, 2] }]);
    expect(distinctOptima([NaN, Infinity, -Infinity])).toEqual([]);
  });

  it('warns on two starts apart, not on one start or one optimum or a best reached twice', () => {
    expect(singleBestWarning(distinctOptima([-1, -3]), 2)).toBe(
      'the best log-likelihood -1.0000 was reached by 1 of 2 starts (next best -3.0000, by 1): a higher optimum may exist; try more starts',
    );
    expect(singleBestWarning(distinctOptima([-1, NaN, NaN]), 3)).toBeNull();
    expect(singleBestWarning(distinctOptima([-1, -1, -3]), 3)).toBeNull();
    expect(singleBestWarning(distinctOptima([-1, -3]), 1)).toBeNull();
  });
});
