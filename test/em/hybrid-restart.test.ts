/**
 * A trust-region phase after a return to EM (hybrid.ts NewtonPhase.reset) starts with the radius the
 * last phase ended with, at least HYBRID_RESTART_RADIUS; the first phase with the full Newton step's
 * (or 1). A fresh radius each time let a nearly singular −H (a runaway top-K gate: full Newton steps of
 * 10^6 in the scaled metric) send every phase back to EM after HYBRID_MAX_REFUSALS quarterings, and EM
 * crawled (topk-over, n = 50 526: 1 400–2 700 iterations, docs/performance.md "Eighth pass"). And the
 * EM stretch a return forces (HYBRID_MIN_EM, doubling per return) stops doubling at HYBRID_MAX_MIN_EM.
 */
import { describe, expect, it, vi } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { HYBRID_MAX_MIN_EM, HYBRID_MIN_EM, HYBRID_RESTART_RADIUS, NewtonPhase } from '../../src/em/hybrid.js';
import { cloneModel } from '../../src/models/types.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';

const demy = truthPreset('demy');
const data = simulate(demy, { n: 2000, seed: 4 });

/** The phase's trust-region radius (private state, read for the test). */
const radius = (p: NewtonPhase): number => (p as unknown as { tr: { radius: number } }).tr.radius;
const setRadius = (p: NewtonPhase, r: number): void => {
  (p as unknown as { tr: { radius: number } }).tr.radius = r;
};

describe('NewtonPhase.reset: the radius across phases', () => {
  const start = fitMoE(data, {
    gate: { kind: 'softmax' },
    k: 3,
    init: { kind: 'near-truth', truth: demy },
    seed: 1,
    maxIter: 5,
    accelerate: 'none',
  }).model;

  it('the first phase takes the full Newton step’s radius; later ones the last radius, floored', () => {
    const phase = new NewtonPhase(cloneModel(start), data, 1e-6, 'free');
    phase.reset();
    expect(Number.isNaN(radius(phase))).toBe(true); // set by the first proposal
    const a = phase.attempt(-Infinity, () => 0); // any value: only the proposal's radius is read
    expect(a.step.norm).toBeGreaterThan(0);
    expect(Number.isFinite(radius(phase))).toBe(true);
    setRadius(phase, 3.9e3);
    phase.reset();
    expect(radius(phase)).toBe(3.9e3);
    setRadius(phase, 1e-12);
    phase.reset();
    expect(radius(phase)).toBe(HYBRID_RESTART_RADIUS);
  });

  it('the next phase’s first step is as long as the carried radius allows, not the fresh one', () => {
    // −H is indefinite at this start: the fresh radius is 1 and the step lies on its boundary
    const fresh = new NewtonPhase(cloneModel(start), data, 1e-6, 'free');
    fresh.reset();
    const first = fresh.attempt(-Infinity, () => 0).step;
    expect(first.newton).toBe(false);
    expect(first.norm).toBeCloseTo(1, 9);
    const phase = new NewtonPhase(cloneModel(start), data, 1e-6, 'free');
    phase.reset();
    setRadius(phase, 3);
    phase.reset();
    const a = phase.attempt(-Infinity, () => 0).step;
    expect(a.norm).toBeCloseTo(3, 9);
  });
});

describe('returns to EM: the forced EM stretch doubles up to HYBRID_MAX_MIN_EM', () => {
  it('a top-K fit returning to EM 5 or 6 times (n = 2e4, seed 6): each stretch ≥ its minimum, the late ones < 80', () => {
    const truth = truthPreset('topk1');
    const data = simulate(truth, { n: 20000, seed: 6 });
    let iter = 0;
    let lastAttempt = -1;
    const stretches: number[] = [];
    const attempt = NewtonPhase.prototype.attempt;
    const reset = NewtonPhase.prototype.reset;
    const a = vi.spyOn(NewtonPhase.prototype, 'attempt').mockImplementation(function (this: NewtonPhase, ...args) {
      lastAttempt = iter;
      return attempt.apply(this, args);
    });
    const r = vi.spyOn(NewtonPhase.prototype, 'reset').mockImplementation(function (this: NewtonPhase) {
      if (lastAttempt >= 0) stretches.push(iter - lastAttempt);
      reset.apply(this);
    });
    try {
      const f = fitMoE(data, {
        gate: { kind: 'topk', K: 2, selectOn: 'logit' },
        k: 3,
        init: { kind: 'near-truth', truth },
        seed: 6,
        optimizer: 'hybrid',
        onIteration: ({ iteration }) => {
          iter = iteration;
        },
      });
      // the stretch after the last return may end the run (no phase follows it)
      expect(stretches.length).toBeGreaterThanOrEqual(f.hybrid!.returnsToEm - 1);
      expect(stretches.length).toBeGreaterThanOrEqual(4);
      stretches.forEach((len, i) =>
        expect(len).toBeGreaterThanOrEqual(Math.min(HYBRID_MIN_EM * 2 ** (i + 1), HYBRID_MAX_MIN_EM)),
      );
      // uncapped, the 4th and later returns would force 80, 160, … iterations
      expect(Math.min(...stretches.slice(3))).toBeLessThan(80);
    } finally {
      a.mockRestore();
      r.mockRestore();
    }
  });
});
