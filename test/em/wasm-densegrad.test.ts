/**
 * The SIMD gradient / curvature / exact-Hessian kernels of the dense-to-sparse gates
 * (src/em/backend/simd/gen/kernels-densegrad.ts, driven by src/em/backend/cpu/activation-grad.ts (binding gradHessSimd); d = 1,
 * k = 3, identity / tanh / sigmoid) against the JS path they replace (cpu/activation-grad.ts coefsTanh… +
 * denseSums1k3): per-row terms are recomputed here with the JS kernels' operations, summed in the
 * JS order (which must give the JS path's bits) and in the documented SIMD order — even rows, odd
 * rows, lane 0 + lane 1, then an odd last row — which must give the kernel's bits; the two orders
 * agree within n·u·Σ|terms|, and the exact Hessian (built from the same sums) within the sum of
 * its parts' bounds. Odd n, n = 1, rows with r = 0, clamped σ arguments, NaN; and a whole tanh fit.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend, fitMoE, gateLayout } from '../../src/em/index.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import type { DenseGateKernels } from '../../src/em/backend/cpu/activation-grad.js';
import type { Backend, GateLayout } from '../../src/em/backend/types.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { expCore } from '../../src/math/exp.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import type { GateSpec, Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { pairSums } from './wasm-helpers.js';

const U = 2 ** -53;
type Act = 'identity' | 'tanh' | 'sigmoid';
const ACTS: Act[] = ['identity', 'tanh', 'sigmoid'];

/** k = 3, every β1 and log τ free (the layout of denseSums1k3; the identity gate's own layout fixes β1_2). */
function layoutK3(act: Act): GateLayout {
  if (act !== 'identity') return gateLayout(spec(act), 3, 1, 'free');
  return {
    k: 3,
    d: 1,
    p: 6,
    b0Index: Int32Array.from([0, 2, -1]),
    b1Index: Int32Array.from([1, 3, 4]),
    tauIndex: 5,
    linear: false,
  };
}

const spec = (act: Act): GateSpec => ({ kind: 'activation', activation: act, bias: 'outside' });

interface Data {
  n: number;
  m: Model;
  X: Float64Array;
  resp: Float64Array;
  pi: Float64Array;
}

/**
 * Steep slopes (|β1 x| beyond tanh's clamp of 20) and a few far rows (beyond the sigmoid's 700);
 * responsibilities with exact zeros (and a −0) and a whole zero row; π > 0, rows summing to 1.
 */
function setup(act: Act, n: number, seed: number): Data {
  const rng = createRng(seed);
  const X = Float64Array.from({ length: n }, (_, i) => (i % 97 === 5 ? 300 * rng.normal() : 1.5 * rng.normal() + 0.3));
  const resp = new Float64Array(3 * n),
    pi = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    let s = 0,
      t = 0;
    for (let j = 0; j < 3; j++) {
      const u = rng.uniform();
      resp[3 * i + j] = u < 0.2 ? 0 : u;
      s += resp[3 * i + j]!;
      pi[3 * i + j] = rng.uniform() + 1e-3;
      t += pi[3 * i + j]!;
    }
    for (let j = 0; j < 3; j++) {
      resp[3 * i + j] = s > 0 ? resp[3 * i + j]! / s : 0;
      pi[3 * i + j] = pi[3 * i + j]! / t;
    }
  }
  if (n > 4) {
    resp.fill(0, 9, 12);
    resp[4] = -0;
  }
  const m: Model = {
    gate: spec(act),
    k: 3,
    d: 1,
    beta0: Float64Array.from([0.4, -0.7, 0]),
    beta1: Float64Array.from([7.5, -2.2, 13]),
    a: new Float64Array(3),
    b: new Float64Array(3),
    nu: new Float64Array(3).fill(1),
    tau: 0.8,
  };
  return { n, m, X, resp, pi };
}

