import { describe, expect, it } from 'vitest';
import {
  cleanPowerLawOf,
  competitorsOf,
  decisiveHalfWidth,
  fixedByEstimator,
  formatSummaryTable,
  judgeRate,
  summarise,
  verdictText,
} from '../../src/experiments/analysis/index.js';
import type { ExperimentSpec, LawComparison } from '../../src/experiments/types.js';
import { syntheticRecords, syntheticSpec } from './analysis-helpers.js';
import { parseMetric } from '../../src/experiments/analysis/metrics.js';
import type { GateSpec } from '../../src/models/types.js';

/** A power-law vs 1/log n comparison preferring `preferred`, with `share` of the resamples agreeing on a power law. */
const law = (preferred: 'power' | '1/log n', share: number): LawComparison => ({
  preferred,
  rssPower: 1,
  rssInvLog: 1,
  ratio: 1,
  invLog: { a: 0, c: 1 },
  bootstrapPreferInvLog: 1 - share,
});

describe('rate verdicts (THEORY.md §5: an interval holding a competitor decides nothing)', () => {
  it('names the ladder neighbours of a power law, and 0 and the steep rates of 1/log n, as competitors', () => {
    expect(competitorsOf({ exponent: -0.5 })).toEqual([-0.25, -1]);
    expect(competitorsOf({ exponent: -1 / 8 })).toEqual([-1 / 12, -1 / 6]);
    expect(competitorsOf({ exponent: -1 / 4 })).toEqual([-1 / 6, -0.5]);
    expect(competitorsOf({ exponent: 0 })).toEqual([-1 / 12]);
    expect(competitorsOf({ law: '1/log n' })).toEqual([0, -1 / 8, -1 / 6, -1 / 4, -1 / 2, -1]);
    expect(decisiveHalfWidth({ exponent: -0.5 })).toBeCloseTo(0.125, 15);
    expect(decisiveHalfWidth({ exponent: -1 / 8 })).toBeCloseTo(1 / 48, 15);
  });

  it('an interval covering two competitors is inconclusive and names them', () => {
    // topk-over D2 in the committed report: [−4.97, 1.33]
    const v = judgeRate({ exponent: -0.5 }, [-4.97, 1.33])!;
    expect(v.verdict).toBe('inconclusive');
    expect(v.cannotExclude).toEqual([-0.25, -1]);
    // demy-over a|m=2: [−0.57, −0.04] holds −1/4 and −1/2 (and −1/6)
    const a = judgeRate({ exponent: -0.25 }, [-0.57, -0.04])!;
    expect(a.verdict).toBe('inconclusive');
    expect(a.cannotExclude).toEqual([-1 / 6, -0.5]);
  });

  it('a narrow interval around the prediction is confirmed; one excluding it is contradicted', () => {
    expect(judgeRate({ exponent: -0.5 }, [-0.601, -0.435])!.verdict).toBe('confirmed');
    expect(judgeRate({ exponent: -0.5 }, [-0.26, -0.2])!.verdict).toBe('contradicted');
    expect(judgeRate({ exponent: -0.5 }, [-0.26, -0.2])!.detail).toMatch(/slower/);
    expect(judgeRate({ exponent: -0.5 }, [-0.9, -0.7])!.detail).toMatch(/faster/);
    // the short verdict says which way the curve missed the rate (a bound may be beaten, not exceeded)
    expect(verdictText(judgeRate({ exponent: -0.5 }, [-0.26, -0.2]))).toBe('contradicted (slower)');
    expect(verdictText(judgeRate({ exponent: -0.5 }, [-0.9, -0.7]))).toBe('contradicted (faster)');
    expect(verdictText(judgeRate({ law: '1/log n' }, [0.1, 0.3]))).toBe('contradicted');
    // an end on a competitor does not exclude it
    expect(judgeRate({ exponent: -0.5 }, [-0.6, -0.25])!.verdict).toBe('inconclusive');
    expect(judgeRate({ exponent: -0.5 }, [Number.NaN, Number.NaN])!.verdict).toBe('no interval');
  });

  it('1/log n: contradicted by a clean power law, confirmed only when the interval clears −1/8 and 0', () => {
    const p = { law: '1/log n' } as const;
    expect(judgeRate(p, [-0.11, -0.02], { law: law('1/log n', 0.1), nMin: 1000 })!.verdict).toBe('confirmed');
    const inc = judgeRate(p, [-0.2, 0.1], { law: law('power', 0.8), nMin: 1000 })!;
    expect(inc.verdict).toBe('inconclusive');
    expect(inc.cannotExclude).toEqual([0, -1 / 8, -1 / 6]);
    // an interval that reaches 0 has not shown the curve falling: it cannot tell 1/log n from no convergence
    const flat = judgeRate(p, [-0.05, 0.08], { law: law('1/log n', 0.1), nMin: 1000 })!;
    expect(flat.verdict).toBe('inconclusive');
    expect(flat.cannotExclude).toEqual([0]);
    expect(verdictText(flat)).toBe('inconclusive (0 in CI)');
    // an end on 0 does not exclude it
    expect(judgeRate(p, [-0.1, 0], { law: law('1/log n', 0.1), nMin: 1000 })!.verdict).toBe('inconclusive');
    expect(judgeRate(p, [-0.6, -0.4], { law: law('power', 0.99), nMin: 1000 })!.verdict).toBe('contradicted');
  });

  it('1/log n: a curve that grows with n (the whole interval above 0) is contradicted, not confirmed', () => {
    const p = { law: '1/log n' } as const;
    // temp-over's identity D2 at 206 replications (session 19): mean slope 0.69 [0.05, 1.22]
    const up = judgeRate(p, [0.05, 1.22], { law: law('power', 1), nMin: 1000 })!;
    expect(up.verdict).toBe('contradicted');
    expect(up.detail).toMatch(/grows with n/);
    expect(judgeRate(p, [0.05, 1.22], { law: law('1/log n', 0.5), nMin: 1000 })!.verdict).toBe('contradicted');
    // an interval that reaches 0 shows no rise, but no fall either
    expect(judgeRate(p, [0, 1.22], { law: law('1/log n', 0.5), nMin: 1000 })!.verdict).toBe('inconclusive');
    expect(judgeRate(p, [-0.05, 0.3], { law: law('1/log n', 0.1), nMin: 1000 })!.verdict).toBe('inconclusive');
  });

  it('a value the estimator fixes reads "by construction" whatever its interval', () => {
    expect(judgeRate({ law: '1/log n' }, [-0.05, 0.08], { byConstruction: 'held' })!.verdict).toBe('by construction');
  });

  it('summarise gives the verdict words, marks the identity gate β1 and τ by construction, and the table shows them', () => {
    const ns = [1000, 3000, 10000, 30000, 100000];
    const records = syntheticRecords({
      ns,
      reps: 10,
      sigma: 0.1,
      models: ['identity'],
      prefix: true,
      metrics: {
        D1: (n) => n ** -0.5,
        'beta1|m=1': () => 0.01,
        'a|m=2': (n) => n ** -0.25,
        'nu|m=1': (n) => n ** -0.25,
      },
    });
    const base = syntheticSpec(
      {
        'identity:D1': { exponent: -0.5 },
        'identity:beta1|m=1': { law: '1/log n' },
        'identity:a|m=2': { exponent: -1 / 8 },
        'identity:nu|m=1': { exponent: -0.5 },
      },
      ['identity'],
    );
    const spec: ExperimentSpec = { ...base, models: [{ label: 'identity', gate: { kind: 'temperature' }, k: 2 }] };
    const s = summarise(records, spec, { bootstrap: 300 });
    const by = Object.fromEntries(s.metrics.map((m) => [m.metric, m]));
    expect(by['identity:D1'].verdict).toBe('confirmed');
    expect(by['identity:beta1|m=1'].verdict).toBe('by construction');
    expect(by['identity:beta1|m=1'].consistent).toBeUndefined();
    expect(by['identity:nu|m=1'].verdict).toBe('contradicted');
    expect(by['identity:nu|m=1'].consistent).toBe(false);
    const t = formatSummaryTable(s);
    expect(t).toMatch(/identity:D1 .* confirmed/);
    expect(t).toMatch(/identity:beta1\|m=1 .* by construction/);
    // the same spec with a softmax gate: β1 is evidence again
    const soft = summarise(records, base, { bootstrap: 300 });
    expect(soft.metrics.find((m) => m.metric === 'identity:beta1|m=1')!.verdict).not.toBe('by construction');
  });
});

