/**
 * The hybrid's step extension (hybrid.ts NewtonPhase.extend): an accepted trust-region step s is
 * followed along θ + α s, α = 2, 4, …, while L rises; the phase ends at the best point, never
 * below the plain step's, and its reported log-likelihood is the model's.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { NewtonPhase } from '../../src/em/hybrid.js';
import { packParams, unpackParams } from '../../src/em/inference/params.js';
import { logLikelihood } from '../../src/models/density.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import { cloneModel } from '../../src/models/types.js';

const demy = truthPreset('demy');
const data = simulate(demy, { n: 3000, seed: 3 });

describe('NewtonPhase step extension', () => {
  it('goes beyond a short accepted step when L keeps rising along it, monotone, model and logLik agree', () => {
    const start = fitMoE(data, {
      gate: { kind: 'softmax' },
      k: 3,
      init: { kind: 'near-truth', truth: demy },
      seed: 2,
      maxIter: 5,
      accelerate: 'none',
    }).model;
    const model = cloneModel(start);
    const phase = new NewtonPhase(model, data, 1e-6, 'free');
    phase.reset();
    const evaluate = (m: typeof model) => logLikelihood(m, data);
    let extended = 0;
    let current = evaluate(model);
    for (let step = 0; step < 6; step++) {
      const before = cloneModel(model);
      const th = packParams(phase.layout, before, new Float64Array(phase.layout.P));
      const a = phase.attempt(current, evaluate);
      expect(a.logLik).toBeGreaterThanOrEqual(current);
      expect(a.logLik).toBe(evaluate(model));
      if (!a.accepted) continue;
      // the plain step's log-likelihood, for comparison
      const plain = cloneModel(before);
      unpackParams(
        phase.layout,
        th.map((v, t) => v + a.step.step[t]!),
        plain,
      );
      const llPlain = evaluate(plain);
      expect(a.logLik).toBeGreaterThanOrEqual(llPlain);
      if (a.logLik > llPlain + 1e-9) extended++;
      current = a.logLik;
    }
    expect(extended).toBeGreaterThan(0);
  });
});