/** The 30 per-row terms of denseSums1k3 with the JS coefficient loops' operations ("−=" sums: the negated term). */
function rowTerms(act: Act, D: Data) {
  const b1 = D.m.beta1,
    it = 1 / D.m.tau;
  const J1 = new Float64Array(3),
    Jt = new Float64Array(3),
    H1 = new Float64Array(3);
  return (i: number, out: Float64Array): void => {
    const xi = D.X[i]!,
      xt = xi * it;
    for (let j = 0; j < 3; j++) {
      if (act === 'identity') {
        J1[j] = xt;
        Jt[j] = -(b1[j]! * xi) * it;
        H1[j] = 0;
        continue;
      }
      const u = b1[j]! * xi;
      if (act === 'tanh') {
        const uc = u > 20 ? 20 : u < -20 ? -20 : u;
        const e = expCore(-2 * uc),
          dn = 1 / (1 + e),
          t = (1 - e) * dn,
          d1 = 4 * e * dn * dn;
        J1[j] = d1 * xt;
        Jt[j] = -t * it;
        H1[j] = -2 * t * d1 * xi * xt;
      } else {
        const uc = u > 700 ? 700 : u < -700 ? -700 : u;
        const e = expCore(-uc),
          s = 1 / (1 + e),
          d1 = e * s * s;
        J1[j] = d1 * xt;
        Jt[j] = -s * it;
        H1[j] = d1 * (1 - 2 * s) * xi * xt;
      }
    }
    const o = 3 * i;
    const r0 = D.resp[o]!,
      r1 = D.resp[o + 1]!,
      r2 = D.resp[o + 2]!,
      p0 = D.pi[o]!,
      p1 = D.pi[o + 1]!,
      p2 = D.pi[o + 2]!;
    const [u0, u1, u2] = J1 as unknown as [number, number, number];
    const [t0, t1, t2] = Jt as unknown as [number, number, number];
    const R = r0 + r1 + r2;
    const G0 = r0 - R * p0,
      G1 = r1 - R * p1,
      G2 = r2 - R * p2;
    const w0 = p0,
      w1 = p0 * u0,
      w2 = p1,
      w3 = p1 * u1,
      w4 = p2 * u2;
    const q0 = p0 * t0,
      q1 = p1 * t1,
      q2 = p2 * t2,
      w5 = q0 + q1 + q2;
    const Rw0 = R * w0,
      Rw1 = R * w1,
      Rw2 = R * w2,
      Rw3 = R * w3,
      Rw4 = R * w4,
      Rw5 = R * w5;
    out.set([
      G0,
      G0 * u0,
      G1,
      G1 * u1,
      G2 * u2,
      G0 * t0 + G1 * t1 + G2 * t2,
      R * w0 - Rw0 * w0,
      R * w1 - Rw0 * w1,
      -(Rw0 * w2),
      -(Rw0 * w3),
      -(Rw0 * w4),
      R * q0 - Rw0 * w5,
      R * w1 * u0 - Rw1 * w1,
      -(Rw1 * w2),
      -(Rw1 * w3),
      -(Rw1 * w4),
      R * q0 * u0 - Rw1 * w5,
      R * w2 - Rw2 * w2,
      R * w3 - Rw2 * w3,
      -(Rw2 * w4),
      R * q1 - Rw2 * w5,
      R * w3 * u1 - Rw3 * w3,
      -(Rw3 * w4),
      R * q1 * u1 - Rw3 * w5,
      R * w4 * u2 - Rw4 * w4,
      R * q2 * u2 - Rw4 * w5,
      R * (q0 * t0 + q1 * t1 + q2 * t2) - Rw5 * w5,
      G0 * H1[0]!,
      G1 * H1[1]!,
      G2 * H1[2]!,
    ]);
  };
}

interface Out {
  grad: Float64Array;
  fisher: Float64Array;
  exact: Float64Array;
}

function run(
  be: Backend & Required<DenseGateKernels>,
  D: Data,
  L: GateLayout,
  X: Float64Array,
  resp: Float64Array,
  pi: Float64Array,
): Out {
  const o = { grad: new Float64Array(6), fisher: new Float64Array(36), exact: new Float64Array(36) };
  expect(be.denseGradHess(D.m, L, X, D.n, resp, pi, o.grad, o.fisher, o.exact)).toBe(true);
  return o;
}

