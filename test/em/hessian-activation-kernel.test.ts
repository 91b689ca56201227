/**
 * The activation / temperature gates' exact Hessian as a WebAssembly SIMD kernel
 * (src/em/backend/cpu/activation-hessian.ts, kernels-acthess.ts: acthess_<grad>, and acthess21 / acthess31
 * with the sums unrolled): with the data in an arena, activationLogLikDerivatives takes the kernel and
 * equals the reference logLikDerivatives (src/em/inference/hessian.ts) to 1e-10 relative — value,
 * gradient, every Hessian entry — on seeded random models (identity / temperature, tanh, sigmoid; bias
 * outside and inside; k = 2..8, d = 1..4; n odd and even; τ free and fixed; small variances, steep gates);
 * the JS loop and the kernel agree; activations without SIMD emitters and data outside an arena keep the
 * JS loop's bits; the hybrid optimizer takes the kernel.
 */
import { describe, expect, it } from 'vitest';
import { activationHessianSimd, activationLogLikDerivatives } from '../../src/em/inference/hessian-activation.js';
import { logLikDerivatives } from '../../src/em/inference/hessian.js';
import { paramLayout } from '../../src/em/inference/params.js';
import { normalizeGate } from '../../src/em/gates/layout.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import type { Dataset, GateSpec, Model } from '../../src/models/types.js';
import {
  actHessExport,
  actHessLayout,
  actHessParams,
  actHessSums,
  type ActHessCall,
} from '../../src/em/backend/cpu/activation-hessian.js';
import { hybridLayout } from '../../src/em/hybrid.js';
import type { ParamLayout } from '../../src/em/inference/params.js';
import { getGate } from '../../src/models/gates/index.js';
import {
  CASES,
  expectDerivativesClose,
  fitsWithAndWithoutKernels,
  randomCase as baseCase,
  relDiff,
  type Case,
} from './hessian-cases.js';

/** a random case with X and y in an arena (the kernel runs on arena arrays only); `plain`: outside one */
function randomCase(gate: GateSpec, k: number, d: number, n: number, seed: number, c: Case) {
  const { m, data: plain } = baseCase(gate, k, d, n, seed, c);
  const A = createArena([n * d, n])!;
  expect(A, 'WebAssembly SIMD arena').not.toBeNull();
  const data: Dataset = { ...plain, X: A.copy(plain.X), y: A.copy(plain.y) };
  return { m, data, plain };
}

const act = (a: 'tanh' | 'sigmoid' | 'gelu' | 'relu' | 'softplus', bias: 'inside' | 'outside'): GateSpec => ({
  kind: 'activation',
  activation: a,
  bias,
});

const GATES: Array<[string, GateSpec]> = [
  ['temperature', { kind: 'temperature' }],
  ['tanh outside', act('tanh', 'outside')],
  ['tanh inside', act('tanh', 'inside')],
  ['sigmoid outside', act('sigmoid', 'outside')],
  ['sigmoid inside', act('sigmoid', 'inside')],
];
/** k, d, n (odd n: the last row through the JS loop) */
const SHAPES: Array<[number, number, number]> = [
  [2, 1, 257],
  [3, 1, 1001],
  [3, 1, 64],
  [4, 1, 129],
  [3, 2, 200],
  [5, 2, 301],
  [8, 4, 99],
];

