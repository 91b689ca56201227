/**
 * The identity gate's derivatives through the softmax kernel (src/em/inference/hessian-proxy.ts): with τ
 * held, ∇L and ∇²L by the chain rule from the softmax proxy (β1/τ; β0/τ with the bias inside) equal the
 * reference logLikDerivatives to 1e-10, entry by entry — bias outside and inside, k = 2..8, d = 1..4,
 * moderate and steep gates, τ far from 1; the hybrid takes that path and ends where it ended before.
 */
import { describe, expect, it } from 'vitest';
import { logLikDerivatives } from '../../src/em/inference/hessian.js';
import { proxyLogLikDerivatives, softmaxProxy } from '../../src/em/inference/hessian-proxy.js';
import { softmaxProxyModel, writeSoftmaxProxy } from '../../src/em/gates/softmax-proxy.js';
import { createCpuBackend } from '../../src/em/backend/cpu.js';
import { paramLayout } from '../../src/em/inference/params.js';
import { normalizeGate } from '../../src/em/gates/layout.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { hybridLayout } from '../../src/em/hybrid.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import type { Dataset, GateSpec } from '../../src/models/types.js';
import { CASES, expectDerivativesClose, fitsWithAndWithoutKernels, randomCase as baseCase } from './hessian-cases.js';

const GATES: Array<[string, GateSpec]> = [
  ['temperature', { kind: 'temperature' }],
  ['identity inside', { kind: 'activation', activation: 'identity', bias: 'inside' }],
];
const SHAPES: Array<[number, number, number]> = [
  [2, 1, 257],
  [3, 1, 1001],
  [3, 2, 200],
  [5, 2, 301],
  [8, 4, 99],
];

describe('the identity gate through the softmax kernel equals the reference', () => {
  let seed = 900;
  for (const [gname, gate] of GATES)
    for (const [k, d, n] of SHAPES)
      for (const [cname, c] of CASES) {
        const s = seed++;
        it(`${gname}, k = ${k}, d = ${d}, n = ${n}, ${cname}`, () => {
          const { m, data: plain } = baseCase(gate, k, d, n, s, c);
          m.tau = s % 2 === 0 ? 0.37 : 2.9;
          const A = createArena([n * d, n])!;
          const data: Dataset = { ...plain, X: A.copy(plain.X), y: A.copy(plain.y) };
          const L = paramLayout(gate, k, d, { tauMode: 'fixed' });
          normalizeGate(L.gate, m);
          const p = softmaxProxy(L, m, data);
          expect(p).not.toBeNull();
          const ref = logLikDerivatives(L, m, data);
          const calls = wasmCalls.hessian;
          const fast = proxyLogLikDerivatives(p!, L, m, data)!;
          expect(wasmCalls.hessian).toBe(calls + 1); // the softmax kernel ran
          expectDerivativesClose(ref, fast, L.labels);
        });
      }

  it("the proxy's one-pass log-likelihood (the hybrid's trials) is the model's", () => {
    const be = createCpuBackend();
    for (const [, gate] of GATES) {
      const { m, data: plain } = baseCase(gate, 3, 1, 1001, 17, CASES[1]![1]);
      m.tau = 0.37;
      const A = createArena([1001, 1001])!;
      const data: Dataset = { ...plain, X: A.copy(plain.X), y: A.copy(plain.y) };
      const L = paramLayout(gate, 3, 1, { tauMode: 'fixed' });
      normalizeGate(L.gate, m);
      const q = writeSoftmaxProxy(m, softmaxProxyModel(m), gate.kind !== 'temperature');
      const calls = wasmCalls.logLik;
      const ll = be.softmaxLogLik!(q, data.X, data.y, data.n)!;
      expect(wasmCalls.logLik).toBe(calls + 1);
      const ref = logLikDerivatives(L, m, data).logLik;
      expect(Math.abs(ll - ref) / Math.abs(ref)).toBeLessThan(1e-12);
    }
  });

  it('no proxy where τ is a parameter, for other gates, or for data outside an arena', () => {
    const { m, data: plain } = baseCase({ kind: 'temperature' }, 3, 1, 101, 3, CASES[0]![1]);
    const A = createArena([101, 101])!;
    const data: Dataset = { ...plain, X: A.copy(plain.X), y: A.copy(plain.y) };
    expect(softmaxProxy(paramLayout(m.gate, 3, 1, { tauMode: 'free' }), m, data)).toBeNull();
    expect(softmaxProxy(paramLayout(m.gate, 3, 1, { tauMode: 'fixed' }), m, plain)).toBeNull();
    const tanh: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'outside' };
    expect(softmaxProxy(paramLayout(tanh, 3, 1, { tauMode: 'fixed' }), { ...m, gate: tanh }, data)).toBeNull();
  });

  it('the hybrid on the identity gate takes it (τ held) and ends where the JS reference path ends', () => {
    for (const gate of GATES.map((g) => g[1])) {
      const truth = { ...truthPreset('temp'), gate };
      const data = simulate(truth, { n: 4000, seed: 4 });
      const opts = {
        gate,
        k: 3,
        init: { kind: 'near-truth' as const, truth, noise: 'fixed' as const, noiseScale: 10 },
        seed: 2,
        optimizer: 'hybrid' as const,
      };
      const { fast, slow, fastCalls, slowCalls } = fitsWithAndWithoutKernels(data, opts);
      // the phase's layout holds τ, so the proxy applies to the fit's (arena) data
      const A = createArena([4000, 4000])!;
      const inArena: Dataset = { ...data, X: A.copy(data.X), y: A.copy(data.y) };
      expect(softmaxProxy(hybridLayout(fast.model, 'free'), fast.model, inArena)).not.toBeNull();
      expect(fastCalls).toBeGreaterThanOrEqual(fast.hybrid!.hessians);
      expect(slowCalls).toBe(0);
      expect(fast.stopReason).toBe('newton-decrement');
      expect(fast.hybrid!.negativeDefinite).toBe(true);
      expect(Math.abs(fast.logLik - slow.logLik)).toBeLessThan(1e-6);
    }
  });
});
