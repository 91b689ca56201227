/**
 * Starts without the truth (issue 17): the softmax-first continuation, the start families of the
 * `auto` init, distinct optima, and the degenerate-ending warnings.
 */
import { describe, expect, it } from 'vitest';
import { simulate, truthPreset } from '../../src/models/index.js';
import { cloneModel, modelFromParams, withGate, type GateSpec, type Model } from '../../src/models/index.js';
import { logLikelihood } from '../../src/models/density.js';
import { fitMoE } from '../../src/em/index.js';
import { deriveSeed } from '../../src/random/seed.js';
import { continueFromSoftmax } from '../../src/em/init/continuation.js';
import { autoFamilies, startFamily } from '../../src/em/init/starts.js';
import { distinctOptima, endingWarnings, singleBestWarning } from '../../src/em/endings.js';

describe('distinct optima', () => {
  it('groups final log-likelihoods within the tolerance, best first, and warns on a best reached once', () => {
    const o = distinctOptima([-10, -12.5, -10.05, -Infinity, -12.45, -9.2, NaN]);
    expect(o).toEqual([
      { logLik: -9.2, count: 1, starts: [5] },
      { logLik: -10, count: 2, starts: [0, 2] },
      { logLik: -12.45, count: 2, starts: [1, 4] },
    ]);
    expect(singleBestWarning(o, 7)).toMatch(
      /^the best log-likelihood -9\.2000 was reached by 1 of 7 starts \(next best -10\.0000, by 2\)/,
    );
    expect(singleBestWarning(distinctOptima([-10, -10.01, -12]), 3)).toBeNull();
    expect(singleBestWarning(distinctOptima([-10]), 1)).toBeNull();
  });

  it('auto cycles its families; softmax-first is plain for a softmax fit', () => {
    const tanh: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'outside' };
    expect([0, 1, 2, 3, 4, 5].map((r) => startFamily({ kind: 'auto' }, r, tanh))).toEqual([
      ...autoFamilies(tanh),
      autoFamilies(tanh)[0],
    ]);
    expect(startFamily({ kind: 'auto' }, 3, { kind: 'softmax' })).toBe('random');
    expect(startFamily({ kind: 'softmax-first', from: 'random' }, 0, { kind: 'softmax' })).toBe('random');
    expect(startFamily({ kind: 'softmax-first' }, 0, tanh)).toBe('softmax-kmeans');
  });
});

describe('softmax-first continuation', () => {
  const soft = truthPreset('demy');
  const data = simulate(soft, { n: 2000, seed: 3 });
  const ll = (m: Model) => logLikelihood(m, data);
  it('carries the softmax density over: exactly for temperature and top-K on the logit, closely for activations', () => {
    const base = ll(soft);
    expect(ll(continueFromSoftmax(soft, { kind: 'temperature' }, data))).toBeCloseTo(base, 8);
    for (const activation of ['tanh', 'sigmoid', 'gelu', 'identity'] as const) {
      for (const bias of ['outside', 'inside'] as const) {
        const m = continueFromSoftmax(soft, { kind: 'activation', activation, bias }, data);
        expect(Math.abs(ll(m) - base) / data.n, `${activation} ${bias}`).toBeLessThan(0.02);
      }
    }
    const k3 = truthPreset('k3');
    const d3 = simulate(k3, { n: 2000, seed: 4 });
    const t = continueFromSoftmax(k3, { kind: 'topk', K: 3, selectOn: 'logit' }, d3);
    expect(logLikelihood(t, d3)).toBeCloseTo(logLikelihood(k3, d3), 8);
  });

  it("records the start's two softmax fits: the same as those fits run alone", () => {
    const tanh: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'outside' };
    const small = simulate(truthPreset('temp-tanh'), { n: 400, seed: 5 });
    const fit = fitMoE(small, { k: 2, gate: tanh, init: { kind: 'softmax-first', from: 'random' }, seed: 9 });
    const seed = fit.restartResults[0]!.seed;
    const alone = (kind: 'kmeans' | 'random', s: number) => {
      const f = fitMoE(small, { k: 2, gate: { kind: 'softmax' }, init: { kind }, seed: s });
      return { from: kind, logLik: f.logLik, iterations: f.iterations, stopReason: f.stopReason };
    };
    // own family with the start's seed first, then the other with the seed derived from it (fit.ts)
    expect(fit.restartResults[0]!.softmaxFits).toEqual([alone('random', seed), alone('kmeans', deriveSeed(seed, 1))]);
    const plain = fitMoE(small, { k: 2, gate: tanh, init: { kind: 'random' }, seed: 9 });
    expect(plain.restartResults[0]!.softmaxFits).toBeUndefined();
  });
});