describe('the activation Hessian kernel equals the reference', () => {
  let seed = 500;
  for (const [gname, gate] of GATES)
    for (const [k, d, n] of SHAPES)
      for (const [cname, c] of CASES) {
        const s = seed++;
        const tauMode = s % 2 === 0 ? 'free' : 'fixed';
        it(`${gname}, k = ${k}, d = ${d}, n = ${n}, ${cname}, τ ${tauMode}`, () => {
          const { m, data } = randomCase(gate, k, d, n, s, c);
          const scale = s % 3 === 0 ? 'natural' : 'log';
          const L = paramLayout(gate, k, d, { tauMode, tauScale: scale, nuScale: scale });
          normalizeGate(L.gate, m);
          expect(activationHessianSimd(m, data)).toBe(true);
          const ref = logLikDerivatives(L, m, data);
          const calls = wasmCalls.hessian;
          const fast = activationLogLikDerivatives(L, m, data)!;
          expect(wasmCalls.hessian).toBe(calls + 1);
          expect(relDiff(ref.gradient, fast.gradient)).toBeLessThan(1e-10);
          expect(relDiff(ref.hessian!, fast.hessian!)).toBeLessThan(1e-10);
          expectDerivativesClose(ref, fast, L.labels);
          // the JS loop on the same arena data (simd off) agrees with the kernel
          const js = activationLogLikDerivatives(L, m, data, false)!;
          expect(wasmCalls.hessian).toBe(calls + 1);
          expect(relDiff(js.hessian!, fast.hessian!)).toBeLessThan(1e-12);
          expect(relDiff(js.gradient, fast.gradient)).toBeLessThan(1e-12);
        });
      }
});

/** a seeded d = 1 case in an arena, and sums(export): that kernel's per-lane sums over row pairs [start, end) */
function direct(gate: GateSpec, k: number, n: number, seed: number, c: Case, start: number, end: number) {
  const { m, data } = baseCase(gate, k, 1, n, seed, c);
  const info = getGate(m.gate).activation!(m.gate)!;
  const grad = info.act.simd!.grad;
  const A = createArena([n, n])!;
  const X = A.copy(data.X),
    y = A.copy(data.y);
  const N = 2 * k + 1 + 3 * k;
  const len = 2 * ((N * (N + 1)) / 2 + N + 1);
  const sums = (name: string): Float64Array => {
    A.gpar.set(actHessParams(m, m.nu, m.tau, info.inside));
    A.gacc.fill(0, 0, len);
    (A.kernels as unknown as Record<string, (...a: number[]) => void>)[name]!(
      X.byteOffset,
      y.byteOffset,
      k,
      1,
      start,
      end,
    );
    return Float64Array.from(A.gacc.subarray(0, len));
  };
  return { m, info, grad, A, X, y, len, sums };
}

describe('the unrolled kernels acthess21 / acthess31 (loops unrolled, k and d constants)', () => {
  // row pairs [start, end): even and odd counts, a start past 0, a single pair
  const RANGES: Array<[number, number, number]> = [
    [1001, 0, 500],
    [66, 0, 33],
    [64, 1, 32],
    [9, 1, 2],
    [5, 0, 1],
  ];
  for (const [gname, gate] of GATES)
    for (const k of [2, 3])
      it(`acthess${k}1 gives the generic kernel's bits, ${gname}`, () => {
        for (const [n, start, end] of RANGES)
          for (const [, c] of CASES) {
            const { grad, len, sums } = direct(gate, k, n, 900 + 7 * k + n, c, start, end);
            const g = sums(`acthess_${grad}`),
              u = sums(`acthess${k}1_${grad}`);
            expect(g.some((v) => v !== 0)).toBe(true);
            for (let t = 0; t < len; t++)
              expect(Object.is(g[t], u[t]), `n = ${n}, sum ${t}: ${g[t]} vs ${u[t]}`).toBe(true);
          }
      });
});