function inArena(D: Data): { X: Float64Array; resp: Float64Array; pi: Float64Array } {
  const A = createArena([D.n, 3 * D.n, 3 * D.n]);
  expect(A).not.toBeNull();
  return { X: A!.copy(D.X), resp: A!.copy(D.resp), pi: A!.copy(D.pi) };
}

/** index of curvature entry (r, c), r ≤ c, among the 30 sums */
const cIndex = (r: number, c: number): number => 6 + r * 6 - (r * (r - 1)) / 2 + (c - r);

/** the sums an output entry is built from (gradient, Fisher, exact Hessian: layout [β0_0, β1_0, β0_1, β1_1, β1_2, log τ]) */
function parts(what: 'grad' | 'fisher' | 'exact', r: number, c: number): number[] {
  if (what === 'grad') return [r];
  const lo = Math.min(r, c),
    hi = Math.max(r, c);
  const idx = [cIndex(lo, hi)];
  if (what === 'fisher') return idx;
  const b1 = [1, 3, 4];
  if (r === c && b1.includes(r)) idx.push(27 + b1.indexOf(r)); // − A_l
  if (hi === 5 && (b1.includes(lo) || lo === 5)) idx.push(lo); // + the gradient's β1_l or log τ entry
  return idx;
}

function check(got: Out, want: Out, ref: { abs: Float64Array }, n: number, label: string): void {
  for (const what of ['grad', 'fisher', 'exact'] as const) {
    const g = got[what],
      w = want[what];
    for (let t = 0; t < g.length; t++) {
      const r = what === 'grad' ? t : Math.floor(t / 6),
        c = what === 'grad' ? 0 : t % 6;
      // two orders of an n-term sum differ by ≤ ~1.5·n·u·Σ|terms| (4 leaves room); the exact
      // Hessian adds its parts, each with its bound, and rounds once more
      const bound = parts(what, r, c).reduce((s, q) => s + 4 * n * U * ref.abs[q]!, 0) + 2 * U * Math.abs(w[t]!);
      expect(Math.abs(g[t]! - w[t]!), `${label} ${what}[${t}]`).toBeLessThanOrEqual(bound);
    }
  }
}

/** the gradient and Fisher upper triangle as the 27 leading sums */
function asSums(o: Out): Float64Array {
  const s = new Float64Array(27);
  s.set(o.grad);
  for (let r = 0; r < 6; r++) for (let c = r; c < 6; c++) s[cIndex(r, c)] = o.fisher[r * 6 + c]!;
  return s;
}

function expectBits(got: Float64Array, want: Float64Array, what: string): void {
  for (let t = 0; t < got.length; t++)
    expect(Object.is(got[t], want[t]), `${what}[${t}]: ${got[t]} vs ${want[t]}`).toBe(true);
}

