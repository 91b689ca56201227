import { describe, expect, it } from 'vitest';
import { fitMoE, logLikelihood, simulate, truthPreset } from '../../src/index.js';

describe('top-1 gate M-step: the switch search (candidate C)', () => {
  it('moves the selection boundary off a near-truth start to where the observed likelihood is highest', () => {
    // n = 1e5, seed 3: the near-truth start put the switch at x = 0.32003 instead of 0.32, and the four
    // samples in between (each ~150 nats better under the other expert) stayed misassigned: the fit
    // ended 586 nats below the truth and ν₂ was biased (0.167 against 0.161)
    const truth = truthPreset('topk1');
    const data = simulate(truth, { n: 100_000, seed: 3 });
    const r = fitMoE(data, { gate: truth.gate, k: 2, init: { kind: 'near-truth', truth }, seed: 1 });
    // the MLE has at least the truth's likelihood
    expect(r.logLik).toBeGreaterThanOrEqual(logLikelihood(truth, data));
    // ν₂ is the residual variance of the true side (OLS there gives 0.16096); its sd is ν·sqrt(2/n₂) ≈ 0.0013
    expect(Math.abs(r.model.nu[1]! - 0.16096)).toBeLessThan(0.0013);
    // the trace never decreases, up to the rounding of a sum over n samples (64 ulps per sample, as
    // test/em/em.test.ts): the M-step accepts steps by the log-likelihood kernel, the trace records the
    // E-step's total, and the two round differently (seen: −2.5e-10 on −30806)
    const slack = 64 * Number.EPSILON * (Math.abs(r.logLik) + data.n);
    for (let t = 1; t < r.trace.length; t++) expect(r.trace[t]! - r.trace[t - 1]!).toBeGreaterThanOrEqual(-slack);
  });
});