describe('degenerate endings are said', () => {
  const truth = truthPreset('demy');
  const data = simulate(truth, { n: 3000, seed: 2 });
  const floor = 1e-6;
  const tanh: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'outside' };
  /** one degenerate ending each, with the warning it must draw */
  const degenerate = (): { name: string; m: Model; says: RegExp }[] => {
    const k3 = modelFromParams(
      { kind: 'softmax' },
      { beta0: [-8, 0, -40], beta1: [[25], [0], [0]], a: [[-20], [20], [1]], b: [15, -5, 0], nu: [0.09, 0.16, 0.1] },
    );
    const spike = cloneModel(truth);
    spike.nu[1] = floor;
    const sharp = cloneModel(truth);
    sharp.beta0[0] = -800;
    sharp.beta1[0] = 2500;
    const flat = withGate(cloneModel(truth), tanh, 1);
    flat.beta1[0] = 0;
    flat.beta0[0] = 0; // both rows (0, 0): the gate no longer depends on x
    const hot = withGate(cloneModel(truthPreset('temp-tanh')), tanh, 1e-6);
    hot.beta1[0] = 4e-6; // σ(β1 x)/τ as the truth's near x = 0, but τ at 1e-6
    const ridge = withGate(cloneModel(truth), tanh, 5e-4);
    ridge.beta1[0] = -1.6305;
    ridge.beta1[1] = -1.6379;
    ridge.beta0[0] = -1; // temp-tanh's k-means ending (n = 300)
    const step = withGate(cloneModel(truthPreset('temp-tanh')), tanh, 1);
    step.beta1[0] = 1.5e5; // tanh(β1 x) = 1 on every x > 7e-3: a step (the issue-17 tanh ending had β1 = 145524)
    const wide = cloneModel(truth);
    wide.nu[1] = 16;
    const split = modelFromParams(
      { kind: 'softmax' },
      {
        beta0: [-6.7, 0.5, 0],
        beta1: [[29.3], [6.7], [0]],
        a: [[-20.2], [20.35], [19.2]],
        b: [15.1, -5.15, -4.46],
        nu: [0.09, 0.157, 0.04],
      },
    );
    const top2 = withGate(cloneModel(sharp), { kind: 'topk', K: 2, selectOn: 'logit' }, 1);
    return [
      { name: 'k3', m: k3, says: /expert 3 has almost no weight/ },
      { name: 'spike', m: spike, says: /expert 2's variance ν = 1\.00e-6 is at the floor/ },
      { name: 'sharp', m: sharp, says: /the gate ran away/ },
      { name: 'flat', m: flat, says: /gate rows 1 and 2 collapsed onto each other/ },
      { name: 'hot', m: hot, says: /τ ran away to 1\.00e-6/ },
      { name: 'ridge', m: ridge, says: /gate rows 1 and 2 nearly collapsed/ },
      { name: 'step', m: step, says: /gate row 1 became a step \(σ's argument reaches 1\.499e\+5 on the data/ },
      { name: 'wide', m: wide, says: /the experts' variances differ by a factor 177\.8/ },
      { name: 'split', m: split, says: /experts 2 and 3 fit nearly the same line/ },
      { name: 'top-2', m: top2, says: /the gate ran away/ },
    ];
  };
  it('the truth itself ends clean', () => {
    expect(endingWarnings(truth, data, floor)).toEqual([]);
    expect(
      endingWarnings(truthPreset('temp-tanh'), simulate(truthPreset('temp-tanh'), { n: 3000, seed: 2 }), floor),
    ).toEqual([]);
    const step = withGate(cloneModel(truthPreset('temp-tanh')), tanh, 1);
    expect(endingWarnings(step, data, floor)).toEqual([]);
  });
  it('k = 1 on fewer samples than the weight check asks (2(d + 2)) wastes no expert: the one expert holds all', () => {
    const tiny = simulate(truth, { n: 5, seed: 1 });
    const fit = fitMoE(tiny, { gate: { kind: 'softmax' }, k: 1 });
    expect(fit.warnings.join('\n')).not.toMatch(/almost no weight/);
    expect(endingWarnings(fit.model, tiny, floor).join('\n')).not.toMatch(/almost no weight/);
  });
  it('an expert without weight, a variance at the floor, a runaway gate, collapsed rows, a runaway τ, …', () => {
    for (const c of degenerate()) expect(endingWarnings(c.m, data, floor).join('\n'), c.name).toMatch(c.says);
  });
  it("a fit says them from its backend's log π and responsibilities, as this module's own pass does", () => {
    for (const c of degenerate()) {
      const fit = fitMoE(data, {
        gate: c.m.gate,
        k: c.m.k,
        init: { kind: 'model', model: c.m },
        maxIter: 0,
        varianceFloor: floor,
      });
      const said = fit.warnings.filter((w) => w.startsWith('degenerate ending'));
      expect(said.join('\n'), c.name).toMatch(c.says);
      expect(said, c.name).toEqual(endingWarnings(fit.model, data, floor));
    }
  });
});

/** Default (auto) fit against a near-truth fit on the same data: within 1 nat. */
describe('the default start reaches the near-truth optimum', () => {
  const cases: { name: string; truth: Model; k: number; n: number }[] = [
    { name: 'softmax k3', truth: truthPreset('k3'), k: 3, n: 3000 },
    { name: 'top-1 on the logit', truth: truthPreset('topk1'), k: 2, n: 3000 },
    { name: 'temperature', truth: truthPreset('temp'), k: 2, n: 3000 },
    { name: 'tanh', truth: truthPreset('temp-tanh'), k: 2, n: 3000 },
    { name: 'sigmoid', truth: truthPreset('temp-sigmoid'), k: 2, n: 3000 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const data = simulate(c.truth, { n: c.n, seed: 7 });
      const near = fitMoE(data, { gate: c.truth.gate, k: c.k, init: { kind: 'near-truth', truth: c.truth }, seed: 1 });
      const auto = fitMoE(data, { gate: c.truth.gate, k: c.k, init: { kind: 'auto' }, restarts: 4, seed: 1 });
      expect(auto.logLik, JSON.stringify(auto.optima)).toBeGreaterThan(near.logLik - 1);
      expect(auto.optima[0]!.logLik).toBe(auto.logLik);
      expect(auto.restartResults.map((r) => r.start)).toEqual(
        [0, 1, 2, 3].map((r) => startFamily({ kind: 'auto' }, r, c.truth.gate)),
      );
    });
  }
});
