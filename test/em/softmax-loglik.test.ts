/**
 * The one-pass softmax log-likelihood (src/em/backend/cpu/softmax-loglik.ts and its SIMD kernels
 * softmaxll2 / softmaxll3): equal to the gate pass + log-likelihood pass it replaces in the hybrid's
 * trials, within the rounding of the terms; steep gates (logits beyond ±GATE_DIRECT, the shifted rows),
 * odd n, the JS loop against the SIMD kernel, non-finite rows, and the shapes it does not cover.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { softmaxLogLikRows1 } from '../../src/em/backend/cpu/softmax-loglik.js';
import { logLikelihood } from '../../src/models/density.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

function setup(k: number, n: number, seed: number, steep = 1) {
  const rng = createRng(seed);
  const m: Model = {
    gate: { kind: 'softmax' },
    k,
    d: 1,
    beta0: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : steep * rng.normal())),
    beta1: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : 3 * steep * rng.normal())),
    a: Float64Array.from({ length: k }, (_, j) => 3 * (j - 1) + rng.normal()),
    b: Float64Array.from({ length: k }, () => rng.normal()),
    nu: Float64Array.from({ length: k }, () => 0.01 + 0.2 * rng.uniform()),
    tau: 1,
  };
  const X = Float64Array.from({ length: n }, () => 2 * rng.normal());
  const y = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(rng.uniform() * k);
    return m.b[j]! + m.a[j]! * X[i]! + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  return { m, X, y };
}

/** The fused pass on arena copies (SIMD), checking that its kernel ran, and the two-pass value. */
function values(m: Model, X: Float64Array, y: Float64Array) {
  const n = X.length;
  const be = createCpuBackend();
  const A = createArena([n, n, n * m.k, n * m.k])!;
  const Xa = A.copy(X),
    ya = A.copy(y),
    lp = A.alloc(n * m.k),
    pi = A.alloc(n * m.k);
  const calls = wasmCalls.logLik;
  const fused = be.softmaxLogLik!(m, Xa, ya, n);
  expect(wasmCalls.logLik, 'the SIMD kernel ran').toBe(calls + 1);
  be.gateProbs(m, Xa, n, lp, pi, null, 'none');
  const twoPass = be.logLik(m, Xa, ya, n, lp);
  const js = softmaxLogLikRows1(
    {
      k: m.k,
      beta0: m.beta0,
      beta1: m.beta1,
      a: m.a,
      b: m.b,
      cst: Float64Array.from(m.nu, (v) => -0.5 * Math.log(2 * Math.PI * v)),
      hlf: Float64Array.from(m.nu, (v) => -0.5 / v),
      X,
      y,
      n,
    },
    0,
    n,
  );
  return { fused: fused!, twoPass, js, ref: logLikelihood(m, { X, y, n, d: 1 }) };
}

describe('one-pass softmax log-likelihood', () => {
  for (const k of [2, 3]) {
    for (const [n, steep] of [
      [2000, 1],
      [2001, 1],
      [1001, 200],
    ] as const) {
      it(`k = ${k}, n = ${n}${steep > 1 ? ', steep gate (shifted rows)' : ''}: the two-pass value, the JS loop, the reference`, () => {
        const { m, X, y } = setup(k, n, 10 * k + n + steep, steep);
        if (steep > 1) {
          // the shifted rows are exercised: some logit beyond ±350
          let beyond = 0;
          for (let i = 0; i < n; i++)
            for (let j = 0; j < k; j++) if (Math.abs(m.beta0[j]! + m.beta1[j]! * X[i]!) > 350) beyond++;
          expect(beyond).toBeGreaterThan(10);
        }
        const v = values(m, X, y);
        // each row's rounding is a few ulps of its largest term (the logits, up to ~1e3 here)
        const tol = n * 1e3 * 2 ** -50;
        expect(Math.abs(v.fused - v.twoPass)).toBeLessThan(tol);
        expect(Math.abs(v.fused - v.js)).toBeLessThan(tol);
        expect(Math.abs(v.fused - v.ref)).toBeLessThan(tol);
        // deterministic
        expect(values(m, X, y).fused).toBe(v.fused);
      });
    }
  }

  it('a row with a NaN or infinite value makes the total NaN or −Infinity (JS rows), as the two-pass value', () => {
    const { m, X, y } = setup(3, 101, 5);
    const yNaN = Float64Array.from(y);
    yNaN[40] = NaN;
    expect(values(m, X, yNaN).fused).toBeNaN();
    const m2 = { ...m, beta1: Float64Array.from(m.beta1) };
    m2.beta1[0] = Infinity;
    const v = values(m2, X, y);
    expect(v.fused).toBeNaN();
    expect(v.twoPass).toBeNaN();
  });

  it('covers the softmax gate with d = 1, k = 2, 3 on arena arrays only', () => {
    const be = createCpuBackend();
    const { m, X, y } = setup(3, 50, 1);
    expect(be.softmaxLogLik!(m, X, y, 50), 'plain arrays: no kernel').toBeUndefined();
    const { m: m4, X: X4, y: y4 } = setup(4, 50, 2);
    const A = createArena([50, 50])!;
    expect(be.softmaxLogLik!(m4, A.copy(X4), A.copy(y4), 50), 'k = 4').toBeUndefined();
    const top: Model = { ...m, gate: { kind: 'topk', K: 2, selectOn: 'logit' } };
    const B = createArena([50, 50])!;
    expect(be.softmaxLogLik!(top, B.copy(X), B.copy(y), 50), 'top-K').toBeUndefined();
    expect(createCpuBackend({ simd: false }).softmaxLogLik!(m, B.copy(X), B.copy(y), 50), 'simd off').toBeUndefined();
  });
});