describe("the unrolled kernels without the held coordinates' sums (acthess<k>1_<grad>_h…)", () => {
  // the consumer's holds (hybridLayout: τ held where σ is positively homogeneous), by its layout's indices
  const heldOf = (L: ParamLayout): number[] => {
    const { k, d, b0Index, b1Index, tauIndex } = L.gate;
    const u: number[] = [];
    for (let l = 0; l < k; l++) {
      if (b0Index[l]! < 0) u.push(l * (d + 1));
      if (b1Index[l]! < 0) for (let a = 1; a <= d; a++) u.push(l * (d + 1) + a);
    }
    return tauIndex < 0 ? [...u, k * (d + 1)] : u;
  };
  /** whether packed sum t (triangle of N, gradient, L) is read by the consumer (unpack, then assemble) */
  const readSums = (k: number, held: readonly number[]): boolean[] => {
    const G1 = 2 * k + 1;
    const N = G1 + 3 * k;
    const h = (u: number) => u < G1 && held.includes(u);
    const read: boolean[] = [];
    for (let u = 0; u < N; u++) for (let v = u; v < N; v++) read.push(!h(u) && !h(v));
    for (let u = 0; u < N; u++) read.push(!h(u));
    return [...read, true];
  };
  const RANGES: Array<[number, number, number]> = [
    [1001, 0, 500],
    [1001, 3, 499],
    [66, 1, 33],
    [9, 1, 2],
    [5, 0, 1],
  ];
  const HELD_GATES = GATES.filter(([g]) => g !== 'tanh inside' && g !== 'sigmoid inside');
  for (const [gname, gate] of HELD_GATES)
    for (const k of [2, 3])
      it(`acthess${k}1's bits in every sum the consumer reads, ${gname}`, () => {
        for (const [n, start, end] of RANGES)
          for (const [, c] of CASES) {
            const { m, info, grad, A, X, y, sums } = direct(gate, k, n, 950 + 5 * k + n + start, c, start, end);
            const held = heldOf(hybridLayout(m, 'free'));
            // the binding takes the variant for the consumer's holds
            const name = actHessExport(A.kernels, { k, d: 1, grad, held });
            expect(name).toBe(`acthess${k}1_${grad}_h${held.join('_')}`);
            expect(held.length).toBe(gname === 'temperature' ? 3 : 1);
            const read = readSums(k, held);
            const full = sums(`acthess${k}1_${grad}`),
              skip = sums(name);
            expect(full.some((v) => v !== 0)).toBe(true);
            for (let t = 0; t < read.length; t++)
              for (const lane of [0, 1]) {
                const [a, b] = [full[2 * t + lane], skip[2 * t + lane]];
                // a sum not read is left out (zero)
                if (!read[t]) expect(b, `sum ${t} (held)`).toBe(0);
                else expect(Object.is(a, b), `n = ${n}, [${start}, ${end}), sum ${t}: ${a} vs ${b}`).toBe(true);
              }
            // through the binding, an odd last row to the JS loop: every read entry of out and L the same
            const call = (held: readonly number[]) => {
              const out = new Float64Array(actHessLayout(k, 1).total);
              const ac: ActHessCall = {
                ...{ k, d: 1, n, X, y, grad, held, out },
                par: actHessParams(m, m.nu, m.tau, info.inside),
                rows: (i0, len) => ((out[0] = out[0]! + i0 + len), 0.5),
              };
              return { L: actHessSums(ac, true), out };
            };
            const [f, g] = [call([]), call(held)];
            expect(Object.is(f.L, g.L)).toBe(true);
            const Ls = actHessLayout(k, 1);
            const G1 = Ls.G1;
            const gateRead = (u: number) => !held.includes(u);
            for (let u = 0; u < G1; u++) {
              if (!gateRead(u)) continue;
              expect(Object.is(f.out[Ls.gradG + u], g.out[Ls.gradG + u])).toBe(true);
              for (let v = u; v < G1; v++)
                if (gateRead(v)) expect(Object.is(f.out[u * G1 + v], g.out[u * G1 + v]), `gg ${u} ${v}`).toBe(true);
              for (let q = 0; q < Ls.K; q++)
                expect(Object.is(f.out[Ls.ge + u * Ls.K + q], g.out[Ls.ge + u * Ls.K + q])).toBe(true);
            }
            for (let t = Ls.ee; t < Ls.total; t++)
              if (t < Ls.gradG || t >= Ls.gradE) expect(Object.is(f.out[t], g.out[t]), `ee/gradE ${t}`).toBe(true);
          }
      });

  it('a hold without its variant (τ free for the temperature gate, bias inside) takes the full kernel', () => {
    const A = createArena([2, 2])!;
    expect(actHessExport(A.kernels, { k: 3, d: 1, grad: 'id', held: [4, 5] })).toBe('acthess31_id');
    expect(actHessExport(A.kernels, { k: 3, d: 1, grad: 'tanh', held: [] })).toBe('acthess31_tanh');
    expect(actHessExport(A.kernels, { k: 3, d: 1, grad: 'tanh', held: [4, 6] })).toBe('acthess31_tanh');
    expect(actHessExport(A.kernels, { k: 4, d: 1, grad: 'tanh', held: [6] })).toBe('acthess_tanh');
  });
});

