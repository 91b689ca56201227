/**
 * The generic SIMD kernels (src/em/backend/simd/gen/kernels-generic.ts: any k and d, loops over experts
 * and coordinates) against their JS twins, over k = 2..8 and d = 1..4 (the shapes registry.ts
 * genericSimdShape gives them: d = 1 with k ≤ 3 keeps its specialised kernels): per-row values bit for
 * bit, sums within the rounding of another order; refused rows (−∞, NaN, a steep gate) go to JS; odd n.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { genericSimdShape, simdShape } from '../../src/em/backend/registry.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { expertMoments } from '../../src/em/backend/types.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { expectSameBits, simplexRows, U } from './wasm-helpers.js';

const SHAPES: [number, number][] = [];
for (let d = 1; d <= 4; d++) for (let k = 2; k <= 8; k++) if (genericSimdShape(k, d)) SHAPES.push([k, d]);

function setup(k: number, d: number, n: number, seed: number) {
  const rng = createRng(seed);
  const m: Model = {
    gate: { kind: 'softmax' },
    k,
    d,
    beta0: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : rng.normal())),
    beta1: Float64Array.from({ length: k * d }, (_, t) => (t >= (k - 1) * d ? 0 : (3 * rng.normal()) / Math.sqrt(d))),
    a: Float64Array.from({ length: k * d }, (_, t) => 3 * ((t % k) - 1) + rng.normal()),
    b: Float64Array.from({ length: k }, () => rng.normal()),
    nu: Float64Array.from({ length: k }, () => 0.05 + 0.2 * rng.uniform()),
    tau: 1,
  };
  const X = Float64Array.from({ length: n * d }, () => 2 * rng.normal());
  const y = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(rng.uniform() * k);
    let mu = m.b[j]!;
    for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X[i * d + l]!;
    return mu + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  return { m, X, y, resp: simplexRows(rng, n, k) };
}

function gateLogPi(m: Model, X: Float64Array, n: number): Float64Array {
  const logPi = new Float64Array(n * m.k),
    pi = new Float64Array(n * m.k);
  createCpuBackend({ simd: false }).gateProbs(m, X, n, logPi, pi, null, 'none');
  return logPi;
}

/** E-step and log-likelihood on plain arrays (JS twins) and on arena copies (generic SIMD kernels). */
function eStepBoth(m: Model, X: Float64Array, y: Float64Array, logPi: Float64Array) {
  const n = y.length,
    k = m.k;
  const be = createCpuBackend();
  const respJ = new Float64Array(n * k);
  const sJ = { q: NaN };
  const llJ = be.eStep(m, X, y, n, logPi, respJ, sJ);
  const lJ = be.logLik(m, X, y, n, logPi);
  const A = createArena([X.length, n, n * k, n * k])!;
  const Xa = A.copy(X),
    ya = A.copy(y),
    lpa = A.copy(logPi),
    respW = A.alloc(n * k).fill(7);
  const sW = { q: NaN };
  const e0 = wasmCalls.eStep,
    l0 = wasmCalls.logLik,
    refused0 = wasmCalls.refusedPairs;
  const llW = be.eStep(m, Xa, ya, n, lpa, respW, sW);
  const lW = be.logLik(m, Xa, ya, n, lpa);
  expect(wasmCalls.eStep - e0, 'the SIMD E-step ran').toBe(1);
  expect(wasmCalls.logLik - l0, 'the SIMD log-likelihood ran').toBe(1);
  return { respJ, respW, llJ, llW, lJ, lW, qJ: sJ.q, qW: sW.q, refused: wasmCalls.refusedPairs - refused0 };
}

const close = (a: number, b: number, n: number, k: number) =>
  expect(Math.abs(a - b)).toBeLessThanOrEqual(4 * n * k * U * (Math.abs(b) + 10 * n));

