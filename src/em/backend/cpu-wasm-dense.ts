/**
 * The dense-to-sparse gates' probabilities (identity / tanh / sigmoid activation, bias outside σ;
 * d = 1, k = 2 and 3) through the WebAssembly SIMD kernels dense{act}{k}
 * (src/em/backend/simd/gen/kernels-dense.ts), taken by cpu-dense.ts denseGateProbs1 when every array of the
 * call lies in one arena. Rows run two at a time (two pairs per step) in the kernel (those with a
 * logit beyond ±350 shifted by their maximum, as in JS); a pair with a row whose maximum is ±∞ or
 * NaN runs through the JS kernel (with at most the pair before it, which the kernel's step handed
 * back too), and the kernel resumes after it. π and log π are the JS kernel's bits on every
 * row; Q is added lane by lane (rows 0, 2, 4… and 1, 3, 5…), then the lanes, then the JS rows, so
 * it differs from the JS kernel's Q in the last bits, deterministically.
 */
import type { Model } from '../../models/types.js';
import type { Arena, KernelExports } from './simd/arena.js';
import { wasmCalls } from './simd/calls.js';
import { runPairs } from './simd/pairs.js';

/** cpu-dense.ts activation codes (DENSE_IDENTITY, DENSE_TANH, DENSE_SIGMOID) */
const TANH = 1;
const SIGMOID = 2;

/**
 * The JS kernel of cpu-dense.ts for the rows the SIMD kernel leaves: gate probabilities of rows
 * X[0..n) into logPi, pi (n × k); returns Q = Σ r log π over resp when withQ (any value otherwise).
 */
export type DenseRows = (code: number, m: Model, X: Float64Array, n: number, logPi: Float64Array, pi: Float64Array,
  resp: Float64Array, withQ: boolean) => number;

type Kernel = KernelExports['densetanh3'];

function kernelOf(A: Arena, code: number, k: 2 | 3): Kernel {
  const K = A.kernels;
  if (code === TANH) return k === 3 ? K.densetanh3 : K.densetanh2;
  if (code === SIGMOID) return k === 3 ? K.densesigmoid3 : K.densesigmoid2;
  return k === 3 ? K.denseidentity3 : K.denseidentity2;
}

/**
 * Gate probabilities of a dense-to-sparse gate (cpu-dense.ts denseKernelCode(m) = code ≥ 0) for
 * d = 1, k = m.k ∈ {2, 3} through the SIMD kernel. X (n), logPi, pi and, when withQ, resp (each
 * n × k, row-major) must lie in arena A; resp is not read when withQ is false.
 * @returns Q = Σ r log π over resp when withQ, else NaN (as the JS path)
 */
export function denseWasm(A: Arena, code: number, m: Model, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean, jsRows: DenseRows): number {
  const k = m.k as 2 | 3;
  const it = 1 / m.tau;
  // coefficients that make every logit ±∞ or NaN (every pair refused): the JS kernel takes all rows
  // at once (tanh / sigmoid of ±∞·x is finite for x ≠ 0: those go through the kernel)
  let allRefused = !Number.isFinite(it);
  for (let j = 0; j < k; j++) {
    const b1 = m.beta1[j]!;
    if (!Number.isFinite(m.beta0[j]!) || b1 !== b1 || (code !== TANH && code !== SIGMOID && !Number.isFinite(b1))) allRefused = true;
  }
  if (allRefused) { const q = jsRows(code, m, X, n, logPi, pi, resp, withQ); return withQ ? q : NaN; }
  wasmCalls.gate++;
  const par = A.par;
  for (let j = 0; j < k; j++) { par[j] = m.beta0[j]!; par[k + j] = m.beta1[j]!; }
  par[2 * k] = it;
  const acc = A.acc;
  acc[0] = 0; acc[1] = 0;
  const run = kernelOf(A, code, k);
  const xo = X.byteOffset, lo = logPi.byteOffset, po = pi.byteOffset, ro = withQ ? resp.byteOffset : 0;
  const wq = withQ ? 1 : 0;
  const qJs = runPairs(n, (p, pairs) => run(xo, lo, po, ro, wq, p, pairs),
    (i0, len) => jsRange(jsRows, code, m, i0, len, X, logPi, pi, resp, withQ, k));
  return withQ ? (acc[0]! + acc[1]!) + qJs : NaN;
}

function jsRange(jsRows: DenseRows, code: number, m: Model, i0: number, len: number, X: Float64Array,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean, k: number): number {
  const r = withQ ? resp.subarray(i0 * k, (i0 + len) * k) : resp;
  const q = jsRows(code, m, X.subarray(i0, i0 + len), len, logPi.subarray(i0 * k, (i0 + len) * k),
    pi.subarray(i0 * k, (i0 + len) * k), r, withQ);
  return withQ ? q : 0;
}
