/**
 * The CPU backend's calls into its WebAssembly SIMD kernels (src/em/backend/simd/arena.ts,
 * src/em/backend/simd/gen/kernels.ts): d = 1, k = 2 and 3, taken when every array of the call lies in one
 * arena. Two rows per step; a pair that needs the JS kernel's guarded path (a log-density or logit
 * out of the fast range) runs through the JS kernel, and the kernel resumes after it. Per-row
 * values are the JS kernel's bits; sums over rows are added lane by lane (rows 0, 2, 4… and
 * 1, 3, 5…), then the lanes, then the JS rows — another order than the JS kernel's, so totals
 * differ from it in the last bits, deterministically.
 */
import { logCore } from '../../math/log.js';
import { LN2_HI, LN2_LO } from './constants.js';
import { arenaOf, type Arena } from './simd/arena.js';
import { wasmCalls } from './simd/calls.js';
import { runPairs } from './simd/pairs.js';

export { wasmCalls };


/** The arena that holds every one of these arrays, if any. */
export function commonArena(...arrays: Float64Array[]): Arena | undefined {
  const A = arenaOf(arrays[0]!);
  if (A === undefined) return undefined;
  for (let t = 1; t < arrays.length; t++) if (arrays[t]!.buffer !== A.memory.buffer) return undefined;
  return A;
}

/** The JS E-step kernel of cpu.ts (eStepRows1k2 / eStepRows1k3) for the pairs the SIMD kernel leaves. */
export type EStepRows = (a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array, X: Float64Array,
  y: Float64Array, n: number, logPi: Float64Array, resp: Float64Array, out: Float64Array) => number;

const jsOut = new Float64Array(1);

/**
 * E-step for d = 1, k = 2 or 3 through the SIMD kernel (see eStepRows1k3 in cpu.ts for the
 * method). Writes Q = Σ r log π to out[0]; returns Σ_i log p(y_i | x_i).
 */
export function eStepWasm(A: Arena, k: 2 | 3, a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array,
  X: Float64Array, y: Float64Array, n: number, logPi: Float64Array, resp: Float64Array, out: Float64Array, jsRows: EStepRows): number {
  wasmCalls.eStep++;
  const par = A.par;
  for (let j = 0; j < k; j++) { par[j] = a[j]!; par[k + j] = b[j]!; par[2 * k + j] = cst[j]!; par[3 * k + j] = hlf[j]!; }
  const acc = A.acc;
  acc.fill(0, 0, 8);
  acc[4] = 1; acc[5] = 1;
  const run = k === 3 ? A.kernels.estep3 : A.kernels.estep2;
  const xo = X.byteOffset, yo = y.byteOffset, lo = logPi.byteOffset, ro = resp.byteOffset;
  let qJs = 0;
  // (a collapsed, very narrow expert makes many refused pairs)
  const llJs = runPairs(n, (p, pairs) => run(xo, yo, lo, ro, p, pairs), (i0, len) => {
    const ll = jsRange(jsRows, i0, len, a, b, cst, hlf, X, y, logPi, resp, k);
    qJs += jsOut[0]!;
    return ll;
  });
  // Σ log s = (exponent sum)·ln 2 + log(product of the two mantissas ∈ [1, 4))
  const E = Number(A.accBits[6]! + A.accBits[7]!);
  const logs = (E * LN2_HI + E * LN2_LO) + logCore(acc[4]! * acc[5]!);
  out[0] = (acc[0]! + acc[1]!) + qJs;
  return ((acc[2]! + acc[3]!) + logs) + llJs;
}

function jsRange(jsRows: EStepRows, i0: number, len: number, a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array,
  X: Float64Array, y: Float64Array, logPi: Float64Array, resp: Float64Array, k: number): number {
  return jsRows(a, b, cst, hlf, X.subarray(i0, i0 + len), y.subarray(i0, i0 + len), len,
    logPi.subarray(i0 * k, (i0 + len) * k), resp.subarray(i0 * k, (i0 + len) * k), jsOut);
}

/** A JS log-likelihood kernel (d = 1) for the pairs the SIMD kernel leaves: returns the rows' total. */
export type LogLikRows = (a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array, X: Float64Array,
  y: Float64Array, n: number, logPi: Float64Array) => number;

/**
 * Observed log-likelihood Σ_i log p(y_i | x_i) for d = 1, k = 2 or 3 through the SIMD kernel (rows
 * summed as in {@link eStepWasm}); −Infinity or NaN when some row's is, as the JS kernels.
 */
export function logLikWasm(A: Arena, k: 2 | 3, a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array,
  X: Float64Array, y: Float64Array, n: number, logPi: Float64Array, jsRows: LogLikRows): number {
  wasmCalls.logLik++;
  const par = A.par;
  for (let j = 0; j < k; j++) { par[j] = a[j]!; par[k + j] = b[j]!; par[2 * k + j] = cst[j]!; par[3 * k + j] = hlf[j]!; }
  const acc = A.acc;
  acc.fill(0, 0, 8);
  acc[4] = 1; acc[5] = 1;
  const run = k === 3 ? A.kernels.loglik3 : A.kernels.loglik2;
  const xo = X.byteOffset, yo = y.byteOffset, lo = logPi.byteOffset;
  const llJs = runPairs(n, (p, pairs) => run(xo, yo, lo, p, pairs), (i0, len) => jsRows(a, b, cst, hlf,
    X.subarray(i0, i0 + len), y.subarray(i0, i0 + len), len, logPi.subarray(i0 * k, (i0 + len) * k)));
  const E = Number(A.accBits[6]! + A.accBits[7]!);
  const logs = (E * LN2_HI + E * LN2_LO) + logCore(acc[4]! * acc[5]!);
  return ((acc[2]! + acc[3]!) + logs) + llJs;
}