describe('generic WebAssembly kernels: the eligibility rule', () => {
  it('d = 1 with k ≤ 3 keeps its specialised kernels; every other shape up to k = 16, d = 8 is generic', () => {
    expect(genericSimdShape(2, 1) || genericSimdShape(3, 1)).toBe(false);
    expect(simdShape(2, 1) && simdShape(3, 1)).toBe(true);
    expect(genericSimdShape(4, 1) && genericSimdShape(2, 2) && genericSimdShape(16, 8)).toBe(true);
    expect(genericSimdShape(1, 3) || genericSimdShape(17, 1) || genericSimdShape(3, 9)).toBe(false);
  });
});

describe('generic WebAssembly E-step and log-likelihood', () => {
  for (const [k, d] of SHAPES) {
    it(`k = ${k}, d = ${d}: responsibilities bit for bit, log-likelihood and Q to rounding (odd n)`, () => {
      const n = 1001;
      const { m, X, y } = setup(k, d, n, 100 * k + d);
      const r = eStepBoth(m, X, y, gateLogPi(m, X, n));
      expectSameBits(r.respJ, r.respW, 'resp');
      expect(r.refused).toBe(0);
      close(r.llW, r.llJ, n, k);
      close(r.qW, r.qJ, n, k);
      close(r.lW, r.lJ, n, k);
      close(r.lW, r.llJ, n, k);
      expect(Number.isFinite(r.llW) && Number.isFinite(r.qW) && Number.isFinite(r.lW)).toBe(true);
    });
  }

  it('inactive experts (log π = −∞) run in the kernel; −∞ and NaN rows go to JS and give its values', () => {
    const k = 5,
      d = 2,
      n = 999;
    const { m, X, y } = setup(k, d, n, 7);
    const logPi = gateLogPi(m, X, n);
    for (let i = 0; i < n; i += 2) logPi[i * k + (i % k)] = -Infinity;
    const r = eStepBoth(m, X, y, logPi);
    expect(r.refused).toBe(0);
    expectSameBits(r.respJ, r.respW, 'resp');
    close(r.llW, r.llJ, n, k);
    // a row with every log π −∞: its responsibilities NaN, the total −∞; a NaN: NaN
    const lp2 = logPi.slice();
    lp2.fill(-Infinity, 400 * k, 401 * k);
    lp2[77 * k + 3] = NaN;
    const r2 = eStepBoth(m, X, y, lp2);
    expect(r2.refused, 'two pairs, refused by the E-step and the log-likelihood').toBe(4);
    expectSameBits(r2.respJ, r2.respW, 'resp');
    expect(Number.isNaN(r2.llW) && Number.isNaN(r2.lW)).toBe(true);
    const lp3 = logPi.slice();
    lp3.fill(-Infinity, 400 * k, 401 * k);
    const r3 = eStepBoth(m, X, y, lp3);
    expect(r3.llW).toBe(-Infinity);
    expect(r3.lW).toBe(-Infinity);
    expectSameBits(r3.respJ, r3.respW, 'resp');
  });
});

