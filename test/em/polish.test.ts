/** Nelder–Mead and the gate polish of softmax-first starts (src/em/init/polish.ts). */
import { describe, expect, it } from 'vitest';
import { cloneModel, simulate } from '../../src/models/index.js';
import { top1SlopeK2D2 } from './starts-truths.js';
import { logLikelihood } from '../../src/models/density.js';
import { nelderMead } from '../../src/em/optim/nelderMead.js';
import { polishGate } from '../../src/em/init/polish.js';
import { gateLayout } from '../../src/em/gates/layout.js';

describe('nelderMead', () => {
  it('maximises a smooth function and a step function, within its budget', () => {
    const smooth = nelderMead((x) => -((x[0]! - 1) ** 2) - 10 * (x[1]! + 2) ** 2, Float64Array.of(0, 0), {
      steps: Float64Array.of(0.5, 0.5),
      maxEvals: 400,
      fTol: 1e-12,
    });
    expect(smooth.x[0]).toBeCloseTo(1, 4);
    expect(smooth.x[1]).toBeCloseTo(-2, 4);
    expect(smooth.evals).toBeLessThanOrEqual(400 + 3);
    // a staircase: gradients are 0 almost everywhere, values still order the points
    const stair = nelderMead((x) => -Math.floor(Math.abs(x[0]! - 3)), Float64Array.of(0), {
      steps: Float64Array.of(1),
      maxEvals: 100,
      fTol: 0,
    });
    expect(Math.abs(stair.x[0]! - 3)).toBeLessThan(1);
    expect(nelderMead(() => NaN, Float64Array.of(0), { steps: Float64Array.of(1), maxEvals: 10, fTol: 0 }).f).toBe(
      -Infinity,
    );
  });
});

describe('polishGate', () => {
  it('moves a top-1 slope switch back across the samples a start put behind it; never lowers the log-likelihood', () => {
    const truth = top1SlopeK2D2();
    const data = simulate(truth, { n: 2000, seed: 3 });
    const off = cloneModel(truth);
    off.beta1[1] = -2.6; // the switch 3x1 = 2x2 turned to 3x1 = 2.6x2: samples between on the wrong expert
    const layout = gateLayout(truth.gate, 2, 2, 'free');
    const p = polishGate(off, data, layout);
    expect(p.before).toBeCloseTo(logLikelihood(off, data), 8);
    expect(p.before).toBeLessThan(logLikelihood(truth, data) - 100);
    expect(p.logLik).toBeGreaterThan(logLikelihood(truth, data) - 0.5);
    expect(p.logLik).toBeCloseTo(logLikelihood(p.model, data), 8);
    expect(Array.from(p.model.a)).toEqual(Array.from(off.a)); // experts held
    const again = polishGate(p.model, data, layout);
    expect(again.logLik).toBeGreaterThanOrEqual(p.logLik);
  });
});
