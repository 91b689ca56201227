import { describe, expect, it } from 'vitest';
import { simulate, truthPreset } from '../../src/models/index.js';
import { cloneModel } from '../../src/models/types.js';
import { fitMoE, type FitOptions } from '../../src/em/index.js';
import { packParams, SquaremStep, squaremLength, unpackParams } from '../../src/em/squarem.js';
import { fixScalingGauge } from '../../src/em/fit.js';
import { getGate } from '../../src/models/gates/index.js';

describe('SQUAREM extrapolation', () => {
  it('the scaling gauge moves (β1, τ) along their orbit to the given τ, leaving the gate probabilities unchanged', () => {
    const m = cloneModel(truthPreset('temp'));
    m.beta1[0] = 7.5;
    m.tau = 0.8;
    const g = cloneModel(m);
    fixScalingGauge(g, 1.3);
    expect(g.tau).toBe(1.3);
    expect(g.beta1[0]).toBeCloseTo((7.5 * 1.3) / 0.8, 13);
    const X = Float64Array.from({ length: 50 }, (_, i) => -1 + i / 25);
    const lp = new Float64Array(100);
    const lg = new Float64Array(100);
    getGate(m.gate).logProbs(m, X, 50, lp);
    getGate(g.gate).logProbs(g, X, 50, lg);
    for (let t = 0; t < 100; t++) expect(Math.abs(lg[t]! - lp[t]!)).toBeLessThan(1e-12 * (1 + Math.abs(lp[t]!)));
    fixScalingGauge(g, NaN); // no finite scale: unchanged
    expect(g.tau).toBe(1.3);
  });

  it('an accelerated temperature fit leaves τ where its start put it (the gate M-step holds it; no extrapolation along the orbit)', () => {
    const truth = truthPreset('temp');
    const data = simulate(truth, { n: 1000, seed: 5 });
    const opts: FitOptions = {
      gate: { kind: 'temperature' },
      k: 3,
      seed: 77,
      tauMode: 'free',
      init: { kind: 'near-truth', truth, noise: 'fixed', noiseScale: 10 },
    };
    const start = fitMoE(data, { ...opts, maxIter: 0 });
    const fit = fitMoE(data, { ...opts, accelerate: 'squarem', maxIter: 200 });
    expect(start.model.tau).not.toBe(truth.tau);
    expect(fit.iterations).toBeGreaterThan(20);
    expect(fit.model.tau).toBe(start.model.tau);
  });

  it('packs and unpacks every parameter (ν, τ on the log scale), raising ν to the floor', () => {
    const m = cloneModel(truthPreset('temp'));
    const v = new Float64Array(squaremLength(m)).fill(NaN);
    packParams(m, v);
    // every slot written, the last one log τ
    expect(v.every((x) => Number.isFinite(x))).toBe(true);
    expect(v[v.length - 1]).toBe(Math.log(m.tau));
    const back = cloneModel(m);
    back.a[0] = 0;
    back.nu[1] = 1;
    back.tau = 3;
    unpackParams(v, back, 1e-12);
    for (const key of ['beta0', 'beta1', 'a', 'b'] as const) expect(Array.from(back[key])).toEqual(Array.from(m[key]));
    for (let j = 0; j < m.k; j++) expect(back.nu[j]).toBeCloseTo(m.nu[j]!, 15);
    expect(back.tau).toBeCloseTo(m.tau, 15);
    unpackParams(v, back, 0.5);
    expect(Array.from(back.nu)).toEqual([0.5, 0.5]);
  });

  it('α = ‖r‖/‖v‖ within [1, αmax]; α = 1 gives θ2; the bound grows ×4 on success and shrinks on failure', () => {
    const sq = new SquaremStep();
    const p0 = Float64Array.of(0, 0);
    const p1 = Float64Array.of(1, 0);
    const p2 = Float64Array.of(1.9, 0); // r = 1, v = −0.1 → ‖r‖/‖v‖ = 10
    const out = new Float64Array(2);
    expect(sq.extrapolate(p0, p1, p2, out)).toBe(1);
    expect(out[0]).toBeCloseTo(1.9, 14);
    sq.update(1, true);
    expect(sq.alphaMax).toBe(4);
    expect(sq.extrapolate(p0, p1, p2, out)).toBe(4);
    expect(out[0]).toBeCloseTo(2 * 4 * 1 + 16 * -0.1, 14);
    sq.update(4, true);
    expect(sq.extrapolate(p0, p1, p2, out)).toBeCloseTo(10, 12);
    // geometric steps θ_t = 1 − 0.9^t: the extrapolation lands on the limit 1
    expect(out[0]).toBeCloseTo(10 * 1 * 2 - 100 * 0.1, 12);
    sq.update(16, false);
    expect(sq.alphaMax).toBe(4);
    expect(sq.extrapolate(p0, p1, p1, out)).toBe(1); // v ≠ 0 but r = v: α = 1
  });

  const truth = truthPreset('demy');
  const data = simulate(truth, { n: 3000, seed: 7 });

  it('reaches the same maximum as plain EM on an exact-specified fit', () => {
    const opts: FitOptions = { gate: { kind: 'softmax' }, k: 2, init: { kind: 'near-truth', truth }, seed: 2 };
    const plain = fitMoE(data, { ...opts, accelerate: 'none' });
    const fast = fitMoE(data, opts);
    expect(fast.converged && plain.converged).toBe(true);
    expect(Math.abs(fast.logLik - plain.logLik)).toBeLessThan(1e-6);
    for (const key of ['beta0', 'beta1', 'a', 'b', 'nu'] as const) {
      for (let t = 0; t < fast.model[key].length; t++) expect(fast.model[key][t]).toBeCloseTo(plain.model[key][t]!, 4);
    }
  });

  it('on an over-specified fit, where EM crawls, it gets at least as high in far fewer iterations', () => {
    const opts: FitOptions = {
      gate: { kind: 'softmax' },
      k: 3,
      init: { kind: 'near-truth', truth },
      seed: 1,
      maxIter: 5000,
    };
    const plain = fitMoE(data, { ...opts, accelerate: 'none' });
    const fast = fitMoE(data, opts);
    expect(plain.iterations).toBeGreaterThan(1000); // the slow case this is for (3769 iterations)
    expect(plain.converged && fast.converged).toBe(true);
    expect(fast.logLik).toBeGreaterThanOrEqual(plain.logLik); // measured: higher by 3e-6
    expect(fast.iterations).toBeLessThan(plain.iterations / 5); // measured: 400
  });

  it('rejects an unknown accelerate option, naming it', () => {
    expect(() => fitMoE(data, { gate: { kind: 'softmax' }, k: 2, accelerate: 'aitken' as never })).toThrow(
      /accelerate must be one of squarem, none/,
    );
  });
});
