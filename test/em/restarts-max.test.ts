/**
 * FitOptions.restartsMax: after the planned starts, more starts (the same seeds and families as with more
 * restarts) while no start but the best has ended at the best optimum, up to restartsMax in all.
 */
import { describe, expect, it } from 'vitest';
import { distinctOptima } from '../../src/em/endings.js';
import { fitMoE, type FitOptions, type FitResult } from '../../src/em/index.js';
import { simulate, truthPreset } from '../../src/models/index.js';
import { validateSpec, presetSpec } from '../../src/experiments/index.js';
import { specFromArgs } from '../../src/cli/commands/sweep.js';

const truth = truthPreset('demy');
const base: FitOptions = { gate: { kind: 'softmax' }, k: 3, init: { kind: 'random' }, seed: 2, maxIter: 300 };
const sets = [11, 12, 13, 14].map((seed) => simulate(truth, { n: 400, seed }));

/** the optima of a fit's first `len` starts (as fit.ts groups them: dominated starts end on none) */
const optimaOf = (fit: FitResult, len: number) =>
  distinctOptima(fit.restartResults.slice(0, len).map((x) => (x.stopReason === 'dominated' ? NaN : x.logLik)));

describe('restartsMax', () => {
  it('adds starts only while the best optimum is one start’s alone, and stops once another start reaches it', () => {
    let added = 0;
    for (const data of sets) {
      const fit = fitMoE(data, { ...base, restarts: 2, restartsMax: 12 });
      const len = fit.restartResults.length;
      expect(fit.restarts).toBe(len);
      expect(len).toBeGreaterThanOrEqual(2);
      expect(len).toBeLessThanOrEqual(12);
      // every added start ran because the best so far was unrepeated …
      for (let r = 2; r < len; r++) expect(optimaOf(fit, r)[0]!.count).toBe(1);
      // … and the run stopped because it no longer was, or at the cap
      if (len < 12) expect(fit.optima[0]!.count).toBeGreaterThanOrEqual(2);
      added += len - 2;
    }
    expect(added).toBeGreaterThan(0); // some data set needed more starts (else the loop above tests nothing)
  });

  it('is the fit with as many restarts as it ran: the same starts, bit for bit', () => {
    const data = sets.find((d) => fitMoE(d, { ...base, restarts: 2, restartsMax: 12 }).restarts > 2)!;
    const adaptive = fitMoE(data, { ...base, restarts: 2, restartsMax: 12 });
    const fixed = fitMoE(data, { ...base, restarts: adaptive.restarts });
    expect(adaptive.restartLogLiks).toEqual(fixed.restartLogLiks);
    expect(adaptive.restartResults.map((r) => [r.seed, r.start, r.iterations])).toEqual(
      fixed.restartResults.map((r) => [r.seed, r.start, r.iterations]),
    );
    expect(adaptive.model).toEqual(fixed.model);
    expect(adaptive.options.restartsMax).toBe(12);
    expect(fixed.options).not.toHaveProperty('restartsMax');
  });

  it('restartsMax equal to restarts changes nothing; one start alone is never settled', () => {
    const data = sets[0]!;
    const same = fitMoE(data, { ...base, restarts: 3, restartsMax: 3 });
    const plain = fitMoE(data, { ...base, restarts: 3 });
    expect(same.restartLogLiks).toEqual(plain.restartLogLiks);
    expect(fitMoE(data, { ...base, restarts: 1, restartsMax: 2 }).restarts).toBe(2);
  });

  it('the single-best warning counts the starts that ran', () => {
    for (const data of sets) {
      const fit = fitMoE(data, { ...base, restarts: 2, restartsMax: 4 });
      const w = fit.warnings.find((x) => /was reached by 1 of/.test(x));
      if (fit.optima[0]!.count === 1 && fit.optima.length > 1)
        expect(w).toMatch(new RegExp(`1 of ${fit.restarts} starts`));
      else expect(w).toBeUndefined();
    }
  });

  it('refuses restartsMax below restarts, naming the field (fit options, spec, CLI)', () => {
    expect(() => fitMoE(sets[0]!, { ...base, restarts: 3, restartsMax: 2 })).toThrow(
      /restartsMax.*at least restarts \(3\)/,
    );
    const spec = presetSpec('demy-over');
    expect(() => validateSpec({ ...spec, em: { ...spec.em, restartsMax: 2 } })).toThrow(
      /em\.restartsMax.*at least restarts \(5\)/,
    );
    expect(specFromArgs('demy-over', { restartsMax: '12' }).em.restartsMax).toBe(12);
    expect(() => specFromArgs('demy-over', { restartsMax: '3' })).toThrow(
      /--restarts-max must be at least the spec's restarts \(5\)/,
    );
  });
});