describe('generic WebAssembly softmax gate', () => {
  for (const [k, d] of SHAPES) {
    it(`k = ${k}, d = ${d}: log π and π bit for bit, Q to rounding (odd n, steep rows shifted)`, () => {
      const n = 777;
      const { m, X, resp } = setup(k, d, n, 300 + 10 * k + d);
      // a few rows beyond the direct range (|logit| > 350): the shifted form, in the kernel
      for (let i = 0; i < n; i += 50) X[i * d] = 400;
      const be = createCpuBackend();
      for (const withQ of [false, true]) {
        const lpJ = new Float64Array(n * k),
          piJ = new Float64Array(n * k);
        const qJ = be.gateProbs(m, X, n, lpJ, piJ, null, 'none', withQ ? resp : undefined);
        const A = createArena([n * d, n * k, n * k, n * k])!;
        const Xa = A.copy(X),
          ra = A.copy(resp);
        const lpW = A.alloc(n * k).fill(7),
          piW = A.alloc(n * k).fill(7);
        const g0 = wasmCalls.gate,
          refused0 = wasmCalls.refusedPairs;
        const qW = be.gateProbs(m, Xa, n, lpW, piW, null, 'none', withQ ? ra : undefined);
        expect(wasmCalls.gate - g0).toBe(1);
        expect(wasmCalls.refusedPairs - refused0).toBe(0);
        expectSameBits(lpJ, lpW, 'logPi');
        expectSameBits(piJ, piW, 'pi');
        if (withQ) close(qW, qJ, n, k);
        else expect(Number.isNaN(qW) && Number.isNaN(qJ)).toBe(true);
      }
    });
  }

  it('a NaN input row is refused to JS and gives its values', () => {
    const k = 4,
      d = 3,
      n = 301;
    const { m, X, resp } = setup(k, d, n, 9);
    X[3 * 40 + 1] = NaN;
    X[3 * 41] = Infinity;
    const be = createCpuBackend();
    const lpJ = new Float64Array(n * k),
      piJ = new Float64Array(n * k);
    const qJ = be.gateProbs(m, X, n, lpJ, piJ, null, 'none', resp);
    const A = createArena([n * d, n * k, n * k, n * k])!;
    const lpW = A.alloc(n * k),
      piW = A.alloc(n * k);
    const refused0 = wasmCalls.refusedPairs;
    const qW = be.gateProbs(m, A.copy(X), n, lpW, piW, null, 'none', A.copy(resp));
    expect(wasmCalls.refusedPairs - refused0).toBe(1);
    expectSameBits(lpJ, lpW, 'logPi');
    expectSameBits(piJ, piW, 'pi');
    expect(Object.is(qJ, qW) || Math.abs(qW - qJ) <= 1e-9 * Math.abs(qJ)).toBe(true);
  });
});

describe('generic WebAssembly gate rows: top-K masks and given logits (activation gates)', () => {
  const gates = [
    { name: 'top-2 (compute the mask)', gate: { kind: 'topk', K: 2, selectOn: 'logit' }, mode: 'compute' },
    { name: 'top-3 (hold the mask)', gate: { kind: 'topk', K: 3, selectOn: 'logit' }, mode: 'hold' },
    { name: 'activation tanh', gate: { kind: 'activation', activation: 'tanh', bias: 'outside' }, mode: 'none' },
    {
      name: 'activation gelu, bias inside',
      gate: { kind: 'activation', activation: 'gelu', bias: 'inside' },
      mode: 'none',
    },
  ] as const;
  for (const [k, d] of SHAPES.filter(([k, d]) => (k === 4 && d <= 2) || (k === 6 && d === 3) || (k === 8 && d === 4)))
    for (const g of gates) {
      // d = 1 tanh: the fused activation loop (cpu/activation-gate.ts), not these rows
      if (d === 1 && g.gate.kind === 'activation' && g.gate.bias === 'outside') continue;
      it(`${g.name}, k = ${k}, d = ${d}: log π, π (and the mask) bit for bit, Q to rounding`, () => {
        const n = 603;
        const { m: m0, X, resp } = setup(k, d, n, 700 + 10 * k + d);
        const m: Model = { ...m0, gate: g.gate as never, tau: 0.7 };
        const be = createCpuBackend();
        const maskJ = new Uint8Array(n * k);
        // held mask: the responsibilities of masked-out experts 0 (a finite Q)
        if (g.mode === 'hold')
          for (let t = 0; t < n * k; t++) {
            maskJ[t] = (t * 7) % 3 === 0 ? 0 : 1;
            if (!maskJ[t]) resp[t] = 0;
          }
        for (const withQ of [false, true]) {
          const lpJ = new Float64Array(n * k),
            piJ = new Float64Array(n * k);
          const mode = g.mode === 'compute' ? 'compute' : g.mode === 'hold' ? 'fixed' : 'none';
          const qJ = be.gateProbs(m, X, n, lpJ, piJ, maskJ, mode, withQ ? resp : undefined);
          const A = createArena([n * d, n * k, n * k, n * k], [n * k])!;
          const maskW = A.allocU8(n * k);
          maskW.set(g.mode === 'hold' ? maskJ : new Uint8Array(n * k));
          const lpW = A.alloc(n * k).fill(7),
            piW = A.alloc(n * k).fill(7);
          const g0 = wasmCalls.gate;
          const qW = be.gateProbs(m, A.copy(X), n, lpW, piW, maskW, mode, withQ ? A.copy(resp) : undefined);
          expect(wasmCalls.gate - g0, 'the SIMD gate ran').toBe(1);
          expectSameBits(lpJ, lpW, 'logPi');
          expectSameBits(piJ, piW, 'pi');
          if (g.mode !== 'none') expectSameBits(maskJ, maskW, 'mask');
          if (withQ) {
            // random responsibilities on masked-out experts make Q −∞ (as the JS kernel)
            if (g.mode === 'hold') expect(Number.isFinite(qJ)).toBe(true);
            if (qJ === -Infinity) expect(qW).toBe(-Infinity);
            else close(qW, qJ, n, k);
          } else expect(Number.isNaN(qW) && Number.isNaN(qJ)).toBe(true);
        }
      });
    }
});