describe('WebAssembly dense-to-sparse gate gradient / curvature / exact Hessian (d = 1, k = 3)', () => {
  const be = createCpuBackend() as Backend & Required<DenseGateKernels>;
  const CASES = [
    [5001, 1],
    [5000, 2],
    [1, 3],
    [2, 4],
    [7, 5],
  ] as const;
  for (const act of ACTS) {
    for (const [n, seed] of CASES) {
      it(`${act}, n = ${n}: the SIMD order's bits; gradient, Fisher and exact Hessian within n·u·Σ|terms| of the JS path`, () => {
        const D = setup(act, n, seed + 10 * ACTS.indexOf(act));
        const L = layoutK3(act);
        const ref = pairSums(n, 30, rowTerms(act, D));
        const before = wasmCalls.sums;
        const js = run(be, D, L, D.X, D.resp, D.pi);
        expect(wasmCalls.sums - before, 'plain arrays: the JS path').toBe(0);
        const W = inArena(D);
        const wa = run(be, D, L, W.X, W.resp, W.pi);
        expect(wasmCalls.sums - before, 'arena arrays: the SIMD kernel').toBe(1);
        expectBits(asSums(js), ref.seq.subarray(0, 27), 'JS path vs the JS order');
        expectBits(asSums(wa), ref.simd.subarray(0, 27), 'SIMD path vs the SIMD order');
        check(wa, js, ref, n, act);
        if (n === 1) for (const key of ['grad', 'fisher', 'exact'] as const) expectBits(wa[key], js[key], key);
      });
    }

    it(`${act}: each row's terms are the JS kernels' bits (one row paired with a zero row, whose terms are 0)`, () => {
      // in sums over many rows a 1-ulp change of one term is mostly absorbed: here nothing absorbs it
      const rows = 400;
      const D = setup(act, 2 * rows, 60 + ACTS.indexOf(act));
      for (let i = 0; i < rows; i++) {
        D.X[2 * i + 1] = 0.5;
        D.resp.fill(0, 3 * (2 * i + 1), 3 * (2 * i + 2));
        D.pi.fill(0, 3 * (2 * i + 1), 3 * (2 * i + 2));
      }
      const W = inArena(D);
      const L = layoutK3(act);
      const before = wasmCalls.sums;
      for (let i = 0; i < rows; i++) {
        const sub = (a: Float64Array, w: number): Float64Array => a.subarray(2 * i * w, (2 * i + 2) * w);
        const P: Data = { n: 2, m: D.m, X: sub(D.X, 1), resp: sub(D.resp, 3), pi: sub(D.pi, 3) };
        const ref = pairSums(2, 30, rowTerms(act, P));
        const wa = run(be, P, L, sub(W.X, 1), sub(W.resp, 3), sub(W.pi, 3));
        expectBits(asSums(wa), ref.simd.subarray(0, 27), `row ${2 * i}`);
      }
      expect(wasmCalls.sums - before).toBe(rows);
    });

    it(`${act}: NaN in x, r or π propagates to the same entries as in JS (paired rows and the odd last row)`, () => {
      for (const n of [201, 200]) {
        const D = setup(act, n, 40 + n);
        D.X[6] = NaN;
        D.resp[3 * 11 + 1] = NaN;
        D.pi[3 * (n - 1) + 2] = NaN;
        const L = layoutK3(act);
        const ref = pairSums(n, 30, rowTerms(act, D));
        const js = run(be, D, L, D.X, D.resp, D.pi);
        const W = inArena(D);
        const wa = run(be, D, L, W.X, W.resp, W.pi);
        expectBits(asSums(js), ref.seq.subarray(0, 27), 'JS path');
        expectBits(asSums(wa), ref.simd.subarray(0, 27), 'SIMD path');
        for (const key of ['grad', 'fisher', 'exact'] as const) {
          for (let t = 0; t < js[key].length; t++)
            expect(Number.isNaN(wa[key][t]!), `${key}[${t}]`).toBe(Number.isNaN(js[key][t]!));
        }
        expect(js.exact.some(Number.isNaN)).toBe(true);
      }
    });
  }

  it('a whole tanh fit (temp-tanh truth, k = 3): the same iterations, log-likelihood to rounding', () => {
    const truth = truthPreset('temp-tanh');
    const data = simulate(truth, { n: 2001, seed: 7 });
    const opts = { gate: spec('tanh'), k: 3, init: { kind: 'near-truth' as const, truth }, seed: 5, maxIter: 40 };
    const before = wasmCalls.sums;
    const w = fitMoE(data, opts);
    const calls = wasmCalls.sums - before;
    const j = fitMoE(data, { ...opts, wasm: false });
    expect(wasmCalls.sums - before - calls, 'wasm: false takes no SIMD kernel').toBe(0);
    // one moments call per iteration, and at least one gradient / Hessian call per gate M-step
    expect(calls).toBeGreaterThanOrEqual(2 * w.iterations);
    expect(w.iterations).toBe(j.iterations);
    expect(w.stopReason).toBe(j.stopReason);
    expect(Math.abs(w.logLik - j.logLik)).toBeLessThanOrEqual(1e-8 * Math.abs(j.logLik));
  });
});
