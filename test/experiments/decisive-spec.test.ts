import { describe, expect, it } from 'vitest';
import { decisiveSpec } from '../../src/experiments/analysis/decisive-spec.js';
import type { RatePlan } from '../../src/experiments/analysis/planner.js';
import { presetSpec } from '../../src/experiments/presets.js';
import { validateSpec } from '../../src/experiments/spec.js';

const design = { n: { from: 1000, to: 20000, count: 4, spacing: 'log' as const }, replications: 2293 };
const planOf = (metrics: string[] | null): RatePlan => ({
  pilot: { n: [1000, 10000], replications: 8, work: 1 },
  workModel: { intercept: 0, slope: 1 },
  rows: [],
  ...(metrics ? { figure: { metrics, design, work: 1 } } : {}),
});

describe('decisiveSpec', () => {
  const quick = presetSpec('temp-over', { quick: true });

  it("sizes the run's spec to the whole figure's design and keeps the models with a planned row", () => {
    const { spec, leftOut } = decisiveSpec(quick, planOf(['tanh:b_w|m=2', 'sigmoid:a_w|m=2', 'sigmoid:D2']));
    expect(spec.name).toBe('temp-over-decisive');
    expect(spec.models.map((m) => m.label)).toEqual(['tanh', 'sigmoid']);
    expect(leftOut).toEqual(['identity']);
    expect(spec.replications).toBe(2293);
    expect(spec.n).toEqual([1000, 2714, 7368, 20000]);
    expect(spec.quick).toBeUndefined();
    // the theory of the models kept, as it was; none of the one left out
    const keys = Object.keys(spec.theory);
    expect(keys.some((k) => k.startsWith('identity:'))).toBe(false);
    expect(keys.filter((k) => k.startsWith('tanh:'))).toEqual(
      Object.keys(quick.theory).filter((k) => k.startsWith('tanh:')),
    );
    expect(spec.theory['sigmoid:b_w|m=2']).toEqual(quick.theory['sigmoid:b_w|m=2']);
    // everything else is the pilot's: the plan's widths and costs were measured with it
    for (const f of ['seed', 'restarts', 'init', 'em', 'record', 'loss', 'truth', 'design'] as const)
      expect(spec[f]).toEqual(quick[f]);
    expect(validateSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    // planned again from the decisive run: the suffix once
    expect(decisiveSpec(spec, planOf(['tanh:b_w|m=2'])).spec.name).toBe('temp-over-decisive');
  });

  it('names the metrics of a single model left without its label, as a one-model spec must', () => {
    const { spec, leftOut } = decisiveSpec(quick, planOf(['tanh:b_w|m=2']));
    expect(spec.models.map((m) => m.label)).toEqual(['tanh']);
    expect(leftOut).toEqual(['identity', 'sigmoid']);
    expect(spec.theory['b_w|m=2']).toEqual(quick.theory['tanh:b_w|m=2']);
    expect(Object.keys(spec.theory).some((k) => k.includes(':'))).toBe(false);
  });

  it('keeps the one model of a single-model spec, and refuses a plan without a whole-figure design', () => {
    const demy = presetSpec('demy-over', { quick: true });
    const { spec, leftOut } = decisiveSpec(demy, planOf(['b_w|m=2']));
    expect([spec.models, leftOut, spec.theory]).toEqual([demy.models, [], demy.theory]);
    expect(() => decisiveSpec(demy, planOf(null))).toThrow(/no design that decides every planned row/);
  });
});