describe('generic WebAssembly activation gates (d = 1, any k: dense<activation>g)', () => {
  for (const act of ['identity', 'tanh', 'sigmoid'] as const)
    for (const k of [4, 5, 8])
      for (const tau of [0.7, 0.002]) {
        it(`${act}, k = ${k}, τ = ${tau}: log π and π bit for bit, Q to rounding (odd n)`, () => {
          const n = 501;
          const { m: m0, X, resp } = setup(k, 1, n, 900 + k);
          const m: Model = { ...m0, gate: { kind: 'activation', activation: act, bias: 'outside' }, tau };
          const be = createCpuBackend();
          for (const withQ of [false, true]) {
            const lpJ = new Float64Array(n * k),
              piJ = new Float64Array(n * k);
            const qJ = be.gateProbs(m, X, n, lpJ, piJ, null, 'none', withQ ? resp : undefined);
            const A = createArena([n, n * k, n * k, n * k])!;
            const lpW = A.alloc(n * k).fill(7),
              piW = A.alloc(n * k).fill(7);
            const g0 = wasmCalls.gate;
            const qW = be.gateProbs(m, A.copy(X), n, lpW, piW, null, 'none', withQ ? A.copy(resp) : undefined);
            expect(wasmCalls.gate - g0, 'the SIMD gate ran').toBe(1);
            expectSameBits(lpJ, lpW, 'logPi');
            expectSameBits(piJ, piW, 'pi');
            if (withQ) close(qW, qJ, n, k);
            else expect(Number.isNaN(qW) && Number.isNaN(qJ)).toBe(true);
          }
        });
      }
});

/** The softmax layout: every expert but the last (the reference) free, blocks [β0_j, β1_j]. */
function softmaxLayout(k: number, d: number) {
  const b0Index = new Int32Array(k),
    b1Index = new Int32Array(k);
  let p = 0;
  for (let j = 0; j < k; j++) {
    b0Index[j] = j === k - 1 ? -1 : p++;
    b1Index[j] = j === k - 1 ? -1 : p;
    if (j < k - 1) p += d;
  }
  return { k, d, p, b0Index, b1Index, tauIndex: -1, linear: true, ref: k - 1, fixB0Ref: true, fixB1Ref: true };
}

/** |a − b| ≤ 1e-12 (|a| + scale), entry by entry: sums of the same terms in two orders */
function expectSums(a: ArrayLike<number>, b: ArrayLike<number>, scale: number, what: string): void {
  for (let t = 0; t < a.length; t++) {
    expect(Number.isFinite(a[t]!), `${what}[${t}] finite`).toBe(true);
    expect(Math.abs(a[t]! - b[t]!), `${what}[${t}]: ${a[t]} vs ${b[t]}`).toBeLessThanOrEqual(
      1e-12 * (Math.abs(a[t]!) + scale),
    );
  }
}

