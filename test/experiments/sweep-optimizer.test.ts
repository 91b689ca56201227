/** The sweeps' optimizer: the spec's em.optimizer (and the hybrid's thresholds), `gmoe sweep --optimizer`. */
import { describe, expect, it } from 'vitest';
import { createCellEvaluator } from '../../src/experiments/cell.js';
import { planCells } from '../../src/experiments/plan.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { specFromArgs } from '../../src/cli/commands/sweep.js';

const base = {
  name: 'cell',
  truth: 'demy',
  models: [{ label: 'over', gate: { kind: 'softmax' }, k: 3 }],
  n: [600],
  replications: 1,
  loss: 'D2',
  record: { hellinger: false, fitted: false },
  seed: 4,
};

describe('em.optimizer in sweeps', () => {
  it("a cell fits with the spec's optimizer: the hybrid stops by the Newton decrement, EM by the tol", () => {
    const em = createCellEvaluator(validateSpec(base));
    const hybrid = createCellEvaluator(validateSpec({ ...base, em: { optimizer: 'hybrid' } }));
    const [cell] = planCells(validateSpec(base));
    const a = em(cell!);
    const b = hybrid(cell!);
    expect(a.status).toBe('ok');
    expect(b.status).toBe('ok');
    expect(a.stopReason).toBe('converged');
    expect(b.stopReason).toBe('newton-decrement');
    // the same optimum here (to the EM tol's accuracy), by another route
    expect(b.iterations).toBeLessThan(a.iterations);
    expect(Math.abs(b.metrics.D2! - a.metrics.D2!)).toBeLessThan(1e-3 * a.metrics.D2!);
  });

  it('checks the fields: optimizer em|hybrid, decrement only with the hybrid, positive thresholds', () => {
    expect(validateSpec({ ...base, em: { optimizer: 'hybrid', switchTol: 1e-5, decrementTol: 1e-9 } }).em).toEqual({
      optimizer: 'hybrid',
      switchTol: 1e-5,
      decrementTol: 1e-9,
    });
    expect(() => validateSpec({ ...base, em: { optimizer: 'newton' } })).toThrow(/em\.optimizer/);
    expect(() => validateSpec({ ...base, em: { stopRule: 'decrement' } })).toThrow(
      /em\.stopRule.*'decrement' needs optimizer 'hybrid'/,
    );
    expect(() => validateSpec({ ...base, em: { optimizer: 'hybrid', decrementTol: 0 } })).toThrow(/em\.decrementTol/);
    expect(validateSpec({ ...base, em: { dropDominated: false } }).em).toEqual({ dropDominated: false });
    expect(() => validateSpec({ ...base, em: { dropDominated: 'no' } })).toThrow(/em\.dropDominated/);
  });

  it('gmoe sweep --optimizer sets em.optimizer of the spec; a bad value names the option', () => {
    // demy-over's default is the hybrid; --optimizer em brings back EM / SQUAREM
    expect(specFromArgs('demy-over', { quick: true }).em).toEqual({ maxIter: 3000, optimizer: 'hybrid' });
    expect(specFromArgs('demy-over', { quick: true, optimizer: 'em' }).em).toEqual({
      maxIter: 3000,
      optimizer: 'em',
    });
    expect(specFromArgs('temp-over', { quick: true }).em).toEqual({ tauMode: 'free', optimizer: 'hybrid' });
    expect(specFromArgs('temp-exact', { quick: true, optimizer: 'hybrid' }).em).toEqual({
      tauMode: 'free',
      optimizer: 'hybrid',
    });
    expect(() => specFromArgs('demy-over', { quick: true, optimizer: 'newton' })).toThrow(
      '--optimizer must be em or hybrid. Value: newton',
    );
  });
});
