/**
 * bootstrapStandardErrors (src/em/inference/boot-se.ts): on a well-identified fit the bootstrap SDs agree
 * with the observed-information errors (both estimate the same sampling spread); labels are aligned
 * (refits from data-driven starts return the experts in any order); the rows are those of
 * standardErrors; the same seed gives the same result, another seed another.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bootstrapStandardErrors, type BootstrapStandardErrors } from '../../../src/em/inference/boot-se.js';
import { formatBootstrapStandardErrors } from '../../../src/em/inference/boot-se-format.js';
import { standardErrors, type StandardErrors } from '../../../src/em/inference/se.js';
import { fitMoE } from '../../../src/em/index.js';
import type { FitResult } from '../../../src/em/types.js';
import { ValidationError } from '../../../src/models/validate.js';
import { simulate } from '../../../src/models/sample.js';
import { truthPreset } from '../../../src/models/presets.js';
import type { Dataset } from '../../../src/models/types.js';

const asData = (s: Dataset): Dataset => ({ n: s.n, d: s.d, X: s.X, y: s.y });
const EXPERT = /^(a|b|nu)\[/;

/** boot SD / information SE for the rows matching `which` */
function ratios(boot: BootstrapStandardErrors, info: StandardErrors, which: RegExp): Record<string, number> {
  const out: Record<string, number> = {};
  boot.rows.forEach((row, i) => {
    if (which.test(row.param)) out[row.param] = row.se! / info.rows[i]!.se!;
  });
  return out;
}