describe("generic WebAssembly experts' moments and gate gradient / curvature sums", () => {
  // and the largest shape (the block, scratch and accumulator regions' sizes, simd/layout.ts)
  for (const [k, d] of [...SHAPES, [16, 8] as [number, number]]) {
    it(`k = ${k}, d = ${d}: the sums of the JS twins to rounding (odd n, zero responsibilities, shifted)`, () => {
      const n = 1001;
      const { m, X, y, resp } = setup(k, d, n, 500 + 10 * k + d);
      const be = createCpuBackend();
      const A = createArena([n * d, n, n * k, n * k])!;
      const Xa = A.copy(X),
        ya = A.copy(y),
        ra = A.copy(resp);
      // moments: a fresh call (second, centred pass) and a shifted one
      const mJ = expertMoments(k, d),
        mW = expertMoments(k, d);
      for (const shifted of [false, true]) {
        mJ.shifted = shifted;
        mW.shifted = shifted;
        be.expertMoments(X, y, n, d, k, resp, mJ);
        const s0 = wasmCalls.sums;
        be.expertMoments(Xa, ya, n, d, k, ra, mW);
        expect(wasmCalls.sums - s0, 'the SIMD moments ran').toBe(1);
        for (const key of ['N', 'xbar', 'ybar', 'Sxx', 'Sxy', 'Syy'] as const) expectSums(mW[key], mJ[key], n, key);
      }
      // gate sums: gradient alone, then with the curvature
      const L = softmaxLayout(k, d);
      const pi = new Float64Array(n * k);
      be.gateProbs(m, X, n, new Float64Array(n * k), pi, null, 'none');
      const pa = A.copy(pi);
      const E = new Float64Array(0);
      for (const withCurv of [false, true]) {
        const gJ = new Float64Array(L.p),
          gW = new Float64Array(L.p);
        const cJ = withCurv ? new Float64Array(L.p * L.p) : null,
          cW = withCurv ? new Float64Array(L.p * L.p) : null;
        be.gateGradCurv(L, X, n, resp, pi, E, E, E, 1, gJ, cJ);
        const s0 = wasmCalls.sums;
        be.gateGradCurv(L, Xa, n, ra, pa, E, E, E, 1, gW, cW);
        expect(wasmCalls.sums - s0, 'the SIMD gate sums ran').toBe(1);
        expectSums(gW, gJ, n, 'grad');
        if (withCurv) expectSums(cW!, cJ!, n, 'curv');
      }
    });
  }

  it('the curvature is the Gauss–Newton matrix: symmetric, and the SIMD one reproducible to the bit', () => {
    const k = 5,
      d = 3,
      n = 2000;
    const { m, X, resp } = setup(k, d, n, 42);
    const be = createCpuBackend();
    const A = createArena([n * d, n * k, n * k, n * k])!;
    const pi = A.alloc(n * k);
    const Xa = A.copy(X),
      ra = A.copy(resp);
    be.gateProbs(m, Xa, n, A.alloc(n * k), pi, null, 'none');
    const L = softmaxLayout(k, d);
    const E = new Float64Array(0);
    const g1 = new Float64Array(L.p),
      c1 = new Float64Array(L.p * L.p),
      g2 = new Float64Array(L.p),
      c2 = new Float64Array(L.p * L.p);
    be.gateGradCurv(L, Xa, n, ra, pi, E, E, E, 1, g1, c1);
    be.gateGradCurv(L, Xa, n, ra, pi, E, E, E, 1, g2, c2);
    expectSameBits(g1, g2, 'grad');
    expectSameBits(c1, c2, 'curv');
    for (let a = 0; a < L.p; a++) for (let b = 0; b < L.p; b++) expect(c1[a * L.p + b]).toBe(c1[b * L.p + a]);
    // positive semidefinite: vᵀCv ≥ 0 for a few directions
    for (let r = 0; r < 5; r++) {
      const v = Float64Array.from({ length: L.p }, (_, t) => Math.sin(3.1 * t + r));
      let q = 0;
      for (let a = 0; a < L.p; a++) for (let b = 0; b < L.p; b++) q += v[a]! * c1[a * L.p + b]! * v[b]!;
      expect(q).toBeGreaterThanOrEqual(-1e-9);
    }
  });
});
