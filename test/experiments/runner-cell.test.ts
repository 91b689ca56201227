/** The real cell evaluator on tiny cells: metric names, seeds, failures as records. */
import { describe, expect, it } from 'vitest';
import { createCellEvaluator } from '../../src/experiments/cell.js';
import { planCells } from '../../src/experiments/plan.js';
import { validateSpec } from '../../src/experiments/spec.js';

const base = {
  name: 'cell',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
  n: [400],
  replications: 1,
  loss: 'D1',
  record: { hellingerPoints: 200 },
  seed: 4,
};

describe('evaluateCell', () => {
  it('records the losses, per-parameter errors by cell size and the fit, deterministically', () => {
    const spec = validateSpec(base);
    const [cell] = planCells(spec);
    const ev = createCellEvaluator(spec);
    const r = ev(cell!);
    expect(r).toMatchObject({ n: 400, rep: 0, seed: cell!.seed, model: 'softmax', status: 'ok', converged: true });
    expect(Object.keys(r.metrics).sort()).toEqual(
      ['D1', 'a|m=1', 'b|m=1', 'beta0|m=1', 'beta1|m=1', 'hellinger', 'loss', 'nu|m=1'].sort(),
    );
    expect(r.metrics.loss).toBe(r.metrics.D1);
    expect(r.metrics.D1).toBeGreaterThan(0);
    expect(r.metrics.hellinger).toBeGreaterThan(0);
    expect(r.metrics.hellinger).toBeLessThan(1);
    expect(r.fitted!.b).toHaveLength(2);
    const { seconds: _s, ...again } = ev(cell!);
    const { seconds: _t, ...first } = r;
    expect(again).toEqual(first);
  });

  it('an over-specified fit records D1 and D2 and the two-atom cell; several models are prefixed by label', () => {
    const spec = validateSpec({
      ...base,
      loss: 'auto',
      models: [
        { label: 'exact', gate: { kind: 'softmax' }, k: 2 },
        { label: 'over', gate: { kind: 'softmax' }, k: 3 },
      ],
      record: { hellinger: false, fitted: false },
      em: { maxIter: 50 },
    });
    const ev = createCellEvaluator(spec);
    const [exact, over] = planCells(spec).map(ev);
    expect(Object.keys(exact!.metrics).every((k) => k.startsWith('exact:'))).toBe(true);
    expect(exact!.metrics).toHaveProperty('exact:D1');
    expect(exact!.fitted).toBeUndefined();
    expect(over!.metrics).toHaveProperty(['over:D1']);
    expect(over!.metrics).toHaveProperty(['over:D2']);
    expect(Object.keys(over!.metrics).some((k) => k.startsWith('over:a|m=2'))).toBe(true);
    expect(over!.metrics).not.toHaveProperty(['over:hellinger']);
  });

  it("record.weighted adds the two-atom cell's weighted errors and smallest share; theory may name them", () => {
    const spec = validateSpec({
      ...base,
      loss: 'D2',
      models: [{ label: 'over', gate: { kind: 'softmax' }, k: 3 }],
      record: { hellinger: false, fitted: false, weighted: true },
      theory: { 'b_w|m=2': { exponent: -0.125 }, 'share_min|m=2': { exponent: 0 } },
      em: { maxIter: 50 },
    });
    const [cell] = planCells(spec);
    const r = createCellEvaluator(spec)(cell!);
    const w = ['beta1_w|m=2', 'a_w|m=2', 'b_w|m=2', 'nu_w|m=2', 'share_min|m=2'];
    for (const k of w) expect(r.metrics).toHaveProperty([k]);
    // a power mean of the pair's errors lies at or below their max
    for (const p of ['beta1', 'a', 'b', 'nu'])
      expect(r.metrics[`${p}_w|m=2`]!).toBeLessThanOrEqual(r.metrics[`${p}|m=2`]! * (1 + 1e-12));
    expect(r.metrics['share_min|m=2']!).toBeGreaterThan(0);
    expect(r.metrics['share_min|m=2']!).toBeLessThanOrEqual(0.5);
    // off by default
    const plain = createCellEvaluator(
      validateSpec({ ...spec, theory: {}, record: { hellinger: false, fitted: false } }),
    )(cell!);
    for (const k of w) expect(plain.metrics).not.toHaveProperty([k]);
  });

  it("init.assign reaches the fit's near-truth start (which true atoms are split)", () => {
    const start = (assign: number[]) => {
      const spec = validateSpec({
        ...base,
        loss: 'D2',
        models: [{ label: 'over', gate: { kind: 'softmax' }, k: 3 }],
        init: { kind: 'near-truth', assign },
        record: { hellinger: false },
        em: { maxIter: 1, accelerate: 'none' },
      });
      return createCellEvaluator(spec)(planCells(spec)[0]!).fitted!.a.map((row) => Math.round(row[0]!));
    };
    expect(start([0, 0, 1])).toEqual([-20, -20, 20]);
    expect(start([0, 1, 1])).toEqual([-20, 20, 20]);
  });

  it("a model's own em options apply to it alone, over the spec's", () => {
    const spec = validateSpec({
      ...base,
      models: [
        { label: 'short', gate: { kind: 'softmax' }, k: 2, em: { maxIter: 1 } },
        { label: 'full', gate: { kind: 'softmax' }, k: 2 },
      ],
      record: { hellinger: false, fitted: false },
      em: { maxIter: 200, accelerate: 'none' },
    });
    expect(spec.models[0]!.em).toEqual({ maxIter: 1 });
    const [short, full] = planCells(spec).map(createCellEvaluator(spec));
    expect(short!.iterations).toBe(1);
    expect(short!.converged).toBe(false);
    expect(full!.iterations).toBeGreaterThan(1);
    expect(full!.converged).toBe(true);
  });

  it('a fit of several starts records how they ended (starts at the best optimum, the gap to the next); one start records none', () => {
    const spec = validateSpec({
      ...base,
      n: [400, 600, 800],
      loss: 'auto',
      models: [{ label: 'over', gate: { kind: 'softmax' }, k: 3 }],
      init: { kind: 'random' },
      restarts: 4,
      record: { hellinger: false, fitted: false },
      em: { maxIter: 200 },
    });
    const ev = createCellEvaluator(spec);
    const records = planCells(spec).map(ev);
    for (const r of records) {
      expect(r.starts!.count).toBe(4);
      expect(r.starts!.atBest).toBeGreaterThanOrEqual(1);
      expect(r.starts!.atBest).toBeLessThanOrEqual(4);
      // the fit's own warning says the same when one start alone reached the best
      const single = r.warnings.find((w) => /was reached by 1 of 4 starts/.test(w));
      expect(single !== undefined).toBe(r.starts!.atBest === 1 && r.starts!.gap !== undefined);
      if (r.starts!.gap !== undefined) expect(r.starts!.gap).toBeGreaterThan(0.1);
    }
    // these cells end at more than one optimum (else the checks above test nothing)
    expect(records.some((r) => r.starts!.gap !== undefined)).toBe(true);
    const one = createCellEvaluator(validateSpec(base))(planCells(validateSpec(base))[0]!);
    expect(one).not.toHaveProperty('starts');
  });

  it('a fit that throws becomes a failed record with the reason', () => {
    // fewer samples than free parameters, past the spec's own check of n
    const spec = { ...validateSpec({ ...base, n: [100] }), n: [5] };
    const r = createCellEvaluator(spec)(planCells(spec)[0]!);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/^fit: data\.n must exceed the number of free parameters/);
    expect(r.metrics).toEqual({});
  });
});
