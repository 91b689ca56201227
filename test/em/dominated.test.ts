/**
 * FitOptions.dropDominated: a start that, at twice its recent gain rate, would still end below an earlier
 * start at its iteration cap is stopped ('dominated'); the returned fit is the one without the rule.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { DOMINATED_WINDOW } from '../../src/em/fit.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';

// plain EM from random starts on an over-specified fit: two of five starts crawl to the 2 000 cap
const data = simulate(truthPreset('demy'), { n: 2000, seed: 3 });
const options = {
  gate: { kind: 'softmax' },
  k: 3,
  init: { kind: 'random' },
  restarts: 5,
  seed: 1,
  accelerate: 'none',
  maxIter: 2000,
} as const;

describe('dropDominated', () => {
  const dropped = fitMoE(data, options);
  const full = fitMoE(data, { ...options, dropDominated: false });

  it('stops the starts left behind, and returns the same fit bit for bit', () => {
    const stopped = dropped.restartResults.filter((r) => r.stopReason === 'dominated');
    expect(stopped.length).toBeGreaterThan(0);
    for (const r of stopped) {
      expect(r.iterations % DOMINATED_WINDOW).toBe(0);
      expect(r.iterations).toBeLessThan(options.maxIter);
      expect(r.converged).toBe(false);
      expect(r.logLik).toBeLessThan(dropped.logLik - dropped.optimumTol);
      expect(r.warnings.some((w) => w.includes('dropDominated'))).toBe(true);
      // without the rule the same start ran on and still ended below the returned fit
      const on = full.restartResults[r.restart]!;
      expect(on.iterations).toBeGreaterThan(r.iterations);
      expect(on.logLik).toBeLessThan(full.logLik);
    }
    expect(full.restartResults.some((r) => r.stopReason === 'dominated')).toBe(false);
    expect(dropped.bestRestart).toBe(full.bestRestart);
    expect(dropped.logLik).toBe(full.logLik);
    expect(Array.from(dropped.model.beta1)).toEqual(Array.from(full.model.beta1));
    expect(Array.from(dropped.model.nu)).toEqual(Array.from(full.model.nu));
  });

  it('leaves dominated starts out of the distinct optima', () => {
    const listed = dropped.optima.flatMap((o) => o.starts);
    for (const r of dropped.restartResults) expect(listed.includes(r.restart)).toBe(r.stopReason !== 'dominated');
  });

  it('never stops the first start (no earlier one to compare with)', () => {
    expect(dropped.restartResults[0]!.stopReason).not.toBe('dominated');
  });
});
