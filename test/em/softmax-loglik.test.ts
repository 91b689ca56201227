/**
 * The one-pass softmax log-likelihood (src/em/backend/cpu/softmax-loglik.ts and its SIMD kernels
 * softmaxll2 / softmaxll3 / softmaxllg): equal to the gate pass + log-likelihood pass it replaces in
 * the hybrid's trials, within the rounding of the terms; steep gates (logits beyond ±GATE_DIRECT, the
 * shifted rows), odd n, d > 1, the JS loop against the SIMD kernel, non-finite rows, and the shapes
 * it does not cover.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { softmaxLogLikRows } from '../../src/em/backend/cpu/softmax-loglik.js';
import { logJoint } from '../../src/models/density.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

function setup(k: number, n: number, seed: number, steep = 1, d = 1) {
  const rng = createRng(seed);
  const m: Model = {
    gate: { kind: 'softmax' },
    k,
    d,
    beta0: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : steep * rng.normal())),
    beta1: Float64Array.from({ length: k * d }, (_, t) => (t >= (k - 1) * d ? 0 : 3 * steep * rng.normal())),
    a: Float64Array.from({ length: k * d }, (_, t) => 3 * (Math.floor(t / d) - 1) + rng.normal()),
    b: Float64Array.from({ length: k }, () => rng.normal()),
    nu: Float64Array.from({ length: k }, () => 0.01 + 0.2 * rng.uniform()),
    tau: 1,
  };
  const X = Float64Array.from({ length: n * d }, () => 2 * rng.normal());
  const y = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(rng.uniform() * k);
    let mu = m.b[j]!;
    for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X[i * d + l]!;
    return mu + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  return { m, X, y };
}

/** The fused pass on arena copies (SIMD), checking that its kernel ran, and the two-pass value. */
function values(m: Model, X: Float64Array, y: Float64Array) {
  const n = y.length;
  const be = createCpuBackend();
  const A = createArena([n * m.d, n, n * m.k, n * m.k])!;
  const Xa = A.copy(X),
    ya = A.copy(y),
    lp = A.alloc(n * m.k),
    pi = A.alloc(n * m.k);
  const calls = wasmCalls.logLik;
  const fused = be.softmaxLogLik!(m, Xa, ya, n);
  expect(wasmCalls.logLik, 'the SIMD kernel ran').toBe(calls + 1);
  be.gateProbs(m, Xa, n, lp, pi, null, 'none');
  const twoPass = be.logLik(m, Xa, ya, n, lp);
  const js = softmaxLogLikRows(
    {
      k: m.k,
      d: m.d,
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
  // logLikelihood's computation without its input checks: this test feeds NaN and ±Infinity on purpose
  const ref = logJoint(m, X, y, n, new Float64Array(n * m.k));
  return { fused: fused!, twoPass, js, ref };
}

describe('one-pass softmax log-likelihood', () => {
  const cases: [k: number, d: number, n: number, steep: number][] = [
    [2, 1, 2000, 1],
    [2, 1, 2001, 1],
    [2, 1, 1001, 200],
    [3, 1, 2000, 1],
    [3, 1, 2001, 1],
    [3, 1, 1001, 200],
    // the generic kernel
    [4, 1, 1501, 1],
    [5, 2, 2000, 1],
    [5, 2, 1001, 200],
    [8, 4, 999, 1],
  ];
  for (const [k, d, n, steep] of cases) {
    it(`k = ${k}, d = ${d}, n = ${n}${steep > 1 ? ', steep gate (shifted rows)' : ''}: the two-pass value, the JS loop, the reference`, () => {
      const { m, X, y } = setup(k, n, 10 * k + n + steep + d, steep, d);
      if (steep > 1) {
        // the shifted rows are exercised: some logit beyond ±350
        let beyond = 0;
        for (let i = 0; i < n; i++)
          for (let j = 0; j < k; j++) {
            let v = m.beta0[j]!;
            for (let l = 0; l < d; l++) v += m.beta1[j * d + l]! * X[i * d + l]!;
            if (Math.abs(v) > 350) beyond++;
          }
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

  // a runaway gate: logits ≈ 1e14, whose ulp (≈ 0.016) would swallow the experts' terms unless the
  // joint terms are formed from the shifted logits, (v − t) + c + h·d², as the two passes form them
  for (const [k, d] of [
    [2, 1],
    [3, 1],
    [5, 2],
  ] as const) {
    it(`k = ${k}, d = ${d}, logits ≈ 1e14: the experts' terms kept (the joint terms from the shifted logits)`, () => {
      const n = 1001;
      const { m, X, y } = setup(k, n, 77 + k, 1e13, d);
      // switches through x = 0: the largest logit is a non-reference expert's on about half the rows
      m.beta0.fill(0);
      const v = values(m, X, y);
      // the unshifted form is off by ≈ 1 nat here; the rows' own rounding stays ≈ 1e-9
      const tol = 1e-6;
      expect(Math.abs(v.twoPass - v.ref)).toBeLessThan(tol);
      expect(Math.abs(v.fused - v.ref)).toBeLessThan(tol);
      expect(Math.abs(v.js - v.ref)).toBeLessThan(tol);
    });
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

  it('covers the softmax gate on the SIMD shapes whose parameters fit, on arena arrays only', () => {
    const be = createCpuBackend();
    const { m, X, y } = setup(3, 50, 1);
    expect(be.softmaxLogLik!(m, X, y, 50), 'plain arrays: no kernel').toBeUndefined();
    const top: Model = { ...m, gate: { kind: 'topk', K: 2, selectOn: 'logit' } };
    const B = createArena([50, 50])!;
    expect(be.softmaxLogLik!(top, B.copy(X), B.copy(y), 50), 'top-K').toBeUndefined();
    expect(createCpuBackend({ simd: false }).softmaxLogLik!(m, B.copy(X), B.copy(y), 50), 'simd off').toBeUndefined();
    // k = 16, d = 8: 16·20 parameters exceed the generic block
    const { m: big, X: Xb, y: yb } = setup(16, 20, 3, 1, 8);
    const C = createArena([20 * 8, 20])!;
    expect(be.softmaxLogLik!(big, C.copy(Xb), C.copy(yb), 20), 'k = 16, d = 8').toBeUndefined();
  });
});
