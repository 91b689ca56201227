import { describe, expect, it } from 'vitest';
import { presetSpec, listExperimentPresets } from '../../src/experiments/presets.js';
import { checkSummary, cleanPowerLaw, failureMessage, type PresetRules } from '../../tools/repro/checks.js';
import { REPRO_RULES, rulesFor } from '../../tools/repro/rules.js';
import { syntheticSummary } from './repro-helpers.js';

const HALF = { exponent: -0.5 };
const SLOW = { law: '1/log n' as const };

function rules(r: PresetRules['rules']): PresetRules {
  return { preset: 'syn', rules: r };
}

describe('rate rule: the predicted exponent in the 95% interval (± a stated margin)', () => {
  const { summary } = syntheticSummary({
    metrics: {
      D1: { f: (n) => 2 * n ** -0.5, prediction: HALF },
      slow: { f: (n) => 3 * n ** -0.3, prediction: HALF },
    },
  });
  const d1 = summary.metrics.find((m) => m.metric === 'D1')!;
  const slow = summary.metrics.find((m) => m.metric === 'slow')!;

  it('passes when the data follow the predicted rate, and the interval is narrow enough to mean something', () => {
    expect(d1.mean.ci[0]).toBeLessThan(-0.5);
    expect(d1.mean.ci[1]).toBeGreaterThan(-0.5);
    const [r] = checkSummary(summary, rules([{ metric: 'D1', kind: 'rate' }])).filter((c) => c.metric === 'D1');
    expect(r.status).toBe('pass');
    expect(r.detail).toMatch(/^-1\/2 in the 95% interval/);
  });

  it('fails when the slope is clearly slower, naming preset, metric and interval', () => {
    expect(slow.mean.ci[0]).toBeGreaterThan(-0.5);
    const r = checkSummary(summary, rules([{ metric: 'slow', kind: 'rate' }])).find((c) => c.metric === 'slow')!;
    expect(r.status).toBe('fail');
    expect(failureMessage(r)).toMatch(
      /^syn: theory check slow \(rate -1\/2\) failed: contradicted: -1\/2 outside the 95% interval \[-0\.3/,
    );
  });

  it('a margin widens the interval on both sides, exactly as stated', () => {
    const gap = slow.mean.ci[0] - -0.5; // how far the prediction lies below the interval
    const tight = checkSummary(
      summary,
      rules([{ metric: 'slow', kind: 'rate', margin: gap * 0.99, reason: 'test' }]),
    ).find((c) => c.metric === 'slow')!;
    const wide = checkSummary(
      summary,
      rules([{ metric: 'slow', kind: 'rate', margin: gap * 1.01, reason: 'test' }]),
    ).find((c) => c.metric === 'slow')!;
    expect(tight.status).toBe('fail');
    expect(wide.status).toBe('pass');
    expect(wide.detail).toMatch(/within margin/);
  });

  it('a margin without a reason, or a margin on a non-rate rule, is a bug in the rule table', () => {
    expect(() => checkSummary(summary, rules([{ metric: 'slow', kind: 'rate', margin: 0.1 }]))).toThrow(
      /needs a reason/,
    );
    expect(() =>
      checkSummary(summary, rules([{ metric: 'slow', kind: 'no-power', margin: 0.1, reason: 'x' }])),
    ).toThrow(/margin/);
    expect(() => checkSummary(summary, rules([{ metric: 'slow', kind: 'info' }]))).toThrow(/needs a reason/);
  });

  it('a rule whose prediction disagrees with the spec fails', () => {
    const r = checkSummary(summary, rules([{ metric: 'D1', kind: 'no-power' }])).find((c) => c.metric === 'D1')!;
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/expects no polynomial rate/);
  });

  it('a ruled metric the summary lacks fails; an unruled metric is informational', () => {
    const out = checkSummary(summary, rules([{ metric: 'gone', kind: 'rate' }]));
    expect(out.find((c) => c.metric === 'gone')!.status).toBe('fail');
    expect(out.find((c) => c.metric === 'D1')!.status).toBe('info');
  });
});

