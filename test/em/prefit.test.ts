/**
 * FitOptions.prefit: every start fitted first on a subsample (every m-th sample from sample r mod m),
 * then on all samples from where that fit ended.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE, type FitOptions } from '../../src/em/index.js';
import { simulate, truthPreset } from '../../src/models/index.js';
import { deriveSeed } from '../../src/random/seed.js';
import { validateSpec, presetSpec } from '../../src/experiments/index.js';
import { specFromArgs } from '../../src/cli/commands/sweep.js';

const truth = truthPreset('demy');
const data = simulate(truth, { n: 3000, seed: 5 });
const base: FitOptions = {
  gate: { kind: 'softmax' },
  k: 3,
  init: { kind: 'near-truth', truth },
  seed: 3,
  restarts: 3,
  optimizer: 'hybrid',
  dropDominated: false,
};

describe('prefit starts', () => {
  it('start r is its own start fitted on every m-th sample from sample r mod m, then on all samples', () => {
    const m = 4;
    const fit = fitMoE(data, { ...base, prefit: m });
    const floor = fit.options.varianceFloor;
    for (let r = 0; r < 3; r++) {
      const idx = [...Array(data.n).keys()].filter((i) => i % m === r % m);
      const sub = {
        n: idx.length,
        d: 1,
        X: Float64Array.from(idx, (i) => data.X[i]!),
        y: Float64Array.from(idx, (i) => data.y[i]!),
      };
      const seed = deriveSeed(3, r);
      const own = fitMoE(sub, { ...base, restarts: 1, seed, varianceFloor: floor });
      const whole = fitMoE(data, {
        ...base,
        restarts: 1,
        seed,
        varianceFloor: floor,
        init: { kind: 'model', model: own.model },
      });
      const rr = fit.restartResults[r]!;
      expect(rr.prefit).toEqual({
        samples: idx.length,
        logLik: own.logLik,
        iterations: own.iterations,
        stopReason: own.stopReason,
      });
      expect(rr.logLik).toBe(whole.logLik);
      expect(rr.iterations).toBe(whole.iterations);
    }
    expect(fit.options.prefit).toBe(m);
    // the starts differ: three subsamples, three start draws
    expect(new Set(fit.restartResults.map((r) => r.prefit!.logLik)).size).toBe(3);
  });

  it('the same seed gives the same bits; without prefit nothing is recorded', () => {
    const a = fitMoE(data, { ...base, prefit: 5 });
    const b = fitMoE(data, { ...base, prefit: 5 });
    expect(b.logLik).toBe(a.logLik);
    expect(Array.from(b.model.beta1)).toEqual(Array.from(a.model.beta1));
    const plain = fitMoE(data, base);
    expect(plain.restartResults.every((r) => r.prefit === undefined)).toBe(true);
    expect('prefit' in plain.options).toBe(false);
  });

  it('keeps each start family of the auto init (softmax-first on the subsample for a tanh gate)', () => {
    const tanh = truthPreset('temp-tanh');
    const d2 = simulate(tanh, { n: 2000, seed: 1 });
    const opts: FitOptions = { gate: tanh.gate, k: 2, init: { kind: 'auto' }, restarts: 3, seed: 2, prefit: 3 };
    const fit = fitMoE(d2, opts);
    const plain = fitMoE(d2, { ...opts, prefit: undefined });
    expect(fit.restartResults.map((r) => r.start)).toEqual(plain.restartResults.map((r) => r.start));
    for (const r of fit.restartResults) {
      expect(r.prefit?.samples).toBeGreaterThanOrEqual(666);
      expect(Number.isFinite(r.logLik)).toBe(true);
    }
  });

  it('says what is wrong with a bad prefit, naming the field', () => {
    expect(() => fitMoE(data, { ...base, prefit: 1 })).toThrow(/^prefit/);
    expect(() => fitMoE(data, { ...base, prefit: 2.5 })).toThrow(/^prefit/);
    // 3000 / 300 = 10 samples for 13 free parameters
    expect(() => fitMoE(data, { ...base, prefit: 300 })).toThrow(
      /^prefit leaves 10 samples per start: it must leave more than the 13 free parameters/,
    );
    // x alternating 0, 1: every 2nd sample from sample 0 has a constant x
    const alt = { ...data, X: Float64Array.from({ length: data.n }, (_, i) => i % 2) };
    expect(() => fitMoE(alt, { ...base, restarts: 1, prefit: 2 })).toThrow(/^prefit on 1500 samples: .*constant/);
    const spec = presetSpec('demy-over', { quick: true });
    expect(validateSpec({ ...spec, em: { ...spec.em, prefit: 10 } }).em.prefit).toBe(10);
    expect(() => validateSpec({ ...spec, em: { ...spec.em, prefit: 1 } })).toThrow(/em\.prefit/);
    expect(specFromArgs('demy-over', { quick: true, prefit: '10' }).em.prefit).toBe(10);
    expect(() => specFromArgs('demy-over', { quick: true, prefit: '1' })).toThrow(/--prefit/);
  });
});