describe('where the kernel does not run', () => {
  it('activations without SIMD emitters, and data outside an arena: the JS loop, bit for bit', () => {
    for (const gate of [act('gelu', 'outside'), act('relu', 'inside'), act('softplus', 'outside')]) {
      const { m, data } = randomCase(gate, 3, 1, 101, 9, { nuMin: 0.05, slope: 2 });
      const L = paramLayout(gate, 3, 1);
      normalizeGate(L.gate, m);
      expect(activationHessianSimd(m, data)).toBe(false);
      const calls = wasmCalls.hessian;
      const a = activationLogLikDerivatives(L, m, data)!;
      const b = activationLogLikDerivatives(L, m, data, false)!;
      expect(wasmCalls.hessian).toBe(calls);
      expect(a.hessian).toEqual(b.hessian);
      const ref = logLikDerivatives(L, m, data);
      expect(relDiff(ref.hessian!, a.hessian!)).toBeLessThan(1e-10);
    }
    const gate = act('tanh', 'outside');
    const { m, data, plain } = randomCase(gate, 3, 1, 101, 10, { nuMin: 0.05, slope: 2 });
    const L = paramLayout(gate, 3, 1);
    normalizeGate(L.gate, m);
    expect(activationHessianSimd(m, plain)).toBe(false);
    const calls = wasmCalls.hessian;
    const a = activationLogLikDerivatives(L, m, plain)!;
    expect(wasmCalls.hessian).toBe(calls);
    expect(a.hessian).toEqual(activationLogLikDerivatives(L, m, data, false)!.hessian);
  });

  it('null (the reference decides) where a parameter is NaN or a logit overflows, kernel and JS alike', () => {
    const gate = act('tanh', 'outside');
    const { m, data } = randomCase(gate, 3, 1, 31, 3, { nuMin: 0.3, slope: 1 });
    const L = paramLayout(gate, 3, 1);
    const bad = { ...m, b: Float64Array.from(m.b) };
    bad.b[1] = NaN;
    expect(activationLogLikDerivatives(L, bad, data)).toBeNull();
    expect(activationLogLikDerivatives(L, bad, data, false)).toBeNull();
    const temp: Model = { ...m, gate: { kind: 'temperature' }, beta1: Float64Array.from(m.beta1, (v) => v * 1e308) };
    const Lt = paramLayout(temp.gate, 3, 1);
    expect(activationLogLikDerivatives(Lt, temp, data)).toBeNull();
  });

  it('the hybrid optimizer takes the kernel (SIMD fit) and ends where the JS loop takes it (JS fit)', () => {
    const truth = truthPreset('temp-tanh');
    const data = simulate(truth, { n: 3000, seed: 4 });
    const base = {
      gate: { kind: 'activation', activation: 'tanh', bias: 'outside' } as GateSpec,
      k: 3,
      init: { kind: 'near-truth' as const, truth, noise: 'fixed' as const, noiseScale: 10 },
      seed: 1,
      optimizer: 'hybrid' as const,
    };
    const { fast, slow, fastCalls, slowCalls } = fitsWithAndWithoutKernels(data, base);
    expect(slowCalls).toBe(0);
    expect(fast.hybrid!.hessians).toBeGreaterThan(0);
    expect(fastCalls).toBe(fast.hybrid!.hessians);
    expect(fast.stopReason).toBe(slow.stopReason);
    expect(Math.abs(fast.logLik - slow.logLik)).toBeLessThan(1e-6);
  });
});