describe('no-power rule: fails only on a clean power law', () => {
  const ns = [500, 1000, 2000, 5000, 10000, 20000, 50000];
  it('a + c/log n data pass (the law comparison prefers 1/log n)', () => {
    const { summary } = syntheticSummary({
      ns,
      metrics: { L: { f: (n) => 0.05 + 2 / Math.log(n), prediction: SLOW } },
      sigma: 0.02,
    });
    const m = summary.metrics[0];
    expect(m.law?.preferred).toBe('1/log n');
    expect(cleanPowerLaw(m).clean).toBe(false);
    expect(
      checkSummary(summary, rules([{ metric: 'L', kind: 'no-power' }])).find((c) => c.metric === 'L')!.status,
    ).toBe('pass');
  });

  it('n^-1/2 data predicted 1/log n fail with a message saying why the power law is clean', () => {
    const { summary } = syntheticSummary({
      ns,
      metrics: { L: { f: (n) => 2 * n ** -0.5, prediction: SLOW } },
      sigma: 0.1,
    });
    const m = summary.metrics[0];
    expect(m.law?.preferred).toBe('power');
    const r = checkSummary(summary, rules([{ metric: 'L', kind: 'no-power' }])).find((c) => c.metric === 'L')!;
    expect(r.status).toBe('fail');
    expect(failureMessage(r)).toMatch(
      /^syn: theory check L \(no clean power law\) failed: contradicted: clean power law: power law preferred in \d+% of resamples and the whole slope interval/,
    );
  });

  it('a shallow power law whose interval reaches −1/ln(n_min) is not clean', () => {
    // slope −0.1 > −1/ln 500 ≈ −0.161: a + c/log n can look like this on this grid
    const { summary } = syntheticSummary({
      ns,
      metrics: { L: { f: (n) => n ** -0.1, prediction: SLOW } },
      sigma: 0.01,
    });
    const m = summary.metrics[0];
    const c = cleanPowerLaw(m);
    expect(c.clean).toBe(false);
    if (m.law?.preferred === 'power') expect(c.why).toMatch(/reaches -0\.161 = −1\/ln 500/);
  });

  it('without a law comparison in the summary the check fails (it cannot rule a power law out)', () => {
    const { summary } = syntheticSummary({
      ns,
      metrics: { L: { f: (n) => 0.05 + 2 / Math.log(n), prediction: SLOW } },
      laws: 'none',
    });
    const r = checkSummary(summary, rules([{ metric: 'L', kind: 'no-power' }])).find((c) => c.metric === 'L')!;
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/no power vs a \+ c\/log n comparison/);
  });
});

describe('cell check', () => {
  it('fails on a failed cell and quotes its error', () => {
    const { summary } = syntheticSummary({ metrics: { D1: { f: (n) => n ** -0.5, prediction: HALF } }, failed: 1 });
    const r = checkSummary(summary, rules([]))[0];
    expect(r.metric).toBe('cells');
    expect(r.status).toBe('fail');
    expect(failureMessage(r)).toBe(`syn: cell check failed: 1 of ${summary.cells.total} cells failed: fit: boom`);
  });
});

describe('the rule table agrees with the presets', () => {
  it('every experiment preset has rules, and only those', () => {
    expect(REPRO_RULES.map((r) => r.preset).sort()).toEqual(
      listExperimentPresets()
        .map((p) => p.name)
        .sort(),
    );
    expect(() => rulesFor('nope')).toThrow(/no theory rules for preset nope/);
  });

  for (const { preset, rules: rs } of REPRO_RULES) {
    it(`${preset}: each rule's kind matches the preset's prediction; margins and info rows have reasons`, () => {
      const theory = presetSpec(preset, { quick: true }).theory;
      const names = new Set(rs.map((r) => r.metric));
      expect(names.size).toBe(rs.length);
      for (const r of rs) {
        const p = theory[r.metric];
        if (r.kind === 'rate') expect(p && 'exponent' in p, `${preset} ${r.metric}`).toBe(true);
        if (r.kind === 'no-power') expect(p && 'law' in p, `${preset} ${r.metric}`).toBe(true);
        if (r.kind === 'info' || r.margin !== undefined) expect(r.reason, `${preset} ${r.metric}`).toBeTruthy();
        if (r.margin !== undefined) expect(r.margin).toBeGreaterThan(0);
      }
      // the main loss of every preset is checked
      const main = rs.filter((r) => r.kind !== 'info' && /(^|:)(D1|D2|loss)$/.test(r.metric));
      expect(main.length).toBeGreaterThan(0);
    });
  }
});

describe('headline rows: an exact-specified preset fails unless they are confirmed', () => {
  // wide (σ = 1.5, 4 replications): the interval holds −1/2 and a competitor
  const { summary } = syntheticSummary({
    reps: 4,
    sigma: 1.5,
    ns: [500, 1000, 2000],
    metrics: { D1: { f: (n) => 2 * n ** -0.5, prediction: HALF } },
  });
  const d1 = summary.metrics.find((m) => m.metric === 'D1')!;

  it('inconclusive: a failure in an exact-specified preset, a named verdict elsewhere', () => {
    expect(d1.verdict).toBe('inconclusive');
    const exact = checkSummary(summary, {
      preset: 'syn',
      exact: true,
      rules: [{ metric: 'D1', kind: 'rate', headline: true }],
    }).find((c) => c.metric === 'D1')!;
    expect(exact.status).toBe('fail');
    expect(failureMessage(exact)).toMatch(
      /^syn: headline check D1 \(rate -1\/2\) failed: headline row not confirmed: -1\/2 in the 95% interval .*inconclusive: /,
    );
    const over = checkSummary(summary, { preset: 'syn', rules: [{ metric: 'D1', kind: 'rate', headline: true }] }).find(
      (c) => c.metric === 'D1',
    )!;
    expect(over.status).toBe('pass');
    expect(over.verdict).toBe('inconclusive');
    expect(over.cannotExclude!.length).toBeGreaterThan(0);
    const plain = checkSummary(summary, { preset: 'syn', exact: true, rules: [{ metric: 'D1', kind: 'rate' }] }).find(
      (c) => c.metric === 'D1',
    )!;
    expect(plain.status).toBe('pass');
  });

  it('every preset declares headline rows, and the exact-specified ones are marked', () => {
    for (const p of REPRO_RULES) expect(p.rules.some((r) => r.headline)).toBe(true);
    expect(REPRO_RULES.filter((p) => p.exact).map((p) => p.preset)).toEqual(['demy-exact', 'topk-exact', 'temp-exact']);
  });
});