describe('demy, n = 2000, k = 2 softmax', () => {
  const data = asData(simulate(truthPreset('demy'), { n: 2000, seed: 3 }));
  let fit: FitResult;
  let info: StandardErrors;
  let boot: BootstrapStandardErrors;
  beforeAll(() => {
    fit = fitMoE(data, { gate: { kind: 'softmax' }, k: 2, restarts: 3, seed: 1 });
    info = standardErrors(fit.model, data);
    boot = bootstrapStandardErrors(data, fit, { B: 99, seed: 11 });
  });

  it('the bootstrap SDs agree with the observed-information errors (ratio in [0.7, 1.4])', () => {
    expect(info.status).toBe('ok');
    expect(boot.used).toBe(99);
    expect(boot.failed).toBe(0);
    const expert = ratios(boot, info, EXPERT);
    expect(Object.keys(expert)).toHaveLength(6);
    for (const [p, r] of Object.entries(expert)) {
      expect(r, p).toBeGreaterThan(0.7);
      expect(r, p).toBeLessThan(1.4);
    }
    // the gate's errors are noisier (a steep switch, ~600 samples near it): a looser band
    for (const [p, r] of Object.entries(ratios(boot, info, /^beta[01]\[0\]/))) {
      expect(r, p).toBeGreaterThan(0.6);
      expect(r, p).toBeLessThan(1.6);
    }
  });

  it('the rows are standardErrors rows: names, order, estimates, fixed entries', () => {
    expect(boot.rows.map((r) => r.param)).toEqual(info.rows.map((r) => r.param));
    expect(boot.rows.map((r) => r.estimate)).toEqual(info.rows.map((r) => r.estimate));
    expect(boot.rows.filter((r) => r.fixed).map((r) => r.param)).toEqual(['beta0[1]', 'beta1[1][0]']);
    for (const row of boot.rows.filter((r) => !r.fixed)) {
      expect(row.lower!).toBeLessThan(row.estimate);
      expect(row.upper!).toBeGreaterThan(row.estimate);
      expect(row.se!).toBeGreaterThan(0);
    }
    expect(boot.samples).toHaveLength(99);
    // every aligned sample has the reference expert's gate at 0
    for (const s of boot.samples) expect([s[2], s[3]]).toEqual([0, 0]);
    const text = formatBootstrapStandardErrors(boot, info);
    expect(text).toMatch(
      /^standard errors \(inverse observed information, status ok; parametric bootstrap, B = 99: 99 used, 0 failed, \d+ relabelled; n = 2000/,
    );
    expect(text).toMatch(/\nparameter +estimate +information +bootstrap +boot\/info +2\.5 % +97\.5 %\n/);
  });

  it('refits from data-driven starts return other labels: aligned, each sample is the one from the estimate', () => {
    const opts = { B: 24, seed: 11 };
    const both = bootstrapStandardErrors(data, fit, { ...opts, starts: 'estimate+fit', fit: { restarts: 2 } });
    const one = bootstrapStandardErrors(data, fit, opts);
    // k-means labels the experts in either order: without alignment a[0] would mix −20 and +20
    expect(both.relabelled).toBeGreaterThan(0);
    expect(one.relabelled).toBe(0);
    // the same draws (seeds by b and role), the same optimum: after alignment the same estimates
    expect(both.samples).toHaveLength(24);
    both.samples.forEach((row, b) =>
      row.forEach((v, t) =>
        expect(Math.abs(v - one.samples[b]![t]!), `sample ${b}, ${both.rows[t]!.param}`).toBeLessThan(
          1e-4 * Math.max(1, Math.abs(v)),
        ),
      ),
    );
    expect(both.notes.join('\n')).toMatch(/returned the experts in another order \(aligned\)/);
  });

  it('same seed: identical; another seed: different; a model in place of the fit: the same rows', () => {
    const a = bootstrapStandardErrors(data, fit, { B: 20, seed: 5 });
    expect(bootstrapStandardErrors(data, fit, { B: 20, seed: 5 })).toEqual(a);
    const c = bootstrapStandardErrors(data, fit, { B: 20, seed: 6 });
    expect(c.rows.map((r) => r.se)).not.toEqual(a.rows.map((r) => r.se));
    // the fit's own seed by default
    expect(bootstrapStandardErrors(data, fit, { B: 20 }).seed).toBe(1);
    const fromModel = bootstrapStandardErrors(data, fit.model, { B: 20, seed: 5 });
    expect(fromModel.rows.map((r) => r.param)).toEqual(a.rows.map((r) => r.param));
    expect(fromModel.rows.map((r) => r.se)).toEqual(a.rows.map((r) => r.se));
  });

  it('refuses B < 20 and a level outside (0, 1), naming the field', () => {
    expect(() => bootstrapStandardErrors(data, fit, { B: 19 })).toThrow(ValidationError);
    expect(() => bootstrapStandardErrors(data, fit, { B: 19 })).toThrow(/^B must be an integer ≥ 20/);
    expect(() => bootstrapStandardErrors(data, fit, { B: 20, level: 1 })).toThrow(/^level must lie in \(0, 1\)/);
  });
});

describe('temperature gate (identity σ): the flat (β1, τ) direction', () => {
  it('τ is fixed as in standardErrors, β1 moved to the fitted τ, its error near the information one', () => {
    const data = asData(simulate(truthPreset('temp'), { n: 1500, seed: 2 }));
    const fit = fitMoE(data, { gate: { kind: 'temperature' }, k: 2, restarts: 2, seed: 1 });
    const info = standardErrors(fit.model, data);
    const boot = bootstrapStandardErrors(data, fit, { B: 40, seed: 3 });
    expect(boot.rows.map((r) => r.param)).toEqual(info.rows.map((r) => r.param));
    const tau = boot.rows.find((r) => r.param === 'tau')!;
    expect(tau.fixed).toMatch(/flat/);
    expect(tau.se).toBeNull();
    expect(boot.notes.join('\n')).toMatch(/moved along it to this τ/);
    const r = ratios(boot, info, /^beta1\[0\]/)['beta1[0][0]']!;
    expect(r).toBeGreaterThan(0.6);
    expect(r).toBeLessThan(1.6);
  });
});

describe('coverage (demy, n = 500, 30 data sets, B = 99)', () => {
  it('the 95 % percentile intervals cover the truth about 95 % of the time', () => {
    const truth = truthPreset('demy');
    const truthRows = standardErrors(truth, asData(simulate(truth, { n: 50, seed: 1 }))).rows;
    let covered = 0;
    let checks = 0;
    for (let rep = 0; rep < 30; rep++) {
      const data = asData(simulate(truth, { n: 500, seed: 100 + rep }));
      const fit = fitMoE(data, {
        gate: { kind: 'softmax' },
        k: 2,
        init: { kind: 'model', model: truth },
        seed: rep + 1,
      });
      const boot = bootstrapStandardErrors(data, fit, { B: 99, seed: rep + 1 });
      boot.rows.forEach((row, i) => {
        if (row.lower === null) return;
        checks++;
        if (row.lower <= truthRows[i]!.estimate && truthRows[i]!.estimate <= row.upper!) covered++;
      });
    }
    expect(checks).toBe(300);
    // 0.907 here (the observed-information Wald intervals: 0.92); the percentile interval inherits the
    // ML bias of ν at n = 500 (0.8 for ν[0]). Binomial sd at 0.95 over 300 checks ≈ 0.013, wider as the
    // rows of one data set are correlated
    expect(covered / checks).toBeGreaterThan(0.85);
    expect(covered / checks).toBeLessThan(0.99);
  });
});
