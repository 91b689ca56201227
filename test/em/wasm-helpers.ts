/**
 * Shared pieces of the WebAssembly kernel tests (test/em/wasm-*.test.ts): random responsibilities,
 * bit-for-bit comparison, the m sums of per-row terms in the JS order and in the kernels' order, and the
 * gate pass run on plain arrays (JS kernel) against arena copies (SIMD kernel).
 */
import { expect } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import type { Model } from '../../src/models/types.js';
import type { Rng } from '../../src/random/rng.js';

/** the unit roundoff of a double */
export const U = 2 ** -53;

/** n rows of k responsibilities on the simplex, about a fifth of the entries exactly 0. */
export function simplexRows(rng: Rng, n: number, k: number): Float64Array {
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const u = rng.uniform();
      resp[i * k + j] = u < 0.2 ? 0 : u;
      s += resp[i * k + j]!;
    }
    for (let j = 0; j < k; j++) resp[i * k + j] = s > 0 ? resp[i * k + j]! / s : 1 / k;
  }
  return resp;
}

/** a and b hold the same doubles, bit for bit (Object.is: −0 ≠ 0, NaN = NaN); names the first that differs. */
export function expectSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what = 'entry'): void {
  let bad = -1;
  for (let t = 0; t < a.length && bad < 0; t++) if (!Object.is(a[t], b[t])) bad = t;
  expect(bad, bad >= 0 ? `${what}[${bad}]: ${a[bad]} vs ${b[bad]}` : '').toBe(-1);
}

/**
 * The m sums of per-row terms in the JS kernels' order (seq: row by row), in the SIMD kernels' order
 * (simd: even rows, odd rows, lane 0 + lane 1, then the JS kernel's 0 + term of an odd last row), and
 * Σ|terms| (which bounds the rounding of either order).
 */
export function pairSums(n: number, m: number, terms: (i: number, out: Float64Array) => void) {
  const t = new Float64Array(m);
  const seq = new Float64Array(m),
    even = new Float64Array(m),
    odd = new Float64Array(m),
    abs = new Float64Array(m);
  const paired = n - (n & 1);
  for (let i = 0; i < n; i++) {
    terms(i, t);
    for (let s = 0; s < m; s++) {
      seq[s] = seq[s]! + t[s]!;
      abs[s] = abs[s]! + Math.abs(t[s]!);
      if (i < paired) {
        if (i & 1) odd[s] = odd[s]! + t[s]!;
        else even[s] = even[s]! + t[s]!;
      }
    }
  }
  const simd = new Float64Array(m);
  for (let s = 0; s < m; s++) simd[s] = n & 1 ? even[s]! + odd[s]! + (0 + t[s]!) : even[s]! + odd[s]!;
  return { seq, simd, abs };
}

/**
 * The CPU backend's gateProbs on plain arrays (JS kernel) and on arena copies (SIMD kernel), outputs
 * pre-filled with 7 so that stale values cannot leak through; checks that the SIMD kernel ran (or not).
 */
export function gateBoth(m: Model, X: Float64Array, resp: Float64Array, withQ: boolean, expectWasm = true) {
  const n = X.length,
    k = m.k;
  const be = createCpuBackend();
  const lpJ = new Float64Array(n * k),
    piJ = new Float64Array(n * k);
  const qJ = be.gateProbs(m, X, n, lpJ, piJ, null, 'none', withQ ? resp : undefined);
  const A = createArena([n, n * k, n * k, n * k])!;
  expect(A).not.toBeNull();
  const Xa = A.copy(X),
    ra = A.copy(resp);
  const lpW = A.alloc(n * k).fill(7),
    piW = A.alloc(n * k).fill(7);
  const calls = wasmCalls.gate,
    refused0 = wasmCalls.refusedPairs;
  const qW = be.gateProbs(m, Xa, n, lpW, piW, null, 'none', withQ ? ra : undefined);
  expect(wasmCalls.gate - calls, 'the SIMD kernel ran').toBe(expectWasm ? 1 : 0);
  const refused = wasmCalls.refusedPairs - refused0;
  // Σ|r log π| bounds the rounding of Q in any order
  let absQ = 0;
  for (let t = 0; t < n * k; t++) if (resp[t] !== 0) absQ += Math.abs(resp[t]! * lpJ[t]!);
  return { lpJ, piJ, lpW, piW, qJ, qW, absQ, refused };
}

/** π and log π bit for bit; Q's two orders within 2·n·k·u·Σ|r log π| of each other. */
export function expectGateAgree(r: ReturnType<typeof gateBoth>, n: number, k: number): void {
  expectSameBits(r.lpJ, r.lpW, 'logPi');
  expectSameBits(r.piJ, r.piW, 'pi');
  expect(Math.abs(r.qW - r.qJ)).toBeLessThanOrEqual(2 * n * k * U * r.absQ);
}
