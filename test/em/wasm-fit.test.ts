/**
 * Whole fits with the CPU backend's WebAssembly SIMD kernels (option wasm, default true) against
 * the same fits with the JS kernels: the same iterations and stop reason, parameters and
 * log-likelihood equal to rounding; the SIMD path is taken (d = 1, k = 2, 3, every gate) and
 * gives the same bits on every run; bad values of the option are refused.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import type { Model } from '../../src/models/types.js';

function maxRelDiff(a: Model, b: Model): number {
  let m = 0;
  for (const key of ['beta0', 'beta1', 'a', 'b', 'nu'] as const) {
    for (let t = 0; t < a[key].length; t++) {
      const x = a[key][t]!,
        y = b[key][t]!;
      m = Math.max(m, Math.abs(x - y) / Math.max(1, Math.abs(x)));
    }
  }
  return Math.max(m, Math.abs(a.tau - b.tau) / Math.max(1, a.tau));
}

describe('fits with the WebAssembly kernels', () => {
  const cases = [
    { name: 'softmax, k = 2 (exact)', truth: 'demy', gate: { kind: 'softmax' as const }, k: 2, n: 3001 },
    { name: 'softmax, k = 3 (over-specified)', truth: 'demy', gate: { kind: 'softmax' as const }, k: 3, n: 3000 },
    {
      name: 'activation tanh, k = 3',
      truth: 'temp-tanh',
      gate: { kind: 'activation' as const, activation: 'tanh' as const, bias: 'outside' as const },
      k: 3,
      n: 2000,
    },
    // the top-K M-step accepts or halves steps by comparing log-likelihoods, so rounding-level
    // differences change its path in an over-specified fit: same bits across runs, no closeness
    {
      name: 'top-2 of 3 (over-specified top-1 truth)',
      truth: 'topk1',
      gate: { kind: 'topk' as const, K: 2, selectOn: 'logit' as const },
      k: 3,
      n: 2001,
      pathDependent: true,
    },
    {
      name: 'top-1 of 2 (exact)',
      truth: 'topk1',
      gate: { kind: 'topk' as const, K: 1, selectOn: 'logit' as const },
      k: 2,
      n: 2000,
    },
    // the generic kernels (any k and d)
    {
      name: 'softmax, k = 5 (over-specified, generic kernels)',
      truth: 'demy',
      gate: { kind: 'softmax' as const },
      k: 5,
      n: 2001,
    },
    { name: 'softmax, k = 3, d = 2 (generic kernels)', truth: 'd2', gate: { kind: 'softmax' as const }, k: 3, n: 2000 },
  ];
  for (const c of cases) {
    it(`${c.name}: agrees with the JS kernels to rounding, bit-identical across runs`, () => {
      const truth = truthPreset(c.truth as never);
      const data = simulate(truth, { n: c.n, seed: 11 });
      const opts = { gate: c.gate, k: c.k, init: { kind: 'near-truth' as const, truth }, seed: 3, maxIter: 60 };
      const before = wasmCalls.eStep;
      const w = fitMoE(data, opts);
      expect(wasmCalls.eStep - before, 'E-steps through the SIMD kernel').toBeGreaterThan(w.iterations);
      const w2 = fitMoE(data, opts);
      expect(Object.is(w.logLik, w2.logLik)).toBe(true);
      expect(w.trace).toEqual(w2.trace);
      const j = fitMoE(data, { ...opts, wasm: false });
      expect(w.options.wasm).toBe(true);
      expect(j.options.wasm).toBe(false);
      const slack = 64 * Number.EPSILON * (Math.abs(w.logLik) + c.n);
      for (let t = 1; t < w.trace.length; t++) expect(w.trace[t]! - w.trace[t - 1]!).toBeGreaterThanOrEqual(-slack);
      if ('pathDependent' in c) return;
      expect(w.iterations).toBe(j.iterations);
      expect(w.stopReason).toBe(j.stopReason);
      expect(Math.abs(w.logLik - j.logLik)).toBeLessThanOrEqual(1e-9 * Math.abs(j.logLik));
      expect(maxRelDiff(w.model, j.model)).toBeLessThan(1e-6);
    });
  }

  it('wasm: false and fits beyond the generic kernels (k > 16) take the JS kernels', () => {
    const truth = truthPreset('demy');
    const data = simulate(truth, { n: 500, seed: 2 });
    const before = wasmCalls.eStep;
    fitMoE(data, { gate: { kind: 'softmax' }, k: 2, init: { kind: 'near-truth', truth }, maxIter: 5, wasm: false });
    fitMoE(data, { gate: { kind: 'softmax' }, k: 17, init: { kind: 'kmeans' }, maxIter: 5 });
    expect(wasmCalls.eStep).toBe(before);
  });

  it('refuses a wasm option that is not a boolean, naming it', () => {
    const truth = truthPreset('demy');
    const data = simulate(truth, { n: 200, seed: 2 });
    expect(() => fitMoE(data, { gate: { kind: 'softmax' }, k: 2, wasm: 'yes' as never })).toThrow(
      /^wasm must be true or false/,
    );
  });
});