describe('fixedByEstimator: what the identity gate holds', () => {
  const spec = (gate: GateSpec): ExperimentSpec => ({
    ...syntheticSpec({}, ['g']),
    models: [{ label: 'g', gate, k: 2 }],
  });
  const fixed = (gate: GateSpec) =>
    ['beta1', 'tau', 'beta0', 'beta1tau', 'beta0tau', 'a'].filter(
      (p) => fixedByEstimator(spec(gate), parseMetric(`g:${p}|m=1`, ['g'])) !== undefined,
    );

  it('bias outside: β1 and τ; bias inside: β0 too; other gates: nothing', () => {
    expect(fixed({ kind: 'temperature' })).toEqual(['beta1', 'tau']);
    expect(fixed({ kind: 'activation', activation: 'identity', bias: 'outside' })).toEqual(['beta1', 'tau']);
    expect(fixed({ kind: 'activation', activation: 'identity', bias: 'inside' })).toEqual(['beta1', 'tau', 'beta0']);
    expect(fixed({ kind: 'activation', activation: 'tanh', bias: 'inside' })).toEqual([]);
    expect(fixed({ kind: 'softmax' })).toEqual([]);
  });
});

describe('rate verdicts: the boundaries the cases above do not reach', () => {
  it('−1/12 has two ladder neighbours, 0 among them', () => {
    expect(competitorsOf({ exponent: -1 / 12 })).toEqual([0, -1 / 8]);
    expect(competitorsOf({ exponent: -1 })).toEqual([-0.5]);
  });

  it('1/log n: the decisive half-width is the measured slope’s distance to the nearer of −1/8 and 0', () => {
    const p = { law: '1/log n' } as const;
    expect(decisiveHalfWidth(p)).toBeCloseTo(1 / 16, 15);
    expect(decisiveHalfWidth(p, -0.05)).toBeCloseTo(0.05, 15);
    expect(decisiveHalfWidth(p, -0.1)).toBeCloseTo(0.025, 15);
    expect(decisiveHalfWidth(p, 0.3)).toBe(0);
    expect(decisiveHalfWidth(p, Number.NaN)).toBeCloseTo(1 / 16, 15);
  });

  it('a clean power law needs the preference in at least 95% of the resamples, 95% itself included', () => {
    const ci: [number, number] = [-0.6, -0.4];
    expect(cleanPowerLawOf(law('power', 0.95), ci, 1000).clean).toBe(true);
    const short = cleanPowerLawOf(law('power', 0.9), ci, 1000);
    expect(short.clean).toBe(false);
    expect(short.why).toMatch(/only in 90% of the bootstrap resamples \(clean: ≥ 95%\)/);
    expect(cleanPowerLawOf(law('power', 0.99), ci, 1000).why).toMatch(/preferred in 99% of resamples/);
    // an interval that decides nothing here: only the share keeps it from being contradicted
    expect(judgeRate({ law: '1/log n' }, ci, { law: law('power', 0.9), nMin: 1000 })!.verdict).toBe('inconclusive');
  });

  it('a clean power law needs the whole interval below −1/ln n_min, the end on it excluded', () => {
    const steepest = -1 / Math.log(1000); // −0.1448
    expect(cleanPowerLawOf(law('power', 0.99), [-0.6, steepest - 1e-9], 1000).clean).toBe(true);
    const on = cleanPowerLawOf(law('power', 0.99), [-0.6, steepest], 1000);
    expect(on.clean).toBe(false);
    expect(on.why).toMatch(/reaches -0\.145 = −1\/ln 1000/);
    expect(cleanPowerLawOf(law('power', 0.99), [-0.6, -0.14], 1000).clean).toBe(false);
    // so a 1/log n prediction whose interval reaches −1/ln n_min is not contradicted
    expect(judgeRate({ law: '1/log n' }, [-0.6, -0.14], { law: law('power', 0.99), nMin: 1000 })!.verdict).toBe(
      'inconclusive',
    );
    // without n_min or an interval there is nothing to show the rate is slow
    expect(cleanPowerLawOf(law('power', 0.99), [-0.6, -0.14], undefined).clean).toBe(true);
  });
});

describe('verdict inputs that judgeRate never produces but a results file may hold', () => {
  it('an interval with one end missing is no interval', () => {
    expect(judgeRate({ exponent: -0.5 }, [Number.NaN, -0.4])!.verdict).toBe('no interval');
    expect(judgeRate({ exponent: -0.5 }, [-0.6, Number.POSITIVE_INFINITY])!.verdict).toBe('no interval');
  });
  it('verdictText names competitors only for an inconclusive verdict that has some', () => {
    expect(verdictText({ verdict: 'inconclusive', cannotExclude: [] })).toBe('inconclusive');
    expect(verdictText({ verdict: 'contradicted', cannotExclude: [-0.25] })).toBe('contradicted');
    expect(verdictText({ verdict: 'inconclusive', cannotExclude: [-0.25] })).toBe('inconclusive (-1/4 in CI)');
  });
});
