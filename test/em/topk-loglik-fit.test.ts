/**
 * Top-K fits with the one-pass log-likelihood (backend.topkLogLik: the M-step's trial gates, the
 * hybrid's trust-region trials) against the same fits on the same backend without it (gateProbs then
 * logLik): every start's trace, the returned model and log-likelihood bit for bit — topk-over's
 * set-up (k = 3, K = 2 on the logit, hybrid), K = 1 on the logit (the switch search) and K = 2 on
 * the slope, and SQUAREM.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend, fitMoE } from '../../src/em/index.js';
import type { Backend } from '../../src/em/backend/types.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import type { GateSpec, Model } from '../../src/models/types.js';
import { expectSameBits } from './wasm-helpers.js';

const truth = truthPreset('topk1');

/** A CPU backend whose one-pass top-K log-likelihood is taken away, or counted. */
function backends() {
  const calls = { fused: 0 };
  const be = createCpuBackend();
  const counted: Backend = {
    ...be,
    topkLogLik: (...args) => {
      const v = be.topkLogLik!(...args);
      if (v !== undefined) calls.fused++;
      return v;
    },
  };
  const twoPass: Backend = { ...createCpuBackend(), topkLogLik: undefined };
  return { counted, twoPass, calls };
}

function expectSameModel(a: Model, b: Model): void {
  for (const key of ['beta0', 'beta1', 'a', 'b', 'nu'] as const) expectSameBits(a[key], b[key], key);
  expect(Object.is(a.tau, b.tau)).toBe(true);
}

describe('top-K fits: the one-pass log-likelihood changes no bit', () => {
  const cases: [string, GateSpec, 'hybrid' | 'em', number][] = [
    ['K = 2 on the logit, hybrid (topk-over)', { kind: 'topk', K: 2, selectOn: 'logit' }, 'hybrid', 3000],
    ['K = 1 on the logit, hybrid (switch search)', { kind: 'topk', K: 1, selectOn: 'logit' }, 'hybrid', 1500],
    ['K = 2 on the slope, hybrid', { kind: 'topk', K: 2, selectOn: 'slope' }, 'hybrid', 1500],
    ['K = 2 on the logit, SQUAREM', { kind: 'topk', K: 2, selectOn: 'logit' }, 'em', 1500],
  ];
  for (const [name, gate, optimizer, n] of cases) {
    it(name, () => {
      const data = simulate(truth, { n, seed: 11 });
      const { counted, twoPass, calls } = backends();
      const opts = {
        gate,
        k: 3,
        init: { kind: 'near-truth' as const, truth },
        restarts: 2,
        seed: 5,
        optimizer,
        maxIter: 300,
      };
      const fused = fitMoE(data, { ...opts, backend: counted });
      const ref = fitMoE(data, { ...opts, backend: twoPass });
      expect(calls.fused, 'the one-pass kernel ran').toBeGreaterThan(0);
      expect(Object.is(fused.logLik, ref.logLik), `${fused.logLik} vs ${ref.logLik}`).toBe(true);
      expect(fused.iterations).toBe(ref.iterations);
      expect(fused.stopReason).toBe(ref.stopReason);
      expectSameBits(fused.trace, ref.trace, 'trace');
      expect(fused.restartResults.length).toBe(ref.restartResults.length);
      fused.restartResults.forEach((r, t) => expect(Object.is(r.logLik, ref.restartResults[t]!.logLik)).toBe(true));
      expectSameModel(fused.model, ref.model);
      // the trust region's trials ran (they take the one pass unwritten)
      if (optimizer === 'hybrid') expect(fused.hybrid!.hessians).toBeGreaterThan(0);
    });
  }
});
